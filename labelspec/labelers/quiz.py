"""Training quizzes built from a guideline's own examples, graded into training records.

A quiz is mostly hard cases (counter and borderline examples), as a self-contained HTML page
(images inlined, no network, no answers in the page) plus an answer key kept by the trainer.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelspec.errors import LabelspecError, NotFoundError
from labelspec.guideline.releases import get_release, releases, spec_at
from labelspec.labelers.roster import get_labeler
from labelspec.labelers.training import TrainingRecord, record_training
from labelspec.vcs import read_at
from labelspec.workspace import Workspace
from labelspec.yamlio import atomic_write_text

HARD_SHARE = 0.75
NONE_OPTION = "none"
KEY_FILE = "answer-key.json"
PAGE_FILE = "quiz.html"
MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass
class QuizResult:
    quiz_id: str
    guideline: str
    version: str
    questions: int
    hard: int
    page: Path
    key: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "quiz": self.quiz_id,
            "guideline": self.guideline,
            "version": self.version,
            "questions": self.questions,
            "hard": self.hard,
            "page": str(self.page),
            "key": str(self.key),
        }


def _candidates(spec) -> tuple[list[dict], list[dict]]:
    hard, easy = [], []
    for cls in spec.classes:
        for kind, i, example in cls.examples.all():
            if kind == "positive":
                answer = cls.id
            elif kind == "counter":
                answer = example.label or NONE_OPTION
            else:
                answer = example.decision
            item = {
                "source": f"{cls.id}.{kind}[{i}]",
                "kind": kind,
                "answer": answer,
                "example": example,
            }
            (easy if kind == "positive" else hard).append(item)
    return hard, easy


def _pick(hard: list[dict], easy: list[dict], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rng.shuffle(hard)
    rng.shuffle(easy)
    want_hard = min(len(hard), math.ceil(n * HARD_SHARE))
    chosen = hard[:want_hard] + easy[: n - want_hard]
    chosen += hard[want_hard : want_hard + n - len(chosen)]
    rng.shuffle(chosen)
    return chosen


def build_quiz(
    ws: Workspace, guideline: str, out: Path, version: str | None = None, n: int = 20, seed: int = 0
) -> QuizResult:
    if n < 1:
        raise LabelspecError("--n must be at least 1")
    if version is None:
        released = releases(ws, guideline)
        if not released:
            raise NotFoundError(
                f"guideline {guideline!r} has no release yet; release it before quizzing"
            )
        version = released[-1].version
    release = get_release(ws, guideline, version)
    spec = spec_at(ws, guideline, version)
    hard, easy = _candidates(spec)
    chosen = _pick(hard, easy, n, seed)
    if not chosen:
        raise LabelspecError(
            f"guideline {guideline} {version} has no examples to build a quiz from"
        )
    options = list(spec.class_ids) + (
        [NONE_OPTION] if any(q["answer"] == NONE_OPTION for q in hard) else []
    )
    names = {c.id: c.name for c in spec.classes} | {NONE_OPTION: "None of these classes"}
    fingerprint = json.dumps([guideline, version, seed, [q["source"] for q in chosen]])
    quiz_id = "quiz-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    questions = []
    for number, item in enumerate(chosen, 1):
        example = item["example"]
        question = {"id": f"q{number:02d}", "text": example.text, "image": None}
        if example.image is not None:
            # The image as released, even when DVC tracks it and it changed since.
            data = read_at(ws.root, release.commit, ws.guideline_dir(guideline) / example.image)
            mime = MIME.get(Path(example.image).suffix.lower(), "application/octet-stream")
            question["image"] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        questions.append(question)
    out.mkdir(parents=True, exist_ok=True)
    page = out / PAGE_FILE
    key = out / KEY_FILE
    atomic_write_text(page, _render(quiz_id, spec, questions, options, names))
    key_data = {
        "quiz": quiz_id,
        "guideline": guideline,
        "version": version,
        "digest": release.digest,
        "options": options,
        "questions": [
            {
                "id": q["id"],
                "answer": item["answer"],
                "kind": item["kind"],
                "source": item["source"],
            }
            for q, item in zip(questions, chosen, strict=True)
        ],
    }
    atomic_write_text(key, json.dumps(key_data, indent=2) + "\n")
    n_hard = sum(1 for item in chosen if item["kind"] != "positive")
    return QuizResult(quiz_id, guideline, version, len(chosen), n_hard, page, key)


def _render(
    quiz_id: str, spec, questions: list[dict], options: list[str], names: dict[str, str]
) -> str:
    esc = html.escape
    blocks = []
    for q in questions:
        media = (
            f'<img src="{q["image"]}" alt="example {esc(q["id"])}" width="160" height="160">'
            if q["image"]
            else f'<blockquote class="text">{esc(q["text"] or "")}</blockquote>'
        )
        choices = "".join(
            f'<label><input type="radio" name="{esc(q["id"])}" value="{esc(o)}"> {esc(names.get(o, o))}</label>'
            for o in options
        )
        blocks.append(
            f'<section class="q" id="{esc(q["id"])}"><h2>{esc(q["id"])}</h2>{media}<div>{choices}</div></section>'
        )
    script = (
        "const quiz=document.body.dataset.quiz;"
        "function collect(){const a={};document.querySelectorAll('input[type=radio]:checked')"
        ".forEach(i=>a[i.name]=i.value);return a;}"
        "function update(){document.getElementById('count').textContent=Object.keys(collect()).length;}"
        "document.addEventListener('change',update);"
        "document.getElementById('save').addEventListener('click',()=>{"
        "const blob=new Blob([JSON.stringify({quiz:quiz,answers:collect()},null,2)],{type:'application/json'});"
        "const link=document.createElement('a');link.href=URL.createObjectURL(blob);"
        "link.download='answers-'+quiz+'.json';link.click();});"
    )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}"
        ".q{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}"
        ".q img{image-rendering:auto;border:1px solid #eee}.q label{display:inline-block;margin:.25rem .75rem .25rem 0}"
        ".text{font-size:1.2rem;background:#f6f6f6;padding:.5rem}"
        "footer{position:sticky;bottom:0;background:#fff;padding:1rem 0;border-top:1px solid #ccc}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Quiz: {esc(spec.title)} {esc(spec.version)}</title><style>{style}</style></head>"
        f'<body data-quiz="{esc(quiz_id)}"><h1>{esc(spec.title)} — quiz for version {esc(spec.version)}</h1>'
        f"<p>Quiz <code>{esc(quiz_id)}</code>: choose the class each example should be labeled as, "
        "following the guideline. Then save your answers and send the file to your trainer.</p>"
        + "".join(blocks)
        + f'<footer><span id="count">0</span> of {len(questions)} answered. '
        '<button id="save" type="button">Save answers</button></footer>'
        f"<script>{script}</script></body></html>\n"
    )


# -- grading ------------------------------------------------------------------------------------
@dataclass
class GradeResult:
    quiz_id: str
    labeler: str
    correct: int
    total: int
    pass_mark: float
    wrong: list[dict[str, str | None]]
    record: TrainingRecord

    @property
    def score(self) -> float:
        return self.correct / self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "quiz": self.quiz_id,
            "labeler": self.labeler,
            "correct": self.correct,
            "total": self.total,
            "score": round(self.score, 4),
            "pass_mark": self.pass_mark,
            "passed": self.record.passed,
            "wrong": self.wrong,
            "record": self.record.model_dump(mode="json"),
        }


def _load_key(path: Path) -> dict[str, Any]:
    key_path = path / KEY_FILE if path.is_dir() else path
    try:
        return json.loads(key_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"{key_path}: no answer key here (give the quiz folder or its {KEY_FILE})"
        ) from exc
    except json.JSONDecodeError as exc:
        raise LabelspecError(f"{key_path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc


def _load_answers(path: Path) -> tuple[str | None, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: answers file not found") from exc
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and not {"question", "answer"} <= set(rows[0]):
            raise LabelspecError(f"{path}: a CSV of answers needs the columns question,answer")
        return None, {r["question"].strip(): r["answer"].strip() for r in rows}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelspecError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        return data.get("quiz"), {str(k): str(v) for k, v in data["answers"].items()}
    if isinstance(data, dict):
        return None, {str(k): str(v) for k, v in data.items()}
    raise LabelspecError(f'{path}: expected {{"quiz": ..., "answers": {{question: answer}}}}')


def grade(ws: Workspace, quiz: Path, answers: Path, labeler: str) -> GradeResult:
    """Score answers against the key and record the training record (pass mark from the spec)."""
    key = _load_key(quiz)
    quiz_in_answers, given = _load_answers(answers)
    if quiz_in_answers and quiz_in_answers != key["quiz"]:
        raise LabelspecError(
            f"{answers} answers quiz {quiz_in_answers}, but the key is for {key['quiz']}"
        )
    expected = {q["id"]: q["answer"] for q in key["questions"]}
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise LabelspecError(
            f"{answers}: questions not in quiz {key['quiz']}: {', '.join(unknown)}"
        )
    get_labeler(ws, labeler)
    wrong = [
        {"question": qid, "expected": answer, "given": given.get(qid)}
        for qid, answer in expected.items()
        if given.get(qid) != answer
    ]
    spec = spec_at(ws, key["guideline"], key["version"])
    pass_mark = spec.quality.training.pass_accuracy
    correct = len(expected) - len(wrong)
    score = correct / len(expected)
    record = record_training(
        ws,
        labeler,
        key["guideline"],
        key["version"],
        method="quiz",
        score=score,
        passed=score >= pass_mark,
        quiz=key["quiz"],
    )
    return GradeResult(key["quiz"], labeler, correct, len(expected), pass_mark, wrong, record)
