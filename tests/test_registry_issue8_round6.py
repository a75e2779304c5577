"""Registry text, issue 8's sixth round: HTML references of the signs, legacy exponents in
parentheses, spellings of reference limits and of scales, peak flow, blood gases with no unit,
frequencies of one time, ... (lines written for each form)."""
from criteria_nlp import extract
from criteria_nlp.pipeline import mask_markup


def rules_of(text):
    out = extract(text)
    return [r for c in out["criteria"] for r in c["rules"]]


def summary(text):
    """``[(variable name, comparator, value, value_high, unit, relative_to, negated), ...]``."""
    return [((r["variable"] or {}).get("name"), r["comparator"], r["value"], r["value_high"], r["unit"],
             r["relative_to"], r["negated"]) for r in rules_of(text)]


def populations(text):
    """``[(variable text or rule text, [population text, ...]), ...]``, one per rule."""
    return [((r["variable"] or {}).get("text") or r["text"],
             [k["text"] for k in r["conditions"] if k["kind"] == "population"]) for r in rules_of(text)]


# -- HTML references of the signs ----------------------------------------------------------------------
def test_html_references_are_read_as_the_signs_they_stand_for_at_the_same_length():
    text = "creatinine &lte; 2.0 mg/dL, ANC &gt; 1500, Hb &GE;9 g/dL & bilirubin &le; 1.5"
    masked = mask_markup(text)
    assert len(masked) == len(text)
    assert "≤" in masked and ">" in masked and "≥" in masked and "&" in masked
    assert "&lte;" not in masked and "&GE;" not in masked


def test_rules_written_with_html_references():
    got = summary("Patients with serum creatinine &lte; 1.8 mg/dL or creatinine clearance &gte; 50 ml/min. "
                  "ANC &gt; 1,000/mm3")
    assert ("serum_creatinine", "<=", 1.8, None, "mg/dL", None, False) in got
    assert ("creatinine_clearance", ">=", 50.0, None, "mL/min", None, False) in got
    assert ("absolute_neutrophil_count", ">", 1000.0, None, "/mm3", None, False) in got
    text = "No patients with fasting blood glucose &gte; 126 mg/dL"
    (rule,) = rules_of(text)
    assert text[rule["start"]:rule["end"]] == rule["text"] == "fasting blood glucose &gte; 126 mg/dL"
    assert rule["negated"] is True


def test_an_ampersand_that_is_no_reference_is_kept():
    assert mask_markup("AT&T; R&D &copy;") == "AT&T; R&D &copy;"


# -- units ------------------------------------------------------------------------------------------------
def test_a_square_metre_written_with_its_exponent_in_parentheses():
    assert summary("GFR at least 45 mL/min/1.73 m(2)") == [("gfr", ">=", 45.0, None, "mL/min/{1.73_m2}", None, False)]
    assert summary("Body surface area at least 1.2 m(2)")[0][4] == "m2"


def test_a_clearance_per_body_surface_keeps_the_population_in_parentheses_after_it():
    got = populations("creatinine clearance &gte; 60 ml/min per 1.73m(2) (if serum creatinine is &gte; 1.5 mg/dL)")
    assert got[0] == ("creatinine clearance", ["if serum creatinine is &gte; 1.5 mg/dL"])


def test_one_time_a_period_is_a_frequency():
    assert summary("wheezing episodes more than 1 time a week")[0][1:5] == (">", 1.0, None, "{times}/wk")
    assert summary("Age greater than 21 at the time of consent")[0][:5] == ("age", ">", 21.0, None, "a")


def test_blood_gases_with_no_unit_take_the_unit_their_size_implies():
    (rule,) = rules_of("arterial blood gases with PO2 greater than 60")
    assert (rule["unit"], rule.get("unit_inferred")) == ("mm[Hg]", True)
    (rule,) = rules_of("PaCO2 below 6.5")
    assert (rule["unit"], rule.get("unit_inferred")) == ("kPa", True)
    (rule,) = rules_of("PaO2 at least 8 kPa")
    assert (rule["unit"], rule.get("unit_inferred", False)) == ("kPa", False)


# -- names --------------------------------------------------------------------------------------------
def test_spellings_of_the_upper_limit_of_normal():
    for limit in ("the upper level of the normal value", "upper level of the normal", "upper limit of the normal value"):
        got = summary(f"AST or ALT more than 2.5 times {limit}")
        assert [(g[0], g[2], g[5]) for g in got] == [("ast", 2.5, "ULN"), ("alt", 2.5, "ULN")], limit


