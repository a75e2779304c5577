"""Registry text, issue 8's fourth round: comparators written without "than", a bare lower bound
before "but", karyotype notation, offsets from a reference limit, windows of a lab header, viral
burden, sub-group populations (lines written for each form)."""
from criteria_nlp import extract


def rules_of(text):
    out = extract(text)
    return [r for c in out["criteria"] for r in c["rules"]]


def described(text):
    return [((r["variable"] or {}).get("text"), r["comparator"], r["value"], r["value_high"], r["unit"],
             r["relative_to"], r["negated"]) for r in rules_of(text)]


def the_rule(text):
    """The one rule of ``text`` and its (comparator, value, unit)."""
    (rule,) = rules_of(text)
    return rule, (rule["comparator"], rule["value"], rule["unit"])


def conditions(text):
    return [((r["variable"] or {}).get("text"), [(k["kind"], k["text"]) for k in r["conditions"]])
            for r in rules_of(text)]


# -- comparators with "than" left out --------------------------------------------------------------
def test_a_comparative_without_than_is_its_comparator():
    text = ("Patients will be ineligible if they have a serum creatinine greater 1.5 mg/dL or a "
            "creatinine clearance of less 60 mL/min.")
    got = [(v, c, x, u) for v, c, x, _, u, *_ in described(text)]
    assert ("serum creatinine", ">", 1.5, "mg/dL") in got
    assert ("creatinine clearance", "<", 60.0, "mL/min") in got


def test_less_or_greater_after_a_value_stays_a_postfix():
    got = [(c, x) for _, c, x, *_ in described("Hemoglobin 9 g/dL or less")]
    assert got == [("<=", 9.0)]


# -- a bare number before "but no more than" --------------------------------------------------------
def test_a_bare_number_before_but_and_an_upper_bound_is_the_lower_bound():
    text = "Chemotherapy: Must have received 2 but no more than 3 prior chemotherapy regimens"
    got = [(c, x, hi) for _, c, x, hi, *_ in described(text)]
    assert got == [("between", 2.0, 3.0)]
    (rule,) = rules_of(text)
    assert rule["inclusive"] == {"low": True, "high": True}


def test_a_bare_number_above_the_upper_bound_is_no_lower_bound():
    got = [(c, x) for _, c, x, *_ in described("Prior therapy: 5 but fewer than 3 regimens")]
    assert got == [("<", 3.0)]


# -- karyotype notation --------------------------------------------------------------------------
def test_karyotype_notation_gives_no_value():
    text = "Absence of t(8;21) or inv(16) or 11q23 rearrangement; MLL-AF9 = 11q23 translocation"
    assert rules_of(text) == []


def test_a_value_before_a_word_starting_with_p_or_q_is_still_a_value():
    got = [(c, x) for _, c, x, *_ in described("Platelet count greater than 50 per microliter")]
    assert got and got[0][:2] == (">", 50.0)


# -- an offset from a reference limit ----------------------------------------------------------------
def test_a_value_in_units_above_the_uln_is_an_offset_and_no_rule():
    text = "Hepatic: Bilirubin no greater than 0.5 mg/dL above ULN SGOT no greater than 2 times ULN"
    got = [(v, c, x, u, rel) for v, c, x, _, u, rel, _ in described(text)]
    assert got == [("SGOT", "<=", 2.0, None, "ULN")]  # neither "> 1 x ULN" nor "<= 0.5 mg/dL"


def test_a_percentage_above_or_below_a_limit_is_a_multiple_of_it():
    text = ("Hepatic: SGPT less than 40% above ULN Other: Albumin no less than 20% below lower limit of "
            "normal Prothrombin time more than 5% greater than upper limit of normal")
    got = [(c, x, rel) for _, c, x, _, _, rel, _ in described(text)]
    assert got == [("<", 1.4, "ULN"), (">=", 0.8, "LLN"), (">", 1.05, "ULN")]


def test_no_greater_without_than_is_at_most():
    got = [(c, x, neg) for _, c, x, _, _, _, neg in described("Hepatic: Bilirubin no greater 1.75 mg/dL")]
    assert got == [("<=", 1.75, False)]


