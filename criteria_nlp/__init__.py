"""criteria-nlp: numeric thresholds in clinical-trial eligibility criteria as JSON rules.

The public functions are imported on first use (PEP 562), so ``import criteria_nlp`` and
``criteria-nlp --help`` do not load spaCy (nor the output data model: spaCy imports this package at
every ``Language()`` through the entry points, see ``criteria_nlp.factories``).
"""
__all__ = ["SCHEMA_VERSION", "build_pipeline", "extract", "extract_many", "get_pipeline", "mask_markup", "prepare_text",
           "to_frame"]
__version__ = "0.1.0"

_FROM_PIPELINE = frozenset({"build_pipeline", "extract", "extract_many", "get_pipeline", "mask_markup", "prepare_text"})
_FROM_FLAT = frozenset({"to_frame"})  # flat rule tables (pandas/pyarrow imported on call)


def __getattr__(name: str):
    if name == "SCHEMA_VERSION":
        from .contract import SCHEMA_VERSION

        return SCHEMA_VERSION
    if name in _FROM_PIPELINE:
        from . import pipeline

        return getattr(pipeline, name)
    if name in _FROM_FLAT:
        from . import flat

        return getattr(flat, name)
    raise AttributeError(f"module 'criteria_nlp' has no attribute {name!r}")
