"""Registry-style criteria lines through the whole pipeline: each comparator, number, unit and
range form, ULN multiples, coordination, alternatives and conditions."""
import pytest

from criteria_nlp import extract


def rules_of(text):
    out = extract(text)
    return [r for c in out["criteria"] for r in c["rules"]]


def one_rule(text):
    rules = rules_of(text)
    assert len(rules) == 1, [r["text"] for r in rules]
    return rules[0]


@pytest.mark.parametrize(
    "line, variable, comparator, value, value_high, unit",
    [
        ("Hemoglobin (Hb) ≥ 80 g/L", "hemoglobin", ">=", 80, None, "g/L"),
        ("Hb>=9 g/dL", "hemoglobin", ">=", 9, None, "g/dL"),
        ("Haemoglobin => 10 g/dl", "hemoglobin", ">=", 10, None, "g/dL"),
        ("Absolute neutrophil count ≥1,500/mm3", None, ">=", 1500, None, "/mm3"),
        ("ANC ≥ 1.5 x 109/L", None, ">=", 1.5, None, "10*9/L"),
        ("Platelets ≥ 100 × 10^9/L", None, ">=", 100, None, "10*9/L"),
        ("Platelet count >/= 75,000/µL", None, ">=", 75000, None, None),
        ("Serum creatinine less than or equal to 1.5 mg/dL", "serum_creatinine", "<=", 1.5, None, "mg/dL"),
        ("Creatinine clearance of at least 60 mL/min", None, ">=", 60, None, "mL/min"),
        ("eGFR ≥ 45 mL/min/1.73 m²", None, ">=", 45, None, "mL/min/{1.73_m2}"),
        ("Systolic blood pressure > 160 mmHg", None, ">", 160, None, "mm[Hg]"),
        ("QTcF > 470 msec", None, ">", 470, None, "ms"),
        ("Left ventricular ejection fraction (LVEF) no less than 50%", None, ">=", 50, None, "%"),
        ("Body mass index (BMI) between 18.5 and 30 kg/m2", None, "between", 18.5, 30, "kg/m2"),
        ("HbA1c between 7.0% and 10.5%", None, "between", 7.0, 10.5, "%"),
        ("HIV-1 RNA < 50 copies/mL", None, "<", 50, None, "{copies}/mL"),
        ("CD4+ T-cell count > 200 cells/µL", None, ">", 200, None, None),
        ("Karnofsky performance status ≥ 70%", None, ">=", 70, None, "%"),
        ("ECOG performance status 0-1", None, "between", 0, 1, None),
        ("Life expectancy of more than 12 weeks", "life_expectancy", ">", 12, None, "wk"),
        ("Weight not exceeding 120 kg", None, "<=", 120, None, "kg"),
        ("Fasting plasma glucose below 7 mmol/L", None, "<", 7, None, "mmol/L"),
    ],
)
def test_single_threshold(line, variable, comparator, value, value_high, unit):
    rule = one_rule(line)
    assert rule["comparator"] == comparator
    assert rule["value"] == pytest.approx(value)
    assert rule["value_high"] == (None if value_high is None else pytest.approx(value_high))
    if unit is not None:
        assert rule["unit"] == unit
    if variable is not None:
        assert rule["variable"]["name"] == variable
    assert rule["variable"] is not None
    assert rule["variable"]["code"] is not None or rule["variable"]["category"] is not None


@pytest.mark.parametrize(
    "line, comparator, value, value_high",
    [
        ("Age ≥ 18 years", ">=", 18, None),
        ("18 years or older", ">=", 18, None),
        ("Patients aged 18 to 75 years", "between", 18, 75),
        ("Men and women older than 40 years", ">", 40, None),
        ("Between the ages of 60 and 85", "between", 60, 85),
        ("Age 18-70 (including boundary values)", "between", 18, 70),
        ("at least 21 years of age", ">=", 21, None),
        ("Age under 65 years", "<", 65, None),
        ("Patients over the age of 18", ">", 18, None),
        ("Mothers under the age of 18 years", "<", 18, None),
        ("Older than the age of 24,", ">", 24, None),
        ("Women over age 18 with a biopsy proven lesion", ">", 18, None),
        ("Be 60 or older, and in the case of women postmenopausal", ">=", 60, None),
        ("55 and older", ">=", 55, None),
        ("The participant is equal to or older than 18 years old.", ">=", 18, None),
        ("18-35-year-old women", "between", 18, 35),
        ("Men >50-year-old", ">", 50, None),
        ("Prepubertal children 2 to <12 years old", "between", 2, 12),
        ("Subjects of 40-70 years.", "between", 40, 70),
        ("From 18 to 25 years", "between", 18, 25),
        ("Any patient ≥18 who presents for a colonoscopy", ">=", 18, None),
    ],
)
def test_age_forms(line, comparator, value, value_high):
    rule = one_rule(line)
    assert rule["variable"]["name"] == "age"
    assert rule["comparator"] == comparator
    assert rule["value"] == value
    assert rule["value_high"] == value_high
    assert rule["unit"] == "a"
    assert rule["normalized"] == {"value": value, "value_high": value_high, "unit": "a"}


