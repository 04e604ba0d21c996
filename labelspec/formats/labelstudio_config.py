"""A Label Studio project around labelspec's tasks: the labeling config XML (one control per
class set and attribute, class hints linking the published guideline), where the tool finds the
images (a URL template or its local-files root), and the guideline links a relabel task shows.

``labelspec.formats.labelstudio`` reads and writes the tasks themselves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from labelspec.errors import InputError
from labelspec.guideline.instructions import class_url, label_studio_hint, page_url
from labelspec.site.safe import esc

CONTROL, IMAGE, TEXT = "label", "image", "text"  # the names our labeling config uses
REASON, GUIDE = "relabel_reason", "guideline"  # relabel tasks' data shown by the config


_CONTROL_TAGS = {
    "classification": ("Choices", "Choice", ' choice="single" showInline="true"'),
    "multilabel": ("Choices", "Choice", ' choice="multiple" showInline="true"'),
    "detection": ("RectangleLabels", "Label", ""),
    "ner": ("Labels", "Label", ""),
}


def labeling_config(spec, site_url: str | None = None, relabel: bool = False) -> str:
    """The labeling config XML for a spec: one control ``label`` whose values are the class ids,
    with the class definitions as hints (linking each class to its page in the published
    guideline when ``site_url`` is known), and one control per attribute named by its id.

    ``relabel``: the tasks of a relabel plan, which carry ``relabel_reason`` and (with a
    ``site_url``) ``guideline``, the links to each class's page: both are shown above the item."""

    obj = TEXT if spec.task == "ner" else IMAGE
    tag, child, options = _CONTROL_TAGS[spec.task]
    lines = ["<View>"]
    if relabel:
        title = f"Relabel under {spec.title or spec.guideline} {spec.version}: why this item"
        lines.append(f'  <Header value={quoteattr(title)} size="5"/>')
        lines.append(f'  <Text name="{REASON}" value="${REASON}"/>')
        if site_url:
            lines.append(f'  <HyperText name="{GUIDE}" value="${GUIDE}" inline="true"/>')
    if obj == TEXT:
        lines.append(f'  <Text name="{TEXT}" value="$text"/>')
    else:
        lines.append(f'  <Image name="{IMAGE}" value="$image"/>')
    lines.append(f'  <{tag} name="{CONTROL}" toName="{obj}"{options}>')
    for cls in spec.classes:
        hint = label_studio_hint(spec, cls, site_url)
        lines.append(f"    <{child} value={quoteattr(cls.id)} hint={quoteattr(hint)}/>")
    lines.append(f"  </{tag}>")
    lines += _attribute_controls(spec, obj)
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _attribute_controls(spec, obj: str) -> list[str]:
    found: dict[str, tuple[Any, list[str]]] = {}
    for cls in spec.classes:
        for attr in cls.attributes:
            found.setdefault(attr.id, (attr, []))[1].append(cls.id)
    lines = []
    for attr_id, (attr, classes) in found.items():
        if attr_id in (CONTROL, IMAGE, TEXT, REASON, GUIDE):
            raise InputError(
                f"attribute id {attr_id!r} clashes with a Label Studio control name; rename the attribute"
            )
        if spec.task in ("detection", "ner"):
            when = f' perRegion="true" visibleWhen="region-selected" whenLabelValue={quoteattr(",".join(classes))}'
        else:
            when = f' visibleWhen="choice-selected" whenTagName="{CONTROL}" whenChoiceValue={quoteattr(",".join(classes))}'
        lines.append(f"  <Header value={quoteattr(attr.name or attr.id)}/>")
        if attr.type == "text":
            lines.append(f'  <TextArea name="{attr.id}" toName="{obj}" maxSubmissions="1"{when}/>')
            continue
        lines.append(
            f'  <Choices name="{attr.id}" toName="{obj}" choice="single" showInline="true"{when}>'
        )
        for value in attr.values or ["true", "false"]:
            lines.append(f"    <Choice value={quoteattr(value)}/>")
        lines.append("  </Choices>")
    return lines


def image_sources(root: Path, url_template: str | None = None, local_files: Path | None = None):
    """``image_source`` for ``write``: ``url_template`` with ``{path}`` (the item's workspace
    path, URL-quoted), ``{item_id}`` and ``{name}``; or Label Studio's local-files URL
    ``/data/local-files/?d=<path under the document root>`` (``""``: the workspace is the root).
    None when neither is given."""

    if url_template and local_files is not None:
        raise InputError("give either --image-url or --labelstudio-local-files, not both")
    if url_template:
        unknown = set(re.findall(r"{([^{}]*)}", url_template)) - {"path", "item_id", "name"}
        if unknown or "{" not in url_template:
            raise InputError(
                f"--image-url {url_template!r}: use {{path}}, {{item_id}} or {{name}}, e.g. http://files.example.com/{{path}}"
            )

        def from_template(item: dict) -> str:
            path = item.get("path") or ""
            return url_template.format(
                path=quote(path), item_id=quote(item["item_id"]), name=quote(Path(path).name)
            )

        return from_template
    if local_files is None:
        return None
    document_root = Path(local_files).resolve() if str(local_files) else Path(root).resolve()

    def local(item: dict) -> str:
        if not item.get("path"):
            return item.get("uri")
        full = (root / item["path"]).resolve()
        try:
            relative = full.relative_to(document_root)
        except ValueError:
            raise InputError(
                f"item {item['item_id']} ({item['path']}) is not under the Label Studio document "
                f"root {document_root}: give --labelstudio-local-files a folder that holds it"
            ) from None
        return f"/data/local-files/?d={quote(relative.as_posix())}"

    return local


def guideline_links(spec, site_url: str | None) -> str:
    """HTML for a relabel task's ``guideline``: each class linked to its page in the published
    version (empty without a site URL: relative links lead nowhere inside Label Studio)."""

    if not site_url:
        return ""
    links = " · ".join(
        f'<a href="{esc(class_url(site_url, spec, c))}" target="_blank" rel="noopener">{esc(c.name)}</a>'
        for c in spec.classes
    )
    whole = esc(page_url(site_url, spec.guideline, spec.version))
    return f'Guideline {esc(spec.version)}: {links} (<a href="{whole}" target="_blank" rel="noopener">all</a>)'
