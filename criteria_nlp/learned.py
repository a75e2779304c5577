"""Finding and loading the learned linker model (scikit-learn, stored with skops).

The trained model ships inside the package: ``criteria_nlp/resources/linker.skops`` (written there
by ``scripts/train_linker.py``; its model card and metrics stay in ``models/``). A model is named
by a *model spec*:

- ``"default"``: the packaged model; a build without it fails loudly (no silent rules-only run);
- ``None`` or ``"none"``: no model, rules only (``confidence`` is null);
- anything else: the path of a ``.skops`` file, which must exist.

skops loads only the types it trusts; see models/README.md for the trust boundary.

**The linear filter.** The shipped model is a DictVectorizer → LogisticRegression pipeline: its
whole prediction is the logistic of a sum of feature weights. ``scripts/train_linker.py`` writes
those weights beside the ``.skops`` file (``linker.weights.json``, with the SHA-256 of the
``.skops`` file they were read from), and :func:`load_linker_model` returns a :class:`LinearFilter`
from them when the hash matches: extraction then never imports scikit-learn, scipy or skops
(about 3 s of CPU and 160 MB of start-up per process, measured with ``scripts/bench_startup.py``).
A ``.skops`` file without matching weights (another model, or weights from an older file) is loaded
with skops as before. The probabilities are the same (a test compares them).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "resources" / "linker.skops"
WEIGHTS_FORMAT = "criteria-nlp linear filter"


@dataclass(frozen=True)
class LinearFilter:
    """The learned filter as weights: P = logistic(intercept + sum of the weights of a row's
    features, DictVectorizer-encoded: ``key`` for numbers and booleans, ``key<separator>value`` for
    strings and the items of lists)."""

    weights: dict[str, float]
    separator: str
    intercept: float

    def predict_probability(self, rows: list[dict]) -> list[float]:
        return [1.0 / (1.0 + math.exp(-self.score(row))) for row in rows]

    def score(self, row: dict) -> float:
        table, separator = self.weights, self.separator
        score = self.intercept
        for key, value in row.items():
            if value is True:
                score += table.get(key, 0.0)  # coefficient * 1.0
            elif value is False:
                continue  # coefficient * 0.0: adding it changes no finite sum (at most the sign of a zero)
            elif isinstance(value, str):
                score += table.get(f"{key}{separator}{value}", 0.0)
            elif isinstance(value, (list, tuple, set, frozenset)):
                for item in value:
                    score += table.get(f"{key}{separator}{item}", 0.0)
            else:
                score += table.get(key, 0.0) * float(value)
        return score


def linear_filter_of(model) -> LinearFilter | None:
    """The weights of a scikit-learn DictVectorizer → binary linear model pipeline (steps ``vec`` and
    ``clf``); None for any other model."""
    steps = getattr(model, "named_steps", {})
    vec, clf = steps.get("vec"), steps.get("clf")
    if vec is None or clf is None or not hasattr(clf, "coef_") or len(getattr(clf, "classes_", ())) != 2:
        return None
    return LinearFilter(dict(zip(vec.feature_names_, (float(c) for c in clf.coef_[0]))), vec.separator,
                        float(clf.intercept_[0]))


def weights_path(model_file: Path) -> Path:
    """Where the weights of a ``.skops`` file live: ``linker.skops`` → ``linker.weights.json``."""
    return model_file.with_name(model_file.name.removesuffix(".skops") + ".weights.json")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_linear_weights(model, model_file: Path) -> Path | None:
    """Write the weights of ``model`` (saved in ``model_file``) beside it; None when it is not linear."""
    linear = linear_filter_of(model)
    if linear is None:
        return None
    out = weights_path(model_file)
    out.write_text(json.dumps({"format": WEIGHTS_FORMAT, "version": 1, "source": model_file.name,
                               "source_sha256": file_sha256(model_file), "separator": linear.separator,
                               "intercept": linear.intercept, "weights": linear.weights},
                              indent=0, sort_keys=True), encoding="utf-8")
    return out


def _matching_weights(model_file: Path) -> LinearFilter | None:
    """The weights beside ``model_file``, if they were read from this very file."""
    path = weights_path(model_file)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != WEIGHTS_FORMAT or data.get("source_sha256") != file_sha256(model_file):
        return None
    return LinearFilter({str(k): float(v) for k, v in data["weights"].items()}, str(data["separator"]),
                        float(data["intercept"]))


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
    """The model a model spec names: its :class:`LinearFilter` when the weights beside the file
    match it, else the scikit-learn model loaded with skops; None for rules only."""
    path = model_path(model)
    if path is None:
        return None
    linear = _matching_weights(path)
    if linear is not None:
        return linear
    from skops.io import get_untrusted_types, load

    untrusted = get_untrusted_types(file=path)
    allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy."))]
    if len(allowed) != len(untrusted):
        raise ValueError(f"linker model {path} contains untrusted types: {sorted(set(untrusted) - set(allowed))}")
    return load(path, trusted=allowed)
