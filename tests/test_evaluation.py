"""Tests of the LCT evaluation harness (reader, gold, scorer, split, baseline, CLI)."""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

from criteria_nlp.evaluation.baseline import baseline_extract, oracle_result, shuffled_results
from criteria_nlp.evaluation.brat import BratParseError, parse_ann, read_document, split_role
from criteria_nlp.evaluation.command import load_gold, resolve_corpus_dir
from criteria_nlp.evaluation.gold import extract_gold, parse_number
from criteria_nlp.evaluation.scorer import (PredRule, merge_paired_bounds, rules_from_result, score, score_document,
                                           to_contract_convention)
from criteria_nlp.evaluation.split import cv_folds, doc_hash, fold_of, select, split_of

LCT_DIR = resolve_corpus_dir()


def _need_corpus() -> Path:
    if not LCT_DIR.is_dir() or not any(LCT_DIR.glob("*.ann")):
        pytest.skip(f"LCT corpus not available at {LCT_DIR} (set CRITERIA_NLP_LCT_DIR)")
    return LCT_DIR


@pytest.fixture(scope="module")
def dev_gold():
    _need_corpus()
    return load_gold(LCT_DIR, "all")


def at(text: str, sub: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence of ``sub`` in ``text``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(sub, i + 1)
    return i, i + len(sub)


# -- reader -----------------------------------------------------------------------------

READER_ANN = (
    "T1\tEq-Operator 10 11\t>\n"
    "T5\tObservation 0 5;20 25\tblood press\n"
    "E1\tObservation:T5 Name:T6 Numeric-Filter:E2 Numeric-Filter2:E3\n"
    "E2\tEq-Comparison:T7 Operator:T1 Value:T8 Value2:T9\n"
    "E3\tEq-Comparison:T10 Value:T11 Value:T12 \n"  # verbatim repeat + trailing blank
    "\n"
    "R1\tOr Arg1:E2 Arg2:E3\t\n"
    "A1\tEq-Operator-Value T1 GT\n"
    "A2\tObservation-Type-Value E1 vital\n"
    "A3\tNegated E3\n"
    "*\tEquiv T8 T11\n"
    "#1\tAnnotatorNotes T5\tsystolic only\n"
)


def test_reader_text_bounds_including_discontinuous():
    doc = parse_ann(READER_ANN, doc_id="X")
    assert not doc.warnings
    t5 = doc.textbounds["T5"]
    assert t5.type == "Observation"
    assert t5.spans == ((0, 5), (20, 25))
    assert (t5.start, t5.end) == (0, 25)
    assert t5.discontinuous and not doc.textbounds["T1"].discontinuous
    assert t5.text == "blood press"


def test_reader_events_with_repeated_roles():
    doc = parse_ann(READER_ANN)
    e1 = doc.events["E1"]
    assert (e1.type, e1.trigger) == ("Observation", "T5")
    assert e1.targets("Numeric-Filter") == ["E2", "E3"]  # Numeric-Filter + Numeric-Filter2
    assert e1.targets("Name") == ["T6"]
    assert doc.events["E2"].targets("Value") == ["T8", "T9"]  # Value + Value2
    assert doc.events["E3"].targets("Value") == ["T11", "T12"]  # verbatim repeat
    assert [a.role for a in doc.events["E2"].args] == ["Operator", "Value", "Value2"]
    assert split_role("Numeric-Filter2") == ("Numeric-Filter", 2)
    assert split_role("Value") == ("Value", 1)


def test_reader_attributes_relations_equivalences_notes():
    doc = parse_ann(READER_ANN)
    assert doc.attributes_of("T1") == {"Eq-Operator-Value": "GT"}  # on a text-bound
    assert doc.attributes_of("E1") == {"Observation-Type-Value": "vital"}  # on an event
    assert doc.attributes_of("E3") == {"Negated": None}  # binary
    r = doc.relations["R1"]
    assert (r.type, r.arg1, r.arg2) == ("Or", "E2", "E3")
    assert doc.equivalences[0].type == "Equiv" and doc.equivalences[0].ids == ("T8", "T11")
    note = doc.notes[0]
    assert (note.type, note.target, note.text) == ("AnnotatorNotes", "T5", "systolic only")


def test_reader_malformed_lines_tolerated_or_strict():
    bad = "T1\tEq-Value 3 x\t5\nQ1\tstrange\nT2\tEq-Value 0 1\t5\n"
    doc = parse_ann(bad)
    assert list(doc.textbounds) == ["T2"]
    assert len(doc.warnings) == 2
    with pytest.raises(BratParseError):
        parse_ann(bad, strict=True)


def test_read_document_pair(tmp_path):
    text = "Age > 18\r\nBMI < 30\n"
    (tmp_path / "NCT1.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "NCT1.ann").write_text("T1\tObservation 10 13\tBMI\n", encoding="utf-8")
    doc = read_document(tmp_path / "NCT1.ann")
    assert doc.doc_id == "NCT1" and doc.text == text  # \r\n kept: offsets count it
    assert doc.check_texts() == []


# -- gold -------------------------------------------------------------------------------

GOLD_TEXT = (
    "Inclusion Criteria:\n"
    "  - ages 18-65 years\n"
    "  - hemoglobin >= 9 g/dL\n"
    "  - ALT <= 3 x ULN\n"
    "  - 145 mmHg ≤ SBP\n"
    "  - platelets > 1,500\n"
    "Exclusion Criteria:\n"
    "  - pain at least moderate\n"
    "  - methotrexate > 25 mg in the past 6 months, except topical\n"
)


def _gold_ann(text: str) -> str:
    lines = []
    tid = [0]

    def T(type_, sub, ctx=None):
        """A text-bound on ``sub``, looked up inside the first occurrence of ``ctx``."""
        tid[0] += 1
        c0 = at(text, ctx)[0] if ctx else 0
        s = text.index(sub, c0)
        e = s + len(sub)
        lines.append(f"T{tid[0]}\t{type_} {s} {e}\t{sub}")
        return f"T{tid[0]}"

    # age 18-65 years
    age = T("Age", "ages")
    c1 = T("Eq-Comparison", "18-65 years")
    v1, op1, v2, tu = T("Eq-Value", "18", "18-65"), T("Eq-Operator", "-", "18-65"), T("Eq-Value", "65", "18-65"), T("Eq-Temporal-Unit", "years", "18-65")
    # hemoglobin >= 9 g/dL
    hb = T("Observation", "hemoglobin")
    c2 = T("Eq-Comparison", ">= 9 g/dL")
    op2, v3, u1, u2 = T("Eq-Operator", ">=", ">= 9"), T("Eq-Value", "9", ">= 9"), T("Eq-Unit", "g", "g/dL"), T("Eq-Unit", "dL", "g/dL")
    # ALT <= 3 x ULN
    alt = T("Observation", "ALT")
    c3 = T("Eq-Comparison", "<= 3 x ULN")
    op3, v4, uln = T("Eq-Operator", "<=", "<= 3"), T("Eq-Value", "3", "<= 3"), T("Eq-Unit", "ULN")
    # 145 mmHg ≤ SBP
    sbp = T("Observation", "SBP")
    c4 = T("Eq-Comparison", "145 mmHg ≤")
    v5, u3, op4 = T("Eq-Value", "145"), T("Eq-Unit", "mmHg"), T("Eq-Operator", "≤")
    # platelets > 1,500
    plt = T("Observation", "platelets")
    c5 = T("Eq-Comparison", "> 1,500")
    op5, v6 = T("Eq-Operator", ">", "> 1,500"), T("Eq-Value", "1,500")
    # pain at least moderate (unparseable value)
    pain = T("Observation", "pain")
    c6 = T("Eq-Comparison", "at least moderate")
    op6, sev = T("Eq-Operator", "at least"), T("Severity", "moderate")
    # methotrexate dose + temporality + exception
    drug = T("Drug", "methotrexate")
    c7 = T("Eq-Comparison", "> 25 mg")
    op7, v7, u4 = T("Eq-Operator", ">", "> 25"), T("Eq-Value", "25", "> 25"), T("Eq-Unit", "mg", "> 25 mg")
    c8 = T("Eq-Comparison", "in the past 6 months")
    v8, tu2 = T("Eq-Value", "6", "past 6"), T("Eq-Temporal-Unit", "months")
    exc = T("Exception", "except")
    top = T("Drug", "topical")
    lines += [
        f"E1\tAge:{age} Numeric-Filter:E2",
        f"E2\tEq-Comparison:{c1} Value:{v1} Operator:{op1} Value2:{v2} Temporal-Unit:{tu}",
        f"E3\tObservation:{hb} Numeric-Filter:E4",
        f"E4\tEq-Comparison:{c2} Operator:{op2} Value:{v3} Unit:{u1} Per:{u2}",
        f"E5\tObservation:{alt} Numeric-Filter2:E6",
        f"E6\tEq-Comparison:{c3} Operator:{op3} Value:{v4} Unit:{uln}",
        f"E7\tObservation:{sbp} Numeric-Filter:E8",
        f"E8\tEq-Comparison:{c4} Value:{v5} Unit:{u3} Operator:{op4}",
        f"E9\tObservation:{plt} Numeric-Filter:E10",
        f"E10\tEq-Comparison:{c5} Operator:{op5} Value:{v6}",
        f"E11\tObservation:{pain} Numeric-Filter:E12",
        f"E12\tEq-Comparison:{c6} Operator:{op6} Value:{sev}",
        f"E13\tDrug:{drug} Dose:E14 Temporality:E15",
        f"E14\tEq-Comparison:{c7} Operator:{op7} Value:{v7} Unit:{u4}",
        f"E15\tEq-Comparison:{c8} Value:{v8} Temporal-Unit:{tu2}",
        f"E16\tException:{exc} From:E13 Except:E17",
        f"E17\tDrug:{top}",
        f"A1\tEq-Operator-Value {op1} BETWEEN",
        f"A2\tEq-Operator-Value {op2} GTEQ",
        f"A3\tEq-Operator-Value {op3} LTEQ",
        f"A4\tEq-Operator-Value {op4} LTEQ",
        f"A5\tEq-Operator-Value {op5} GT",
        f"A6\tEq-Operator-Value {op6} GTEQ",
        f"A7\tEq-Operator-Value {op7} GT",
        f"A8\tObservation-Type-Value E3 lab",
        f"A9\tObservation-Type-Value E5 lab",
        f"A10\tObservation-Type-Value E7 vital",
        f"A11\tEq-Unit-Value {uln} ref-range-high",
        f"A12\tEq-Temporal-Unit-Value {tu} year",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def inline_gold():
    doc = parse_ann(_gold_ann(GOLD_TEXT), doc_id="NCT00000001", text=GOLD_TEXT, strict=True)
    assert doc.check_texts() == []
    return extract_gold(doc)


def test_gold_thresholds_inline(inline_gold):
    th = {g.variable_text: g for g in inline_gold.thresholds}
    assert set(th) == {"ages", "hemoglobin", "ALT", "SBP", "platelets", "pain"}
    age = th["ages"]
    assert (age.comparator, age.value, age.value_high) == ("between", 18.0, 65.0)
    assert age.category == "age" and age.unit_text == "years" and age.temporal_unit == "year"
    assert (age.start, age.end) == at(GOLD_TEXT, "18-65 years")
    assert (age.variable_start, age.variable_end) == at(GOLD_TEXT, "ages")
    hb = th["hemoglobin"]
    assert (hb.comparator, hb.value, hb.unit_text, hb.category) == (">=", 9.0, "g/dL", "lab")
    alt = th["ALT"]  # reached through Numeric-Filter2
    assert (alt.comparator, alt.value, alt.relative_to, alt.unit_text) == ("<=", 3.0, "ULN", None)
    sbp = th["SBP"]  # "145 mmHg ≤ SBP" reads as SBP >= 145
    assert (sbp.comparator, sbp.value, sbp.mirrored, sbp.raw_operators) == (">=", 145.0, True, ("LTEQ",))
    assert sbp.category == "vital" and sbp.unit_text == "mmHg"
    plt = th["platelets"]
    assert (plt.value, plt.value_text, plt.category) == (1500.0, "1,500", "other")
    pain = th["pain"]
    assert pain.value is None and not pain.parseable and pain.raw_values == ("moderate",)


def test_gold_conditions_inline(inline_gold):
    kinds = {(c.kind, c.text) for c in inline_gold.conditions}
    assert ("dose", "> 25 mg") in kinds
    assert ("temporality", "in the past 6 months") in kinds
    assert ("exception", "except") in kinds
    dose = next(c for c in inline_gold.conditions if c.kind == "dose")
    assert (dose.comparator, dose.value, dose.unit_text, dose.owner_type) == (">", 25.0, "mg", "Drug")
    tmp = next(c for c in inline_gold.conditions if c.kind == "temporality")
    assert (tmp.value, tmp.temporal_unit) == (6.0, None) and tmp.unit_text == "months"
    exc = next(c for c in inline_gold.conditions if c.kind == "exception")
    assert exc.except_spans == (at(GOLD_TEXT, "topical"),)
    # conditions are not thresholds
    assert all(g.variable_text != "methotrexate" for g in inline_gold.thresholds)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1,500", 1500.0), (".5", 0.5), ("7,0", 7.0), ("18,5", 18.5), ("150,000", 150000.0),
        ("10^9", 1e9), ("1.5 x 10^9", 1.5e9), ("10⁹", 1e9), ("-20", -20.0), ("−1", -1.0),
        ("three", 3.0), ("twice", 2.0), ("III", 3.0), ("Ⅳ", 4.0), ("5th", 5.0), ("16 0/7", 16.0),
        ("50%", 50.0), ("moderate", None), ("C", None), ("", None), (None, None),
    ],
)
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


# -- scorer on inline data --------------------------------------------------------------

def _oracle_rules(gold_doc):
    return rules_from_result(oracle_result(gold_doc), gold_doc.doc_id)


def test_scorer_oracle_inline(inline_gold):
    res = score([inline_gold], {inline_gold.doc_id: oracle_result(inline_gold)})
    for lvl in ("lenient", "strict", "full"):
        assert res.levels[lvl].precision == 1.0
        assert res.levels[lvl].tp == 5 and res.levels[lvl].n_gold == 6  # "moderate" never matches
    assert res.n_unparseable_gold == 1
    assert [e.category for e in res.errors] == ["missed"]
    res2 = score([inline_gold], {inline_gold.doc_id: oracle_result(inline_gold)}, count_unparseable_gold=False)
    assert all(res2.levels[lvl].f1 == 1.0 for lvl in ("lenient", "strict", "full"))
    assert res.unit_compared == res.unit_agree == 4  # years, g/dL, ULN, mmHg


def test_scorer_levels_inline(inline_gold):
    rules = _oracle_rules(inline_gold)
    hb = next(r for r in rules if r.variable_text == "hemoglobin")
    alt = next(r for r in rules if r.variable_text == "ALT")
    sbp = next(r for r in rules if r.variable_text == "SBP")
    other = [r for r in rules if r not in (hb, alt, sbp)]
    wrong_var = dataclasses.replace(hb, variable_start=hb.start, variable_end=hb.end, variable_text=hb.text)
    wrong_cmp = dataclasses.replace(alt, comparator="<")
    wrong_val = dataclasses.replace(sbp, value=146.0)
    near_val = dataclasses.replace(other[0], value=other[0].value * (1 + 1e-9))
    preds = [wrong_var, wrong_cmp, wrong_val, near_val, *other[1:]]
    ds = score_document(inline_gold, preds)
    assert ds.tp == {"lenient": 4, "strict": 3, "full": 2}
    cats = sorted(e.category for e in ds.errors)
    assert cats == ["comparator mismatch", "missed", "value mismatch", "wrong variable"]
    # a spurious rule far away is a false positive at every level
    spurious = dataclasses.replace(hb, id="x", start=0, end=3, variable_start=None, variable_end=None)
    ds2 = score_document(inline_gold, rules + [spurious])
    assert ds2.n_pred == len(rules) + 1 and ds2.tp["full"] == len(rules)
    assert [e.category for e in ds2.errors if e.gold is None] == ["spurious"]


def test_scorer_span_touching_and_one_to_one(inline_gold):
    hb_gold = next(g for g in inline_gold.thresholds if g.variable_text == "hemoglobin")
    base = dict(doc_id="d", text="", comparator=">=", value=9.0, variable_start=hb_gold.variable_start,
                variable_end=hb_gold.variable_end)
    touching = PredRule(id="a", start=hb_gold.end, end=hb_gold.end + 2, **base)  # adjacent after the span
    ds = score_document(inline_gold, [touching])
    assert ds.tp["full"] == 1
    apart = PredRule(id="b", start=hb_gold.end + 1, end=hb_gold.end + 3, **{**base, "variable_start": None,
                                                                            "variable_end": None})
    assert score_document(inline_gold, [apart]).tp["lenient"] == 0
    # two identical predictions: only one can match
    dup = PredRule(id="c", start=hb_gold.start, end=hb_gold.end, **base)
    ds = score_document(inline_gold, [dup, dataclasses.replace(dup, id="d")])
    assert ds.tp["full"] == 1 and ds.n_pred == 2


def test_scorer_ranges_need_both_bounds(inline_gold):
    age = next(g for g in inline_gold.thresholds if g.category == "age")
    rule = PredRule(doc_id="d", id="a", start=age.start, end=age.end, text="", comparator="between",
                    value=18, value_high=64, variable_start=age.variable_start, variable_end=age.variable_end)
    assert score_document(inline_gold, [rule]).tp["lenient"] == 0
    assert score_document(inline_gold, [dataclasses.replace(rule, value_high=65)]).tp["full"] == 1
    assert score_document(inline_gold, [dataclasses.replace(rule, comparator=">=", value_high=None)]).tp[
        "lenient"] == 0


def test_error_report_context(inline_gold):
    rules = _oracle_rules(inline_gold)
    res = score([inline_gold], {inline_gold.doc_id: rules[:-1]})
    text = res.format_errors(5)
    assert "missed" in text and "[[" in text and "{{" in text and "NCT00000001" in text
    d = res.to_dict(errors=5)
    assert d["errors"]["misses"] and json.dumps(d)


# -- corpus -----------------------------------------------------------------------------

@pytest.mark.corpus
def test_oracle_scores_one_on_dev(dev_gold):
    preds = {g.doc_id: oracle_result(g) for g in dev_gold}
    res = score(dev_gold, preds, ranges="as-annotated")
    n_parseable = sum(g.parseable for d in dev_gold for g in d.thresholds)
    assert res.n_docs == 712 and res.n_gold > 1000
    for lvl in ("lenient", "strict", "full"):
        s = res.levels[lvl]
        assert s.precision == 1.0
        assert s.tp == n_parseable == s.n_gold - res.n_unparseable_gold
    assert res.unit_agreement == 1.0
    assert set(res.error_counts) >= {"missed", "spurious"} and res.error_counts["spurious"] == 0
    exact = score(dev_gold, preds, count_unparseable_gold=False, ranges="as-annotated")
    for lvl in ("lenient", "strict", "full"):
        assert (exact.levels[lvl].precision, exact.levels[lvl].recall, exact.levels[lvl].f1) == (1.0, 1.0, 1.0)


@pytest.mark.corpus
def test_oracle_of_the_merged_gold_scores_one_with_merged_ranges(dev_gold):
    preds = {g.doc_id: oracle_result(to_contract_convention(g)) for g in dev_gold}
    res = score(dev_gold, preds, count_unparseable_gold=False)  # ranges="merged" is the default
    merged = sum(len(g.thresholds) - len(merge_paired_bounds(g).thresholds) for g in dev_gold)
    assert merged > 10  # LCT does write "≥ 18 and ≤ 65" as two comparisons
    assert res.n_gold == sum(g.parseable for d in dev_gold for g in d.thresholds) - merged
    for lvl in ("lenient", "strict", "full"):
        assert res.levels[lvl].f1 == 1.0


@pytest.mark.corpus
def test_shuffled_values_score_low(dev_gold):
    res = score(dev_gold, shuffled_results(dev_gold, seed=1))
    assert res.levels["lenient"].f1 < 0.2
    assert res.error_counts["value mismatch"] > 0.7 * res.n_gold


@pytest.mark.corpus
def test_wrong_variable_fails_only_full(dev_gold):
    preds = {}
    for g in dev_gold:
        result = oracle_result(g)
        for crit in result["criteria"]:
            for rule in crit["rules"]:
                # move the variable onto the comparison span itself: no overlap with the gold variable
                rule["variable"]["start"], rule["variable"]["end"] = rule["start"], rule["start"]
        preds[g.doc_id] = result
    # a zero-width variable at the rule start never overlaps a gold variable elsewhere
    res = score(dev_gold, preds, count_unparseable_gold=False, ranges="as-annotated")
    assert res.levels["lenient"].f1 == 1.0 and res.levels["strict"].f1 == 1.0
    assert res.levels["full"].f1 < 0.1
    assert res.error_counts["wrong variable"] == res.n_gold - res.levels["full"].tp


@pytest.mark.corpus
def test_reader_and_scorer_fast_enough():
    _need_corpus()
    t0 = time.perf_counter()
    golds = load_gold(LCT_DIR, "all")
    res = score(golds, {g.doc_id: oracle_result(g) for g in golds})
    elapsed = time.perf_counter() - t0
    assert res.n_docs == 712
    assert elapsed < 60, f"reading + scoring took {elapsed:.1f}s"


@pytest.mark.corpus
def test_corpus_reads_cleanly():
    _need_corpus()
    from criteria_nlp.evaluation.brat import iter_corpus

    for doc in iter_corpus(LCT_DIR):
        assert not doc.warnings, doc.warnings[:3]
        assert doc.check_texts() == [], doc.doc_id


@pytest.mark.corpus
def test_baseline_is_a_floor(dev_gold):
    preds = {g.doc_id: baseline_extract(g.text, g.doc_id) for g in dev_gold}
    res = score(dev_gold, preds)
    assert 0.45 < res.levels["full"].f1 < res.levels["strict"].f1 <= res.levels["lenient"].f1 < 0.95


# -- baseline shape -----------------------------------------------------------------------

def test_baseline_contract_shape():
    text = "Inclusion Criteria:\n  - Age 18-65 years\n  - Hemoglobin >= 9 g/dL\n  - ALT <= 3 x ULN\n"
    res = baseline_extract(text, "NCTX")
    assert res["schema_version"] == "1.0" and res["source"]["id"] == "NCTX"
    rules = [r for c in res["criteria"] for r in c["rules"]]
    got = {(r["variable"]["text"] if r["variable"] else None, r["comparator"], r["value"], r["value_high"])
           for r in rules}
    assert ("Age", "between", 18.0, 65.0) in got
    assert ("Hemoglobin", ">=", 9.0, None) in got
    assert ("ALT", "<=", 3.0, None) in got
    for c in res["criteria"]:
        assert c["section"] == "inclusion" and text[c["start"]:c["end"]] == c["text"]
        for r in c["rules"]:
            assert text[r["start"]:r["end"]] == r["text"]
    assert next(r for r in rules if r["value"] == 3.0)["relative_to"] == "ULN"


# -- split ------------------------------------------------------------------------------

def test_split_is_deterministic_and_documented():
    assert split_of("NCT03860012") == "train" and fold_of("NCT03860012") == 0
    assert split_of("NCT03860233") == "test" and fold_of("NCT03860233") is None
    assert doc_hash("NCT03860012") % 100 == 9
    ids = [f"NCT{n:08d}" for n in range(3860000, 3865000)]
    assert select(ids, "train") == select(list(ids), "train")
    frac = len(select(ids, "train")) / len(ids)
    assert 0.77 < frac < 0.83
    assert sorted(select(ids, "train") + select(ids, "test")) == sorted(ids)
    folds = cv_folds(ids)
    assert len(folds) == 5
    sizes = [len(v) for _, v in folds]
    assert min(sizes) > 0.8 * max(sizes)
    train = set(select(ids, "train"))
    for fit, val in folds:
        assert set(fit) | set(val) == train and not set(fit) & set(val)
    with pytest.raises(ValueError):
        select(ids, "dev")


@pytest.mark.corpus
def test_split_on_dev_corpus():
    _need_corpus()
    from criteria_nlp.evaluation.brat import list_doc_ids

    ids = list_doc_ids(LCT_DIR)
    assert (len(select(ids, "train")), len(select(ids, "test"))) == (584, 128)


# -- CLI --------------------------------------------------------------------------------

def _write_mini_corpus(d: Path) -> None:
    d.mkdir()
    for i in range(4):
        (d / f"NCT0000000{i}.txt").write_text(GOLD_TEXT, encoding="utf-8")
        (d / f"NCT0000000{i}.ann").write_text(_gold_ann(GOLD_TEXT), encoding="utf-8")


def test_cli_prints_table(tmp_path, capsys):
    from criteria_nlp.cli import main

    corpus = tmp_path / "lct"
    _write_mini_corpus(corpus)
    rc = main(["evaluate", "--corpus", "lct", "--split", "all", "--corpus-dir", str(corpus),
               "--system", "oracle", "--errors", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    for word in ("lenient", "strict", "full", "recall by type", "unit agreement", "docs 4", "seconds", "misses"):
        assert word in out
    rc = main(["evaluate", "--split", "all", "--corpus-dir", str(corpus), "--system", "baseline", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["docs"] == 4 and set(data["levels"]) == {"lenient", "strict", "full"}


def test_cli_env_var_corpus_dir(tmp_path, capsys, monkeypatch):
    from criteria_nlp.cli import main

    corpus = tmp_path / "lct"
    _write_mini_corpus(corpus)
    monkeypatch.setenv("CRITERIA_NLP_LCT_DIR", str(corpus))
    assert main(["evaluate", "--split", "all", "--system", "oracle"]) == 0
    assert "docs 4" in capsys.readouterr().out


def test_cli_missing_corpus_dir_exits_2(tmp_path, capsys):
    from criteria_nlp.cli import main

    rc = main(["evaluate", "--corpus", "lct", "--split", "test", "--corpus-dir", str(tmp_path / "absent")])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "not found" in err


def test_cli_scores_saved_predictions(tmp_path, capsys):
    from criteria_nlp.cli import main

    corpus = tmp_path / "lct"
    _write_mini_corpus(corpus)
    golds = load_gold(corpus, "all")
    preds = tmp_path / "preds.jsonl"
    preds.write_text("\n".join(json.dumps(oracle_result(g)) for g in golds) + "\n", encoding="utf-8")
    assert main(["evaluate", "--split", "all", "--corpus-dir", str(corpus), "--predictions", str(preds),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["levels"]["full"]["precision"] == 1.0


@pytest.mark.corpus
def test_cli_on_dev_corpus(capsys):
    _need_corpus()
    from criteria_nlp.cli import main

    assert main(["evaluate", "--corpus", "lct", "--split", "test", "--corpus-dir", os.fspath(LCT_DIR),
                 "--system", "baseline", "--errors", "3"]) == 0
    out = capsys.readouterr().out
    assert "split=test" in out and "docs 128" in out and "false positives" in out


OR_TEXT = "Age <18 or >80 years\nNYHA class III\n"


def test_a_value_tied_by_an_or_relation_is_a_threshold_of_the_same_variable():
    ann = "\n".join([
        "T1\tAge 0 3\tAge",
        "T2\tEq-Comparison 4 7\t<18",
        "T3\tEq-Comparison 11 20\t>80 years",
        "T4\tEq-Operator 4 5\t<",
        "T5\tEq-Value 5 7\t18",
        "T6\tEq-Operator 11 12\t>",
        "T7\tEq-Value 12 14\t80",
        "E1\tAge:T1 Numeric-Filter:E2",
        "E2\tEq-Comparison:T2 Operator:T4 Value:T5",
        "E3\tEq-Comparison:T3 Operator:T6 Value:T7",
        "R1\tOr Arg1:E2 Arg2:E3",
        "A1\tEq-Operator-Value T4 LT",
        "A2\tEq-Operator-Value T6 GT",
    ]) + "\n"
    gold = extract_gold(parse_ann(ann, doc_id="NCT1", text=OR_TEXT, strict=True))
    assert [(g.variable_text, g.comparator, g.value, g.via_relation) for g in gold.thresholds] == \
        [("Age", "<", 18.0, None), ("Age", ">", 80.0, "Or")]
    assert merge_paired_bounds(gold).thresholds == gold.thresholds  # "< 18 or > 80" is not a range


def test_a_scale_word_marked_as_unit_agrees_with_no_unit():
    from criteria_nlp.evaluation.gold import GoldThreshold
    from criteria_nlp.evaluation.scorer import units_agree

    g = GoldThreshold(id="E2@E1", doc_id="d", variable_event="E1", comparison_event="E2", variable_type="Observation",
                      observation_type="clinical-score", variable_text="NYHA", variable_start=21, variable_end=25,
                      text="class III", start=26, end=35, comparator="=", value=3.0, value_high=None,
                      value_text="III", value_high_text=None, unit_text="class")
    bare = PredRule("d", "r1", 21, 35, "NYHA class III", "=", 3, unit=None)
    with_unit = dataclasses.replace(bare, unit="mg", unit_text="mg")
    assert units_agree(g, bare) is True and units_agree(g, with_unit) is False
    per_litre = dataclasses.replace(g, unit_text="/L")
    giga = dataclasses.replace(bare, unit="10*9/L", unit_text="x109/L")
    assert units_agree(per_litre, giga) is True
    assert units_agree(per_litre, dataclasses.replace(bare, unit="mg/dL", unit_text="mg/dL")) is False
