"""A `.dvc` record labelspec wrote is read without YAML (100,000 of them make a manifest): the
fast reading gives exactly what YAML gives, and anything else still goes through YAML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelspec.errors import VcsError
from labelspec.vcs import dvc_file_text, parse_dvc_file
from labelspec.yamlio import fast_load

# the Basic Multilingual Plane: beyond it, ensure_ascii JSON writes surrogate pairs, which YAML
# reads as two broken characters and JSON as the one written (the last test)
bmp = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(bmp, max_size=20)
)
metas = st.dictionaries(
    st.text(bmp, min_size=1, max_size=12),
    st.one_of(scalars, st.lists(scalars, max_size=4)),
    max_size=6,
)


@given(meta=metas, size=st.integers(0, 2**40))
def test_a_record_labelspec_wrote_reads_as_yaml_reads_it(meta, size):
    text = dvc_file_text("b-1.parquet", "0123456789abcdef0123456789abcdef", size, meta)

    by_yaml = fast_load(text, "b-1.parquet.dvc")
    assert parse_dvc_file(text, "b-1.parquet.dvc") == (
        by_yaml["outs"][0]["md5"],
        by_yaml["outs"][0]["size"],
        by_yaml["meta"]["labelspec"],
    )


def test_a_record_dvc_add_wrote_goes_through_yaml():
    text = (
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12\n  hash: md5\n  path: x.png\n"
    )

    assert parse_dvc_file(text, "x.png.dvc") == ("0123456789abcdef0123456789abcdef", 12, {})


def test_a_broken_record_is_a_vcs_error():
    with pytest.raises(VcsError, match=r"^x\.dvc: not a DVC file labelspec can read"):
        parse_dvc_file("outs: []\n", "x.dvc")


def test_a_character_beyond_the_bmp_reads_back_as_written():
    text = dvc_file_text("b.parquet", "0123456789abcdef0123456789abcdef", 1, {"note": "\U00010000"})

    assert parse_dvc_file(text, "b.parquet.dvc")[2] == {"note": "\U00010000"}
