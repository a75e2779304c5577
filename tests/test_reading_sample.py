"""Forms seen while reading the registry sample's output by eye (README "Reading the sample's
output"), each tested on lines written for it."""
import json

import pytest

from criteria_nlp import extract
from criteria_nlp.components.sections import SectionHeadings
from criteria_nlp.pipeline import get_pipeline
from criteria_nlp.resources.lexicon import LexiconError, load_variables


def sections_of(text):
    return [(c["section"], c["text"].split("\n")[0]) for c in extract(text)["criteria"]]


QUALIFIED_HEADINGS = """Inclusion Criteria

  -  Age 18 or older

Exclusion Criteria

  -  Platelets < 100,000/mm3

Imaging Inclusion Criteria - Part 2

  -  stenosis of at least 50%

Healthy Volunteer Exclusion Criteria:

  -  BMI > 35 kg/m2
"""


def test_capitalised_words_before_a_heading_qualify_it():
    assert sections_of(QUALIFIED_HEADINGS) == [
        ("inclusion", "Age 18 or older"),
        ("exclusion", "Platelets < 100,000/mm3"),
        ("inclusion", "stenosis of at least 50%"),
        ("exclusion", "BMI > 35 kg/m2"),
    ]


def test_a_sentence_about_criteria_is_not_a_heading():
    text = ("Exclusion Criteria:\n\n  -  Hemoglobin < 9 g/dL\n\n"
            "See Common Inclusion Criteria for the required tests.\n\n  -  creatinine > 2 mg/dL\n\n"
            "No Inclusion Criteria apply to volunteers\n\n  -  ALT > 3 x ULN\n")
    assert {section for section, _ in sections_of(text)} == {"exclusion"}


def test_qualified_headings_on_the_string_equal_those_in_a_doc():
    nlp = get_pipeline()
    component = nlp.get_pipe("criteria_sections")
    assert isinstance(component, SectionHeadings)
    doc = component(nlp.make_doc(QUALIFIED_HEADINGS))
    in_doc = [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), cat) for s, e, cat in doc._.section_headings]
    assert component.headings_in_text(QUALIFIED_HEADINGS) == in_doc
    assert [QUALIFIED_HEADINGS[s:e] for s, e, _ in in_doc][2:] == [
        "Imaging Inclusion Criteria", "Healthy Volunteer Exclusion Criteria"]


def rules_of(text):
    return [rule for criterion in extract(text)["criteria"] for rule in criterion["rules"]]


def test_a_negation_inside_the_rules_population_does_not_negate_the_rule():
    text = ("Exclusion Criteria:\n\n"
            "  -  If no echocardiogram was done, patients are excluded with LVEF < 40%\n"
            "  -  In patients with no prior therapy: hemoglobin < 10 g/dL\n")
    rules = rules_of(text)
    assert [(r["text"], r["negated"]) for r in rules] == [("LVEF < 40%", False), ("hemoglobin < 10 g/dL", False)]
    assert all(any(k["kind"] == "population" for k in r["conditions"]) for r in rules)


def test_a_negation_outside_the_population_still_negates():
    rule, = rules_of("Inclusion Criteria:\n\n  -  No bilirubin > 2 mg/dL in patients without Gilbert's syndrome\n")
    assert rule["negated"] is True


def shape(rule):
    name = rule["variable"]["name"] if rule["variable"] else None
    return name, rule["comparator"], rule["value"], rule["value_high"], rule["unit"]


def test_two_signed_bounds_joined_by_to_are_one_range():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Reference vessel diameter ≥ 2.25 mm to ≤ 4.0 mm by visual estimate\n")
    assert shape(rule) == ("reference vessel diameter", "between", 2.25, 4.0, "mm")
    assert rule["inclusive"] == {"low": True, "high": True}


def test_a_masculine_ordinal_sign_after_a_number_is_a_degree():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Knee flexion contracture ≤15º\n")
    assert shape(rule)[1:] == ("<=", 15.0, None, "deg")


def test_a_unitless_scale_listed_with_a_percentage_scale_takes_no_percentage():
    rules = rules_of("Inclusion Criteria:\n\n  -  Zubrod performance status, or Lansky play scale 60 to 100%\n")
    assert [shape(r) for r in rules] == [("lansky_performance_status", "between", 60.0, 100.0, "%")]


