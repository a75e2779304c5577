"""spaCy components of criteria-nlp, one job each. Importing this package registers their factories
(declared in :mod:`criteria_nlp.factories`, which imports a component's module when it is built)."""
from .. import factories  # noqa: F401  (registers them)
