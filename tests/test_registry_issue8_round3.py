"""Registry text, issue 8's third round: run-in statements around acronyms, sub-header
populations, values and their names, and exclusion lead-ins (lines written for each form)."""
from criteria_nlp import extract
from criteria_nlp.components.structure.parser import parse_items


def statements(text):
    return [text[i.start:i.end] for i in parse_items(text, 0, len(text), None)]


def rules_of(text):
    out = extract(text)
    return [r for c in out["criteria"] for r in c["rules"]]


def described(text):
    return [((r["variable"] or {}).get("text"), r["comparator"], r["value"], r["unit"], r["relative_to"],
             r["negated"], [(k["kind"], k["text"]) for k in r["conditions"]]) for r in rules_of(text)]


# -- 1. run-in statements: an acronym inside a phrase starts no statement -------------------------
def test_an_acronym_between_a_modifier_and_its_noun_starts_no_statement():
    text = ("PATIENT CHARACTERISTICS: Other: At least 3 recorded PSA values above 4 ng/mL "
            "No more than 2 contrast enhanced MRI scans within the past year No active CNS disease "
            "Tumor must be documented to be CD20 positive")
    assert statements(text)[2:] == ["At least 3 recorded PSA values above 4 ng/mL",
                                    "No more than 2 contrast enhanced MRI scans within the past year",
                                    "No active CNS disease",
                                    "Tumor must be documented to be CD20 positive"]


def test_an_acronym_with_a_comparator_or_predicate_after_it_still_starts_a_statement():
    text = ("PATIENT CHARACTERISTICS: Hematopoietic: Platelet count at least 100,000/mm3 WBC at least "
            "3,000/mm3 Hepatic: Bilirubin normal AST no greater than 2 times normal Other: Effective "
            "contraception required HIV negative CT scan required if clinically indicated")
    got = statements(text)
    assert "WBC at least 3,000/mm3" in got
    assert "AST no greater than 2 times normal" in got
    assert "HIV negative" in got
    assert "CT scan required if clinically indicated" in got


def test_an_acronym_whose_noun_is_given_a_state_starts_a_statement_after_a_noun():
    text = "PATIENT CHARACTERISTICS: Other: No brain metastases CT scan required Bilirubin less than 2 mg/dL"
    assert statements(text)[2:] == ["No brain metastases", "CT scan required", "Bilirubin less than 2 mg/dL"]


def test_a_roman_range_after_class_is_no_statement():
    text = "PATIENT CHARACTERISTICS: Cardiovascular: No New York Heart Association class II-IV heart disease LVEF at least 50%"
    assert statements(text)[2:] == ["No New York Heart Association class II-IV heart disease", "LVEF at least 50%"]


def test_counts_named_with_an_acronym_keep_their_rule():
    text = ("PATIENT CHARACTERISTICS: Other: At least 3 rising PSA values obtained 2 weeks apart "
            "No more than 2 contrast enhanced MRI scans in the past year")
    got = [(v, c, x) for v, c, x, *_ in described(text)]
    assert ("rising PSA values", ">=", 3.0) in got
    assert ("contrast enhanced MRI scans", "<=", 2.0) in got


# -- 2. populations of sub-headers hold for their own children -----------------------------------
def test_an_upper_case_sub_header_naming_people_is_the_population_of_its_items_only():
    text = ("PATIENT CHARACTERISTICS:\n\nPEDIATRIC PATIENTS:\n\n  -  Weight at least 15 kg\n\n"
            "BLOOD RELATIVES OF AFFECTED SIBLING PAIRS:\n\n  -  Age greater than 18 years\n\n"
            "Hepatic:\n\n  -  Bilirubin less than 2 mg/dL\n")
    got = [(v, [t for _, t in conds]) for v, *_, conds in described(text)]
    assert got == [("Weight", ["PEDIATRIC PATIENTS:"]),
                   ("Age", ["BLOOD RELATIVES OF AFFECTED SIBLING PAIRS:"]),
                   ("Bilirubin", [])]


def test_a_topic_header_is_no_population():
    text = ("PATIENT CHARACTERISTICS:\n\nPerformance status:\n\n  -  ECOG 0-1\n\n"
            "PRIOR CONCURRENT THERAPY:\n\n  -  No more than 2 prior chemotherapy regimens\n")
    assert all(conds == [] for *_, conds in described(text))


