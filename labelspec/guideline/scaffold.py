"""``guideline new`` and ``guideline remove``: a guideline's folder made, or taken back, in one commit.

``new`` writes a spec that ``check`` passes (warnings allowed) with a placeholder wherever the
author has a text to write (``releases.PLACEHOLDER``: a release warns while any is left), an
empty slot for each kind of example, a docs page, an ``examples/`` folder, version 0.0.0 and a
pending entry, so that ``guideline release NAME`` alone makes 1.0.0.

``remove`` is for a guideline nothing refers to (the template ``init`` made, a false start): it
refuses while a dataset is labeled under it, a training record names it, or one of its releases
has left this clone (a remote-tracking branch holds its commit); release tags no one else has
seen go with the folder, so the name can be used again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from labelspec.errors import ConflictError, InputError, WorkspaceError
from labelspec.guideline.check import check_guideline
from labelspec.guideline.release import FIRST_VERSION, PLACEHOLDER, placeholders
from labelspec.guideline.releases import releases
from labelspec.guideline.spec import NEVER_RELEASED, TASKS, UNRELEASED
from labelspec.labelers.training import training_records
from labelspec.repo import Repo
from labelspec.store.datasets import declared
from labelspec.transaction import transaction

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
IMAGE_EXAMPLE = "{image: examples/<file>.png, why: ...}"
TEXT_EXAMPLE = '{text: "...", spans: [{start: 0, end: 4, label: CLASS}], why: ...}'
RULES = {
    "detection": "how to draw a box, e.g. the tightest box around every visible part of the object.",
    "classification": "how to choose an item's one class, e.g. the class of its main subject.",
    "multilabel": "when a class applies to an item, e.g. every class visible in it.",
    "ner": "where a span starts and ends, e.g. whole words, without the punctuation around them.",
}
THRESHOLDS = {
    "detection": "    # min_box_px: 8            # boxes smaller than this are refused at import",
    "ner": "    # min_span_chars: 2        # spans shorter than this are refused at import",
}


@dataclass
class NewGuideline:
    guideline: str
    task: str
    classes: list[str]
    files: list[str]
    commit: str | None
    placeholders: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what `check` says about the new spec

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "task": self.task,
            "classes": self.classes,
            "files": self.files,
            "commit": self.commit,
            "placeholders": self.placeholders,
            "warnings": self.warnings,
        }


def display(identifier: str) -> str:
    """``school_bus`` -> ``School bus``: a first name for a class or a title for a guideline."""
    words = re.sub(r"[-_]+", " ", identifier).strip()
    return words[:1].upper() + words[1:]


def parse_classes(text: str | list[str], task: str) -> list[str]:
    """``a,b`` -> class ids, each checked; every problem in one message."""
    given = text.split(",") if isinstance(text, str) else list(text)
    ids = [c.strip() for c in given if c.strip()]
    problems = [f"{c!r} is not a class id" for c in ids if not NAME.fullmatch(c)]
    dupes = sorted({c for c in ids if ids.count(c) > 1})
    if dupes:
        problems.append(f"{', '.join(dupes)} given twice")
    least = 2 if task == "classification" else 1
    if len({c for c in ids if NAME.fullmatch(c)}) < least:
        problems.append(
            f"a {task} guideline needs at least {least} class{'es' if least > 1 else ''}"
        )
    if problems:
        raise InputError(
            f"--classes {','.join(ids) or '(none)'}: {'; '.join(problems)} (class ids are "
            "lower-case letters, digits, '-' and '_', comma-separated: --classes school_bus,pickup_truck)"
        )
    return ids


def spec_text(name: str, title: str, task: str, classes: list[str]) -> str:
    """The spec.yaml ``guideline new`` writes: valid, with placeholders and commented slots."""
    q = json.dumps
    example = TEXT_EXAMPLE if task == "ner" else IMAGE_EXAMPLE
    lines = [
        f"# The labeling guideline {name}, written by `labelspec guideline new`.",
        f"# Replace every {PLACEHOLDER}, add examples, run `labelspec check`, commit, then",
        f"# `labelspec guideline release {name}` makes its first release: version {NEVER_RELEASED}",
        f"# and the `{UNRELEASED}` entry at the end become {FIRST_VERSION}, with the date and digest.",
        "# `labelspec schema` prints every field.",
        f"guideline: {name}",
        f"title: {q(title)}",
        f"version: {NEVER_RELEASED}",
        "owners: []   # who answers the labelers' questions",
        f"task: {task}",
        f"description: {q(f'{PLACEHOLDER}: what is labeled, what for, and what to look at first.')}",
        "",
        "rules:",
        "  - id: R1",
        f"    text: {q(f'{PLACEHOLDER}: {RULES[task]}')}",
        *([THRESHOLDS[task]] if task in THRESHOLDS else []),
        "    # applies_to: [CLASS]     # a rule for some classes only",
        "",
        "classes:",
    ]
    for class_id in classes:
        name_ = display(class_id)
        definition = f"{PLACEHOLDER}: define {name_}: the features that decide it."
        lines += [
            f"  - id: {class_id}",
            f"    name: {q(name_)}",
            f"    definition: {q(definition)}",
            "    confusable_with: []     # class ids labelers mix up with this one",
            "    include: []             # cases that are one, although they may not look it",
            "    exclude: []             # cases that are not, although they may look it",
            "    examples:",
            f"      positive: []          # {example}",
            "      counter: []           # the same, with `label: CLASS` (what it is; omit for none)",
            "      borderline: []        # the same, with `decision: CLASS` and `rule: R1`",
            "",
        ]
    lines += [
        "decision_tree: []           # [{id, question, yes, no}] leading to class ids",
        "",
        "changelog:",
        f"  - version: {UNRELEASED}",
        "    summary: First release",
        "    affects: []",
        "    relabel: none",
        "",
    ]
    return "\n".join(lines)


def docs_text(name: str, title: str) -> str:
    return (
        f"# {title}\n\n"
        f"{PLACEHOLDER}: the page labelers read first: what the labels are for, how to look at "
        "an item, and what to do when unsure.\n\n"
        "<!-- The class pages, rules, examples and changelog are generated from spec.yaml; this "
        f"page and every other guidelines/{name}/docs/*.md are yours. -->\n"
    )


def examples_text(name: str) -> str:
    return (
        f"# Example pictures of {name}\n\n"
        "Put the pictures here and name each in spec.yaml, under a class's `examples`:\n"
        f"`{IMAGE_EXAMPLE}`. `labelspec check` opens every one. Small pictures stay in git;\n"
        f"for a large set, `dvc add guidelines/{name}/examples`.\n"
    )


def new_guideline(
    ws: Repo, name: str, task: str, classes: str | list[str], title: str | None = None
) -> NewGuideline:
    """Write ``guidelines/NAME/`` (spec.yaml, docs/index.md, examples/) and commit it."""
    if not NAME.fullmatch(name):
        raise InputError(
            f"guideline name {name!r}: use lower-case letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit), e.g. school-buses"
        )
    if task not in TASKS:
        raise InputError(f"--task {task!r}: choose one of {', '.join(TASKS)}")
    ids = parse_classes(classes, task)
    title = (title or display(name)).strip()
    folder = ws.guideline_dir(name)
    files = {
        folder / "spec.yaml": spec_text(name, title, task, ids),
        folder / "docs" / "index.md": docs_text(name, title),
    }
    if task != "ner":  # ner examples are texts inside spec.yaml
        files[folder / "examples" / "README.md"] = examples_text(name)
    with transaction(ws, f"guideline new: {name} ({task}: {', '.join(ids)})") as tx:
        if folder.exists() and any(folder.iterdir()):
            raise ConflictError(
                f"{ws.relpath(folder)} exists; choose another name (or `labelspec guideline "
                f"remove {name}` first)"
            )
        earlier = releases(ws, name)
        if earlier:
            raise WorkspaceError(
                f"guideline {name!r} was released before ({', '.join(r.tag for r in earlier)}), "
                "and release names are never reused: choose another name, or bring it back with "
                f"`git checkout {earlier[-1].tag} -- {ws.relpath(folder)}`"
            )
        for path, text in files.items():
            tx.write_text(path, text)
        report = check_guideline(ws, name)
        if report.errors:  # a bug here, never the user's: say so rather than commit it
            raise InputError(
                "the new spec does not pass `labelspec check` (please report this): "
                + "; ".join(str(p) for p in report.errors[:5])
            )
    return NewGuideline(
        name,
        task,
        ids,
        sorted(ws.relpath(p) for p in files),
        tx.commit,
        placeholders(report.spec),
        [str(p) for p in report.warnings],
    )


# -- remove -----------------------------------------------------------------------------------------
@dataclass
class RemovedGuideline:
    guideline: str
    files: list[str]
    tags: list[str]  # release tags deleted with it (none had left this clone)
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "files": self.files,
            "deleted_tags": self.tags,
            "commit": self.commit,
        }


def _refusals(ws: Repo, name: str, git, released) -> list[tuple[str, bool]]:
    """Why ``name`` cannot go: (reason, whether it lasts); a dataset can be removed first."""
    why: list[tuple[str, bool]] = []
    datasets = sorted(d for d, c in declared(ws).items() if c.guideline == name)
    if datasets:
        commands = " and ".join(f"`labelspec dataset remove {d}`" for d in datasets)
        why.append(
            (
                f"dataset(s) {', '.join(datasets)} are labeled under it: remove them first "
                f"({commands}; refused in turn while they hold items or labels)",
                False,
            )
        )
    trained = sorted({r.labeler for r in training_records(ws) if r.guideline == name})
    if trained:
        why.append(
            (
                f"training records of {len(trained)} labeler(s) ({', '.join(trained[:5])}"
                f"{' ...' if len(trained) > 5 else ''}) name its releases: they are who was "
                "certified on what, so the guideline stays",
                True,
            )
        )
    shared = {
        r.version: found for r in released if (found := git.remote_branches_containing(r.commit))
    }
    if shared:
        where = "; ".join(f"{v} on {', '.join(b)}" for v, b in shared.items())
        why.append(
            (
                f"its releases have left this clone ({where}): other clones, labels and "
                "published sites may name them, so they stay",
                True,
            )
        )
    return why


def remove_guideline(ws: Repo, name: str) -> RemovedGuideline:
    """Delete ``guidelines/NAME/`` in one commit, and the release tags only this clone has."""
    folder = ws.guideline_dir(name)
    ws.spec_path(name)  # an unknown name: "did you mean", the known ones
    with transaction(ws, f"guideline remove: {name}") as tx:
        released = releases(ws, name)
        why = _refusals(ws, name, tx.git, released)
        if why:
            raise WorkspaceError(
                f"guideline {name!r} is not removed (nothing was changed): "
                + "; ".join(reason for reason, _ in why)
                + (
                    ". Instead, leave it (the site and `labeler status` list it) and label new "
                    "work under another guideline (`labelspec guideline new NAME ...`, "
                    "`labelspec dataset add DATASET --guideline NAME`)"
                    if any(lasting for _, lasting in why)
                    else ""
                )
            )
        dirty = tx.git.dirty_files(folder)
        if dirty:
            raise WorkspaceError(
                f"{ws.relpath(folder)} has uncommitted changes ({', '.join(dirty[:5])}); commit "
                "or delete them first: remove keeps nothing it cannot give back"
            )
        tracked = [folder / rel for rel in tx.git.tracked_files(folder)]
        for path in tracked:
            tx.remove(path)
        # after the commit: the release tags no one else has, and what git does not track (the
        # copies of DVC-tracked examples: their bytes stay in the DVC cache)
        tags = [r.tag for r in released]
        for tag in tags:
            tx.delete_tag_after_commit(tag)
        tx.remove_tree_after_commit(folder)
    return RemovedGuideline(name, sorted(ws.relpath(p) for p in tracked), tags, tx.commit)
