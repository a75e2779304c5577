"""Conditions in `evaluate`: gold conditions of LCT thresholds and their scoring on matched rules."""
from __future__ import annotations

import json

import pytest

from criteria_nlp.evaluation.baseline import oracle_result
from criteria_nlp.evaluation.brat import parse_ann
from criteria_nlp.evaluation.command import load_gold, resolve_corpus_dir
from criteria_nlp.evaluation.condition_scorer import condition_matches
from criteria_nlp.evaluation.gold import extract_gold
from criteria_nlp.evaluation.scorer import score

TEXT = (
    "Inclusion Criteria:\n"
    "  -  Hemoglobin > 10 g/dL in the past 3 months\n"
    "  -  Age >= 18 years at screening\n"
    "  -  HbA1c < 7 % in diabetic patients\n"
    "  -  ALT <= 3 x ULN unless liver metastases\n"
    "  -  BMI <= 28 if waist circumference < 96 cm\n"
    "  -  Platelets >= 100 for at least 2 weeks\n"
)


class Ann:
    """Builds a brat .ann for TEXT from substrings (the nth occurrence), so offsets are always right."""

    def __init__(self, text: str):
        self.text, self.lines, self.n = text, [], 0

    def t(self, type_: str, sub: str, nth: int = 0) -> str:
        i = -1
        for _ in range(nth + 1):
            i = self.text.index(sub, i + 1)
        self.n += 1
        self.lines.append(f"T{self.n}\t{type_} {i} {i + len(sub)}\t{sub}")
        return f"T{self.n}"

    def line(self, s: str) -> None:
        self.lines.append(s)

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


def _comparison(a: Ann, eid: str, text: str, op: str, code: str, value: str, nth: int = 0) -> None:
    c, o, v = a.t("Eq-Comparison", text, nth), a.t("Eq-Operator", op, nth), a.t("Eq-Value", value, nth)
    a.line(f"{eid}\tEq-Comparison:{c} Operator:{o} Value:{v}")
    a.line(f"A{eid}\tEq-Operator-Value {o} {code}")


def _ann() -> str:
    a = Ann(TEXT)
    # Hemoglobin > 10 g/dL, Temporality: "past 3 months"
    a.line(f"E1\tObservation:{a.t('Observation', 'Hemoglobin')} Numeric-Filter:E2 Temporality:E3")
    _comparison(a, "E2", "> 10 g/dL", ">", "GT", "10")
    a.line(f"E3\tEq-Comparison:{a.t('Eq-Comparison', 'past 3 months')}")
    # Age >= 18 years, During: Study "screening"
    a.line(f"E4\tAge:{a.t('Age', 'Age')} Numeric-Filter:E5")
    _comparison(a, "E5", ">= 18 years", ">=", "GTEQ", "18")
    a.line(f"E6\tStudy:{a.t('Study', 'screening')}")
    a.line("R1\tDuring Arg1:E4 Arg2:E6")
    # HbA1c < 7 %, If-Then: Condition "diabetic" (Arg1 = if, Arg2 = then)
    a.line(f"E7\tObservation:{a.t('Observation', 'HbA1c')} Numeric-Filter:E8")
    _comparison(a, "E8", "< 7 %", "<", "LT", "7")
    a.line(f"E9\tCondition:{a.t('Condition', 'diabetic')}")
    a.line("R2\tIf-Then Arg1:E9 Arg2:E7")
    # ALT <= 3 x ULN, Exception "unless" From ALT Except "liver metastases"
    a.line(f"E10\tObservation:{a.t('Observation', 'ALT')} Numeric-Filter:E11")
    _comparison(a, "E11", "<= 3 x ULN", "<=", "LTEQ", "3")
    a.line(f"E12\tException:{a.t('Exception', 'unless')} From:E10 Except:E13")
    a.line(f"E13\tCondition:{a.t('Condition', 'liver metastases')}")
    # BMI <= 28 if waist circumference < 96 cm: the waist threshold is the *if*, not a population
    a.line(f"E14\tObservation:{a.t('Observation', 'BMI')} Numeric-Filter:E15")
    _comparison(a, "E15", "<= 28", "<=", "LTEQ", "28")
    a.line(f"E16\tObservation:{a.t('Observation', 'waist circumference')} Numeric-Filter:E17")
    _comparison(a, "E17", "< 96 cm", "<", "LT", "96")
    a.line("R3\tIf-Then Arg1:E16 Arg2:E14")
    # Platelets >= 100 with no gold condition (its window is not annotated)
    a.line(f"E18\tObservation:{a.t('Observation', 'Platelets')} Numeric-Filter:E19")
    _comparison(a, "E19", ">= 100", ">=", "GTEQ", "100")
    return a.render()


