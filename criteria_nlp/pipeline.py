"""Building the pipeline and running it: the public ``extract`` entry points."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Iterator

import spacy
from spacy.language import Language

from .layout import TextView
from .contract import ExtractionResult
from .serialization import RESOURCES  # noqa: F401  (criteria_nlp.pipeline.RESOURCES, as documented)

# Registry markdown escapes a backslash before punctuation (`\>`, `\<`, `\^`, `\~`, `\*`, ...).
# We blank the backslash with a space: the text keeps its length, so every offset the
# pipeline computes on the masked text is also an offset into the original input.
_ESCAPABLE = set("\\`*_{}[]()#+-.!|<>^~=")


_MARKDOWN_MARKS = re.compile(r"\*\*|__|^[ \t]*#{1,6}(?=[ \t])", re.MULTILINE)


# look-alike glyphs of the signs the grammar reads: fraction and division slashes, small/full-width
# and modifier-letter comparators, full-width punctuation (one character each: offsets unchanged)
_LOOKALIKES = str.maketrans({"⁄": "/", "∕": "/", "＜": "<", "＞": ">", "˂": "<", "˃": ">", "﹤": "<", "﹥": ">",
                             "≦": "≤", "≧": "≥", "⩽": "≤", "⩾": "≥", "＝": "=",
                             # full-width punctuation of CJK text: "heart，New York Heart Association"
                             "，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "．": ".", "％": "%"})


# Symbol-font comparators read as Latin-1 (Word documents pasted into registries): "Age ³ 18 years",
# "bilirubin £1.5 times ULN" ("³" and "£" are the Symbol font's ≥ and ≤); not a cube ("mm³", "Â³")
# and not an amount of money ("receive £50")
_SYMBOL_FONT_AT_LEAST = re.compile(r"(?<![mÂ\d])³(?=[ \t]*[\dⅠ-Ⅻ])")
_SYMBOL_FONT_AT_MOST = re.compile(r"£(?=[ \t]*\d)")
_MONEY_BEFORE = re.compile(r"\b(?:pa(?:y|id|yment)|receiv\w*|reimburs\w*|vouchers?|compensat\w*|costs?|fees?|income|"
                           r"earn\w*|worth|prices?|GBP)\b[^.;:\n]{0,30}$", re.IGNORECASE)


# HTML character references of the signs, left in registry text by an export ("serum creatinine &lte; 2.0
# mg/dL", "ANC &gt; 1500"; "&lte;"/"&gte;" are a registry's own spellings of "&le;"/"&ge;"): the sign,
# padded with spaces to the reference's length
_HTML_SIGNS = {"lt": "<", "gt": ">", "le": "≤", "ge": "≥", "lte": "≤", "gte": "≥", "leq": "≤", "geq": "≥",
               "amp": "&", "plusmn": "±", "micro": "µ", "mu": "µ", "deg": "°", "times": "×", "nbsp": " "}
_HTML_REFERENCE = re.compile(r"&(" + "|".join(sorted(_HTML_SIGNS, key=len, reverse=True)) + r");", re.IGNORECASE)


def _html_signs(text: str) -> str:
    """``text`` with the HTML references of :data:`_HTML_SIGNS` written as their signs (same length)."""
    if "&" not in text:
        return text
    return _HTML_REFERENCE.sub(lambda m: _HTML_SIGNS[m.group(1).lower()].ljust(len(m.group())), text)


def _symbol_font_comparators(text: str) -> str:
    """``text`` with the Symbol font's ≥ and ≤ read as Latin-1 written as the signs (same length)."""
    if "³" in text:
        text = _SYMBOL_FONT_AT_LEAST.sub("≥", text)
    if "£" in text:
        text = _SYMBOL_FONT_AT_MOST.sub(
            lambda m: m.group() if _MONEY_BEFORE.search(text, max(0, m.start() - 60), m.start()) else "≤", text)
    return text


def mask_markup(text: str) -> str:
    """Blank markdown escape backslashes, bold marks and heading hashes, and write look-alike glyphs
    (the Symbol font's ≥ and ≤ read as Latin-1, HTML references such as ``&gte;``) as the signs they
    stand for (same length, offsets unchanged)."""
    text = _html_signs(_symbol_font_comparators(text.translate(_LOOKALIKES)))
    if "**" in text or "__" in text or "#" in text:
        text = _MARKDOWN_MARKS.sub(lambda m: " " * len(m.group()), text)
    if "\\" not in text:
        return text
    chars = list(text)
    i = 0
    n = len(chars)
    while i < n - 1:
        if chars[i] == "\\" and chars[i + 1] in _ESCAPABLE:
            chars[i] = " "
            i += 2
        else:
            i += 1
    return "".join(chars)


def prepare_text(text: str) -> TextView:
    """What the pipeline reads: ``text`` with markdown marks blanked and soft line wraps joined.

    ``view.text`` goes into the pipeline; ``doc_to_result(doc, text, view=view)`` maps the offsets
    back to ``text`` (see :func:`mask_markup` and :func:`criteria_nlp.layout.join_wraps`).
    """
    from .layout import join_wraps

    return join_wraps(mask_markup(text))


