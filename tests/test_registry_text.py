"""Registry text as it really is: hard wraps, the PDQ run-in layout, negated comparators,
population and window conditions, old-style units (issue "Registry truth")."""
import dataclasses
import json
from pathlib import Path

import pytest

from criteria_nlp import extract
from criteria_nlp.layout import hard_wrap, join_wraps, soft_breaks

SAMPLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"


def rules_of(text):
    out = extract(text)
    for c in out["criteria"]:
        for r in c["rules"]:
            assert text[r["start"]:r["end"]] == r["text"]
            if r["variable"]:
                assert text[r["variable"]["start"]:r["variable"]["end"]] == r["variable"]["text"]
            for k in r["conditions"]:
                assert text[k["start"]:k["end"]] == k["text"]
    return [r for c in out["criteria"] for r in c["rules"]]


def only(text):
    rules = rules_of(text)
    assert len(rules) == 1, [r["text"] for r in rules]
    return rules[0]


def criteria_of(text):
    return [(c["id"], c["parent"], c["text"]) for c in extract(text)["criteria"]]


# -- soft wraps -----------------------------------------------------------------------------------
LEGACY = ("        Inclusion Criteria:\r\n\r\n"
          "          -  Bilirubin less than\r\n"
          "             2.0 mg/dL\r\n\r\n"
          "          -  Creatinine\r\n"
          "             clearance at least 60 mL/min\r\n\r\n"
          "          -  SGOT no greater than 2.5 times upper\r\n"
          "             limit of normal\r\n\r\n"
          "          -  Hemoglobin greater than 8\r\n"
          "             g/dL\r\n")


def test_a_comparator_unit_or_reference_limit_after_a_wrap_stays_in_the_rule():
    got = [(r["variable"]["name"], r["comparator"], r["value"], r["unit"], r["relative_to"]) for r in rules_of(LEGACY)]
    assert got == [("total_bilirubin", "<", 2.0, "mg/dL", None),
                   ("creatinine_clearance", ">=", 60.0, "mL/min", None),
                   ("ast", "<=", 2.5, None, "ULN"),
                   ("hemoglobin", ">", 8.0, "g/dL", None)]


def test_wrapped_items_keep_their_structure_and_exact_offsets():
    ids = [(i, p) for i, p, _ in criteria_of(LEGACY)]
    assert ids == [("inc-1", None), ("inc-2", None), ("inc-3", None), ("inc-4", None)]
    texts = [t for _, _, t in criteria_of(LEGACY)]
    assert texts[0] == "Bilirubin less than\r\n             2.0 mg/dL"


def test_soft_and_hard_breaks():
    text = ("Patients must have a serum bilirubin level that is less than or equal to\n"
            "1.5 mg/dL and no prior therapy.\n"
            "Creatinine below 2 mg/dL\n"
            "  1. First item\n"
            "For healthy controls:\n")
    breaks = soft_breaks(text)
    first_nl = text.index("\n")
    assert breaks == [(first_nl, first_nl + 1)]  # only the wrap after "equal to"


def test_join_wraps_maps_every_offset_back():
    text = "Age:\r\n   at least 18 years and\r\n     under 65\r\n\r\n- next"
    view = join_wraps(text)
    assert len(view.text) < len(text)
    for i, ch in enumerate(view.text):
        j = view.to_input(i)
        assert ch == text[j] or (ch == " " and text[j] in "\r\n ")
    assert view.to_input(len(view.text)) == len(text)


def test_hard_wrap_keeps_length_and_width():
    text = "1. " + " ".join(["hemoglobin at least 9 g/dL"] * 12) + "\n2. age 18-65\n"
    wrapped = hard_wrap(text, 40)
    assert len(wrapped) == len(text)
    assert max(len(line) for line in wrapped.split("\n")) <= 40
    assert wrapped != text and join_wraps(wrapped).text == text  # every wrap it made is found again


# -- the PDQ run-in layout --------------------------------------------------------------------------
PDQ = ("        PATIENT CHARACTERISTICS: Age: 18 or over Performance status: SWOG 0-1 Karnofsky 80-100%\r\n"
       "        Life expectancy: Greater than 2 months Hematopoietic: WBC at least 4,000/mm3 Platelet count\r\n"
       "        at least 100,000 Hepatic: Bilirubin no greater than 1.5 times normal (5 times normal if\r\n"
       "        liver metastases) Renal: Not specified Other: Not pregnant No other malignancy\r\n")


def test_run_in_fields_are_criteria_and_their_context():
    crits = criteria_of(PDQ)
    assert crits[0][:2] == ("crit-1", None) and crits[0][2] == "PATIENT CHARACTERISTICS:"
    texts = {t.split(":")[0]: (i, p) for i, p, t in crits}
    assert texts["Age"] == ("crit-1.1", "crit-1")
    assert texts["Hematopoietic"][1] == "crit-1"
    got = [(r["variable"]["name"], r["comparator"], r["value"], r["value_high"], r["unit"], r["relative_to"],
            r["negated"], [k["kind"] for k in r["conditions"]]) for r in rules_of(PDQ)]
    assert got == [
        ("age", ">=", 18.0, None, "a", None, False, []),
        ("ecog_performance_status", "between", 0.0, 1.0, None, None, False, []),
        ("karnofsky_performance_status", "between", 80.0, 100.0, "%", None, False, []),
        ("life_expectancy", ">", 2.0, None, "mo", None, False, []),
        ("white_blood_cell_count", ">=", 4000.0, None, "/mm3", None, False, []),
        ("platelet_count", ">=", 100000.0, None, "/mm3", None, False, []),
        ("total_bilirubin", "<=", 1.5, None, None, "ULN", False, []),
        ("total_bilirubin", "<=", 5.0, None, None, "ULN", False, ["population"]),
    ]


