"""Random histories against a small, obviously-correct model of the lineage rules.

Hypothesis draws guideline releases (definitions changed and reverted, scoped rules added and
removed, global rules, confusable lists cut on one side), training records with dates, and
imports under any released version on any date. The model below implements the README's rules
in plain Python; `trace impact`, `labeler status` and the current labels must agree with it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import copy_workspace
from tests.store.conftest import DIGITS, digit_class, item_id, set_training_policy, write_jsonl

CLASSES = ("zero", "three", "eight")  # three and eight list each other as confusable
STEPS = ("redefine", "revert", "add_rule", "remove_rule", "global_rule", "cut_confusable")
LABELERS = ("vA-01", "vB-01")
DAYS = [dt.date(2026, 1, 10) + dt.timedelta(days=n) for n in range(20)]


@dataclass
class Model:
    """The rules, in plain Python: per release step, the classes it affects."""

    definitions: dict[str, list[str]]  # class -> its definitions, oldest first (current last)
    confusable: dict[str, set[str]]
    rules: list[tuple[str, str]] = field(default_factory=list)  # (rule id, class)
    versions: list[str] = field(default_factory=lambda: ["1.0.0"])
    steps: list[set[str]] = field(default_factory=list)  # steps[k]: versions[k] -> versions[k+1]
    confusables: list[dict[str, set[str]]] = field(default_factory=list)  # per version

    def affected(self, a: str, b: str) -> set[str]:
        i, j = sorted((self.versions.index(a), self.versions.index(b)))
        return set().union(*self.steps[i:j]) if j > i else set()

    def confusable_pair(self, c: str, x: str, version: str) -> bool:
        lists = self.confusables[self.versions.index(version)]
        return x in lists.get(c, set()) or c in lists.get(x, set())


def _apply(model: Model, step: str, cls: str, n: int) -> tuple[set[str], list[tuple[str, str]]]:
    """The spec edits of one step (old, new text pairs) and the classes it affects."""
    edits: list[tuple[str, str]] = []
    affected: set[str] = set()
    if step == "revert" and len(model.definitions[cls]) < 2:
        step = "redefine"
    if step == "remove_rule" and not model.rules:
        step = "add_rule"
    if step == "cut_confusable" and not model.confusable[cls]:
        step = "global_rule"
    if step in ("redefine", "revert"):
        old = model.definitions[cls][-1]
        new = model.definitions[cls][-2] if step == "revert" else f"{old.rstrip('.')} (v{n})."
        model.definitions[cls].append(new)
        edits.append((f"definition: {old}\n", f"definition: {new}\n"))
        affected.add(cls)
    elif step == "add_rule":
        rule = (f"R{10 + n}", cls)
        model.rules.append(rule)
        edits.append(
            (
                "\nclasses:",
                f"\n  - {{id: {rule[0]}, text: About {cls}., applies_to: [{cls}]}}\nclasses:",
            )
        )
        affected.add(cls)
    elif step == "remove_rule":
        rule_id, scoped = model.rules.pop()
        edits.append(
            (f"  - {{id: {rule_id}, text: About {scoped}., applies_to: [{scoped}]}}\n", "")
        )
        affected.add(scoped)
    elif step == "global_rule":
        edits.append(("\nclasses:", f"\n  - {{id: G{n}, text: Look twice ({n}).}}\nclasses:"))
    else:  # cut_confusable: cls stops listing its pairs (the other side may still list cls)
        listed = ", ".join(sorted(model.confusable[cls]))
        edits.append((f"confusable_with: [{listed}]  # {cls}", "confusable_with: []"))
        model.confusable[cls] = set()
        affected.add(cls)
    return affected, edits


history = st.fixed_dictionaries(
    {
        "releases": st.lists(
            st.tuples(st.sampled_from(STEPS), st.sampled_from(CLASSES)), min_size=1, max_size=3
        ),
        "trainings": st.lists(
            st.tuples(st.sampled_from(LABELERS), st.integers(0, 3), st.sampled_from(DAYS)),
            max_size=4,
        ),
        "labels": st.lists(
            st.tuples(
                st.integers(0, DIGITS - 1),
                st.sampled_from(LABELERS),
                st.integers(0, 3),
                st.sampled_from(DAYS),
            ),
            min_size=1,
            max_size=8,
        ),
    }
)


def _tag_confusables(spec: Path) -> dict[str, set[str]]:
    """Mark each class's confusable line with the class (edits then find the right line)."""
    lines, current, found = spec.read_text().splitlines(keepends=True), None, {}
    for i, line in enumerate(lines):
        if line.strip().startswith("- id: ") and line.startswith("  - id: "):
            current = line.split("id: ")[1].strip()
        if current and line.strip().startswith("confusable_with: ["):
            listed = line.split("[")[1].split("]")[0]
            found[current] = {x.strip() for x in listed.split(",") if x.strip()}
            lines[i] = line.rstrip("\n") + f"  # {current}\n"
    spec.write_text("".join(lines))
    return found


