"""Random histories against a small, obviously-correct model of the lineage rules.

Hypothesis draws guideline releases (definitions changed and reverted, scoped rules added and
removed, global rules, confusable lists cut on one side), training records with dates, and
imports under any released version on any date. The model below implements the README's rules
in plain Python; `trace impact`, `labeler status`, `trace labeler` and the current labels must
agree with it.

The second model adds rules with a scope (``where``: boxes at the image border, occluded boxes,
items of one city) on a detection guideline, widened, removed and mixed with class-level
changes, and boxes drawn at and away from the border: `trace impact` must count what the model
reads off each scope's definition.

Each model runs twice: on random histories (saved failures replayed first), and on a fixed,
derandomised set (``derandomize``: the same histories on every checkout, no ``.hypothesis/``
folder read), so what the suite checks does not depend on luck or on one machine's past runs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import copy_workspace
from tests.store.conftest import DIGITS, digit_class, item_id, set_training_policy, write_jsonl

CLASSES = ("zero", "three", "eight")  # three and eight list each other as confusable
STEPS = ("redefine", "revert", "add_rule", "remove_rule", "global_rule", "cut_confusable")
LABELERS = ("vA-01", "vB-01")
# from the day before 1.0.0's release (2026-01-15; a training may not predate its version's
# release by more than a day), every later release dated 2026-01-15 too
DAYS = [dt.date(2026, 1, 14) + dt.timedelta(days=n) for n in range(20)]
RELEASED = dt.date(2026, 1, 15)


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


# each example builds a real workspace (seconds): no shrinking, the failing history prints whole
RANDOM = settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# the same histories on every checkout: derived from the test alone, no saved examples replayed
FIXED = settings(RANDOM, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])


@RANDOM
@given(drawn=history)
def test_impact_status_and_current_labels_match_the_model(built, run, drawn):
    check_history(built, run, drawn)


@FIXED
@given(drawn=history)
def test_impact_status_and_current_labels_match_the_model_on_fixed_histories(built, run, drawn):
    check_history(built, run, drawn)


def check_history(built, run, drawn) -> None:
    """`trace impact`, `labeler status`, `trace labeler` and `labels show` agree with the model
    on one drawn history."""
    from labelspec.guideline.release import release
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
            model.versions.append(release(ws, "digits", "minor", date=RELEASED).version)
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

        # trace labeler: a label is covered when a passing record covering its version is dated
        # on or before it (one label per item and labeler, so items = labels on each side)
        for labeler in LABELERS:
            mine = [
                (version, trained(labeler, version, dt.date.fromisoformat(r["created_at"][:10])))
                for version, rows in by_version.items()
                for r in rows
                if r["labeler"] == labeler
            ]
            args = ("trace", "labeler", "digits", labeler, "--json")
            if not mine:
                run(*args, cwd=root, expect=3)
                continue
            traced = json.loads(run(*args, cwd=root).stdout)
            covered = sum(ok for _, ok in mine)
            # the model's labels are classes (digits): no empty answer
            assert traced["covered"] == {"labels": covered, "empty": 0, "items": covered}
            assert traced["uncovered"] == {
                "labels": len(mine) - covered,
                "empty": 0,
                "items": len(mine) - covered,
            }
            by_version_covered: dict[tuple[str, bool], int] = {}
            for key in mine:
                by_version_covered[key] = by_version_covered.get(key, 0) + 1
            assert {
                (e["version"], e["covered"]): e["labels"] for e in traced["by_version"]
            } == by_version_covered, (labeler, passes, mine)
        shutil.rmtree(root, ignore_errors=True)


# -- rules with a scope (lineage rule 7) ------------------------------------------------------------
# The school-bus guideline (labelspec.demo.school_buses): R2 applies to school_bus where a box
# touches the image border; school_bus and pickup_truck are confusable with each other. Each step
# changes what a scope covers; the model keeps, per step, its effects as (class, scope) pairs,
# scope None for the whole class, and reads each scope literally below.
SCOPED_STEPS = (
    "edit_r2", "widen_r2", "occluded_rule", "lima_rule", "remove_rule", "redefine", "global_rule"
)  # fmt: skip
BUS, PICKUP = "school_bus", "pickup_truck"
PARTNER = {BUS: PICKUP, PICKUP: BUS}
SCENES = 10  # street-000 .. street-009, 320 x 200, cities lagos and lima in turn
SIZES = [(84.0, 40.0), (150.0, 56.0), (20.0, 20.0)]
R2_TEXT = "    text: A bus cut by the image border is boxed up to the border."
R2_WHERE = (
    "    where: {touches_border: true}   # the labels this rule can change: a change to it is\n"
    "                                    # judged on the boxes at the border, not every bus\n"
)
PICKUP_DEFINITION = "definition: A short truck with a cab and an open bed behind it, of any colour."


def city(item: int) -> str:
    return ("lagos", "lima")[item % 2]


def in_scope(scope: str | None, box: dict | None, item: int) -> bool:
    """Whether a label (``box`` None: an empty answer) is within a scope, by its definition."""
    if scope is None:
        return True
    if scope == "lima":
        return city(item) == "lima"
    if box is None:
        return True  # an empty answer: only item conditions judge it
    if scope == "border":
        x, y, w, h = box["bbox"]
        return x <= 0.5 or y <= 0.5 or x + w >= 319.5 or y + h >= 199.5
    return box.get("attributes", {}).get("occluded", False) is True  # "occluded"


@dataclass
class ScopedModel:
    r2_bordered: bool = True
    r2_text: str = R2_TEXT
    pickup_redefined: int = 0  # the step that last reworded the pickup's definition
    rules: list[tuple[str, str]] = field(default_factory=list)  # (rule line, scope)
    versions: list[str] = field(default_factory=lambda: ["1.0.0"])
    steps: list[list[tuple[str, str | None]]] = field(default_factory=list)

    def effects(self, version: str) -> list[tuple[str, str | None]]:
        return [e for step in self.steps[self.versions.index(version) :] for e in step]

    def apply(self, step: str, n: int) -> list[tuple[str, str]]:
        """The spec edits of one step; records its effects."""
        if step == "widen_r2" and not self.r2_bordered:
            step = "edit_r2"
        if step == "remove_rule" and not self.rules:
            step = "occluded_rule"
        if step == "edit_r2":
            self.steps.append([(BUS, "border" if self.r2_bordered else None)])
            old, self.r2_text = self.r2_text, f"{R2_TEXT[:-1]} (v{n})."
            return [(old, self.r2_text)]
        if step == "widen_r2":  # the where removed: the rule now covers every bus
            self.r2_bordered = False
            self.steps.append([(BUS, None)])
            return [(R2_WHERE, "")]
        if step in ("occluded_rule", "lima_rule"):
            scope = "occluded" if step == "occluded_rule" else "lima"
            line = (
                f"  - {{id: R{10 + n}, text: Occluded pickups ({n})., applies_to: [pickup_truck], "
                "where: {attributes: {occluded: true}}}\n"
                if scope == "occluded"
                else f"  - {{id: R{10 + n}, text: Lima streets ({n})., where: {{items: {{city: lima}}}}}}\n"
            )
            self.rules.append((line, scope))
            self.steps.append(self._rule_effects(scope))
            return [("\nclasses:", f"\n{line}classes:")]
        if step == "remove_rule":
            line, scope = self.rules.pop()
            self.steps.append(self._rule_effects(scope))
            return [(line, "")]
        if step == "redefine":
            self.steps.append([(PICKUP, None)])
            old = PICKUP_DEFINITION
            if self.pickup_redefined:
                old = PICKUP_DEFINITION.replace("colour.", f"colour ({self.pickup_redefined}).")
            self.pickup_redefined = n
            return [(old, PICKUP_DEFINITION.replace("colour.", f"colour ({n})."))]
        self.steps.append([])  # a global rule: the author's declaration, none here
        return [("\nclasses:", f"\n  - {{id: G{n}, text: Look twice ({n}).}}\nclasses:")]

    @staticmethod
    def _rule_effects(scope: str) -> list[tuple[str, str | None]]:
        return [(PICKUP, scope)] if scope == "occluded" else [(BUS, scope), (PICKUP, scope)]

    def kind(self, version: str, box: dict | None, item: int) -> str | None:
        changed = self.effects(version)
        if box is None:
            return "affected" if any(in_scope(s, None, item) for _c, s in changed) else None
        if any(c == box["class"] and in_scope(s, box, item) for c, s in changed):
            return "affected"
        if any(c == PARTNER[box["class"]] and in_scope(s, box, item) for c, s in changed):
            return "confusable"
        return None


def box_strategy():
    def made(cls, size, x_at, y_at, occluded):
        w, h = size
        x = {"left": 0.0, "middle": 60.0, "right": 320.0 - w}[x_at]
        y = {"top": 0.0, "middle": 100.0, "bottom": 200.0 - h}[y_at]
        box = {"class": cls, "bbox": [x, y, w, h]}
        if occluded is not None:
            box["attributes"] = {"occluded": occluded}
        return box

    return st.builds(
        made,
        st.sampled_from([BUS, PICKUP]),
        st.sampled_from(SIZES),
        st.sampled_from(["left", "middle", "middle", "right"]),
        st.sampled_from(["top", "middle", "middle", "bottom"]),
        st.sampled_from([True, False, None]),
    )


scoped_history = st.fixed_dictionaries(
    {
        "releases": st.lists(st.sampled_from(SCOPED_STEPS), min_size=1, max_size=3),
        "labels": st.lists(
            st.tuples(
                st.integers(0, SCENES - 1),
                st.sampled_from(LABELERS),
                st.integers(0, 3),
                # [] is an empty answer; one box twice in an annotation is refused at import
                st.lists(box_strategy(), max_size=2, unique_by=lambda b: tuple(b["bbox"])),
            ),
            min_size=1,
            max_size=10,
        ),
    }
)


@pytest.fixture(scope="module")
def streets_base(tmp_path_factory, pristine) -> Path:
    """The school-bus guideline released as 1.0.0, ten street scenes with a city column, two
    labelers trained on 1.0.0."""
    from labelspec.demo import school_buses, streets
    from labelspec.guideline.release import tag_current
    from labelspec.labelers.roster import add_labeler
    from labelspec.labelers.training import record_training
    from labelspec.store.items import add_items
    from labelspec.workspace import Workspace
    from tests.helpers import git

    root = copy_workspace(pristine("detection"), tmp_path_factory.mktemp("scoped") / "ws")
    ws = Workspace(root)
    school_buses.write(root / "guidelines" / school_buses.NAME)
    git(root, "add", "guidelines")
    git(root, "commit", "-qm", "school-buses")
    tag_current(ws, school_buses.NAME)
    scenes = [streets.Scene(f"street-{i:03d}.png", city=city(i)) for i in range(SCENES)]
    streets.write_items(root / "photos", scenes, root / "photos" / "manifest.csv")
    add_items(ws, "streets", root / "photos" / "manifest.csv", guideline=school_buses.NAME)
    for labeler in LABELERS:
        add_labeler(ws, labeler, "vendor-a")
        record_training(ws, labeler, school_buses.NAME, "1.0.0", "session", 1.0, True, DAYS[0])
    set_training_policy(root, "warn")
    return root


SCOPED_RANDOM = settings(RANDOM, max_examples=12)


@SCOPED_RANDOM
@given(drawn=scoped_history)
def test_scoped_rule_impact_matches_the_model(streets_base, run, drawn):
    check_scoped_history(streets_base, run, drawn)


@settings(FIXED, max_examples=12)
@given(drawn=scoped_history)
def test_scoped_rule_impact_matches_the_model_on_fixed_histories(streets_base, run, drawn):
    check_scoped_history(streets_base, run, drawn)


def check_scoped_history(streets_base, run, drawn) -> None:
    from labelspec.demo import school_buses
    from labelspec.guideline.release import release
    from labelspec.labels.ingest import import_labels
    from labelspec.workspace import Workspace
    from tests.helpers import git

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workspace(streets_base, Path(tmp) / "ws")
        ws = Workspace(root)
        spec = root / "guidelines" / school_buses.NAME / "spec.yaml"
        model = ScopedModel()
        for n, step in enumerate(drawn["releases"], 1):
            body = spec.read_text()
            for old, new in model.apply(step, n):
                assert old in body, (step, old)
                body = body.replace(old, new, 1)
            body += f"  - version: unreleased\n    summary: step {n}\n    affects: []\n    relabel: none\n"
            spec.write_text(body)
            git(root, "commit", "-q", "-am", f"step {n}")
            model.versions.append(release(ws, school_buses.NAME, "minor").version)
        by_version: dict[str, list[dict]] = {}
        labeled: list[tuple[str, int, dict | None]] = []  # (version, item, box or None)
        seen = set()
        for item, labeler, index, boxes in drawn["labels"]:
            version = model.versions[min(index, len(model.versions) - 1)]
            if (item, labeler) in seen:  # a later answer of the same labeler would supersede it
                continue
            seen.add((item, labeler))
            base = {"item_id": f"street-{item:03d}.png", "labeler": labeler,
                    "created_at": "2026-02-01T12:00:00Z"}  # fmt: skip
            rows = [{**base, **box} for box in boxes] or [{**base, "empty": True}]
            by_version.setdefault(version, []).extend(rows)
            labeled += [(version, item, box) for box in boxes] or [(version, item, None)]
        for version, rows in by_version.items():
            path = write_jsonl(Path(tmp) / f"{version}.jsonl", rows)
            import_labels(
                ws, "streets", path, "jsonl", f"{school_buses.NAME}@{version}", "vendor-a"
            )

        kinds = [model.kind(version, box, item) for version, item, box in labeled]
        out = run(
            "trace", "impact", "streets", "--guideline", school_buses.NAME, "--json", cwd=root
        )
        found = json.loads(out.stdout)
        assert found["total_labels"] == len(labeled)
        assert (found["by_reason"]["affected"], found["by_reason"]["confusable"]) == (
            kinds.count("affected"),
            kinds.count("confusable"),
        ), (model.steps, labeled, kinds)
        shutil.rmtree(root, ignore_errors=True)