def build_pipeline(linker_model: str | None = "default") -> Language:
    """A fresh criteria-nlp pipeline on ``spacy.blank("en")`` (no model download).

    ``linker_model``: a model spec (``criteria_nlp.learning.model``): ``"default"`` (the packaged learned
    filter), None/``"none"`` (rules only) or a ``.skops`` path; a missing file raises
    ``ModelNotFoundError`` here. Every setting lives in ``nlp.config`` with no absolute path, so
    ``nlp.to_disk(d)`` / ``spacy.load(d)`` give the same pipeline.
    """
    from . import factories  # noqa: F401  (registers the factories where the entry points are not installed)
    from .tokenizer import TOKENIZER_NAME

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})
    nlp.add_pipe("criteria_sections")
    nlp.add_pipe("criteria_structure")
    nlp.add_pipe("criteria_quantities")
    nlp.add_pipe("criteria_variables")
    nlp.add_pipe("criteria_linker", config={"model": linker_model})
    nlp.add_pipe("criteria_conditions")
    nlp.add_pipe("criteria_context")
    nlp.add_pipe("criteria_normalizer")
    nlp.add_pipe("criteria_spans")
    nlp.get_pipe("criteria_linker").load_model()  # at build time, not inside the first document
    return nlp


def get_pipeline(linker_model: str | None = "default") -> Language:
    """The shared pipeline (built once per process and model spec)."""
    return _shared_pipeline(None if linker_model is None else str(linker_model))


@lru_cache(maxsize=4)
def _shared_pipeline(linker_model: str | None) -> Language:
    return build_pipeline(linker_model)


# the longest input accepted by default (``max_length=``, ``--max-length``); a text longer than the
# part length (``nlp.max_length`` unless given) is read in parts (criteria_nlp.parts)
MAX_TEXT_LENGTH = 10_000_000


class TextTooLongError(ValueError):
    """A text over the outer size limit (checked before any work)."""


def check_length(text: str, max_length: int) -> None:
    if len(text) > max_length:
        raise TextTooLongError(f"text has {len(text):,} characters, over the limit of {max_length:,} "
                               "(raise it with --max-length N, or max_length= in the Python API)")


def doc_to_result(doc, text: str, doc_id: str | None = None, path: str | None = None,
                  view: TextView | None = None) -> ExtractionResult:
    """Turn a processed Doc into the typed result; ``text`` is the original input and ``view`` what
    the Doc was made from (:func:`prepare_text`; None: a same-length text such as ``mask_markup(text)``)."""
    from .io.assemble import assemble_result

    return assemble_result(doc, text, doc_id=doc_id, path=path, view=view)


def _doc_input(nlp: Language, text: str):
    """``text`` for ``nlp``, tokenized here when it is over ``nlp.max_length`` (allowed by the caller)."""
    return nlp.tokenizer(text) if len(text) > nlp.max_length else text


def read_text(nlp: Language, text: str, doc_id: str | None = None, path: str | None = None) -> ExtractionResult:
    """The typed result of ``nlp`` on ``text`` (whose length the caller has checked).

    Our pipeline reads characters first (``criteria_nlp.excerpt``: spaCy sees only the criteria that
    can hold a rule); a pipeline of another shape runs on a Doc of the whole text. Both give the
    same result.
    """
    from .excerpt import is_excerptable, read_excerpt
    from .io.assemble import assemble_excerpt_result

    view = prepare_text(text)
    if is_excerptable(nlp):
        return assemble_excerpt_result(read_excerpt(nlp, view.text), text, doc_id=doc_id, path=path, view=view)
    return doc_to_result(nlp(_doc_input(nlp, view.text)), text, doc_id=doc_id, path=path, view=view)


def extract(text: str, doc_id: str | None = None, path: str | None = None, *,
            model: str | None = "default", max_length: int | None = None,
            part_length: int | None = None) -> dict[str, Any]:
    """Extract the threshold rules of one eligibility text as a JSON-ready dict.

    ``model``: the linker model spec (see ``build_pipeline``); ``max_length``: the longest text
    accepted (default :data:`MAX_TEXT_LENGTH`, 10,000,000 characters), longer ones raise
    ``TextTooLongError`` at once; ``part_length``: a longer text is read in parts of at most this
    many characters (default ``nlp.max_length``, 1,000,000), with the same result.
    """
    from .parts import read_in_parts

    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, got {type(text).__name__}")
    nlp = get_pipeline(model)
    check_length(text, max_length or MAX_TEXT_LENGTH)
    return read_in_parts(nlp, text, doc_id=doc_id, path=path, part_length=part_length).to_dict()


def extract_many(
    items: Iterable[tuple[str, str | None, str | None]],
    batch_size: int = 64,
    linker_model: str | None = "default",
    max_length: int | None = None,
    part_length: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Extract from many ``(text, doc_id, path)`` triples, in order (a generator: a text over the
    limit raises when its turn comes).

    ``linker_model``: the model spec (see ``build_pipeline``); ``max_length`` and ``part_length``
    as for ``extract``; ``batch_size``: kept for compatibility (texts are read one at a time,
    characters first).
    """
    from .parts import read_in_parts

    nlp = get_pipeline(linker_model)
    limit = max_length or MAX_TEXT_LENGTH
    for text, doc_id, path in items:
        check_length(text, limit)
        yield read_in_parts(nlp, text, doc_id=doc_id, path=path, part_length=part_length).to_dict()
