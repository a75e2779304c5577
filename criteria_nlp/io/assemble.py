"""Assemble the typed result from a processed Doc (placeholder)."""
from ..models import ExtractionResult


def assemble_result(doc, text, doc_id=None, path=None):
    return ExtractionResult(doc_id, path, [])
