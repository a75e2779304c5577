"""The one error type of the OMOP tools (its message is one line for the user), and the check
that the optional ``omop`` extra is installed."""
from __future__ import annotations

import importlib
from types import ModuleType


class OmopError(Exception):
    """A problem with an input, the database or an option; ``str(e)`` is one line."""


def require(module: str) -> ModuleType:
    """Import ``module`` from the ``omop`` extra, or raise :class:`OmopError` saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OmopError(
            f"this command needs the 'omop' extra ({module} is not installed): "
            "pip install 'criteria-nlp[omop]'"
        ) from None
