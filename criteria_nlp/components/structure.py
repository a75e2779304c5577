"""criteria_structure component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_structure", default_config={})
def make_structure(nlp: Language, name: str):
    return lambda doc: doc
