"""Range scoring: a range and the two one-sided bounds LCT annotates for it agree when merged or split."""
from criteria_nlp.evaluation.gold import GoldDocument, GoldThreshold
from dataclasses import replace

from criteria_nlp.evaluation.scorer import PredRule, merge_paired_bounds, score, split_range_pred

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
    plain = score(golds, {"d": predicted_range()}, ranges="as-annotated")
    split = score(golds, {"d": predicted_range()}, ranges="split")
    assert plain.levels["full"].tp <= 1
    assert split.levels["full"].tp == 2
    assert split.levels["full"].precision == 1.0 and split.levels["full"].recall == 1.0


def test_paired_bounds_of_one_variable_merge_into_the_range_the_pipeline_writes():
    golds = [gold_two_bounds()]
    merged = score(golds, {"d": predicted_range()})  # the default
    assert merged.n_gold == 1
    assert merged.levels["full"].precision == 1.0 and merged.levels["full"].recall == 1.0
    (g,) = merge_paired_bounds(golds[0]).thresholds
    assert (g.comparator, g.value, g.value_high, g.start, g.end) == ("between", 18.0, 65.0, 4, 31)


def test_bounds_that_exclude_a_range_or_belong_to_two_variables_stay_apart():
    doc = gold_two_bounds()
    low, high = doc.thresholds
    outside = replace(doc, thresholds=[replace(low, comparator="<"), replace(high, comparator=">")])
    assert len(merge_paired_bounds(outside).thresholds) == 2  # "< 18 or > 65"
    two_vars = replace(doc, thresholds=[low, replace(high, variable_event="E9")])
    assert len(merge_paired_bounds(two_vars).thresholds) == 2
    two_lines = replace(doc, text=TEXT.replace(" and ", "\nand "))
    assert len(merge_paired_bounds(two_lines).thresholds) == 2
