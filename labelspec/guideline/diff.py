"""What changed between two versions of a guideline spec, and how big a release it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelspec.guideline.spec import LabelClass, Spec

# Fields of a class whose change alters what labelers should do with its items.
SEMANTIC_FIELDS = ("definition", "include", "exclude", "min_box_px", "confusable_with")
LIST_FIELDS = ("include", "exclude", "synonyms", "confusable_with")
RELABEL_STRENGTH = {"none": 0, "recommended": 1, "required": 2}
BUMP_RANK = {"patch": 0, "minor": 1, "major": 2}


@dataclass
class SpecDiff:
    """A structured diff; ``to_dict`` gives the JSON contract of ``guideline diff``."""

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
    # applies_to of every added or removed rule: a scoped rule that appears or goes alters
    # its classes as much as one that is edited
    rule_scopes: dict[str, list[str]] = field(default_factory=dict)
    declared_affects: list[str] = field(default_factory=list)
    relabel: str = "none"

    @property
    def detected_affects(self) -> list[str]:
        """Classes whose labels the change can alter, read off the diff itself."""
        found = (
            set(self.removed) | {r["from"] for r in self.renamed} | {r["to"] for r in self.renamed}
        )
        for class_id, changes in self.changed.items():
            if any(_is_semantic(c) for c in changes):
                found.add(class_id)
        for change in self.rules["changed"].values():
            found.update(change["classes"])
        for classes in self.rule_scopes.values():
            found.update(classes)
        return sorted(found)

    @property
    def affects(self) -> list[str]:
        return sorted(set(self.declared_affects) | set(self.detected_affects))

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
            cid for cid, changes in self.changed.items() if any(_is_semantic(c) for c in changes)
        ]
        if semantic:
            return "minor", f"definitions changed for: {', '.join(semantic)}"
        if any(self.rules[k] for k in ("added", "removed", "changed")):
            return "minor", "rules changed"
        if self.decision_tree_changed:
            return "minor", "the decision tree changed"
        return "patch", "only examples, names, synonyms or prose changed"

    def to_dict(self) -> dict[str, Any]:
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
            "relabel": self.relabel,
            "required_bump": self.required_bump()[0],
        }


def _is_semantic(change: dict[str, Any]) -> bool:
    if change["field"] in SEMANTIC_FIELDS or change["field"] == "attributes":
        return True
    return change["field"] in ("examples.counter", "examples.borderline")


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
            changes.append(
                {"field": f"examples.{kind}", "added": added, "removed": removed, "changed": edited}
            )
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
    result.rule_scopes = {
        rule_id: sorted(rules[rule_id].applies_to)
        for rules, ids in ((new_rules, result.rules["added"]), (old_rules, result.rules["removed"]))
        for rule_id in ids
        if rules[rule_id].applies_to
    }
    for rule_id in (r for r in new_rules if r in old_rules):
        before, after = old_rules[rule_id].model_dump(), new_rules[rule_id].model_dump()
        fields = {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}
        if fields:
            # A rule scoped with applies_to alters those classes; a global rule is left to `affects`.
            touched = set(before["applies_to"]) | set(after["applies_to"])
            result.rules["changed"][rule_id] = {"fields": fields, "classes": sorted(touched)}
    result.decision_tree_changed = old.decision_tree != new.decision_tree
    return result


def strongest_relabel(policies: list[str]) -> str:
    return max(policies, key=RELABEL_STRENGTH.__getitem__, default="none")
