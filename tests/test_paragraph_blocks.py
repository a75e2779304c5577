"""Paragraph structure of legacy registry text (lines written for these tests): a paragraph ends at
a blank line even when the next one is indented deeper, fields written one per paragraph are run-in
text, a unit in capitals after a value does not start a statement, and a multi-sentence paragraph
whose last sentence leads a list does not negate the list for its first word."""
from criteria_nlp import extract


def criteria(text):
    return [(c["id"], c["parent"], c["text"]) for c in extract(text)["criteria"]]


def rules(text):
    return [(r["text"], (r["variable"] or {}).get("name"), r["comparator"], r["value"], r["unit"], r["negated"])
            for c in extract(text)["criteria"] for r in c["rules"]]


HEADED_BLOCKS = ("      STUDY ENTRY REQUIREMENTS:\r\n\r\n"
                 "        FOR HEALTHY VOLUNTEERS:\r\n\r\n"
                 "        Aged 21 to 60 years.\r\n\r\n"
                 "        Body mass index below 30 kg/m2.\r\n")


def test_a_blank_line_ends_a_paragraph_however_deep_the_next_is_indented():
    texts = [t for _, _, t in criteria(HEADED_BLOCKS)]
    assert "STUDY ENTRY REQUIREMENTS:" in texts
    assert "Aged 21 to 60 years." in texts
    assert "Body mass index below 30 kg/m2." in texts


def test_the_items_under_an_upper_case_sub_header_are_its_children():
    by_text = {t: (i, p) for i, p, t in criteria(HEADED_BLOCKS)}
    header_id, _ = by_text["FOR HEALTHY VOLUNTEERS:"]
    assert by_text["Aged 21 to 60 years."][1] == header_id


FIELD_PARAGRAPHS = ("        Hepatic: Albumin at least 3.0 g/dL\r\n\r\n"
                    "        Renal: No chronic kidney disease Creatinine below 1.6 mg/dL No\r\n"
                    "        hematuria\r\n\r\n"
                    "        Cardiovascular: No heart failure\r\n")


def test_fields_one_per_paragraph_are_split_into_statements():
    texts = [t for _, _, t in criteria(FIELD_PARAGRAPHS)]
    assert "No chronic kidney disease" in texts
    assert "Creatinine below 1.6 mg/dL" in texts


def test_a_statement_after_a_negated_one_is_not_negated():
    found = rules(FIELD_PARAGRAPHS)
    assert ("Creatinine below 1.6 mg/dL", "serum_creatinine", "<", 1.6, "mg/dL", False) in found


def test_a_unit_in_capitals_stays_with_its_value_in_run_in_text():
    text = ("PATIENT CHARACTERISTICS: Hepatic: Bilirubin normal SGPT below 90 IU/L No cirrhosis "
            "Other: Prior irradiation no more than 30 Gy Pulmonary: FEV1 greater than 1.5 L/sec")
    found = {(name, comparator, value, unit) for _, name, comparator, value, unit, _ in rules(text)}
    assert ("alt", "<", 90.0, "[IU]/L") in found
    assert any(v == 30.0 and u == "Gy" for _, _, v, u in found)
    assert any(v == 1.5 for _, _, v, _ in found)


def test_a_value_in_mm_hg_ends_its_statement():
    text = "PATIENT CHARACTERISTICS: Cardiovascular: Resting blood pressure below 150/95 mm Hg No angina"
    texts = [t for _, _, t in criteria(text)]
    assert "Resting blood pressure below 150/95 mm Hg" in texts and "No angina" in texts


def test_only_a_one_sentence_header_negates_its_items():
    text = ("Inclusion Criteria:\r\n\r\n"
            "No response to two courses of standard therapy. Toxicity is defined as one of the following:\r\n"
            "  - Platelets below 40,000/mm3\r\n\r\n"
            "No history of the following:\r\n"
            "  - Ejection fraction below 35%\r\n")
    negated = {value: neg for _, _, _, value, _, neg in rules(text)}
    assert negated[40000.0] is False
    assert negated[35.0] is True


def test_an_exception_word_ends_the_scope_of_a_negation():
    for line, value in (("No heart failure unless ejection fraction at least 45%", 45.0),
                        ("No prior anthracycline other than doxorubicin less than 300 mg/m2", 300.0),
                        ("No restrictive lung disease (unless DLCO at least 55% predicted)", 55.0)):
        negated = {v: neg for _, _, _, v, _, neg in rules(line)}
        assert negated[value] is False, line
    negated = {v: neg for _, _, _, v, _, neg in rules("No patients with creatinine above 2.2 mg/dL")}
    assert negated[2.2] is True