def test_a_value_without_unit_says_its_unit_is_inferred():
    platelets = [r for r in rules_of(PDQ) if r["variable"]["name"] == "platelet_count"][0]
    assert (platelets["unit"], platelets["unit_text"], platelets["unit_inferred"]) == ("/mm3", None, True)
    assert platelets["normalized"] == {"value": 100.0, "value_high": None, "unit": "10*9/L"}
    wbc = [r for r in rules_of(PDQ) if r["variable"]["name"] == "white_blood_cell_count"][0]
    assert wbc["unit_inferred"] is False and wbc["unit_text"] == "/mm3"


def test_a_value_that_fits_no_single_unit_stays_without_one():
    rule = only("Platelets at least 1,000")  # 1,000/mm3 and 1,000 x 10^9/L are both implausible
    assert rule["unit"] is None and rule["unit_inferred"] is False


def test_a_header_paragraph_holds_the_paragraphs_at_its_own_indentation():
    text = ("Exclusion Criteria:\r\n\r\n        Excluded within 4 weeks prior to study entry:\r\n\r\n"
            "        Systemic corticosteroids.\r\n\r\n        Neutrophils less than 1000 cells/mm3.\r\n\r\n"
            "        Required:\r\n\r\n        Hemoglobin at least 9 g/dL.\r\n")
    got = [(cid, parent, t) for cid, parent, t in criteria_of(text)]
    assert got == [("exc-1", None, "Excluded within 4 weeks prior to study entry:"),
                   ("exc-1.1", "exc-1", "Systemic corticosteroids."),
                   ("exc-1.2", "exc-1", "Neutrophils less than 1000 cells/mm3."),
                   ("exc-2", None, "Required:"),
                   ("exc-2.1", "exc-2", "Hemoglobin at least 9 g/dL.")]
    windows = [[k["text"] for k in r["conditions"]] for r in rules_of(text)]
    assert windows == [["within 4 weeks prior to study entry"], []]
    # a header whose items are a marked list: a later paragraph at its indentation is not its item
    text = "Patients must have:\n\n  - Age 18-65 years\n\nBMI below 30 kg/m2\n"
    assert [(cid, parent) for cid, parent, _ in criteria_of(text)] == [("crit-1", None), ("crit-1.1", "crit-1"),
                                                                    ("crit-2", None)]


def test_nested_field_labels_name_the_variable():
    text = ("        PATIENT CHARACTERISTICS:\r\n\r\n        Age:\r\n\r\n          -  18 and over\r\n\r\n"
            "        Life expectancy:\r\n\r\n          -  At least 2 months\r\n\r\n"
            "        Performance status:\r\n\r\n          -  ECOG 0-2\r\n")
    got = [(r["variable"]["name"], r["comparator"], r["value"], r["unit"]) for r in rules_of(text)]
    assert got == [("age", ">=", 18.0, "a"), ("life_expectancy", ">=", 2.0, "mo"),
                   ("ecog_performance_status", "between", 0.0, None)]


@pytest.mark.parametrize("text, name", [
    ("Performance status: 0-2", "performance_status"),
    ("Performance status: WHO 0-2", "ecog_performance_status"),  # WHO's scale is ECOG's (the lexicon's "who ps")
    ("Performance status: GOG 0-2", "ecog_performance_status"),
    ("Performance status: Zubrod 0-1", "ecog_performance_status"),
    ("performance status (PS) of 0-1", "performance_status"),
])
def test_performance_scales(text, name):
    rule = only(text)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"]) == (name, "between", 0.0)


def test_who_names_a_scale_only_before_a_score():
    # registry line (NCT00007852): "Performance status: WHO 0-2"; the others written for the form
    assert [r["variable"]["text"] for r in rules_of("PATIENT CHARACTERISTICS: Age: 19 and over Performance status: WHO 0-2")] \
        == ["Age", "WHO"]
    assert rules_of("Histologically confirmed WHO grade III or IV glioma") == []
    rule = only("AML by WHO classification with blasts at least 20% in the marrow")
    assert rule["variable"]["text"] == "blasts"


def test_not_specified_is_no_rule_and_a_field_label_is_not_a_postfix_comparator():
    assert rules_of("PATIENT CHARACTERISTICS: Age: Not specified Performance status: Not specified") == []
    rule = only("PATIENT CHARACTERISTICS: Age: 18 and over Hepatic: Not specified")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"]) == ("age", ">=", 18.0)


# -- negation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, comparator", [
    ("Bilirubin no greater than 2.0 mg/dL", "<="),
    ("Creatinine not more than 1.5 mg/dL", "<="),
    ("Bilirubin not exceeding 2 mg/dL", "<="),
    ("Bilirubin not to exceed 2 mg/dL", "<="),
    ("WBC no less than 3000/mm3", ">="),
    ("Hepatic: Bilirubin no greater than 1.5 times ULN", "<="),
])
def test_a_negated_comparator_is_a_comparator_not_a_negation(text, comparator):
    rule = only(text)
    assert (rule["comparator"], rule["negated"]) == (comparator, False)


