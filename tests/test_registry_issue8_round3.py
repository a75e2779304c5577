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


def test_a_roman_range_after_class_is_no_statement():
    text = "PATIENT CHARACTERISTICS: Cardiovascular: No New York Heart Association class II-IV heart disease LVEF at least 50%"
    assert statements(text)[2:] == ["No New York Heart Association class II-IV heart disease", "LVEF at least 50%"]


def test_counts_named_with_an_acronym_keep_their_rule():
    text = ("PATIENT CHARACTERISTICS: Other: At least 3 rising PSA values obtained 2 weeks apart "
            "No more than 2 contrast enhanced MRI scans in the past year")
    got = [(v, c, x) for v, c, x, *_ in described(text)]
    assert ("rising PSA values", ">=", 3.0) in got
    assert ("contrast enhanced MRI scans", "<=", 2.0) in got
