"""Registry text, issue 8's fifth round: sites a limit holds for, eligibility clauses with what the
patients are eligible for, windows before the development or onset of a disease, clauses opened by
"when", a bare age item, and the end of a run-in choice list (lines written for each form)."""
from criteria_nlp import extract


def rules_of(text):
    out = extract(text)
    return [r for c in out["criteria"] for r in c["rules"]]


def conditions(text, kind=None):
    """``[(variable text or rule text, [(kind, condition text), ...]), ...]``, one per rule."""
    return [((r["variable"] or {}).get("text") or r["text"],
             [(k["kind"], k["text"]) for k in r["conditions"] if kind is None or k["kind"] == kind])
            for r in rules_of(text)]


def criterion_of(text, needle):
    """The id of the criterion whose rule's text holds ``needle``."""
    out = extract(text)
    (cid,) = [c["id"] for c in out["criteria"] for r in c["rules"] if needle in r["text"]]
    return cid


# -- sites a limit holds for -------------------------------------------------------------------------
def test_a_site_after_a_size_is_the_population_of_that_size_only():
    text = ("Lesions must be greater than 1.5 cm at the longest diameter for the lymph nodes of the neck "
            "and at least 1 cm in the longest diameter for other sites")
    got = conditions(text, "population")
    assert [p for _, p in got] == [[("population", "for the lymph nodes of the neck")],
                                   [("population", "for other sites")]]


def test_a_site_right_after_a_value_is_its_population():
    got = conditions("Tumour at least 2 cm for liver lesions; at least 1 cm for pulmonary metastases")
    assert [p for _, p in got] == [[("population", "for liver lesions")],
                                   [("population", "for pulmonary metastases")]]


def test_an_institution_named_after_a_value_is_its_population():
    text = "Renal: Creatinine no greater than 1.5 times ULN (2.0 mg/dL at UCSF) OR Creatinine clearance at least 60 mL/min"
    got = [(r["value"], r["unit"], r["relative_to"], [k["text"] for k in r["conditions"] if k["kind"] == "population"])
           for r in rules_of(text)]
    assert (2.0, "mg/dL", None, ["at UCSF"]) in got
    assert (1.5, None, "ULN", []) in got
    assert (60.0, "mL/min", None, []) in got


def test_a_reference_limit_after_at_is_no_site():
    got = conditions("AST no greater than 2.5 x normal at ULN; bilirubin normal")
    assert all(not p for _, p in got)


def test_a_method_or_a_bare_noun_after_a_value_is_no_site():
    got = conditions("Small lesion (less than 12 cm3 at MRI); more than 75% positive nodes for tumor are eligible", "population")
    assert got and all(not p for _, p in got)


def test_for_all_sites_names_no_site():
    got = conditions("Stage III-IV for all the sites except base of tongue", "population")
    assert all(not p for _, p in got)


def test_a_site_before_other_words_and_values_is_none():
    # "for" a duration, and a "for" phrase that names no site, are no population
    got = conditions("Hemoglobin at least 10 g/dL for 2 weeks; platelets at least 100,000/mm3 for the study", "population")
    assert got == [("Hemoglobin", []), ("platelets", [])]


# -- eligibility clauses ------------------------------------------------------------------------
def test_an_if_clause_after_what_they_are_eligible_for_is_no_population():
    text = ("Adults were eligible for entry into the trial if they had signs of acute uveitis in an eye "
            "with a visual acuity of 20/40 or worse.")
    got = conditions(text, "population")
    assert got and all(not p for _, p in got)


def test_an_if_clause_after_a_subgroup_is_still_its_population():
    got = conditions("Platelet count at least 50,000/mm3 if marrow involvement")
    assert got == [("Platelet count", [("population", "if marrow involvement")])]


# -- windows ------------------------------------------------------------------------------------
def test_before_the_development_of_a_disease_is_a_window():
    text = ("Patients were ineligible if the eye had a pre-existing disease that limited visual acuity to "
            "20/200 or worse before development of glaucoma.")
    (rule,) = rules_of(text)
    temporal = [k for k in rule["conditions"] if k["kind"] == "temporal"]
    assert [k["text"] for k in temporal] == ["before development of glaucoma"]
    assert temporal[0]["relation"] == "before"


def test_after_the_onset_of_symptoms_is_a_window():
    got = conditions("Serum lactate greater than 2 mmol/L after the onset of symptoms")
    assert got == [("Serum lactate", [("temporal", "after the onset of symptoms")])]


