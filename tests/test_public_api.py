import labelspec

EXPORTED = [
    "LabelspecError",
    "LockError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "ReleaseError",
    "SpecError",
    "VcsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "open_workspace",
]


def test_exported_names_are_pinned():
    assert labelspec.__all__ == EXPORTED
    for name in EXPORTED:
        assert getattr(labelspec, name) is not None


def test_all_is_sorted():
    assert labelspec.__all__ == sorted(labelspec.__all__)
