"""qa agreement on real workspaces with a designed pattern of agreement (``builders``), checked
by hand and against reference implementations (krippendorff, scikit-learn, statsmodels)."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from labelspec.errors import LabelspecError
from labelspec.labels.ingest import import_labels
from labelspec.qa.agreement import agreement
from tests.helpers import state
from tests.qa.builders import ILLEGIBLE, SETS, SETS_ILLEGIBLE, VOTES, write_jsonl
from tests.store.test_lineage_rules import release, train

CLASSES = ["one", "seven", "four", "nine"]


def reliability(votes: dict[str, dict[int, str]], items: int = 10) -> np.ndarray:
    """labelers (sorted) x items, class codes with nan where a labeler did not label the item."""
    data = np.full((len(votes), items), np.nan)
    for row, labeler in enumerate(sorted(votes)):
        for item, cls in votes[labeler].items():
            data[row, item] = CLASSES.index(cls)
    return data


def votes_up_to(snapshot: int) -> dict[str, dict[int, str]]:
    return {labeler: VOTES[labeler][1] for labeler in list(VOTES)[:snapshot]}


def oracle_alpha(data: np.ndarray, level: str = "nominal") -> float:
    return krippendorff.alpha(reliability_data=data, level_of_measurement=level)


# -- classification ---------------------------------------------------------------------------------
def test_items_with_a_single_labeler_give_no_agreement(digits_votes):
    with pytest.raises(LabelspecError, match="2 or more labelers"):
        agreement(digits_votes, "digits", snapshot=1)  # lab-a1 alone


def test_perfect_agreement_is_one_everywhere(digits_votes):
    result = agreement(digits_votes, "digits", snapshot="snap-2")  # lab-a1 and lab-a2 agree
    assert result["snapshot"] == "snap-2"
    assert result["task"] == "classification"
    # the releases the labels were made under, not the newest release
    assert (result["guideline"], result["versions"]) == ("digits", ["1.0.0"])
    assert result["items"] == 8  # lab-a2 labeled d00..d07
    assert result["labelers"] == ["lab-a1", "lab-a2"]
    assert result["krippendorff_alpha"] == pytest.approx(1.0)
    assert result["fleiss_kappa"] == pytest.approx(1.0)
    assert (result["fleiss_items"], result["fleiss_raters"]) == (8, 2)
    assert result["pairwise_cohen_kappa"] == {
        "labelers": ["lab-a1", "lab-a2"],
        "matrix": [[None, 1.0], [1.0, None]],
    }
    assert {c: v["specific_agreement"] for c, v in result["per_class"].items()} == {
        "one": 1.0,
        "seven": 1.0,
        "four": 1.0,
    }
    assert result["by"] is None


def test_coefficients_match_reference_implementations(digits_votes):
    result = agreement(digits_votes, "digits")
    votes = votes_up_to(4)
    data = reliability(votes)
    assert result["items"] == 10
    assert result["labelers"] == ["lab-a1", "lab-a2", "lab-b1", "lab-c1"]
    assert result["krippendorff_alpha"] == pytest.approx(oracle_alpha(data))
    # d00..d05 have 4 raters, the other four items 3: Fleiss uses the six with four
    assert (result["fleiss_items"], result["fleiss_raters"]) == (6, 4)
    counts = np.stack([(data[:, :6] == code).sum(axis=0) for code in range(4)], axis=1)
    assert result["fleiss_kappa"] == pytest.approx(statsmodels_fleiss(counts))
    matrix = result["pairwise_cohen_kappa"]["matrix"]
    for i in range(4):
        for j in range(4):
            if i == j:
                assert matrix[i][j] is None
                continue
            shared = ~np.isnan(data[i]) & ~np.isnan(data[j])
            expected = cohen_kappa_score(data[i, shared], data[j, shared])
            assert matrix[i][j] == pytest.approx(expected)
    json.dumps(result, allow_nan=False)  # JSON-ready, no nan


def test_class_specific_agreement_by_hand(digits_votes):
    result = agreement(digits_votes, "digits", by="class")
    per_class = result["per_class"]
    # four: d06 (raters a1 a2 b1: four four nine) and d07 (four x3):
    # both-said pairs 1 + 3 = 4; pairs with a four 3 + 3 = 6; 2*4 / (said-first + said-second) = 8/10
    assert per_class["four"] == {"specific_agreement": 0.8, "pairs": 6, "agreeing_pairs": 4}
    # nine: only lab-b1 on d06, never shared
    assert per_class["nine"] == {"specific_agreement": 0.0, "pairs": 2, "agreeing_pairs": 0}
    # one: sum n(n-1) = 12 + 6 + 12 + 2 + 6 + 0 = 38 over sum n(m-1) = 12 + 9 + 12 + 6 + 6 + 2 = 47
    assert per_class["one"]["specific_agreement"] == pytest.approx(38 / 47)
    assert result["by"] == {"by": "class", "groups": per_class}


def test_by_labeler(digits_votes):
    groups = agreement(digits_votes, "digits", by="labeler")["by"]["groups"]
    # lab-a1 vs a2: 8 of 8 agree; vs b1: 7 of 10 (d01 d04 d06 differ); vs c1: 6 of 8 (d04 d09)
    assert groups["lab-a1"]["items"] == 10
    assert groups["lab-a1"]["pairs"] == 26
    assert groups["lab-a1"]["agreement_with_others"] == pytest.approx(21 / 26)
    data = reliability(votes_up_to(4))
    kappas = []
    for other in (1, 2, 3):
        shared = ~np.isnan(data[0]) & ~np.isnan(data[other])
        kappas.append(cohen_kappa_score(data[0, shared], data[other, shared]))
    assert groups["lab-a1"]["mean_kappa"] == pytest.approx(np.mean(kappas))
    assert list(groups) == ["lab-a1", "lab-a2", "lab-b1", "lab-c1"]


def test_by_source_rates_each_vendor_by_its_majority(digits_votes):
    by = agreement(digits_votes, "digits", by="source")["by"]
    assert by["by"] == "source"
    assert by["sources"] == ["vendor-a", "vendor-b", "vendor-c"]
    # lab-a1 and lab-a2 never disagree, so vendor-a's majority label is lab-a1's
    votes = {"vendor-a": VOTES["lab-a1"][1], "vendor-b": VOTES["lab-b1"][1]}
    votes["vendor-c"] = VOTES["lab-c1"][1]
    data = reliability(votes)
    assert by["items"] == 10
    assert by["krippendorff_alpha"] == pytest.approx(oracle_alpha(data))
    assert by["pairwise_cohen_kappa"]["sources"] == by["sources"]
    assert by["pairwise_cohen_kappa"]["matrix"][0][1] == pytest.approx(
        cohen_kappa_score(data[0], data[1])
    )
    assert set(by["groups"]) == set(by["sources"])


def test_by_source_needs_two_sources_on_an_item(digits_votes):
    with pytest.raises(LabelspecError, match="2 or more sources"):
        agreement(digits_votes, "digits", snapshot=2, by="source")  # vendor-a only


def test_boolean_attribute_alpha(digits_votes):
    attributes = agreement(digits_votes, "digits")["attributes"]
    data = np.full((4, 10), np.nan)
    for row, labeler in enumerate(sorted(VOTES)):
        for item, cls in VOTES[labeler][1].items():
            if cls in ("one", "seven"):  # the classes that declare `legible`
                data[row, item] = float(item not in ILLEGIBLE[labeler])
    legible = attributes["legible"]
    assert legible["type"] == "boolean"
    assert legible["unit"] == "item"
    assert legible["items"] == int(((~np.isnan(data)).sum(axis=0) >= 2).sum())
    assert legible["krippendorff_alpha"]["nominal"] == pytest.approx(oracle_alpha(data))
    # nobody gave crossbar: nothing to compare
    assert attributes["crossbar"] == {
        "type": "boolean",
        "krippendorff_alpha": {"nominal": None},
        "items": 0,
        "unit": "item",
    }


def test_a_labelers_latest_annotation_of_an_item_counts(digits_votes, copy_of, tmp_path):
    ws = copy_of(digits_votes)
    later = {"item_id": "d01.png", "labeler": "lab-a2", "class": "seven"}
    later["created_at"] = "2026-03-01T10:00:00Z"
    later["attributes"] = {"legible": True}
    path = write_jsonl(tmp_path / "again.jsonl", [later])
    import_labels(ws, "digits", path, "jsonl", "digits@1.0.0", "vendor-a")
    result = agreement(ws, "digits", by="labeler")
    votes = votes_up_to(4)
    votes["lab-a2"] = {**votes["lab-a2"], 1: "seven"}
    assert result["krippendorff_alpha"] == pytest.approx(oracle_alpha(reliability(votes)))
    assert result["by"]["groups"]["lab-a2"]["items"] == 8  # once, not twice


def test_unknown_breakdown_is_refused(digits_votes):
    with pytest.raises(LabelspecError, match="by must be one of class, labeler, source"):
        agreement(digits_votes, "digits", by="vendor")


def test_reports_leave_the_workspace_untouched(digits_votes):
    before = state(digits_votes.root)
    agreement(digits_votes, "digits", by="source")
    assert state(digits_votes.root) == before


# -- multilabel -------------------------------------------------------------------------------------
def binary(cls: str, raters: dict[str, dict[int, list[str]]], items: int = 4) -> np.ndarray:
    data = np.full((len(raters), items), np.nan)
    for row, name in enumerate(sorted(raters)):
        for item, classes in raters[name].items():
            data[row, item] = float(cls in classes)
    return data


def test_multilabel_averages_binary_alpha_per_class(digit_sets):
    result = agreement(digit_sets, "digits")
    sets = {labeler: given for labeler, (_, given) in SETS.items()}
    assert result["task"] == "multilabel"
    assert "averaged" in result["note"]
    alphas = {cls: oracle_alpha(binary(cls, sets)) for cls in ("one", "seven", "four")}
    for cls, alpha in alphas.items():
        assert result["per_class"][cls]["krippendorff_alpha"] == pytest.approx(alpha)
    # the other seven classes were never given: their alpha is undefined and left out
    assert result["krippendorff_alpha"] == pytest.approx(np.mean(list(alphas.values())))
    # seven: d01 said by all three (3*2 = 6), d00 and d03 by one of 3 and of 2: 6 / (6 + 2 + 1)
    assert result["per_class"]["seven"]["specific_agreement"] == pytest.approx(6 / 9)
    # ml-1 and ml-2 as yes/no raters, per class, averaged over the classes where kappa exists
    kappas = []
    for cls in ("one", "seven", "four"):
        data = binary(cls, sets)
        if len(set(data[0]) | set(data[1])) > 1:  # else no disagreement is possible
            kappas.append(cohen_kappa_score(data[0], data[1]))
    assert result["pairwise_cohen_kappa"]["matrix"][0][1] == pytest.approx(np.mean(kappas))


def test_multilabel_labeler_agreement_compares_whole_sets(digit_sets):
    groups = agreement(digit_sets, "digits", by="labeler")["by"]["groups"]
    # ml-1 vs ml-2: same set on d00 d02, not on d01 d03; vs ml-3: same on d01 d02, not d00
    assert groups["ml-1"]["agreement_with_others"] == pytest.approx(4 / 7)


def test_multilabel_sources_keep_the_classes_most_of_their_labelers_gave(digit_sets):
    by = agreement(digit_sets, "digits", by="source")["by"]
    # vendor-a (ml-1, ml-2): d00 {one}, d01 {seven} (four by one of two), d02 {four}, d03 {}
    majority = {"vendor-a": {0: ["one"], 1: ["seven"], 2: ["four"], 3: []}}
    majority["vendor-b"] = SETS["ml-3"][1]
    assert by["items"] == 3  # d03 has vendor-a only
    for cls in ("one", "seven", "four"):
        assert by["per_class"][cls]["krippendorff_alpha"] == pytest.approx(
            oracle_alpha(binary(cls, majority))
        )


def test_multilabel_attribute_units_are_item_and_class(digit_sets):
    legible = agreement(digit_sets, "digits")["attributes"]["legible"]
    # (d00, one): ml-1 yes, ml-2 yes, ml-3 no; (d01, seven): yes x3; the rest have one value
    data = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    assert ("ml-3", 0, "one") in SETS_ILLEGIBLE
    assert legible["unit"] == "item and class"
    assert legible["items"] == 2
    assert legible["krippendorff_alpha"]["nominal"] == pytest.approx(oracle_alpha(data))


# -- detection and ner ------------------------------------------------------------------------------
def test_detection_boxes_matched_pair_by_pair(shapes_boxes):
    result = agreement(shapes_boxes, "shapes")
    assert result["task"] == "detection"
    assert result["krippendorff_alpha"] is None
    assert result["items"] == 3  # circle_small has one labeler
    boxes = result["boxes"]
    # circle_big: det-1/det-2 circles match (IoU 6240/6560), det-3 drew a square;
    # square_big: det-1/det-2 match, det-3's box is off (IoU 0.34);
    # triangle_up: det-1 (triangle + small circle) vs det-2 (triangle): one match.
    # 3 matches out of 2+2+2 + 2+2+2 + 3 = 15 boxes compared
    assert boxes["matches"] == 3
    assert boxes["boxes"] == 15
    assert boxes["comparisons"] == 7
    assert boxes["matched_agreement"] == pytest.approx(6 / 15)
    assert boxes["mean_iou"] == pytest.approx((6240 / 6560 + 1 + 1) / 3)
    assert boxes["pairwise"]["labelers"] == ["det-1", "det-2", "det-3"]
    assert boxes["pairwise"]["matrix"][0][1] == pytest.approx(6 / 7)
    assert boxes["pairwise"]["matrix"][0][2] == 0.0
    per_class = result["per_class"]
    assert per_class["circle"] == {"specific_agreement": 0.4, "pairs": 4, "agreeing_pairs": 1}
    assert per_class["square"] == {"specific_agreement": 0.25, "pairs": 7, "agreeing_pairs": 1}
    assert per_class["triangle"] == {"specific_agreement": 1.0, "pairs": 1, "agreeing_pairs": 1}
    groups = agreement(shapes_boxes, "shapes", by="labeler")["by"]["groups"]
    assert groups["det-1"]["agreement_with_others"] == pytest.approx(6 / 11)
    assert groups["det-3"]["agreement_with_others"] == 0.0


def test_detection_attributes_compare_matched_boxes(shapes_boxes):
    attributes = agreement(shapes_boxes, "shapes")["attributes"]
    occluded = attributes["occluded"]
    assert occluded["unit"] == "matched box pair"
    assert occluded["items"] == 3
    pairs = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # circle, square, triangle pairs
    assert occluded["krippendorff_alpha"]["nominal"] == pytest.approx(oracle_alpha(pairs))
    # one square pair, none vs slight: the only pairable unit disagrees, alpha 0
    assert attributes["rotation"] == {
        "type": "ordinal",
        "krippendorff_alpha": {"ordinal": 0.0, "interval": 0.0},
        "items": 1,
        "unit": "matched box pair",
    }


def test_ner_spans_exact_match_f1(news_spans):
    result = agreement(news_spans, "news")
    spans = result["spans"]
    # n01: ner-1/ner-2 share both persons (2 of 3+3), ner-1/ner-3 Charles Babbage and London,
    # ner-2/ner-3 Charles Babbage; n02: ner-1/ner-2 share Geneva only (2 of 2+2)
    assert spans["matches"] == 6
    assert spans["spans"] == 22
    assert spans["f1"] == pytest.approx(12 / 22)
    assert spans["pairwise"]["matrix"][0][1] == pytest.approx(2 * 3 / 10)
    assert result["per_class"]["person"]["specific_agreement"] == pytest.approx(8 / 12)
    assert result["per_class"]["location"]["specific_agreement"] == pytest.approx(4 / 6)
    assert result["per_class"]["organization"]["specific_agreement"] == 0.0
    assert result["items"] == 2  # n04 has one labeler


def test_the_header_names_every_release_the_labels_were_made_under(digits_votes, copy_of, run):
    ws = copy_of(digits_votes)
    release(run, ws.root, "Sevens may drop the crossbar")
    train(run, ws.root, "lab-a2", "1.1.0", "2026-01-15")
    row = {"item_id": "d08.png", "labeler": "lab-a2", "class": "one",
           "attributes": {"legible": True}, "created_at": "2026-02-02T10:00:00Z"}  # fmt: skip
    delivery = write_jsonl(ws.root.parent / "later.jsonl", [row])
    import_labels(ws, "digits", delivery, "jsonl", "digits@1.1.0", "vendor-a")

    result = agreement(ws, "digits")
    header = run("qa", "agreement", "digits", cwd=ws.root).stdout.splitlines()[0]

    # most labels under 1.0.0, one under 1.1.0: not "digits@1.1.0", the newest of them
    assert (result["guideline"], result["versions"]) == ("digits", ["1.0.0", "1.1.0"])
    assert "labels under digits 1.0.0, 1.1.0:" in header