def test_peak_expiratory_flow_is_a_variable_of_its_own():
    got = summary("PEF or FEV1 less than 70% of predicted")
    assert [g[0] for g in got] == ["peak_expiratory_flow", "fev1"]
    got = summary("peak expiratory flow (PEFR) at least 200 L/min")
    assert got == [("peak_expiratory_flow", ">=", 200.0, None, "L/min", None, False)]


def test_the_possessive_spelling_of_child_pugh():
    for name in ("Childs-Pugh class", "Child's-Pugh class", "Childs Pugh class"):
        got = summary(f"Decompensated cirrhosis ({name} B or C)")
        assert got == [("child_pugh_class", "between", 2.0, 3.0, None, None, False)], name


# -- exclusion predicates after their subject ---------------------------------------------------------
def negated_by_value(text):
    return {r["value"]: r["negated"] for r in rules_of(text)}


def test_a_threshold_before_are_excluded_is_forbidden_outside_an_exclusion_section():
    text = ("Inclusion Criteria:\n\n- Subjects with a serum potassium below 3.0 mmol/L are excluded.\n\n"
            "- Patients with ALT above 4 x ULN are not eligible.\n\n- Age 21 or older.")
    assert negated_by_value(text) == {3.0: True, 4.0: True, 21.0: False}


def test_a_threshold_before_are_excluded_is_stated_as_written_in_an_exclusion_section():
    text = "Exclusion Criteria:\n\n- Subjects with a serum potassium below 3.0 mmol/L are excluded."
    assert negated_by_value(text) == {3.0: False}


def test_an_exclusion_lead_in_with_if_still_looks_forward():
    text = ("Inclusion Criteria:\n\n- Patients will be excluded if sodium less than 130 mmol/L.\n\n"
            "- Patients will not be eligible if AST greater than 5 x ULN.\n\n"
            "- Subjects with hemoglobin less than 10 g/dL are excluded if they need transfusions.")
    assert negated_by_value(text) == {130.0: True, 5.0: True, 10.0: False}


def test_the_items_of_a_header_that_excludes_them_are_forbidden_outside_an_exclusion_section():
    text = ("Inclusion Criteria:\n\n        Subjects with severe disease defined by one of these features are\n"
            "        excluded:\n\n        Resting heart rate greater than 110 beats per minute,\n\n"
            "        Oxygen saturation less than 90%.\n\n"
            "Exclusion Criteria:\n\n        Subjects with any of the following are excluded:\n\n"
            "        Hematocrit less than 27%,\n\n        Platelet count less than 75,000/mm3.")
    assert negated_by_value(text) == {110.0: True, 90.0: True, 27.0: False, 75000.0: False}


# -- a paragraph is placed once its last line is read ----------------------------------------------------
def test_a_hard_wrapped_header_ending_with_a_colon_on_its_second_line_ends_the_header_before_it():
    text = ("Inclusion Criteria:\n\n"
            "        Patients using any of the following drugs within the specified period are excluded:\n\n"
            "        Aspirin within 7 days,\n\n        Warfarin within 14 days,\n\n"
            "        Any experimental agent within 1 month.\n\n"
            "        Patients with renal failure, defined by a serum creatinine greater than 2.5 mg/dL, and on dialysis for\n"
            "        any reason, are excluded:\n\n"
            "        Dialysis patients with a creatinine clearance below 10 mL/min.\n")
    out = extract(text)
    crits = {c["text"].split()[0] + " " + c["text"].split()[1]: c for c in out["criteria"]}
    header = crits["Patients with"]
    assert header["parent"] is None
    assert crits["Dialysis patients"]["parent"] == header["id"]
    (rule,) = [r for r in header["rules"]]
    assert [k["text"] for k in rule["conditions"] if k["kind"] == "temporal"] == []


# -- durations named by "duration" ----------------------------------------------------------------------
def test_a_time_before_duration_of_names_the_duration_after_it():
    got = summary("post-menopausal women with at least 24 months duration of amenorrhea")
    assert got == [("amenorrhea_duration", ">=", 24.0, None, "mo", None, False)]
    got = summary("greater than 3 months duration of disease")
    assert got == [("disease_duration", ">", 3.0, None, "mo", None, False)]


