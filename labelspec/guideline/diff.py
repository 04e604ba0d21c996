"""What changed between two versions of a guideline spec, and how big a release it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelspec.guideline.spec import (
    BorderlineExample,
    LabelClass,
    Rule,
    Selector,
    Spec,
)

# Fields of a class whose change alters what labelers should do with its items.
SEMANTIC_FIELDS = ("definition", "include", "exclude", "min_box_px", "confusable_with")
LIST_FIELDS = ("include", "exclude", "synonyms", "confusable_with")
RELABEL_STRENGTH = {"none": 0, "recommended": 1, "required": 2}
BUMP_RANK = {"patch": 0, "minor": 1, "major": 2}


@dataclass(frozen=True)
class Scope:
    """The labels of one class a change can alter when it is not the whole class: those that a
    rule's ``where`` selects (the rule changed, or a borderline example citing it did)."""

    class_id: str
    rule: str
    where: Selector

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "where": self.where.model_dump(exclude_defaults=True)}


def merge_scopes(
    found: dict[str, list[Scope] | None], more: dict[str, list[Scope] | None]
) -> dict[str, list[Scope] | None]:
    """The union of two class -> scopes maps (None: the whole class, which absorbs scopes)."""
    out = dict(found)
    for class_id, scopes in more.items():
        if class_id in out and out[class_id] is None:
            continue
        if scopes is None:
            out[class_id] = None
            continue
        have = list(out.get(class_id) or [])
        out[class_id] = have + [s for s in scopes if s not in have]
    return out


@dataclass
class SpecDiff:
    """A structured diff; ``to_json`` gives the JSON contract of ``guideline diff``."""

    from_version: str
    to_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)
    changed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: dict[str, Any] = field(
        default_factory=lambda: {"added": [], "removed": [], "changed": {}}
    )
    decision_tree_changed: bool = False
    task_changed: bool = False
    # whole classes that rules, borderline examples (rules without `where`) and redrawn answers
    # alter, and the scopes of those with one: see ``rule_effects``
    rule_classes: set[str] = field(default_factory=set)
    scoped: list[Scope] = field(default_factory=list)
    declared_affects: list[str] = field(default_factory=list)
    relabel: str = "none"
    # rules added, removed or edited that apply to every label (no applies_to, no where): left
    # to ``declared_affects``, see ``global_rule_warning``
    global_rules: list[str] = field(default_factory=list)

    def detected_whole(self) -> set[str]:
        """Classes the diff shows changed as a whole (the declared ones aside)."""
        found = (
            set(self.removed) | {r["from"] for r in self.renamed} | {r["to"] for r in self.renamed}
        )
        for class_id, changes in self.changed.items():
            # borderline examples count through ``scoped`` / ``rule_classes`` (rule_effects)
            if any(_is_semantic(c) and c["field"] != "examples.borderline" for c in changes):
                found.add(class_id)
        return found | self.rule_classes

    @property
    def whole_affects(self) -> list[str]:
        """Classes every label of which the change can alter: the declared ones, and those the
        diff shows changed as a class (definitions, thresholds, counterexamples, rules and
        borderline examples without a `where` ...)."""
        return sorted(self.detected_whole() | set(self.declared_affects))

    @property
    def detected_affects(self) -> list[str]:
        """Classes whose labels the change can alter, read off the diff itself (some of them
        only within a rule's `where`: ``scopes``)."""
        return sorted(self.detected_whole() | {s.class_id for s in self.scoped})

    @property
    def affects(self) -> list[str]:
        """Every class the change touches, wholly or within a scope (training coverage, the
        site's "changed in")."""
        return sorted(set(self.declared_affects) | set(self.detected_affects))

    def scopes(self) -> dict[str, list[Scope] | None]:
        """class -> the labels of it the change can alter: None for all of them, else the
        scopes whose `where` selects them (lineage rule 7)."""
        found: dict[str, list[Scope] | None] = dict.fromkeys(self.whole_affects)
        for scope in self.scoped:
            found = merge_scopes(found, {scope.class_id: [scope]})
        return found

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.renamed
            or self.changed
            or any(self.rules[k] for k in ("added", "removed", "changed"))
            or self.decision_tree_changed
            or self.task_changed
        )

    def global_rule_warning(self) -> str | None:
        """A global rule changed while the changelog declares no class: nothing is detected for
        it, so the release would retrain nobody and make no label suspect."""
        if not self.global_rules or self.declared_affects:
            return None
        rules = ", ".join(self.global_rules)
        return (
            f"global rule {rules} changed and `affects` is empty: no labeler will be retrained "
            "and no label is suspect; list the classes it changes under `affects` in the "
            "`unreleased` entry (or give the rule `applies_to`)"
        )

    def required_bump(self) -> tuple[str, str]:
        """(smallest bump allowed, why) following semver for label compatibility."""
        if self.task_changed:
            return "major", "the task type changed"
        if self.removed:
            return "major", f"class(es) removed: {', '.join(self.removed)}"
        if self.renamed:
            names = ", ".join(f"{r['from']} -> {r['to']}" for r in self.renamed)
            return "major", f"class(es) renamed: {names}"
        for class_id, changes in self.changed.items():
            for change in changes:
                if change["field"] == "attributes" and change.get("required_added"):
                    return "minor", f"{class_id}: new required attribute(s)"
        if self.added:
            return "minor", f"class(es) added: {', '.join(self.added)}"
        semantic = [
            cid
            for cid, changes in self.changed.items()
            if any(_is_semantic(c) and not c.get("answer_changed") for c in changes)
        ]
        if semantic:
            return "minor", f"definitions changed for: {', '.join(semantic)}"
        drawn = [cid for cid, changes in self.changed.items() if _answer_changed(changes)]
        if drawn:
            return (
                "minor",
                f"the drawn answer of a positive example changed for: {', '.join(drawn)}",
            )
        if any(self.rules[k] for k in ("added", "removed", "changed")):
            return "minor", "rules changed"
        if self.decision_tree_changed:
            return "minor", "the decision tree changed"
        return "patch", "only examples, names, synonyms or prose changed"

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_version,
            "to": self.to_version,
            "classes": {
                "added": self.added,
                "removed": self.removed,
                "renamed": self.renamed,
                "changed": self.changed,
            },
            "rules": self.rules,
            "decision_tree_changed": self.decision_tree_changed,
            "affects": self.affects,
            "affects_declared": sorted(self.declared_affects),
            "affects_detected": self.detected_affects,
            "affects_scoped": {
                class_id: [s.to_json() for s in scopes]
                for class_id, scopes in sorted(self.scopes().items())
                if scopes is not None
            },
            "relabel": self.relabel,
            "required_bump": self.required_bump()[0],
        }


