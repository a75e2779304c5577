"""spaCy components of criteria-nlp, one job each, registered as factories."""
from . import conditions, context, linker, normalizer, quantities, structure, variables  # noqa: F401

register_all = True
