"""Token texts of the lexicon's phrases, without tokenizing them at start-up.

The variables component matches ~3,000 lexicon phrases. Tokenizing them with the pipeline's
tokenizer at every start cost about 0.1 CPU-s (affix rules and new lexemes for every phrase). The
token texts only depend on the phrase and on the tokenizer, so they are shipped, computed once,
in ``resources/variables.tokens.json`` together with a fingerprint of the tokenizer that made
them (the SHA-256 of ``tokenizer.to_bytes(exclude=["vocab"])``: its affix rules, special cases and
token/URL patterns, plus the long-run guard's ``max_run``). A pipeline whose tokenizer has
another fingerprint (a user's own pipeline, another spaCy version) or a phrase not in the file (a
custom lexicon, an edited one) is tokenized as before, so the token texts are always those the
pipeline's tokenizer gives. ``scripts/build_lexicon_tokens.py`` writes the file (``--check``: exit 1
when it is not current; a test does the same).
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

TOKENS_FILENAME = "variables.tokens.json"


def tokenizer_fingerprint(tokenizer: Any) -> str | None:
    """What decides how ``tokenizer`` splits a phrase, as a SHA-256; None for a tokenizer that
    cannot serialise itself (its phrases are always tokenized)."""
    to_bytes = getattr(tokenizer, "to_bytes", None)
    if to_bytes is None:
        return None
    try:
        data = to_bytes(exclude=["vocab"])
    except Exception:  # a custom tokenizer with another signature: no shortcut
        return None
    digest = hashlib.sha256(data)
    digest.update(f"max_run={getattr(tokenizer, 'max_run', None)}".encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def shipped_tokens() -> tuple[str | None, dict[str, list[str]]]:
    """(tokenizer fingerprint, phrase -> token texts) of the packaged file; (None, {}) without it."""
    source = resources.files("criteria_nlp.resources").joinpath(TOKENS_FILENAME)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    return data.get("tokenizer_sha256"), data.get("tokens") or {}


def phrase_tokens(tokenizer: Any, phrases: Iterable[str]) -> dict[str, list[str]]:
    """``phrase -> token texts`` as ``tokenizer`` splits each phrase: from the shipped file when
    it was made by the same tokenizer, the other phrases tokenized here."""
    wanted = list(dict.fromkeys(phrases))
    fingerprint, known = shipped_tokens()
    if fingerprint is None or fingerprint != tokenizer_fingerprint(tokenizer):
        known = {}
    out = {p: known[p] for p in wanted if p in known}
    missing = [p for p in wanted if p not in out]
    if missing:
        out.update(tokenize_phrases(tokenizer, missing))
    return out


def tokenize_phrases(tokenizer: Any, phrases: list[str]) -> dict[str, list[str]]:
    """``phrase -> token texts``, tokenized now (``Tokenizer.pipe`` when the tokenizer has it)."""
    pipe = getattr(tokenizer, "pipe", None)
    docs = pipe(phrases) if pipe is not None else map(tokenizer, phrases)
    return {phrase: [t.text for t in doc] for phrase, doc in zip(phrases, docs)}