@pytest.mark.parametrize("text", [
    "No patients with serum creatinine > 3 mg/dL",
    "No NYHA class III/IV",
    "Cardiovascular: No New York Heart Association class III or IV heart failure",
])
def test_a_negation_of_the_threshold_state_is_negated(text):
    assert only(text)["negated"] is True


def test_negation_stops_at_field_and_statement_boundaries():
    text = ("PATIENT CHARACTERISTICS: Other: Not pregnant No coagulation disorders Hematopoietic: "
            "WBC at least 3,000/mm3 Hepatic: Bilirubin no greater than 2.0 mg/dL")
    assert [r["negated"] for r in rules_of(text)] == [False, False]


def test_a_negation_in_parentheses_stays_in_them():
    text = "Limited disease (no liver metastases) defined as: no more than 3 lung nodules OR 1-3 brain metastases"
    assert [(r["value"], r["negated"]) for r in rules_of(text)] == [(3.0, False), (1.0, False)]
    # a cue outside the parentheses still reaches past them
    assert only("No patients with serum creatinine (mg/dL) above 3")["negated"] is True


def test_a_none_of_the_following_header_negates_its_items():
    nested = ("Exclusion Criteria:\n  - None of the following within 3 months prior to entry:\n"
              "      - Systolic blood pressure above 180 mmHg\n      - QTc interval longer than 470 ms\n"
              "  - Hemoglobin at least 9 g/dL\n")
    assert [(r["value"], r["negated"]) for r in rules_of(nested)] == [(180.0, True), (470.0, True), (9.0, False)]
    run_in = ("PATIENT CHARACTERISTICS: Cardiovascular: None of the following: Unstable angina "
              "Ejection fraction less than 35% Renal: Creatinine no greater than 2.0 mg/dL")
    assert [(r["value"], r["negated"]) for r in rules_of(run_in)] == [(35.0, True), (2.0, False)]
    # "the following" with no negation word negates nothing
    plain = "Exclusion Criteria:\n  - Any of the following:\n      - Systolic blood pressure above 180 mmHg\n"
    assert [r["negated"] for r in rules_of(plain)] == [False]


# -- conditions ----------------------------------------------------------------------------------
def test_alternative_values_per_sex_each_carry_their_population():
    got = [(r["value"], [k["text"] for k in r["conditions"]])
           for r in rules_of("Hb ≥ 120 g/L for men, ≥ 110 g/L for women")]
    assert got == [(120.0, ["for men"]), (110.0, ["for women"])]


def test_a_preposed_population_scopes_forward():
    text = "ALT ≤ 2.5 x ULN (for subjects with Gilbert's syndrome, ALT ≤ 5 x ULN)"
    got = [(r["value"], [k["kind"] for k in r["conditions"]]) for r in rules_of(text)]
    assert got == [(2.5, []), (5.0, ["population"])]


def test_boilerplate_is_not_a_population():
    text = "Patients may be eligible if they:\n  - have serum creatinine < 2 mg/dL\n"
    assert only(text)["conditions"] == []


def test_a_sub_header_population_holds_for_its_own_items_only():
    text = "Inclusion Criteria:\n\nFor healthy controls:\n  - BMI 18-30 kg/m2\nFor patients:\n  - Age 18-80\n"
    got = [[k["text"] for k in r["conditions"]] for r in rules_of(text)]
    assert got == [["For healthy controls:"], ["For patients:"]]


def conditions_of(text, kind):
    return [[(k["text"], k.get("relation"), k.get("anchor")) for k in r["conditions"] if k["kind"] == kind]
            for r in rules_of(text)]


@pytest.mark.parametrize("text, condition", [
    ("Serum sodium > 130 mmol/L upon hospital admission", ("upon hospital admission", "at", "hospital admission")),
    ("Weight at least 2 kg at the time of delivery", ("at the time of delivery", "at", "delivery")),
    ("Age 5-12 years at the start of the trial", ("at the start of the trial", "at", "trial")),
    ("Gestational age < 32 weeks at birth", ("at birth", "at", "birth")),
    ("Lactate > 2 mmol/L after resuscitation therapy", ("after resuscitation therapy", "after", "resuscitation therapy")),
    ("Creatinine < 2 mg/dL on each visit", ("on each visit", "at", "visit")),
    ("Oxygen saturation < 90% during exercise", ("during exercise", "during", "exercise")),
    ("Heart rate < 50 bpm while the patient is asleep", ("while the patient is asleep", "during", "asleep")),
    ("Postoperative troponin > 14 ng/L", ("Postoperative", "after", "operative")),
    ("Pre-transplant ferritin > 1000 ng/mL", ("Pre-transplant", "before", "transplant")),
    ("FEV1 < 70% post-bronchodilator", ("post-bronchodilator", "after", "bronchodilator")),
    ("Body temperature when extubated > 38 °C", ("when extubated", "at", "extubated")),
    ("Systolic blood pressure < 90 mmHg at rest", None),  # a qualifier, not a time
    ("CD4 count > 200 cells/mm3 on current antiretroviral therapy", None),  # a treatment one is on
])
def test_windows_anchored_on_events(text, condition):
    got = conditions_of(text, "temporal")
    assert got == [[condition] if condition else []], got