@pytest.mark.parametrize(
    "line, comparator, value, unit",
    [
        ("Infants > 1 month of age", ">", 1, "mo"),
        ("currently less than 18 months of age at the time of approach", "<", 18, "mo"),
        ("Infant is 12-36 hours of age.", "between", 12, "h"),
    ],
)
def test_ages_in_other_time_units(line, comparator, value, unit):
    rule = one_rule(line)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) == ("age", comparator, value, unit)


def test_durations_are_not_ages():
    assert rules_of("History of diabetes for at least 5 years") == []
    assert all(r["variable"]["name"] != "age" for r in rules_of("Duration of disease ≥ 6 months"))


@pytest.mark.parametrize(
    "line, variable, value, value_high",
    [
        ("adult patients of ASA physical status I and II undergoing surgery", "asa_physical_status", 1, 2),
        ("ASA status 1,2", "asa_physical_status", 1, 2),
        ("Anesthesia classification (ASA): I-III.", "asa_physical_status", 1, 3),
        ("New York Heart Association class I-III.", "nyha_class", 1, 3),
        ("Eastern Cooperative Oncology Group(ECOG) performance status 0 or 1.", "ecog_performance_status", 0, 1),
        ("GMFCS levels I-III", "gmfcs_level", 1, 3),
        ("ECOG performance status of 0, 1, or 2", "ecog_performance_status", 0, 2),
        ("ASA status I, II, or III.", "asa_physical_status", 1, 3),
        ("Heart failure (New York Heart Association) (NYHA) IV), severe COPD", "nyha_class", 4, None),
    ],
)
def test_class_lists_of_scores_without_comparator(line, variable, value, value_high):
    rule = one_rule(line)
    assert rule["variable"]["name"] == variable
    assert (rule["comparator"], rule["value"], rule["value_high"]) == \
        ("=" if value_high is None else "between", value, value_high)


def test_between_is_inclusive_unless_text_says_otherwise():
    assert one_rule("Age 18-65 years")["inclusive"] == {"low": True, "high": True}
    assert one_rule("Age between 18 and 65 years (exclusive)")["inclusive"] == {"low": False, "high": False}
    mixed = one_rule("Prednisone > 5 mg/day and ≤ 20 mg/day")
    assert mixed["comparator"] == "between"
    assert (mixed["value"], mixed["value_high"]) == (5, 20)
    assert mixed["inclusive"] == {"low": False, "high": True}


@pytest.mark.parametrize(
    "line, value, relative_to",
    [
        ("AST ≤ 2.5 x ULN", 2.5, "ULN"),
        ("ALT <= 3xULN", 3, "ULN"),
        ("Total bilirubin ≤ 1.5 times the upper limit of normal", 1.5, "ULN"),
        ("Serum creatinine ≤ 1.5 × institutional ULN", 1.5, "ULN"),
        ("INR < 1.5 x the upper limit of normal (ULN)", 1.5, "ULN"),
        ("Fibrinogen ≥ 1.0 x LLN", 1.0, "LLN"),
        ("AST more than twice the upper limit of normal", 2, "ULN"),
    ],
)
def test_multiples_of_reference_limits(line, value, relative_to):
    rule = one_rule(line)
    assert rule["value"] == value
    assert rule["relative_to"] == relative_to
    assert rule["unit"] is None
    assert rule["normalized"] is None


