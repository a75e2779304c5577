"""Registry text pasted from other encodings (lines written for these tests): the Symbol font's ≥ and
≤ read as Latin-1 ("³", "£"), and full-width CJK punctuation; offsets stay those of the input."""
import pytest

from criteria_nlp import extract
from criteria_nlp.pipeline import mask_markup


def rules_of(text):
    out = [r for c in extract(text)["criteria"] for r in c["rules"]]
    for r in out:
        assert text[r["start"]:r["end"]] == r["text"]
    return [((r["variable"] or {}).get("name"), r["comparator"], r["value"], r["unit"], r["relative_to"]) for r in out]


@pytest.mark.parametrize("line, expected", [
    ("Aged ³ 21 years", ("age", ">=", 21.0, "a", None)),
    ("Neutrophils ³1,200/uL", ("absolute_neutrophil_count", ">=", 1200.0, "/uL", None)),
    ("AST £2.5 times the institutional upper limit of normal", ("ast", "<=", 2.5, None, "ULN")),
    ("ECOG performance status £ 1", ("ecog_performance_status", "<=", 1.0, None, None)),
])
def test_symbol_font_comparators(line, expected):
    assert rules_of(line) == [expected]


def test_a_cube_and_money_are_not_comparators():
    assert mask_markup("Platelets ≥ 75,000/mm³ 2 weeks") == "Platelets ≥ 75,000/mm³ 2 weeks"
    assert mask_markup("Volunteers are paid £40 per visit") == "Volunteers are paid £40 per visit"
    assert rules_of("Participants receive a voucher of £25 after each visit") == []


def test_full_width_punctuation_separates_words():
    assert rules_of("Impaired cardiac function，New York Heart Association class ³ Ⅲ") == \
        [("nyha_class", ">=", 3, None, None)]
    assert ("alt", ">", 3.0, None, "ULN") in rules_of("肝功能：ALT＞3×ULN；")
