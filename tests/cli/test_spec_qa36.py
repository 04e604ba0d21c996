"""QA 36 findings on spec reading: duplicate keys, control characters, all problems at once,
"did you mean" from the right model, unknown guideline names."""

from __future__ import annotations

import json
from pathlib import Path

from labelspec.guideline.releases import digest_at
from labelspec.workspace import Workspace
from tests.helpers import edit, git

SPEC = "guidelines/digits/spec.yaml"


def line_of(root: Path, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate((root / SPEC).read_text().splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_a_duplicate_key_is_refused_by_check_with_its_line(workspace: Path, run):
    # the second title is line 5 (line 4 is the first); libyaml alone would keep "Dup title"
    edit(
        workspace, ("title: Handwritten digits\n", "title: Handwritten digits\ntitle: Dup title\n")
    )
    assert line_of(workspace, "title: Dup title") == 5
    result = run("check", cwd=workspace, expect=1)
    assert result.stdout.startswith(f'{SPEC}:5:1: invalid YAML: found duplicate key "title"')


def test_a_duplicate_key_deep_in_a_class_is_refused_by_diff_too(workspace: Path, run):
    edit(
        workspace,
        (
            '    synonyms: [nought, "0"]\n',
            '    synonyms: [nought, "0"]\n    synonyms: [oh]\n',
        ),
    )
    line = line_of(workspace, "synonyms: [oh]")
    result = run("check", cwd=workspace, expect=1)
    assert f'{SPEC}:{line}:5: invalid YAML: found duplicate key "synonyms"' in result.stdout
    # the diff must not act on the hidden second value either
    result = run("guideline", "diff", "digits", "1.0.0", cwd=workspace, expect=None)
    assert result.exit_code != 0
    assert f':{line}:5: invalid YAML: found duplicate key "synonyms"' in result.stderr


def test_did_you_mean_for_an_unknown_key_suggests_only_keys_valid_there(workspace: Path, run):
    # QA 36 L4: top-level `h` was "did you mean 'h'?" (a box key), `d` "did you mean 'id'?"
    edit(workspace, ("owners: [ml-team]\n", "owners: [ml-team]\nh: 1\nd: 2\ntitel: x\n"))
    result = run("check", cwd=workspace, expect=1)
    out = result.stdout
    assert f"{SPEC}:7:4: h: unknown key 'h' (remove it)" in out
    assert f"{SPEC}:8:4: d: unknown key 'd' (remove it)" in out
    assert f"{SPEC}:9:8: titel: unknown key 'titel' (did you mean 'title'?)" in out


SHAPES = "guidelines/shapes/spec.yaml"


def problems(result) -> list[str]:
    """``path: message`` of each error line."""
    return [
        line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith(SHAPES)
    ]


def test_a_class_with_a_wrong_key_still_has_its_examples_checked(make_workspace, run):
    # QA 36 L5: the file error of triangle's example used to show only once the key was fixed
    root = make_workspace("detection")
    edit(
        root,
        ("definition: Three straight sides", "defintion: Three straight sides"),
        ("examples/triangle_up.png", "../../../../etc/passwd"),
        spec=SHAPES,
    )
    result = run("check", cwd=root, expect=1)
    assert sorted(problems(result)) == [
        "classes[2].definition: required key is missing",
        "classes[2].defintion: unknown key 'defintion' (did you mean 'definition'?)",
        "classes[2].examples.positive[0].image: ../../../../etc/passwd points outside the "
        "workspace (keep examples inside it)",
    ]


def test_every_mistake_of_one_rule_is_listed_in_one_run(make_workspace, run):
    # QA 36 L5: these six took five runs to see (each once: six lines)
    root = make_workspace("detection")
    edit(
        root,
        (
            "    min_box_px: 8\n",
            "    min_box_px: 8\n    applies_to: [circle]\n    where: {area_px: {min: 10, max: 5}, "
            "span_chars: {min: 1}, attributes: {rotation: diagonal, occluded: maybe}, "
            "relative_area: {max: 2}}\n",
        ),
        spec=SHAPES,
    )
    result = run("check", cwd=root, expect=1)
    assert len(problems(result)) == 6
    assert set(problems(result)) == {
        "rules[0].where.area_px: `min` 10 is above `max` 5",
        "rules[0].where.attributes.occluded: attribute 'occluded' is true or false, not 'maybe'",
        "rules[0].where.attributes.rotation: no class the rule applies to (circle) has an "
        "attribute 'rotation'",
        "rules[0].where: relative_area (box area over image area) must be between 0 and 1, got 2",
        "rules[0].where.span_chars: span_chars selects spans; this is a detection guideline",
        "rules[0]: a rule with `where` cannot set min_box_px or min_span_chars (thresholds hold "
        "for whole classes): put the threshold in a rule without `where`",
    }


UNKNOWN = "no guideline 'shapx' in"
HINT = "(did you mean 'shapes'? known: shapes)"


def test_an_unknown_guideline_name_is_not_called_unreleased(make_workspace, run, tmp_path):
    # QA 36 L1: each of these said "guideline 'shapx' has no release ..." (exit 3)
    root = make_workspace("detection")
    run("labeler", "add", "nA-01", "--vendor", "v", cwd=root)
    commands = [
        ("guideline", "diff", "shapx", "1.0.0", "1.1.0"),
        ("guideline", "show", "shapx@1.0.0"),
        ("guideline", "show", "shapx"),
        ("site", "publish", "shapx", "--version", "1.0.0", "--folder", str(tmp_path / "sv"),
         "--no-branch"),
        ("labeler", "train", "nA-01", "--guideline", "shapx", "--version", "1.0.0", "--method",
         "session", "--score", "1", "--passed"),
        ("labeler", "quiz", "shapx", "--out", str(tmp_path / "q")),
    ]  # fmt: skip
    for command in commands:
        result = run(*command, cwd=root, expect=3)
        assert UNKNOWN in result.stderr and HINT in result.stderr, (command, result.stderr)
        assert "has no release" not in result.stderr
    # a known guideline with a version that is not one: said so (exit 1), not "no release 1.0"
    result = run("guideline", "diff", "shapes", "1.0", "1.0.0", cwd=root, expect=1)
    assert "'1.0' is not a version: write MAJOR.MINOR.PATCH" in result.stderr
    # a well-formed version that is not released still lists the released ones
    result = run("guideline", "diff", "shapes", "1.2.0", "1.0.0", cwd=root, expect=3)
    assert "guideline 'shapes' has no release 1.2.0 (released: 1.0.0)" in result.stderr


def test_a_control_character_in_spec_text_is_refused_by_check(workspace: Path, run):
    # QA 36 L9: check said ok, then release refused the summary in its commit message
    edit(
        workspace,
        ("title: Handwritten digits", 'title: "Hand\\u001b[31mwritten"'),
        (
            "    relabel: none\n",
            '    relabel: none\n  - version: unreleased\n    summary: "x\\u0007y\\nsecond line"\n',
        ),
    )
    result = run("check", cwd=workspace, expect=1)
    summary = line_of(workspace, 'summary: "x')
    assert (
        f"{SPEC}:4:8: title: holds a control character (U+001B): only line breaks and tabs may "
        "shape a text"
    ) in result.stdout
    # the line break of the summary is allowed (a note may span lines), the bell is not
    assert (
        f"{SPEC}:{summary}:14: changelog[1].summary: holds a control character (U+0007)"
        in result.stdout
    )
    assert "Error: check failed: 2 error(s)" in result.stderr


def test_every_duplicate_key_is_listed_at_once(workspace: Path, run):
    edit(
        workspace,
        ("title: Handwritten digits\n", "title: Handwritten digits\ntitle: Dup title\n"),
        ('    synonyms: [nought, "0"]\n', '    synonyms: [nought, "0"]\n    synonyms: [oh]\n'),
    )
    result = run("check", cwd=workspace, expect=1)
    oh = line_of(workspace, "synonyms: [oh]")
    assert result.stdout.splitlines() == [
        f'{SPEC}:5:1: invalid YAML: found duplicate key "title" (keep one of the two: readers '
        "would use only one value)",
        f'{SPEC}:{oh}:5: invalid YAML: found duplicate key "synonyms" (keep one of the two: '
        "readers would use only one value)",
    ]


def test_a_release_tagged_with_a_duplicate_key_stays_readable(workspace: Path, run):
    """Before duplicate keys were refused, `check` passed them (libyaml kept the last value) and
    `--tag-current` tagged such a spec. Tags are immutable: their content is read as it was
    accepted and digested then (the last value counts), never refused; the working tree is."""
    edit(
        workspace,
        ("title: Handwritten digits\n", "title: Handwritten digits\ntitle: Digits\n"),
        ("\nversion: 1.0.0\n", "\nversion: 1.1.0\n"),
        (
            "\n\nquality:",
            "\n  - version: 1.1.0\n    date: 2026-02-01\n    summary: Titles\n"
            "    affects: []\n    relabel: none\n\nquality:",
        ),
    )
    git(workspace, "commit", "-q", "-am", "digits 1.1.0, tagged by an older labelspec")
    record = {"guideline": "digits", "version": "1.1.0", "date": "2026-02-01",
              "digest": digest_at(Workspace(workspace), "digits", "HEAD"), "summary": "Titles",
              "affects": [], "relabel": "none"}  # fmt: skip
    message = f"guideline digits v1.1.0: Titles\n\n{json.dumps(record, sort_keys=True)}\n"
    git(workspace, "tag", "-a", "guideline/digits/v1.1.0", "-m", message)
    edit(workspace, ("title: Handwritten digits\ntitle: Digits\n", "title: Digits\n"))
    git(workspace, "commit", "-q", "-am", "one title")

    assert run("check", cwd=workspace).exit_code == 0
    shown = json.loads(run("guideline", "diff", "digits", "1.0.0", "1.1.0", "--json",
                           cwd=workspace).stdout)  # fmt: skip
    assert shown["to"] == "1.1.0"
    assert run("verify", cwd=workspace).exit_code == 0
    # the working tree is still held to the rule
    edit(workspace, ("title: Digits\n", "title: Digits\ntitle: Again\n"))
    run("check", cwd=workspace, expect=1)
