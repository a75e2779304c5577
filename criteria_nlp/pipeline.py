"""Building the pipeline and running it: the public ``extract`` entry points."""
from __future__ import annotations

import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import spacy
from spacy.language import Language

from .layout import TextView
from .models import ExtractionResult

RESOURCES = Path(__file__).parent / "resources"

# Registry markdown escapes a backslash before punctuation (`\>`, `\<`, `\^`, `\~`, `\*`, ...).
# We blank the backslash with a space: the text keeps its length, so every offset the
# pipeline computes on the masked text is also an offset into the original input.
_ESCAPABLE = set("\\`*_{}[]()#+-.!|<>^~=")


_MARKDOWN_MARKS = re.compile(r"\*\*|__|^[ \t]*#{1,6}(?=[ \t])", re.MULTILINE)


# look-alike glyphs of the signs the grammar reads: fraction and division slashes, small/full-width
# and modifier-letter comparators (one character each: offsets unchanged)
_LOOKALIKES = str.maketrans({"⁄": "/", "∕": "/", "＜": "<", "＞": ">", "˂": "<", "˃": ">", "﹤": "<", "﹥": ">",
                             "≦": "≤", "≧": "≥", "⩽": "≤", "⩾": "≥", "＝": "="})


def mask_markup(text: str) -> str:
    """Blank markdown escape backslashes, bold marks and heading hashes, and write look-alike glyphs
    as the signs they stand for (same length, offsets unchanged)."""
    text = text.translate(_LOOKALIKES)
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
    """A fresh criteria-nlp pipeline on ``spacy.blank("en")`` (no model download)."""
    from . import components  # noqa: F401  (registers the factories)
    from .tokenizer import customize_tokenizer, guard_tokenizer

    # medspaCy's matchers hold only phrase rules here; their empty token Matcher warns on every call
    warnings.filterwarnings("ignore", message=r".*\[W036\]")

    nlp = spacy.blank("en")
    customize_tokenizer(nlp)
    guard_tokenizer(nlp)
    nlp.add_pipe("criteria_sections", config={"rules": str(RESOURCES / "sections.json")})
    nlp.add_pipe("criteria_structure")
    nlp.add_pipe("criteria_quantities")
    nlp.add_pipe("criteria_variables")
    nlp.add_pipe("criteria_linker", config={"model": linker_model})
    nlp.add_pipe("criteria_conditions")
    nlp.add_pipe("criteria_context", config={"rules": str(RESOURCES / "context_rules.json")})
    nlp.add_pipe("criteria_normalizer")
    return nlp


@lru_cache(maxsize=4)
def get_pipeline(linker_model: str | None = "default") -> Language:
    """The shared pipeline (built once per process)."""
    return build_pipeline(linker_model)


def doc_to_result(doc, text: str, doc_id: str | None = None, path: str | None = None,
                  view: TextView | None = None) -> ExtractionResult:
    """Turn a processed Doc into the typed result; ``text`` is the original input and ``view`` what
    the Doc was made from (:func:`prepare_text`; None: a same-length text such as ``mask_markup(text)``)."""
    from .io.assemble import assemble_result

    return assemble_result(doc, text, doc_id=doc_id, path=path, view=view)


def extract(text: str, doc_id: str | None = None, path: str | None = None) -> dict[str, Any]:
    """Extract the threshold rules of one eligibility text as a JSON-ready dict."""
    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, got {type(text).__name__}")
    nlp = get_pipeline()
    view = prepare_text(text)
    return doc_to_result(nlp(view.text), text, doc_id=doc_id, path=path, view=view).to_dict()


def extract_many(
    items: Iterable[tuple[str, str | None, str | None]],
    batch_size: int = 64,
    linker_model: str | None = "default",
) -> Iterator[dict[str, Any]]:
    """Extract from many ``(text, doc_id, path)`` triples with ``nlp.pipe`` batching, in order.

    ``linker_model``: ``"default"`` (the shipped learned filter when present), None (rules only) or
    a model path.
    """
    nlp = get_pipeline(linker_model)

    def masked():
        for text, doc_id, path in items:
            view = prepare_text(text)
            yield view.text, (text, doc_id, path, view)

    for doc, (text, doc_id, path, view) in nlp.pipe(masked(), as_tuples=True, batch_size=batch_size):
        yield doc_to_result(doc, text, doc_id=doc_id, path=path, view=view).to_dict()
