"""The machine-readable guideline: pydantic models of ``guidelines/<name>/spec.yaml``.

``Spec.model_validate`` checks the shape of each field; ``cross_check`` checks what one field
says about another (ids unique, references resolve, changelog ordered). Both report locations as
pydantic-style ``loc`` tuples so ``check`` can turn them into file:line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from labelspec.semver import Version

UNRELEASED = "unreleased"
NEVER_RELEASED = "0.0.0"  # the version of a guideline before its first release
TASKS = ("classification", "multilabel", "detection", "ner")
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
RuleId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Loc = tuple[str | int, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Scalar = bool | str | int | float


def _as_list(value: Any) -> Any:
    """``occluded: true`` reads as ``occluded: [true]``: one value or a list of them."""
    return value if isinstance(value, list) else [value]


class Range(_Model):
    """Inclusive bounds; either may be left out."""

    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` {self.min:g} is above `max` {self.max:g}")
        return self


# What each range measures, and the values it can take: (lowest allowed, highest allowed).
RANGE_LIMITS = {
    "area_px": ("box area in square pixels (w x h)", 0.0, math.inf),
    "relative_area": ("box area over image area", 0.0, 1.0),
    "aspect_ratio": ("box width over height", 0.0, math.inf),
    "span_chars": ("span length in characters", 0.0, math.inf),
}
GEOMETRY = ("touches_border", "area_px", "relative_area", "aspect_ratio")  # detection only


class Selector(_Model):
    """The labels a rule can change, beyond its ``applies_to`` classes (every condition given
    must hold; a list of values means any of them). ``guideline.scope`` evaluates it."""

    touches_border: bool | None = Field(
        default=None, description="boxes within half a pixel of an image edge (true) or not"
    )
    area_px: Range | None = None
    relative_area: Range | None = None
    aspect_ratio: Range | None = None
    span_chars: Range | None = None
    attributes: dict[Slug, list[Scalar]] = Field(
        default={}, description="attribute id -> value(s) the label carries"
    )
    items: dict[str, list[Scalar]] = Field(
        default={}, description="item metadata column (city, split ...) -> value(s)"
    )

    @field_validator("attributes", "items", mode="before")
    @classmethod
    def _values_as_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _as_list(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _meaningful(self) -> Selector:
        if not self.model_dump(exclude_defaults=True):
            raise ValueError("`where` needs at least one condition (or leave it out)")
        for name, (what, low, high) in RANGE_LIMITS.items():
            bounds = getattr(self, name)
            for value in (bounds.min, bounds.max) if bounds else ():
                if value is not None and not low <= value <= high:
                    top = "" if math.isinf(high) else f" and {high:g}"
                    raise ValueError(f"{name} ({what}) must be between {low:g}{top}, got {value:g}")
        for kind in ("attributes", "items"):
            for key, values in getattr(self, kind).items():
                if not values:
                    raise ValueError(f"{kind}.{key} lists no value")
        return self

    @property
    def geometry(self) -> list[str]:
        return [name for name in GEOMETRY if getattr(self, name) is not None]

    def describe(self) -> str:
        """In words, for pages and reasons: "touches the image border, occluded: true"."""
        parts = []
        if self.touches_border is not None:
            parts.append(
                "touches the image border" if self.touches_border else "inside the image border"
            )
        for name in ("area_px", "relative_area", "aspect_ratio", "span_chars"):
            bounds = getattr(self, name)
            if bounds is not None:
                low = f"{bounds.min:g} <= " if bounds.min is not None else ""
                high = f" <= {bounds.max:g}" if bounds.max is not None else ""
                parts.append(f"{low}{RANGE_LIMITS[name][0]}{high}")
        for kind in ("attributes", "items"):
            for key, values in getattr(self, kind).items():
                shown = " or ".join(_shown(v) for v in values)
                parts.append(f"{key}: {shown}")
        return ", ".join(parts)


def _shown(value: Scalar) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class Rule(_Model):
    id: RuleId
    text: str = Field(min_length=1)
    applies_to: list[Slug] = []
    where: Selector | None = Field(
        default=None, description="the labels the rule can change (impact honours it)"
    )
    min_box_px: int | None = Field(default=None, ge=1)
    min_span_chars: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _thresholds_are_class_wide(self) -> Rule:
        if self.where is not None and (self.min_box_px or self.min_span_chars):
            raise ValueError(
                "a rule with `where` cannot set min_box_px or min_span_chars (thresholds hold "
                "for whole classes): put the threshold in a rule without `where`"
            )
        return self


class Attribute(_Model):
    id: Slug
    name: str | None = None
    type: Literal["nominal", "ordinal", "boolean", "text"]
    values: list[str] = []
    required: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _values_match_type(self) -> Attribute:
        if self.type in ("nominal", "ordinal") and not self.values:
            raise ValueError(f"a {self.type} attribute needs its allowed `values`")
        if self.type in ("boolean", "text") and self.values:
            raise ValueError(f"a {self.type} attribute takes no `values`")
        if len(set(self.values)) != len(self.values):
            raise ValueError("`values` has duplicates")
        return self


class Span(_Model):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: Slug

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end <= self.start:
            raise ValueError("span end must be greater than start")
        return self


class DrawnBox(_Model):
    """A box drawn on an example picture, in its pixels: (x, y) is the top-left corner."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_id: Slug = Field(alias="class")
    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)
    w: float = Field(gt=0, allow_inf_nan=False)
    h: float = Field(gt=0, allow_inf_nan=False)
    attributes: dict[Slug, Scalar] = {}


