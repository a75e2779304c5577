"""The hand-written gold of the reference record and its comparator (not the pipeline's accuracy)."""
from __future__ import annotations

import copy
import importlib.util
import json
import random
from pathlib import Path

import pytest

from criteria_nlp.evaluation.reference_gold import (
    compare,
    gold_to_prediction,
    load_gold,
    read_document_text,
)

ROOT = Path(__file__).resolve().parents[1]
GOLD_PATH = ROOT / "corpora" / "gold" / "NCT06852573.gold.json"
COMPARATORS = {">", ">=", "<", "<=", "=", "between"}
KINDS = {"temporal", "population", "exception", "qualifier"}


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD_PATH)


@pytest.fixture(scope="module")
def text(gold):
    return read_document_text(gold, ROOT)


@pytest.fixture(scope="module")
def raw():
    return json.loads(GOLD_PATH.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the gold file
def test_document_is_the_reference_record(gold, text):
    assert gold.document == "corpora/examples/NCT06852573.criteria.txt"
    with open(ROOT / gold.document, encoding="utf-8", newline="") as fh:
        assert fh.read() == text


def test_every_slice_equals_its_stored_text(raw, text):
    for c in raw["criteria"]:
        assert text[c["start"]:c["end"]] == c["text"], c["id"]
    for r in raw["rules"]:
        assert text[r["start"]:r["end"]] == r["text"], r["id"]
        v = r["variable"]
        assert text[v["start"]:v["end"]] == v["text"], r["id"]
        for c in r["conditions"]:
            assert text[c["start"]:c["end"]] == c["text"], r["id"]
            for a in c.get("alternatives", ()):
                assert text[a["start"]:a["end"]] == a["text"], r["id"]


def test_criterion_spans_are_whole_lines_without_marker(gold, text):
    for c in gold.criteria:
        assert c.start > 0 and text[c.start - 2:c.start] == ". ", c.id
        number = c.id.split("-")[1].split(".")[-1]
        line_start = text.rfind("\n", 0, c.start) + 1
        assert text[line_start:c.start] == number + ". ", c.id
        assert c.end == len(text) or text[c.end] == "\n", c.id
        assert "\n" not in c.text and c.text == c.text.strip(), c.id


def test_criteria_ids_unique_parents_exist(gold):
    ids = [c.id for c in gold.criteria]
    assert len(ids) == len(set(ids))
    seen = set()
    for c in gold.criteria:
        assert c.section == ("inclusion" if c.id.startswith("inc-") else "exclusion"), c.id
        if c.parent is not None:
            assert c.parent in seen, c.id          # parents exist and come first
            assert c.id.startswith(c.parent + "."), c.id
        seen.add(c.id)
    assert {"inc-2.6", "inc-8.4", "inc-9.5", "inc-11", "exc-20"} <= seen
    assert [c.id for c in gold.criteria if c.parent == "inc-8"] == [f"inc-8.{i}" for i in range(1, 5)]
    starts = [c.start for c in gold.criteria]
    assert starts == sorted(starts)


def test_rules_are_well_formed(gold):
    crit = {c.id: c for c in gold.criteria}
    ids = [r.id for r in gold.rules]
    assert len(ids) == len(set(ids))
    for r in gold.rules:
        c = crit[r.criterion]
        assert c.start <= r.start < r.end <= c.end, r.id
        assert c.start <= r.variable.start < r.variable.end <= c.end, r.id
        assert r.variable.name and r.variable.name == r.variable.name.lower(), r.id
        assert r.comparator in COMPARATORS, r.id
        if r.comparator == "between":
            assert r.value_high is not None and r.value_high >= r.value, r.id
            assert r.inclusive is not None, r.id
        else:
            assert r.value_high is None and r.inclusive is None, r.id
        assert r.relative_to in (None, "ULN", "LLN"), r.id
        if r.relative_to:
            assert r.unit is None, r.id
        for cond in r.conditions:
            assert cond.kind in KINDS, r.id
            # a condition lies in its criterion or in an ancestor (inherited window)
            owners = []
            k = c
            while k is not None:
                owners.append(k)
                k = crit.get(k.parent) if k.parent else None
            assert any(o.start <= cond.start < cond.end <= o.end for o in owners), r.id
        if r.optional:
            assert r.note, f"optional rule {r.id} must say why"


def test_logic_refers_to_rules_of_its_criterion(gold):
    def leaves(node):
        for a in node["args"]:
            if isinstance(a, dict):
                yield from leaves(a)
            else:
                yield a

    assert set(gold.logic) == {"inc-4", "inc-9.1", "exc-16"}
    for cid, node in gold.logic.items():
        assert node["op"] == "or"
        for i in leaves(node):
            assert gold.rules[i].criterion == cid


def test_key_conventions(gold):
    by = {r.id: r for r in gold.rules}
    r = by["inc-2.5.g1"]
    assert (r.comparator, r.value, r.value_high, r.unit) == ("between", 7.5, 60, "mg/d")
    r = by["inc-5.g1"]
    assert (r.comparator, r.value, r.value_high, r.unit, r.inclusive) == (
        "between", 18, 70, "a", {"low": True, "high": True})
    alt = [r for r in gold.rules if r.variable.name == "alt"]
    assert [(r.value, r.relative_to, r.unit) for r in alt] == [(2.5, "ULN", None), (5, "ULN", None)]
    assert [c.kind for c in alt[1].conditions] == ["population"]
    for cid in ("inc-8.1", "inc-8.2", "inc-8.3", "inc-8.4"):
        for r in gold.rules_of(cid):
            (cond,) = r.conditions
            assert cond.kind == "temporal" and cond.text == "within 3 days prior to single collection"
            assert gold.criterion("inc-8").start <= cond.start < cond.end <= gold.criterion("inc-8").end
    sbp = next(r for r in gold.rules if r.variable.name == "systolic_blood_pressure")
    assert (sbp.comparator, sbp.value, sbp.unit, sbp.negated) == (">", 160, "mm[Hg]", False)
    assert not any(r.optional for r in gold.rules_of("inc-8.4"))
    assert all(r.optional for r in gold.rules_of("exc-12"))


# ------------------------------------------------------------------ the comparator
def test_gold_as_prediction_scores_all_full(gold, text):
    report = compare(gold_to_prediction(gold, text), gold)
    assert [o.status for o in report.rules] == ["full"] * len(gold.rules)
    assert report.spurious == []
    assert report.structure_accuracy == 1.0
    assert report.logic and report.logic_accuracy == 1.0
    assert report.full_recall == report.full_precision == 1.0
    assert "Gold rules not fully matched" not in report.format()


def test_order_of_predicted_rules_does_not_matter(gold, text):
    pred = gold_to_prediction(gold, text)
    rng = random.Random(7)
    for c in pred["criteria"]:
        rng.shuffle(c["rules"])
    report = compare(pred, gold)
    assert all(o.status == "full" for o in report.rules)


def test_one_changed_value_is_one_partial_naming_value(gold, text):
    pred = gold_to_prediction(gold, text)
    target = next(r for r in gold.rules if r.id == "inc-9.2.g2")       # AST <= 2.5 x ULN
    crit = next(c for c in pred["criteria"] if c["id"] == target.criterion)
    rule = next(r for r in crit["rules"] if r["start"] == target.start and r["variable"]["start"] == target.variable.start)
    rule["value"] = 3.0
    report = compare(pred, gold)
    bad = [o for o in report.rules if o.status != "full"]
    assert len(bad) == 1
    assert bad[0].gold.id == target.id and bad[0].status == "partial"
    assert bad[0].differences == ("value",)
    assert report.spurious == []
    table = report.format()
    assert target.id in table and "value" in table


def test_missing_condition_and_alternative_span(gold, text):
    pred = gold_to_prediction(gold, text)
    by_start = {(r["start"], r["variable"]["start"]): r for c in pred["criteria"] for r in c["rules"]}
    hb = next(r for r in gold.rules if r.id == "inc-8.1.g1")
    by_start[(hb.start, hb.variable.start)]["conditions"] = []
    nyha = next(r for r in gold.rules if r.id == "exc-16.g4")
    (cond,) = nyha.conditions
    alt_start, alt_end, _ = cond.alternatives[0]
    p = by_start[(nyha.start, nyha.variable.start)]
    p["conditions"] = [{"kind": "temporal", "text": text[alt_start:alt_end], "start": alt_start, "end": alt_end}]
    report = compare(pred, gold)
    status = {o.gold.id: o for o in report.rules}
    assert status["inc-8.1.g1"].status == "partial"
    assert status["inc-8.1.g1"].differences == ("condition:temporal",)
    assert status["exc-16.g4"].status == "full"


def test_condition_summary_counts_found_and_extra_conditions(gold, text):
    counts = compare(gold_to_prediction(gold, text), gold).condition_counts()
    n_temporal = sum(c.kind == "temporal" for r in gold.required for c in r.conditions)
    assert counts["temporal"].gold == counts["temporal"].found == counts["temporal"].correct == n_temporal
    assert all(c.recall in (1.0, None) and c.precision in (1.0, None) for c in counts.values())
    pred = gold_to_prediction(gold, text)
    by_start = {(r["start"], r["variable"]["start"]): r for c in pred["criteria"] for r in c["rules"]}
    hb = next(r for r in gold.rules if r.id == "inc-8.1.g1")
    by_start[(hb.start, hb.variable.start)]["conditions"] = []       # its window is lost
    ast = next(r for r in gold.rules if r.id == "inc-9.2.g2")
    by_start[(ast.start, ast.variable.start)]["conditions"].append(  # a window the gold does not state
        {"kind": "temporal", "text": text[ast.start:ast.end], "start": ast.start, "end": ast.end})
    report = compare(pred, gold)
    t = report.condition_counts()["temporal"]
    assert (t.gold, t.found, t.pred, t.correct) == (n_temporal, n_temporal - 1, n_temporal, n_temporal - 1)
    assert f"temporal R {(n_temporal - 1) / n_temporal:.3f} ({n_temporal - 1}/{n_temporal})" in report.format()


def test_unit_comparison_strips_and_wrong_variable_is_reported(gold, text):
    pred = gold_to_prediction(gold, text)
    c = next(c for c in pred["criteria"] if c["id"] == "inc-8.1")
    c["rules"][0]["unit"] = " g/L "
    c["rules"][0]["variable"] = None
    report = compare(pred, gold)
    o = next(o for o in report.rules if o.gold.id == "inc-8.1.g1")
    assert o.status == "partial" and o.differences == ("variable",)


def test_spurious_and_optional(gold, text):
    pred = gold_to_prediction(gold, text)
    # drop every prediction of an optional rule: nothing is lost
    opt_spans = {(r.start, r.end) for r in gold.rules if r.optional}
    for c in pred["criteria"]:
        c["rules"] = [r for r in c["rules"] if (r["start"], r["end"]) not in opt_spans]
    # and add one rule where the gold has none
    inc1 = next(c for c in pred["criteria"] if c["id"] == "inc-1")
    s = inc1["text"].index("2019") + inc1["start"]
    inc1["rules"] = [{"id": "inc-1.r1", "text": "2019", "start": s, "end": s + 4, "variable": None,
                      "comparator": "=", "value": 2019, "value_high": None, "unit": None,
                      "relative_to": None, "negated": False, "conditions": []}]
    report = compare(pred, gold)
    assert all(o.status == "full" for o in report.required)
    assert all(o.status == "missed" for o in report.optional)
    assert [p["id"] for p in report.spurious] == ["inc-1.r1"]
    assert report.full_recall == 1.0 and report.full_precision < 1.0
    assert "inc-1.r1" in report.format()


def test_wrong_structure_is_reported(gold, text):
    pred = gold_to_prediction(gold, text)
    c = next(c for c in pred["criteria"] if c["id"] == "inc-2.5")
    c["parent"] = "inc-2.4"
    c["end"] += 1
    report = compare(pred, gold)
    bad = [o for o in report.structure if not o.ok]
    assert [(o.gold.id, o.differences) for o in bad] == [("inc-2.5", ("parent", "end"))]
    assert report.structure_accuracy == pytest.approx((len(gold.criteria) - 1) / len(gold.criteria))


def test_or_group_not_found(gold, text):
    pred = gold_to_prediction(gold, text)
    c = next(c for c in pred["criteria"] if c["id"] == "inc-9.1")
    c["logic"] = {"op": "and", "args": [r["id"] for r in c["rules"]]}
    report = compare(pred, gold)
    assert [o.criterion for o in report.logic if not o.ok] == ["inc-9.1"]
    assert all(o.status == "full" for o in report.rules)


def test_empty_prediction_scores_all_missed(gold):
    report = compare({"schema_version": "1.0", "criteria": []}, gold)
    assert [o.status for o in report.rules] == ["missed"] * len(gold.rules)
    assert report.spurious == [] and report.structure_accuracy == 0.0
    assert report.full_recall == 0.0
    table = report.format()
    assert all(r.id in table for r in gold.rules)
    json.dumps(report.as_dict())


def test_gold_prediction_is_not_mutated_by_compare(gold, text):
    pred = gold_to_prediction(gold, text)
    before = copy.deepcopy(pred)
    compare(pred, gold)
    assert pred == before


def test_script_exits_2_on_missing_files(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("score_reference", ROOT / "scripts" / "score_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--gold", str(tmp_path / "nope.json")]) == 2
    assert mod.main(["--text", str(tmp_path / "nope.txt")]) == 2