def test_a_run_in_statement_that_says_what_a_group_requires_heads_the_statements_after_it():
    text = ("PATIENT CHARACTERISTICS: Hematopoietic: Anemia due to marrow involvement allowed "
            "Anemia not due to lymphoma requires: Hemoglobin at least 9 g/dL Platelet count at least "
            "50,000/mm3 Hepatic: Bilirubin no greater than 2 mg/dL")
    got = [(v, neg, [t for _, t in conds]) for v, _, _, _, _, neg, conds in described(text)]
    assert got == [("Hemoglobin", False, ["Anemia not due to lymphoma requires:"]),
                   ("Platelet count", False, ["Anemia not due to lymphoma requires:"]),
                   ("Bilirubin", False, [])]
    assert "Anemia not due to lymphoma requires:" in statements(text)


def test_a_sentence_subject_names_the_population_of_its_clause():
    text = ("Exclusion Criteria:\n\n- Patients who have shortness of breath at rest will undergo pulmonary "
            "testing and will not be eligible if their FEV1 is less than 1.0 liters.\n"
            "- Patients who have a baseline neuropathy of grade 2 or greater will be excluded.\n")
    got = [(value, [t for _, t in conds]) for _, _, value, *_, conds in described(text)]
    assert got == [(1.0, ["who have shortness of breath at rest"]),
                   (2.0, [])]  # a subject that holds the threshold is the criterion itself


# -- 4. exclusion lead-ins ------------------------------------------------------------------------
def test_an_exclusion_lead_in_in_an_exclusion_section_negates_nothing():
    text = ("Exclusion Criteria:\n\n- Patients will not be eligible if their WBC is less than 3000/uL.\n"
            "- Subjects are ineligible if creatinine is greater than 1.5 mg/dL.\n"
            "- No patients with hemoglobin below 8 g/dL.\n")
    got = [(v, neg, conds) for v, _, _, _, _, neg, conds in described(text)]
    assert got == [("WBC", False, []), ("creatinine", False, []), ("hemoglobin", True, [])]


def test_an_exclusion_lead_in_elsewhere_forbids_the_threshold_state():
    text = ("Inclusion Criteria:\n\n- Age 18 or older\n"
            "- Patients will not be eligible if their WBC is less than 3000/uL.\n"
            "- Patients are excluded if platelets are below 100,000/uL.\n")
    got = [(v, neg) for v, _, _, _, _, neg, _ in described(text)]
    assert got == [("Age", False), ("WBC", True), ("platelets", True)]


# -- temporal anchors written the registry way ----------------------------------------------------
def test_a_prefix_written_as_a_word_and_an_ordinal_event_are_temporal_conditions():
    text = ("Inclusion Criteria:\n\n1. FVC < 70% predicted (post bronchodilator)\n"
            "2. FEV1 < 60% predicted (post-BD)\n"
            "3. Systolic blood pressure below 160 mm Hg (prior to the 2nd infusion)\n")
    got = [[(k, t) for k, t in conds] for *_, conds in described(text)]
    assert got == [[("temporal", "post bronchodilator")], [("temporal", "post-BD")],
                   [("temporal", "prior to the 2nd infusion")]]


# -- 3. values and the name they belong to --------------------------------------------------------
def test_a_value_that_starts_an_alternative_takes_the_name_after_it():
    text = "Relapsed leukemia with circulating blasts present OR greater than 20% blasts in bone marrow"
    assert [(v, c, x) for v, c, x, *_ in described(text)] == [("blasts in bone marrow", ">", 20.0)]


def test_a_further_value_of_the_same_name_after_or_keeps_it():
    text = "Hemoglobin at least 9 g/dL or greater than 10 g/dL if transfused"
    assert [(v, x) for v, _, x, *_ in described(text)] == [("Hemoglobin", 9.0), ("Hemoglobin", 10.0)]


def test_a_name_ending_in_a_list_of_complements_is_named_by_its_head():
    text = "Nodal masses of the neck, axilla, or groin at least 2 cm in diameter"
    (rule,) = rules_of(text)
    assert rule["variable"]["text"] == "Nodal masses of the neck, axilla, or groin"
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">=", 2.0, "cm")
    # a plain list of names is still a list of variables
    assert [v for v, *_ in described("Creatinine, bilirubin, or ALT at least 2 times ULN")] == \
        ["Creatinine", "bilirubin", "ALT"]


def test_a_population_written_right_after_a_value_is_that_values_only():
    text = ("Renal: Creatinine clearance greater than 60 mL/min in patients weighing at least 50 kg and "
            "measured creatinine clearance at least 60 mL/min in patients weighing less than 50 kg")
    got = [(v, x, [t for _, t in conds]) for v, _, x, *_, conds in described(text) if v != "weighing"]
    assert got == [("Creatinine clearance", 60.0, ["in patients weighing at least 50 kg"]),
                   ("measured creatinine clearance", 60.0, ["in patients weighing less than 50 kg"])]