class Example(_Model):
    image: str | None = None
    text: str | None = None
    spans: list[Span] = []
    boxes: list[DrawnBox] | None = Field(
        default=None,
        description="detection: the answer drawn on the picture, every object to box "
        "([] says there is nothing to box); left out, the picture carries no drawing",
    )
    wrong_boxes: list[DrawnBox] = Field(
        default=[], description='detection: boxes drawn as mistakes to avoid ("not this")'
    )
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_medium(self) -> Example:
        if (self.image is None) == (self.text is None):
            raise ValueError("an example has exactly one of `image` or `text`")
        if self.spans and self.text is None:
            raise ValueError("`spans` need a `text` example")
        if (self.boxes is not None or self.wrong_boxes) and self.image is None:
            raise ValueError("`boxes` and `wrong_boxes` are drawn on an `image` example")
        for span in self.spans:
            if self.text is not None and span.end > len(self.text):
                raise ValueError(
                    f"span {span.start}-{span.end} ends past the text ({len(self.text)} chars)"
                )
        return self


class CounterExample(Example):
    label: Slug | None = Field(default=None, description="the class it really is; omit for none")


class BorderlineExample(Example):
    decision: Slug = Field(description="the class to label it as")
    rule: RuleId | None = Field(default=None, description="the rule that decides it")


class Examples(_Model):
    positive: list[Example] = []
    counter: list[CounterExample] = []
    borderline: list[BorderlineExample] = []

    def all(self) -> list[tuple[str, int, Example]]:
        return [
            (kind, i, ex)
            for kind in ("positive", "counter", "borderline")
            for i, ex in enumerate(getattr(self, kind))
        ]


class LabelClass(_Model):
    id: Slug
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    synonyms: list[str] = []
    confusable_with: list[Slug] = []
    include: list[str] = []
    exclude: list[str] = []
    min_box_px: int | None = Field(default=None, ge=1)
    renamed_from: Slug | None = Field(default=None, description="the id this class had before")
    attributes: list[Attribute] = []
    examples: Examples = Examples()


class DecisionNode(_Model):
    id: Slug
    question: str = Field(min_length=1)
    yes: Slug
    no: Slug


