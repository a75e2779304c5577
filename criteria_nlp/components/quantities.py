"""criteria_quantities component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_quantities", default_config={})
def make_quantities(nlp: Language, name: str):
    return lambda doc: doc