def test_a_time_before_the_word_duration_is_the_duration_of_what_is_named_before_it():
    (rule,) = rules_of("Diagnosis of ulcerative colitis of at least 6 months' duration.")
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">=", 6.0, "mo")
    assert "ulcerative colitis" in rule["variable"]["text"]
    assert rules_of("A course of 6 months duration is planned.") == []


# -- populations ----------------------------------------------------------------------------------------
def test_a_population_closing_a_parenthesis_holds_for_every_value_in_it():
    text = ("Platelets at least 100,000/mm3 (platelets at least 50,000/mm3 and ANC at least 1,000/mm3 "
            "if bone marrow involvement by lymphoma)")
    assert populations(text) == [("Platelets", []),
                                 ("platelets", ["if bone marrow involvement by lymphoma"]),
                                 ("ANC", ["if bone marrow involvement by lymphoma"])]


def test_a_population_after_a_word_of_allowance_is_the_alternative_values():
    got = populations("Performance status: Zubrod 0-1 (2-3 acceptable if due solely to bone metastases)")
    assert got == [("Zubrod", []), ("Zubrod", ["if due solely to bone metastases"])]


def test_the_subjects_unable_to_do_something_are_the_population_of_their_sentence():
    got = populations("Patients unable to perform spirometry must have an oxygen saturation of at least 92%")
    assert got == [("oxygen saturation", ["unable to perform spirometry"])]


def test_an_alternative_named_before_with_and_a_number_word_is_its_population():
    text = ("One of the following must apply:\n\n  -  Ulcerated melanoma with 1 or more involved nodes\n\n"
            "  -  Thick melanoma with three or more involved nodes")
    got = populations(text)
    assert got == [("involved nodes", ["Ulcerated melanoma"]), ("involved nodes", ["Thick melanoma"])]


def test_an_exclusion_predicate_in_a_relative_clause_or_followed_by_more_words_forbids_nothing():
    text = ("Inclusion Criteria:\n\n- Patients aged 50 to 75 years with myeloma who are not eligible for a transplant\n\n"
            "- Patients with a platelet count below 50,000/mm3 are not eligible for participation in the trial.")
    assert negated_by_value(text) == {50.0: False, 50000.0: True}


def test_a_value_with_its_own_population_keeps_it_in_a_parenthesis_closed_by_another():
    got = populations("Anemia (hemoglobin < 12.5 g/dL for men and < 11.5 g/dL for women)")
    assert [p for _, p in got] == [["for men"], ["for women"]]


# -- thresholds about someone else ----------------------------------------------------------------------
def test_a_threshold_whose_subject_is_another_person_has_that_person_as_its_population():
    assert [p for _, p in populations("Donor must have a hemoglobin S below 40%")] == [["Donor"]]
    assert [p for _, p in populations("Must have a matched sibling donor aged 16 to 65")] == [["matched sibling donor"]]
    assert [p for _, p in populations("Parent or guardian must be at least 21 years of age")] == [["Parent or guardian"]]


def test_the_patients_own_threshold_after_a_person_they_have_is_not_that_persons():
    got = populations("Age 18 to 70. Patients must have a sibling donor and a creatinine below 2 mg/dL")
    assert all("donor" not in " ".join(p) for _, p in got)


def test_match_never_resolves_a_population_that_is_another_person():
    from criteria_nlp.omop.conceptmap import ConceptMap
    from criteria_nlp.omop.populations import resolve

    for description in ("Donor", "HLA-identical sibling donor", "donors", "Parent or legal guardian"):
        assert resolve(description, ConceptMap.empty(), 0) is None, description
    assert resolve("men", ConceptMap.empty(), 0) is not None


def test_another_person_with_the_patient_or_as_a_complement_states_no_threshold_of_theirs():
    for text in ("All patients or their legal guardians (if the patient is under 18 years old) must sign consent",
                 "Probands and siblings must be between the ages of 18 and 55",
                 "Children of at least one parent who had alcohol dependence and are between the age of 12 and 17",
                 "1. Parent or guardian must provide written informed consent prior to any study procedure 2. Age 2 to 11"):
        assert all(not p for _, p in populations(text)), text


def test_weeks_of_amenorrhea_date_a_pregnancy_and_stay_a_window():
    assert rules_of("Pregnant women beyond 20 weeks of amenorrhea") == []