@pytest.mark.parametrize("text, condition", [
    ("Weight loss > 5 kg in the past two months", ("in the past two months", "within", None)),
    ("Seizure count at least 2 during the last week", ("during the last week", "within", None)),
    ("Glucose variation > 3 mmol/L in the day before surgery", ("in the day before surgery", "before", "surgery")),
])
def test_periods_written_without_digits(text, condition):
    assert conditions_of(text, "temporal") == [[condition]]


def test_a_state_of_time_qualifies_what_follows_and_yields_to_a_window():
    got = conditions_of("Active Crohn's disease (CDAI > 220); BMI > 30 kg/m2", "temporal")
    assert got == [[("Active", "current", None)], []]
    # a numeric window says more than "history of"
    got = conditions_of("History of systolic blood pressure > 180 mmHg within 3 months prior to screening", "temporal")
    assert [[t for t, _, _ in c] for c in got] == [["within 3 months prior to screening"]]
    # "minimum of 10 active electrodes": a word of the variable, not a state of the rule
    assert conditions_of("A minimum of 10 active electrodes", "temporal") == [[]]


def test_at_least_one_thing_and_a_share_of_a_set_are_no_counts():
    assert rules_of("At least one member of each family speaks English") == []
    assert rules_of("Intolerance to at least 2 of the drugs listed below") == []


def test_a_neighbouring_clauses_duration_is_neither_an_age_nor_its_window():
    rule = only("Patients aged 18 or older and on dialysis for at least 6 months")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["conditions"]) == ("age", ">=", 18.0, [])


def test_a_starred_footnote_exception_holds_for_every_starred_value():
    text = ("PATIENT CHARACTERISTICS: Hematopoietic: WBC at least 3,000/mm3* Platelet count at least "
            "75,000/mm3* Hemoglobin at least 8 g/dL *Unless due to marrow infiltration Hepatic: "
            "Bilirubin no greater than 2 mg/dL")
    got = [(r["value"], [k["text"] for k in r["conditions"] if k["kind"] == "exception"]) for r in rules_of(text)]
    assert got == [(3000.0, ["Unless due to marrow infiltration"]), (75000.0, ["Unless due to marrow infiltration"]),
                   (8.0, ["Unless due to marrow infiltration"]), (2.0, [])]


def test_a_time_word_inside_a_carve_out_belongs_to_the_carve_out():
    text = "Diastolic blood pressure ≥ 100 mmHg (unless the patient is on antihypertensive therapy)"
    rule = only(text)
    assert [k["kind"] for k in rule["conditions"]] == ["exception"]


@pytest.mark.parametrize("text, populations", [
    # the closing parenthesis of "in women)" does not widen its scope to the next threshold
    ("Grip strength (<27 kg in men; <16 kg in women) or gait speed (< 0.8 m/s)",
     [["in men"], ["in women"], []]),
    ("Alcohol > 14 units/week for man, > 7 units/week for woman", [["for man"], ["for woman"]]),
    ("Uric acid ≥ 7.0 and ≥ 6.0 mg/dL in men and women respectively", [["men"], ["women"]]),
    ("Height 150 cm or more (female: 140 cm or more)", [[], ["(female:"]]),
    ("Age 20-40 years for healthy volunteers", [["for healthy volunteers"]]),
    ("Obese subjects with waist circumference > 102 cm", [["Obese"]]),
    ("Participants with type 2 diabetes must have HbA1c < 9%", [["type 2 diabetes"]]),
    ("No patients with septal wall thickness less than 15 mm", [[]]),
])
def test_populations_named_by_group_subjects_or_labels(text, populations):
    got = [[t for t, _, _ in c] for c in conditions_of(text, "population")]
    assert got == populations


def test_men_aged_is_two_requirements_not_a_population():
    assert conditions_of("Men aged 40 to 70 years", "population") == [[]]


def test_a_subjects_sub_header_names_the_population_of_its_items():
    text = ("Inclusion Criteria:\nPatients with stable angina:\n  -  Age ≥ 30 years\n"
            "Patients without coronary disease:\n  -  Age ≥ 40 years\n")
    got = [[t for t, _, _ in c] for c in conditions_of(text, "population")]
    assert got == [["Patients with stable angina:"], ["Patients without coronary disease:"]]


@pytest.mark.parametrize("text, comparator, value", [
    ("No more than 2 prior chemotherapy regimens for metastatic disease", "<=", 2.0),
    ("At least 3 lines of systemic therapy", ">=", 3.0),
    ("More than 50 skin lesions", ">", 50.0),
    ("1 or more measurable nodules", ">=", 1.0),
    # the count names the things after it, not the name before "with"
    ("Extensive Kaposi's sarcoma with more than 100 cutaneous lesions", ">", 100.0),
    ("No more than 3 lung nodules outside the primary tumor", "<=", 3.0),
    ("Prior treatment with more than one chemotherapy regimen", ">", 1.0),
])
def test_counts_of_the_patients_things_are_kept_by_the_learned_filter(text, comparator, value):
    rule = only(text)
    assert (rule["comparator"], rule["value"], rule["unit"]) == (comparator, value, None)
    assert rule["confidence"] is not None  # the model ran, and did not drop it
    assert rule["text"].endswith(rule["variable"]["text"])  # the things named after the count


