"""The variables component reads its phrases' token texts from ``variables.tokens.json`` instead of
tokenizing ~3,000 phrases at start-up: the file must be current, used only for the tokenizer that
made it, and give exactly the matches that tokenizing the phrases gives."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import spacy

from criteria_nlp.components import _phrase_tokens
from criteria_nlp.components._phrase_tokens import phrase_tokens, shipped_tokens, tokenize_phrases, tokenizer_fingerprint
from criteria_nlp.components.variables import lexicon_phrases
from criteria_nlp.pipeline import build_pipeline

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "ALT and AST <= 2.5 x ULN; alt text is not ALT. Hb >= 9 g/dL, PaO(2) > 60 mmHg, FEV_1 >= 50% predicted",
    "WHO 0-2 performance status; WHO grade III is not a score. ECOG 0-1, Karnofsky >= 70%",
    "Serum creatinine ≤1.5×ULN or creatinine clearance ≥60 mL/min (Cockcroft-Gault); 17β-estradiol < 20 pg/mL",
    "% predicted FEV1 >= 40, κ/λ ratio normal, γGT < 3 x ULN, QTcF <= 470 ms, LVEF ≥ 50%",
]


def _mentions(nlp, text: str) -> list[tuple[int, int, str]]:
    doc = nlp.get_pipe("criteria_variables")(nlp.make_doc(text))
    return [(s.start, s.end, s.label_) for s in doc._.variable_mentions]


def test_shipped_file_is_current():
    spec = importlib.util.spec_from_file_location("build_lexicon_tokens", ROOT / "scripts" / "build_lexicon_tokens.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.TARGET.read_text(encoding="utf-8") == script.build_document(), \
        "run python scripts/build_lexicon_tokens.py"


def test_the_pipeline_uses_the_file_and_matches_as_if_it_tokenized(monkeypatch):
    nlp = build_pipeline(linker_model="none")
    fingerprint, known = shipped_tokens()
    assert tokenizer_fingerprint(nlp.tokenizer) == fingerprint
    assert set(lexicon_phrases(None)) <= set(known)
    with_file = [_mentions(nlp, t) for t in TEXTS]
    assert all(with_file) and ("hemoglobin" in {m[2] for m in with_file[0]})
    # the same pipeline with the phrases tokenized at start-up, as before the file existed
    monkeypatch.setattr(_phrase_tokens, "shipped_tokens", lambda: (None, {}))
    tokenized = build_pipeline(linker_model="none")
    assert [_mentions(tokenized, t) for t in TEXTS] == with_file


def test_another_tokenizer_tokenizes_its_phrases():
    blank = spacy.blank("en")  # spaCy's own English tokenizer: no criteria infixes
    assert tokenizer_fingerprint(blank.tokenizer) != shipped_tokens()[0]
    phrases = lexicon_phrases(None)
    got = phrase_tokens(blank.tokenizer, phrases)
    assert got == tokenize_phrases(blank.tokenizer, phrases)
    assert got["17β-estradiol"] != shipped_tokens()[1]["17β-estradiol"]  # the criteria tokenizer splits it
    blank.add_pipe("criteria_variables")
    assert "hemoglobin" in {m[2] for m in _mentions(blank, TEXTS[0])}  # the component works on it


def test_a_phrase_missing_from_the_file_is_tokenized():
    nlp = build_pipeline(linker_model="none")
    got = phrase_tokens(nlp.tokenizer, ["hemoglobin", "a phrase not in the lexicon (x≥3)"])
    assert got["hemoglobin"] == ["hemoglobin"]
    assert got["a phrase not in the lexicon (x≥3)"] == ["a", "phrase", "not", "in", "the", "lexicon", "(", "x", "≥", "3", ")"]


def test_a_tokenizer_without_to_bytes_has_no_fingerprint():
    assert tokenizer_fingerprint(str.split) is None
