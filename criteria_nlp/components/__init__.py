"""spaCy components of criteria-nlp, one job each, registered as factories."""
from . import conditions, context, linker, normalizer, quantities, sections, structure, variables  # noqa: F401

register_all = True