def test_markdown_escapes_are_understood_and_offsets_point_into_the_original():
    text = "1. Finger pulse oximetry saturation \\>92% in non-oxygenated state;\n2. PLT \\<30\\*×10\\^9/L"
    rules = rules_of(text)
    assert [(r["comparator"], r["value"], r["unit"]) for r in rules] == [(">", 92, "%"), ("<", 30, "10*9/L")]
    for r in rules:
        assert text[r["start"]:r["end"]] == r["text"]
        assert "\\" in r["text"]


@pytest.mark.parametrize("line, unit", [
    ("* BMI \\< 18.5 kg/m\\^2", "kg/m2"),
    ("* eGFR \\>= 45 mL/min/1.73 m\\^2", "mL/min/{1.73_m2}"),
    ("* Body surface area \\> 1.6 m\\^2", "m2"),
    ("* Absolute neutrophil count \\>= 1500/mm\\^3", "/mm3"),
])
def test_escaped_exponents_of_registry_markdown_belong_to_the_unit(line, unit):
    rule = one_rule(line)
    assert rule["unit"] == unit
    assert rule["text"][-3:] in ("\\^2", "\\^3")  # the exponent is part of the rule


def test_glued_tokens_are_split():
    rule = one_rule("PLT<30*×10^9/L")
    assert (rule["variable"]["text"], rule["comparator"], rule["value"], rule["unit"]) == ("PLT", "<", 30, "10*9/L")


def test_coordination_distributes_the_threshold():
    rules = rules_of("ALT, AST ≤ 2.5 x ULN")
    assert [r["variable"]["name"] for r in rules] == ["alt", "ast"]
    assert all(r["value"] == 2.5 and r["relative_to"] == "ULN" for r in rules)
    slash = rules_of("AST/ALT ≤ 3 x ULN")
    assert sorted(r["variable"]["name"] for r in slash) == ["alt", "ast"]


def test_parenthesised_aliases_are_one_variable():
    rule = one_rule("Neutrophils (Absolute neutrophil count (ANC)) ≥ 1.5 x 109/L")
    assert rule["variable"]["text"].startswith("Neutrophils")
    assert rule["unit"] == "10*9/L"


def test_alternatives_are_joined_by_or():
    out = extract("Creatinine clearance ≥ 40 ml/min or serum creatinine ≤ 1.5 x upper limit of normal (ULN)")
    crit = out["criteria"][0]
    ids = [r["id"] for r in crit["rules"]]
    assert len(ids) == 2
    assert crit["logic"] == {"op": "or", "args": ids}
    assert crit["rules"][1]["relative_to"] == "ULN"


def test_conjunction_is_and():
    out = extract("Absolute lymphocyte count ≥ 0.6 x 109/L and percentage of lymphocytes ≥ 10%")
    crit = out["criteria"][0]
    assert crit["logic"]["op"] == "and"
    assert [r["unit"] for r in crit["rules"]] == ["10*9/L", "%"]


def test_population_condition_for_a_subgroup():
    text = ("ALT, AST ≤ 2.5 x ULN and total bilirubin ≤ 1.5 x ULN (for subjects with Gilbert's syndrome, "
            "ALT, AST ≤ 5 x ULN and total bilirubin ≤ 3 x ULN)")
    rules = rules_of(text)
    assert len(rules) == 6
    default = [r for r in rules if not r["conditions"]]
    special = [r for r in rules if r["conditions"]]
    assert [r["value"] for r in default] == [2.5, 2.5, 1.5]
    assert [r["value"] for r in special] == [5, 5, 3]
    for r in special:
        cond = r["conditions"][0]
        assert cond["kind"] == "population"
        assert "Gilbert" in cond["text"]


def test_population_after_the_threshold():
    rules = rules_of("AST ≤ 2.5 x ULN (≤ 5 x ULN if liver metastases are present)")
    assert [r["value"] for r in rules] == [2.5, 5]
    assert rules[0]["conditions"] == []
    assert rules[1]["conditions"][0]["kind"] == "population"
    assert "liver metastases" in rules[1]["conditions"][0]["text"]


def test_qualifier_attached_to_its_threshold():
    rules = rules_of("severe thrombocytopenia (platelets <30×10^9/L or <50×10^9/L with bleeding tendency)")
    assert [r["value"] for r in rules] == [30, 50]
    assert rules[0]["conditions"] == []
    assert rules[1]["conditions"][0]["kind"] == "qualifier"
    assert rules[1]["conditions"][0]["text"] == "with bleeding tendency"