class ChangelogEntry(_Model):
    version: str
    date: dt.date | None = None
    summary: str = Field(min_length=1)
    details: list[str] = []
    affects: list[Slug] = []
    relabel: Literal["required", "recommended", "none"] = "none"
    digest: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _semver_or_unreleased(cls, value: object) -> str:
        value = str(value)
        if value != UNRELEASED and not Version.is_valid(value):
            raise ValueError(
                f"must be a semantic version like 1.2.0 or `{UNRELEASED}`, not {value!r}"
            )
        return value

    @property
    def released(self) -> bool:
        return self.version != UNRELEASED


class Training(_Model):
    pass_accuracy: float = Field(default=0.9, ge=0, le=1)


class Quality(_Model):
    training: Training = Training()


class Spec(_Model):
    guideline: Slug
    title: str = Field(min_length=1)
    version: str
    owners: list[str] = []
    task: Literal["classification", "multilabel", "detection", "ner"]
    description: str | None = None
    rules: list[Rule] = []
    classes: list[LabelClass] = Field(min_length=1)
    decision_tree: list[DecisionNode] = []
    changelog: list[ChangelogEntry] = []
    quality: Quality = Quality()

    @field_validator("version", mode="before")
    @classmethod
    def _semver(cls, value: object) -> str:
        value = str(value)
        if not Version.is_valid(value):
            raise ValueError(f"must be a semantic version like 1.2.0, not {value!r}")
        return value

    @property
    def class_ids(self) -> list[str]:
        return [c.id for c in self.classes]

    def get_class(self, class_id: str) -> LabelClass | None:
        return next((c for c in self.classes if c.id == class_id), None)

    def get_rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def pending(self) -> ChangelogEntry | None:
        """The changelog entry the author wrote for the next release, if any."""
        return next((e for e in self.changelog if not e.released), None)

    def min_box_px(self, class_id: str) -> int | None:
        """The strictest minimum box side that applies to a class."""
        found = [
            r.min_box_px
            for r in self.rules
            if r.min_box_px and (not r.applies_to or class_id in r.applies_to)
        ]
        cls = self.get_class(class_id)
        if cls and cls.min_box_px:
            found.append(cls.min_box_px)
        return max(found) if found else None

    def min_span_chars(self, class_id: str) -> tuple[int, str] | None:
        """The strictest minimum span length (characters) that applies to a class, and the
        rule that sets it."""
        found = [
            (r.min_span_chars, r.id)
            for r in self.rules
            if r.min_span_chars and (not r.applies_to or class_id in r.applies_to)
        ]
        return max(found, key=lambda pair: pair[0]) if found else None


