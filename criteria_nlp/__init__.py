"""criteria-nlp: numeric thresholds in clinical-trial eligibility criteria as JSON rules."""
from .models import SCHEMA_VERSION
from .pipeline import build_pipeline, extract, extract_many, get_pipeline, mask_markup, prepare_text

__all__ = ["SCHEMA_VERSION", "build_pipeline", "extract", "extract_many", "get_pipeline", "mask_markup", "prepare_text"]
__version__ = "0.1.0"
