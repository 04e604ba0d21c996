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
RELABELER = "relabeler"  # whose copy a task is (relabel push --relabelers)


_CONTROL_TAGS = {
    "classification": ("Choices", "Choice", ' choice="single" showInline="true"'),
    "multilabel": ("Choices", "Choice", ' choice="multiple" showInline="true"'),
    "detection": ("RectangleLabels", "Label", ""),
    "ner": ("Labels", "Label", ""),
}


# The labeling screen at 1280x800: the image bounded to the left part of the panel, the class
# controls and attributes beside it (so no task puts them below the fold, whatever the image's
# height); text stays full width with its labels above it, as Label Studio's NER templates do.
ROW = "display: flex; gap: 16px; align-items: flex-start"
IMAGE_COLUMN = "flex: 0 1 60%; min-width: 0"
CONTROL_COLUMN = "flex: 1 1 40%; min-width: 220px"
IMAGE_MAX_WIDTH = "560px"


def labeling_config(spec, site_url: str | None = None, relabel: bool = False) -> str:
    """The labeling config XML for a spec: one control ``label`` whose values are the class ids,
    with the class definitions as hints (linking each class to its page in the published
    guideline when ``site_url`` is known), and one control per attribute named by its id, shown
    (with its heading) only for the classes that have it.

    ``relabel``: the tasks of a relabel plan, which carry ``relabel_reason``: shown above the
    item, with (given a ``site_url``) the links to each class's page in the version relabeled
    under; the links live in the config, so the task's data holds plain text only."""

    obj = TEXT if spec.task == "ner" else IMAGE
    tag, child, options = _CONTROL_TAGS[spec.task]
    lines = ["<View>"]
    if relabel:
        title = f"Relabel under {spec.title or spec.guideline} {spec.version}: why this item"
        lines.append(f'  <Header value={quoteattr(title)} size="5"/>')
        lines.append(f'  <Text name="{REASON}" value="${REASON}"/>')
        if site_url:
            links = guideline_links(spec, site_url)
            lines.append(f'  <HyperText name="{GUIDE}" value={quoteattr(links)} inline="true"/>')
    controls = [f'    <{tag} name="{CONTROL}" toName="{obj}"{options}>']
    for cls in spec.classes:
        hint = label_studio_hint(spec, cls, site_url)
        controls.append(f"      <{child} value={quoteattr(cls.id)} hint={quoteattr(hint)}/>")
    controls.append(f"    </{tag}>")
    controls += _attribute_controls(spec, obj)
    if obj == TEXT:
        lines += [line[2:] for line in controls]
        lines.append(f'  <Text name="{TEXT}" value="$text"/>')
    else:
        lines.append(f"  <View style={quoteattr(ROW)}>")
        lines.append(f"    <View style={quoteattr(IMAGE_COLUMN)}>")
        lines.append(f'      <Image name="{IMAGE}" value="$image" maxWidth="{IMAGE_MAX_WIDTH}"/>')
        lines.append("    </View>")
        lines.append(f"    <View style={quoteattr(CONTROL_COLUMN)}>")
        lines += ["  " + line for line in controls]
        lines.append("    </View>")
        lines.append("  </View>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _attribute_controls(spec, obj: str) -> list[str]:
    """Each attribute in a View shown only when a class that has it is chosen (or, for boxes
    and spans, when such a region is selected): its heading never stands alone."""

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
        values = quoteattr(",".join(classes))
        if spec.task in ("detection", "ner"):
            when = f'visibleWhen="region-selected" whenLabelValue={values}'
            per_region = ' perRegion="true"'
        else:
            when = f'visibleWhen="choice-selected" whenTagName="{CONTROL}" whenChoiceValue={values}'
            per_region = ""
        lines.append(f"    <View {when}>")
        lines.append(f'      <Header value={quoteattr(attr.name or attr.id)} size="6"/>')
        if attr.type == "text":
            lines.append(
                f'      <TextArea name="{attr.id}" toName="{obj}" maxSubmissions="1"{per_region}/>'
            )
        else:
            lines.append(
                f'      <Choices name="{attr.id}" toName="{obj}" choice="single" showInline="true"{per_region}>'
            )
            for value in attr.values or ["true", "false"]:
                lines.append(f"        <Choice value={quoteattr(value)}/>")
            lines.append("      </Choices>")
        lines.append("    </View>")
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
