import labelspec

EXPORTED = [
    "LabelspecError",
    "LockError",
    "NotFoundError",
    "Problem",
    "ProblemsError",
    "ReleaseError",
    "Repo",
    "SpecError",
    "TrainingSet",
    "VcsError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "open_repo",
    "open_trainset",
    "open_workspace",
]


def test_exported_names_are_pinned():
    assert labelspec.__all__ == EXPORTED
    for name in EXPORTED:
        assert getattr(labelspec, name) is not None


def test_all_is_sorted():
    assert labelspec.__all__ == sorted(labelspec.__all__)


def test_workspace_labels_and_query(tmp_path, run):
    """The Python API over a real workspace: current labels as Arrow, a DuckDB connection."""
    from labelspec.demo import digits

    run("init", str(tmp_path / "ws"))
    root = tmp_path / "ws"
    for i in range(3):
        digits.save_png(i, root / "datasets/digits/items" / f"d{i}.png")
    run("items", "add", "digits", "datasets/digits/items", cwd=root)
    run("labeler", "add", "vA-01", "--vendor", "vendor-a", cwd=root)
    run(
        "labeler",
        "train",
        "vA-01",
        "--guideline",
        "digits",
        "--version",
        "1.0.0",
        "--method",
        "session",
        "--score",
        "1",
        "--passed",
        cwd=root,
    )
    (tmp_path / "l.jsonl").write_text(
        "".join(
            f'{{"item_id": "d{i}.png", "labeler": "vA-01", "class": "{c}"}}\n'
            for i, c in enumerate(["zero", "one", "two"])
        )
    )
    run(
        "labels",
        "import",
        "digits",
        str(tmp_path / "l.jsonl"),
        "--format",
        "jsonl",
        "--guideline",
        "digits@1.0.0",
        "--source",
        "vendor-a",
        cwd=root,
    )
    ws = labelspec.open_workspace(root / "datasets")
    table = ws.labels("digits")
    assert sorted(table.column("class").to_pylist()) == ["one", "two", "zero"]
    assert table.column("training_id").null_count == 0
    con = ws.query("digits", snapshot="HEAD")
    assert con.sql("select count(*) from labels join items using (item_id)").fetchall() == [(3,)]
    assert ws.labels("digits", snapshot="HEAD~1").num_rows == 0  # before the import