def test_when_and_a_subject_with_its_verb_is_a_clause_not_an_event():
    text = "Subjects are excluded when the treated eye was known to have a visual acuity of 20/100 or worse"
    assert conditions(text, "temporal") == [("visual acuity", [])]


def test_while_the_patient_is_on_something_is_still_a_window():
    got = conditions("Oxygen saturation at least 90% while the patient is on bedrest")
    assert got == [("Oxygen saturation", [("temporal", "while the patient is on bedrest")])]


# -- a bare age item ----------------------------------------------------------------------------
def test_a_list_item_that_is_a_bare_lower_bound_is_an_age():
    text = "Inclusion Criteria:\n\n  -  21 and over\n\n  -  Karnofsky 70-100%\n"
    got = [((r["variable"] or {}).get("name"), r["comparator"], r["value"], r["unit"]) for r in rules_of(text)]
    assert ("age", ">=", 21.0, "a") in got


def test_a_bare_lower_bound_with_a_name_is_no_age():
    got = [((r["variable"] or {}).get("name"), r["value"]) for r in rules_of("-  2 or more prior chemotherapy regimens\n")]
    assert got and all(name != "age" for name, _ in got)


def test_a_bare_lower_bound_inside_a_sentence_is_no_age():
    assert all((r["variable"] or {}).get("name") != "age"
               for r in rules_of("Patients with 3 and over lesions are eligible"))


# -- the end of a run-in choice list ------------------------------------------------------------
RUN_IN = ("DISEASE CHARACTERISTICS: Histologically confirmed colorectal cancer Patients with mucinous "
          "histology must have evidence of marker production documented by one of the following: Serum CEA at "
          "least 5 ng/mL Positive immunohistology Must have received at least two prior regimens of "
          "chemotherapy Less than 30% tumor involvement in bone marrow")


def test_a_statement_with_its_own_modal_ends_a_run_in_choice_list():
    assert criterion_of(RUN_IN, "CEA").count(".") == criterion_of(RUN_IN, "prior regimens").count(".") + 1


def test_the_choice_lists_population_stays_with_its_items():
    got = dict(conditions(RUN_IN, "population"))
    assert got["Serum CEA"] == [("population", "mucinous histology")]
    assert got["prior regimens"] == []


def test_a_sentence_with_its_patients_and_their_modal_ends_a_run_in_list_too():
    text = ("DISEASE CHARACTERISTICS: Histologically confirmed lymphoma Must meet one of the following: WBC at least 3,000/mm3 Platelets at least "
            "100,000/mm3 Patients with prior surgery must have creatinine no greater than 2.0 mg/dL")
    assert criterion_of(text, "WBC").count(".") == criterion_of(text, "creatinine").count(".") + 1


def test_a_count_of_treatments_has_no_site():
    got = conditions("No more than 2 prior chemotherapy regimens for liver metastases", "population")
    assert got == [("prior chemotherapy regimens", [])]


# -- run-in group headers ---------------------------------------------------------------------
def test_a_second_group_header_in_a_run_in_field_is_the_firsts_sibling():
    text = ("PATIENT CHARACTERISTICS: Performance status: Lymphoma patients: Karnofsky 70-100% Myeloma patients: "
            "Karnofsky 50-100% Life expectancy: Greater than 12 weeks")
    got = {r["value"]: [k["text"] for k in r["conditions"] if k["kind"] == "population"] for r in rules_of(text)
           if (r["variable"] or {}).get("text") == "Karnofsky"}
    assert got == {70.0: ["Lymphoma patients:"], 50.0: ["Myeloma patients:"]}


# -- a relative change of a named thing ---------------------------------------------------------
def test_a_percentage_change_names_what_changed():
    got = [((r["variable"] or {}).get("text"), r["comparator"], r["value"], r["unit"])
           for r in rules_of("At least 20% increase in tumor burden")]
    assert got == [("increase in tumor burden", ">=", 20.0, "%")]


def test_a_percentage_change_inside_a_parenthesis_is_kept():
    text = ("Patients with prior radiotherapy must show evidence of progressive disease (greater than 30% increase "
            "in target lesions or new lesions)")
    got = [((r["variable"] or {}).get("text"), r["comparator"], r["value"]) for r in rules_of(text)]
    assert got == [("increase in target lesions", ">", 30.0)]


def test_a_change_noun_alone_still_names_nothing_more():
    got = [((r["variable"] or {}).get("text"), r["value"]) for r in rules_of("No more than 10% weight loss in the past 3 months")]
    assert got == [("weight loss", 10.0)]


