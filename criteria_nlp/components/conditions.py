"""criteria_conditions component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_conditions", default_config={})
def make_conditions(nlp: Language, name: str):
    return lambda doc: doc
