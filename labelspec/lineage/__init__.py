"""Lineage: trace items and labelers, a release's impact, relabel plans and merges."""