def test_temporal_window_is_inherited_by_child_items():
    text = ("Inclusion Criteria\n\n1. Blood cell analysis within 3 days prior to single collection:\n\n"
            "1. Hemoglobin (Hb) ≥ 80 g/L;\n2. Platelet count (PLT) ≥ 20 x 109/L;\n2. Signed consent.")
    out = extract(text)
    ids = {c["id"]: c for c in out["criteria"]}
    assert set(ids) == {"inc-1", "inc-1.1", "inc-1.2", "inc-2"}
    for cid in ("inc-1.1", "inc-1.2"):
        (rule,) = ids[cid]["rules"]
        (cond,) = rule["conditions"]
        assert cond["kind"] == "temporal"
        assert cond["inherited_from"] == "inc-1"
        assert text[cond["start"]:cond["end"]].startswith("within 3 days prior to single collection")
        assert cond["value"] == 3 and cond["unit"] == "d" and cond["relation"] == "before"


def test_time_windows_are_not_rules():
    assert rules_of("No live vaccine within 30 days prior to randomization") == []
    rule = one_rule("Hemoglobin ≥ 9 g/dL within 14 days before enrollment")
    assert rule["conditions"][0]["kind"] == "temporal"


def test_exclusion_rules_are_written_as_stated_and_sectioned():
    out = extract("Exclusion Criteria:\n- Uncontrolled hypertension (systolic blood pressure >160 mmHg)")
    (crit,) = out["criteria"]
    assert crit["section"] == "exclusion"
    (rule,) = crit["rules"]
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">", 160, "mm[Hg]")


def test_negation_from_context():
    rules = rules_of("No evidence of hemoglobin < 8 g/dL")
    assert rules and rules[0]["negated"] is True
    assert one_rule("Hemoglobin < 8 g/dL")["negated"] is False


def test_unit_conversion_to_canonical_unit():
    rule = one_rule("Hemoglobin ≥ 9 g/dL")
    assert rule["normalized"] == {"value": 90, "value_high": None, "unit": "g/L"}
    rule = one_rule("Platelets ≥ 100,000/mm3")
    assert rule["normalized"]["value"] == pytest.approx(100)
    assert rule["normalized"]["unit"] == "10*9/L"


def test_unknown_variable_still_gives_a_rule():
    rule = one_rule("Zorblax index ≥ 4.5 mg/L")
    assert rule["variable"]["code"] is None
    assert "zorblax" in rule["variable"]["name"]
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">=", 4.5, "mg/L")


def test_value_before_variable():
    rules = rules_of("Hypertension (≥140 mmHg systolic and/or ≥90 mmHg diastolic)")
    assert [(r["variable"]["text"], r["value"]) for r in rules] == [("systolic", 140), ("diastolic", 90)]


def test_counts_and_plain_numbers_are_not_thresholds():
    assert rules_of("At least one of the following conditions") == []
    assert rules_of("Type 2 diabetes mellitus diagnosed in 2015") == []
    assert rules_of("COVID-19 vaccination") == []


def test_a_variable_inside_a_rule_is_not_reused():
    rules = rules_of("≥ 18 years of age and weight ≥ 50 kg")
    assert [(r["variable"]["name"], r["value"]) for r in rules] == [("age", 18), ("body_weight", 50)]


def test_learned_filter_keeps_thresholds_of_known_variables_with_units():
    rule = one_rule("Survival is expected to be more than 3 months")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) == ("life_expectancy", ">", 3, "mo")


@pytest.mark.parametrize(
    "line, comparator, value, value_high",
    [
        ("fasting glucose ≥ 7,8 mmol/ l", ">=", 7.8, None),
        ("BMI ≥18,5 and ≤27,5", "between", 18.5, 27.5),
        ("Platelets > 100,000/mm3", ">", 100000, None),
    ],
)
def test_decimal_commas_after_a_comparator(line, comparator, value, value_high):
    rule = one_rule(line)
    assert (rule["comparator"], rule["value"], rule["value_high"]) == (comparator, value, value_high)


@pytest.mark.parametrize(
    "line, comparator, value",
    [
        ("Infant is born at < 27 weeks gestation", "<", 27),
        ("Pregnancy between 36 and 42 weeks of gestation.", "between", 36),
        ("women with more than 34 weeks gestation and with any contraindication", ">", 34),
    ],
)
def test_a_time_variable_after_its_value(line, comparator, value):
    rule = one_rule(line)
    assert rule["variable"]["name"] == "gestational_age"
    assert (rule["comparator"], rule["value"], rule["unit"]) == (comparator, value, "wk")


