"""The scanning regexes of the quantity grammar find exactly what the plain patterns find."""
from __future__ import annotations

import random
import re

import pytest

from criteria_nlp.quantities import grammar as G
from criteria_nlp.quantities.numbers import NUMBER_PATTERN, NUMBER_SCAN_PATTERN

PLAIN_ROMAN = re.compile(r"(?<![\w.])(?:VI|IV|V|III|II|I|[ⅠⅡⅢⅣⅤⅥ])(?![\w])")


def _plain_words() -> re.Pattern:
    words = G.lexicon().number_words
    return re.compile(rf"\b(?:{G._phrase_regex(words)})", re.IGNORECASE)


def _texts(n: int = 3000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = list("0123456789-−.,  \nabxXIVⅠⅡⅢⅣⅤⅥ_(:;") + ["ſ", "é", "٣"]
    chunks = ["one", "Two", "TWENTY-ONE", "seventy", "seventy-five", "ſix", "eighteen", "eight", "eighty",
              "half", "twice", "1,500.5", "1,5", ".5", "−2.5", "-3", "10", "III", "IV", "VI", "V.", "I", "x"]
    out = []
    for _ in range(n):
        parts = [rng.choice(chunks) if rng.random() < 0.3 else rng.choice(alphabet) for _ in range(rng.randint(1, 25))]
        out.append("".join(parts))
    return out


def _matches(rx: re.Pattern, text: str) -> list[tuple[tuple[int, int], str]]:
    return [(m.span(), m.group()) for m in rx.finditer(text)]


@pytest.mark.parametrize("scan, plain", [
    (re.compile(NUMBER_SCAN_PATTERN), re.compile(NUMBER_PATTERN)),
    (G._ROMAN, PLAIN_ROMAN),
    (G.lexicon().word_re, _plain_words()),
])
def test_scan_patterns_match_the_plain_ones(scan, plain):
    for text in _texts() + ["", "a1", "1", "x10", "ASA > II", "≥ twenty-one", "1.2.3", "5,000,00", "-.5", "Ⅲ."]:
        assert _matches(scan, text) == _matches(plain, text), text


def test_word_scan_covers_every_case_variant():
    """The leading class of the word scan holds all characters IGNORECASE matches with a first letter."""
    words = G.lexicon().number_words
    first = re.compile("[" + "".join(sorted({w[0] for w in words})) + "]", re.IGNORECASE)
    everything = "".join(map(chr, range(0x110000)))
    variants = set(first.findall(everything))
    lead = G.lexicon().word_re.pattern
    assert variants and all(c in lead.split("]", 1)[0] for c in variants)