@pytest.fixture(scope="module")
def gold():
    doc = parse_ann(_ann(), doc_id="NCT00000009", text=TEXT, strict=True)
    assert doc.check_texts() == [] and not doc.warnings
    return extract_gold(doc)


def _span(sub: str) -> tuple[int, int]:
    i = TEXT.index(sub)
    return i, i + len(sub)


def _conditions_by_variable(gold) -> dict[str, list[tuple[str, str, str]]]:
    return {g.variable_text: [(c.kind, c.source, c.text) for c in gold.conditions_of(g)] for g in gold.thresholds}


def test_gold_conditions_come_from_lct_roles_and_relations(gold):
    assert _conditions_by_variable(gold) == {
        "Hemoglobin": [("temporal", "Temporality", "past 3 months")],
        "Age": [("temporal", "During", "screening")],
        "HbA1c": [("population", "If-Then", "diabetic")],
        "ALT": [("exception", "Exception", "unless … liver metastases")],
        "BMI": [("population", "If-Then", "waist circumference")],
        "waist circumference": [],
        "Platelets": [],
    }
    alt = next(g for g in gold.thresholds if g.variable_text == "ALT")
    (exc,) = gold.conditions_of(alt)
    assert set(exc.spans) == {_span("unless"), _span("liver metastases")}


def _hb_document(text: str, hb_roles: str = "") -> Ann:
    """A document whose one threshold is ``Hb >= 9 g/dL`` (event E1, comparison E2)."""
    a = Ann(text)
    a.line(f"E1\tObservation:{a.t('Observation', 'Hb')} Numeric-Filter:E2{hb_roles}")
    _comparison(a, "E2", ">= 9 g/dL", ">=", "GTEQ", "9")
    return a


def test_a_window_of_the_event_a_threshold_hangs_on_and_of_a_relation_partner():
    text = "Hb (hemoglobin) >= 9 g/dL within 4 weeks before surgery\n"
    a = _hb_document(text)
    a.line(f"E3\tObservation:{a.t('Observation', 'hemoglobin')}")
    a.line("R1\tAbbrev-Of Arg1:E1 Arg2:E3")
    a.line(f"E4\tProcedure:{a.t('Procedure', 'surgery')} Temporality:E5")
    a.line(f"E5\tEq-Comparison:{a.t('Eq-Comparison', 'within 4 weeks')}")
    a.line("R2\tBefore Arg1:E4 Arg2:E3")  # on the same-thing partner, in the other direction
    g = extract_gold(parse_ann(a.render(), doc_id="X", text=text, strict=True))
    (thr,) = g.thresholds
    (cond,) = g.conditions_of(thr)
    assert (cond.kind, cond.source) == ("temporal", "Before")
    assert set(cond.spans) == {(text.index("surgery"), text.index("surgery") + 7),
                               (text.index("within"), text.index("within") + len("within 4 weeks"))}


def _rule(gold, variable: str, conditions: list[tuple[str, str]], inherited: str | None = None) -> dict:
    g = next(t for t in gold.thresholds if t.variable_text == variable)
    conds = []
    for kind, sub in conditions:
        s, e = _span(sub)
        conds.append({"kind": kind, "text": sub, "start": s, "end": e, "inherited_from": inherited})
    return {"id": f"r-{variable}", "text": g.text, "start": g.start, "end": g.end,
            "variable": {"text": g.variable_text, "start": g.variable_start, "end": g.variable_end},
            "comparator": g.comparator, "value": g.value, "value_high": g.value_high, "conditions": conds}