@pytest.mark.parametrize(
    "line, variable, comparator, value",
    [
        ("a score of 23 or less on the Brief Alzheimer Screen.", "Brief Alzheimer Screen", "<=", 23),
        ("a score of 2 or greater on the speech question of the ALSFRS-R (i.e. speech is intelligible)",
         "speech question of the ALSFRS-R", ">=", 2),
    ],
)
def test_an_instrument_named_after_the_value(line, variable, comparator, value):
    rule = one_rule(line)
    assert (rule["variable"]["text"], rule["comparator"], rule["value"]) == (variable, comparator, value)


def test_a_count_of_criteria_is_not_an_instrument_score():
    assert rules_of("at least 2 of the ACR criteria") == []
    assert rules_of("at least 3 months on the waiting list") == []


def test_values_for_populations_hold_for_the_same_variable():
    rules = rules_of("Subject has lower appendicular muscle mass index (AMMI) (<7 kg/m^2 in men; <5.7 kg/m^2 in women)")
    assert [(r["variable"]["text"], r["value"]) for r in rules] == \
        [("appendicular muscle mass index (AMMI)", 7), ("appendicular muscle mass index (AMMI)", 5.7)]
    ages = rules_of("Subject under 18 years or over 70 years")
    assert [(r["variable"]["name"], r["comparator"], r["value"]) for r in ages] == [("age", "<", 18), ("age", ">", 70)]
    # bounds of an age with no age word name it together (issue 9, fifth branch)
    assert [r["variable"]["text"] for r in ages] == ["under 18 years or over 70 years"] * 2


def test_a_different_unknown_name_is_not_the_previous_variable():
    rules = rules_of("Exhaled CO > 10 ppm, Y < 3 ppm")
    assert [r["variable"]["text"] for r in rules] == ["Exhaled CO", "Y"]


def test_an_abbreviation_between_name_and_value_belongs_to_the_name():
    rule = one_rule("diagnosed with DME with central macular thickness (CMT) more than 250 µm measured by OCT")
    assert rule["variable"]["text"] == "central macular thickness (CMT)"
    assert rule["text"].startswith("central macular thickness (CMT) more than 250")


@pytest.mark.parametrize(
    "line, value, unit",
    [
        ("Serum HDL-C: <50/40 mg/dl; F/M", 50, "mg/dL"),
        ("Maximum inspiratory pressure (MIP) < -20 cm H20", -20, "cm[H2O]"),
    ],
)
def test_the_unit_after_a_pair_of_values_or_a_typo(line, value, unit):
    rule = one_rule(line)
    assert (rule["value"], rule["unit"]) == (value, unit)


def test_the_unit_after_a_blood_pressure_pair_holds_for_both_values():
    assert [(r["value"], r["unit"]) for r in rules_of("BP >130/85 mmHg")] == [(130, "mm[Hg]"), (85, "mm[Hg]")]


def test_maximum_normal_value_is_the_upper_limit_of_normal():
    rule = one_rule("total bilirubin < 1.5 X maximum normal value")
    assert (rule["value"], rule["relative_to"]) == (1.5, "ULN")


def test_a_score_out_of_ten_is_not_a_class_list():
    assert rules_of("pain score 2/10 on the NRS") == []


def test_a_reference_multiple_without_comparator_is_an_equality():
    rules = rules_of("elevated liver enzymes (Aspartate aminotransferase (AST) and Alanine aminotransferase (ALT) "
                     "three times the upper limit of normal).")
    assert [(r["variable"]["name"], r["comparator"], r["value"], r["relative_to"]) for r in rules] == \
        [("ast", "=", 3, "ULN"), ("alt", "=", 3, "ULN")]


def test_a_single_class_closes_its_clause_or_follows_a_rating():
    assert [(r["variable"]["name"], r["comparator"], r["value"]) for r in rules_of(
        "illness or condition that would preclude the use of surgery (ASA 5).")] == [("asa_physical_status", "=", 5)]
    cdr = rules_of("Normal cognition defined as a Clinical Dementia Rating of 0 and a MMSE score of 27 or higher.")
    assert [(r["comparator"], r["value"]) for r in cdr] == [("=", 0), (">=", 27)]
    assert rules_of("NYHA 6 minute walk test") == []


