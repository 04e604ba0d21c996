"""Round-trip YAML: unmodified files come back byte-identical; edits keep the author's comments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec import yamlio
from labelspec.errors import SpecError
from labelspec.formats.text import decode_utf8, first_non_utf8
from labelspec.yamlio import Document, Indent, guess_indent

TEMPLATES = sorted(
    (Path(__file__).resolve().parents[2] / "labelspec" / "templates").rglob("*.yaml")
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(p.parents[3]).as_posix())
def test_shipped_yaml_files_round_trip_byte_identical(path: Path):
    text = path.read_text()
    assert Document.from_text(text, path).dumps() == text


@pytest.mark.parametrize(
    ("text", "indent"),
    [
        ("a:\n  b: 1\nl:\n  - x: 1\n    y: 2\n", Indent(2, 4, 2)),
        ("a:\n    b: 1\nl:\n- x: 1\n  y: 2\n", Indent(4, 2, 0)),
        ("a:\n    b: 1\nl:\n    - x\n", Indent(4, 6, 4)),
    ],
)
def test_indentation_is_measured(text, indent):
    assert guess_indent(text) == indent
    assert Document.from_text(text, Path("x.yaml")).dumps() == text


def test_an_edit_keeps_every_comment(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "# header comment\n"
        "version: 1.0.0   # bumped by release\n"
        "classes:\n"
        "  - id: one  # the digit one\n"
        "    name: 'One'\n"
        "changelog:\n"
        "  # oldest first\n"
        "  - version: 1.0.0\n"
        '    summary: "First"\n'
    )
    doc = Document.load(path)
    doc.data["version"] = "1.1.0"
    doc.data["changelog"].append({"version": "1.1.0", "summary": "Second", "affects": ["one"]})
    doc.save()
    text = path.read_text()
    for comment in ("# header comment", "# bumped by release", "# the digit one", "# oldest first"):
        assert comment in text
    assert "version: 1.1.0   # bumped by release" in text
    assert "name: 'One'" in text and 'summary: "First"' in text
    assert text.endswith("  - version: 1.1.0\n    summary: Second\n    affects:\n      - one\n")


def test_bad_yaml_is_a_spec_error_with_its_line():
    from labelspec.errors import SpecError

    with pytest.raises(SpecError, match=r"^x.yaml:3:\d+: invalid YAML"):
        yamlio.parse("a: 1\nb: [1, 2\nc: 3\n", "x.yaml")


def test_locate_finds_lines_of_nested_keys():
    data = yamlio.parse("a: 1\nlist:\n  - id: x\n    deep:\n      key: v\n")
    assert yamlio.locate(data, ("list", 0, "deep", "key")) == (5, 12)
    assert yamlio.locate(data, ("list", 0, "missing")) == (3, 5)


# -- property: any document in one consistent style survives load + dump unchanged -------------
keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)
plain_text = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.()-]{0,20}[A-Za-z0-9.)]", fullmatch=True)
quoted = plain_text.map(lambda s: f"'{s}'") | plain_text.map(lambda s: f'"{s}"')
scalars = st.one_of(
    plain_text,
    quoted,
    st.integers(-1000, 1000).map(str),
    st.sampled_from(["true", "false", "null", "1.0.0"]),
)
flow_lists = st.lists(st.sampled_from(["a", "b", "one", "seven"]), max_size=3).map(
    lambda xs: f"[{', '.join(xs)}]"
)
comments = st.one_of(st.just(""), plain_text.map(lambda c: f"  # {c}"))


@st.composite
def documents(draw, indent: Indent, depth: int = 0, prefix: str = "") -> str:
    lines: list[str] = []
    for key in draw(st.lists(keys, min_size=1, max_size=4, unique=True)):
        kind = draw(
            st.sampled_from(["scalar", "flow", "map", "list"] if depth < 2 else ["scalar", "flow"])
        )
        if kind in ("scalar", "flow"):
            value = draw(scalars if kind == "scalar" else flow_lists)
            lines.append(f"{prefix}{key}: {value}{draw(comments)}")
        elif kind == "map":
            lines.append(f"{prefix}{key}:{draw(comments)}")
            lines.append(draw(documents(indent, depth + 1, prefix + " " * indent.mapping)))
        else:
            lines.append(f"{prefix}{key}:")
            dash = prefix + " " * indent.offset + "- "
            for _ in range(draw(st.integers(1, 3))):
                body = draw(documents(indent, depth + 1, " " * len(dash)))
                lines.append(dash + body.lstrip(" "))
    return "\n".join(lines)


styles = st.sampled_from([Indent(2, 4, 2), Indent(2, 2, 0), Indent(4, 6, 4), Indent(4, 4, 2)])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_round_trip_is_byte_identical(data):
    indent = data.draw(styles)
    text = "# a header\n" + data.draw(documents(indent)) + "\n"
    assert Document.from_text(text, Path("x.yaml")).dumps() == text


def test_text_ending_inside_a_character_is_not_utf8():
    # "é" is C3 A9: a text cut after C3 ends inside it: "ab\n" (3 bytes) + "c", so byte 4, line 2
    assert first_non_utf8([b"ab\n", b"c\xc3"]) == (4, 2, 0xC3)
    assert first_non_utf8([b"ab\n", b"c\xc3\xa9"]) is None
    with pytest.raises(SpecError, match=r"^x\.md:2: not UTF-8: byte 4 \(0xC3\)"):
        decode_utf8(b"ab\nc\xc3", "x.md")
    assert decode_utf8(b"\xef\xbb\xbfcaf\xc3\xa9", "x.md") == "café"
