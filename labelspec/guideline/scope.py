"""What a rule's ``where`` selects, defined once: as SQL over a label row ``l`` joined to its
item ``i`` (``trace impact``, ``relabel plan``, resolution's suspect flags), and in Python over a
spec's own drawn example boxes (the quiz's ``--changed-since``).

Every condition given must hold; a list of values means any of them.

- ``touches_border``: the box comes within half a pixel of an image edge (the tolerance
  ``labels import`` allows past one), or with ``false`` does not.
- ranges (``area_px``, ``relative_area``, ``aspect_ratio``, ``span_chars``) include both bounds.
- ``attributes``: the label's value is one of those listed; a boolean attribute left out reads as
  false (tools export an unticked box so), any other left out matches no value.
- ``items``: the item's column, as text, is one of those listed; a null value matches none; a
  column the dataset does not have matches every item (``check`` reports it where it can).
- what cannot be judged matches: a geometry condition on an item of unknown size, and every
  label-level condition on an explicit empty answer ("no objects here" asserts that no object is
  there, so any object a changed rule now asks for may be missing): only ``items`` judge those.
  Suspect errs towards a second look.
"""

from __future__ import annotations

from typing import Any

from labelspec.guideline.spec import Scalar, Selector

# Equal to labels.checks.BOX_TOLERANCE_PX (a test pins it): tools round box corners, so half
# a pixel past an edge is still inside, and half a pixel from it is at the border.
BORDER_TOLERANCE_PX = 0.5


def text(value: Scalar | None) -> str | None:
    """A value as the label store holds it in text: booleans as JSON writes them."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- SQL ---------------------------------------------------------------------------------------------
def literal(value: str | float) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(float(value))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _range(expression: str, bounds) -> str:
    parts = []
    if bounds.min is not None:
        parts.append(f"{expression} >= {literal(bounds.min)}")
    if bounds.max is not None:
        parts.append(f"{expression} <= {literal(bounds.max)}")
    return " and ".join(parts)


def touches_border_sql(label: str = "l", item: str = "i") -> str:
    t = literal(BORDER_TOLERANCE_PX)
    box = f"{label}.bbox"
    return (
        f"({box}.x <= {t} or {box}.y <= {t} or {box}.x + {box}.w >= {item}.width - {t} "
        f"or {box}.y + {box}.h >= {item}.height - {t})"
    )


def _label_conditions(where: Selector, label: str, item: str) -> list[str]:
    box = f"{label}.bbox"
    unknown_is_match = []  # geometry and span conditions: NULL (unknown) counts as a match
    if where.touches_border is not None:
        border = touches_border_sql(label, item)
        unknown_is_match.append(border if where.touches_border else f"not {border}")
    if where.area_px is not None:
        unknown_is_match.append(_range(f"({box}.w * {box}.h)", where.area_px))
    if where.relative_area is not None:
        area = f"({box}.w * {box}.h / nullif({item}.width::DOUBLE * {item}.height, 0))"
        unknown_is_match.append(_range(area, where.relative_area))
    if where.aspect_ratio is not None:
        unknown_is_match.append(_range(f"({box}.w / nullif({box}.h, 0))", where.aspect_ratio))
    if where.span_chars is not None:
        length = f'({label}.span."end" - {label}.span.start)'
        unknown_is_match.append(_range(length, where.span_chars))
    out = [f"coalesce({c}, true)" for c in unknown_is_match]
    for key, values in where.attributes.items():
        path = literal(f"$.{_quoted(key)}")
        value = f"json_extract_string({label}.attributes, {path})"
        if all(isinstance(v, bool) for v in values):
            value = f"coalesce({value}, 'false')"  # an unticked box is left out
        listed = ", ".join(literal(text(v)) for v in values)
        out.append(f"coalesce({value} in ({listed}), false)")
    return out


def _item_conditions(where: Selector, item: str, columns: set[str] | None) -> list[str]:
    out = []
    for column, values in where.items.items():
        if columns is not None and column not in columns:
            continue  # the dataset has no such column: every item matches
        listed = ", ".join(literal(text(v)) for v in values)
        out.append(f"coalesce(cast({item}.{_quoted(column)} as VARCHAR) in ({listed}), false)")
    return out


def where_sql(
    where: Selector, item_columns: set[str] | None = None, label: str = "l", item: str = "i"
) -> str:
    """A boolean SQL expression: whether the label ``label`` (joined to its item ``item``)
    is one ``where`` selects. ``item_columns``: the dataset's item columns (None: all exist)."""
    items = " and ".join(_item_conditions(where, item, item_columns)) or "true"
    labels = " and ".join(_label_conditions(where, label, item)) or "true"
    return f'(({items}) and ({label}."class" is null or ({labels})))'


def needs_items(where: Selector) -> bool:
    """Whether the SQL reads the item row (its size or its metadata)."""
    return bool(where.items or where.touches_border is not None or where.relative_area is not None)


# -- Python, over a spec's drawn examples ---------------------------------------------------------------
def _within(value: float, bounds) -> bool:
    return (bounds.min is None or value >= bounds.min) and (
        bounds.max is None or value <= bounds.max
    )


def touches_border(box: Any, width: float, height: float) -> bool:
    t = BORDER_TOLERANCE_PX
    return box.x <= t or box.y <= t or box.x + box.w >= width - t or box.y + box.h >= height - t


def box_matches(where: Selector, box: Any, width: float, height: float) -> bool:
    """Whether a drawn box (``x, y, w, h, attributes``) on a ``width`` x ``height`` picture is
    one ``where`` selects. A picture is no item: ``items`` conditions match it."""
    if (
        where.touches_border is not None
        and touches_border(box, width, height) != where.touches_border
    ):
        return False
    checks = (
        (where.area_px, box.w * box.h),
        (where.relative_area, box.w * box.h / (width * height) if width and height else None),
        (where.aspect_ratio, box.w / box.h if box.h else None),
    )
    for bounds, value in checks:
        if bounds is not None and value is not None and not _within(value, bounds):
            return False
    for key, values in where.attributes.items():
        given = box.attributes.get(key)
        if given is None and all(isinstance(v, bool) for v in values):
            given = False
        if text(given) not in {text(v) for v in values}:
            return False
    return True
