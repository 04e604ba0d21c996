"""``labelspec demo``: build a fresh workspace and run the main flows end to end, narrating.

Every step is a real ``labelspec`` command run in-process, echoed as the user would type it, so
the demo doubles as a tour of the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import click

from labelspec import yamlio
from labelspec.cli import cli
from labelspec.demo import output, simulate
from labelspec.labels.history import log, show
from labelspec.qa.bakeoff import bakeoff
from labelspec.repo import Repo
from labelspec.store.query import connect
from labelspec.store.reviews import list_reviews

ITEMS = 300
GOLDEN = 150
ONE_SEVEN_RULE = (
    "Measure the top stroke: at least half the digit's width makes a seven, shorter is a flag and "
    "the digit is a one. A crossbar on the stem does not decide it."
)

# what the digits story makes in DIR (replaced on a rerun)
FOLDERS = (
    "workspace",
    "workspace.dvc-storage",
    "origin.git",
    "teammate-a",
    "teammate-b",
    "fresh-clone",
)

BROKEN_EDITS = {
    "confusable_with: [seven]": "confusable_with: [seven, siete]",
    "- {image: examples/one_typical_2.png,": "- {image: examples/one_typical_3.png,",
    "version: 1.0.0\nowners": "version: 1.0\nowners",
    "definition: Two closed loops stacked, touching": "defintion: Two closed loops stacked,",
}


class Demo:
    def __init__(self, out: Path, echo: Callable[[str], None] = click.echo):
        self.out = out.resolve()
        self.ws = self.out / "workspace"
        self.echo = echo
        self.truth: list[tuple[str, int]] = []

    def say(self, text: str) -> None:
        self.echo(click.style(f"\n## {text}", bold=True))

    def run(
        self, command: str, expect_fail: bool = False, cwd: Path | None = None, quiet: bool = False
    ) -> int:
        """Run one labelspec command in-process, echoed as typed (``quiet`` hides its output)."""

        if not quiet:
            self.echo(click.style(f"$ labelspec {command}", fg="cyan"))
        previous = Path.cwd()
        os.chdir(cwd or self.ws)
        sink = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
        try:
            with sink:
                cli.main(args=shlex.split(command), prog_name="labelspec", standalone_mode=False)
            code = 0
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        finally:
            os.chdir(previous)
        if bool(code) != expect_fail:
            raise click.ClickException(
                f"demo step `labelspec {command}` exited {code}, expected the opposite"
            )
        return code

    def fresh(self) -> None:
        output.replace(self.out, FOLDERS)
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

    def step_init(self) -> None:
        self.say("1. Create a workspace: git + DVC + the digits guideline, in one commit")
        self.run(f"init {shlex.quote(str(self.ws))}", cwd=self.out)
        # Vendor deliveries, exports and reports stay out of git in the demo.
        with (self.ws / ".gitignore").open("a") as handle:
            handle.write(
                "/deliveries/\n/exports/\n/quizzes/\n/relabel/\n/reports/\n/reviews/\n/site-versions/\n"
            )
        git(self.ws, "commit", "-qm", "demo: keep deliveries and reports out of git", ".gitignore")
        self.run("check")

    def step_broken_spec(self) -> None:
        self.say("2. A spec with mistakes: `check` lists every one with its line, and exits 1")
        spec = self.ws / "guidelines/digits/spec.yaml"
        original = spec.read_text()
        broken = original
        for old, new in BROKEN_EDITS.items():
            broken = broken.replace(old, new, 1)
        yamlio.atomic_write_text(spec, broken)
        try:
            self.run("check", expect_fail=True)
        finally:
            yamlio.atomic_write_text(spec, original)
        self.run("check")

    # -- labelers, items and three vendors' deliveries -------------------------------------------
    def step_people(self) -> None:
        self.say("3. Labelers (pseudonymous ids) and their training on 1.0.0")
        for vendor in simulate.VENDORS:
            for labeler in vendor.labelers:
                self.run(f"labeler add {labeler} --vendor {vendor.name}", quiet=True)
        self.echo("(added 6 labelers with `labelspec labeler add ID --vendor V`)")
        self.run("labeler list")
        self.run("labeler quiz digits --n 12 --out quizzes/digits-1.0.0")
        answers = self._answers(
            self.ws / "quizzes/digits-1.0.0", 1, self.ws / "quizzes/answers-vA-01.json", "vA-01"
        )
        self.run(f"labeler grade quizzes/digits-1.0.0 {answers.relative_to(self.ws)}")
        for vendor in simulate.VENDORS:
            for labeler in vendor.labelers:
                if labeler != "vA-01":
                    self.run(
                        f"labeler train {labeler} --guideline digits --version 1.0.0 --method session --score 0.9 --passed",
                        quiet=True,
                    )
        self.echo("(recorded training sessions for the other five with `labelspec labeler train`)")
        self.run("labeler status")

    def _answers(self, quiz: Path, wrong: int, out: Path, labeler: str) -> Path:
        """The file the quiz page saves when ``labeler`` answers (``wrong`` of them wrongly);
        the answer key sits beside the quiz folder, never in it."""
        key = json.loads(quiz.with_name(quiz.name + ".key.json").read_text())
        answers = {q["id"]: q["answer"] for q in key["questions"]}
        for question in key["questions"][:wrong]:
            answers[question["id"]] = next(o for o in key["options"] if o != question["answer"])
        out.write_text(
            json.dumps({"quiz": key["quiz"], "labeler": labeler, "answers": answers}, indent=2)
        )
        return out

    def step_items_and_labels(self) -> None:
        self.say(
            f"4. Register {ITEMS} digit items, then take in three vendors' deliveries in three formats"
        )
        # One folder per delivery of files: each `items add` then writes files of its own.
        self.truth = simulate.write_items(self.ws / "datasets/digits/items/uci-test", ITEMS)
        self.run("items add digits datasets/digits/items/uci-test")
        deliveries = self.ws / "deliveries"
        user_ids = {labeler: 100 + i for i, labeler in enumerate(simulate.VENDORS[0].labelers)}
        (deliveries / "vendor-a-users.csv").parent.mkdir(parents=True, exist_ok=True)
        (deliveries / "vendor-a-users.csv").write_text(
            "".join(f"{uid},{lab}\n" for lab, uid in user_ids.items())
        )
        for seed, vendor in enumerate(simulate.VENDORS):
            labels = simulate.vendor_labels(vendor, self.truth, seed=seed)
            out = simulate.write_delivery(vendor, labels, deliveries, user_ids)
            # Label Studio exports carry no cost: the vendor's rate comes from the contract.
            extra = (
                f" --labeler-map deliveries/vendor-a-users.csv --cost-per-label {vendor.cost}"
                if vendor.tool == "labelstudio"
                else ""
            )
            self.run(
                f"labels import digits {out.relative_to(self.ws)} --format {vendor.tool} "
                f"--guideline digits@1.0.0 --source {vendor.name}{extra}"
            )
        bad = deliveries / "vendor-c-late.jsonl"
        bad.write_text(
            '{"item_id": "digit-0000.png", "labeler": "vC-01", "class": "siete"}\n'
            '{"item_id": "digit-9999.png", "labeler": "vC-09", "class": "one"}\n'
            '{"item_id": "digit-0001.png", "labeler": "vC-01", "class": "one", "attributes": {"legible": "maybe"}}\n'
            '{"item_id": "digit-0002.png", "labeler": "vC-01", "class": "two"\n'
        )
        self.say("5. A bad delivery: every problem is listed with its line, and nothing is written")
        self.run(
            f"labels import digits {bad.relative_to(self.ws)} --format jsonl --guideline digits@1.0.0 --source vendor-c",
            expect_fail=True,
        )
        bad.write_text("\n".join(bad.read_text().splitlines()[:3]) + "\n")
        self.run(
            f"labels import digits {bad.relative_to(self.ws)} --format jsonl --guideline digits@1.0.0 --source vendor-c",
            expect_fail=True,
        )

    def step_snapshots(self) -> None:
        self.say(
            "6. Every commit is a snapshot: the batches, counts, a diff, a COCO export, and verify"
        )
        self.run("labels log digits")
        self.run("labels show digits")
        first = self._commit_of_import(0)
        self.run(f"labels diff digits {first} HEAD")
        self.shell("git tag delivered-1.0.0  # any revision names a snapshot; a tag you choose too")
        self.run("labels show digits --snapshot HEAD~1")
        self.run("labels export digits --format coco --out exports/digits.coco.json")
        self.run("verify")
        self.say("6b. A delivery imported by mistake leaves through a retraction, never a rewrite")
        wrong = self.ws / "deliveries/vendor-b-other-project.jsonl"
        labeler = simulate.VENDORS[1].labelers[0]
        wrong.write_text(
            "".join(
                f'{{"item_id": "digit-{i:04d}.png", "labeler": "{labeler}", "class": "zero"}}\n'
                for i in range(3)
            )
        )
        self.run(
            f"labels import digits {wrong.relative_to(self.ws)} --format jsonl "
            f"--guideline digits@1.0.0 --source {simulate.VENDORS[1].name}"
        )
        batch = self._newest_batch()
        self.run(f'labels retract {batch} --reason "meant for another project"')
        self.run("labels log digits")
        self.run("verify")

    # -- trust but verify ----------------------------------------------------------------------
    def step_qa(self) -> None:
        self.say(
            f"7. Trust but verify: an expert golden set of {GOLDEN} items, then a vendor bake-off"
        )
        golden = simulate.write_golden(
            self.truth[:GOLDEN], self.ws / "deliveries/expert-golden.jsonl"
        )
        self.run(f"golden add digits {golden.relative_to(self.ws)} --format jsonl --name expert")
        self.run("qa bakeoff digits --golden expert --report reports/qa")
        self.say(
            "8. Where do labelers disagree, and what should the guideline say? (vendor-b mixes up 1 and 7)"
        )
        self.run("qa gaps digits --golden expert --top 3 --html reports/gaps.html")
        self.run("qa agreement digits")
        self.run("labeler stats digits --golden expert")
        self.run("qa sample digits --n 30 --by source --out reports/sample.html")

    # -- a guideline release --------------------------------------------------------------------
    def step_release(self) -> None:
        self.say(
            "9. Clarify 1 vs 7 on a branch (a rule, a decision-tree node), review it like a pull "
            "request, merge, release 1.1.0"
        )
        self.shell("git checkout -q -b clarify-1-7")
        spec_path = self.ws / "guidelines/digits/spec.yaml"
        doc = yamlio.Document.load(spec_path)
        classes = {c["id"]: c for c in doc.data["classes"]}
        classes["one"]["definition"] = (
            "A single vertical or slanted stroke. A flag at the top counts only when it is shorter than "
            "half the digit's width."
        )
        classes["seven"]["definition"] = (
            "A top bar at least half the digit's width, joined to a diagonal stroke."
        )
        doc.data["rules"].append(
            {"id": "R4", "text": ONE_SEVEN_RULE, "applies_to": ["one", "seven"]}
        )
        doc.data["decision_tree"].insert(
            0,
            {
                "id": "top-bar",
                "question": "Does the top bar span at least half of the digit's width?",
                "yes": "seven",
                "no": "one",
            },
        )
        classes["seven"]["examples"]["borderline"][0]["rule"] = "R4"
        classes["one"]["examples"]["borderline"][0]["rule"] = "R4"
        doc.data["changelog"].append(
            {
                "version": "unreleased",
                "summary": "Tell ones from sevens by the length of the top bar",
                "affects": ["one", "seven"],
                "relabel": "required",
            }
        )
        doc.save()
        self.run("check")
        self.run("guideline diff digits 1.0.0")
        git(self.ws, "commit", "-qam", "digits: tell ones from sevens by the top bar")
        self.say(
            "9a. The review a pull request gets: word diffs, pictures, the bump, the impact "
            "(equal to `trace impact --preview`), who to retrain"
        )
        self.run("guideline review digits")
        self.run("guideline review digits --out reviews/1.1.0", quiet=True)
        self.run("guideline review digits --format html --out reviews/1.1.0", quiet=True)
        self.echo(
            "(written with --out: reviews/1.1.0/review.md with its pictures, and review.html with "
            "the pictures side by side)"
        )
        self.run("trace impact digits --guideline digits --preview")
        self.shell(
            "git checkout -q main && git merge -q --ff-only clarify-1-7  # the pull request is merged"
        )
        self.run('guideline release digits --bump minor -m "From the February label review"')
        self.run("guideline log digits")
        self.run("labeler status --guideline digits")
        self.say(
            "10. Retrain: a quiz on what 1.1.0 changed, graded with feedback; the labeler is current"
        )
        self.run(
            "labeler quiz digits --version 1.1.0 --changed-since 1.0.0 --n 8 --seed 7 "
            "--out quizzes/digits-1.1.0"
        )
        answers = self._answers(
            self.ws / "quizzes/digits-1.1.0", 0, self.ws / "quizzes/answers-vB-01.json", "vB-01"
        )
        self.run(f"labeler grade quizzes/digits-1.1.0 {answers.relative_to(self.ws)}")
        self.run("labeler status --guideline digits")

    # -- trace and relabel ------------------------------------------------------------------------
    def step_trace_and_relabel(self) -> None:
        self.say(
            "11. Which labels did 1.1.0 make suspect? Ones, sevens (and twos, confusable with sevens)"
        )
        self.run("trace impact digits --guideline digits")
        self.run("trace labeler digits vB-02")
        self.say(
            "12. Plan the relabel: model-disagreement first, as Label Studio tasks (nothing pre-filled)"
        )
        predictions = simulate.model_predictions(
            self.truth, self.ws / "deliveries/model-predictions.jsonl"
        )
        self.run(
            "relabel plan digits --guideline digits --priority model "
            f"--model-predictions {predictions.relative_to(self.ws)} --out relabel/1.1.0"
        )
        plan_id = json.loads((self.ws / "relabel/1.1.0/plan.json").read_text())["plan"]
        self.run(
            "labeler train vA-01 --guideline digits --version 1.1.0 --method session --score 0.95 --passed"
        )
        self.say(
            "13. Retrained labelers relabel in Label Studio; the export is merged, except 10 items still open"
        )
        relabelers = {"vA-01": 100, "vB-01": 101}
        users = self.ws / "deliveries/relabel-users.csv"
        users.write_text("".join(f"{uid},{lab}\n" for lab, uid in relabelers.items()))
        results = simulate.relabel_results(
            self.ws / "relabel/1.1.0/tasks.labelstudio.json",
            self.truth,
            relabelers,
            self.ws / "deliveries/relabel-export.json",
            skip=10,
        )
        self.run(
            f"relabel merge digits {plan_id} {results.relative_to(self.ws)} --format labelstudio "
            f"--labeler-map {users.relative_to(self.ws)}"
        )
        self.run("relabel status digits")
        self.run("labels diff digits delivered-1.0.0 HEAD")
        self.run("trace impact digits --guideline digits")
        self.say("14. The old labels are superseded, not lost: an item's whole lineage")
        changed = self._a_changed_item()
        self.run(f"trace item digits {changed}")
        self.run("verify")
        self.step_fair_bakeoff()

    # -- a fair bake-off after the relabel, and reviews ---------------------------------------
    def step_fair_bakeoff(self) -> None:

        self.say(
            "14a. The bake-off after the relabel: each vendor is still judged on what it "
            "delivered (the relabel is its own source), on all 150 golden items"
        )
        self.run("qa bakeoff digits --golden expert --report reports/qa-after-relabel")
        result = bakeoff(Repo(self.ws), "digits", "expert", boot=200)
        order = [e["source"] for e in result["ranking"]]
        items = {s: r["items"] for s, r in result["sources"].items()}
        if order[-1] != "vendor-b" or set(items.values()) != {GOLDEN}:
            raise click.ClickException(
                f"demo: after the relabel the bake-off ranks {order} on {items} golden items; "
                f"expected vendor-b last on all {GOLDEN}"
            )
        for source, r in result["sources"].items():
            if r["cost_per_correct_label"] < r["cost_per_label"]:
                raise click.ClickException(f"demo: {source}'s $/correct is below its $/label")
        report = self.ws / "reports/qa-after-relabel"
        page = (report / "report.html").read_text()
        drill = sorted((report / "drill").glob("*.html"))
        if 'id="verdict"' not in page or not drill or "drill/" not in page:
            raise click.ClickException("demo: the report lacks its verdict or drill-down pages")
        self.echo(
            f"vendor-b is last on {GOLDEN} golden items; the report has a verdict and "
            f"{len(drill)} drill-down pages (reports/qa-after-relabel/drill/)"
        )
        self.say(
            "14b. Scored on the current labels instead (--labels current), the relabelled "
            "vendors cover fewer golden items and their superseded mistakes are gone: not a "
            "comparison of deliveries, which is why it is not the default"
        )
        self.run("qa bakeoff digits --golden expert --labels current")

    def step_review(self) -> None:
        self.say(
            "14c. A reviewer accepts or rejects sampled labels in the gallery and saves a review "
            "file (here written as the page's Save button writes it); it is recorded, and the "
            "rejected labels become a relabel plan"
        )
        self.run("qa sample digits --n 150 --by source --seed 3 --out reports/review-sample.html")
        review = simulate.review_from_gallery(
            self.ws / "reports/review-sample.html",
            dict(self.truth),
            "rev-01",
            self.ws / "deliveries/review-rev-01.json",
        )
        verdicts = json.loads(review.read_text())["verdicts"]
        rejected = sorted({v["label_id"] for v in verdicts if v["verdict"] == "reject"})
        self.run(f"qa review import {review.relative_to(self.ws)}")
        self.run("qa review list digits")
        review_id = self._newest_review()
        self.run(
            f"relabel plan digits --guideline digits --from-review {review_id} --out relabel/review"
        )
        plan = json.loads((self.ws / "relabel/review/plan.json").read_text())
        planned = {a for item in plan["items"] for a in item["annotations"]}
        if not rejected or len(planned) != len(rejected):
            raise click.ClickException(
                f"demo: {len(rejected)} label(s) rejected in review but {len(planned)} planned"
            )
        self.echo(f"{len(rejected)} rejected label(s) -> {len(plan['items'])} item(s) to relabel")
        self.run("labeler stats digits --golden expert")

    def _newest_review(self) -> str:

        return list_reviews(Repo(self.ws), "digits")[-1]["review"]

    # -- the instruction site -------------------------------------------------------------------
    def step_site(self) -> None:
        self.say(
            "15. The instruction site for labelers: built from the working tree, and one version per release"
        )
        self.run("site build")
        self.run("site publish digits --version 1.0.0 --folder site-versions --no-branch")
        self.run("site publish digits --folder site-versions")
        self.echo(
            f"Browse it offline: `cd {self.ws} && labelspec site serve --folder site-versions` and open "
            "http://127.0.0.1:8000/digits/ (search 'seven', read 'What changed in 1.1.0', switch to 1.0.0)."
        )

    # -- a team -----------------------------------------------------------------------------------
    def step_team(self) -> None:
        self.say("16. A team: two clones write at the same time and merge with a plain `git pull`")
        origin = self.out / "origin.git"
        if origin.exists():
            shutil.rmtree(origin)
        self.shell(f"git init -q --bare --initial-branch=main {origin}", cwd=self.out)
        self.shell(f"git remote add origin {origin}")
        self.run("push")
        clones = {name: self.out / name for name in ("teammate-a", "teammate-b", "fresh-clone")}
        for path in clones.values():
            if path.exists():
                shutil.rmtree(path)
        a, b, fresh = clones.values()
        for path in (a, b):
            self.shell(f"git clone -q {origin} {path.name}", cwd=self.out)
            self.run("pull", cwd=path, quiet=True)
        self.echo("(two teammates cloned the workspace and ran `labelspec pull`)")
        self.say("16a. Teammate A merges the 10 relabel answers still open")
        plan_id = json.loads((self.ws / "relabel/1.1.0/plan.json").read_text())["plan"]
        users = self.ws / "deliveries/relabel-users.csv"
        results = simulate.relabel_results(
            self.ws / "relabel/1.1.0/tasks.labelstudio.json",
            self.truth,
            {"vA-01": 100, "vB-01": 101},
            a / "late-relabel-export.json",
            last=10,
        )
        self.run(
            f"relabel merge digits {plan_id} {results.name} --format labelstudio "
            f"--labeler-map {users}",
            cwd=a,
        )
        self.say(
            "16b. Meanwhile teammate B trains vendor-c on 1.1.0, takes a second delivery, adds golden v2"
        )
        for labeler in ("vC-01", "vC-02"):
            self.run(
                f"labeler train {labeler} --guideline digits --version 1.1.0 --method session "
                "--score 0.93 --passed",
                cwd=b,
            )
        vendor_c = simulate.VENDORS[2]
        labels = simulate.vendor_labels(vendor_c, self.truth[200:240], seed=21, accuracy_boost=0.1)
        simulate.write_jsonl(labels, b / "vendor-c-second.jsonl")
        self.run(
            "labels import digits vendor-c-second.jsonl --format jsonl --guideline digits@1.1.0 "
            "--source vendor-c",
            cwd=b,
        )
        golden = simulate.write_golden(self.truth[:GOLDEN], b / "expert-golden-1.1.0.jsonl")
        self.run(
            f"golden add digits {golden.name} --format jsonl --name expert --guideline digits@1.1.0",
            cwd=b,
        )
        self.say("16c. Both push: B's push waits for a pull, which merges with git, then lands")
        self.run("push", cwd=a)
        self.run("push", cwd=b, expect_fail=True)
        self.run("pull", cwd=b)
        self.run("push", cwd=b)
        self.run("pull", cwd=a)
        self.shell(f"git clone -q {origin} {fresh.name}", cwd=self.out)
        self.run("pull", cwd=fresh)
        shown = [self._shown(path) for path in (a, b, fresh)]
        if not shown[0] == shown[1] == shown[2]:
            raise click.ClickException("demo: the clones disagree about the labels")
        self.echo(
            f"A, B and a fresh clone agree: {shown[0]['labels']} current labels in "
            f"{shown[0]['batches']} batches, {shown[0]['superseded_labels']} superseded; "
            "verify is clean in each."
        )
        self._roster_clash(a, b, fresh)
        self.run("labels log digits", cwd=fresh)
        self.say(
            "17. Golden v2 was made under 1.1.0, the vendors labeled under 1.0.0: the bake-off "
            "warns, and splits each vendor's accuracy into the classes 1.1.0 changed and the rest"
        )
        self.run("qa bakeoff digits --golden expert", cwd=fresh)

    def _roster_clash(self, a: Path, b: Path, fresh: Path) -> None:
        self.say(
            "16d. Both onboard a new labeler under one id, for two vendors: the roster merges, "
            "verify names the clash, and an appended `labeler settle` clears it everywhere"
        )
        self.run("labeler add vC-03 --vendor vendor-c", cwd=a)
        self.run("push", cwd=a)
        self.run("labeler add vC-03 --vendor vendor-b", cwd=b)
        self.run("pull", cwd=b, expect_fail=True)  # merged; verify exits 5 naming the fix
        self.run("labeler settle vC-03 --vendor vendor-c", cwd=b)
        self.run("labeler add vB-03 --vendor vendor-b", cwd=b)
        self.run("push", cwd=b)
        for path in (a, fresh):
            self.run("pull", cwd=path, quiet=path == fresh)
        self.run("verify", cwd=fresh)

    def _shown(self, root: Path) -> dict:

        out = show(Repo(root), "digits")
        return {k: v for k, v in out.items() if k not in ("snapshot", "commit")}

    def _imports(self) -> list[dict]:
        rows = [r for r in log(Repo(self.ws), "digits") if r.get("event", "batch") == "batch"]
        return sorted(rows, key=lambda r: r["date"])

    def _commit_of_import(self, index: int) -> str:
        return self._imports()[index]["commit"][:10]

    def _newest_batch(self) -> str:
        return max(r["batch"] for r in self._imports())  # ids sort by time, to the millisecond

    def shell(self, command: str, cwd: Path | None = None) -> None:
        """A plain git command, echoed as typed."""
        self.echo(click.style(f"$ {command}", fg="cyan"))
        subprocess.run(command.split("  #")[0], shell=True, cwd=cwd or self.ws, check=True)

    def _a_changed_item(self) -> str:

        con = connect(Repo(self.ws), "digits")
        row = con.execute(
            """select n.item_id from labels n join labels_all o on list_contains(n.supersedes, o.annotation_id)
               where n."class" <> o."class" order by n.item_id limit 1"""
        ).fetchall()
        return row[0][0] if row else self.truth[0][0]

    def main(self) -> None:
        self.fresh()
        self.step_init()
        self.step_broken_spec()
        self.step_people()
        self.step_items_and_labels()
        self.step_snapshots()
        self.step_qa()
        self.step_release()
        self.step_trace_and_relabel()
        self.step_review()
        self.step_site()
        self.step_team()
        self.say("Done")
        self.echo(f"The workspace is in {self.ws}; try `cd {self.ws} && labelspec --help`.")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True)


def run_demo(out: Path | str) -> Path:
    demo = Demo(Path(out))
    demo.main()
    return demo.ws
