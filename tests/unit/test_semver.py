import pytest

from labelspec.semver import Version


def test_ordering_follows_semver():
    ordered = [
        "0.9.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    assert sorted(ordered, key=Version.parse) == ordered
    assert [str(Version.parse(v)) for v in ordered] == ordered


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "v1.0.0", "1.0.0.0", "", "unreleased"])
def test_invalid_versions_are_refused(text):
    assert not Version.is_valid(text)
    with pytest.raises(ValueError, match=r"is not a version: write MAJOR\.MINOR\.PATCH"):
        Version.parse(text)


def test_bump():
    v = Version.parse("1.4.2")
    assert (str(v.bump("major")), str(v.bump("minor")), str(v.bump("patch"))) == (
        "2.0.0",
        "1.5.0",
        "1.4.3",
    )