# -- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, unit, relative_to", [
    ("SGOT no greater than 2.5 times UNL", None, "ULN"),
    ("Bilirubin no greater than twice normal", None, "ULN"),
    ("Granulocyte count at least 1,500 cells/mm(3)", "{cells}/mm3", None),
    ("Platelets at least 100,000/microL", "/uL", None),
    ("Creatinine less than 1.5 mg\u2044dL", "mg/dL", None),
])
def test_units_written_the_old_way(text, unit, relative_to):
    rule = only(text)
    assert (rule["unit"], rule["relative_to"]) == (unit, relative_to)


# -- on the registry sample ------------------------------------------------------------------------
@pytest.mark.corpus
def test_a_negated_comparator_never_negates_its_rule_on_the_sample():
    """Every rule of every 5th sample study whose own text holds a negated comparator ("no greater
    than") is not negated when read alone: only a cue outside the comparator may negate it."""
    if not SAMPLE.is_file():
        pytest.skip("ctgov sample not available")
    import re

    from criteria_nlp import extract_many

    negated_comparator = re.compile(r"\b(?:no|not)\s+(?:greater|more|less|higher|lower|exceed\w*|to\s+exceed|"
                                    r"above|below|fewer)\b", re.I)
    items = []
    with open(SAMPLE, encoding="utf-8") as fh:
        for k, line in enumerate(fh):
            if k % 5 == 0:
                study = json.loads(line)["protocolSection"]
                items.append((study["eligibilityModule"].get("eligibilityCriteria") or "",
                              study["identificationModule"]["nctId"], None))
    texts = {r["text"] for result in extract_many(items) for c in result["criteria"] for r in c["rules"]
             if negated_comparator.search(r["text"])}
    assert len(texts) > 300
    negated = [t for t, result in zip(sorted(texts), extract_many((t, None, None) for t in sorted(texts)))
               if any(r["negated"] for c in result["criteria"] for r in c["rules"])]
    assert negated == []


@pytest.mark.corpus
def test_layout_invariance_on_lct():
    """Hard-wrapping every LCT dev document at 72 columns changes no evaluation figure."""
    from criteria_nlp.evaluation.command import CorpusNotFound, load_gold, predict
    from criteria_nlp.evaluation.scorer import score

    try:
        golds = load_gold(None, "all")
    except CorpusNotFound:
        pytest.skip("LCT corpus not available")
    wrapped = [dataclasses.replace(g, text=hard_wrap(g.text, 72)) for g in golds]
    assert sum(g.text != w.text for g, w in zip(golds, wrapped)) > 100
    plain, hard = score(golds, predict("pipeline", golds)), score(golds, predict("pipeline", wrapped))
    for level in ("lenient", "strict", "full"):
        a, b = plain.levels[level].to_dict(), hard.levels[level].to_dict()
        for key in ("precision", "recall", "f1"):
            assert abs(a[key] - b[key]) <= 0.005, (level, key, a[key], b[key])


# -- names of the lexicon written the legacy way ----------------------------------------------------
@pytest.mark.parametrize("text, names", [
    # registry line (NCT00001618)
    ("FEV(1) less than 0.8 liters; PaO(2), on supplemental 02, of less than 70 mmHg or PaCO(2) greater than 45 mmHg",
     ["fev1", "pao2", "paco2"]),
    # registry line (NCT00006225)
    ("FEV_1 and/or FVC at least 75% predicted", ["fev1", "fvc"]),
    # registry line (NCT00001131): a viral load with no virus named is its own variable, with no code
    ("Viral load of 5,000 copies/ml or less within 3 months.", ["viral_load"]),
    # registry line (NCT00002880)
    ("Small lymphocytic with absolute lymphocytic count less than 5,000 (IWF A)", ["absolute_lymphocyte_count"]),
    ("CD34+ cells at least 2 x 10^6/kg collected", ["cd34_cells"]),
])
def test_legacy_spellings_of_lexicon_names(text, names):
    assert [r["variable"]["name"] for r in rules_of(text)] == names


def test_energy_units():
    # registry line (NCT00003089)
    rule = only("Other: No concurrent severe medical problems Calorie intake of at least 1500 kcal/day")
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">=", 1500.0, "kcal/d")


def test_with_or_without_negates_nothing():
    # registry line (NCT00003089): "without" of "with or without" used to negate the next alternative
    text = ("Limited metastatic disease defined as: 1-3 brain metastases, with plans for whole brain "
            "irradiation, with or without surgery or radiosurgery OR Single adrenal metastases not exceeding "
            "3 cm in size")
    assert [(r["value"], r["negated"]) for r in rules_of(text)] == [(1.0, False), (3.0, False)]
    # a real negation before it still holds
    assert only("No patients treated with or without surgery with creatinine > 2 mg/dL")["negated"] is True


