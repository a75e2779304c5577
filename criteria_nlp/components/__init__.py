"""spaCy components of criteria-nlp, one job each, registered as factories on import."""
from . import (  # noqa: F401
    conditions,
    context,
    linker,
    normalizer,
    quantities,
    sections,
    spans,
    structure,
    variables,
)
