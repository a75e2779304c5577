"""Tokenizer rules for eligibility text.

spaCy's blank English tokenizer keeps ``≥80``, ``PLT<30*×10^9/L`` or ``(ANC)≥1.5`` as single
tokens. Criteria glue comparators, multiplication signs and units to numbers and names, so we add
infixes that split them off. Quantities themselves are parsed on characters (see
``criteria_nlp.quantities``); the tokens matter for the lexicon matcher and ConText.
"""
from __future__ import annotations

from spacy.language import Language
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

# Characters that always stand alone in criteria text.
_SPLIT_CHARS = r"≥≤≧≦⩾⩽<>=~×÷±^*/\\()\[\]{};:|•·▪◦"
_EXTRA_INFIXES = [
    rf"[{_SPLIT_CHARS}]",
    r"(?<=[0-9])(?=[^\W\d_])",  # 80g -> 80 g ; 10mg -> 10 mg
    r"(?<=[^\W\d_])(?=[0-9])",  # ANC1.5 -> ANC 1.5 ; x109 -> x 109
    r"(?<=[^\W\d_])[.,](?=[^\W\d_])",  # 'mg/dL,AST' ; 'A.B'
    r"(?<=[0-9])[-–—](?=[0-9])",  # 18-70
    r"(?<=[^\W\d_])[-–—](?=[0-9])",  # SLEDAI-2000 (hyphen before digits)
    r"(?<=[0-9%])[-–—](?=[^\W\d_])",
    r"(?<=%)[-–—~](?=[0-9])",
    r"(?<=[0-9]),(?=[^0-9])",
]
_EXTRA_AFFIXES = [rf"[{_SPLIT_CHARS}]", r"[-–—]", r"[.,]"]


def customize_tokenizer(nlp: Language) -> None:
    """Add the criteria infixes/prefixes/suffixes to ``nlp.tokenizer`` in place."""
    defaults = nlp.Defaults
    nlp.tokenizer.infix_finditer = compile_infix_regex(list(defaults.infixes) + _EXTRA_INFIXES).finditer
    nlp.tokenizer.prefix_search = compile_prefix_regex(list(defaults.prefixes) + _EXTRA_AFFIXES).search
    nlp.tokenizer.suffix_search = compile_suffix_regex(list(defaults.suffixes) + _EXTRA_AFFIXES).search
