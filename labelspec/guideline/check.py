"""``labelspec check``: validate every guideline and report all problems at once."""

from __future__ import annotations

import copy
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from labelspec import names, yamlio
from labelspec.errors import LabelspecError, Problem, SpecError
from labelspec.formats.text import decode_utf8, read_utf8
from labelspec.guideline.releases import _parse_spec, diff, digest_at, releases, working_digest
from labelspec.guideline.scope import BORDER_TOLERANCE_PX
from labelspec.guideline.spec import Example, Loc, Spec, cross_check
from labelspec.repo import Repo, find_root
from labelspec.site.safe import remote_picture_message, remote_pictures
from labelspec.store.datasets import declared

MIN_EXAMPLE_PX = 32
LARGE_FILE_BYTES = 1024 * 1024


@dataclass
class GuidelineReport:
    name: str
    spec_file: str
    spec: Spec | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class CheckReport:
    guidelines: list[GuidelineReport]

    @property
    def errors(self) -> list[Problem]:
        return [p for g in self.guidelines for p in g.errors]

    @property
    def warnings(self) -> list[Problem]:
        return [p for g in self.guidelines for p in g.warnings]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "guidelines": [g.name for g in self.guidelines],
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }


def key_path(loc: Loc) -> str:
    """``('classes', 2, 'examples')`` -> ``classes[2].examples``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _models_in(annotation: Any) -> list[type]:
    """The spec models an annotation holds, through Optional, list and dict."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys valid in the mapping at ``loc`` (the mapping holding the unknown key), found by
    following the spec's models: a suggestion from another model would mislead."""
    return sorted(
        {info.alias or name for m in _models_at(loc) for name, info in m.model_fields.items()}
    )


def _models_at(loc: tuple[Any, ...]) -> list[type]:
    """The spec models the mapping at ``loc`` may be."""
    models: list[type] = [Spec]
    for part in loc:
        if isinstance(part, int):
            continue  # a list item: the same models
        inner = [
            found
            for model in models
            for name, info in model.model_fields.items()
            if part in (name, info.alias)
            for found in _models_in(info.annotation)
        ]
        if not inner:  # a dict key (or a union member's tag): its values' models stay
            continue
        models = inner
    return models


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        valid = [k for k in _keys_at(tuple(error["loc"][:-1])) if k != key]
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (remove it)"
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return "required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    if (
        kind not in ("value_error",)
        and "input" in error
        and not isinstance(error["input"], (dict, list))
    ):
        message += f" (got {error['input']!r})"
    return message


@dataclass
class SpecResult:
    """A validated spec file: the spec (None if unusable), problems, raw YAML for line numbers."""

    spec: Spec | None
    errors: list[Problem]
    warnings: list[Problem]
    lines: yamlio.Lines = field(default_factory=yamlio.Lines)
    salvaged: frozenset[str] = frozenset()

    def keep(self, problems: list[Problem]) -> list[Problem]:
        """Drop findings inside entries cut out by ``_salvage``: they would be false alarms."""
        return [p for p in problems if not any(_under(p.path, cut) for cut in self.salvaged)]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def load_spec(path: Path, display: str | None = None) -> SpecResult:
    """Parse and validate one spec file."""
    display = display or str(path)
    text = None  # stays None when the file is no UTF-8 text
    try:
        text = read_utf8(path)
        plain = yamlio.fast_load(text, str(path), strict=True)
    except FileNotFoundError:
        return SpecResult(None, [Problem(message="file not found", file=display)], [])
    except SpecError as exc:
        duplicates = yamlio.duplicate_keys(text) if text is not None else []
        if duplicates:
            return SpecResult(
                None,
                [
                    Problem(
                        message=f'invalid YAML: found duplicate key "{key}" (keep one of the '
                        "two: readers would use only one value)",
                        file=display,
                        line=line,
                        col=col,
                    )
                    for line, col, key in duplicates
                ],
                [],
            )
        message = str(exc).removeprefix(str(path)).lstrip(": ")
        line = col = None
        if message[:1].isdigit():
            line_text, _, message = message.partition(": ")
            line_part, _, col_part = line_text.partition(":")
            line, col = int(line_part), int(col_part) if col_part.isdigit() else None
        return SpecResult(None, [Problem(message=message, file=display, line=line, col=col)], [])
    return _validate(plain, yamlio.Lines(text, str(path)), display)


