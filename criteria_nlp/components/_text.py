"""The text of a Doc, built once.

``Doc.text`` joins every token's text on each access; the components read it several times per
document, so it is cached in ``doc.user_data`` (a Doc's text never changes after tokenization).
"""
from spacy.tokens import Doc

_KEY = "criteria_nlp.text"


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(_KEY)
    if text is None:
        text = doc.user_data[_KEY] = doc.text
    return text
