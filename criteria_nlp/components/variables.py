"""criteria_variables component (placeholder while the pipeline is written)."""
from spacy.language import Language


@Language.factory("criteria_variables", default_config={})
def make_variables(nlp: Language, name: str):
    return lambda doc: doc
