"""The detection act of ``labelspec demo``: school buses in boxes, yellow pickups as
counterexamples, labeled by a vendor whose country has none.

Forty street scenes drawn on the fly; northside (two careful labelers, one COCO export each)
and southbound (two labelers who have never seen a school bus, Label Studio) label them; an
expert golden set with empty streets; the bake-off counts southbound's pickups boxed as buses;
the gap report names the pair; a detector's predictions rank the box errors; 1.1.0 adds the
pickup as a counterexample; the suspect labels are relabeled; two teammates' clones both hold
every image. Every step is the real ``labelspec`` command, echoed as typed.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
from pathlib import Path

import click

from labelspec import yamlio
from labelspec.demo import output, school_buses, streets
from labelspec.demo.story import Demo, git
from labelspec.repo import Repo
from labelspec.store.items import read_items

SCENES = 40
GOLDEN = 20  # the experts label the first 20 scenes, two empty streets among them
START = "2026-02-02T09:00:00Z"
RULE = (
    "A yellow pickup is not a school bus, however yellow: look for the open bed behind a short "
    "cab. Box it as pickup_truck."
)


# what the school-bus story makes in DIR (replaced on a rerun)
FOLDERS = ("streets", "streets.dvc-storage", "streets-clones", "streets-origin.git")


class DetectionAct(Demo):
    """Runs in its own workspace, ``OUT/streets``, beside the digits story's."""

    def __init__(self, out: Path, echo=click.echo):
        super().__init__(out, echo)
        self.ws = self.out / "streets"
        self.scenes = streets.scenes(SCENES, seed=0)

    def fresh(self) -> None:
        output.replace(self.out, FOLDERS)

    def step_guideline(self) -> None:
        self.say(
            "D1. A detection workspace, and the school-bus guideline: classes school_bus and "
            "pickup_truck, the pictures with the answer drawn on them"
        )
        self.run(f"init {shlex.quote(str(self.ws))} --template detection", cwd=self.out)
        with (self.ws / ".gitignore").open("a") as handle:
            handle.write("/deliveries/\n/exports/\n/relabel/\n/reports/\n")
        school_buses.write(self.ws / "guidelines" / school_buses.NAME)
        self.echo("(wrote guidelines/school-buses/: spec.yaml, docs/index.md, examples/*.png)")
        self.run("check")
        self.shell("git add .gitignore guidelines && git commit -qm 'school-buses guideline'")
        self.run(f"guideline release {school_buses.NAME} --tag-current")

    def step_items(self) -> None:
        self.say(
            f"D2. {SCENES} street scenes from a CSV manifest (split and city columns): the images "
            "go into DVC with the manifest, so every clone gets them"
        )
        photos = self.ws / "deliveries" / "street-photos"
        streets.write_items(photos, self.scenes, photos / "manifest.csv")
        self.run(
            f"items add streets deliveries/street-photos/manifest.csv --guideline {school_buses.NAME}"
        )

    def step_people(self) -> None:
        self.say("D3. Two vendors' labelers, trained on school-buses 1.0.0")
        for crew in streets.CREWS:
            for labeler in crew.labelers:
                self.run(f"labeler add {labeler} --vendor {crew.name}", quiet=True)
                self.run(
                    f"labeler train {labeler} --guideline {school_buses.NAME} --version 1.0.0 "
                    "--method session --score 0.92 --passed --date 2026-01-20",
                    quiet=True,
                )
        self.echo("(added and trained nA-01, nA-02 of northside and sB-01, sB-02 of southbound)")

    def step_deliveries(self) -> None:
        self.say(
            "D4. northside sends one COCO export per labeler, listing every image it was given "
            "(--images-were all: an image without boxes is its 'no objects here'); southbound "
            "sends a Label Studio export, where an empty result says the same"
        )
        north, south = streets.CREWS
        deliveries = self.ws / "deliveries"
        guideline = f"{school_buses.NAME}@1.0.0"
        answers = streets.crew_labels(north, self.scenes, seed=1)
        for labeler in north.labelers:
            mine = [a for a in answers if a["labeler"] == labeler]
            out = streets.write_coco(mine, self.scenes, deliveries / f"{labeler}.coco.json", START)
            self.run(
                f"labels import streets {out.relative_to(self.ws)} --format coco "
                f"--guideline {guideline} --source northside --labeler {labeler} "
                f"--images-were all --cost-per-label {north.cost}"
            )
        user_ids = {labeler: 40 + i for i, labeler in enumerate(south.labelers)}
        users = deliveries / "southbound-users.csv"
        users.write_text("".join(f"{uid},{lab}\n" for lab, uid in user_ids.items()))
        answers = streets.crew_labels(south, self.scenes, seed=2)
        out = streets.write_labelstudio(answers, deliveries / "southbound.json", user_ids, START)
        self.run(
            f"labels import streets {out.relative_to(self.ws)} --format labelstudio "
            f"--guideline {guideline} --source southbound --labeler-map "
            f"{users.relative_to(self.ws)} --cost-per-label {south.cost}"
        )
        self.run("labels show streets")
        self.step_pilot()

    def step_pilot(self) -> None:
        self.say(
            "D4b. Before labelspec, northside's pilot: a YOLO export without images (YOLO files "
            "name no annotator; the vendor's timesheet does) by two labelers no training record "
            "covers: adopted with --history, never refused and never given invented trainings"
        )
        pilot = streets.PILOT
        for labeler in pilot.labelers:
            self.run(f"labeler add {labeler} --vendor {pilot.name}", quiet=True)
        scenes = self.scenes[GOLDEN : GOLDEN + 12]  # none of the golden scenes
        answers = streets.crew_labels(pilot, scenes, seed=3)
        one_each = [a for i, a in enumerate(answers) if a["labeler"] == pilot.labelers[i // 2 % 2]]
        classes, timesheet = streets.write_yolo(one_each, self.ws / "deliveries/pilot-yolo")
        self.run(
            f"labels import streets {classes.relative_to(self.ws)} --format yolo "
            f"--guideline {school_buses.NAME}@1.0.0 --source {pilot.name} --history "
            f"--labelers-per-item {timesheet.relative_to(self.ws)}"
        )
        self.run(f"trace item streets {one_each[0]['item_id']}")

    def step_qa(self) -> None:
        self.say(
            f"D5. An expert golden set of {GOLDEN} scenes, empty streets included; the bake-off "
            "matches boxes across classes, so a pickup boxed as a bus is a confusion, not a miss "
            "plus an extra"
        )
        golden = streets.write_golden(self.scenes[:GOLDEN], self.ws / "deliveries/golden.jsonl")
        self.run(f"golden add streets {golden.relative_to(self.ws)} --format jsonl --name expert")
        self.run("qa bakeoff streets --golden expert --report reports/bakeoff")
        self.say("D6. The gap report names the pair, and says what the guideline lacks")
        self.run("qa gaps streets --golden expert --html reports/gaps.html")
        self.run("qa agreement streets")
        self.run("labeler stats streets --golden expert")
        self.run("labels resolve streets --method dawid-skene")

    def step_model(self) -> None:
        self.say(
            "D7. A detector's predictions against the labels: missing boxes, extra boxes, wrong "
            "classes and badly placed boxes, ranked"
        )
        predictions = streets.detector_predictions(
            self.scenes, self.ws / "deliveries/detector.jsonl"
        )
        self.run(
            f"qa disagreements streets --predictions {predictions.relative_to(self.ws)} --top 8 "
            "--html reports/box-disagreements.html"
        )
        self.run("qa sample streets --n 20 --by source --out reports/sample.html")

    def step_release(self) -> None:
        self.say(
            "D8. 1.1.0: the pickup becomes school_bus's counterexample, with a rule; retraining "
            "and the impact"
        )
        spec_path = self.ws / "guidelines" / school_buses.NAME / "spec.yaml"
        doc = yamlio.Document.load(spec_path)
        bus = next(c for c in doc.data["classes"] if c["id"] == "school_bus")
        bus["examples"]["counter"] = [
            {
                "image": "examples/pickup.png",
                "label": "pickup_truck",
                "why": "A cab and an open bed, no row of windows: a pickup, even when yellow.",
            }
        ]
        doc.data["rules"].append(
            {"id": "R3", "text": RULE, "applies_to": ["school_bus", "pickup_truck"]}
        )
        doc.data["changelog"].append(
            {
                "version": "unreleased",
                "summary": "A yellow pickup is not a school bus",
                "affects": ["school_bus", "pickup_truck"],
                "relabel": "required",
            }
        )
        doc.save()
        self.run("check")
        git(self.ws, "commit", "-qam", "school-buses: the pickup counterexample")
        self.run(f"guideline release {school_buses.NAME} --bump minor -m 'From the bake-off'")
        for labeler in streets.CREWS[1].labelers:
            self.run(
                f"labeler train {labeler} --guideline {school_buses.NAME} --version 1.1.0 "
                "--method session --score 0.95 --passed",
                quiet=True,
            )
        self.echo("(southbound's labelers retrained on 1.1.0 with `labelspec labeler train`)")
        self.run(f"trace impact streets --guideline {school_buses.NAME} --by city")

    def step_relabel(self) -> None:
        self.say(
            "D9. Relabel southbound's suspect scenes, the detector's worst first; the answers "
            "supersede the old boxes, which stay in the history"
        )
        self.run(
            f"relabel plan streets --guideline {school_buses.NAME} --segment source=southbound "
            "--priority model --model-predictions deliveries/detector.jsonl --out relabel/1.1.0"
        )
        plan_id = json.loads((self.ws / "relabel/1.1.0/plan.json").read_text())["plan"]
        south = streets.CREWS[1]
        user_ids = {labeler: 40 + i for i, labeler in enumerate(south.labelers)}
        answers = streets.relabel_answers(
            self.ws / "relabel/1.1.0/tasks.labelstudio.json",
            self.scenes,
            user_ids,
            self.ws / "deliveries/relabel-export.json",
            # answered after the retraining just recorded (a training covers later labels)
            (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat(timespec="seconds"),
        )
        self.run(
            f"relabel merge streets {plan_id} {answers.relative_to(self.ws)} --format labelstudio "
            "--labeler-map deliveries/southbound-users.csv"
        )
        self.run("labels log streets")  # each batch's boxes and "no objects" answers apart
        self.run("qa bakeoff streets --golden expert --labels current")
        self.run("verify")

    def step_trainset(self) -> None:
        self.say(
            "D10. From labels to a model: split by the scenes' own column, the golden scenes as "
            "eval (never trained on); northside's 1.0.0 boxes are suspect under 1.1.0: kept, and "
            "flagged"
        )
        self.run(
            "trainset create streets-v1 --dataset streets --method dawid-skene "
            "--min-confidence 0.8 --split-by split --suspect include"
        )
        self.run("trainset show streets-v1")
        self.run("trainset export streets-v1 --format yolo --out exports/streets-v1")
        # for a labeling team on Label Studio: tasks whose images its local-files storage serves
        self.run(
            "labels export streets --format labelstudio --labelstudio-local-files "
            "--out exports/streets.labelstudio.json"
        )
        self.run("trainset card streets-v1 --out reports/streets-v1.card.md")

    def step_team(self) -> None:
        self.say(
            "D11. A teammate's fresh clone gets every image (from the DVC remote) and verifies"
        )
        origin = self.out / "streets-origin.git"
        if origin.exists():
            shutil.rmtree(origin)
        self.shell(f"git init -q --bare --initial-branch=main {origin}", cwd=self.out)
        self.shell(f"git remote add origin {origin}")
        self.run("push")
        clones = self.out / "streets-clones"
        clones.mkdir(exist_ok=True)
        fresh = clones / "teammate"
        self.shell(f"git clone -q {origin} {fresh}", cwd=clones)
        self.run("pull", cwd=fresh)

        items = read_items(Repo(fresh), "streets")
        present = sum((fresh / p).is_file() for p in items.column("path").to_pylist() if p)
        if present != items.num_rows:
            raise click.ClickException(
                f"demo: the fresh clone holds {present} of {items.num_rows} images"
            )
        self.echo(f"The fresh clone holds all {present} street images; verify is clean there.")

    def main(self) -> None:
        self.fresh()
        self.step_guideline()
        self.step_items()
        self.step_people()
        self.step_deliveries()
        self.step_qa()
        self.step_model()
        self.step_release()
        self.step_relabel()
        self.step_trainset()
        self.step_team()
        self.say("Done: the detection story")
        self.echo(f"The workspace is in {self.ws}; reports in {self.ws / 'reports'}.")


def run_detection(out: Path | str) -> Path:
    act = DetectionAct(Path(out))
    act.main()
    return act.ws