def _score(gold, rules: list[dict]):
    return score([gold], {gold.doc_id: {"criteria": [{"id": "c", "rules": rules}]}}).conditions


def test_matched_rules_with_the_right_conditions_score_one(gold):
    cond = _score(gold, [
        _rule(gold, "Hemoglobin", [("temporal", "in the past 3 months")]),
        _rule(gold, "Age", [("temporal", "at screening")]),
        _rule(gold, "HbA1c", [("population", "in diabetic patients")]),
        _rule(gold, "ALT", [("exception", "unless liver metastases")]),
        _rule(gold, "BMI", [("population", "if waist circumference < 96 cm")]),
        _rule(gold, "waist circumference", []),
        _rule(gold, "Platelets", []),
    ])
    assert cond.matched_thresholds == 7
    for kind, n in (("temporal", 2), ("population", 2), ("exception", 1)):
        k = cond.kinds[kind]
        assert (k.gold, k.found, k.pred, k.correct) == (n, n, n, n)
        assert k.recall == k.precision == k.precision_annotated == 1.0
    assert cond.errors == []


def test_missing_wrong_kind_and_unannotated_conditions(gold):
    cond = _score(gold, [
        _rule(gold, "Hemoglobin", [("population", "in the past 3 months")]),  # right span, wrong kind
        _rule(gold, "Age", []),  # the window is missing
        _rule(gold, "HbA1c", [("population", "in diabetic patients"), ("temporal", "< 7 %")]),
        _rule(gold, "Platelets", [("temporal", "for at least 2 weeks")]),  # LCT has no window here
    ])
    t, p = cond.kinds["temporal"], cond.kinds["population"]
    assert (t.gold, t.found, t.pred, t.correct, t.pred_annotated) == (2, 0, 2, 0, 0)
    assert t.recall == 0.0 and t.precision == 0.0 and t.precision_annotated is None
    assert (p.gold, p.found, p.pred, p.correct, p.pred_annotated) == (1, 1, 2, 1, 1)
    assert p.precision == 0.5 and p.precision_annotated == 1.0
    # ALT, BMI and waist are matched by no rule: their conditions are counted apart, not in recall
    assert cond.kinds["exception"].gold_unmatched == 1 and p.gold_unmatched == 1
    missed = {(e.threshold.variable_text, e.kind) for e in cond.errors if e.category == "missed"}
    assert missed == {("Hemoglobin", "temporal"), ("Age", "temporal")}
    platelets = next(e for e in cond.errors if e.threshold.variable_text == "Platelets")
    assert platelets.category == "unconfirmed" and not platelets.annotated
    assert "<<for at least 2 weeks>>" in platelets.context and "[[>= 100]]" in platelets.context


def test_an_inherited_condition_counts_with_its_offsets_in_the_parent():
    text = "Blood tests within 14 days before enrolment:\n  1. Hb >= 9 g/dL\n  2. PLT >= 100\n"
    a = _hb_document(text, " Temporality:E3")
    a.line(f"E3\tEq-Comparison:{a.t('Eq-Comparison', 'within 14 days')}")
    g = extract_gold(parse_ann(a.render(), doc_id="X", text=text, strict=True))
    (thr,) = g.thresholds
    s = text.index("within 14 days before enrolment")
    inherited = {"kind": "temporal", "text": "within 14 days before enrolment", "start": s, "end": s + 31,
                 "inherited_from": "inc-1"}
    rule = {"id": "inc-1.1.r1", "start": thr.start, "end": thr.end, "text": thr.text, "comparator": ">=",
            "value": 9.0, "value_high": None, "conditions": [inherited]}
    cond = score([g], {"X": {"criteria": [{"id": "inc-1.1", "rules": [rule]}]}}).conditions
    assert cond.kinds["temporal"].found == 1 and cond.kinds["temporal"].correct == 1
    rule["conditions"] = [{**inherited, "start": 0, "end": 11}]  # "Blood tests": not the window
    cond = score([g], {"X": {"criteria": [{"id": "inc-1.1", "rules": [rule]}]}}).conditions
    assert cond.kinds["temporal"].found == 0 and cond.kinds["temporal"].correct == 0