def validate_data(raw: Any, display: str) -> SpecResult:
    """Validate round-trip YAML data (line numbers come from it)."""
    return _validate(yamlio.to_plain(raw), yamlio.Lines(data=raw), display)


def _validate(plain: Any, lines: yamlio.Lines, display: str) -> SpecResult:
    def problem(loc: Loc, message: str, severity: str = "error") -> Problem:
        line, col = lines.locate(loc)
        return Problem(
            message=message, file=display, line=line, col=col, path=key_path(loc), severity=severity
        )

    if not isinstance(plain, dict):
        return SpecResult(
            None,
            [Problem(message="a spec must be a YAML mapping", file=display, line=1)],
            [],
            lines,
        )
    controls = [problem(loc, message) for loc, message in control_characters(plain)]
    try:
        spec = Spec.model_validate(plain)
        shape_errors: list[Problem] = []
        cut: frozenset[str] = frozenset()
    except ValidationError as exc:
        spec, cut, revealed = _salvage(plain, exc.errors())
        shape_errors = [
            problem(tuple(e["loc"]), _pydantic_message(e)) for e in [*exc.errors(), *revealed]
        ]
        if spec is None:
            return SpecResult(None, controls + shape_errors, [], lines)
    errors, warnings = cross_check(spec)
    result = SpecResult(spec, controls + shape_errors, [], lines, cut)
    result.errors += result.keep([problem(loc, msg) for loc, msg in errors])
    result.warnings = result.keep([problem(loc, msg, "warning") for loc, msg in warnings])
    return result


