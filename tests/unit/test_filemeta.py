"""Image sizes read from the header bytes items add already holds, as Pillow reads them."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from labelspec.store.filemeta import describe_file, image_size


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_header_sizes_equal_pillows(fmt, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (37, 23), "white").save(out, format=fmt)
    data = out.getvalue()
    parsed = image_size(data)
    if fmt == "TIFF":
        assert parsed is None  # not parsed here: describe_file asks Pillow
    else:
        assert parsed == (37, 23)
    path = tmp_path / f"image.{fmt.lower()}"
    path.write_bytes(data)
    described = describe_file(path, text=False)
    assert (described["width"], described["height"]) == (37, 23)
    assert described["bytes"] == len(data)


def test_a_lossless_webp_and_a_progressive_jpeg(tmp_path):
    for fmt, options in (("WEBP", {"lossless": True}), ("JPEG", {"progressive": True})):
        out = io.BytesIO()
        Image.new("L", (300, 5)).save(out, format=fmt, **options)
        assert image_size(out.getvalue()) == (300, 5), fmt
