"""``criteria-nlp evaluate --corpus registry``: score a system on the registry gold.

::

    criteria-nlp evaluate --corpus registry [--gold-dir corpora/registry-gold] [--sample FILE]
        [--system pipeline|pipeline-rules|baseline|oracle] [--predictions FILE.jsonl] [--errors N] [--json]

Reads every gold file, checks each against its study's criteria text (offsets, sha1: a changed
source is one error line and exit status 2), runs the system on those texts and prints
:class:`~criteria_nlp.evaluation.registry.RegistryReport`.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from .command import load_predictions, system_failed
from .registry import (
    DEFAULT_GOLD_DIR,
    GoldError,
    load_gold_dir,
    oracle_prediction,
    read_criteria,
    resolve_source,
    score_registry,
    validate,
)

__all__ = ["REGISTRY_SYSTEMS", "run_registry_evaluate"]

REGISTRY_SYSTEMS = ("pipeline", "pipeline-rules", "baseline", "oracle")


def _fail(message: str) -> int:
    print(f"criteria-nlp evaluate: {message}", file=sys.stderr)
    return 2


def _read_texts(golds, sample_arg: str | None) -> dict[str, str]:
    """The criteria texts of the gold studies, each checked against its gold file."""
    texts: dict[str, str] = {}
    for source in sorted({g.source for g in golds}):
        sample = resolve_source(sample_arg or source)
        if not sample.is_file():
            raise GoldError(f"registry sample not found: {sample} (use --sample FILE)")
        texts.update(read_criteria(sample, [g.nct_id for g in golds if g.source == source]))
    for g in golds:
        if g.nct_id not in texts:
            raise GoldError(f"{g.path}: study {g.nct_id} is not in the sample")
        with open(g.path, encoding="utf-8") as fh:
            problems = validate(json.load(fh), texts[g.nct_id])
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise GoldError(f"{g.path}: {problems[0]}{more}")
    return texts


def _predict(system: str, golds, texts: dict[str, str]) -> dict[str, Any]:
    if system == "oracle":
        return {g.nct_id: oracle_prediction(g, texts[g.nct_id]) for g in golds}
    if system == "baseline":
        from .baseline import baseline_extract

        return {g.nct_id: baseline_extract(texts[g.nct_id], g.nct_id, g.source) for g in golds}
    from .. import extract_many

    model = "default" if system == "pipeline" else None
    items = ((texts[g.nct_id], g.nct_id, g.source) for g in golds)
    return {g.nct_id: res for g, res in zip(golds, extract_many(items, linker_model=model))}


def run_registry_evaluate(args) -> int:
    """The ``evaluate`` command with ``--corpus registry`` (arguments of ``add_evaluate_parser``)."""
    if args.system not in REGISTRY_SYSTEMS:
        return _fail(f"system {args.system!r} is not available on the registry gold "
                     f"(choose {', '.join(REGISTRY_SYSTEMS)})")
    try:
        golds = load_gold_dir(args.gold_dir or DEFAULT_GOLD_DIR)
        texts = _read_texts(golds, args.sample)
    except GoldError as exc:
        return _fail(str(exc))
    system = args.system
    if args.predictions:
        try:
            predictions = load_predictions(args.predictions)
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read predictions: {exc}")
        system = f"file:{args.predictions}"
    else:
        try:
            predictions = _predict(args.system, golds, texts)
        except Exception as exc:  # noqa: BLE001 - the scored system failed: one line, or the traceback
            return system_failed(args, system, exc)
    meta = {"corpus": "registry", "gold_dir": str(args.gold_dir or DEFAULT_GOLD_DIR), "system": system}
    report = score_registry(golds, predictions, meta=meta)
    errors = max(0, args.errors)
    if args.json:
        print(json.dumps(report.as_dict(errors=errors), indent=2, ensure_ascii=False))
    else:
        print(report.format(errors=errors))
    return 0
