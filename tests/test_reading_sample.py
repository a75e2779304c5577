"""Forms seen while reading the registry sample's output by eye (README "Reading the sample's
output"), each tested on lines written for it."""
from criteria_nlp import extract
from criteria_nlp.components.sections import SectionHeadings
from criteria_nlp.pipeline import get_pipeline


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