def _duplicates(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


LISTED_IDS = 12  # known ids listed in full; more read as a guess and the first few


def known_ids(ids: list[str], given: str) -> str:
    """``known: ...`` for a message naming an unknown class id: every id of a small spec; for
    a large one the closest and the first few (a message per wrong reference times 2,000
    ids made `check` print 27 MB)."""
    if len(ids) <= LISTED_IDS:
        return f"known: {', '.join(ids)}"
    close = difflib.get_close_matches(str(given), ids, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}known: {', '.join(ids[:10])} and {len(ids) - 10} more"


def cross_check(spec: Spec) -> tuple[list[tuple[Loc, str]], list[tuple[Loc, str]]]:
    """What one field says about another: (errors, warnings) as (loc, message) pairs."""
    errors: list[tuple[Loc, str]] = []
    warnings: list[tuple[Loc, str]] = []
    class_ids = set(spec.class_ids)
    rule_ids = {r.id for r in spec.rules}

    for kind, items in (
        ("classes", spec.classes),
        ("rules", spec.rules),
        ("decision_tree", spec.decision_tree),
    ):
        dupes = _duplicates([x.id for x in items])
        for i, item in enumerate(items):
            if item.id in dupes:
                errors.append(((kind, i, "id"), f"duplicate id {item.id!r} (ids must be unique)"))

    def need_class(loc: Loc, value: str | None, what: str) -> None:
        if value is not None and value not in class_ids:
            errors.append(
                (loc, f"{what} {value!r} is not a class id ({known_ids(sorted(class_ids), value)})")
            )

    for r_i, rule in enumerate(spec.rules):
        for j, target in enumerate(rule.applies_to):
            need_class(("rules", r_i, "applies_to", j), target, "applies_to")

    for c_i, cls in enumerate(spec.classes):
        base: Loc = ("classes", c_i)
        for j, other in enumerate(cls.confusable_with):
            need_class((*base, "confusable_with", j), other, "confusable_with")
            if other == cls.id:
                errors.append(
                    ((*base, "confusable_with", j), "a class cannot be confusable with itself")
                )
        for a_i in (
            i
            for i, a in enumerate(cls.attributes)
            if a.id in _duplicates([a.id for a in cls.attributes])
        ):
            errors.append(((*base, "attributes", a_i, "id"), "duplicate attribute id"))
        for kind, i, ex in cls.examples.all():
            errors.extend(_drawn_problems(spec, cls, (*base, "examples", kind, i), ex))
        for kind, i, ex in cls.examples.all():
            loc: Loc = (*base, "examples", kind, i)
            if spec.task == "ner" and ex.text is None:
                errors.append(
                    ((*loc, "image"), "an ner guideline's examples carry `text`, not `image`")
                )
            if spec.task != "ner" and ex.image is None:
                errors.append(
                    (
                        (*loc, "text"),
                        f"a {spec.task} guideline's examples carry `image`, not `text`",
                    )
                )
            for s_i, span in enumerate(ex.spans):
                need_class((*loc, "spans", s_i, "label"), span.label, "span label")
                minimum = spec.min_span_chars(span.label) if spec.task == "ner" else None
                if minimum and span.end - span.start < minimum[0]:
                    errors.append(
                        (
                            (*loc, "spans", s_i),
                            f"span {span.start}-{span.end} is {span.end - span.start} "
                            f"character(s) long, shorter than the {minimum[0]}-character minimum "
                            f"for {span.label} (rule {minimum[1]}; a labeler could not submit it)",
                        )
                    )
            if isinstance(ex, CounterExample):
                need_class((*loc, "label"), ex.label, "label")
                if ex.label == cls.id:
                    errors.append(
                        (
                            (*loc, "label"),
                            f"a counterexample of {cls.id!r} cannot be labeled {cls.id!r}",
                        )
                    )
            if isinstance(ex, BorderlineExample):
                need_class((*loc, "decision"), ex.decision, "decision")
                if ex.rule is not None and ex.rule not in rule_ids:
                    errors.append(((*loc, "rule"), f"rule {ex.rule!r} is not defined in `rules`"))

    for r_i, rule in enumerate(spec.rules):
        if rule.where is not None:
            found_errors, found_warnings = _selector_problems(spec, rule, ("rules", r_i, "where"))
            errors += found_errors
            warnings += found_warnings

    node_ids = {n.id for n in spec.decision_tree}
    for n_i, node in enumerate(spec.decision_tree):
        if node.id in class_ids:
            errors.append(
                (("decision_tree", n_i, "id"), f"node id {node.id!r} clashes with a class id")
            )
        for branch in ("yes", "no"):
            target = getattr(node, branch)
            if target not in node_ids and target not in class_ids:
                errors.append(
                    (("decision_tree", n_i, branch), f"{target!r} is neither a node nor a class id")
                )
    errors.extend(_tree_cycles(spec))

    _check_changelog(spec, errors, warnings)
    return errors, warnings


# -- drawn answers and rule scopes --------------------------------------------------------------------
def attribute_problem(
    cls: LabelClass, attributes: dict[str, Any], require: bool = True
) -> tuple[str, str] | None:
    """(attribute id, what is wrong) with ``attributes`` given for a box of ``cls``, or None."""
    defined = {a.id: a for a in cls.attributes}
    for key in attributes:
        if key not in defined:
            allowed = ", ".join(defined) or "none"
            return key, f"unknown attribute {key!r} for class {cls.id!r} (allowed: {allowed})"
    for attr in cls.attributes:
        value = attributes.get(attr.id)
        if value is None:
            if attr.required and require:
                return attr.id, f"attribute {attr.id!r} is required for class {cls.id!r}"
            continue
        problem = _value_problem(attr, value)
        if problem:
            return attr.id, problem
    return None


def _value_problem(attr: Attribute, value: Scalar) -> str | None:
    if attr.type == "boolean" and not isinstance(value, bool):
        return f"attribute {attr.id!r} is true or false, not {value!r}"
    if attr.type in ("nominal", "ordinal") and value not in attr.values:
        return f"attribute {attr.id!r} is one of {', '.join(attr.values)}, not {value!r}"
    if attr.type == "text" and not isinstance(value, str):
        return f"attribute {attr.id!r} is text, not {value!r}"
    return None


def _drawn_problems(spec: Spec, cls: LabelClass, loc: Loc, ex: Example) -> list[tuple[Loc, str]]:
    """What the drawn answer of an example says against the spec and against its own verdict
    (``check`` adds what needs the picture: inside the image, minimum size)."""
    if ex.boxes is None and not ex.wrong_boxes:
        return []
    if spec.task != "detection":
        field = "boxes" if ex.boxes is not None else "wrong_boxes"
        return [
            (
                (*loc, field),
                f"boxes are drawn on detection examples; this is a {spec.task} guideline",
            )
        ]
    found: list[tuple[Loc, str]] = []
    for field, boxes, require in (
        ("boxes", ex.boxes or [], True),
        ("wrong_boxes", ex.wrong_boxes, False),
    ):
        for b_i, box in enumerate(boxes):
            target = spec.get_class(box.class_id)
            if target is None:
                known = known_ids(spec.class_ids, box.class_id)
                found.append(
                    (
                        (*loc, field, b_i, "class"),
                        f"box class {box.class_id!r} is not a class id ({known})",
                    )
                )
                continue
            problem = attribute_problem(target, box.attributes, require)
            if problem:
                found.append(((*loc, field, b_i, "attributes", problem[0]), problem[1]))
    right = {b.class_id for b in ex.boxes or []}
    for b_i, box in enumerate(ex.wrong_boxes):
        if box in (ex.boxes or []):
            found.append(
                ((*loc, "wrong_boxes", b_i), "this box is drawn as right (in `boxes`) and as wrong")
            )
    if ex.boxes is None:
        return found
    expected = _drawn_class(cls, ex)
    if isinstance(ex, CounterExample) and cls.id in right:
        found.append(
            (
                (*loc, "boxes"),
                f"a counterexample of {cls.id!r} boxes no {cls.id!r} in its answer (draw that box under `wrong_boxes`)",
            )
        )
    if expected is not None and expected not in right:
        found.append(
            ((*loc, "boxes"), f"the answer must box the {expected!r} the example is about")
        )
    return found


def _drawn_class(cls: LabelClass, ex: Example) -> str | None:
    """The class an example's answer must box: its own, the counterexample's label, the
    borderline decision (None: a counterexample of none of the classes)."""
    if isinstance(ex, CounterExample):
        return ex.label
    if isinstance(ex, BorderlineExample):
        return ex.decision
    return cls.id


def scope_classes(spec: Spec, rule: Rule) -> list[str]:
    """The classes a rule is about: its ``applies_to``, or every class."""
    return list(rule.applies_to) or spec.class_ids


def _selector_problems(spec: Spec, rule: Rule, loc: Loc) -> tuple[list, list]:
    where = rule.where
    errors: list[tuple[Loc, str]] = []
    warnings: list[tuple[Loc, str]] = []
    for name in where.geometry:
        if spec.task != "detection":
            errors.append(((*loc, name), f"{name} selects boxes; this is a {spec.task} guideline"))
    if where.span_chars is not None and spec.task != "ner":
        errors.append(
            ((*loc, "span_chars"), f"span_chars selects spans; this is a {spec.task} guideline")
        )
    classes = [spec.get_class(c) for c in scope_classes(spec, rule) if spec.get_class(c)]
    for key, values in where.attributes.items():
        defining = [c for c in classes if any(a.id == key for a in c.attributes)]
        if not defining:
            names = ", ".join(c.id for c in classes)
            errors.append(
                (
                    (*loc, "attributes", key),
                    f"no class the rule applies to ({names}) has an attribute {key!r}",
                )
            )
            continue
        missing = [c.id for c in classes if c not in defining]
        if missing:
            warnings.append(
                (
                    (*loc, "attributes", key),
                    f"{', '.join(missing)} has no attribute {key!r}: the rule never selects its labels",
                )
            )
        attr = next(a for a in defining[0].attributes if a.id == key)
        for value in values:
            problem = _value_problem(attr, value)
            if problem:
                errors.append(((*loc, "attributes", key), problem))
    return errors, warnings


def _tree_cycles(spec: Spec) -> list[tuple[Loc, str]]:
    nodes = {n.id: (i, n) for i, n in enumerate(spec.decision_tree)}
    state: dict[str, int] = {}
    found: list[tuple[Loc, str]] = []

    def visit(node_id: str) -> None:
        state[node_id] = 1
        i, node = nodes[node_id]
        for branch in ("yes", "no"):
            target = getattr(node, branch)
            if target in nodes:
                if state.get(target) == 1:
                    found.append(
                        (("decision_tree", i, branch), f"{target!r} leads back into a loop")
                    )
                elif target not in state:
                    visit(target)
        state[node_id] = 2

    for node_id in nodes:
        if node_id not in state:
            visit(node_id)
    return found


def _check_changelog(spec: Spec, errors: list, warnings: list) -> None:
    released = [(i, e) for i, e in enumerate(spec.changelog) if e.released]
    pending = [i for i, e in enumerate(spec.changelog) if not e.released]
    for i in pending[1:]:
        errors.append((("changelog", i, "version"), f"only one `{UNRELEASED}` entry is allowed"))
    if pending and pending[0] != len(spec.changelog) - 1:
        errors.append(
            (("changelog", pending[0], "version"), f"the `{UNRELEASED}` entry must come last")
        )
    previous = None
    for i, entry in released:
        version = Version.parse(entry.version)
        if previous is not None and version <= previous:
            errors.append(
                (
                    ("changelog", i, "version"),
                    f"{entry.version} does not follow {previous} (oldest first)",
                )
            )
        previous = version
        if entry.date is None:
            errors.append((("changelog", i, "date"), "a released entry needs its `date`"))
    if not released:
        if spec.version != NEVER_RELEASED:
            errors.append(
                (("changelog",), f"the changelog needs an entry for version {spec.version}")
            )
    elif released[-1][1].version != spec.version:
        i, newest = released[-1]
        errors.append(
            (
                ("changelog", i, "version"),
                f"newest entry is {newest.version} but `version` is {spec.version}",
            )
        )
    class_ids = set(spec.class_ids)
    for i, entry in enumerate(spec.changelog):
        for j, affected in enumerate(entry.affects):
            if affected not in class_ids:
                warnings.append(
                    (
                        ("changelog", i, "affects", j),
                        f"{affected!r} is not a current class (fine if it was removed)",
                    )
                )


def json_schema() -> dict:
    """The JSON Schema of spec.yaml (draft 2020-12), with a title and id for editors."""
    schema = Spec.model_json_schema()
    schema["title"] = "labelspec guideline spec (guidelines/<name>/spec.yaml)"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