def test_sub_headers_under_a_group_header():
    # registry text (NCT00000728): a group header, sub-headers at its indentation, each over its items
    text = ("        Inclusion Criteria\r\n\r\n          -  A positive antibody to HIV.\r\n\r\n"
            "        Concurrent Medication:\r\n\r\n        Allowed:\r\n\r\n"
            "          -  Necessary topical agents including topical acyclovir.\r\n\r\n"
            "        Concurrent Treatment:\r\n\r\n        Allowed:\r\n\r\n"
            "          -  Blood transfusions for anemia if hematocrit falls below 25 percent.\r\n\r\n"
            "        Prior Medication:\r\n\r\n        Excluded:\r\n\r\n          -  Zidovudine (AZT).\r\n\r\n"
            "        Excluded are:\r\n\r\n          -  Ribavirin.\r\n")
    assert [(cid, parent) for cid, parent, _ in criteria_of(text)] == [
        ("inc-1", None),
        ("inc-2", None), ("inc-2.1", "inc-2"), ("inc-2.1.1", "inc-2.1"),
        ("inc-3", None), ("inc-3.1", "inc-3"), ("inc-3.1.1", "inc-3.1"),
        ("inc-4", None), ("inc-4.1", "inc-4"), ("inc-4.1.1", "inc-4.1"), ("inc-4.2", "inc-4"), ("inc-4.2.1", "inc-4.2")]
    # the list form of the PDQ layout: an upper-case heading over its field labels
    text = ("        PATIENT CHARACTERISTICS:\r\n\r\n        Age:\r\n\r\n          -  18 to 60\r\n\r\n"
            "        Performance status:\r\n\r\n          -  ECOG 0-1\r\n\r\n"
            "        PRIOR CONCURRENT THERAPY:\r\n\r\n        Surgery:\r\n\r\n          -  Not specified\r\n")
    assert [(cid, parent) for cid, parent, _ in criteria_of(text)] == [
        ("crit-1", None), ("crit-1.1", "crit-1"), ("crit-1.1.1", "crit-1.1"), ("crit-1.2", "crit-1"),
        ("crit-1.2.1", "crit-1.2"), ("crit-2", None), ("crit-2.1", "crit-2"), ("crit-2.1.1", "crit-2.1")]
    # a header over plain items is no group: the next header is its sibling
    text = "Patients must have:\n\nAge 18-65 years.\n\nExcluded:\n\nPrior zidovudine.\n"
    assert [(cid, parent) for cid, parent, _ in criteria_of(text)] == [
        ("crit-1", None), ("crit-1.1", "crit-1"), ("crit-2", None), ("crit-2.1", "crit-2")]


def test_a_sub_header_that_announces_its_items_is_no_population():
    # registry text (NCT00002225): "Patients with the following prior conditions are excluded:"
    text = ("Exclusion Criteria\n\nPatients with the following prior conditions are excluded:\n\n"
            "  - Life expectancy less than 12 months.\n\nPatients with diabetes:\n\n  - HbA1c below 8%\n")
    assert [[c["text"] for c in r["conditions"]] for r in rules_of(text)] == [[], ["Patients with diabetes:"]]


@pytest.mark.parametrize("text, name, comparator", [
    # registry lines (NCT00006017, NCT00003809)
    ("Chemotherapy: See Disease Characteristics No more than 1 prior chemotherapy regimen",
     "prior_lines_of_therapy", "<="),
    ("Biologic therapy: No more than 1 prior biotherapy regimen for recurrent or metastatic disease",
     "prior biotherapy regimen", "<="),
    ("at most one prior line of therapy", "prior_lines_of_therapy", "<="),
])
def test_a_cap_of_one_is_a_count(text, name, comparator):
    rule = only(text)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"]) == (name, comparator, 1.0)


def test_at_least_one_is_no_count():
    assert rules_of("At least one measurable lesion") == []


@pytest.mark.parametrize("text, name, comparator, relative", [
    # registry lines (NCT00003809, and the sample's "Hepatic: Bilirubin no greater than upper limit of normal")
    ("Renal: Creatinine no greater than 1.2 mg/dL Calcium no greater than ULN No history of hypercalcemia",
     "calcium", "<=", "ULN"),
    ("Hepatic: Bilirubin no greater than upper limit of normal Renal: Not specified", "total_bilirubin", "<=", "ULN"),
    ("Prothrombin time less than upper limit of normal", "prothrombin_time", "<", "ULN"),
    ("Hemoglobin at least LLN", "hemoglobin", ">=", "LLN"),
])
def test_a_reference_limit_with_no_number_is_one_times_it(text, name, comparator, relative):
    rule = [r for r in rules_of(text) if r["relative_to"]][-1]
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["relative_to"]) \
        == (name, comparator, 1.0, relative)


def test_normal_alone_is_no_reference_limit_without_a_number():
    # "above normal range", "normal values": not a limit of its own
    assert rules_of("SGPT or SGOT above normal range") == []


def test_a_limit_in_units_in_parentheses_after_a_uln_multiple_is_an_alternative():
    # registry line (NCT00005070)
    rules = rules_of("Renal: Creatinine no greater than 1.5 times ULN (1.95 mg/dL at MSKCC) OR Creatinine "
                     "clearance at least 50 mL/min")
    assert [(r["variable"]["name"], r["comparator"], r["value"], r["unit"], r["relative_to"]) for r in rules] == [
        ("serum_creatinine", "<=", 1.5, None, "ULN"), ("serum_creatinine", "<=", 1.95, "mg/dL", None),
        ("creatinine_clearance", ">=", 50.0, "mL/min", None)]


def test_tuberculin_induration_is_not_a_periodontal_depth():
    # registry line (NCT00002309): "PPD" is ambiguous (tuberculin test, probing depth, postpartum
    # depression) and names no variable; the induration does
    rule = only("Positive PPD within 3 months prior to study entry (negative PPD defined as < 5 mm induration).")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) \
        == ("tuberculin_skin_test_induration", "<", 5.0, "mm")
    assert only("Presence of at least 4 sites with probing depth ≥ 6 mm" [28:])["variable"]["name"] \
        == "periodontal_probing_depth"


