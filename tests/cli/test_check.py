"""`labelspec check` on real workspaces: every problem, with its line; warnings; JSON."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.helpers import edit

SPEC = "guidelines/digits/spec.yaml"


def line_of(root: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate((root / SPEC).read_text().splitlines(), 1) if needle in line
    )


def test_several_mistakes_are_all_listed_with_lines(workspace: Path, run):
    edit(
        workspace,
        ("confusable_with: [seven]", "confusable_with: [seven, siete]"),
        ("- {image: examples/one_typical_2.png,", "- {image: examples/one_typical_9.png,"),
        ("definition: Two closed loops stacked, touching in the middle.", "defintion: Two loops."),
        ('rule: R3, why: "The loop', 'rule: R7, why: "The loop'),
    )
    result = run("check", cwd=workspace, expect=1)
    lines = result.stdout.splitlines()
    expected = [
        f"{SPEC}:{line_of(workspace, 'siete')}:30: classes[1].confusable_with[1]: confusable_with 'siete' is not a class id",
        f"{SPEC}:{line_of(workspace, 'one_typical_9')}:19: classes[1].examples.positive[1].image: file not found: "
        "examples/one_typical_9.png (add it or remove the entry)",
        f"{SPEC}:{line_of(workspace, 'defintion')}:16: classes[8].defintion: unknown key 'defintion' (did you mean 'definition'?)",
        f"{SPEC}:{line_of(workspace, 'rule: R7')}:",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert any("classes[8].definition: required key is missing" in line for line in lines)
    assert "Error: check failed: 5 error(s)" in result.stderr


def test_json_output_lists_errors_and_warnings(workspace: Path, run):
    edit(workspace, ("confusable_with: [one, two]", "confusable_with: [one, eleven]"))
    result = run("check", "--json", cwd=workspace, expect=1)
    report = json.loads(result.stdout)
    assert report["guidelines"] == ["digits"]
    [error] = report["errors"]
    assert error == {
        "file": SPEC,
        "line": line_of(workspace, "eleven"),
        "col": 28,
        "path": "classes[7].confusable_with[1]",
        "message": "confusable_with 'eleven' is not a class id (known: eight, five, four, nine, one, seven, six, three, two, zero)",
    }
    assert report["warnings"] == []


def test_warnings_alone_exit_zero(workspace: Path, run):
    examples = workspace / "guidelines/digits/examples"
    Image.new("L", (16, 16), 255).save(examples / "tiny.png")
    # noise does not compress, so this PNG is over 1 MiB
    Image.effect_noise((700, 700), 80).convert("RGB").save(examples / "huge.png")
    edit(
        workspace,
        (
            "      counter:\n        - {image: examples/nine_like_four.png",
            "      counter:\n        - {image: examples/tiny.png, label: nine, why: tiny}\n        - {image: examples/huge.png, label: nine, why: huge}\n        - {image: examples/nine_like_four.png",
        ),
    )
    text = (workspace / SPEC).read_text()
    start = text.index("  - id: two")
    end = text.index("  - id: three")
    block = text[start:end]
    cut = block[: block.index("      borderline:")]
    (workspace / SPEC).write_text(text[:start] + cut + text[end:])
    result = run("check", cwd=workspace)
    out = result.stdout
    assert "warning: " in out and "class 'two' has no counter or borderline example" in out
    assert "examples/tiny.png is 16x16 px, smaller than 32 px" in out
    assert "examples/huge.png is over 1 MiB and not tracked by DVC" in out
    assert out.strip().endswith("ok: 0 error(s), 3 warning(s) in 1 guideline(s)")


def test_a_large_image_tracked_by_dvc_is_fine(workspace: Path, run):
    from labelspec.guideline.check import tracked_by_dvc

    examples = workspace / "guidelines/digits/examples"
    assert not tracked_by_dvc(examples / "one_typical_1.png", workspace)
    (workspace / "guidelines/digits/examples.dvc").write_text("outs:\n- path: examples\n")
    assert tracked_by_dvc(examples / "one_typical_1.png", workspace)


def test_broken_yaml_is_reported_with_its_line(workspace: Path, run):
    edit(workspace, ("owners: [ml-team]", "owners: [ml-team"))
    result = run("check", cwd=workspace, expect=1)
    assert result.stdout.startswith(f"{SPEC}:")
    assert "invalid YAML" in result.stdout


def test_check_a_single_guideline_path(workspace: Path, run):
    result = run("check", "guidelines/digits", cwd=workspace)
    assert "in 1 guideline(s)" in result.stdout


def test_outside_a_workspace_says_how_to_start(tmp_path: Path, run):
    result = run("check", cwd=tmp_path, expect=1)
    assert (
        "is not inside a labelspec workspace (run `labelspec init` to create one)" in result.stderr
    )


def test_the_repository_itself_is_a_clean_workspace(run):
    from tests.conftest import REPO_ROOT

    result = run("check", "--json", cwd=REPO_ROOT)
    assert json.loads(result.stdout)["errors"] == []


UTF16 = (
    f"{SPEC}:1: not UTF-8: it is UTF-16 text (Windows Notepad's 'Unicode'), by the byte order "
    "mark it starts with; save it as UTF-8"
)


def test_a_spec_saved_as_utf16_is_one_error_in_check_review_and_site_build(
    workspace: Path, run, tmp_path: Path
):
    spec = workspace / SPEC
    spec.write_text(spec.read_text(encoding="utf-8"), encoding="utf-16")
    for args in (["check"], ["guideline", "review", "digits"], ["site", "build", "--out", str(tmp_path / "s")]):  # fmt: skip
        result = run(*args, cwd=workspace, expect=1)
        assert UTF16 in result.stdout + result.stderr, args
        assert "Traceback" not in result.stderr, args
    assert not (tmp_path / "s").exists()


def test_a_latin1_byte_in_the_spec_is_named_by_offset_and_line(workspace: Path, run):
    spec = workspace / SPEC
    spec.write_bytes(b"# caf\xe9\n" + spec.read_bytes())  # "# caf" is 5 bytes: the 0xE9 is byte 5
    said = (
        f"{SPEC}:1: not UTF-8: byte 5 (0xE9) is not UTF-8 (a Latin-1 or Windows-1252 "
        "character?); save it as UTF-8"
    )
    assert said in run("check", cwd=workspace, expect=1).stdout
    assert said in run("guideline", "review", "digits", cwd=workspace, expect=1).stderr


def test_guide_pages_that_are_not_utf8_are_listed_by_check_and_stop_the_site(
    workspace: Path, run, tmp_path: Path
):
    docs = workspace / "guidelines/digits/docs"
    index = docs / "index.md"
    index.write_text(index.read_text(encoding="utf-8"), encoding="utf-16")
    (docs / "extra.md").write_bytes(b"# Extra\ncaf\xe9\n")  # 8 bytes, "caf": byte 11, line 2
    expected = [  # by line
        "guidelines/digits/docs/index.md:1: not UTF-8: it is UTF-16 text (Windows Notepad's "
        "'Unicode'), by the byte order mark it starts with; save it as UTF-8",
        "guidelines/digits/docs/extra.md:2: not UTF-8: byte 11 (0xE9) is not UTF-8 (a Latin-1 or "
        "Windows-1252 character?); save it as UTF-8",
    ]
    assert run("check", cwd=workspace, expect=1).stdout.splitlines()[:2] == expected
    built = run("site", "build", "--out", str(tmp_path / "s"), cwd=workspace, expect=1)
    assert [line.strip() for line in built.stderr.splitlines()[-2:]] == expected
    assert "Traceback" not in built.stderr


def test_a_remote_picture_in_a_guide_page_fails_check_as_it_fails_the_site(
    workspace: Path, run, tmp_path: Path
):
    index = workspace / "guidelines/digits/docs/index.md"
    lines = index.read_text().count("\n")
    with index.open("a") as handle:  # a blank line, then the picture: line lines + 2
        handle.write("\n![r](https://cdn.evil.example/x.png)\n")
    expected = (
        f"guidelines/digits/docs/index.md:{lines + 2}: picture https://cdn.evil.example/x.png is "
        "not a file of the guideline: the site works offline and shows no picture from another "
        "host; save it under docs/ and link it by a relative path"
    )
    checked = run("check", cwd=workspace, expect=1)
    assert expected in checked.stdout.splitlines()
    built = run("site", "build", "--out", str(tmp_path / "s"), cwd=workspace, expect=1)
    assert expected in [line.strip() for line in built.stderr.splitlines()]


def test_a_spec_with_a_utf8_byte_order_mark_passes(workspace: Path, run):
    spec = workspace / SPEC
    spec.write_bytes(b"\xef\xbb\xbf" + spec.read_bytes())
    assert run("check", cwd=workspace).stdout.startswith("ok: 0 error(s)")
