"""Characters first (``criteria_nlp.excerpt``): spaCy reads only the criteria that can hold a rule,
and the result is the one the pipeline gives on a Doc of the whole text."""
import itertools
from pathlib import Path

import pytest

from criteria_nlp import extract
from criteria_nlp.components._values import criteria_of
from criteria_nlp.components.structure import criteria_in_text
from criteria_nlp.excerpt import SEPARATOR, criteria_to_read, excerpt_of, read_excerpt
from criteria_nlp.pipeline import doc_to_result, get_pipeline, prepare_text, read_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / ".." / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"
REFERENCE = ROOT / ".." / "shared" / "examples"


def whole_doc_result(text, doc_id=None):
    """The token-level path: every component on a Doc of the whole text."""
    nlp = get_pipeline()
    view = prepare_text(text)
    return doc_to_result(nlp(view.text), text, doc_id=doc_id, view=view).to_dict()


def sample_texts(step):
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    if not SAMPLE.exists():
        pytest.skip("ctgov sample not present")
    return [(r.text, r.id) for r in itertools.islice(iter_ctgov_jsonl(str(SAMPLE)), 0, None, step) if r.error is None]


def test_characters_first_equals_the_whole_doc_on_sample_studies():
    texts = sample_texts(step=20)  # 339 studies spread over the sample
    differing = [doc_id for text, doc_id in texts if read_text(get_pipeline(), text, doc_id).to_dict()
                 != whole_doc_result(text, doc_id)]
    assert differing == []


def test_characters_first_equals_the_whole_doc_on_annotated_documents():
    lct = ROOT / ".." / "shared" / "corpora" / "lct" / "dev"
    paths = sorted(lct.rglob("*.txt"))[::10] if lct.exists() else []
    if not paths:
        pytest.skip("LCT corpus not present")
    texts = [path.read_text(encoding="utf-8") for path in paths]
    assert [t for t in texts if extract(t) != whole_doc_result(t)] == []


def test_characters_first_equals_the_whole_doc_on_the_reference_record():
    files = sorted(REFERENCE.glob("*.txt")) if REFERENCE.exists() else []
    if not files:
        pytest.skip("reference record not present")
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert extract(text) == whole_doc_result(text)


def test_the_excerpt_holds_the_criteria_with_values_their_parents_and_no_other():
    text = ("Inclusion Criteria:\n"
            "  - Adequate organ function, defined as:\n"
            "      - Hemoglobin at least 9 g/dL\n"
            "      - No active infection\n"
            "  - Signed informed consent\n"
            "  - ECOG performance status 0-1\n")
    nlp = get_pipeline()
    view = prepare_text(text)
    reading = read_excerpt(nlp, view.text)
    kept = [c.id for c in reading.criteria if view.text[c.start:c.end] in reading.excerpt.text]
    assert kept == ["inc-1", "inc-1.1", "inc-3"]
    assert "informed consent" not in reading.excerpt.text and "infection" not in reading.excerpt.text
    assert SEPARATOR in reading.excerpt.text
    rules = [r["text"] for c in extract(text)["criteria"] for r in c["rules"]]
    assert rules == ["Hemoglobin at least 9 g/dL", "ECOG performance status 0-1"]


def test_excerpt_offsets_map_back_to_the_source():
    text = "- aa bb\n- cc 12 dd\n- ee ff\n- gg 3 hh\n"
    nlp = get_pipeline()
    criteria = criteria_in_text(text, [], nlp.tokenizer)
    keep = {c.id for c in criteria if any(ch.isdigit() for ch in text[c.start:c.end])}
    excerpt = excerpt_of(text, criteria, keep)
    assert excerpt.text == "cc 12 dd" + SEPARATOR + "gg 3 hh"
    for c in criteria:
        if c.id in keep:
            start = excerpt.from_source(c.start)
            assert excerpt.text[start:start + c.end - c.start] == text[c.start:c.end]
            assert excerpt.span_to_source(start, start + c.end - c.start) == (c.start, c.end)


def test_a_field_label_keeps_the_items_between_it_and_its_value():
    # PDQ layout: the label's name is the variable of a value two items below it
    text = ("PATIENT CHARACTERISTICS:\n\nAge:\n\n  -  See Disease Characteristics\n\n  -  21 and under\n\n"
            "Performance status:\n\n  -  Not specified\n")
    nlp = get_pipeline()
    view = prepare_text(text)
    reading = read_excerpt(nlp, view.text)
    assert "See Disease Characteristics" in reading.excerpt.text
    assert "Not specified" not in reading.excerpt.text
    assert extract(text) == whole_doc_result(text)


