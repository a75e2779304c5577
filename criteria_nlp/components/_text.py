"""The text of a Doc, built once.

``Doc.text`` joins every token's text on each access; the components read it several times per
document, so it is cached in ``doc.user_data`` (a Doc's text never changes after tokenization).
The criteria tokenizer (``criteria_nlp.tokenizer.GuardedTokenizer``) stores the string it was
given, which saves even the first join.
"""
from spacy.tokens import Doc

_KEY = "criteria_nlp.text"


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(_KEY)
    if text is None:
        text = doc.user_data[_KEY] = doc.text
    return text


def remember_text(doc: Doc, text: str) -> Doc:
    """Record ``text`` as the text of ``doc`` (the caller guarantees ``doc.text == text``)."""
    doc.user_data[_KEY] = text
    return doc
