"""Pick the example images of the digits guideline from the 8x8 digits and write them as PNGs.

Positives are the digits a cross-validated logistic regression finds most typical; counter and
borderline examples are the real digits it confuses most for each classic pair (1/7, 4/9, 3/8 ...).
Needs scikit-learn (a dev dependency). Run: .venv/bin/python scripts/make_digit_examples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from labelspec.demo import digits

OUT = (
    Path(__file__).resolve().parents[1]
    / "labelspec/templates/classification/guidelines/digits/examples"
)
PAIRS = [(1, 7), (7, 1), (4, 9), (9, 4), (3, 8), (8, 3), (5, 6), (6, 5), (0, 6), (2, 7)]


def main() -> None:
    images, targets = digits.load()
    x = images.reshape(len(images), -1) / 16.0
    model = LogisticRegression(max_iter=2000, C=0.05)
    proba = cross_val_predict(model, x, targets, cv=5, method="predict_proba")
    used: set[int] = set()
    chosen: list[tuple[str, int]] = []

    def take(name: str, order: np.ndarray) -> None:
        index = int(next(i for i in order if i not in used))
        used.add(index)
        chosen.append((name, index))

    for digit, cid in enumerate(digits.CLASS_IDS):
        mine = np.flatnonzero(targets == digit)
        ranked = mine[np.argsort(-proba[mine, digit])]
        take(f"{cid}_typical_1", ranked)
        take(f"{cid}_typical_2", ranked[5:])
    for true, looks in PAIRS:
        mine = np.flatnonzero(targets == true)
        # Counter: a real `true` digit the model most believes is `looks`.
        take(
            f"{digits.CLASS_IDS[true]}_like_{digits.CLASS_IDS[looks]}",
            mine[np.argsort(-proba[mine, looks])],
        )
        # Borderline: a `true` digit with the two classes closest to a tie.
        tie = np.abs(proba[mine, true] - proba[mine, looks]) - (
            proba[mine, true] + proba[mine, looks]
        )
        take(
            f"{digits.CLASS_IDS[true]}_borderline_{digits.CLASS_IDS[looks]}", mine[np.argsort(tie)]
        )
    OUT.mkdir(parents=True, exist_ok=True)
    for name, index in chosen:
        digits.save_png(index, OUT / f"{name}.png")
        p = proba[index]
        top = np.argsort(-p)[:2]
        print(
            f"{name}: index {index}, true {targets[index]}, "
            f"model {top[0]}={p[top[0]]:.2f} {top[1]}={p[top[1]]:.2f}"
        )
    print(f"wrote {len(chosen)} images to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
