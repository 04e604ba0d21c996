"""Training quizzes built from a guideline's own examples, graded into training records.

A quiz is mostly hard cases (counter and borderline examples). ``build_quiz`` writes the folder
that is sent to labelers (``quiz.html``: images inlined, no network, no answers) and, outside
it, the answer key the trainer keeps (``<folder>.key.json`` by default). Each labeler types
their id into the page and saves ``answers-<quiz>-<labeler>.json``. ``grade`` refuses an
incomplete answer file unless told to grade it as incomplete, records the training, and writes
a feedback page with the right answer and the example's ``why`` for every question.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import html
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelspec import nesting
from labelspec.errors import InputError, NotFoundError
from labelspec.guideline.diff import diff_class
from labelspec.guideline.releases import diff, get_release, releases, spec_at
from labelspec.labelers import box_questions
from labelspec.labelers.coverage import Coverage
from labelspec.labelers.roster import LABELER_ID, get_labeler
from labelspec.labelers.staging import staged_page
from labelspec.labelers.training import TrainingRecord, record_training, training_records
from labelspec.repo import Repo
from labelspec.semver import Version
from labelspec.site import drawing
from labelspec.vcs import read_at
from labelspec.yamlio import atomic_write_text

HARD_SHARE = 0.75
NONE_OPTION = "none"
LEGACY_KEY = "answer-key.json"  # quizzes made before the key moved out of the folder
PAGE_FILE = "quiz.html"
MIME = drawing.MIME
esc = html.escape


def key_path_for(folder: Path) -> Path:
    """Where the answer key of a quiz folder lives: beside the folder, never inside it."""
    return folder.with_name(folder.name + ".key.json")


@dataclass
class QuizResult:
    quiz_id: str
    guideline: str
    version: str
    questions: int
    hard: int
    page: Path
    key: Path
    classes: list[str] = field(default_factory=list)  # --changed-since: the classes drawn from
    # --changed-since: the examples about a changed rule, or changed themselves
    examples: list[str] = field(default_factory=list)
    boxes: int = 0  # box questions (detection: which drawn box is right, is this box right)

    def to_json(self) -> dict[str, Any]:
        return {
            "quiz": self.quiz_id,
            "guideline": self.guideline,
            "version": self.version,
            "questions": self.questions,
            "hard": self.hard,
            "box_questions": self.boxes,
            "page": str(self.page),
            "key": str(self.key),
            "classes": self.classes,
            "examples": self.examples,
        }


# -- choosing questions --------------------------------------------------------------------------
def _candidates(spec, seed: int) -> tuple[list[dict], list[dict]]:
    """(hard, easy) questions: one per example, about its drawn boxes when a detection example
    has a drawing to ask about (``box_questions``), else about its class."""
    hard, easy = [], []
    for cls in spec.classes:
        for kind, i, example in cls.examples.all():
            if kind == "positive":
                answer = cls.id
            elif kind == "counter":
                answer = example.label or NONE_OPTION
            else:
                answer = example.decision
            source = f"{cls.id}.{kind}[{i}]"
            item = {
                "source": source,
                "class": cls.id,
                "kind": kind,
                "answer": answer,
                "example": example,
                "box": None,
            }
            if spec.task == "detection":
                item["box"] = box_questions.box_question(example, source, seed)
                if item["box"] is not None:
                    item["answer"] = item["box"]["answer"]
            (easy if kind == "positive" else hard).append(item)
    return hard, easy


def _pick(
    hard: list[dict],
    easy: list[dict],
    n: int,
    seed: int,
    cover: list[str],
    first: list[str] | None = None,
) -> list[dict]:
    """Mostly hard cases; ``first``: these examples (sources) before all; with ``cover``, then
    one question about each of those classes (an example of it, or one whose answer it is),
    hard ones first."""
    rng = random.Random(seed)
    rng.shuffle(hard)
    rng.shuffle(easy)
    chosen: list[dict] = [q for q in hard + easy if q["source"] in (first or [])][:n]
    for class_id in cover[: max(0, n - len(chosen))]:
        about = [q for q in hard + easy if class_id in (q["class"], q["answer"])]
        fresh = next((q for q in about if q not in chosen), None)
        if fresh is not None:
            chosen.append(fresh)
    want_hard = min(len(hard), math.ceil(n * HARD_SHARE))
    have_hard = sum(1 for q in chosen if q["kind"] != "positive")
    chosen += [q for q in hard if q not in chosen][: max(0, want_hard - have_hard)]
    chosen += [q for q in easy if q not in chosen][: max(0, n - len(chosen))]
    chosen += [q for q in hard if q not in chosen][: max(0, n - len(chosen))]
    rng.shuffle(chosen)
    return chosen[:n]


def build_quiz(
    ws: Repo,
    guideline: str,
    out: Path,
    version: str | None = None,
    n: int = 20,
    seed: int = 0,
    changed_since: str | None = None,
    key: Path | None = None,
) -> QuizResult:
    """Write the quiz page into ``out`` (the folder to send) and the answer key beside it.

    ``changed_since``: draw only questions about the classes that changed since that release
    (a retraining quiz), at least one about each of them."""
    if n < 1:
        raise InputError("--n must be at least 1")
    out, key = (
        Path(out).resolve(),
        Path(key).resolve() if key else key_path_for(Path(out).resolve()),
    )
    if out in key.parents:
        raise InputError(
            f"--key {key} is inside {out}, the folder labelers get; put the answer key elsewhere"
        )
    if version is None:
        released = releases(ws, guideline)
        if not released:
            ws.spec_path(guideline)  # an unknown name: "did you mean", the known ones
            raise NotFoundError(
                f"guideline {guideline!r} has no release yet; release it before quizzing"
            )
        version = released[-1].version
    release = get_release(ws, guideline, version)
    spec = spec_at(ws, guideline, version)
    hard, easy = _candidates(spec, seed)
    cover: list[str] = []
    picked: list[str] = []
    if changed_since is not None:
        get_release(ws, guideline, changed_since)
        if Version.parse(changed_since) >= Version.parse(version):
            raise InputError(
                f"--changed-since {changed_since} is not before {version}, the version quizzed: a "
                f"retraining quiz asks what changed since an older release of {guideline}"
            )
        cover, picked = _changed(ws, guideline, spec, release.commit, changed_since, version)
        if not cover and not picked:
            raise InputError(
                f"no class, rule or example of {guideline} changed between {changed_since} and "
                f"{version}: a quiz on the whole guideline needs no --changed-since"
            )
        hard = [
            q for q in hard if q["class"] in cover or q["answer"] in cover or q["source"] in picked
        ]
        easy = [q for q in easy if q["class"] in cover or q["source"] in picked]
    chosen = _pick(hard, easy, n, seed, cover, picked)
    if not chosen:
        what = f"of {', '.join(cover)}" if cover else "to build a quiz from"
        raise InputError(f"guideline {guideline} {version} has no examples {what}")
    options = list(spec.class_ids) + (
        [NONE_OPTION] if any(q["answer"] == NONE_OPTION and q["box"] is None for q in hard) else []
    )
    names = {c.id: c.name for c in spec.classes} | {NONE_OPTION: "None of these classes"}
    fingerprint = json.dumps([guideline, version, seed, [q["source"] for q in chosen]])
    quiz_id = "quiz-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    questions = [
        {
            "id": f"q{number:02d}",
            "box": item["box"],
            **_media(ws, guideline, release.commit, item["example"], item["answer"]),
        }
        for number, item in enumerate(chosen, 1)
    ]
    out.mkdir(parents=True, exist_ok=True)
    page = out / PAGE_FILE
    atomic_write_text(page, _quiz_page(quiz_id, spec, questions, options, names))
    key_data = {
        "quiz": quiz_id,
        "guideline": guideline,
        "version": version,
        "digest": release.digest,
        "changed_since": changed_since,
        "options": options,
        "questions": [
            {
                "id": q["id"],
                "answer": item["answer"],
                "kind": item["kind"],
                "source": item["source"],
                "type": item["box"]["type"] if item["box"] else "class",
                **({k: item["box"][k] for k in ("options", "candidates")} if item["box"] else {}),
            }
            for q, item in zip(questions, chosen, strict=True)
        ],
    }
    key.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(key, json.dumps(key_data, indent=2) + "\n")
    n_hard = sum(1 for item in chosen if item["kind"] != "positive")
    n_boxes = sum(1 for item in chosen if item["box"])
    return QuizResult(
        quiz_id, guideline, version, len(chosen), n_hard, page, key, cover, picked, n_boxes
    )


def _changed(
    ws: Repo, guideline: str, spec, commit: str, since: str, version: str
) -> tuple[list[str], list[str]]:
    """(classes changed as a whole, sources of the examples about what changed otherwise)
    between releases ``since`` and ``version``: the examples about a rule added, edited or
    removed, or scoped by a change (``box_questions.about_rules``), and the examples added or
    edited themselves."""
    scopes = Coverage(ws, guideline, records=[]).scopes(since, version)
    cover = [c for c, found in scopes.items() if found is None and spec.get_class(c)]
    lo, hi = sorted((since, version), key=Version.parse)
    change = diff(ws, guideline, lo, hi)
    rules = {*change.rules["added"], *change.rules["removed"], *change.rules["changed"]}
    rules |= {s.rule for found in scopes.values() for s in found or []}
    sizes = {
        ex.image: size
        for cls in spec.classes
        for _k, _i, ex in cls.examples.all()
        if drawing.drawn(ex)
        and (size := drawing.size_of(_media_bytes(ws, guideline, commit, ex.image))) is not None
    }
    picked = box_questions.about_rules(spec, rules, sizes)
    older = spec_at(ws, guideline, since)
    for cls in spec.classes:
        before = older.get_class(cls.id)
        edits = diff_class(before, cls) if before is not None else []
        touched = {
            (entry["field"].removeprefix("examples."), key)
            for entry in edits
            if entry["field"].startswith("examples.")
            for key in [*entry["added"], *entry["changed"]]
        }
        for kind, i, ex in cls.examples.all():
            source = f"{cls.id}.{kind}[{i}]"
            if (
                kind,
                ex.image if ex.image is not None else ex.text,
            ) in touched and source not in picked:
                picked.append(source)
    return cover, picked


def _media_bytes(ws: Repo, guideline: str, commit: str, image: str) -> bytes:
    # The image as released, even when DVC tracks it and it changed since.
    return read_at(ws.root, commit, ws.guideline_dir(guideline) / image, ws.git)


def asked_span(example, answer: str) -> list[int] | None:
    """[start, end] of the span a class question on a text example asks about: the first one
    labeled with the answer (a sentence can hold spans of several classes, so the question marks
    which words it means). None: the text as a whole (no span has that label)."""
    return next(([s.start, s.end] for s in example.spans if s.label == answer), None)


def _media(ws: Repo, guideline: str, commit: str, example, answer: str) -> dict[str, Any]:
    if example.image is None:
        span = asked_span(example, answer)
        return {"text": example.text, "image": None, "size": None, "span": span}
    data = _media_bytes(ws, guideline, commit, example.image)
    mime = MIME.get(Path(example.image).suffix.lower(), "application/octet-stream")
    return {
        "text": None,
        "image": f"data:{mime};base64,{base64.b64encode(data).decode()}",
        "size": drawing.size_of(data),
    }


# -- the pages -------------------------------------------------------------------------------------
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
    "fieldset{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}"
    "legend{font-weight:600;padding:0 .3rem}.q img{border:1px solid #eee;display:block;margin:.3rem 0 .6rem}"
    ".q label{display:inline-block;margin:.25rem .9rem .25rem 0}.text{font-size:1.2rem;background:#f6f6f6;padding:.5rem}"
    "footer{position:sticky;bottom:0;background:#fff;padding:1rem 0;border-top:1px solid #ccc}"
    ".who{display:flex;gap:.6rem;align-items:center}.who input{font-size:1rem;padding:.3rem}"
    ".right{border-color:#2e7d32}.wrong{border-color:#c62828}.verdict{font-weight:600}"
    ".right .verdict{color:#2e7d32}.wrong .verdict{color:#c62828}"
    ".q .ls-drawn{margin:.3rem 0}.q .ls-drawn img{width:320px;height:auto;max-width:100%;display:block;"
    "image-rendering:pixelated;border:1px solid #eee}.legend{margin:.2rem 0 .4rem;padding-left:1.2rem}"
    ".prompt{font-weight:600;margin:.4rem 0}" + drawing.CSS
)
SCRIPT = """
const quiz = document.body.dataset.quiz, total = Number(document.body.dataset.total);
const who = document.getElementById('labeler'), save = document.getElementById('save');
const pattern = new RegExp(who.getAttribute('pattern'));
function collect() {
  const a = {};
  document.querySelectorAll('input[type=radio]:checked').forEach(i => { a[i.name] = i.value; });
  return a;
}
function update() {
  const answered = Object.keys(collect()).length, id = who.value.trim();
  document.getElementById('count').textContent = answered;
  const missing = total - answered;
  document.getElementById('missing').textContent = missing ? missing + ' unanswered: your trainer will see the quiz as incomplete.' : '';
  save.disabled = !pattern.test(id);
}
document.addEventListener('input', update);
document.addEventListener('change', update);
save.addEventListener('click', () => {
  const labeler = who.value.trim(), answers = collect();
  const data = {quiz: quiz, labeler: labeler, complete: Object.keys(answers).length === total, answers: answers};
  const blob = new Blob([JSON.stringify(data, null, 2)], {type: 'application/json'});
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = 'answers-' + quiz + '-' + labeler + '.json';
  link.click();
});
update();
"""


def _question_media(q: dict, number: int, names: dict | None = None, reveal: bool = False) -> str:
    if q.get("box") and q["image"] and q.get("size"):
        return box_questions.media(q["box"], q["image"], q["size"], names or {}, number, reveal)
    if q["image"]:
        return f'<img src="{q["image"]}" alt="Question {number}: the item to label" width="160" height="160">'
    text, span = q["text"] or "", q.get("span")
    if span:
        start, end = span
        text_html = f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"
    else:
        text_html = esc(text)
    return f'<blockquote class="text">{text_html}</blockquote>'


def _prompt(q: dict) -> str:
    if q.get("box"):
        return box_questions.PROMPTS[q["box"]["type"]]
    if q.get("span"):
        return "Which class should the marked words be labeled as?"
    return "Which class should it be labeled as?"


def _quiz_page(quiz_id: str, spec, questions: list[dict], options: list[str], names: dict) -> str:
    blocks = []
    for number, q in enumerate(questions, 1):
        words = box_questions.option_words(q["box"], names) if q.get("box") else names
        listed = q["box"]["options"] if q.get("box") else options
        choices = "".join(
            f'<label><input type="radio" name="{esc(q["id"])}" value="{esc(o)}"> {esc(words.get(o, o))}</label>'
            for o in listed
        )
        blocks.append(
            f'<fieldset class="q" id="{esc(q["id"])}"><legend>Question {number} of {len(questions)}</legend>'
            f'{_question_media(q, number, names)}<p class="prompt">{esc(_prompt(q))}</p>'
            f"<div>{choices}</div></fieldset>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Quiz: {esc(spec.title)} {esc(spec.version)}</title><style>{STYLE}</style></head>"
        f'<body data-quiz="{esc(quiz_id)}" data-total="{len(questions)}">'
        f"<h1>{esc(spec.title)}: quiz for version {esc(spec.version)}</h1>"
        f"<p>Quiz <code>{esc(quiz_id)}</code>. Answer each question as the guideline says: the class "
        "an example should be labeled as, or, where boxes are drawn, which box is right. Then type "
        "your labeler id, save your answers and send the file to your trainer.</p>"
        + "".join(blocks)
        + '<footer><p class="who"><label for="labeler">Your labeler id</label>'
        f'<input id="labeler" name="labeler" required autocomplete="off" pattern="{esc(LABELER_ID.pattern)}" '
        'placeholder="e.g. vendor-a-017">'
        '<button id="save" type="button" disabled>Save answers</button></p>'
        f'<p role="status"><span id="count">0</span> of {len(questions)} answered. <span id="missing"></span></p></footer>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def _feedback_page(ws: Repo, key: dict, given: dict[str, str], summary: str) -> str:
    spec = spec_at(ws, key["guideline"], key["version"])
    release = get_release(ws, key["guideline"], key["version"])
    names = {c.id: c.name for c in spec.classes} | {NONE_OPTION: "None of these classes"}
    blocks = []
    for number, question in enumerate(key["questions"], 1):
        class_id, rest = question["source"].split(".", 1)
        kind, index = rest.rstrip("]").split("[")
        example = getattr(spec.get_class(class_id).examples, kind)[int(index)]
        answer, mine = question["answer"], given.get(question["id"])
        right = mine == answer
        verdict = "Right" if right else ("Not answered" if mine is None else "Not quite")
        shown = {**_media(ws, key["guideline"], release.commit, example, answer), "box": None}
        words = names
        if question.get("type", "class") != "class":
            shown["box"] = question
            words = box_questions.option_words(question, names)
        yours = esc(words.get(mine, mine)) if mine else "nothing"
        blocks.append(
            f'<fieldset class="q {"right" if right else "wrong"}"><legend>Question {number}</legend>'
            f"{_question_media(shown, number, names, reveal=True)}"
            f'<p class="verdict">{verdict}.</p><p>You answered {yours}. The answer is '
            f"<strong>{esc(words.get(answer, answer))}</strong>: {esc(example.why)}</p></fieldset>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Quiz feedback: {esc(spec.title)} {esc(spec.version)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(spec.title)} {esc(spec.version)}: your quiz</h1><p>{esc(summary)}</p>"
        + "".join(blocks)
        + "</body></html>\n"
    )


# -- grading ---------------------------------------------------------------------------------------
@dataclass
class GradeResult:
    quiz_id: str
    labeler: str
    correct: int
    total: int
    pass_mark: float
    wrong: list[dict[str, str | None]]
    record: TrainingRecord
    unanswered: list[str] = field(default_factory=list)
    feedback: Path | None = None
    recorded: bool = True  # False: the same grade was on record today already

    @property
    def score(self) -> float:
        return self.correct / self.total

    def to_json(self) -> dict[str, Any]:
        return {
            "quiz": self.quiz_id,
            "labeler": self.labeler,
            "correct": self.correct,
            "total": self.total,
            "score": round(self.score, 4),
            "pass_mark": self.pass_mark,
            "passed": self.record.passed,
            "incomplete": bool(self.unanswered),
            "unanswered": self.unanswered,
            "wrong": self.wrong,
            "record": self.record.model_dump(mode="json"),
            "recorded": self.recorded,
            "feedback": str(self.feedback) if self.feedback else None,
        }


def _graded_today(
    ws: Repo, labeler: str, quiz: str, score: float, passed: bool
) -> TrainingRecord | None:
    """The record of this quiz's grade for ``labeler`` made today, when one says the same."""
    today = dt.date.today()
    for record in training_records(ws):
        if (record.labeler, record.quiz, record.method, record.date) == (
            labeler,
            quiz,
            "quiz",
            today,
        ) and (record.score, record.passed) == (round(score, 4), passed):
            return record
    return None