def test_minimum_before_the_name_is_the_comparator():
    rule = one_rule("a minimum life expectancy of 12 weeks.")
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) == ("life_expectancy", ">=", 12, "wk")
    assert one_rule("Maximum tumor diameter of 5 cm")["comparator"] == "<="


def test_counts_per_day_are_units():
    rule = one_rule("Smokers of more than 10 cigarettes a day.")
    assert (rule["comparator"], rule["value"], rule["unit"]) == (">", 10, "{cigarettes}/d")


@pytest.mark.parametrize(
    "line, variable, comparator, value",
    [
        ("Shipley vocabulary (standard score) > 80", "Shipley vocabulary (standard score)", ">", 80),
        ("history of substance abuse (Cut down, Annoyed, Guilty, Eye opener [CAGE] >= 2+)", "Eye opener [CAGE]", ">=", 2),
        ("A positive screen for a current Substance User Disorder (CRAFFT = 2 or higher)", "CRAFFT", ">=", 2),
        ("defined by IBS symptom severity scores (IBS-SSS) greater than 250", "IBS symptom severity scores (IBS-SSS)",
         ">", 250),
        ("Timed walk test </= 12 seconds", "Timed walk test", "<=", 12),
    ],
)
def test_unknown_names_ending_in_a_group_or_measured_in_seconds(line, variable, comparator, value):
    rule = one_rule(line)
    assert (rule["variable"]["text"], rule["comparator"], rule["value"]) == (variable, comparator, value)


@pytest.mark.parametrize(
    "line, variable",
    [
        ("asthenozoospermia: < 32% progressive motile spermatozoa;", "progressive motile spermatozoa"),
        ("Have less than 30 mins of morning stiffness;", "morning stiffness"),
        (">=80% diary compliance during the baseline period", "diary compliance"),
    ],
)
def test_an_unknown_name_after_the_value_when_none_stands_before(line, variable):
    assert one_rule(line)["variable"]["text"] == variable


def test_percentiles_ranges_after_units_and_glued_list_numbers():
    efw = one_rule("fetal growth restriction, defined as EFW < 10th percentile")
    assert (efw["value"], efw["unit"]) == (10, "{percentile}")
    age = one_rule("Age 8yr-18yrs")
    assert (age["comparator"], age["value"], age["value_high"], age["unit"]) == ("between", 8, 18, "a")
    ecog = one_rule("1. Diagnosis 4.ECOG performance status of 0 or 1 5. An adequate bone marrow")
    assert (ecog["variable"]["name"], ecog["value"], ecog["value_high"]) == ("ecog_performance_status", 0, 1)


def test_bounds_with_restated_symbols_merge_and_abbreviations_are_not_variables():
    rule = one_rule("The patient is at least 18 years old (≥) and under 90 years old (<).")
    assert (rule["comparator"], rule["value"], rule["value_high"], rule["inclusive"]) == \
        ("between", 18, 90, {"low": True, "high": False})
    assert rules_of("Subject is predominantly breastfeeding (80% of all feeds, i.e. ≤150 ml formula/day)") == []
    assert [r["value"] for r in rules_of("PEEP ≤8cmH2O (1cmH2O=0.098 kPa) when extubation")] == [8]


def test_another_name_between_a_variable_and_a_value_takes_the_value():
    rules = rules_of("PaO2:FIO2 >150 with FIO2 ≤0.4, PEEP <8 cm H2O")
    assert [r["variable"]["text"] for r in rules][-1] == "PEEP"
    tapse = one_rule("Tricuspid annular plane systolic excursion (TAPSE) <16 mm")
    assert tapse["variable"]["text"].endswith("systolic excursion (TAPSE)")
    ecog = one_rule("Baseline ECOG (Eastern Cooperative Oncology Group) > = 4")
    assert ecog["variable"]["text"] == "ECOG (Eastern Cooperative Oncology Group)"


def test_population_labels_spacing_in_comparators_and_unit_variants():
    weights = rules_of("Body weight: 55kg or higher(female: 50kg or higher) and BMI 18~27kg/m2")
    assert [(r["variable"]["text"], r["value"]) for r in weights[:2]] == [("Body weight", 55), ("Body weight", 50)]
    assert one_rule("ECOG performance status = <1")["comparator"] == "<="
    assert one_rule("hemoglobin level below 9.0 gr/dl.")["unit"] == "g/dL"
    assert [r["unit"] for r in rules_of("white blood cell(WBC) is less than 3000/㎕ or more than 8000/㎕")] == ["/uL"] * 2


