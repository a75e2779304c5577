"""Bounds-level scoring (--split-ranges): a range and its two one-sided bounds agree."""
from criteria_nlp.evaluation.gold import GoldDocument, GoldThreshold
from criteria_nlp.evaluation.scorer import PredRule, score, split_range_pred

TEXT = "Age >= 18 years and <= 65 years"


def gold_two_bounds():
    common = dict(doc_id="d", variable_event="E1", variable_type="Age", observation_type="age",
                  variable_text="Age", variable_start=0, variable_end=3, value_text=None,
                  value_high_text=None, value_high=None, unit_text="years")
    return GoldDocument("d", TEXT, None, thresholds=[
        GoldThreshold(id="E2@E1", comparison_event="E2", text="> = 18 years", start=4, end=15,
                      comparator=">=", value=18.0, **common),
        GoldThreshold(id="E3@E1", comparison_event="E3", text="<= 65 years", start=20, end=31,
                      comparator="<=", value=65.0, **common),
    ])


def predicted_range():
    return [PredRule(doc_id="d", id="r1", start=0, end=31, text=TEXT, comparator="between", value=18.0,
                     value_high=65.0, unit="a", unit_text="years", variable_start=0, variable_end=3,
                     variable_text="Age")]


def test_split_range_pred_gives_two_bounds():
    low, high = split_range_pred(predicted_range())
    assert (low.comparator, low.value, low.value_high) == (">=", 18.0, None)
    assert (high.comparator, high.value, high.value_high) == ("<=", 65.0, None)


def test_a_range_matches_two_one_sided_gold_bounds_only_when_split():
    golds = [gold_two_bounds()]
    plain = score(golds, {"d": predicted_range()})
    split = score(golds, {"d": predicted_range()}, split_ranges=True)
    assert plain.levels["full"].tp <= 1
    assert split.levels["full"].tp == 2
    assert split.levels["full"].precision == 1.0 and split.levels["full"].recall == 1.0