def test_you_is_no_population():
    # registry text (NCT00002235): "You may be eligible for this study if you:"
    text = ("Inclusion Criteria\n\nYou may be eligible for this study if you:\n\n"
            "  - Have a viral load of at least 10,000 copies/ml within 30 days of study entry.\n")
    assert [c["kind"] for c in only(text)["conditions"]] == ["temporal"]


def test_a_sentence_header_after_a_group_is_not_its_sub_header():
    # registry text (NCT00002254): "Patients must have the following:" after the Concurrent Medication group
    text = ("        Inclusion Criteria\r\n\r\n        Concurrent Medication:\r\n\r\n        Allowed:\r\n\r\n"
            "          -  Aerosolized pentamidine for PCP prophylaxis.\r\n\r\n"
            "        Patients must have the following:\r\n\r\n"
            "          -  CD4 count >= 400 cells/mm3.\r\n")
    assert [(cid, parent) for cid, parent, _ in criteria_of(text)] == [
        ("inc-1", None), ("inc-1.1", "inc-1"), ("inc-1.1.1", "inc-1.1"), ("inc-2", None), ("inc-2.1", "inc-2")]


def test_a_wrapped_parenthesis_is_no_list_marker_and_a_closed_phrase_ends_a_statement():
    # registry text (NCT00002880): "(IWF\r\n        G) Large cell" is a wrap inside a parenthesis,
    # and each "(IWF X)" closes a statement of the run-in list
    text = ("        DISEASE CHARACTERISTICS: Histologically documented non-Hodgkin's lymphoma One\r\n"
            "        of the following subtypes required: Small lymphocytic with absolute lymphocytic count less\r\n"
            "        than 5,000 (IWF A) Follicular, mixed (IWF C) Diffuse, large cell (IWF\r\n"
            "        G) Large cell, immunoblastic (IWF H) Recurrent or refractory disease treated with no more\r\n"
            "        than 4 prior chemotherapy regimens\r\n")
    texts = [" ".join(t.split()) for _, _, t in criteria_of(text)]
    assert "Follicular, mixed (IWF C)" in texts and "Diffuse, large cell (IWF G)" in texts \
        and "Large cell, immunoblastic (IWF H)" in texts
    assert [r["value"] for r in rules_of(text)] == [5000.0, 4.0]
    # a single abbreviation in parentheses does not end a statement
    assert len(criteria_of("PATIENT CHARACTERISTICS: Cardiovascular: No New York Heart Association (NYHA) "
                           "Class III or IV heart disease")) == 2


@pytest.mark.parametrize("text, value", [
    ("Indicator lesion larger than 1 x 1 cm", 1.0),  # registry line (NCT00002880)
    ("Lymph node at least 1.5 x 1.5 cm by palpation", 1.5),  # registry line (sample)
    ("Palpable and quantifiable lymph nodes at least 2x2 cm", 2.0),
    ("Residual disease less than 5 x 5 x 5 cm following reassessment", 5.0),
])
def test_a_size_in_dimensions_is_its_first_dimension(text, value):
    rule = only(text)
    assert (rule["value"], rule["unit"]) == (value, "cm")
    assert rule["text"].endswith("cm")


@pytest.mark.parametrize("text, window", [
    # registry line (NCT00005805)
    ("Hematopoietic: No decline in hemoglobin of 2 g/dL or more for one month prior to study",
     "for one month prior to study"),
    ("Hemoglobin at least 10 g/dL within two weeks prior to registration", "within two weeks prior to registration"),
    ("Platelets at least 100,000/mm3 during the past six months", "during the past six months"),
])
def test_a_window_with_a_number_word(text, window):
    assert [c["text"] for c in only(text)["conditions"] if c["kind"] == "temporal"] == [window]


def test_a_period_of_life_is_no_window_of_the_age():
    # an LCT form: "in the first six weeks of life" belongs to another clause
    rule = only("Infants seen in the first six weeks of life and currently less than 18 months of age")
    assert [c["text"] for c in rule["conditions"]] == ["currently"]


@pytest.mark.parametrize("text, qualifier", [
    # registry line (NCT00001618)
    ("FEV(1) less than 0.8 liters; PaO(2), on supplemental 02, of less than 70 mmHg", "on supplemental 02"),
    ("SpO2 below 90% on supplemental oxygen", "on supplemental oxygen"),
    ("Hemoglobin, without transfusion, at least 9 g/dL", "without transfusion"),
])
def test_a_qualifier_after_the_value_or_between_commas_after_the_name(text, qualifier):
    rule = rules_of(text)[-1]
    assert [c["text"] for c in rule["conditions"] if c["kind"] == "qualifier"] == [qualifier]


def test_a_name_after_the_value_stays_in_its_statement():
    # registry text (NCT00005805, NCT00003716): the next statement of a run-in list names its own variable
    text = ("DISEASE CHARACTERISTICS: Patients with malignant disease receiving chemotherapy Profile of Mood "
            "States (POMS) Fatigue Subscale score of 14 or higher POMS Depression Subscale score of 13 or less")
    rules = rules_of(text)
    assert [(r["variable"]["text"], r["value"]) for r in rules] == [
        ("States (POMS) Fatigue Subscale score", 14.0), ("POMS Depression Subscale score", 13.0)]
    text = ("DISEASE CHARACTERISTICS: Measurable disease Greater than 25% marrow involvement "
            "Quantifiable extranodal disease")
    assert only(text)["variable"]["text"] == "marrow involvement"