def _is_semantic(change: dict[str, Any]) -> bool:
    if change["field"] in SEMANTIC_FIELDS or change["field"] == "attributes":
        return True
    # a positive example's drawn answer shows how to label (the quiz grades on it); its picture
    # or wording alone only illustrates
    return change["field"] in ("examples.counter", "examples.borderline") or bool(
        change.get("answer_changed")
    )


def _answer_changed(changes: list[dict[str, Any]]) -> bool:
    return any(c.get("answer_changed") for c in changes)


def _answer(example) -> tuple:
    """What an example draws as the answer: boxes, "not this" boxes, spans, each in no order
    (the same boxes listed in another order are the same answer)."""
    return tuple(
        sorted(repr(part) for part in parts or [])
        for parts in (example.boxes, example.wrong_boxes, example.spans)
    )


def _answer_classes(old, new) -> set[str]:
    """The classes of the boxes and spans that differ between two drawings of one example."""
    found: set[str] = set()
    for one, other in ((old, new), (new, old)):
        for kind in ("boxes", "wrong_boxes"):
            mine, theirs = getattr(one, kind) or [], getattr(other, kind) or []
            found |= {b.class_id for b in mine if b not in theirs}
        found |= {s.label for s in one.spans if s not in other.spans}
    return found


def _example_key(example) -> str:
    return example.image if example.image is not None else example.text


def _list_change(name: str, old: list, new: list) -> dict[str, Any] | None:
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    if not added and not removed:
        return None
    return {"field": name, "added": added, "removed": removed}


