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
