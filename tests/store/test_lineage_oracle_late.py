"""Random histories with late-recorded trainings, branches, merges and reverts, against a plain
Python model of lineage rules 4 and 5 (the README).

- Trainings: some records are recorded before the labels are imported, some after, each with any
  date. Coverage is judged from every record present at the revision read, by its date:
  `trace impact` (untrained), `trace labeler` and `labeler status` agree with the model, and
  `trace impact --snapshot` at the import commit agrees with the records present then.
- Histories: imports on two branches (a label of an item and labeler already labeled supersedes
  it), merges of one branch into the other and `git revert`s of import commits. Between any two
  revisions, `labels diff` reconciles (added - removed is the change in current labels, as
  `labels show` counts them and the model computes them), `diff B A` mirrors `diff A B`, and the
  pairs are a maximum matching of the candidates (a removed and an added label of one item, one
  reaching the other through supersedes).

(Its own file: ``test_lineage_oracle.py`` holds the release-rules model.)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.conftest import copy_workspace
from tests.store.conftest import DIGITS, digit_class, item_id, set_training_policy, write_jsonl

CLASSES = ("zero", "three", "eight")
LABELERS = ("vA-01", "vB-01")
# from the day before 1.0.0's release (2026-01-15; a training may not predate its version's
# release by more than a day), every later release dated 2026-01-15 too
DAYS = [dt.date(2026, 1, 14) + dt.timedelta(days=n) for n in range(20)]
RELEASED = dt.date(2026, 1, 15)
SLOW = {
    "deadline": None,
    # each example builds a real workspace (seconds): no shrinking, the failing history prints whole
    "phases": [Phase.explicit, Phase.reuse, Phase.generate],
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def definition(spec_text: str, cls: str) -> str:
    return spec_text.split(f"- id: {cls}\n")[1].split("definition: ")[1].split("\n")[0]


# -- late-recorded trainings ------------------------------------------------------------------------
late_history = st.fixed_dictionaries(
    {
        # each release redefines a class, or reverts it to its previous definition
        "releases": st.lists(
            st.tuples(st.sampled_from(("redefine", "revert")), st.sampled_from(CLASSES)),
            max_size=2,
        ),
        # (labeler, version index, date, recorded after the imports)
        "trainings": st.lists(
            st.tuples(
                st.sampled_from(LABELERS), st.integers(0, 2), st.sampled_from(DAYS), st.booleans()
            ),
            max_size=4,
        ),
        "labels": st.lists(
            st.tuples(
                st.integers(0, DIGITS - 1),
                st.sampled_from(LABELERS),
                st.integers(0, 2),
                st.sampled_from(DAYS),
            ),
            min_size=1,
            max_size=8,
        ),
    }
)


# derandomized: CI checks fixed examples; the explicit one is the random run's find (the model
# lacked rule 3: eight is suspect when three, its confusable, changes)
@settings(max_examples=10, derandomize=True, database=None, **SLOW)
@given(drawn=late_history)
@example(
    drawn={
        "releases": [("redefine", "zero"), ("redefine", "three")],
        "trainings": [],
        "labels": [
            (3, "vB-01", 1, DAYS[19]),
            (5, "vB-01", 0, DAYS[6]),
            (12, "vA-01", 1, DAYS[11]),
            (18, "vA-01", 0, DAYS[5]),
            (0, "vA-01", 2, DAYS[5]),
            (3, "vB-01", 0, DAYS[15]),
        ],
    }
)
def test_late_recorded_trainings_cover_by_their_date(built, run, drawn):
    from labelspec.guideline.release import release
    from labelspec.labelers.training import record_training
    from labelspec.labels.ingest import import_labels
    from labelspec.workspace import Workspace
    from tests.helpers import git

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workspace(built("digits"), Path(tmp) / "ws")
        ws = Workspace(root)
        spec = root / "guidelines/digits/spec.yaml"
        definitions = {c: [definition(spec.read_text(), c)] for c in CLASSES}
        versions, steps = ["1.0.0"], []  # steps[k]: the class changed from versions[k] to k+1
        for n, (step, cls) in enumerate(drawn["releases"], 1):
            old = definitions[cls][-1]
            revert = step == "revert" and len(definitions[cls]) > 1
            new = definitions[cls][-2] if revert else f"{old.rstrip('.')} (v{n})."
            definitions[cls].append(new)
            body = spec.read_text().replace(f"definition: {old}\n", f"definition: {new}\n", 1)
            body = body.replace(
                "\n\nquality:",
                f"\n  - version: unreleased\n    summary: step {n}\n    affects: []\n    relabel: none\n\nquality:",
            )
            spec.write_text(body)
            git(root, "commit", "-q", "-am", f"step {n}")
            versions.append(release(ws, "digits", "minor", date=RELEASED).version)
            steps.append(cls)

        def version(index: int) -> str:
            return versions[min(index, len(versions) - 1)]

        def affected(a: str, b: str) -> set[str]:
            i, j = sorted((versions.index(a), versions.index(b)))
            return set(steps[i:j])

        early = [("vA-01", "1.0.0", dt.date(2026, 1, 15))]  # the fixture's record
        late = []
        for labeler, index, day, after in drawn["trainings"]:
            (late if after else early).append((labeler, version(index), day))
        for labeler, v, day in early[1:]:
            record_training(ws, labeler, "digits", v, "session", 1.0, True, day)
        set_training_policy(root, "warn")
        rows, seen = [], set()
        for item, labeler, index, day in drawn["labels"]:
            if (item, labeler) in seen:  # a later label by the same labeler would supersede it
                continue
            seen.add((item, labeler))
            rows.append(
                {"item_id": item_id(item), "labeler": labeler, "class": digit_class(item),
                 "created_at": f"{day}T12:00:00Z", "guideline_version": version(index)}
            )  # fmt: skip
        for v in sorted({r["guideline_version"] for r in rows}):
            path = write_jsonl(
                Path(tmp) / f"{v}.jsonl", [r for r in rows if r["guideline_version"] == v]
            )
            import_labels(ws, "digits", path, "jsonl", f"digits@{v}", "vendor-a")
        imported = git(root, "rev-parse", "HEAD").strip()
        for labeler, v, day in late:
            record_training(ws, labeler, "digits", v, "session", 1.0, True, day)

        def covered(row: dict, passes: list[tuple[str, str, dt.date]]) -> bool:
            day = dt.date.fromisoformat(row["created_at"][:10])
            return any(
                who == row["labeler"] and when <= day
                and not affected(passed, row["guideline_version"])
                for who, passed, when in passes
            )  # fmt: skip

        newest = versions[-1]
        pairs = {  # rule 3: a pair listed on either side (the releases leave the lists alone)
            frozenset((c["id"], other))
            for c in yaml.safe_load(spec.read_text())["classes"]
            for other in c.get("confusable_with", [])
        }

        def suspect(cls: str, changed: set[str]) -> bool:
            return cls in changed or any(frozenset((cls, c)) in pairs for c in changed)

        suspect_class = {  # the labels impact counts for their class (rules 2, 3), whatever training
            id(r) for r in rows if suspect(r["class"], affected(r["guideline_version"], newest))
        }

        def expected_impact(passes) -> tuple[int, int]:
            untrained = [r for r in rows if not covered(r, passes)]
            return len(untrained), len({id(r) for r in untrained} | suspect_class)

        impact = ["trace", "impact", "digits", "--guideline", "digits", "--json"]
        now = json.loads(run(*impact, cwd=root).stdout)
        assert (now["by_reason"]["untrained"], now["affected_labels"]) == expected_impact(
            early + late
        ), (early, late, rows, now)
        then = json.loads(run(*impact, "--snapshot", imported, cwd=root).stdout)
        assert then["by_reason"]["untrained"] == expected_impact(early)[0]

        for labeler in LABELERS:
            mine = [r for r in rows if r["labeler"] == labeler]
            if not mine:
                continue
            traced = json.loads(
                run("trace", "labeler", "digits", labeler, "--json", cwd=root).stdout
            )
            n = sum(covered(r, early + late) for r in mine)
            assert (traced["covered"]["labels"], traced["uncovered"]["labels"]) == (
                n,
                len(mine) - n,
            )

        status = json.loads(
            run("labeler", "status", "--guideline", "digits", "--json", cwd=root).stdout
        )
        for row in status:
            passes = [p for p in early + late if p[0] == row["labeler"]]
            if not passes:
                assert row["action"] == "train"
                continue
            best = max(passes, key=lambda p: (tuple(int(x) for x in p[1].split(".")), p[2]))
            assert row["certified"] == best[1]
            assert row["covered"] is not affected(best[1], newest)
        shutil.rmtree(root, ignore_errors=True)


# -- branches, merges, reverts: labels diff ---------------------------------------------------------
@dataclass
class Tree:
    """A revision as the model sees it: its import batches (op number -> batch)."""

    batches: dict[int, Batch] = field(default_factory=dict)

    def superseded(self) -> set[int]:
        return {old for b in self.batches.values() for old in b.supersedes}

    def current(self) -> dict[int, Batch]:
        gone = self.superseded()
        return {n: b for n, b in self.batches.items() if n not in gone}


@dataclass(frozen=True)
class Batch:
    item: int
    labeler: str
    cls: str
    supersedes: frozenset[int]


def maximum_matching(edges: set[tuple[int, int]]) -> int:
    """Brute force: the largest set of disjoint edges (the graphs here are tiny)."""
    edges_list = sorted(edges)
    for size in range(min(len({a for a, _ in edges}), len({b for _, b in edges})), 0, -1):
        for chosen in itertools.combinations(edges_list, size):
            if len({a for a, _ in chosen}) == size == len({b for _, b in chosen}):
                return size
    return 0


def reaches(trees: list[Tree], start: int) -> set[int]:
    links = {n: b.supersedes for t in trees for n, b in t.batches.items()}
    found, todo = set(), [start]
    while todo:
        for old in links.get(todo.pop(), ()):
            if old not in found:
                found.add(old)
                todo.append(old)
    return found


def expected_diff(a: Tree, b: Tree) -> tuple[int, int, int]:
    """(added, removed, pairs) from ``a`` to ``b``: each import is one label."""
    cur_a, cur_b = a.current(), b.current()
    added = {n for n in cur_b if n not in cur_a}
    removed = {n for n in cur_a if n not in cur_b}
    edges = {
        (r, n)
        for r in removed
        for n in added
        if cur_a[r].item == cur_b[n].item and (r in reaches([a, b], n) or n in reaches([a, b], r))
    }
    pairs = maximum_matching(edges)
    return len(added) - pairs, len(removed) - pairs, pairs


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("import"),
            st.sampled_from(("main", "side")),
            st.integers(0, 2),  # items d00..d02: replacements are frequent
            st.sampled_from(LABELERS),
            st.sampled_from(CLASSES),
        ),
        st.tuples(st.just("merge"), st.sampled_from(("main", "side"))),
        st.tuples(st.just("revert"), st.sampled_from(("main", "side")), st.integers(0, 5)),
    ),
    min_size=2,
    max_size=7,
)


@settings(max_examples=8, **SLOW)
@given(ops=OPS)
def test_labels_diff_reconciles_mirrors_and_pairs_maximally(built, run, ops):
    from labelspec.labels.ingest import import_labels
    from labelspec.workspace import Workspace
    from tests.helpers import git

    with tempfile.TemporaryDirectory() as tmp:
        root = copy_workspace(built("digits"), Path(tmp) / "ws")
        set_training_policy(root, "warn")
        git(root, "branch", "side")
        trees = {"main": Tree(), "side": Tree()}
        imports: dict[str, list[tuple[int, str]]] = {"main": [], "side": []}  # (op, commit)
        revisions: list[tuple[str, Tree]] = [(git(root, "rev-parse", "HEAD").strip(), Tree())]
        model_at = dict(revisions)  # commit -> its batches, as the model sees them
        for n, op in enumerate(ops):
            branch = op[1]
            git(root, "checkout", "-q", branch)
            tree = trees[branch]
            if op[0] == "import":
                _, _, item, labeler, cls = op
                replaced = frozenset(
                    k for k, b in tree.current().items() if (b.item, b.labeler) == (item, labeler)
                )
                row = {"item_id": item_id(item), "labeler": labeler, "class": cls,
                       "created_at": f"2026-02-01T10:{n:02d}:00Z"}  # fmt: skip
                path = write_jsonl(Path(tmp) / f"op{n}.jsonl", [row])
                import_labels(Workspace(root), "digits", path, "jsonl", "digits@1.0.0", "vendor-a")
                tree.batches[n] = Batch(item, labeler, cls, replaced)
                imports[branch].append((n, git(root, "rev-parse", "HEAD").strip()))
            elif op[0] == "merge":
                other = "side" if branch == "main" else "main"
                base = model_at[git(root, "merge-base", branch, other).strip()]
                git(root, "merge", "-q", "--no-edit", other)
                # git's three-way merge of the batch files: added or removed on either side
                theirs = trees[other].batches
                tree.batches = {
                    k: b
                    for k, b in (tree.batches | theirs).items()
                    if (k in tree.batches and k in theirs) or k not in base.batches
                }
                imports[branch] = sorted(set(imports[branch]) | set(imports[other]))
            else:
                live = [(k, c) for k, c in imports[branch] if k in tree.batches]
                if not live:
                    continue
                k, commit = live[op[2] % len(live)]
                git(root, "revert", "--no-edit", commit)
                del tree.batches[k]
            revisions.append((git(root, "rev-parse", "HEAD").strip(), Tree(dict(tree.batches))))
            model_at[revisions[-1][0]] = revisions[-1][1]

        def diff(a: str, b: str) -> dict:
            out = run("labels", "diff", "digits", a, b, "--json", cwd=root).stdout
            return json.loads(out)

        for (rev_a, tree_a), (rev_b, tree_b) in itertools.combinations(revisions[-4:], 2):
            there, back = diff(rev_a, rev_b), diff(rev_b, rev_a)
            pairs = there["changed_class"] + there["moved_boxes"] + there["relabeled_same"]
            assert (there["added"], there["removed"], pairs) == expected_diff(tree_a, tree_b), ops
            assert (back["added"], back["removed"]) == (there["removed"], there["added"]), ops
            assert back["relabeled_same"] == there["relabeled_same"]
            assert back["class_changes"] == {
                " -> ".join(reversed(k.split(" -> "))): v for k, v in there["class_changes"].items()
            }
        for rev, tree in revisions[-2:]:
            shown = json.loads(
                run("labels", "show", "digits", "--snapshot", rev, "--json", cwd=root).stdout
            )
            assert shown["labels"] == len(tree.current()), ops
        shutil.rmtree(root, ignore_errors=True)
