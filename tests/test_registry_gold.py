"""The registry gold (corpora/registry-gold) and its scorer (criteria_nlp.evaluation.registry).

The gold files are checked against the ClinicalTrials.gov sample when ../shared is present
(offsets, sha1, the seeded pick); the scorer is checked on small hand-made gold/prediction
pairs written on a registry-style PDQ text; the command runs end to end on the real gold.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from criteria_nlp.evaluation.reference_gold import parse_rules
from criteria_nlp.evaluation.registry import (
    CONDITION_KINDS,
    LAYOUTS,
    RULE_FIELDS,
    RegistryGold,
    criteria_sha1,
    load_gold_dir,
    oracle_prediction,
    read_criteria,
    same_unit,
    score_registry,
    score_study,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = ROOT / "corpora" / "registry-gold"
SAMPLE = ROOT.parent / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"
needs_sample = pytest.mark.skipif(not SAMPLE.is_file(), reason="../shared ctgov sample not present")

GOLDS = load_gold_dir(GOLD_DIR)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return read_criteria(SAMPLE, [g.nct_id for g in GOLDS])


# --------------------------------------------------------------------------- the gold files
def test_gold_covers_both_layouts_evenly():
    assert len(GOLDS) >= 32
    by_layout = {layout: [g for g in GOLDS if g.layout == layout] for layout in LAYOUTS}
    assert len(by_layout["pdq"]) == len(by_layout["other"])
    assert sum(len(g.required) for g in GOLDS) >= 150
    assert all(g.source == "../shared/corpora/ctgov-sample/studies.jsonl" for g in GOLDS)


@needs_sample
@pytest.mark.parametrize("gold", GOLDS, ids=lambda g: g.nct_id)
def test_gold_file_validates_against_its_study(gold, texts):
    data = json.loads(Path(gold.path).read_text(encoding="utf-8"))
    assert validate(data, texts[gold.nct_id]) == []


@needs_sample
def test_gold_studies_are_the_seeded_pick():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import pick_registry_gold as pick
    finally:
        sys.path.pop(0)
    pool = pick.read_pool(SAMPLE)
    assert pick.pick_round(pool, 1) == pick.pick(pool)  # round 1 is the default pick
    picked = [p for k in range(1, len(pick.ROUNDS) + 1) for p in pick.pick_round(pool, k)]
    assert len({nct for nct, _, _ in picked}) == len(picked)  # no study in two rounds
    assert sorted((nct, layout) for nct, layout, _ in picked) == sorted((g.nct_id, g.layout) for g in GOLDS)


def test_every_gold_unit_is_ucum():
    from ucumvert import PintUcumRegistry

    registry = PintUcumRegistry()
    for unit in sorted({r.unit for g in GOLDS for r in g.rules if r.unit}):
        registry.from_ucum(unit)  # raises on a code that is not UCUM


@needs_sample
def test_validate_reports_broken_gold(texts):
    gold = next(g for g in GOLDS if g.nct_id == "NCT00003444")
    data = json.loads(Path(gold.path).read_text(encoding="utf-8"))
    text = texts[gold.nct_id]
    broken = copy.deepcopy(data)
    broken["rules"][0]["start"] += 1
    broken["rules"][1]["comparator"] = "≥"
    broken["rules"][2]["value_high"] = None                 # a 'between' without its upper bound
    broken["rules"][3]["unit_inferred"] = True
    broken["rules"][3]["unit"] = None
    broken["rules"][4]["conditions"] = [{"kind": "window", "text": "x", "start": 0, "end": 1}]
    problems = validate(broken, text)
    assert any("rule 0" in p and "text is not" in p for p in problems)
    assert any("rule 1" in p and "comparator" in p for p in problems)
    assert any("rule 2" in p and "value_high" in p for p in problems)
    assert any("rule 3" in p and "unit_inferred" in p for p in problems)
    assert any("rule 4" in p and "kind" in p for p in problems)
    assert validate(data, text.replace("ECOG", "Ecog")) [0].startswith("sha1")


# --------------------------------------------------------------------------- scorer on small pairs
TEXT = ("PATIENT CHARACTERISTICS: Age: 18 and over Hematopoietic: Platelet count at least\r\n"
        "        100,000 Hepatic: Bilirubin no greater than 1.5 times normal (3 times normal if\r\n"
        "        liver metastases) Other: No weight loss of more than 10% within 3 months")


def _span(sub: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(sub, start + 1)
    return {"text": sub, "start": start, "end": start + len(sub)}


def _rule(text, var, cmp_, value, unit=None, rel=None, conds=(), negated=False, optional=False, **extra):
    return {**_span(text), "variable": {**_span(var), "name": var.lower()}, "comparator": cmp_, "value": value,
            "value_high": None, "inclusive": None, "unit": unit, "relative_to": rel,
            "conditions": [{"kind": k, **_span(t)} for k, t in conds], "negated": negated,
            "optional": optional, **extra}


GOLD_RULES = [
    _rule("Age: 18 and over", "Age", ">=", 18, unit="a"),
    _rule("Platelet count at least\r\n        100,000", "Platelet count", ">=", 100000, unit="/mm3",
          unit_inferred=True),
    _rule("Bilirubin no greater than 1.5 times normal", "Bilirubin", "<=", 1.5, rel="ULN"),
    _rule("3 times normal", "Bilirubin", "<=", 3, rel="ULN", conds=[("population", "if\r\n        liver metastases")]),
    _rule("weight loss of more than 10%", "weight loss", ">", 10, unit="%", negated=True,
          conds=[("temporal", "within 3 months")]),
    _rule("within 3 months", "weight loss", "<", 3, unit="mo", optional=True),
]


def _gold(rules=GOLD_RULES, layout="pdq", nct="NCT0TEST001") -> RegistryGold:
    return RegistryGold(nct_id=nct, source="studies.jsonl", sha1=criteria_sha1(TEXT), layout=layout,
                        rules=parse_rules(rules))


def _prediction(rules) -> dict:
    return {"criteria": [{"id": "crit-1", "rules": [dict(r, id=f"crit-1.r{i}") for i, r in enumerate(rules)]}]}


def _as_predicted(gold_rule: dict, **changes) -> dict:
    p = {k: copy.deepcopy(v) for k, v in gold_rule.items() if k not in ("optional", "note")}
    p.update(changes)
    return p


def test_hand_made_gold_is_valid():
    assert validate({"sha1": criteria_sha1(TEXT), "layout": "pdq", "rules": GOLD_RULES}, TEXT) == []


def test_same_unit_up_to_a_conversion_factor_of_one():
    assert same_unit("{cells}/uL", "/mm3") and same_unit("/uL", "/mm3") and same_unit("U/L", "[IU]/L")
    assert same_unit(None, None) and same_unit("g/dL", " g/dL ")
    assert not same_unit("10*9/L", "/mm3") and not same_unit("g/L", "g/dL")
    assert not same_unit(None, "%") and not same_unit("%", None) and not same_unit("mo", "wk")


def test_prediction_equal_to_gold_is_fully_right_whatever_the_criterion():
    preds = [_as_predicted(r) for r in GOLD_RULES]
    preds[1]["unit"] = "{cells}/uL"          # the same unit, written the contract's way
    score = score_study(_gold(), _prediction(preds))
    assert [o.status for o in score.rules] == ["full"] * 6 and score.spurious == []


def test_each_field_difference_makes_a_partial():
    cases = {
        0: ({"comparator": ">"}, ("comparator",)),
        1: ({"unit": "10*9/L"}, ("unit",)),              # 100,000 10*9/L is not 100,000 /mm3
        2: ({"relative_to": None}, ("relative_to",)),
        3: ({"conditions": []}, ("condition:population",)),
        4: ({"negated": False, "value": 10.5}, ("value", "negated")),
    }
    preds = [_as_predicted(r, **cases[i][0]) if i in cases else _as_predicted(r) for i, r in enumerate(GOLD_RULES)]
    preds[0]["variable"] = {**_span("PATIENT"), "name": "patient"}   # no overlap with 'Age'
    score = score_study(_gold(), _prediction(preds))
    diffs = {i: o.differences for i, o in enumerate(score.rules)}
    assert diffs[0] == ("variable", "comparator")
    assert diffs[1] == ("unit",) and diffs[2] == ("relative_to",)
    assert diffs[3] == ("condition:population",) and diffs[4] == ("value", "negated")
    assert all(score.rules[i].status == "partial" for i in range(5))


def test_unit_inferred_is_scored_when_the_gold_states_it():
    preds = [_as_predicted(r) for r in GOLD_RULES]
    del preds[1]["unit_inferred"]            # schema 1.0 predictions have no such field
    score = score_study(_gold(), _prediction(preds))
    assert score.rules[1].differences == ("unit_inferred",)
    assert all(o.status == "full" for i, o in enumerate(score.rules) if i != 1)


def test_missed_spurious_and_optional():
    spurious = {**_span("Hematopoietic"), "variable": None, "comparator": "=", "value": 5.0, "unit": None,
                "negated": False, "conditions": []}
    preds = [_as_predicted(GOLD_RULES[0]), _as_predicted(GOLD_RULES[5]), spurious]
    report = score_registry([_gold()], {"NCT0TEST001": _prediction(preds)})
    c = report.counts()
    assert (c["required"], c["optional"], c["full"], c["partial"], c["missed"], c["spurious"]) == (5, 1, 1, 0, 4, 1)
    assert c["fully_right"] == pytest.approx(1 / 5) and c["full_precision"] == pytest.approx(1 / 2)
    assert [e["text"] for e in report.errors()["spurious"]] == ["Hematopoietic"]
    # an optional gold rule neither counts when found nor costs when missed
    alone = score_registry([_gold()], {"NCT0TEST001": _prediction([_as_predicted(r) for r in GOLD_RULES[:5]])})
    assert alone.counts()["fully_right"] == 1.0 and alone.counts()["spurious"] == 0


def test_report_per_layout_fields_and_conditions():
    preds = [_as_predicted(r) for r in GOLD_RULES]
    preds[4]["conditions"].append({"kind": "population", **_span("Other: No")})   # boilerplate-like extra
    preds[3]["conditions"] = []
    golds = [_gold(), _gold(layout="other", nct="NCT0TEST002")]
    report = score_registry(golds, {"NCT0TEST001": _prediction(preds)})     # nothing for the second study
    pdq, other, total = report.counts("pdq"), report.counts("other"), report.counts()
    assert (pdq["full"], pdq["partial"], pdq["missed"]) == (4, 1, 0)
    assert (other["full"], other["missed"]) == (0, 5)
    assert total["required"] == pdq["required"] + other["required"] == total["full"] + total["partial"] + total["missed"]
    fields = report.field_agreement()
    assert list(fields) == list(RULE_FIELDS)
    assert fields["value"] == {"agree": 5, "n": 5, "rate": 1.0}
    assert fields["unit_inferred"]["n"] == 1 and fields["value_high"]["n"] == 0
    cond = report.condition_agreement()
    assert list(cond) == list(CONDITION_KINDS)
    assert (cond["population"]["found"], cond["population"]["n"], cond["population"]["extra"]) == (0, 1, 1)
    assert (cond["temporal"]["found"], cond["temporal"]["n"], cond["temporal"]["precision"]) == (1, 1, 1.0)
    text = report.format(errors=5)
    assert "condition:population" in text and "fully right" in text and "NCT0TEST002 missed" in text


def test_oracle_scores_every_rule_full():
    report = score_registry([_gold()], {"NCT0TEST001": oracle_prediction(_gold(), TEXT)})
    assert report.counts()["fully_right"] == 1.0 and report.counts()["spurious"] == 0


# --------------------------------------------------------------------------- the command, end to end
@pytest.fixture
def evaluate(monkeypatch, capsys):
    """``criteria-nlp evaluate --corpus registry ARGS`` run in this process from the project root."""
    from criteria_nlp.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args) -> subprocess.CompletedProcess:
        code = main(["evaluate", "--corpus", "registry", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return run


@needs_sample
def test_evaluate_registry_on_the_real_gold(evaluate):
    run = evaluate("--json", "--errors", "5")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    s = report["summary"]
    assert s["studies"] == len(GOLDS)
    assert s["required"] == sum(len(g.required) for g in GOLDS)
    assert s["full"] + s["partial"] + s["missed"] == s["required"]
    for key in ("studies", "required", "optional", "full", "partial", "missed", "spurious"):
        assert sum(report["layouts"][layout][key] for layout in LAYOUTS) == s[key]
    for f in report["fields"].values():
        assert 0 <= f["agree"] <= f["n"] <= s["full"] + s["partial"]
    for c in report["conditions"].values():
        assert 0 <= c["found"] <= c["n"] and 0 <= c["extra"] <= c["predicted"]
    assert len(report["errors"]["rules"]) == min(5, s["partial"] + s["missed"])
    assert len(report["errors"]["spurious"]) == min(5, s["spurious"])


@needs_sample
def test_evaluate_registry_oracle_and_text_report(evaluate):
    run = evaluate("--system", "oracle", "--errors", "3")
    assert run.returncode == 0, run.stderr
    assert "fully right 1.000" in run.stdout and "Field agreement" in run.stdout


@needs_sample
def test_evaluate_registry_bad_input_is_one_line(evaluate, tmp_path):
    missing = evaluate("--gold-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    stale = json.loads(Path(GOLDS[0].path).read_text(encoding="utf-8"))
    stale["sha1"] = "0" * 40
    (tmp_path / Path(GOLDS[0].path).name).write_text(json.dumps(stale), encoding="utf-8")
    run = evaluate("--gold-dir", str(tmp_path), "--system", "oracle")
    assert run.returncode == 2 and "sha1" in run.stderr and "Traceback" not in run.stderr
    (tmp_path / Path(GOLDS[0].path).name).write_text("{not json", encoding="utf-8")
    broken = evaluate("--gold-dir", str(tmp_path), "--system", "oracle")
    assert broken.returncode == 2 and "cannot read gold" in broken.stderr and "Traceback" not in broken.stderr
    shuffled = evaluate("--system", "shuffled")
    assert shuffled.returncode == 2 and "not available" in shuffled.stderr


@needs_sample
def test_evaluate_registry_system_failure_is_one_line(evaluate, monkeypatch):
    import criteria_nlp

    def broken(items, **kwargs):
        raise RuntimeError("pipeline broke")

    monkeypatch.setattr(criteria_nlp, "extract_many", broken)
    run = evaluate("--system", "pipeline-rules")
    err = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(err) == 1 and "pipeline broke" in err[0] and "--traceback" in err[0]
    with pytest.raises(RuntimeError, match="pipeline broke"):
        evaluate("--system", "pipeline-rules", "--traceback")