def diff_class(old: LabelClass, new: LabelClass) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for name in ("name", "definition", "min_box_px"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append({"field": name, "from": before, "to": after})
    for name in LIST_FIELDS:
        change = _list_change(name, getattr(old, name), getattr(new, name))
        if change:
            changes.append(change)
    old_attrs = {a.id: a for a in old.attributes}
    new_attrs = {a.id: a for a in new.attributes}
    attr_added = sorted(set(new_attrs) - set(old_attrs))
    attr_removed = sorted(set(old_attrs) - set(new_attrs))
    attr_changed = {
        aid: {
            key: {"from": value, "to": new_attrs[aid].model_dump()[key]}
            for key, value in old_attrs[aid].model_dump().items()
            if value != new_attrs[aid].model_dump()[key]
        }
        for aid in sorted(set(old_attrs) & set(new_attrs))
        if old_attrs[aid] != new_attrs[aid]
    }
    if attr_added or attr_removed or attr_changed:
        required_added = [a for a in attr_added if new_attrs[a].required] + [
            a for a, c in attr_changed.items() if c.get("required", {}).get("to") is True
        ]
        changes.append(
            {
                "field": "attributes",
                "added": attr_added,
                "removed": attr_removed,
                "changed": attr_changed,
                "required_added": required_added,
            }
        )
    for kind in ("positive", "counter", "borderline"):
        before = {_example_key(e): e for e in getattr(old.examples, kind)}
        after = {_example_key(e): e for e in getattr(new.examples, kind)}
        added = [k for k in after if k not in before]
        removed = [k for k in before if k not in after]
        edited = [k for k in after if k in before and after[k] != before[k]]
        if added or removed or edited:
            change = {
                "field": f"examples.{kind}",
                "added": added,
                "removed": removed,
                "changed": edited,
            }
            redrawn = [k for k in edited if _answer(after[k]) != _answer(before[k])]
            if kind == "positive" and redrawn:
                change["answer_changed"] = redrawn
            changes.append(change)
    return changes


def _renames(old: Spec, new: Spec, removed: list[str], added: list[str]) -> list[dict[str, str]]:
    """A removed and an added class are a rename when the new one says so or keeps the definition."""
    pairs = []
    old_by_id = {c.id: c for c in old.classes}
    for new_id in list(added):
        cls = new.get_class(new_id)
        source = cls.renamed_from if cls.renamed_from in removed else None
        if source is None:
            source = next((r for r in removed if old_by_id[r].definition == cls.definition), None)
        if source is not None:
            pairs.append({"from": source, "to": new_id})
            removed.remove(source)
            added.remove(new_id)
    return pairs


def diff_specs(
    old: Spec, new: Spec, declared_affects: list[str] | None = None, relabel: str = "none"
) -> SpecDiff:
    old_ids, new_ids = old.class_ids, new.class_ids
    removed = [c for c in old_ids if c not in new_ids]
    added = [c for c in new_ids if c not in old_ids]
    renamed = _renames(old, new, removed, added)
    result = SpecDiff(
        from_version=old.version,
        to_version=new.version,
        added=added,
        removed=removed,
        renamed=renamed,
        task_changed=old.task != new.task,
        declared_affects=sorted(set(declared_affects or [])),
        relabel=relabel,
    )
    pairs = [(c, c) for c in old_ids if c in new_ids] + [(r["from"], r["to"]) for r in renamed]
    for old_id, new_id in pairs:
        changes = diff_class(old.get_class(old_id), new.get_class(new_id))
        if changes:
            result.changed[new_id] = changes
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    result.rules["added"] = [r for r in new_rules if r not in old_rules]
    result.rules["removed"] = [r for r in old_rules if r not in new_rules]
    for rule_id in result.rules["added"]:
        _add_effects(result, rule_effects(old, new, None, new_rules[rule_id]))
    for rule_id in result.rules["removed"]:
        _add_effects(result, rule_effects(old, new, old_rules[rule_id], None))
    result.global_rules = [
        rule_id
        for rule_id in dict.fromkeys([*old_rules, *new_rules])
        if old_rules.get(rule_id) != new_rules.get(rule_id)
        and all(_is_global(r) for r in (old_rules.get(rule_id), new_rules.get(rule_id)) if r)
    ]
    for rule_id in (r for r in new_rules if r in old_rules):
        before, after = _rule_fields(old_rules[rule_id]), _rule_fields(new_rules[rule_id])
        fields = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
        if fields:
            whole, scoped = rule_effects(old, new, old_rules[rule_id], new_rules[rule_id])
            touched = whole | {s.class_id for s in scoped}
            result.rules["changed"][rule_id] = {"fields": fields, "classes": sorted(touched)}
            _add_effects(result, (whole, scoped))
    for old_id, new_id in pairs:
        _add_effects(result, _borderline_effects(old, new, old_id, new_id))
        _add_effects(result, (_redrawn_classes(old, new, old_id, new_id), []))
    result.decision_tree_changed = old.decision_tree != new.decision_tree
    return result


def _add_effects(result: SpecDiff, effects: tuple[set[str], list[Scope]]) -> None:
    whole, scoped = effects
    result.rule_classes |= whole
    result.scoped += [s for s in scoped if s not in result.scoped]


def rule_effects(
    old: Spec, new: Spec, before: Rule | None, after: Rule | None
) -> tuple[set[str], list[Scope]]:
    """(whole classes, scopes) a rule added (``before`` None), removed (``after`` None) or
    edited can alter: each side's classes (``applies_to``, or every class when it has a
    `where`), within its `where` when it has one. A rule with neither is global and left to the
    author's declared ``affects`` (it would make every label suspect).

    A `where` given on the newer side only describes the rule as it always was, so it scopes the
    older side too, and a change that only adds one alters nothing; a `where` removed widens
    the rule to its whole classes."""
    if (
        before is not None
        and after is not None
        and before.where is None
        and after.where is not None
        and before == after.model_copy(update={"where": None})
    ):
        return set(), []
    every = list(dict.fromkeys([*old.class_ids, *new.class_ids]))
    whole: set[str] = set()
    scoped: list[Scope] = []
    for rule in (before, after):
        if rule is None:
            continue
        where = rule.where
        if where is None and rule is before and after is not None:
            where = after.where
        if not (rule.applies_to or where):
            continue  # a global rule
        classes = rule.applies_to or every
        if where is None:
            whole.update(classes)
        else:
            scoped += [s for c in classes if (s := Scope(c, rule.id, where)) not in scoped]
    return whole, scoped


def _is_global(rule: Rule) -> bool:
    return not rule.applies_to and rule.where is None


def _rule_fields(rule: Rule) -> dict[str, Any]:
    fields = rule.model_dump()
    fields["where"] = rule.where.model_dump(exclude_defaults=True) if rule.where else None
    return fields


def _borderline_effects(
    old: Spec, new: Spec, old_id: str, new_id: str
) -> tuple[set[str], list[Scope]]:
    """A borderline example added, removed or edited alters its class; within the `where` of
    the rule it cites when that rule has one (it illustrates that rule)."""
    before = {_example_key(e): e for e in old.get_class(old_id).examples.borderline}
    after = {_example_key(e): e for e in new.get_class(new_id).examples.borderline}
    whole: set[str] = set()
    scoped: list[Scope] = []
    changed = [(before.get(k), after.get(k)) for k in dict.fromkeys([*before, *after])]
    for old_example, new_example in changed:
        if old_example == new_example:
            continue
        for spec, example in ((old, old_example), (new, new_example)):
            if example is None:
                continue
            rule = _cited(spec, example)
            if rule is None or rule.where is None:
                whole.add(new_id)
            elif (scope := Scope(new_id, rule.id, rule.where)) not in scoped:
                scoped.append(scope)
    return whole, scoped


def _redrawn_classes(old: Spec, new: Spec, old_id: str, new_id: str) -> set[str]:
    """The classes of the boxes and spans a positive example of ``new_id`` redrew (besides the
    class itself, which ``detected_whole`` counts): the example shows how to label them too."""
    before = {_example_key(e): e for e in old.get_class(old_id).examples.positive}
    after = {_example_key(e): e for e in new.get_class(new_id).examples.positive}
    found: set[str] = set()
    for key in before.keys() & after.keys():
        if _answer(before[key]) != _answer(after[key]):
            found |= _answer_classes(before[key], after[key])
    return {c for c in found if new.get_class(c) is not None}


def _cited(spec: Spec, example: BorderlineExample):
    return spec.get_rule(example.rule) if example.rule else None


def strongest_relabel(policies: list[str]) -> str:
    return max(policies, key=RELABEL_STRENGTH.__getitem__, default="none")