def test_the_window_of_a_list_header_holds_for_items_without_their_own():
    out = extract("Exclusion Criteria:\n1. Any of the following within 6 months prior to screening: ALT > 3 x ULN; "
                  "NYHA class ≥ 3 heart failure; platelets < 50 x 10^9/L within 2 weeks of dosing. Body weight < 40 kg.")
    windows = {r["variable"]["name"]: [c["text"] for c in r["conditions"] if c["kind"] == "temporal"]
               for c in out["criteria"] for r in c["rules"]}
    assert windows == {"alt": ["within 6 months prior to screening"],
                       "nyha_class": ["within 6 months prior to screening"],
                       "platelet_count": ["within 2 weeks of dosing"],
                       "body_weight": []}


@pytest.mark.parametrize(
    "line, variable, unit",
    [
        ("Cervical length on transvaginal examination of less than or equal to 20 mm", "cervical_length", "mm"),
        ("Presence of at least 4 sites with probing depth ≥ 6 mm", "periodontal_probing_depth", "mm"),
        ("PaO2:FIO2 >150 with PEEP <8 cm H2O", "peep", "cm[H2O]"),
        ("Epworth Sleepiness Scale score > 10", "epworth_sleepiness_scale", None),
        ("Estimated full-scale IQ greater than 75", "iq", None),
    ],
)
def test_measurements_and_instruments_of_the_lexicon(line, variable, unit):
    rule = [r for r in rules_of(line) if r["variable"]["name"] == variable]
    assert len(rule) == 1 and rule[0]["unit"] == unit


@pytest.mark.parametrize("line, values", [
    ("NT-proBNP > 400 pg/mL in patients without atrial fibrillation or > 1200 pg/mL in patients with atrial fibrillation",
     [400, 1200]),
    ("Fasting glucose ≥ 126 mg/dL if not treated with insulin or ≥ 100 mg/dL if treated", [126, 100]),
])
def test_a_value_after_a_long_population_is_the_same_variable(line, values):
    rules = rules_of(line)
    assert [r["value"] for r in rules] == values
    assert len({r["variable"]["name"] for r in rules}) == 1
    assert not any(r["negated"] for r in rules)
    populations = [[c["description"] for c in r["conditions"] if c["kind"] == "population"] for r in rules]
    assert all(len(p) == 1 for p in populations), populations


def test_a_population_without_a_diagnosis_keeps_its_negation_word():
    rule = one_rule("Hemoglobin ≥ 10 g/dL for patients without transfusion dependence.")
    (population,) = [c for c in rule["conditions"] if c["kind"] == "population"]
    assert population["description"] == "without transfusion dependence"
    assert population["text"] == "for patients without transfusion dependence"  # the full stop is not in it


@pytest.mark.parametrize("line, variable, low, high", [
    ("Clinical Dementia Rating (CDR) global score of 0.5 or 1.0.", "cdr_global", 0.5, 1.0),
    ("Mini-Mental State Examination (MMSE) total score of 20 to 26", "mmse", 20, 26),
])
def test_a_class_list_after_the_name_its_alias_and_a_score_qualifier(line, variable, low, high):
    rule = one_rule(line)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["value_high"]) == (variable, "between", low, high)
    assert rule["text"] == line.rstrip(".")  # from the full name, its alias included


@pytest.mark.parametrize("line", [
    "Back-related leg pain > 3 on 0 to 10 scale.",
    "Back-related leg pain > 3 on a 0 to 10 scale.",
])
def test_a_scale_named_only_by_its_span_is_no_variable_and_no_threshold(line):
    rule = one_rule(line)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"]) == ("back-related leg pain", ">", 3)


@pytest.mark.parametrize("line, name, comparator, value, unit", [
    ("At least 2 attacks per month", "attacks", ">=", 2, "{episodes}/mo"),
    ("More than 2 seizures per week", "seizures", ">", 2, "{episodes}/wk"),
])
def test_events_counted_per_period_are_thresholds_the_filter_keeps(line, name, comparator, value, unit):
    rule = one_rule(line)
    assert (rule["variable"]["name"], rule["comparator"], rule["value"], rule["unit"]) == (name, comparator, value, unit)
