"""Which labels a guideline change makes suspect: the lineage rules as data, then as SQL.

``suspicions`` reads the releases: for each version labels were made under, which classes
changed since (wholly, or only within a rule's ``where``: lineage rule 7) and which are
confusable with those (within the same scope). ``register`` turns that into two small tables
and one SQL expression over a label row ``l``, so ``trace impact``, ``relabel plan`` and
resolution flag suspects inside their own scans: a ``where`` is a predicate over the label's box,
span and attributes and its item's columns (``guideline.scope``), never a loop over labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelspec.guideline.diff import Scope, merge_scopes
from labelspec.guideline.releases import diff, spec_at
from labelspec.guideline.scope import needs_items, where_sql
from labelspec.labelers.coverage import Coverage
from labelspec.repo import Repo

AFFECTED, CONFUSABLE = "affected", "confusable"
# version -> class -> {"affected" | "confusable": the scopes (None: every label of the class)}
Suspicions = dict[str, dict[str, dict[str, list[Scope] | None]]]


def suspicions(ws: Repo, guideline: str, versions: list[str], to: str | None) -> Suspicions:
    """For labels made under each of ``versions``, judged against release ``to`` (None: the
    working tree, after the newest release): the classes whose labels are suspect, and how."""

    target = spec_at(ws, guideline, to)
    # every release step between the label's version and the target counts (lineage rule 2):
    # a release that reverts an earlier change is a change; a preview adds the working tree's
    steps = Coverage(ws, guideline, records=[])
    newest = steps.versions[-1] if steps.versions else None
    pending = diff(ws, guideline, newest, None).scopes() if to is None and newest else {}
    out: Suspicions = {}
    for version in versions:
        changed = merge_scopes(steps.scopes(version, to or newest or version), pending)
        if not changed:
            continue
        older = spec_at(ws, guideline, version)
        found = {class_id: {AFFECTED: scopes} for class_id, scopes in changed.items()}
        # confusable_with is symmetric, read in either version (rule 3), and a confusable class
        # is suspect within the scope of the change it is confusable with (rule 7)
        confusable: dict[str, list[Scope] | None] = {}
        for spec in (target, older):
            for cls in spec.classes:
                for other in cls.confusable_with:
                    for changed_id, partner in ((cls.id, other), (other, cls.id)):
                        if changed_id in changed:
                            confusable = merge_scopes(confusable, {partner: changed[changed_id]})
        for class_id, scopes in confusable.items():
            reach = found.setdefault(class_id, {})
            if AFFECTED in reach and reach[AFFECTED] is None:
                continue  # every label of it is affected already
            reach[CONFUSABLE] = scopes
        out[version] = found
    return out


def class_kinds(found: Suspicions) -> dict[str, dict[str, str]]:
    """version -> {class: affected | confusable}: how each class is suspect, at best."""
    return {
        version: {c: AFFECTED if AFFECTED in reach else CONFUSABLE for c, reach in classes.items()}
        for version, classes in found.items()
    }


def scoped_only(found: Suspicions) -> dict[str, dict[str, list[dict]]]:
    """version -> class -> the scopes, for classes suspect only within rule scopes (JSON)."""
    out: dict[str, dict[str, list[dict]]] = {}
    for version, classes in found.items():
        for class_id, reach in classes.items():
            if any(scopes is None for scopes in reach.values()):
                continue
            shown = [s.to_json() for scopes in reach.values() for s in scopes]
            out.setdefault(version, {})[class_id] = list({str(s): s for s in shown}.values())
    return out


@dataclass
class SuspectSql:
    """SQL over a labels alias ``l``: ``joins`` to add to its FROM clause (items included when
    a scope reads them), ``kind`` (affected | confusable | NULL) and ``scope`` (the rules whose
    ``where`` made it suspect; NULL when its whole class is)."""

    joins: str
    kind: str
    scope: str


def register(
    con, found: Suspicions, item_columns: set[str] | None, prefix: str = "s"
) -> SuspectSql:
    """Register ``found`` on ``con`` as ``<prefix>_reach`` (one row per version and class) and
    ``<prefix>_empty`` (per version: what makes an explicit empty answer suspect, rule 6)."""
    selectors: list[Scope] = []  # one predicate per distinct (rule, where); ids from 1

    def ids(scopes: list[Scope] | None) -> list[int] | None:
        if scopes is None:
            return None
        out = []
        for scope in scopes:
            key = next(
                (
                    n
                    for n, s in enumerate(selectors, 1)
                    if (s.rule, s.where) == (scope.rule, scope.where)
                ),
                None,
            )
            if key is None:
                selectors.append(scope)
                key = len(selectors)
            out.append(key)
        return sorted(set(out))

    reach_rows, empty_rows = [], []
    for version, classes in found.items():
        whole_change, empty_ids = False, []
        for class_id, reach in classes.items():
            affected = ids(reach.get(AFFECTED, []))
            confusable = ids(reach.get(CONFUSABLE, []))
            reach_rows.append(
                {
                    "version": version,
                    "class": class_id,
                    "affected_all": AFFECTED in reach and affected is None,
                    "affected": affected or [],
                    "confusable_all": CONFUSABLE in reach and confusable is None,
                    "confusable": confusable or [],
                }
            )
            if AFFECTED in reach:
                whole_change |= affected is None
                empty_ids += affected or []
        if whole_change or empty_ids:
            empty_rows.append(
                {"version": version, "whole": whole_change, "sels": sorted(set(empty_ids))}
            )
    import pyarrow as pa  # lazy: trace item imports this module and never registers a scope

    listing = pa.list_(pa.int32())
    con.register(
        f"{prefix}_reach",
        pa.Table.from_pylist(
            reach_rows,
            schema=pa.schema(
                [
                    ("version", pa.string()),
                    ("class", pa.string()),
                    ("affected_all", pa.bool_()),
                    ("affected", listing),
                    ("confusable_all", pa.bool_()),
                    ("confusable", listing),
                ]
            ),
        ),
    )
    con.register(
        f"{prefix}_empty",
        pa.Table.from_pylist(
            empty_rows,
            schema=pa.schema([("version", pa.string()), ("whole", pa.bool_()), ("sels", listing)]),
        ),
    )
    r, e, i = f"{prefix}_r", f"{prefix}_e", f"{prefix}_i"
    joins = (
        f'left join {prefix}_reach {r} on {r}.version = l.guideline_version and {r}."class" = l."class" '
        f'left join {prefix}_empty {e} on l."class" is null and {e}.version = l.guideline_version'
    )
    if any(needs_items(s.where) for s in selectors):
        joins += f" left join items {i} on {i}.item_id = l.item_id"
    # the ids of the selectors that pick the label (computed only for rows a branch reaches)
    matched = (
        "list_filter(["
        + ", ".join(
            f"case when {where_sql(s.where, item_columns, 'l', i)} then {n} end"
            for n, s in enumerate(selectors, 1)
        )
        + "], lambda x: x is not null)"
    )
    names = "[" + ", ".join("'" + s.rule.replace("'", "''") + "'" for s in selectors) + "]"
    # (condition, kind, the selector ids it was picked by: NULL for a whole class), in order
    branches = [
        (f"{r}.affected_all", AFFECTED, None),
        (f"{r}.affected", AFFECTED, f"{r}.affected"),
        (f"{r}.confusable_all", CONFUSABLE, None),
        (f"{r}.confusable", CONFUSABLE, f"{r}.confusable"),
        (f"{e}.whole", AFFECTED, None),
        (f"{e}.sels", AFFECTED, f"{e}.sels"),
    ]
    kind_cases, scope_cases = [], []
    for condition, why, listed in branches:
        if listed is not None:
            if not selectors:
                continue
            condition = f"len({listed}) > 0 and list_has_any({listed}, {matched})"
            picked = f"list_transform(list_intersect({listed}, {matched}), lambda x: {names}[x])"
            scope_cases.append(
                f"when {condition} then array_to_string(list_sort(list_distinct({picked})), ', ')"
            )
        else:
            scope_cases.append(f"when {condition} then NULL")
        kind_cases.append(f"when {condition} then '{why}'")
    kind = f"case {' '.join(kind_cases)} end"
    scope = f"case {' '.join(scope_cases)} end::VARCHAR"
    return SuspectSql(joins, kind, scope)
