"""Finding and loading the learned linker model (scikit-learn, stored with skops).

The trained model ships inside the package: ``criteria_nlp/resources/linker.skops`` (written there
by ``scripts/train_linker.py``; its model card and metrics stay in ``models/``). A model is named
by a *model spec*:

- ``"default"``: the packaged model; a build without it fails loudly (no silent rules-only run);
- ``None`` or ``"none"``: no model, rules only (``confidence`` is null);
- anything else: the path of a ``.skops`` file, which must exist.

skops loads only the types it trusts; see models/README.md for the trust boundary. skops and
scikit-learn are imported only when a model is loaded.
"""
from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "resources" / "linker.skops"


class ModelNotFoundError(FileNotFoundError):
    """A requested linker model file does not exist (the message says which and what to do)."""


def model_path(model: str | Path | None) -> Path | None:
    """The file a model spec names (None for rules only); raises ModelNotFoundError when missing."""
    if model is None or str(model).lower() == "none":
        return None
    if model == "default":
        if not DEFAULT_MODEL.is_file():
            raise ModelNotFoundError(f"the packaged linker model is missing ({DEFAULT_MODEL}): reinstall "
                                     "criteria-nlp, or ask for rules only with model none")
        return DEFAULT_MODEL
    path = Path(model)
    if not path.is_file():
        raise ModelNotFoundError(f"linker model not found: {path}")
    return path


def load_linker_model(model: str | Path | None):
    """The scikit-learn model a model spec names, or None for rules only."""
    path = model_path(model)
    if path is None:
        return None
    from skops.io import get_untrusted_types, load

    untrusted = get_untrusted_types(file=path)
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if len(allowed) != len(untrusted):
        raise ValueError(f"linker model {path} contains untrusted types: {sorted(set(untrusted) - set(allowed))}")
    return load(path, trusted=allowed)