def test_age_listed_with_a_rate_takes_no_rate():
    rules = rules_of("Inclusion Criteria:\n\n  -  Serum creatinine normal for age or creatinine clearance at least 70 mL/min\n")
    assert [shape(r) for r in rules] == [("creatinine_clearance", ">=", 70.0, None, "mL/min")]


def test_values_for_two_populations_in_run_in_text_each_keep_the_variable_and_their_own_population():
    text = ("Inclusion Criteria:\n\n  -  Skin test with induration as follows: 15 mm or greater if born abroad"
            " 10 mm or greater if a close contact\n")
    rules = rules_of(text)
    assert [shape(r)[:3] for r in rules] == [("tuberculin_skin_test_induration", ">=", 15.0),
                                            ("tuberculin_skin_test_induration", ">=", 10.0)]
    assert [[k["text"] for k in r["conditions"] if k["kind"] == "population"] for r in rules] == [
        ["if born abroad"], ["if a close contact"]]


def test_a_value_in_another_kind_of_unit_names_the_lexicons_counterpart():
    rules = rules_of("Inclusion Criteria:\n\n  -  CD4+ T cells at least 350 cells/uL or at least 20%\n"
                     "  -  Neutrophils below 40%\n  -  Reticulocyte count above 100,000/uL\n")
    assert [(r["variable"]["name"], r["unit"]) for r in rules] == [
        ("cd4_count", "{cells}/uL"), ("cd4_percentage", "%"), ("neutrophil_percentage", "%"),
        ("absolute_reticulocyte_count", "/uL")]
    assert rules[1]["variable"]["code"]["code"] == "8123-2"


def test_a_lexicon_counterpart_must_name_an_entry(tmp_path):
    entry = {"name": "cd4_count", "display": "CD4", "category": "lab", "terms": ["cd4 count"], "abbreviations": [],
             "code": None, "unit": "/uL", "molar_mass": None, "in_other_unit": "cd4_share"}
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"version": 1, "variables": [entry]}))
    with pytest.raises(LexiconError, match="in_other_unit"):
        load_variables(path)


def test_a_name_never_reaches_back_over_the_end_of_a_sentence():
    rules = rules_of("Exclusion Criteria:\n\n  -  Life expectancy under 3 months. Hyperkalemia above 6.0 mmol/L.\n")
    assert [r["text"] for r in rules] == ["Life expectancy under 3 months", "Hyperkalemia above 6.0 mmol/L"]


def test_a_name_does_not_start_with_since_or_from():
    rule, = rules_of("Inclusion Criteria:\n\n  -  At least 2 years since prior cumulative doxorubicin dose of at least 300 mg/m2\n")
    other, = rules_of("Inclusion Criteria:\n\n  -  Lesion < 5 mm from side branch vessel ≥ 2 mm\n")[1:]
    assert other["variable"]["text"] == "side branch vessel"
    assert rule["variable"]["text"] in ("prior cumulative doxorubicin dose", "cumulative doxorubicin dose")


def test_the_terms_of_a_ratio_named_by_them_are_not_variables():
    rules = rules_of("Inclusion Criteria:\n\n  -  BUN/creatinine ratio above 20\n  -  INR ratio below 1.5\n")
    assert [(r["variable"]["name"], r["variable"]["code"] is not None) for r in rules] == [
        ("bun/creatinine ratio", False), ("inr", True)]


def test_a_value_restated_in_other_units_in_parentheses_is_one_rule():
    rules = rules_of("Inclusion Criteria:\n\n  -  Hemoglobin at least 10 g/dL (at least 100 g/L)\n"
                     "  -  Creatinine > 1.5 mg/dL (> 133 µmol/L)\n")
    assert [shape(r) for r in rules] == [("hemoglobin", ">=", 10.0, None, "g/dL"),
                                         ("serum_creatinine", ">", 1.5, None, "mg/dL")]


def test_a_different_value_in_parentheses_is_kept():
    rules = rules_of("Inclusion Criteria:\n\n  -  Creatinine > 1.5 mg/dL (> 2.0 mg/dL in men)\n")
    assert [r["value"] for r in rules] == [1.5, 2.0]


