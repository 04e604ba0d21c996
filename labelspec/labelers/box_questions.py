"""Box questions of a detection quiz, from the answers drawn on the guideline's examples.

- **pick** ("Which drawn box is right?"): an example with "not this" boxes and at most one
  box in its answer: its boxes, shuffled and numbered alike (the page must not give the answer
  away by line style), and "none of them" (the answer when nothing is to be boxed).
- **judge** ("Is this box right?"): one box drawn; yes when it is the answer's. From an example
  with several boxes in its answer (a pick would have several right options), or with no
  "not this" box.

An example with nothing drawn, or an empty answer and no "not this" box, stays a class question.
``about_rules`` picks, for ``labeler quiz --changed-since``, the examples a changed rule is about.
"""

from __future__ import annotations

import random
from typing import Any

from labelspec.guideline.scope import box_matches
from labelspec.guideline.spec import BorderlineExample, DrawnBox, Example, Spec
from labelspec.site import drawing
from labelspec.site.safe import esc

PICK, JUDGE = "pick", "judge"
NONE_OF_THEM = "none"
YES, NO = "yes", "no"
PROMPTS = {
    PICK: "Which drawn box is right, class and extent? Choose none if no box is.",
    JUDGE: "Is this box right, class and extent?",
}


def box_question(example: Example, source: str, seed: int) -> dict[str, Any] | None:
    """The question an example's drawing asks (None: ask for its class instead): its ``type``,
    ``candidates`` (number, box as the spec writes it, right) as drawn, ``options`` and
    ``answer``."""
    right = list(example.boxes or [])
    wrong = list(example.wrong_boxes)
    if example.boxes is None or not (right or wrong):
        return None
    rng = random.Random(f"{seed}:{source}")  # the same quiz draws the same boxes
    if wrong and len(right) <= 1:
        pool = [(box, True) for box in right] + [(box, False) for box in wrong]
        rng.shuffle(pool)
        candidates = [_candidate(n, box, ok) for n, (box, ok) in enumerate(pool, 1)]
        answer = next((f"b{c['number']}" for c in candidates if c["right"]), NONE_OF_THEM)
        options = [f"b{c['number']}" for c in candidates] + [NONE_OF_THEM]
        return {"type": PICK, "candidates": candidates, "options": options, "answer": answer}
    box, ok = rng.choice([(b, True) for b in right] + [(b, False) for b in wrong])
    return {
        "type": JUDGE,
        "candidates": [_candidate(1, box, ok)],
        "options": [YES, NO],
        "answer": YES if ok else NO,
    }


def _candidate(number: int, box, right: bool) -> dict[str, Any]:
    return {"number": number, "box": box.model_dump(mode="json", by_alias=True), "right": right}


def option_words(question: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    """What each option of a box question says on the page."""
    if question["type"] == JUDGE:
        return {YES: "Yes, box it like this", NO: "No, not like this"}
    words = {
        f"b{c['number']}": f"Box {c['number']} ({names.get(c['box']['class'], c['box']['class'])})"
        for c in question["candidates"]
    }
    return {**words, NONE_OF_THEM: "None of these boxes"}


def media(
    question: dict[str, Any], image: str, size: tuple[int, int], names: dict[str, str],
    number: int, reveal: bool = False,
) -> str:  # fmt: skip
    """The picture (a data URI) with the candidate boxes over it and their legend; with
    ``reveal`` (the feedback page) the answer's boxes are solid and the others dashed."""
    style = {True: drawing.RIGHT, False: drawing.WRONG}
    found = [
        drawing.Mark(
            c["number"],
            DrawnBox.model_validate(c["box"]),
            style[c["right"]] if reveal else drawing.CANDIDATE,
        )
        for c in question["candidates"]
    ]
    lines = [m.describe(names) for m in found]
    label = f"Question {number}: the item with {len(found)} box(es) drawn. " + " ".join(lines)
    width, height = size
    picture = (
        f'<img src="{image}" alt="Question {number}: the item to label" '
        f'width="{width}" height="{height}">'
    )
    overlay = drawing.overlay(found, width, height, label)
    legend = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f'<span class="ls-drawn">{picture}{overlay}</span><ul class="legend">{legend}</ul>'


# -- --changed-since: the examples a changed rule is about ----------------------------------------------
def about_rules(spec: Spec, rule_ids: set[str], sizes: dict[str, tuple[int, int]]) -> list[str]:
    """Sources (``class.kind[i]``) of the examples about rules ``rule_ids`` of ``spec``: a
    borderline example that cites one, and an example whose drawn answer holds a box of a class
    the rule applies to, inside its ``where`` (``sizes``: each picture's size)."""
    rules = [spec.get_rule(r) for r in sorted(rule_ids) if spec.get_rule(r) is not None]
    found = []
    for cls in spec.classes:
        for kind, i, example in cls.examples.all():
            if _about(example, rules, sizes.get(example.image or "")):
                found.append(f"{cls.id}.{kind}[{i}]")
    return found


def _about(example: Example, rules: list, size: tuple[int, int] | None) -> bool:
    for rule in rules:
        if isinstance(example, BorderlineExample) and example.rule == rule.id:
            return True
        if not (rule.applies_to or rule.where) or size is None:
            continue
        for box in [*(example.boxes or []), *example.wrong_boxes]:
            in_class = not rule.applies_to or box.class_id in rule.applies_to
            if in_class and (rule.where is None or box_matches(rule.where, box, *size)):
                return True
    return False