def _load_key(path: Path) -> dict[str, Any]:
    if path.is_dir():
        found = [p for p in (key_path_for(path.resolve()), path / LEGACY_KEY) if p.is_file()]
        if not found:
            raise NotFoundError(
                f"{path}: no answer key for this quiz folder (looked for {key_path_for(path.resolve()).name} "
                f"beside it); give the key file itself"
            )
        path = found[0]
    try:
        return nesting.loads(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"{path}: no answer key here (give the quiz folder or its key)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc


def _load_answers(path: Path) -> tuple[str | None, str | None, dict[str, str]]:
    """(quiz id, labeler, answers) of an answers file: the page's JSON, or a CSV question,answer."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: answers file not found") from exc
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and not {"question", "answer"} <= set(rows[0]):
            raise InputError(f"{path}: a CSV of answers needs the columns question,answer")
        return (
            None,
            None,
            {
                (r["question"] or "").strip(): (r["answer"] or "").strip()
                for r in rows
                if (r["answer"] or "").strip()  # None: a row shorter than the header
            },
        )
    try:
        data = nesting.loads(text, str(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        labeler = data.get("labeler")
        return data.get("quiz"), str(labeler) if labeler else None, _given(data["answers"])
    if isinstance(data, dict):
        return None, None, _given(data)
    raise InputError(
        f'{path}: expected {{"quiz": ..., "labeler": ..., "answers": {{question: answer}}}}'
    )


def _given(answers: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in answers.items() if v not in (None, "")}


def grade(
    ws: Repo,
    quiz: Path,
    answers: Path,
    labeler: str | None = None,
    incomplete: bool = False,
    feedback: Path | None = None,
    retake: bool = False,
) -> GradeResult:
    """Score answers against the key, record the training (pass mark from the spec) and write
    the feedback page (``feedback``, or ``<answers>.feedback.html`` beside the answers).

    The labeler comes from the answers file (the quiz page writes it) or ``labeler``; answers
    with unanswered questions are refused unless ``incomplete`` says to count those as wrong.
    The same grade of the same quiz on record today already is the same answers graded again:
    nothing is recorded twice, unless ``retake`` says it is a second attempt."""
    key = _load_key(quiz)
    quiz_in_answers, labeler_in_answers, given = _load_answers(answers)
    if quiz_in_answers and quiz_in_answers != key["quiz"]:
        raise InputError(
            f"{answers} answers quiz {quiz_in_answers}, but the key is for {key['quiz']}"
        )
    if labeler and labeler_in_answers and labeler != labeler_in_answers:
        raise InputError(
            f"{answers} was saved by {labeler_in_answers}, not {labeler}; grade it as "
            f"{labeler_in_answers} (or leave out --labeler)"
        )
    labeler = labeler or labeler_in_answers
    if not labeler:
        raise InputError(
            f"{answers} does not say who answered; give --labeler ID (files the quiz page saves carry it)"
        )
    expected = {q["id"]: q["answer"] for q in key["questions"]}
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise InputError(f"{answers}: questions not in quiz {key['quiz']}: {', '.join(unknown)}")
    unanswered = [qid for qid in expected if qid not in given]
    if unanswered and not incomplete:
        listing = ", ".join(unanswered[:10]) + (" ..." if len(unanswered) > 10 else "")
        raise InputError(
            f"{answers} answers {len(expected) - len(unanswered)} of {len(expected)} questions "
            f"(unanswered: {listing}); have {labeler} finish the quiz, or grade it as incomplete "
            "with --incomplete (unanswered questions count as wrong)"
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
    passed = score >= pass_mark
    missing = f" ({len(unanswered)} unanswered)" if unanswered else ""
    summary = (
        f"{labeler}: {correct} of {len(expected)} right{missing}, {score:.0%}; the pass mark is "
        f"{pass_mark:.0%}, so you {'passed' if passed else 'did not pass'}."
    )
    page = _feedback_page(ws, key, given, summary)
    target = Path(feedback) if feedback else answers.with_name(answers.stem + ".feedback.html")
    same = None if retake else _graded_today(ws, labeler, key["quiz"], score, passed)
    # the page is staged beside its destination before the record is committed, and put in
    # place after: a destination that cannot be written records nothing
    with staged_page(target, page):
        record = same or record_training(
            ws,
            labeler,
            key["guideline"],
            key["version"],
            method="quiz",
            score=score,
            passed=passed,
            quiz=key["quiz"],
        )
    result = GradeResult(
        key["quiz"], labeler, correct, len(expected), pass_mark, wrong, record, unanswered
    )
    result.recorded = same is None
    result.feedback = target
    return result