def control_characters(value: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """Texts holding a control character other than a line break or a tab: `release` refuses
    them in its commit message, and they garble the terminals that show the log."""
    if isinstance(value, str):
        shown = names.note_control(value)
        return (
            [
                (
                    loc,
                    f"holds a control character ({shown}): only line breaks and tabs may shape a text",
                )
            ]
            if shown
            else []
        )
    if isinstance(value, dict):
        return [
            found
            for key, child in value.items()
            for found in control_characters(child, (*loc, key))
        ]
    if isinstance(value, list):
        return [
            found for i, child in enumerate(value) for found in control_characters(child, (*loc, i))
        ]
    return []


_STUBS = {
    "classes": lambda item: {"id": item["id"], "name": str(item["id"]), "definition": "-"},
    "rules": lambda item: {"id": item["id"], "text": "-"},
}
_SCALAR_FALLBACKS = {
    "guideline": "invalid",
    "title": "-",
    "version": "0.0.0",
    "task": "classification",
}
# A required text key left out (or cut for a wrong value): filled in so that the rest of its
# class, rule or example is still checked.
_TEXT_FALLBACKS = ("definition", "name", "text", "why", "summary", "question")
_SALVAGE_PASSES = 12


def _salvage(
    plain: dict[str, Any], errors: list[dict[str, Any]]
) -> tuple[Spec | None, frozenset[str], list[dict[str, Any]]]:
    """A valid spec made by cutting out what failed, so that every other problem is still found.

    Each pass cuts the smallest part each error is about: a key of a mapping (a required text is
    filled with "-"), else the list entry holding it; top-level classes and rules keep a stub
    with their id, so that references to them do not turn into false errors. A value cut can
    reveal the errors it hid (a model checks itself only once its keys are valid), so this
    repeats until the spec validates.
    Returns the spec (or None), the key paths whose findings are no longer reliable, and the
    errors the later passes revealed.
    """
    data = copy.deepcopy(plain)
    cut: set[str] = set()
    revealed: list[dict[str, Any]] = []
    for _ in range(_SALVAGE_PASSES):
        if not _cut(data, errors, cut):
            return None, frozenset(), revealed
        try:
            return Spec.model_validate(data), frozenset(cut), revealed
        except ValidationError as exc:
            errors = exc.errors()
        revealed += [e for e in errors if not _consequence(data, tuple(e["loc"]), cut)]
    return None, frozenset(), revealed


def _consequence(data: dict[str, Any], loc: tuple[Any, ...], cut: set[str]) -> bool:
    """An error a cut made: inside a cut part, or about a mapping the cuts emptied (a `where`)."""
    path = key_path(loc)
    return any(_under(path, c) for c in cut) or _node(data, loc) == {}


def _culprit(data: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    """The key of the mapping at ``loc`` without which it validates: what a check of the
    mapping as a whole (a model validator) refused, so that only that key is cut."""
    node = _node(data, loc)
    if not isinstance(node, dict):
        return None
    for key in node:
        rest = {k: v for k, v in node.items() if k != key}
        for model in _models_at(loc):
            try:
                model.model_validate(rest)
            except ValidationError:
                continue
            return key
    return None


def _cut(data: dict[str, Any], errors: list[dict[str, Any]], cut: set[str]) -> bool:
    """Cut what ``errors`` are about out of ``data`` (see ``_salvage``); False: nothing usable."""
    removals: list[tuple[Any, ...]] = []
    for error in errors:
        loc = tuple(error["loc"])
        if not loc or (loc[0] == "classes" and len(loc) == 1):
            return False
        if loc[0] in ("version", "changelog"):
            cut.add("changelog")
        if len(loc) == 1:
            if loc[0] in _SCALAR_FALLBACKS:
                data[loc[0]] = _SCALAR_FALLBACKS[loc[0]]
            else:
                data.pop(loc[0], None)
            continue
        culprit = _culprit(data, loc) if error["type"] == "value_error" else None
        if culprit is not None:
            _node(data, loc).pop(culprit)
            cut.add(key_path((*loc, culprit)))
            continue
        parent = _node(data, loc[:-1])
        key = loc[-1]
        if isinstance(parent, dict) and isinstance(key, str):
            cut.add(key_path(loc))
            if error["type"] == "missing" or key in parent:
                if key in _TEXT_FALLBACKS:
                    parent[key] = "-"
                    continue
                if error["type"] != "missing":
                    parent.pop(key)
                    continue
        deepest = max((i for i, part in enumerate(loc) if isinstance(part, int)), default=None)
        if deepest is None:
            data.pop(loc[0], None)
        else:
            removals.append(loc[: deepest + 1])
    for loc in sorted(set(removals), key=lambda cut: (len(cut), cut), reverse=True):
        parent = _node(data, loc[:-1])
        if not isinstance(parent, list) or not isinstance(loc[-1], int) or loc[-1] >= len(parent):
            continue
        item = parent[loc[-1]]
        cut.add(key_path(loc))
        stub = _STUBS.get(loc[0]) if len(loc) == 2 else None
        if stub and isinstance(item, dict) and isinstance(item.get("id"), str):
            parent[loc[-1]] = stub(item)
        else:
            del parent[loc[-1]]
    return True


def _node(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def tracked_by_dvc(path: Path, root: Path) -> bool:
    """Whether ``path`` or one of its parent folders (inside ``root``) has a ``.dvc`` file."""
    for candidate in (path, *path.parents):
        if candidate == root or root not in candidate.parents:
            break
        if candidate.with_name(candidate.name + ".dvc").is_file():
            return True
    return False


def check_files(
    spec: Spec,
    lines: yamlio.Lines,
    guideline_dir: Path,
    root: Path,
    display: str,
    inspect_images: bool = True,
) -> tuple[list, list]:
    """Example files exist and stay inside the workspace; with ``inspect_images`` also that they
    are readable images, big enough, and tracked by DVC when large (warnings)."""

    errors: list[Problem] = []
    warnings: list[Problem] = []

    def problem(loc: Loc, message: str, severity: str = "error") -> Problem:
        line, col = lines.locate(loc)
        return Problem(
            message=message, file=display, line=line, col=col, path=key_path(loc), severity=severity
        )

    for c_i, cls in enumerate(spec.classes):
        if not cls.examples.counter and not cls.examples.borderline:
            warnings.append(
                problem(
                    ("classes", c_i, "examples"),
                    f"class {cls.id!r} has no counter or borderline example",
                    "warning",
                )
            )
        for kind, i, ex in cls.examples.all():
            if ex.image is None:
                continue
            loc: Loc = ("classes", c_i, "examples", kind, i, "image")
            path = (guideline_dir / ex.image).resolve()
            if root not in path.parents:
                errors.append(
                    problem(
                        loc, f"{ex.image} points outside the workspace (keep examples inside it)"
                    )
                )
                continue
            if not path.is_file():
                hint = (
                    "it is tracked by DVC: run `labelspec pull`"
                    if tracked_by_dvc(path, root)
                    else "add it or remove the entry"
                )
                errors.append(problem(loc, f"file not found: {ex.image} ({hint})"))
                continue
            drawn = ex.boxes is not None or bool(ex.wrong_boxes)
            if not inspect_images and not drawn:
                continue
            from PIL import Image, UnidentifiedImageError  # lazy: verify checks without images

            try:
                with Image.open(path) as img:  # the header only: the size is all a drawing needs
                    width, height = img.size
            except (UnidentifiedImageError, OSError):
                errors.append(problem(loc, f"{ex.image} is not an image Pillow can read"))
                continue
            errors += [
                problem((*loc[:-1], *where), message)
                for where, message in drawn_box_problems(spec, ex, width, height)
            ]
            if not inspect_images:
                continue
            if min(width, height) < MIN_EXAMPLE_PX:
                warnings.append(
                    problem(
                        loc,
                        f"{ex.image} is {width}x{height} px, smaller than {MIN_EXAMPLE_PX} px: "
                        "labelers cannot see the detail",
                        "warning",
                    )
                )
            if path.stat().st_size > LARGE_FILE_BYTES and not tracked_by_dvc(path, root):
                warnings.append(
                    problem(
                        loc,
                        f"{ex.image} is over 1 MiB and not tracked by DVC "
                        "(run `dvc add` on its folder)",
                        "warning",
                    )
                )
    return errors, warnings


def drawn_box_problems(
    spec: Spec, example: Example, width: int, height: int
) -> list[tuple[Loc, str]]:
    """Boxes drawn on an example against its picture: inside it (with the half pixel
    ``labels import`` allows) and, for the answer's boxes, at least the class's minimum size.
    A "not this" box may be too small: that can be the mistake it shows."""
    found: list[tuple[Loc, str]] = []
    tolerance = BORDER_TOLERANCE_PX
    for kind, boxes in (("boxes", example.boxes or []), ("wrong_boxes", example.wrong_boxes)):
        for b_i, box in enumerate(boxes):
            loc: Loc = (kind, b_i)
            if (
                box.x < -tolerance
                or box.y < -tolerance
                or box.x + box.w > width + tolerance
                or box.y + box.h > height + tolerance
            ):
                found.append(
                    (
                        loc,
                        f"box [{box.x:g}, {box.y:g}, {box.w:g}, {box.h:g}] (x, y, w, h) is outside "
                        f"the {width}x{height} image {example.image}",
                    )
                )
            minimum = spec.min_box_px(box.class_id)
            if kind == "boxes" and minimum and min(box.w, box.h) < minimum:
                found.append(
                    (
                        loc,
                        f"box is {box.w:g}x{box.h:g} px, smaller than the {minimum} px minimum "
                        f"for {box.class_id} (a labeler could not submit it)",
                    )
                )
    return found


def check_guideline(ws: Repo, name: str, inspect_images: bool = True) -> GuidelineReport:
    path = ws.spec_path(name)
    display = ws.relpath(path)
    result = load_spec(path, display)
    if result.spec is not None:
        if result.spec.guideline != name and "guideline" not in {p.path for p in result.errors}:
            line, col = result.lines.locate(("guideline",))
            message = f"guideline id {result.spec.guideline!r} must match its folder name {name!r}"
            result.errors.append(
                Problem(message=message, file=display, line=line, col=col, path="guideline")
            )
        file_errors, file_warnings = check_files(
            result.spec, result.lines, path.parent, ws.root, display, inspect_images
        )
        result.errors += result.keep(file_errors)
        result.warnings += result.keep(file_warnings)
        result.warnings += [
            Problem(
                message=m, file=display, line=line, col=col, path=key_path(loc), severity="warning"
            )
            for loc, m in declared_beyond_scope(ws, name, result.spec)
            for line, col in [result.lines.locate(loc)]
        ]
        column_errors = unknown_item_columns(ws, name, result.spec)
        result.errors += result.keep(
            [
                Problem(message=m, file=display, line=line, col=col, path=key_path(loc))
                for loc, m in column_errors
                for line, col in [result.lines.locate(loc)]
            ]
        )
        drifted = committed_change(ws, name)
        if drifted is not None:
            result.errors.append(drifted)
    result.errors += guide_problems(ws, name)
    return GuidelineReport(
        name=name,
        spec_file=display,
        spec=result.spec,
        errors=sorted(result.errors, key=_by_line),
        warnings=sorted(result.warnings, key=_by_line),
    )


def guide_problems(ws: Repo, name: str) -> list[Problem]:
    """What keeps a page of ``docs/`` off the site: not UTF-8 (saved by Notepad as UTF-16,
    say; one problem per page, at its first bad byte), or a picture from another host (one
    per picture, the site's own message), so ``check`` fails where ``site build`` would."""
    folder = ws.guideline_dir(name) / "docs"
    found = []
    for path in sorted(folder.rglob("*.md")) if folder.is_dir() else []:
        rel = ws.relpath(path)
        try:
            text = decode_utf8(path.read_bytes(), rel)
        except SpecError as exc:
            where, _, message = str(exc).partition(": ")
            line = int(where.rpartition(":")[2])
            found.append(Problem(message=message, file=rel, line=line))
            continue
        found += [
            Problem(message=remote_picture_message(url), file=rel, line=line)
            for line, url in remote_pictures(text)
        ]
    return found


def declared_beyond_scope(ws: Repo, name: str, spec: Spec) -> list[tuple[Loc, str]]:
    """The pending entry's ``affects`` naming a class that the change alters only within a
    rule's ``where``: declared, every label of it becomes suspect, which is rarely meant."""

    pending = spec.pending
    if pending is None or not pending.affects:
        return []
    released = releases(ws, name)
    if not released:
        return []
    try:
        change = diff(ws, name, released[-1].version, None)
    except LabelspecError:
        return []  # the working tree does not parse as a release would: reported elsewhere
    whole = change.detected_whole()
    scoped: dict[str, list[str]] = {}
    for scope in change.scoped:
        scoped.setdefault(scope.class_id, []).append(scope.rule)
    index = spec.changelog.index(pending)
    return [
        (
            ("changelog", index, "affects", j),
            f"{class_id!r} changes here only where rule {', '.join(sorted(set(scoped[class_id])))} "
            f"applies (its `where`): declared, every {class_id} label becomes suspect; leave it "
            "out to judge only the labels the rule selects",
        )
        for j, class_id in enumerate(pending.affects)
        if class_id in scoped and class_id not in whole
    ]


def unknown_item_columns(ws: Repo, name: str, spec: Spec) -> list[tuple[Loc, str]]:
    """Item columns a rule's ``where.items`` names that no dataset labeled under the guideline
    has. Knowable only for datasets whose item manifests are here; others are not judged."""
    wanted = [
        (r_i, column)
        for r_i, rule in enumerate(spec.rules)
        if rule.where is not None
        for column in rule.where.items
    ]
    if not wanted:
        return []
    columns = item_columns(ws, name)
    if not columns:
        return []
    known = sorted(set().union(*columns.values()))
    found = []
    for r_i, column in wanted:
        if all(column not in have for have in columns.values()):
            close = difflib.get_close_matches(column, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            found.append(
                (
                    ("rules", r_i, "where", "items", column),
                    f"no item column {column!r} in {', '.join(sorted(columns))} "
                    f"({hint}columns: {', '.join(known)})",
                )
            )
    return found


def item_columns(ws: Repo, name: str) -> dict[str, set[str]]:
    """dataset -> its item columns, for every dataset labeled under guideline ``name`` whose
    item manifests are in the workspace."""

    import pyarrow.parquet as pq  # lazy: pyarrow (0.25 s with duckdb), for item-column scopes

    from labelspec.store.items import item_files  # lazy: see above

    out: dict[str, set[str]] = {}
    for dataset, config in declared(ws).items():
        if config.guideline != name:
            continue
        try:
            paths = item_files(ws, dataset)
        except LabelspecError:
            continue  # manifests not pulled: nothing to judge against
        if paths:  # the schemas only: a manifest's rows are not needed
            out[dataset] = set().union(*(pq.read_schema(path).names for path in paths))
    return out


def unreleased_change(ws: Repo, name: str, spec, display: str, rev: str | None = None):
    """A Problem when the guideline's content differs from its release of ``spec.version``
    while the changelog has no pending entry: labels made under that version would carry a
    digest that no longer describes the instructions. ``rev``: judge a commit, not the tree."""

    if spec.pending is not None:
        return None
    release = next((r for r in releases(ws, name) if r.version == spec.version), None)
    if release is None or release.digest is None:
        return None
    now = digest_at(ws, name, rev) if rev else working_digest(ws, name)
    if now == release.digest:
        return None
    return Problem(
        message=(
            f"the content differs from release {spec.version} (tag {release.tag}) but the changelog "
            "has no `version: unreleased` entry: add one (summary, affects, relabel) and release, "
            "or restore the released content"
        ),
        file=display,
        path="changelog",
    )


def committed_change(ws: Repo, name: str):
    """``unreleased_change`` of what HEAD holds: an edit still in the working tree is work in
    progress, a commit without a pending entry is the mistake."""

    path = ws.spec_path(name)
    git = ws.git
    try:
        text = git.read_file("HEAD", path).decode("utf-8")
    except LabelspecError:
        return None  # not committed yet
    try:
        spec = _parse_spec(text, ws.relpath(path))
    except LabelspecError:
        return None  # a spec that does not parse is reported as such
    return unreleased_change(ws, name, spec, ws.relpath(path), rev="HEAD")


def _by_line(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.col or 0)


def check(path: Path | str = ".") -> CheckReport:
    """Check the workspace containing ``path``, or only the guideline ``path`` points into."""
    target = Path(path).resolve()
    ws = Repo(find_root(target))
    chosen = ws.guideline_names()
    if (
        target != ws.root
        and ws.guidelines_dir in (target, *target.parents)
        and target != ws.guidelines_dir
    ):
        rel = target.relative_to(ws.guidelines_dir)
        chosen = [rel.parts[0]]
    return CheckReport(guidelines=[check_guideline(ws, name) for name in chosen])
