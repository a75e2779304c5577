"""Loading the optional learned linker model (scikit-learn, stored with skops).

``load_linker_model(None)`` → rules only. ``"default"`` → ``models/linker.skops`` next to the
package sources when it exists, else rules only. A path → that file (skops loads only the types it
trusts; see models/README.md for the trust boundary).
"""
from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "linker.skops"


def load_linker_model(model: str | None):
    if model is None:
        return None
    path = DEFAULT_MODEL if model == "default" else Path(model)
    if not path.exists():
        if model == "default":
            return None
        raise FileNotFoundError(f"linker model not found: {path}")
    from skops.io import get_untrusted_types, load

    untrusted = get_untrusted_types(file=path)
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if len(allowed) != len(untrusted):
        raise ValueError(f"linker model {path} contains untrusted types: {sorted(set(untrusted) - set(allowed))}")
    return load(path, trusted=allowed)
