#!/usr/bin/env python
"""Write ``criteria_nlp/resources/variables.tokens.json``: the token texts of the lexicon's phrases.

::

    python scripts/build_lexicon_tokens.py [--check]

Tokenizes every phrase the variables component matches (terms, abbreviations, their subscript
spellings, the before-number phrases) with the project pipeline's tokenizer and stores them with
the tokenizer's fingerprint (``criteria_nlp.components._phrase_tokens``), so that building the
pipeline does not tokenize them again. Run it after editing ``variables.json`` or the tokenizer
rules (a stale file is still correct, only slower to start: the phrases it lacks are tokenized at
start-up, and a file made by another tokenizer is not used). ``--check`` exits 1 when the shipped
file is not what this script would write (a test does the same).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = ROOT / "criteria_nlp" / "resources" / "variables.tokens.json"


def build_document() -> str:
    """The file's text for the packaged lexicon and the project pipeline's tokenizer."""
    from criteria_nlp.components._phrase_tokens import tokenize_phrases, tokenizer_fingerprint
    from criteria_nlp.components.variables import lexicon_phrases
    from criteria_nlp.pipeline import build_pipeline

    nlp = build_pipeline(linker_model="none")
    phrases = sorted(set(lexicon_phrases(None)))
    tokens = tokenize_phrases(nlp.tokenizer, phrases)
    lines = [f"{json.dumps(p, ensure_ascii=False)}: {json.dumps(tokens[p], ensure_ascii=False)}" for p in phrases]
    return ('{"about": "token texts of the lexicon\'s phrases, written by scripts/build_lexicon_tokens.py",\n'
            f'"tokenizer_sha256": "{tokenizer_fingerprint(nlp.tokenizer)}",\n'
            '"tokens": {\n' + ",\n".join(lines) + "\n}}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped file is not current")
    args = parser.parse_args()
    text = build_document()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is not current: run python scripts/build_lexicon_tokens.py",
                  file=sys.stderr)
            return 1
        print(f"{TARGET.relative_to(ROOT)} is current")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {text.count(chr(10)) - 3} phrases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
