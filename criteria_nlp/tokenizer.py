"""Tokenizer rules for eligibility text.

spaCy's blank English tokenizer keeps ``≥80``, ``PLT<30*×10^9/L`` or ``(ANC)≥1.5`` as single
tokens. Criteria glue comparators, multiplication signs and units to numbers and names, so we add
infixes that split them off. Quantities themselves are parsed on characters (see
``criteria_nlp.quantities``); the tokens matter for the lexicon matcher and ConText.
"""
from __future__ import annotations

import re

from spacy.language import Language
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

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
    r"(?<=[0-9])\.(?=[^\W\d_])",  # list numbers glued to the item: '4.ECOG performance status'
]
_EXTRA_AFFIXES = [rf"[{_SPLIT_CHARS}]", r"[-–—]", r"[.,]"]


def customize_tokenizer(nlp: Language) -> None:
    """Add the criteria infixes/prefixes/suffixes to ``nlp.tokenizer`` in place."""
    _add_criteria_affixes(nlp.tokenizer, nlp.Defaults)


def _criteria_affixes(defaults) -> dict:
    return {"infix_finditer": compile_infix_regex(list(defaults.infixes) + _EXTRA_INFIXES).finditer,
            "prefix_search": compile_prefix_regex(list(defaults.prefixes) + _EXTRA_AFFIXES).search,
            "suffix_search": compile_suffix_regex(list(defaults.suffixes) + _EXTRA_AFFIXES).search}


def _add_criteria_affixes(tokenizer, defaults) -> None:
    for name, value in _criteria_affixes(defaults).items():
        setattr(tokenizer, name, value)  # each assignment reloads the special cases


def _criteria_tokenizer(nlp: Language):
    """A spaCy Tokenizer with the language's exceptions and the criteria affixes, built once (the
    default factory's affixes replaced afterwards would compile and load everything twice)."""
    from spacy.tokenizer import Tokenizer

    defaults = nlp.Defaults
    return Tokenizer(nlp.vocab, rules=defaults.tokenizer_exceptions, token_match=defaults.token_match,
                     url_match=defaults.url_match, **_criteria_affixes(defaults))


# spaCy strips suffixes one at a time and each ``suffix_search`` ('...$') scans the whole rest of
# the chunk: a long whitespace-free run of affix characters ('((((...', '<>=<>=...') costs O(n^2)
# (4,000 characters took 6 s). The guard cuts such runs into pieces of at most MAX_RUN characters,
# tokenizes each piece and glues the Docs back: doc.text == text always, and texts without such a
# run are tokenized exactly as before.
MAX_RUN = 64
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))


def _has_long_run(text: str) -> bool:
    """``_LONG_RUN.search(text)``, twice as fast: str.split() and re's \\s agree on what is a space
    (both use Py_UNICODE_ISSPACE)."""
    return max(map(len, text.split()), default=0) > MAX_RUN


class GuardedTokenizer:
    def __init__(self, tokenizer, max_run: int = MAX_RUN):
        self.tokenizer = tokenizer
        self.max_run = max_run

    def __getattr__(self, name):  # vocab, rules, explain, to_disk, ... of the real tokenizer
        return getattr(self.tokenizer, name)

    def __call__(self, text: str):
        from .components._text import remember_text  # the Doc's text is ``text``: no join later

        return remember_text(self._tokenize(text), text)

    def _tokenize(self, text: str):
        if not _has_long_run(text):
            return self.tokenizer(text)
        from spacy.tokens import Doc

        pieces, pos = [], 0
        for m in _LONG_RUN.finditer(text):
            if m.start() > pos:
                pieces.append(text[pos:m.start()])
            run = m.group()
            pieces.extend(run[i:i + self.max_run] for i in range(0, len(run), self.max_run))
            pos = m.end()
        if pos < len(text):
            pieces.append(text[pos:])
        return Doc.from_docs([self.tokenizer(p) for p in pieces], ensure_whitespace=False)


def guard_tokenizer(nlp: Language) -> None:
    """Call after customize_tokenizer(nlp)."""
    if not isinstance(nlp.tokenizer, GuardedTokenizer):
        nlp.tokenizer = GuardedTokenizer(nlp.tokenizer)


TOKENIZER_NAME = "criteria_nlp.tokenizer.v1"


@registry.tokenizers(TOKENIZER_NAME)
def create_criteria_tokenizer(max_run: int = MAX_RUN):
    """The criteria tokenizer (affixes + guard) for ``[nlp.tokenizer]`` in a config.

    ``@tokenizers = "criteria_nlp.tokenizer.v1"`` in a saved pipeline's ``config.cfg`` rebuilds it
    on ``spacy.load`` (also found through the ``spacy_tokenizers`` entry point).
    """

    def make_tokenizer(nlp: Language) -> GuardedTokenizer:
        return GuardedTokenizer(_criteria_tokenizer(nlp), max_run)

    return make_tokenizer
