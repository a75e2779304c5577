"""Components read span extension values from plain lists while the Doc holds the same spans."""
from criteria_nlp.components._values import criteria_of, span_values
from criteria_nlp.pipeline import build_pipeline

TEXT = "Inclusion Criteria:\n1. Hemoglobin ≥ 9 g/dL\n2. Age 18 to 75 years\nExclusion Criteria:\n- ALT > 3 x ULN\n"


def _info_from_extensions(span):
    return (span._.criterion_id, span._.criterion_parent, span._.criterion_section, span.start_char, span.end_char)


def test_stored_values_agree_with_the_extensions():
    doc = build_pipeline(linker_model=None)(TEXT)
    pairs = criteria_of(doc)
    assert [s for s, _ in pairs] == doc._.criteria
    assert [tuple(info) for _, info in pairs] == [_info_from_extensions(s) for s in doc._.criteria]
    quantities = span_values(doc, "quantities", doc._.quantities, lambda s: None)
    assert quantities == [s._.quantity for s in doc._.quantities]


def test_replaced_or_resized_span_lists_are_read_from_the_extensions():
    doc = build_pipeline(linker_model=None)(TEXT)
    doc._.criteria[0]._.criterion_id = "changed"
    doc._.criteria = doc._.criteria[:2]  # a new list: the stored values no longer apply
    assert [info.id for _, info in criteria_of(doc)] == ["changed", "inc-2"]
    spans = doc._.criteria
    spans.pop()  # resized in place
    assert [info.id for _, info in criteria_of(doc)] == ["changed"]