# -- forms read after round 3's error report (lines written for each form) ------------------------
def test_group_labels_inside_a_field_are_populations_of_its_values():
    text = "PATIENT CHARACTERISTICS: Age: Children with asthma (CWA): 6 and over; Healthy controls: 21 and over Hepatic: Bilirubin normal"
    got = [(v, x, [t for _, t in conds]) for v, _, x, *_, conds in described(text)]
    assert got == [("Age", 6.0, ["Children with asthma (CWA):"]), ("Age", 21.0, ["Healthy controls:"])]


def test_a_group_label_inside_a_field_starts_no_field():
    text = "Age: Adult patients: 18 and over; Pediatric patients: 2 to 17 Performance status: ECOG 0-1"
    assert statements(text) == ["Age: Adult patients: 18 and over; Pediatric patients: 2 to 17",
                                "Performance status: ECOG 0-1"]


def test_an_alternative_value_in_parentheses_shares_the_reference_limit_after_it():
    text = "Hepatic: AST and ALT no greater than 2.5 (5 if hepatic metastases) times upper limit of normal"
    got = [(v, c, x, rel, [t for _, t in conds]) for v, c, x, _, rel, _, conds in described(text)]
    assert got == [("AST", "<=", 2.5, "ULN", []), ("ALT", "<=", 2.5, "ULN", []),
                   ("AST", "<=", 5.0, "ULN", ["if hepatic metastases"]),
                   ("ALT", "<=", 5.0, "ULN", ["if hepatic metastases"])]


def test_an_aside_without_a_value_changes_nothing():
    assert [(c, x, u) for _, c, x, u, *_ in described("Bilirubin less than 2 (see below) mg/dL")] == [("<", 2.0, "mg/dL")]


def test_liver_enzymes_is_a_variable_of_its_own():
    (rule,) = rules_of("Liver enzymes less than 2 times institutional normal")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["relative_to"]) == \
        ("liver_enzymes", "<", 2.0, "ULN")


def test_a_range_with_bounds_in_two_units_is_two_rules_of_one_variable():
    got = [(v, c, x, u) for v, c, x, u, *_ in described("- Must be 3 months - 12 years of age.")]
    assert [(c, x, u) for _, c, x, u in got] == [(">=", 3.0, "mo"), ("<=", 12.0, "a")]
    assert {v for v, *_ in got} == {"12 years of age"}
    assert [(c, x, u) for _, c, x, u, *_ in described("Age 2 weeks to 5 years")] == [(">=", 2.0, "wk"), ("<=", 5.0, "a")]
    assert [(c, x, u) for _, c, x, u, *_ in described("Children between the ages of 3 months and 4 years")] == \
        [(">=", 3.0, "mo"), ("<=", 4.0, "a")]


def test_a_count_in_parentheses_names_the_things_after_them():
    assert [(v, c, x) for v, c, x, *_ in described("Several (2-4) liver lesions")] == [("liver lesions", "between", 2.0)]


def test_an_umbrella_name_gives_way_to_its_members_named_in_parentheses():
    got = [v for v, *_ in described("Elevated liver enzymes (AST and ALT more than 3 times the upper limit of normal)")]
    assert got == ["AST", "ALT"]


def test_a_run_in_header_that_starts_with_no_negates_the_statements_it_heads():
    text = ("PATIENT CHARACTERISTICS: Cardiovascular: No uncontrolled hypertension, i.e.: Systolic greater "
            "than 160 mm Hg Diastolic greater than 100 mm Hg Other: Hemoglobin at least 9 g/dL")
    assert [(v, neg) for v, _, _, _, _, neg, _ in described(text)] == \
        [("Systolic", True), ("Diastolic", True), ("Hemoglobin", False)]


def test_a_sentence_is_no_group_header():
    text = "In addition, the study was open to all subjects who:\n\n  - Age less than 6 years\n"
    assert [conds for *_, conds in described(text)] == [[]]


def test_a_negated_header_of_exceptions_negates_nothing():
    text = ("PATIENT CHARACTERISTICS: Other: No prior malignancies unless: Hemoglobin at least 10 g/dL "
            "Fertile patients must use contraception")
    assert [(v, neg) for v, _, _, _, _, neg, _ in described(text)] == [("Hemoglobin", False)]


def test_a_grade_after_of_is_the_grade_of_the_condition_before_it():
    (rule,) = rules_of("Peripheral neuropathy of grade 2 or higher")
    assert rule["variable"]["text"].startswith("Peripheral neuropathy")
    assert (rule["comparator"], rule["value"]) == (">=", 2.0)
    # the condition named after the grade keeps the grade on its own
    (rule,) = rules_of("History of grade 2 or worse peripheral neuropathy.")
    assert rule["variable"]["text"] == "grade"