def test_headings_and_criteria_found_on_the_string_equal_the_components():
    texts = sample_texts(step=7)
    nlp = get_pipeline()
    sections, structure = nlp.get_pipe("criteria_sections"), nlp.get_pipe("criteria_structure")
    for text, doc_id in texts:
        view_text = prepare_text(text).text
        doc = structure(sections(nlp.make_doc(view_text)))
        headings = [(doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), c) for s, e, c in doc._.section_headings]
        assert sections.headings_in_text(view_text) == headings, doc_id
        assert criteria_in_text(view_text, headings, nlp.tokenizer) == [i for _, i in criteria_of(doc)], doc_id


@pytest.mark.parametrize("text", [
    "Bilirubin normal.  As of 10/19/90 only ECOG 0-1",  # a statement after two spaces: a space token
    "Bilirubin normal. As of 10/19/90 only ECOG 0-1",
    "1.Hemoglobin at least 9 g/dL\n2.Platelets at least 100,000/mm3",  # markers glued to the text
])
def test_criteria_boundaries_inside_runs_and_spaces_align_like_spacy(text):
    nlp = get_pipeline()
    doc = nlp.get_pipe("criteria_structure")(nlp.get_pipe("criteria_sections")(nlp.make_doc(text)))
    assert criteria_in_text(text, [], nlp.tokenizer) == [i for _, i in criteria_of(doc)]


def test_a_footnote_exception_reads_the_whole_text_and_ends_with_its_criterion():
    text = ("PATIENT CHARACTERISTICS: Age: 15 and over Performance status: ECOG 0-2 Life expectancy: Not\r\n"
            "        specified Hematopoietic: Absolute neutrophil count at least 500/mm3* Platelet count at\r\n"
            "        least 50,000/mm3* *Unless caused by marrow infiltration by tumor No congenital bleeding\r\n"
            "        disorder Hepatic: Bilirubin less than 2 times upper limit of normal (ULN)\r\n")
    nlp = get_pipeline()
    criteria = criteria_in_text(prepare_text(text).text, [], nlp.tokenizer)
    assert criteria_to_read(prepare_text(text).text, criteria, []) == {c.id for c in criteria}
    result = extract(text)
    assert result == whole_doc_result(text)
    platelets = [r for c in result["criteria"] for r in c["rules"] if r["variable"]["name"] == "platelet_count"]
    assert [k["text"] for k in platelets[0]["conditions"] if k["kind"] == "exception"] == \
        ["Unless caused by marrow infiltration by tumor"]


def test_a_rule_never_takes_words_of_the_next_criterion():
    # two paragraphs: the second's age must not start at the first's "older"
    text = "Men 60 years of age or older\n\nUnder 60 years of age\n"
    assert whole_doc_result(text) == extract(text)
    variables = [r["variable"]["text"] for c in extract(text)["criteria"] for r in c["rules"]]
    assert variables == ["60 years of age or older", "Under 60 years of age"]
    # run-in statements: the unknown name after a value stops at the statement's end
    text = ("DISEASE CHARACTERISTICS: Residual disease, if\r\n"
            "        present, must be bidimensionally measurable No mediastinal mass greater than 1/3 the\r\n"
            "        maximum chest diameter No infradiaphragmatic presentation No pericardial E lesions\r\n")
    assert whole_doc_result(text) == extract(text)
    names = [r["variable"]["name"] for c in extract(text)["criteria"] for r in c["rules"]]
    assert names == ["maximum chest diameter"]


def test_a_class_letter_of_the_lexicon_keeps_its_criterion():
    text = "Exclusion Criteria:\n  - Signed informed consent\n  - Liver dysfunction, child pugh B or worse\n"
    reading = read_excerpt(get_pipeline(), prepare_text(text).text)
    assert "child pugh B" in reading.excerpt.text and "consent" not in reading.excerpt.text
    rules = [(r["variable"]["name"], r["comparator"]) for c in extract(text)["criteria"] for r in c["rules"]]
    assert rules == [("child_pugh_score", ">=")] and extract(text) == whole_doc_result(text)


def test_the_excerpt_doc_keeps_quantities_as_values_not_span_extensions():
    # the excerpt's Doc is seen only by the components, which read the stored values: no span._.quantity
    text = "Inclusion Criteria:\n- Hemoglobin >= 9 g/dL\n- ECOG 0-1\n"
    reading = read_excerpt(get_pipeline(), prepare_text(text).text)
    spans = reading.doc._.quantities
    assert [reading.doc.text[s.start_char:s.end_char] for s in spans] == [">= 9 g/dL", "0-1"]
    assert [s._.quantity for s in spans] == [None, None]
    rules = [r for c in read_text(get_pipeline(), text).to_dict()["criteria"] for r in c["rules"]]
    assert [(r["variable"]["name"], r["comparator"], r["value"], r["value_high"]) for r in rules] == [
        ("hemoglobin", ">=", 9.0, None), ("ecog_performance_status", "between", 0.0, 1.0)]