def test_the_unit_of_the_value_before_is_no_name():
    rules = rules_of("Inclusion Criteria:\n\n  -  Fever of at least 38.0 deg C (100.4 deg F) on two occasions\n"
                     "  -  Weight loss of > 10 lbs. or > 5 percent of usual weight noted\n")
    assert [shape(r)[:3] for r in rules] == [("body_temperature", ">=", 38.0), ("weight_loss", ">", 10.0)]


def test_standard_deviations_from_the_mean_are_a_z_score_negative_below_it():
    rules = rules_of("Inclusion Criteria:\n\n  -  Height at least 2.5 SD below the median for age\n"
                     "  -  Vocabulary scores more than 1.5 standard deviations below the age-appropriate mean\n"
                     "  -  IGF-1 more than 2 SD above the mean\n")
    assert [shape(r)[1:] for r in rules] == [("<=", -2.5, None, "{SD}"), ("<", -1.5, None, "{SD}"),
                                             (">", 2.0, None, "{SD}")]
    assert rules[1]["variable"]["text"] == "Vocabulary scores"


def test_both_rules_of_a_value_pair_share_the_negation():
    rules = rules_of("Exclusion Criteria:\n\n  -  No uncontrolled hypertension (i.e., blood pressure ≥ 160/95 mm Hg)\n")
    assert [(r["variable"]["name"], r["value"], r["negated"]) for r in rules] == [
        ("systolic_blood_pressure", 160.0, True), ("diastolic_blood_pressure", 95.0, True)]


def test_a_dotted_abbreviation_does_not_end_the_sentence_of_a_negation():
    rule, = rules_of("Exclusion Criteria:\n\n  -  No active liver disease (e.g. AST above 3 times the upper limit of normal)\n")
    assert rule["negated"] is True


def test_a_rule_is_not_the_population_of_itself_when_its_name_runs_past_the_description():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Bone scan required if prostate-specific antigen (PSA) above 10 ng/mL\n")
    assert rule["variable"]["name"] == "psa" and rule["conditions"] == []


def test_a_time_that_lasts_something_named_after_it_is_no_age():
    rules = rules_of("PATIENT CHARACTERISTICS: Age: Under 16 but with at least 6 months of independent sitting"
                     " Performance status: Not specified")
    assert [shape(r)[:3] for r in rules] == [("age", "<", 16.0)]


def test_a_wrapped_line_that_starts_with_a_decimal_is_no_list_item():
    text = ("--Disease Characteristics-- Chronic lung disease Fraction of inspired oxygen greater than\r\n"
            "        0.40 Ventilator at least 20 breaths/minute No signs of weaning --Patient Characteristics--"
            " Other: Birth weight no greater than 1250 g No congenital anomaly\r\n")
    rules = rules_of(text)
    assert [(r["variable"]["name"], r["value"], r["negated"]) for r in rules][0] == ("fio2", 0.4, False)
    assert all(not r["negated"] for r in rules)


def test_signed_bounds_joined_by_a_dash_are_one_range():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Target lesion with >70%-<99% diameter stenosis\n")
    assert shape(rule)[1:] == ("between", 70.0, 99.0, "%")


def test_an_age_that_dates_an_event_by_a_participle_is_the_age_at_that_event():
    rules = rules_of("Exclusion Criteria:\n\n  -  Sibling with glaucoma diagnosed under age 40\n"
                     "  -  Patients aged under 40\n")
    assert [shape(r)[:3] for r in rules] == [("age_at_diagnosis", "<", 40.0), ("age", "<", 40.0)]


def test_a_place_in_a_schedule_is_no_threshold():
    assert rules_of("Exclusion Criteria:\n\n  -  No radiation to the pelvis during cycles 1-4\n"
                    "  -  Dexamethasone 20 mg on days 1-4 and 9-12\n") == []


def test_an_offset_from_a_control_value_is_no_rule():
    rules = rules_of("Inclusion Criteria:\n\n  -  INR < 1.5 or PT < 3 seconds above control\n")
    assert [shape(r)[:3] for r in rules] == [("inr", "<", 1.5)]


