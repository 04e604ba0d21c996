"""Boxes drawn on an image of another size than the registered one (QA 4): Label Studio's
percents and COCO's and CVAT's pixels become pixels of the registered image. A resized copy
(same shape) is scaled, with a warning; another shape is refused, naming both sizes.

The street scenes are 320 x 200 (tests/resolve/conftest.py); the tool showed a 640 x 400 copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelspec.demo import school_buses
from labelspec.errors import ProblemsError
from labelspec.labels.ingest import import_labels
from labelspec.store.query import current_labels
from tests.helpers import state

GUIDELINE = f"{school_buses.NAME}@1.1.0"


def ls_export(tmp: Path, width: int, height: int) -> Path:
    """One task for n04.png: a school bus at x = y = w = h = 10 % of a width x height image."""
    region = {
        "id": "r1",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": width,
        "original_height": height,
        "value": {"x": 10, "y": 10, "width": 10, "height": 10, "rectanglelabels": ["school_bus"]},
    }
    task = {
        "id": 7,
        "data": {"image": "/data/upload/1/n04.png"},
        "annotations": [{"id": 3, "completed_by": 1, "result": [region]}],
    }
    path = tmp / f"ls-{width}x{height}.json"
    path.write_text(json.dumps([task]))
    return path


def coco_export(tmp: Path, width: int, height: int) -> Path:
    doc = {
        "images": [{"id": 1, "file_name": "n04.png", "width": width, "height": height}],
        "categories": [{"id": 1, "name": "school_bus"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [64, 40, 64, 40]}],
    }
    path = tmp / f"coco-{width}x{height}.json"
    path.write_text(json.dumps(doc))
    return path


def cvat_export(tmp: Path, width: int, height: int) -> Path:
    path = tmp / f"cvat-{width}x{height}.xml"
    path.write_text(
        f'<annotations><image id="0" name="n04.png" width="{width}" height="{height}">'
        '<box label="school_bus" xtl="64" ytl="40" xbr="128" ybr="80" occluded="0"/>'
        "</image></annotations>"
    )
    return path


def boxes_on_n04(ws) -> list[list[float]]:
    labels = current_labels(ws, "streets").to_pylist()
    found = [r["bbox"] for r in labels if r["item_id"] == "n04.png" and r["bbox"] is not None]
    return [[b["x"], b["y"], b["w"], b["h"]] for b in found]


@pytest.mark.parametrize(
    ("fmt", "export"), [("labelstudio", ls_export), ("coco", coco_export), ("cvat", cvat_export)]
)
def test_a_box_drawn_on_a_resized_copy_is_scaled_to_the_registered_image(
    streets, tmp_path, fmt, export
):
    assert boxes_on_n04(streets) == []  # n04 is an empty scene for everyone
    # 10 % of 640 x 400 is [64, 40, 64, 40] on the copy; half of it on the 320 x 200 scene
    result = import_labels(streets, "streets", export(tmp_path, 640, 400), fmt, GUIDELINE, "studio",
                           labeler="sB-01")  # fmt: skip
    assert boxes_on_n04(streets) == [[32.0, 20.0, 32.0, 20.0]]
    (warning,) = [w for w in result.warnings if "resized" in w]
    assert warning == (
        "1 box(es) were drawn on a resized copy of their image (first: n04.png, shown at "
        "640x400, registered as 320x200): scaled to the registered size"
    )


@pytest.mark.parametrize(
    ("fmt", "export"), [("labelstudio", ls_export), ("coco", coco_export), ("cvat", cvat_export)]
)
def test_a_box_drawn_on_the_registered_size_is_kept_as_drawn(streets, tmp_path, fmt, export):
    # on a 320 x 200 image: 10 % is [32, 20, 32, 20]; COCO's and CVAT's [64, 40, 64, 40] stay
    result = import_labels(streets, "streets", export(tmp_path, 320, 200), fmt, GUIDELINE, "studio",
                           labeler="sB-01")  # fmt: skip
    expected = [32.0, 20.0, 32.0, 20.0] if fmt == "labelstudio" else [64.0, 40.0, 64.0, 40.0]
    assert boxes_on_n04(streets) == [expected]
    assert not [w for w in result.warnings if "resized" in w]


@pytest.mark.parametrize(
    ("fmt", "export"), [("labelstudio", ls_export), ("coco", coco_export), ("cvat", cvat_export)]
)
def test_a_box_drawn_on_an_image_of_another_shape_is_refused(streets, tmp_path, fmt, export):
    # 640 x 480 is 4:3, the scene 8:5: |640 * 200 - 480 * 320| = 25,600 px², far past the
    # (640 + 480) / 2 = 560 a resize's rounding allows
    before = state(streets.root)
    with pytest.raises(ProblemsError) as caught:
        import_labels(streets, "streets", export(tmp_path, 640, 480), fmt, GUIDELINE, "studio",
                      labeler="sB-01")  # fmt: skip
    (problem,) = caught.value.problems
    assert problem.path == "bbox"
    assert problem.message.startswith(
        "the box was drawn on a 640x480 image, but item n04.png is registered as 320x200, "
        "another shape (cropped, padded or rotated?)"
    )
    assert state(streets.root) == before


def test_a_rounded_resize_is_still_a_copy(streets, tmp_path):
    # 320 x 200 shown at 213 x 133 (a third, rounded): |213 * 200 - 133 * 320| = 40 <= 266.5;
    # 10 % of it is [21.3, 13.3, 21.3, 13.3], scaled by 320/213 and 200/133
    import_labels(streets, "streets", ls_export(tmp_path, 213, 133), "labelstudio", GUIDELINE,
                  "studio", labeler="sB-01")  # fmt: skip
    assert boxes_on_n04(streets) == [pytest.approx([32.0, 20.0, 32.0, 20.0])]