def test_a_limit_with_no_number_is_still_read_after_a_comparator():
    got = [(c, x, rel) for _, c, x, _, _, rel, _ in described("Calcium no greater than upper limit of normal")]
    assert got == [("<=", 1.0, "ULN")]


# -- the window of a lab header; viral burden ----------------------------------------------------------
def test_a_lab_header_at_screen_is_the_window_of_its_items():
    text = ("INCLUSION\n\nLaboratory values at screen:\n\nhemoglobin greater than 10 g/dl;\n\n"
            "platelet count greater than 75,000 cells/microL;\n")
    got = conditions(text)
    assert got == [("hemoglobin", [("temporal", "at screen")]), ("platelet count", [("temporal", "at screen")])]


def test_viral_burden_in_rna_copies_is_a_viral_load():
    text = "Plasma viral burden less than 400 RNA copies/ml at the screening visit."
    rule, got = the_rule(text)
    assert rule["variable"]["name"] == "viral_load"
    assert got == ("<", 400.0, "{copies}/mL")


# -- sub-group populations ------------------------------------------------------------------------
def test_an_alternative_of_a_choice_list_is_the_population_of_its_own_items():
    text = ("DISEASE CHARACTERISTICS:\n\n"
            "  -  Standard-risk patients meeting 1 of the following criteria:\n\n"
            "       -  AML of monocytic lineage\n\n"
            "            -  WBC less than 50,000/mm^3\n\n"
            "       -  Myelodysplastic syndrome with platelets at least 20,000/mm^3\n")
    got = dict(conditions(text))
    assert ("population", "AML of monocytic lineage") in got["WBC"]
    assert all(k[1] != "AML of monocytic lineage" for k in got["platelets"])


def test_an_item_under_a_list_with_no_choice_names_no_population():
    text = ("Adequate organ function defined by the following:\n\n"
            "  -  Bone marrow reserve\n\n"
            "       -  Platelet count at least 100,000/mm^3\n")
    ((_, conds),) = conditions(text)
    assert all(k[1] != "Bone marrow reserve" for k in conds)


def test_a_list_header_names_the_group_before_what_it_must_meet():
    text = ("  -  High-risk patients:\n\n"
            "       -  AML patients meeting 1 of the following conditions:\n\n"
            "            -  Bone marrow blasts greater than 20%\n\n"
            "            -  Peripheral blasts at least 5,000/mm^3\n")
    for _, conds in conditions(text):
        assert ("population", "AML patients") in conds


def test_a_list_header_of_patients_in_general_names_no_population():
    text = ("Patients with the following conditions are excluded:\n\n"
            "  -  Serum creatinine greater than 2 mg/dL\n")
    ((_, conds),) = conditions(text)
    assert [k for k in conds if k[0] == "population"] == []


# -- a test not done negates nothing after it; windows after completion of a phase ---------------------
def test_a_missing_test_negates_nothing_after_it():
    text = "Karyotype: DNA index not assessed and modal chromosome number 47-50"
    assert [(c, x, neg) for _, c, x, _, _, _, neg in described(text)] == [("between", 47.0, False)]


def test_a_missing_test_does_not_end_the_scope_of_a_negation():
    text = "No patients with cytogenetics not done or platelets less than 20,000/mm3"
    assert [neg for *_, neg in described(text)] == [True]


def test_after_completion_of_a_phase_is_a_window():
    text = "Good response (fewer than 1,000/mm^3 blasts in peripheral blood after completion of induction therapy)"
    ((_, conds),) = conditions(text)
    assert conds == [("temporal", "after completion of induction therapy")]


# -- frequencies, averages, periods measured over ----------------------------------------------------
def test_once_a_week_after_a_comparator_is_a_frequency():
    text = "Binge drinking on the average of at least once a week over a three month period."
    rule, got = the_rule(text)
    assert got == (">=", 1.0, "/wk")
    assert "Binge drinking" in rule["variable"]["text"]
    assert [(k["kind"], k["text"]) for k in rule["conditions"]] == [("temporal", "over a three month period")]


