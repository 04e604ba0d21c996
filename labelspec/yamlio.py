"""Round-trip YAML: load, edit and write files without losing the author's comments.

A file loaded and dumped unmodified comes back byte-identical when it follows one
indentation style throughout (what ``labelspec init`` writes and most editors keep).
The indentation of each file is measured on load and reused on dump.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from labelspec.errors import SpecError
from labelspec.formats.text import read_utf8
from labelspec.nesting import too_deep_message, value_too_deep

_KEY_LINE = re.compile(r"^( *)(?:- +)?[^\s#-][^:#]*:(?:\s|$)")
_DASH_LINE = re.compile(r"^( *)- ")
_COMMENT = re.compile(r"\s+#.*$|\s+$")


@dataclass(frozen=True)
class Indent:
    mapping: int = 2
    sequence: int = 4
    offset: int = 2


def guess_indent(text: str) -> Indent:
    """Measure the mapping indent and the dash offset of block sequences in ``text``."""
    mapping = offset = None
    prev_key_indent = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        dash = _DASH_LINE.match(line)
        if dash and prev_key_indent is not None and offset is None:
            offset = max(len(dash.group(1)) - prev_key_indent, 0)
        key = _KEY_LINE.match(line)
        if key and not dash and prev_key_indent is not None and mapping is None:
            step = len(key.group(1)) - prev_key_indent
            if step > 0:
                mapping = step
        if key and _COMMENT.sub("", line).endswith(":"):
            prev_key_indent = len(key.group(1)) + (
                len(dash.group(0)) - len(dash.group(1)) if dash else 0
            )
        else:
            prev_key_indent = None
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = mapping if offset is None else offset
    return Indent(mapping=mapping, sequence=offset + 2, offset=offset)


def _represent_none(representer, _data):
    # ruamel writes None as an empty value; `null` is what authors write, so keep that.
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml(indent: Indent) -> YAML:
    yaml = YAML(typ="rt")
    yaml.representer.add_representer(type(None), _represent_none)
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    return yaml


def parse(text: str, source: str = "<string>") -> Any:
    """Parse YAML text into round-trip objects; errors become ``SpecError`` with file:line,
    and so does a document nested deeper than ``nesting.MAX_DEPTH``."""
    try:
        return _bounded(_yaml(Indent()).load(text), source)
    except RecursionError:
        raise SpecError(too_deep_message(source, "YAML")) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise SpecError(f"{source}{line}: invalid YAML: {exc.problem or exc.context}") from exc
    except YAMLError as exc:
        raise SpecError(f"{source}: invalid YAML: {exc}") from exc


@dataclass
class Document:
    """A YAML file held for round-trip editing."""

    path: Path
    data: Any
    indent: Indent

    @classmethod
    def load(cls, path: Path) -> Document:
        try:
            text = read_utf8(path)
        except FileNotFoundError as exc:
            raise SpecError(f"{path}: file not found") from exc
        return cls.from_text(text, path)

    @classmethod
    def from_text(cls, text: str, path: Path) -> Document:
        return cls(path=path, data=parse(text, str(path)), indent=guess_indent(text))

    def dumps(self) -> str:
        return dumps(self.data, self.indent)

    def save(self) -> None:
        atomic_write_text(self.path, self.dumps())


def dumps(data: Any, indent: Indent | None = None) -> str:
    out = io.StringIO()
    _yaml(indent or Indent()).dump(data, out)
    return out.getvalue()


def load_plain(path: Path) -> Any:
    """Load a YAML file for reading only (still round-trip types, so lines are known)."""
    return Document.load(path).data


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, default_mode())  # mkstemp makes files private; ours are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_mode() -> int:
    """0o666 minus the process umask: the mode ``open()`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def locate(data: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """The 1-based (line, column) of the node at ``loc``, or of its nearest existing parent."""
    line = col = None
    node = data
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line, col = (
                node.lc.value(key) if not isinstance(node[key], (dict, list)) else node.lc.key(key)
            )
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            line, col = node.lc.item(key)
            node = node[key]
        else:
            break
    if line is None and isinstance(data, (CommentedMap, CommentedSeq)):
        line, col = data.lc.line, data.lc.col
    return (line + 1 if line is not None else None, col + 1 if col is not None else None)


def to_plain(data: Any) -> Any:
    """Round-trip objects to plain dicts and lists (for pydantic and JSON)."""
    if isinstance(data, dict):
        return {str(k): to_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_plain(v) for v in data]
    return data


def _fast_loader(strict: bool):
    """PyYAML's libyaml loader, with YAML 1.2 booleans: only true/false, so that a decision
    tree's ``yes:`` and ``no:`` stay keys (YAML 1.1 would read them as booleans). ``strict``:
    a key given twice in one mapping is refused, else the last one counts."""

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        def construct_mapping(self, node, deep=False):
            if not strict:
                return super().construct_mapping(node, deep)
            # libyaml keeps the last of two equal keys; the round-trip parser (release, every
            # edit) refuses them, so refuse here too: the fallback then names file:line:col.
            seen = set()
            for key_node, _ in node.value:
                if (
                    isinstance(key_node, yaml.ScalarNode)
                    and key_node.tag != "tag:yaml.org,2002:merge"
                ):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            problem=f"found duplicate key {key_node.value!r}",
                            problem_mark=key_node.start_mark,
                        )
                    seen.add(key)
            return super().construct_mapping(node, deep)

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return Loader


_FAST_LOADERS: dict[bool, Any] = {}


def _loader(strict: bool):
    if strict not in _FAST_LOADERS:
        _FAST_LOADERS[strict] = _fast_loader(strict)
    return _FAST_LOADERS[strict]


def fast_load(text: str, source: str = "<string>", strict: bool = False) -> Any:
    """Plain data through libyaml, for reading only: many times faster than round-trip parsing
    on large specs; ``Lines`` supplies line numbers when a message needs them. ``strict``
    refuses a key given twice (the files a user edits now: check, diff, the site, release);
    history is read as it was accepted then, the last of two keys counting (tags made before
    duplicates were refused must keep their digests and stay readable)."""

    try:
        return _bounded(yaml.load(text, Loader=_loader(strict)), source)
    except RecursionError:
        raise SpecError(too_deep_message(source, "YAML")) from None
    except yaml.YAMLError:
        return to_plain(parse(text, source))  # raises SpecError with the line


def duplicate_keys(text: str) -> list[tuple[int, int, str]]:
    """(line, column, key), 1-based, of every key given again in its mapping: the parsers
    stop at the first, a report lists them all. [] when the text does not parse."""
    try:
        root = yaml.compose(text, Loader=_loader(True))
    except (yaml.YAMLError, RecursionError):
        return []
    found: list[tuple[int, int, str]] = []
    todo = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while todo:
        node = todo.pop()
        if id(node) in seen_nodes:
            continue  # an alias: walked already
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key_node, value in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in keys:
                        mark = key_node.start_mark
                        found.append((mark.line + 1, mark.column + 1, key_node.value))
                    keys.add(key)
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return sorted(found)


def _bounded(data: Any, source: str) -> Any:
    if value_too_deep(data):
        raise SpecError(too_deep_message(source, "YAML"))
    return data


class Lines:
    """Line numbers for key paths of a YAML document, parsed round-trip only when first asked."""

    def __init__(self, text: str | None = None, source: str = "<string>", data: Any = None):
        self._text, self._source, self._data = text, source, data

    def locate(self, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
        if self._data is None and self._text is not None:
            self._data = parse(self._text, self._source)
        return locate(self._data, loc)