def test_a_stage_with_its_substages_after_a_slash_starts_no_statement():
    text = ("DISEASE CHARACTERISTICS: Histologically confirmed lung cancer Patients with stage IIIA/B disease who "
            "received prior radiotherapy must show progressive disease (greater than 25% increase in primary tumor)")
    (rule,) = rules_of(text)
    assert [k["text"] for k in rule["conditions"] if k["kind"] == "population"] == [
        "with stage IIIA/B disease who received prior radiotherapy"]


# -- populations written before or after their limits ---------------------------------------------
def test_a_label_opening_a_criterion_is_the_population_of_what_follows():
    assert conditions("For stage II disease: ANC at least 1,500/mm3", "population") == [
        ("ANC", [("population", "For stage II disease:")])]


def test_a_discourse_phrase_before_a_colon_is_no_population():
    assert conditions("In addition: platelets at least 100,000/mm3", "population") == [("platelets", [])]


def test_patients_receiving_or_treated_are_a_population():
    assert conditions("Hemoglobin at least 9 g/dL in patients receiving erythropoietin", "population") == [
        ("Hemoglobin", [("population", "in patients receiving erythropoietin")])]
    got = conditions("For patients treated at UCLA: bilirubin no greater than 2 mg/dL", "population")
    assert got == [("bilirubin", [("population", "For patients treated at UCLA")])]


def test_patients_older_than_an_age_are_a_population_stated_by_an_age_rule():
    rules = rules_of("Creatinine clearance at least 50 mL/min in patients older than 70")
    got = {(r["variable"] or {}).get("name"): r for r in rules}
    assert got["age"]["comparator"] == ">" and got["age"]["value"] == 70.0 and got["age"]["unit"] == "a"
    (pop,) = [k for k in got["creatinine_clearance"]["conditions"] if k["kind"] == "population"]
    assert pop["text"] == "in patients older than 70" and pop["rule"] == got["age"]["id"]


def test_a_population_written_before_its_limits_holds_for_its_sentence_only():
    text = ("Performance status: For patients older than 16 years the Karnofsky score must be 60 percent or "
            "greater. For children younger than 16 years, the Lansky score must be 60 percent or greater.")
    got = {v: [p for _, p in pops] for v, pops in conditions(text, "population")}
    assert got["Karnofsky score"] == ["For patients older than 16 years"]
    assert got["Lansky score"] == ["For children younger than 16 years"]


def test_a_postposed_population_ends_with_its_sentence():
    text = ("Total bilirubin no greater than 2.0 mg/dL (3.0 mg/dL in patients treated by biliary drainage). "
            "AST no greater than 150 U/L")
    got = dict(conditions(text, "population"))
    assert got["AST"] == []


def test_a_label_before_several_sentences_holds_for_all_of_them():
    text = ("Inclusion criteria for probands: Onset of hypertension by age 60 years. Hypertension was defined as "
            "systolic BP at least 140 mm Hg.")
    got = dict(conditions(text, "population"))
    assert got["systolic BP"] == [("population", "for probands:")]


def test_a_population_description_never_crosses_a_full_stop():
    text = ("Bilirubin normal, except if patient is on antiretroviral therapy. For patients on antiretroviral "
            "therapy, direct bilirubin no greater than 0.3 mg/dL")
    assert dict(conditions(text, "population"))["direct bilirubin"] == [
        ("population", "For patients on antiretroviral therapy")]


# -- a bare alternative limit after a population --------------------------------------------------
def test_a_bare_limit_after_a_population_in_parentheses_is_the_next_groups():
    got = [(r["value"], r["unit"], [k["text"] for k in r["conditions"] if k["kind"] == "population"])
           for r in rules_of("Hemoglobin at least 13 g/dL (for males) or 12 g/dL (for females)")]
    assert got == [(13.0, "g/dL", ["for males"]), (12.0, "g/dL", ["for females"])]


def test_a_bare_limit_after_a_population_and_a_comma_is_the_next_groups():
    got = [(r["value"], [k["text"] for k in r["conditions"] if k["kind"] == "population"])
           for r in rules_of("Creatinine no greater than 1.4 mg/dL in women, 1.6 mg/dL in men")]
    assert got == [(1.4, ["in women"]), (1.6, ["in men"])]


def test_a_next_sentence_about_the_same_subjects_keeps_their_population():
    text = "Patients with diabetes mellitus must have good glycemic control. Their HbA1c must be less than 8.0%."
    assert conditions(text, "population") == [("HbA1c", [("population", "diabetes mellitus")])]