@pytest.mark.parametrize("text, value, unit", [
    ("At least 2.0 million CD34+ cells/kg collected", 2.0, "10*6/kg"),  # registry line (NCT00006225)
    ("Hematopoietic: CD34+ at least 4 million/kg", 4.0, "10*6/kg"),  # registry line (sample)
    ("Number of peripheral blood stem cells stored (>= 2.5 x 10^6 CD34+ cells/kg)", 2.5, "10*6/kg"),  # sample
    ("autologous stem cell collection (target ≥ 2.5 x 106 CD34+ cells/kg)", 2.5, "10*6/kg"),  # sample
    ("The goal is to transplant > 3 x 106 CD34+ cells per kg body weight", 3.0, "10*6/kg"),  # sample
])
def test_a_count_per_kilogram_around_the_name_of_what_is_counted(text, value, unit):
    rule = only(text)
    assert (rule["variable"]["name"], rule["value"], rule["unit"]) == ("cd34_cells", value, unit)


@pytest.mark.parametrize("text", [
    # registry text (NCT00006457): a single class before a CRLF
    "        PATIENT CHARACTERISTICS:\r\n\r\n        Performance status:\r\n\r\n          -  ECOG 0\r\n\r\n"
    "        Life expectancy:\r\n\r\n          -  Not specified\r\n",
    # registry text (NCT00002570): a single class that ends its statement of a run-in list
    "        PATIENT CHARACTERISTICS: Performance status: Karnofsky 90-100% ECOG 0\r\n"
    "        Hematopoietic: Granulocytes at least 1,500/mm3\r\n",
])
def test_a_single_class_at_the_end_of_its_criterion(text):
    assert ("ecog_performance_status", "=", 0.0) in [(r["variable"]["name"], r["comparator"], r["value"])
                                                     for r in rules_of(text)]


@pytest.mark.parametrize("text, comparator, value", [
    ("Patients who have a baseline neurological toxicity of Grade 3 or greater will be excluded", ">=", 3.0),
    ("Grade 2 or higher peripheral neuropathy", ">=", 2.0),
])
def test_a_grade_with_a_comparator_word_after_it_is_a_threshold(text, comparator, value):
    rule = only(text)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"]) == ("ctcae_grade", comparator, value)


def test_a_grade_with_no_comparator_is_a_stage():
    assert rules_of("Knee osteoarthritis grade II or III") == []


def test_within_a_multiple_of_uln_is_at_most():
    rules = rules_of("Patients must have a serum aspartate aminotransferase (AST) and alanine aminotransferase (ALT) "
                     "within 5 times the upper limit of normal")
    assert [(r["variable"]["name"], r["comparator"], r["value"], r["relative_to"]) for r in rules] == [
        ("ast", "<=", 5.0, "ULN"), ("alt", "<=", 5.0, "ULN")]


def test_patients_weighing_name_a_population():
    rules = rules_of("Renal: Creatinine clearance at least 50 mL/min in patients weighing less than 45 kg "
                     "Cardiovascular: No congestive heart failure")
    assert [c["text"] for c in rules[0]["conditions"]] == ["in patients weighing less than 45 kg"]


def test_hgba1c_is_hba1c():
    # registry line (sample): "fasting plasma glucose greater than or equal to 126 mg/dl or HgbA1C greater than 6.5%"
    rules = rules_of("Evidence for Type 2 diabetes, including fasting plasma glucose greater than or equal to 126 "
                     "mg/dl or HgbA1C greater than 6.5%.")
    assert [r["variable"]["name"] for r in rules] == ["fasting_plasma_glucose", "hba1c"]


def test_a_score_takes_no_dose():
    # registry line (sample): the dose is the drug's, not the grade's
    assert [(r["comparator"], r["value"], r["unit"]) for r in
            rules_of("History of grade 3 or worse intolerance to 500-600 mg/day AZT.")] == [(">=", 3.0, None)]
    assert only("Pain VAS at least 40 mm")["unit"] == "mm"


def test_but_not_limited_to_negates_nothing():
    # registry line (sample): "including but not limited to" lists examples, it negates none of them
    text = ("History of maternal medical complications including but not limited to pancreatitis, "
            "neurological complications including grade 2 or worse peripheral neuropathy")
    assert only(text)["negated"] is False
    assert only("No complications, including but not limited to grade 2 or worse peripheral neuropathy")["negated"]


def test_transaminases_named_together_are_one_variable():
    # PDQ run-in: the second value is the transaminases', not the bilirubin's
    text = ("Hepatic: Bilirubin no greater than 1.5 times upper limit of normal Transaminases no greater\r\n"
            "        than 2 times upper limit of normal\r\n")
    rules = rules_of(text)
    assert [(r["variable"]["name"], r["comparator"], r["value"], r["relative_to"]) for r in rules] == \
        [("total_bilirubin", "<=", 1.5, "ULN"), ("transaminases", "<=", 2.0, "ULN")]


@pytest.mark.parametrize("text, comparator", [
    ("Residual tumor size of less that 1 cm", "<"),
    ("Hemoglobin no less that 9 g/dL", ">="),
    ("Platelet count greater that 100,000/mm3", ">"),
])
def test_than_misspelt_that_is_still_a_comparator(text, comparator):
    assert only(text)["comparator"] == comparator


def test_expected_duration_of_survival_is_life_expectancy():
    rule = only("Patients must have an expected duration of survival of greater than 8 weeks")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) == ("life_expectancy", ">", 8.0, "wk")