def test_once_without_a_comparator_is_no_value():
    assert rules_of("Must have been treated with a taxane once.") == []


def test_a_period_measured_over_is_no_threshold_and_not_the_name():
    text = "Decline in FVC over a 2 year period of more than 200 mL"
    rule, got = the_rule(text)
    assert got == (">", 200.0, "mL")
    assert "period" not in rule["variable"]["text"]
    assert [(k["kind"], k["text"]) for k in rule["conditions"]] == [("temporal", "over a 2 year period")]


# -- groups and alternatives that hold their threshold ---------------------------------------------
def test_a_sex_group_with_a_threshold_in_its_description_is_the_population():
    text = "PATIENT CHARACTERISTICS: Other: Women with elevated serum creatinine no greater than 2 mg/dL are eligible"
    assert [conds for _, conds in conditions(text)] == [[("population", "Women")]]


def test_an_alternative_of_a_choice_list_named_before_with_is_its_thresholds_population():
    text = ("DISEASE CHARACTERISTICS: Histologically documented lymphoma One of the following histologic subtypes required: "
            "Marginal zone with absolute lymphocyte count less than 4,000/mm3 (type 2) "
            "Follicular, small cleaved cell (type 3)")
    assert [conds for _, conds in conditions(text)] == [[("population", "Marginal zone")]]


def test_what_a_participle_is_done_with_is_no_population():
    text = ("DISEASE CHARACTERISTICS: One of the following required: Relapsed disease treated with "
            "no more than 3 prior chemotherapy regimens Refractory disease")
    assert all(k[0] != "population" for _, conds in conditions(text) for k in conds)


def test_a_population_that_holds_the_rules_own_variable_is_not_its_population():
    text = "Complete cardiac evaluation required if elevated WBC (12,000/mm3 or greater) or fever"
    assert all(k[0] != "population" for _, conds in conditions(text) for k in conds)


def test_a_list_header_naming_only_the_study_subjects_is_no_population():
    for header in ("Children with the following are excluded:", "Individuals with any of the following:",
                   "Exclude if ANY of the following criteria are met:"):
        text = f"{header}\n\n  -  Hemoglobin less than 8 g/dL\n"
        assert all(k[0] != "population" for _, conds in conditions(text) for k in conds), header


def test_an_alternative_named_before_but_with_keeps_its_name_only():
    text = ("DISEASE CHARACTERISTICS:\n\n  -  Evidence of 1 of the following:\n\n"
            "       -  Hyperplasia without atypia but with a lifetime risk of at least 20%\n")
    assert [conds for _, conds in conditions(text)] == [[("population", "Hyperplasia without atypia")]]


def test_a_modifier_after_with_keeps_the_name_in_its_statement_but_a_state_after_a_name_ends_one():
    from criteria_nlp.components.structure.parser import parse_items
    text = ("PATIENT CHARACTERISTICS: Other: Patients with raised CEA no greater than 10 ng/mL are eligible "
            "Thyroxine elevated TSH not below 0.1 mU/L")
    got = [text[i.start:i.end] for i in parse_items(text, 0, len(text), None)]
    assert "Patients with raised CEA no greater than 10 ng/mL are eligible" in got
    assert "TSH not below 0.1 mU/L" in got


def test_one_or_more_before_a_plural_counts_the_things():
    text = "DISEASE CHARACTERISTICS: Melanoma meeting 1 of the following: 1 or more lymph nodes found to contain tumor"
    got = [(v, c, x) for v, c, x, *_ in described(text)]
    assert got == [("lymph nodes", ">=", 1.0)]


def test_one_or_more_of_a_set_counts_nothing():
    assert rules_of("Must meet 1 or more of the following criteria") == []


def test_dietary_calories_are_kilocalories():
    text = "Other: Physician-estimated oral caloric intake of at least 1500 calories per day"
    rule, got = the_rule(text)
    assert got == (">=", 1500.0, "kcal/d")
    assert "caloric intake" in rule["variable"]["text"]