def test_a_generic_alias_in_parentheses_after_a_named_scale_is_that_scale():
    rules = rules_of("Inclusion Criteria:\n\n  -  Zubrod performance status (PS) 0-1 or Lansky PS 70-100%\n")
    assert [r["variable"]["name"] for r in rules] == ["ecog_performance_status", "lansky_performance_status"]


def test_cigarettes_a_day_after_a_smoking_history_are_cigarettes_per_day():
    rule, = rules_of("Exclusion Criteria:\n\n  -  History of smoking more than 15 cigarettes/day\n")
    assert shape(rule) == ("cigarettes_per_day", ">", 15.0, None, "{cigarettes}/d")


def windows_of(text):
    return [[k["text"] for k in r["conditions"] if k["kind"] == "temporal"] for r in rules_of(text)]


def test_a_window_after_an_event_in_the_middle_of_a_list_is_that_events():
    text = ("Exclusion Criteria:\n\n  -  Cardiac disease (unstable angina, stroke within the past 6 months, arrhythmia),"
            " liver disease (bilirubin > 3 mg/dL), renal failure (creatinine > 2 mg/dL)\n")
    assert windows_of(text) == [[], []]


def test_a_window_of_its_own_item_or_at_the_end_of_the_list_dates_the_thresholds():
    assert windows_of("Exclusion Criteria:\n\n  -  More than 2 episodes of hypoglycemia, within 6 months prior to entry,"
                      " or hypoglycemia unawareness\n") == [["within 6 months prior to entry"]]
    assert windows_of("Inclusion Criteria:\n\n  -  Hemoglobin > 10 g/dL, platelets > 100,000/mm3,"
                      " within 14 days of registration\n") == [["within 14 days of registration"]] * 2


def test_a_times_sign_before_a_period_is_a_frequency():
    rule, = rules_of("Exclusion Criteria:\n\n  -  Hypoglycaemic episodes more than 1x/week\n")
    assert shape(rule)[1:] == (">", 1.0, None, "{times}/wk")


def test_a_lexicon_measurement_keeps_its_value_before_an_acronym_after_on():
    rules = rules_of("Inclusion Criteria:\n\n  -  Blood pressure less than 140/90 on either an ACE inhibitor or an ARB\n")
    assert [r["variable"]["name"] for r in rules] == ["systolic_blood_pressure", "diastolic_blood_pressure"]


def test_an_adjective_glued_to_a_lexicon_name_makes_another_name():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Age-adjusted IPI 0-1\n")
    assert rule["variable"]["name"] == "age-adjusted ipi"


def test_occasions_after_a_value_are_no_instrument():
    rule, = rules_of("Inclusion Criteria:\n\n  -  Serum CEA greater than 10 on two consecutive measurements\n")
    assert rule["variable"]["name"] == "cea"


def test_an_enumeration_ends_with_its_item_that_ends_with_a_full_stop():
    text = ("Inclusion Criteria:\n\n  -  Low tumour burden. None of the following should be present:\n\n"
            "       -  A mass with a diameter of > 7 cm,\n\n       -  Systemic symptoms,\n\n"
            "       -  Pleural effusion.\n\n       -  Karnofsky performance status > 70%\n\n"
            "       -  Age 18 years or older\n")
    out = extract(text)
    parents = {c["text"]: c["parent"] for c in out["criteria"]}
    assert parents["Karnofsky performance status > 70%"] is None and parents["Pleural effusion."] == "inc-1"
    assert [(r["value"], r["negated"]) for c in out["criteria"] for r in c["rules"]] == [
        (7.0, True), (70.0, False), (18.0, False)]


def test_values_measured_by_two_named_assays_are_alternatives_of_one_variable():
    out = extract("Inclusion Criteria:\n\n  -  Plasma HIV RNA > 5,000 copies/ml by the Roche Amplicor HIV-1 assay"
                  " or > 2,500 copies/ml by the bDNA assay\n")
    criterion, = out["criteria"]
    assert [r["variable"]["name"] for r in criterion["rules"]] == ["hiv_rna", "hiv_rna"]
    assert criterion["logic"]["op"] == "or"
