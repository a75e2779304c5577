"""Tests of the learned linker filter: features, the shipped model, the trust check, training."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from criteria_nlp.components.linker import _Target
from criteria_nlp.evaluation.command import resolve_corpus_dir
from criteria_nlp.learning.model import DEFAULT_MODEL, LinearFilter, load_linker_model
from criteria_nlp.learning.features import unit_features
from criteria_nlp.quantities.grammar import find_quantities

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"
LCT_DIR = resolve_corpus_dir()

TEXT = "Hemoglobin (Hb) ≥ 80 g/L; age 18 to 70 years (inclusive); ALT ≤ 2.5 x ULN; since 2015"


class _Entry:  # stands in for a lexicon VariableEntry
    name = "hemoglobin"


def _targets(text):
    hb = _Target(0, 10, "hemoglobin", "lab", None, "g/L", _Entry())
    age = _Target(26, 29, "age", "demographic", None, "a", None)
    unknown = _Target(text.index("since"), text.index("since") + 5, "since", None, None, None, None)
    return hb, age, unknown


def _check_row(row):
    assert row
    for k, v in row.items():
        assert isinstance(k, str)
        assert isinstance(v, (str, bool, float)), (k, v)
        if isinstance(v, float):
            assert math.isfinite(v)


def test_features_on_real_quantities():
    qs = find_quantities(TEXT)
    assert len(qs) >= 3
    hb, age, unknown = _targets(TEXT)
    rows = []
    for q, targets in zip(qs, ([hb], [age], [unknown, None], [unknown])):
        row = unit_features(TEXT, 0, len(TEXT), q, targets, "inclusion")
        _check_row(row)
        assert row == unit_features(TEXT, 0, len(TEXT), q, list(targets), "inclusion")  # deterministic
        rows.append(row)
    r0 = rows[0]
    assert r0["cmp"] == ">=" and r0["form"] == "symbol" and r0["has_unit"] is True
    assert r0["t_kind"] == "lexicon" and r0["t_before"] is True and r0["t_unit_eq"] is True
    assert r0["section"] == "inclusion" and r0["w-1"] == "hb"
    assert rows[1]["cmp"] == "between" and rows[1]["has_high"] is True and rows[1]["t_kind"] == "age"
    assert rows[2]["rel"] == "ULN" and rows[2]["t_kind"] == "unknown"
    # no targets, no section: still a complete row
    row = unit_features(TEXT, 0, len(TEXT), qs[0], [], None)
    _check_row(row)
    assert row["t_kind"] == "none" and row["section"] == "none"


def test_features_year_like_number():
    from criteria_nlp.quantities.grammar import Quantity

    text = "Diagnosed after 2015"
    q = Quantity(start=10, end=20, comparator=">", value=2015.0, value_start=16, value_end=20,
                 comparator_form="word", comparator_start=10)
    row = unit_features(text, 0, len(text), q, [], "exclusion")
    _check_row(row)
    assert row["yearlike"] is True and row["w-1"] == "diagnosed" and row["at_end"] is True


def _model_path() -> Path:
    if not DEFAULT_MODEL.exists():
        pytest.skip("models/linker.skops is not shipped")
    return DEFAULT_MODEL


def _skops_model(path: Path):
    from skops.io import get_untrusted_types, load

    return load(path, trusted=get_untrusted_types(file=path))


def test_shipped_model_loads_and_scores():
    model = load_linker_model(str(_model_path()))
    assert isinstance(model, LinearFilter)  # read from the weights: no scikit-learn at extraction
    qs = find_quantities(TEXT)
    hb, _, _ = _targets(TEXT)
    p = model.predict_probability([unit_features(TEXT, 0, len(TEXT), qs[0], [hb], "inclusion")])
    assert len(p) == 1 and 0.0 <= p[0] <= 1.0


def test_shipped_weights_give_the_skops_models_probabilities():
    """The weights file is the .skops model: same probabilities on every candidate of the reference
    record and of registry-style lines, and it names the hash of the file it was read from."""
    from criteria_nlp.learning.model import file_sha256, weights_path

    path = _model_path()
    meta = json.loads(weights_path(path).read_text(encoding="utf-8"))
    assert meta["source_sha256"] == file_sha256(path)
    skops_model = _skops_model(path)
    from criteria_nlp.pipeline import build_pipeline, prepare_text

    rows = []
    linker = build_pipeline(linker_model=None).get_pipe("criteria_linker")
    nlp = build_pipeline(linker_model=None)
    for text in (EXAMPLE.read_text(encoding="utf-8"),
                 "PATIENT CHARACTERISTICS: Age: 18 and over Hepatic: Bilirubin no greater than 1.5 times normal"):
        doc = nlp(prepare_text(text).text)
        for crit, crit_mentions, crit_quantities, label in linker._per_criterion(doc):
            for q, targets in linker._link(doc.text, crit.start, crit_mentions, crit_quantities, label, crit.end):
                rows.append(unit_features(doc.text, crit.start, crit.end, q, targets, crit.section))
    assert len(rows) > 30
    expected = skops_model.predict_proba(rows)[:, 1]
    got = load_linker_model(str(path)).predict_probability(rows)
    assert max(abs(a - b) for a, b in zip(got, expected)) < 1e-9


def test_weights_of_another_file_are_not_used(tmp_path):
    """Weights whose hash names another .skops file: the .skops file itself is loaded (skops)."""
    from criteria_nlp.learning.model import weights_path

    path = _model_path()
    copy = tmp_path / "linker.skops"
    copy.write_bytes(path.read_bytes())
    meta = json.loads(weights_path(path).read_text(encoding="utf-8"))
    meta["source_sha256"] = "0" * 64
    weights_path(copy).write_text(json.dumps(meta), encoding="utf-8")
    assert hasattr(load_linker_model(str(copy)), "predict_proba")


def test_pipeline_with_model_sets_confidence():
    from criteria_nlp.pipeline import build_pipeline, doc_to_result, mask_markup

    path = _model_path()
    text = EXAMPLE.read_text(encoding="utf-8")
    nlp = build_pipeline(linker_model=str(path))
    assert nlp.get_pipe("criteria_linker").model is not None
    result = doc_to_result(nlp(mask_markup(text)), text).to_dict()
    rules = [r for c in result["criteria"] for r in c["rules"]]
    assert rules
    for r in rules:
        # below the 0.5 threshold only for protected rules: a symbol comparator on a lexicon
        # variable, or a count of the patient's things ("at least 3 half-lives")
        assert isinstance(r["confidence"], float) and 0.0 <= r["confidence"] <= 1.0
        if r["confidence"] < 0.5:
            count = r["unit"] is None and float(r["value"]).is_integer()
            assert r["variable"]["code"] is not None or r["variable"]["category"] is not None or count, r
    # rules only: same pipeline without a model, no confidence
    plain = doc_to_result(build_pipeline(linker_model=None)(mask_markup(text)), text).to_dict()
    plain_rules = [r for c in plain["criteria"] for r in c["rules"]]
    assert all(r["confidence"] is None for r in plain_rules)
    assert len(rules) <= len(plain_rules)


class Sneaky:
    """Not a scikit-learn/numpy type: skops must report it as untrusted."""

    def __init__(self):
        self.payload = "hello"


def test_untrusted_model_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / "bad.skops"
    sio.dump({"model": Sneaky()}, bad)
    with pytest.raises(ValueError, match="untrusted"):
        load_linker_model(str(bad))
    bad2 = tmp_path / "bad2.skops"
    sio.dump(Pipeline([("vec", DictVectorizer()), ("f", FunctionTransformer(print))]), bad2)
    with pytest.raises(ValueError, match="untrusted"):
        load_linker_model(str(bad2))


def test_missing_model_path(tmp_path):
    assert load_linker_model(None) is None
    with pytest.raises(FileNotFoundError):
        load_linker_model(str(tmp_path / "nope.skops"))


def _train_module():
    spec = importlib.util.spec_from_file_location("train_linker", ROOT / "scripts" / "train_linker.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.corpus
def test_tiny_training_run(tmp_path):
    if not LCT_DIR.is_dir() or not any(LCT_DIR.glob("*.ann")):
        pytest.skip(f"LCT corpus not available at {LCT_DIR} (set CRITERIA_NLP_LCT_DIR)")
    train = _train_module()
    out, metrics = tmp_path / "linker.skops", tmp_path / "linker.metrics.json"
    args = ["--corpus-dir", str(LCT_DIR), "--docs", "40", "--no-cv", "--model", "logreg",
            "--out", str(out), "--metrics", str(metrics)]
    assert train.main(args) == 0
    model = load_linker_model(str(out))
    assert isinstance(model, LinearFilter)  # the weights written beside the model
    assert hasattr(_skops_model(out), "predict_proba")
    assert metrics.exists()
    first = out.read_bytes()
    assert train.main(args) == 0
    assert out.read_bytes() == first  # deterministic
    # the model runs inside the pipeline
    from criteria_nlp.pipeline import build_pipeline

    doc = build_pipeline(linker_model=str(out))("Inclusion Criteria:\n1. Hemoglobin ≥ 9 g/dL\n2. Age 18 to 75 years\n")
    assert doc._.rules is not None
