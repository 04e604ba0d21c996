"""What changed between two versions of a guideline, in the words and pictures people review.

``compare`` goes beyond ``diff.SpecDiff`` (which decides bumps and impact): it keeps the text
before and after with a word diff, pairs each example with its earlier self and reads the
pictures of both sides (a picture replaced under the same file name counts as a change), and
describes rules and decision-tree nodes before -> after. ``guideline review`` and the site's
"What changed" pages both render it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec.errors import VcsError
from labelspec.guideline.diff import diff_class, diff_specs
from labelspec.guideline.spec import BorderlineExample, CounterExample, Example, Spec
from labelspec.guideline.wordiff import Piece, word_diff
from labelspec.repo import Repo
from labelspec.vcs import read_at

KIND_WORDS = {"positive": "typical", "counter": "counterexample", "borderline": "borderline"}


# -- words for decisions ----------------------------------------------------------------------------
def verdict(example: Example, class_name: str, names: dict[str, str]) -> str:
    """What a labeler does with an example, in words; also the site's alt text."""
    if isinstance(example, CounterExample):
        target = names.get(example.label, example.label) if example.label else "none of the classes"
        return f"Counterexample of {class_name}: label as {target}"
    if isinstance(example, BorderlineExample):
        rule = f" (rule {example.rule})" if example.rule else ""
        return f"Borderline {class_name}: label as {names.get(example.decision, example.decision)}{rule}"
    return f"Typical {class_name}: label as {class_name}"


def describe_node(node, names: dict[str, str]) -> str:
    return (
        f"{node.question} Yes → {names.get(node.yes, node.yes)}; no → {names.get(node.no, node.no)}"
    )


# -- the pictures of one side -------------------------------------------------------------------------
def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Pictures:
    """The example pictures of a guideline at a commit, or in the working tree (``commit`` None).

    Pictures committed to git compare by blob id without being read; those tracked by DVC (or on
    disk) are read to compare."""

    def __init__(self, ws: Repo, name: str, commit: str | None, git=None):
        self.root, self.folder, self.commit = ws.root, ws.guideline_dir(name), commit
        self.ws = ws
        self.blobs: dict[str, str] = {}
        if commit is not None and git is not None:
            try:
                self.blobs = dict(git.ls_tree(commit, self.folder))
            except VcsError:
                self.blobs = {}  # no guideline at that commit

    def read(self, image: str) -> bytes:

        path = self.folder / image
        if self.commit is None:
            return path.read_bytes()
        return read_at(self.root, self.commit, path, self.ws.git)

    def fingerprint(self, image: str) -> str | None:
        recorded = self.blobs.get(Path(image).as_posix())
        if recorded is not None:
            return recorded
        try:
            return _blob_sha(self.read(image))
        except (OSError, VcsError):
            return None


# -- the result -----------------------------------------------------------------------------------------
@dataclass
class TextChange:
    field: str
    before: str | None
    after: str | None
    pieces: list[Piece]


