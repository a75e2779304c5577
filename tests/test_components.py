"""The components as another team would use them: add_pipe into their own blank pipeline."""
import spacy

import criteria_nlp.components  # noqa: F401
import criteria_nlp.pipeline
from criteria_nlp.tokenizer import customize_tokenizer


def test_readme_pipeline_assembly_runs():
    nlp = spacy.blank("en")
    customize_tokenizer(nlp)
    for name in ("criteria_sections", "criteria_structure", "criteria_quantities", "criteria_variables",
                 "criteria_linker", "criteria_conditions"):
        nlp.add_pipe(name)
    nlp.add_pipe("criteria_context", config={"rules": str(criteria_nlp.pipeline.RESOURCES / "context_rules.json")})
    nlp.add_pipe("criteria_normalizer")
    doc = nlp("Exclusion Criteria:\n1. Hemoglobin < 9 g/dL\n2. ALT, AST > 3 x ULN")
    assert [c._.criterion_id for c in doc._.criteria] == ["exc-1", "exc-2"]
    rules = doc._.rules
    assert [r.variable.name for r in rules["exc-2"]] == ["alt", "ast"]
    (hb,) = rules["exc-1"]
    assert (hb.comparator, hb.value, hb.unit, hb.normalized.value, hb.normalized.unit) == ("<", 9, "g/dL", 90, "g/L")


def test_quantities_and_variables_work_alone():
    nlp = spacy.blank("en")
    customize_tokenizer(nlp)
    nlp.add_pipe("criteria_quantities")
    nlp.add_pipe("criteria_variables")
    doc = nlp("Platelets ≥100,000/mm3 and creatinine clearance ≥ 60 mL/min")
    got = [(s._.quantity.comparator, s._.quantity.value, s._.quantity.unit) for s in doc._.quantities]
    assert got == [(">=", 100000, "/mm3"), (">=", 60, "mL/min")]
    assert [s._.variable_entry.name for s in doc._.variable_mentions] == ["platelet_count", "creatinine_clearance"]


def test_medspacy_sectionizer_can_replace_criteria_sections():
    import medspacy  # noqa: F401

    nlp = spacy.blank("en")
    customize_tokenizer(nlp)
    nlp.add_pipe("medspacy_sectionizer", config={
        "rules": str(criteria_nlp.pipeline.RESOURCES / "sections.json"), "require_start_line": True, "span_attrs": None})
    nlp.add_pipe("criteria_structure")
    doc = nlp("Inclusion Criteria:\n- Age ≥ 18\nExclusion Criteria:\n- Pregnancy")
    assert [(c._.criterion_id, c._.criterion_section) for c in doc._.criteria] == [
        ("inc-1", "inclusion"), ("exc-1", "exclusion")]


def test_context_by_sentence_gives_the_same_negation_as_medspacy_on_the_whole_doc():
    from pathlib import Path

    from criteria_nlp.pipeline import build_pipeline, mask_markup

    reference = (Path(__file__).resolve().parents[1] / "corpora" / "examples" / "NCT06852573.criteria.txt").read_text()
    texts = [reference,
             "Exclusion Criteria:\n- No history of hemoglobin < 9 g/dL. Patients without ALT > 3 x ULN.\n"
             "- Possible future creatinine > 2 mg/dL; not eligible if platelets < 50 x 10^9/L",
             "Inclusion Criteria:\n1. Age ≥ 18 years\n2. Denies SBP > 160 mmHg"]
    nlp = build_pipeline(linker_model=None)
    ctx = nlp.get_pipe("criteria_context")
    for text in texts:
        doc = nlp(mask_markup(text))
        by_sentence = [(r.id, r.negated, r.hypothetical) for rs in doc._.rules.values() for r in rs]
        whole = nlp.make_doc(mask_markup(text))
        for name, proc in nlp.pipeline:
            if name != "criteria_context":
                whole = proc(whole)
                continue
            ctx.context(whole)  # medspaCy's own call over the whole document
            for span in whole.spans["criteria_rules"]:
                span._.rule.negated = bool(span._.is_negated)
                span._.rule.hypothetical = bool(span._.is_hypothetical)
        assert by_sentence == [(r.id, r.negated, r.hypothetical) for rs in whole._.rules.values() for r in rs]
    negated = [r for rs in nlp(mask_markup(texts[1]))._.rules.values() for r in rs if r.negated]
    assert negated  # the check above compared real negations