@settings(
    max_examples=10,
    deadline=None,
    # each example builds a real workspace (seconds): no shrinking, the failing history prints whole
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=history)
def test_impact_status_and_current_labels_match_the_model(built, run, drawn):
    from labelspec.guideline.releases import release
    from labelspec.labelers.training import record_training
    from labelspec.labels.ingest import import_labels
    from labelspec.workspace import Workspace
    from tests.helpers import git

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workspace(built("digits"), Path(tmp) / "ws")
        ws = Workspace(root)
        spec = root / "guidelines/digits/spec.yaml"
        confusable = _tag_confusables(spec)
        git(root, "commit", "-q", "-am", "tag confusable lines")
        text = spec.read_text()
        definitions = {
            c: [text.split(f"- id: {c}\n")[1].split("definition: ")[1].split("\n")[0]]
            for c in CLASSES
        }
        model = Model(definitions, {c: set(v) for c, v in confusable.items()})
        model.confusables.append({c: set(v) for c, v in model.confusable.items()})
        for n, (step, cls) in enumerate(drawn["releases"], 1):
            affected, edits = _apply(model, step, cls, n)
            body = spec.read_text()
            for old, new in edits:
                assert old in body, (step, old)
                body = body.replace(old, new, 1)
            body = body.replace(
                "\n\nquality:",
                f"\n  - version: unreleased\n    summary: step {n}\n    affects: []\n    relabel: none\n\nquality:",
            )
            spec.write_text(body)
            git(root, "commit", "-q", "-am", f"step {n}")
            model.versions.append(release(ws, "digits", "minor").version)
            model.steps.append(affected)
            model.confusables.append({c: set(v) for c, v in model.confusable.items()})
        newest = model.versions[-1]
        # trainings: vA-01 passed 1.0.0 on 2026-01-15 (the fixture), plus the drawn ones
        passes = [("vA-01", "1.0.0", dt.date(2026, 1, 15))]
        for labeler, index, day in drawn["trainings"]:
            version = model.versions[min(index, len(model.versions) - 1)]
            record_training(ws, labeler, "digits", version, "session", 1.0, True, day)
            passes.append((labeler, version, day))
        set_training_policy(root, "warn")
        by_version: dict[str, list[dict]] = {}
        seen = set()
        for item, labeler, index, day in drawn["labels"]:
            version = model.versions[min(index, len(model.versions) - 1)]
            if (item, labeler) in seen:  # a later label by the same labeler would supersede it
                continue
            seen.add((item, labeler))
            by_version.setdefault(version, []).append(
                {"item_id": item_id(item), "labeler": labeler, "class": digit_class(item),
                 "created_at": f"{day}T12:00:00Z"}
            )  # fmt: skip
        for version, rows in by_version.items():
            path = write_jsonl(Path(tmp) / f"{version}.jsonl", rows)
            import_labels(ws, "digits", path, "jsonl", f"digits@{version}", "vendor-a")

        # -- the model's answers --------------------------------------------------------------
        def trained(labeler: str, version: str, day: dt.date) -> bool:
            return any(
                who == labeler and when <= day and not model.affected(passed, version)
                for who, passed, when in passes
            )

        expected = {"affected": 0, "confusable": 0, "untrained": 0, "labels": 0}
        for version, rows in by_version.items():
            for row in rows:
                day = dt.date.fromisoformat(row["created_at"][:10])
                changed = model.affected(version, newest)
                kind = None
                if row["class"] in changed:
                    kind = "affected"
                elif any(
                    model.confusable_pair(row["class"], x, v)
                    for x in changed
                    for v in (version, newest)
                ):
                    kind = "confusable"
                untrained = not trained(row["labeler"], version, day)
                expected["affected"] += kind == "affected"
                expected["confusable"] += kind == "confusable"
                expected["untrained"] += untrained
                expected["labels"] += bool(kind) or untrained

        out = run("trace", "impact", "digits", "--guideline", "digits", "--json", cwd=root)
        found = json.loads(out.stdout)
        assert found["by_reason"] == {
            k: expected[k] for k in ("affected", "confusable", "untrained")
        }
        assert found["affected_labels"] == expected["labels"]
        assert found["total_labels"] == sum(len(r) for r in by_version.values())

        rows = json.loads(
            run("labeler", "status", "--guideline", "digits", "--json", cwd=root).stdout
        )
        for row in rows:
            mine = [p for p in passes if p[0] == row["labeler"]]
            if not mine:
                assert row["action"] == "train"
                continue
            best = max(mine, key=lambda p: (tuple(int(x) for x in p[1].split(".")), p[2]))
            changed = sorted(model.affected(best[1], newest))
            assert (row["certified"], row["changed_since"]) == (best[1], changed), row
            assert row["covered"] is (not changed)
            assert row["action"] == ("ok" if not changed else "retrain")
        shown = json.loads(run("labels", "show", "digits", "--json", cwd=root).stdout)
        assert shown["labels"] == sum(len(r) for r in by_version.values())
        shutil.rmtree(root, ignore_errors=True)