@dataclass
class ClassChange:
    id: str
    name: str
    status: str  # added | removed | renamed | changed
    renamed_from: str | None = None
    texts: list[TextChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # list fields, attributes, thresholds


@dataclass
class ExampleSide:
    image: str | None  # the path in the guideline folder
    text: str | None
    why: str
    verdict: str  # "Counterexample of Seven: label as One"
    asset: str | None = None  # where a renderer put the picture (relative to its page)
    data: bytes | None = field(default=None, repr=False)  # the picture, never serialized
    missing: str | None = None  # why the picture could not be read
    # the answer drawn on the picture: {"boxes": [...] or None, "wrong_boxes": [...]} as in the
    # spec (None: nothing drawn); ``drawing_asset``: where a renderer put the standalone drawing
    drawn: dict[str, Any] | None = None
    drawing_asset: str | None = None


@dataclass
class ExampleChange:
    class_id: str
    class_name: str
    kind: str
    status: str  # added | removed | changed
    what: list[str]  # for a change: image, why, label, decision, rule, spans
    before: ExampleSide | None
    after: ExampleSide | None


@dataclass
class RuleChange:
    id: str
    status: str  # added | removed | changed
    text: TextChange | None
    notes: list[str] = field(default_factory=list)


@dataclass
class NodeChange:
    id: str
    status: str  # added | removed | changed
    before: str | None  # "Question? Yes → Seven; no → One"
    after: str | None
    question: list[Piece] = field(default_factory=list)


@dataclass
class Changes:
    meta: list[TextChange] = field(default_factory=list)  # title, description
    classes: list[ClassChange] = field(default_factory=list)
    examples: list[ExampleChange] = field(default_factory=list)
    rules: list[RuleChange] = field(default_factory=list)
    tree: list[NodeChange] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # class id -> name, both sides

    @property
    def empty(self) -> bool:
        return not (self.meta or self.classes or self.examples or self.rules or self.tree)


def empty_spec(name: str, task: str) -> Spec:
    """The "before" of a guideline that did not exist yet: no classes, rules or nodes."""
    return Spec.model_construct(
        guideline=name, title="", version="0.0.0", task=task, classes=[], rules=[]
    )


def compare(old: Spec, new: Spec, old_pictures: Pictures, new_pictures: Pictures) -> Changes:
    names = {c.id: c.name for c in (*old.classes, *new.classes)}
    meta = [
        t
        for t in (
            _text("title", old.title or None, new.title),
            _text("description", old.description, new.description),
        )
        if t
    ]
    return Changes(
        meta=meta,
        classes=_classes(old, new),
        examples=_examples(old, new, old_pictures, new_pictures),
        rules=_rules(old, new),
        tree=_tree(old, new, names),
        names=names,
    )


def _text(name: str, before: str | None, after: str | None) -> TextChange | None:
    if (before or "") == (after or ""):
        return None
    return TextChange(name, before, after, word_diff(before, after))


def _classes(old: Spec, new: Spec) -> list[ClassChange]:
    change = diff_specs(old, new)
    renamed = {r["to"]: r["from"] for r in change.renamed}
    out = []
    for cls in new.classes:
        if cls.id in change.added:
            out.append(
                ClassChange(
                    cls.id, cls.name, "added", texts=[_text("definition", None, cls.definition)]
                )
            )
            continue
        before = old.get_class(renamed.get(cls.id, cls.id))
        status = "renamed" if cls.id in renamed else "changed"
        item = ClassChange(cls.id, cls.name, status, renamed.get(cls.id))
        item.texts = [
            t
            for t in (_text(f, getattr(before, f), getattr(cls, f)) for f in ("name", "definition"))
            if t
        ]
        item.notes = [
            _describe(entry)
            for entry in diff_class(before, cls)
            if entry["field"] not in ("name", "definition")
            and not entry["field"].startswith("examples.")
        ]
        if item.texts or item.notes or status == "renamed":
            out.append(item)
    for class_id in change.removed:
        cls = old.get_class(class_id)
        out.append(
            ClassChange(
                class_id, cls.name, "removed", texts=[_text("definition", cls.definition, None)]
            )
        )
    return out


def _describe(entry: dict[str, Any]) -> str:
    name = entry["field"]
    if "from" in entry:
        return f"{name}: {entry['from']} → {entry['to']}"
    parts = []
    for key, sign in (("added", "+"), ("removed", "-")):
        parts += [f"{sign} {value}" for value in entry.get(key) or []]
    for attr_id, fields in (entry.get("changed") or {}).items():
        edits = ", ".join(f"{k} {v['from']} → {v['to']}" for k, v in fields.items())
        parts.append(f"~ {attr_id} ({edits})")
    if entry.get("required_added"):
        parts.append(f"now required: {', '.join(entry['required_added'])}")
    return f"{name}: {'; '.join(parts)}"


def _key(example: Example) -> str:
    return example.image if example.image is not None else example.text or ""


def _side(example: Example, class_name: str, names: dict, pictures: Pictures) -> ExampleSide:
    shown = ExampleSide(
        example.image, example.text, example.why, verdict(example, class_name, names)
    )
    if example.boxes is not None or example.wrong_boxes:
        shown.drawn = example.model_dump(
            mode="json", by_alias=True, include={"boxes", "wrong_boxes"}
        )
    if example.image is not None:
        try:
            shown.data = pictures.read(example.image)
        except (OSError, VcsError) as exc:
            shown.missing = str(exc)
    return shown


def _examples(
    old: Spec, new: Spec, old_pictures: Pictures, new_pictures: Pictures
) -> list[ExampleChange]:
    old_names = {c.id: c.name for c in old.classes}
    new_names = {c.id: c.name for c in new.classes}
    out: list[ExampleChange] = []
    class_ids = [c.id for c in new.classes] + [c.id for c in old.classes if c.id not in new_names]
    for class_id in class_ids:
        before_cls, after_cls = old.get_class(class_id), new.get_class(class_id)
        shown = (after_cls or before_cls).name
        for kind in ("positive", "counter", "borderline"):
            before = {_key(e): e for e in getattr(before_cls.examples, kind)} if before_cls else {}
            after = {_key(e): e for e in getattr(after_cls.examples, kind)} if after_cls else {}
            for key, example in after.items():
                previous = before.get(key)
                if previous is None:
                    added = _side(example, shown, new_names, new_pictures)
                    out.append(ExampleChange(class_id, shown, kind, "added", [], None, added))
                    continue
                what = [
                    f
                    for f in ("why", "label", "decision", "rule", "spans", "boxes", "wrong_boxes")
                    if getattr(previous, f, None) != getattr(example, f, None)
                ]
                if example.image is not None and old_pictures.fingerprint(
                    example.image
                ) != new_pictures.fingerprint(example.image):
                    what.insert(0, "image")
                if what:
                    out.append(
                        ExampleChange(
                            class_id,
                            shown,
                            kind,
                            "changed",
                            what,
                            _side(previous, before_cls.name, old_names, old_pictures),
                            _side(example, shown, new_names, new_pictures),
                        )
                    )
            for key, example in before.items():
                if key not in after:
                    removed = _side(example, before_cls.name, old_names, old_pictures)
                    out.append(ExampleChange(class_id, shown, kind, "removed", [], removed, None))
    return out


def _rules(old: Spec, new: Spec) -> list[RuleChange]:
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    out = []
    for rule_id, rule in after.items():
        previous = before.get(rule_id)
        if previous is None:
            scope = "applies to " + (
                ", ".join(rule.applies_to) if rule.applies_to else "every class"
            )
            out.append(RuleChange(rule_id, "added", _text("text", None, rule.text), [scope]))
        elif previous != rule:
            notes = [
                f"{f}: {getattr(previous, f) or '-'} → {getattr(rule, f) or '-'}"
                for f in ("applies_to", "min_box_px", "min_span_chars")
                if getattr(previous, f) != getattr(rule, f)
            ]
            out.append(
                RuleChange(rule_id, "changed", _text("text", previous.text, rule.text), notes)
            )
    out += [
        RuleChange(rule_id, "removed", _text("text", rule.text, None))
        for rule_id, rule in before.items()
        if rule_id not in after
    ]
    return out


def _tree(old: Spec, new: Spec, names: dict[str, str]) -> list[NodeChange]:
    before = {n.id: n for n in old.decision_tree}
    after = {n.id: n for n in new.decision_tree}
    out = []
    for node_id, node in after.items():
        previous = before.get(node_id)
        if previous is None:
            out.append(NodeChange(node_id, "added", None, describe_node(node, names)))
        elif previous != node:
            out.append(
                NodeChange(
                    node_id,
                    "changed",
                    describe_node(previous, names),
                    describe_node(node, names),
                    word_diff(previous.question, node.question),
                )
            )
    out += [
        NodeChange(node_id, "removed", describe_node(node, names), None)
        for node_id, node in before.items()
        if node_id not in after
    ]
    return out
