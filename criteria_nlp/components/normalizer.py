"""criteria_normalizer component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_normalizer", default_config={})
def make_normalizer(nlp: Language, name: str):
    return lambda doc: doc
