"""Resolution: one label per item (or one set of boxes, spans or classes per item) from the
several labels a snapshot holds, each with its confidence, the rule that decided it, the labels
it came from, and whether the item is suspect under the newest guideline release.

Methods (``METHODS``): ``majority``, ``dawid-skene``, ``latest`` and ``golden-first`` (golden
labels decide the items they cover; ``fallback`` decides the rest). ``classes`` holds the
classification rules, ``regions`` the multilabel, detection and NER ones; ``result`` the table
they fill. Ties are reported, never broken by a guess.

    from labelspec.resolve.resolution import resolve

    resolved = resolve(ws, "digits", "dawid-skene", min_confidence=0.8)
    resolved.labels          # pyarrow Table: a training set
    resolved.low_confidence  # item ids to relabel
"""

METHODS = ("majority", "dawid-skene", "latest", "golden-first")
FALLBACKS = ("majority", "dawid-skene", "latest")
IOU_THRESHOLD = 0.55  # ensemble-boxes' default for weighted boxes fusion
