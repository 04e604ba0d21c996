"""Keeping strings from specs, rosters and deliveries inert wherever labelspec renders them.

Three layers, because each output has its own rules:

- ``esc`` for HTML text and attribute values;
- ``md_text`` / ``md_cell`` for Markdown that must show a string as written (GitHub comments,
  reports): HTML escaped, Markdown punctuation backslash-escaped, one line;
  ``md_field`` for spec fields that *are* Markdown on the site: emphasis and links work, raw
  HTML and attribute lists do not;
- ``clean_html``, run over every rendered page body: an allowlist of tags and attributes, links
  only to http(s) or relative targets, and lightbox captions escaped once more because
  GLightbox inserts them as HTML; inside ``<svg>`` only the rectangles and numbers of a drawn
  example, with numeric geometry. Whatever an escaping slip lets through stops here.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_BLOCK_START = re.compile(r"^(\s*)(#{1,6}|[+\-])(?=\s|$)")
_MD_ORDERED = re.compile(r"^(\s*\d{1,9})([.)])(?=\s|$)")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _md_inline(text: object) -> str:
    value = html.escape(str(text).replace("\r", " ").replace("\n", " "), quote=False)
    return _MD_INLINE.sub(r"\\\1", value)


def md_text(text: object) -> str:
    """A string shown literally inside a line of CommonMark / GitHub Markdown: HTML escaped,
    the inline syntax characters backslash-escaped, and a start that could open a block
    (a heading, list or quote) escaped too."""
    value = _md_inline(text)
    if _MD_ORDERED.match(value):
        return _MD_ORDERED.sub(r"\1\\\2", value, count=1)  # "12\. x": escape the dot
    return _MD_BLOCK_START.sub(r"\1\\\2", value, count=1)


def md_code(text: object) -> str:
    """A string as inline code. Backslashes do not escape inside a code span, so a string that
    could end the span (a backtick) or leave the line becomes ``<code>`` with escaped text."""
    value = _one_line(str(text))
    if "`" not in value and value == str(text) and value.strip() == value and value:
        return f"`{value}`"
    return f"<code>{_md_inline(value)}</code>"


def md_cell(text: object) -> str:
    """A literal string in one Markdown table cell (where no block can start)."""
    return _md_inline(_one_line(str(text))) or " "


_LITERAL = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~\"'"} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
}


def lit(text: object) -> str:
    """A string shown literally in Markdown that also holds our raw HTML (the site's pages):
    HTML escaped, and Markdown punctuation as numeric entities, which no Markdown reads as syntax."""
    return str(text).translate(_LITERAL)


def md_field(text: object, table: bool = False) -> str:
    """A spec field rendered as Markdown on the site: emphasis and links work; raw HTML is
    escaped, ``{...}`` attribute lists, table pipes and image syntax are turned into entities
    (which Markdown leaves alone); ``clean_html`` later drops links that are not http(s) or
    relative."""
    value = html.escape(str(text), quote=True)
    value = value.replace("{", "&#123;").replace("}", "&#125;").replace("|", "&#124;")
    value = value.replace("![", "&#33;[")  # pictures come from the examples, not from prose
    return _one_line(value) if table else value


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def markdown_without_html(markdown: str) -> str:
    """A Markdown document (a guide in ``docs/``) with its raw HTML and attribute lists shown as
    text, as for spec fields; fenced code and code spans are left as written (Markdown already
    shows them literally)."""
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            line = _outside_code(line)
        out.append(line)
    return "".join(out)


_INLINE_PICTURE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_PICTURE_REF = re.compile(r"!\[([^\]]*)\](?!\()(?:\[([^\]]*)\])?")
_REF_DEFINITION = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?([^\s>]+)")


def remote_pictures(markdown: str) -> list[tuple[int, str]]:
    """(line, address) of every Markdown picture that is not a file of the site (another host,
    ``//host``, ``data:``): inline ``![..](url)`` and by reference ``![..][ref]`` / ``[ref]: url``,
    outside code."""
    inline, uses, targets, fence = [], [], {}, None
    for number, line in enumerate(markdown.splitlines(), 1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
            continue
        if fence is not None:
            fence = None if line.strip().startswith(fence) else fence
            continue
        text = _CODE_SPAN.sub("", line)
        if found := _REF_DEFINITION.match(text):
            targets.setdefault(found.group(1).strip().lower(), found.group(2))
        inline += [(number, m.group(1)) for m in _INLINE_PICTURE.finditer(text)]
        uses += [
            (number, (m.group(2) or m.group(1)).strip().lower()) for m in _PICTURE_REF.finditer(text)
        ]
    inline += [(number, targets[ref]) for number, ref in uses if ref in targets]
    return sorted((n, url) for n, url in inline if not safe_url(url, remote=False))


def remote_picture_message(url: str) -> str:
    """Why a guide page's remote picture is refused (by ``check`` and the site alike)."""
    return (
        f"picture {url} is not a file of the guideline: the site works offline and shows no "
        "picture from another host; save it under docs/ and link it by a relative path"
    )


def _outside_code(line: str) -> str:
    def disarm(text: str) -> str:
        return text.replace("<", "&lt;").replace("{", "&#123;").replace("}", "&#125;")

    pieces, cursor = [], 0
    for span in _CODE_SPAN.finditer(line):
        pieces += [disarm(line[cursor : span.start()]), span.group(0)]
        cursor = span.end()
    pieces.append(disarm(line[cursor:]))
    return "".join(pieces)


# -- the allowlist over rendered HTML ---------------------------------------------------------------
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
VOID_TAGS = frozenset({"br", "hr", "img"})
# The drawn answers on example pictures (``site.drawing``): an <svg> of rectangles and numbers.
# Nothing in it can name a URL or run a script (no <use>, <image>, <a>, <animate>, <style>,
# <foreignObject>, no href or style attribute), and its geometry must be plain numbers.
SVG_TAGS = frozenset({"svg", "g", "rect", "text"})
SVG_ATTRS = {
    "svg": {"viewbox", "preserveaspectratio", "role", "width", "height"},
    "g": set(),
    "rect": {"x", "y", "width", "height"},
    "text": {"x", "y", "font-size"},
}
NUMERIC_ATTRS = frozenset({"x", "y", "width", "height", "font-size"})
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_VIEWBOX = re.compile(r"^-?\d+(\.\d+)?( -?\d+(\.\d+)?){3}$")
_ASPECT = re.compile(r"^(none|x(Min|Mid|Max)Y(Min|Mid|Max)( meet| slice)?)$", re.IGNORECASE)
# Dropped with everything inside them; other unknown tags are dropped and their text kept.
DROP_CONTENT = frozenset(
    [
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "template",
        "noscript",
        "textarea",
        "select",
        "math",
        "foreignobject",
        "frame",
        "frameset",
        "applet",
        "title",
    ]
)
GLOBAL_ATTRS = frozenset({"class", "id", "title", "lang", "dir", "aria-label"})
TAG_ATTRS = {
    "a": {"href", "data-type", "data-width", "data-height", "data-title", "data-description"}
    | {"data-desc-position", "data-gallery"},
    "img": {"src", "alt", "width", "height", "loading", "data-title", "data-description"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "details": {"open"},
}
URL_ATTRS = frozenset({"href", "src"})  # href: http(s) or relative; src: relative
# GLightbox puts these into the page with innerHTML: their value must be HTML-escaped text.
LIGHTBOX_ATTRS = frozenset({"data-title", "data-description"})
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


def safe_url(url: str, remote: bool = True) -> bool:
    """A relative target (a path, ``#anchor`` or ``?query``), or with ``remote`` an http(s) one:
    never ``javascript:``, ``data:`` or any other scheme. Browsers ignore tabs, newlines and
    leading controls in a scheme (``java\\tscript:``), so those are removed before looking."""
    value = _CONTROL.sub("", url)
    match = _SCHEME.match(value)
    if match is None:
        return remote or not value.startswith("//")  # "//host/x" is another host
    return remote and match.group(1).lower() in ("http", "https")


def lightbox_text(value: str) -> str:
    """A caption as GLightbox wants it: escaped HTML, and never starting with "." (GLightbox
    reads such a description as a CSS selector and shows that element's HTML instead)."""
    escaped = esc(value)
    return "&#46;" + escaped[1:] if escaped.startswith(".") else escaped


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0  # depth inside a DROP_CONTENT element
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if tag in DROP_CONTENT:
            if not closed and tag not in VOID_TAGS:
                self.dropping += 1
            return
        inside_svg = "svg" in self.open
        svg = tag in SVG_TAGS and (tag == "svg" or inside_svg)
        if self.dropping or (tag not in ALLOWED_TAGS and not svg) or (inside_svg and not svg):
            return
        allowed = GLOBAL_ATTRS | (SVG_ATTRS[tag] if svg else TAG_ATTRS.get(tag, set()))
        # a lightbox link opens a picture: local only, as <img src>
        picture = tag == "a" and ("data-type", "image") in attrs
        kept = []
        for name, value in attrs:
            value = value or ""
            # Links may leave the site; pictures may not (the site works offline, and a remote
            # image would tell another host who reads the guideline).
            remote_ok = name == "href" and not picture
            if name not in allowed or (name in URL_ATTRS and not safe_url(value, remote_ok)):
                continue
            if svg and not _svg_value(name, value):
                continue
            if name in LIGHTBOX_ATTRS:
                value = lightbox_text(value)
            kept.append(f' {name}="{esc(value)}"')
        if svg and closed:  # in SVG, <rect> without "/>" would hold everything after it
            self.out.append(f"<{tag}{''.join(kept)}/>")
            return
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS and not closed:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        known = tag in SVG_TAGS if "svg" in self.open else tag in ALLOWED_TAGS
        if self.dropping or not known or tag in VOID_TAGS or tag not in self.open:
            return
        while self.open:  # close what was left open inside it, as a browser would
            inner = self.open.pop()
            self.out.append(f"</{inner}>")
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def close(self) -> None:
        super().close()
        self.out.extend(f"</{tag}>" for tag in reversed(self.open))
        self.open = []


def _svg_value(name: str, value: str) -> bool:
    """Drawing attributes hold numbers only (the parser lowercases names; browsers read
    ``viewbox`` in SVG as ``viewBox``)."""
    if name in NUMERIC_ATTRS:
        return bool(_NUMBER.match(value))
    if name == "viewbox":
        return bool(_VIEWBOX.match(value))
    if name == "preserveaspectratio":
        return bool(_ASPECT.match(value))
    return True


def clean_html(markup: str) -> str:
    """Rendered HTML with only allowlisted tags and attributes and safe links (see module doc)."""
    cleaner = _Cleaner()
    cleaner.feed(markup)
    cleaner.close()
    return "".join(cleaner.out)
