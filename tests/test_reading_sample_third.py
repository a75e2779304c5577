"""Forms seen while reading the registry sample's output by eye, third pass (README "Reading the
sample's output, third pass"), each tested on lines written for it."""
import pytest

from criteria_nlp import extract
from criteria_nlp.quantities.numbers import parse_number


def rules_of(text):
    return [(r["variable"]["name"] if r["variable"] else None, r["comparator"], r["value"], r.get("unit"))
            for c in extract(text)["criteria"] for r in c.get("rules", [])]


def variable_texts(text):
    return [r["variable"]["text"] for c in extract(text)["criteria"] for r in c.get("rules", [])]


@pytest.mark.parametrize("surface, value", [
    ("100 000", 100000.0), ("1 500", 1500.0), ("1\u00a0500.5", 1500.5), ("2\u202f000\u202f000", 2000000.0),
    ("1,500", 1500.0), ("1,5", 1.5),
])
def test_groups_of_three_digits_may_be_separated_by_spaces(surface, value):
    assert parse_number(surface) == value


def test_a_space_grouped_number_is_one_value():
    assert rules_of("Neutrophils > 1 500/mm3 and platelets ≥ 100 000/mm³") == [
        ("absolute_neutrophil_count", ">", 1500.0, "/mm3"), ("platelet_count", ">=", 100000.0, "/mm3")]


def test_numbers_after_a_number_and_a_space_are_not_grouped_with_it():
    # a reference list: "2001 103" has a four-digit first group, and "103 335" follows "2001 "
    assert all(value not in (103335.0, 2001103.0) for _, _, value, _ in rules_of("Circulation 2001 103 335-336; age > 18 years"))


@pytest.mark.parametrize("line, name, comparator, value", [
    ("Thrombocytopenia < 75,000/mm3", "platelet_count", "<", 75000.0),
    ("Neutropenia < 1000/mm3", "absolute_neutrophil_count", "<", 1000.0),
    ("Leucopenia < 2500/mm3", "white_blood_cell_count", "<", 2500.0),
    ("Anaemia < 8 g/dL", "hemoglobin", "<", 8.0),
    ("Hyperkalaemia > 5.5 mmol/L", "potassium", ">", 5.5),
    ("Hyponatremia < 125 mmol/L", "sodium", "<", 125.0),
    ("Hypoglycaemia < 3.0 mmol/L", "glucose", "<", 3.0),
    ("Hyperbilirubinemia > 3 mg/dL", "total_bilirubin", ">", 3.0),
    ("Fever > 38.3 °C", "body_temperature", ">", 38.3),
])
def test_a_named_abnormal_level_is_a_threshold_of_its_analyte(line, name, comparator, value):
    assert rules_of(line)[0][:3] == (name, comparator, value)


def test_the_analyte_named_in_parentheses_with_the_value_is_the_variables_span():
    assert variable_texts("Anaemia (haemoglobin < 9 g/dL)") == ["haemoglobin"]
    assert variable_texts("Hemoglobin (Hb) ≥ 80 g/L") == ["Hemoglobin (Hb)"]  # an alias closing its parenthesis


@pytest.mark.parametrize("line, counted", [
    ("Anaemia requiring more than 2 transfusions", "transfusions"),
    ("Hypertension treated with at least 3 antihypertensive drugs", "antihypertensive drugs"),
    ("Low hemoglobin requiring more than 2 transfusions in the last month", "transfusions"),
])
def test_a_count_after_a_measured_variable_counts_the_things_named_after_it(line, counted):
    assert rules_of(line)[0][0] == counted


@pytest.mark.parametrize("line, rule", [
    ("Platelets ≥ 100", ("platelet_count", ">=", 100.0)),  # a count needs no unit
    ("Heart rate > 100 beats", ("heart_rate", ">", 100.0)),
    ("Age ≥ 18 ans", ("age", ">=", 18.0)),  # a time with a unit the grammar does not read
])
def test_a_variable_that_is_a_count_or_a_time_keeps_its_unitless_value(line, rule):
    assert rules_of(line)[0][:3] == rule


def test_a_part_of_the_pair_named_right_after_the_value_is_its_variable():
    assert rules_of("Blood pressure ≥140 mmHg systolic or ≥90 mmHg diastolic") == [
        ("systolic_blood_pressure", ">=", 140.0, "mm[Hg]"), ("diastolic_blood_pressure", ">=", 90.0, "mm[Hg]")]


def test_a_value_in_a_physical_unit_is_not_of_a_variable_measured_otherwise():
    # no neutrophil count is in °C: the coordinated temperature takes it, or an unknown name
    assert rules_of("Febrile neutropenia (temperature > 38.5°C and ANC < 500/mm3)") == [
        ("body_temperature", ">", 38.5, "Cel"), ("absolute_neutrophil_count", "<", 500.0, "/mm3")]
    assert rules_of("Febrile neutropenia (> 38.5°C)")[0][0] != "absolute_neutrophil_count"
    # a percentile or a percentage can be of any variable
    assert rules_of("BMI > 85th percentile for age")[0][0] == "bmi"


def test_a_postfix_comparator_after_a_unit_abbreviated_with_a_full_stop():
    assert rules_of("Body weight 300 lbs. and above") == [("body_weight", ">=", 300.0, "[lb_av]")]
    assert rules_of("Age 18 yrs. or older") == [("age", ">=", 18.0, "a")]
    # a capital starts the next sentence: no postfix
    assert rules_of("Weight 100 kg. Or more than 2 cigarettes a day")[0][:3] == ("body_weight", "=", 100.0)
