"""criteria_context component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_context", default_config={})
def make_context(nlp: Language, name: str):
    return lambda doc: doc