def test_only_strict_matches_are_looked_at(gold):
    wrong_comparator = {**_rule(gold, "Hemoglobin", [("temporal", "in the past 3 months")]), "comparator": ">="}
    cond = _score(gold, [wrong_comparator])
    assert cond.matched_thresholds == 0 and cond.kinds["temporal"].gold == 0
    assert cond.kinds["temporal"].gold_unmatched == 2


def test_condition_matches_counts_each_kind_apart():
    counts, found, correct = condition_matches(
        [("temporal", [(0, 5)]), ("temporal", [(10, 12), (20, 25)]), ("population", [(30, 40)])],
        [("temporal", (22, 23)), ("temporal", (5, 10)), ("population", (0, 3)), ("qualifier", (50, 60))])
    # (5, 10) only touches (0, 5) and (10, 12): touching is not overlapping
    assert found == [False, True, False] and correct == [True, False, False, True]
    assert (counts["temporal"].gold, counts["temporal"].found, counts["temporal"].pred) == (2, 1, 2)
    assert (counts["population"].pred, counts["population"].correct) == (1, 0)


def _write_corpus(d) -> None:
    d.mkdir()
    (d / "NCT00000009.txt").write_text(TEXT, encoding="utf-8")
    (d / "NCT00000009.ann").write_text(_ann(), encoding="utf-8")


def test_cli_reports_conditions_in_text_json_and_errors(tmp_path, capsys):
    from criteria_nlp.cli import main

    corpus = tmp_path / "lct"
    _write_corpus(corpus)
    (g,) = load_gold(corpus, "all")
    result = oracle_result(g)
    for crit in result["criteria"]:  # drop the Age window from the oracle
        for rule in crit["rules"]:
            if rule["text"] == ">= 18 years":
                rule["conditions"] = []
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps(result) + "\n", encoding="utf-8")
    args = ["evaluate", "--split", "all", "--corpus-dir", str(corpus), "--predictions", str(preds)]
    assert main(args + ["--errors", "5"]) == 0
    out = capsys.readouterr().out
    assert "conditions of the 7 strictly matched thresholds" in out
    temporal_row = next(line for line in out.splitlines() if line.startswith("temporal "))
    assert temporal_row.split()[1:4] == ["2", "1", "0.500"]
    assert "--- condition misses (1 of 1) ---" in out
    assert "[[>= 18 years]] at {{screening}}" in out
    assert main(args + ["--json", "--errors", "5"]) == 0
    data = json.loads(capsys.readouterr().out)["conditions"]
    assert data["temporal"]["recall"] == 0.5 and data["population"]["recall"] == 1.0
    assert data["exception"]["precision"] == 1.0
    (miss,) = data["errors"]["missed"]
    assert miss["gold"]["source"] == "During" and miss["threshold"]["variable"] == "Age"


LCT_DIR = resolve_corpus_dir()


@pytest.mark.corpus
def test_oracle_conditions_score_one_on_dev_and_gold_conditions_exist():
    if not LCT_DIR.is_dir():
        pytest.skip(f"LCT corpus not available at {LCT_DIR}")
    from criteria_nlp.evaluation.command import run_evaluation

    result = run_evaluation(LCT_DIR, "all", "oracle")
    for kind, at_least in (("temporal", 100), ("population", 30), ("exception", 1)):
        k = result.conditions.kinds[kind]
        assert k.gold >= at_least
        assert k.found == k.gold and k.correct == k.pred == k.gold


def test_malformed_predicted_conditions_are_not_conditions(gold):
    rule = _rule(gold, "Hemoglobin", [])
    for bad in ({"kind": "temporal"}, ["temporal"], [{"kind": "temporal", "start": "3", "end": 9}], [None]):
        cond = _score(gold, [{**rule, "conditions": bad}])
        assert cond.matched_thresholds == 1 and cond.kinds["temporal"].pred == 0
        assert cond.kinds["temporal"].found == 0
