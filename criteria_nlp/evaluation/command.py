"""``criteria-nlp evaluate``: score a system on the LCT corpus.

::

    criteria-nlp evaluate --corpus lct --split test [--corpus-dir DIR] \\
        [--system pipeline|baseline|oracle|shuffled] [--predictions FILE.jsonl] [--errors N] [--json]
        [--html FILE [--force]]

The corpus directory is ``--corpus-dir``, else ``$CRITERIA_NLP_LCT_DIR``, else
``../shared/corpora/lct/dev`` relative to the working directory. A missing directory is one
error line and exit status 2.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .brat import iter_corpus, list_doc_ids
from .gold import GoldDocument, extract_gold
from .scorer import RANGE_MODES, EvaluationResult, to_contract_convention, score
from .split import SPLITS, select

__all__ = [
    "DEFAULT_LCT_DIR",
    "ENV_LCT_DIR",
    "SYSTEMS",
    "add_evaluate_parser",
    "load_gold",
    "predict",
    "resolve_corpus_dir",
    "run_evaluate",
    "run_evaluation",
    "system_failed",
]

ENV_LCT_DIR = "CRITERIA_NLP_LCT_DIR"
DEFAULT_LCT_DIR = os.path.join("..", "shared", "corpora", "lct", "dev")
# "pipeline": as shipped (rules + the learned filter in models/ when present);
# "pipeline-rules": the same pipeline without any learned part
SYSTEMS = ("pipeline", "pipeline-rules", "baseline", "oracle", "shuffled")


class CorpusNotFound(FileNotFoundError):
    pass


def resolve_corpus_dir(corpus_dir: str | os.PathLike | None = None) -> Path:
    """``corpus_dir``, else ``$CRITERIA_NLP_LCT_DIR``, else ``../shared/corpora/lct/dev``."""
    return Path(corpus_dir or os.environ.get(ENV_LCT_DIR) or DEFAULT_LCT_DIR)


def load_gold(corpus_dir: str | os.PathLike | None = None, split: str = "all") -> list[GoldDocument]:
    """Read the brat documents of ``split`` and extract their gold thresholds (sorted by id)."""
    d = resolve_corpus_dir(corpus_dir)
    if not d.is_dir():
        raise CorpusNotFound(f"LCT corpus directory not found: {d}")
    ids = list_doc_ids(d)
    if not ids:
        raise CorpusNotFound(f"no brat documents (.txt + .ann) in {d}")
    return [extract_gold(doc) for doc in iter_corpus(d, select(ids, split))]


def predict(system: str, golds: list[GoldDocument], batch_size: int = 64) -> dict[str, Any]:
    """Contract-shaped predictions ``{doc_id: result}`` of a system on the gold documents' texts."""
    if system == "oracle":
        from .baseline import oracle_result

        return {g.doc_id: oracle_result(g) for g in golds}
    if system == "shuffled":
        from .baseline import shuffled_results

        return shuffled_results(golds)
    if system == "baseline":
        from .baseline import baseline_extract

        return {g.doc_id: baseline_extract(g.text, g.doc_id, g.path) for g in golds}
    if system in ("pipeline", "pipeline-rules"):
        from .. import extract_many

        items = ((g.text, g.doc_id, g.path) for g in golds)
        model = "default" if system == "pipeline" else None
        return {g.doc_id: res for g, res in zip(golds, extract_many(items, batch_size=batch_size, linker_model=model))}
    raise ValueError(f"unknown system {system!r} (expected one of {', '.join(SYSTEMS)})")


def load_predictions(path: str | os.PathLike) -> dict[str, Any]:
    """Predictions saved as JSON lines (``criteria-nlp extract --jsonl``), keyed by ``source.id``."""
    out: dict[str, Any] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            res = json.loads(line)
            src = res.get("source") or {}
            doc_id = src.get("id") or (Path(src["path"]).stem if src.get("path") else None)
            if not doc_id:
                raise ValueError(f"{path}:{lineno}: result without source.id")
            out[doc_id] = res
    return out


def run_evaluation(
    corpus_dir: str | os.PathLike | None = None,
    split: str = "test",
    system: str = "pipeline",
    predictions: dict[str, Any] | None = None,
    predictor: Callable[[list[GoldDocument]], dict[str, Any]] | None = None,
    ranges: str = "merged",
) -> EvaluationResult:
    """Read, predict and score; timings are in ``result.seconds``.

    ``predictions`` (doc id → contract dict) or ``predictor`` (gold documents → predictions)
    replace the named ``system``.
    """
    t0 = time.perf_counter()
    golds = load_gold(corpus_dir, split)
    t1 = time.perf_counter()
    if predictions is None:
        if predictor is not None:
            predictions = predictor(golds)
        elif system == "oracle" and ranges == "merged":
            predictions = predict(system, [to_contract_convention(g) for g in golds])  # the gold as scored
        else:
            predictions = predict(system, golds)
    t2 = time.perf_counter()
    result = score(
        golds,
        predictions,
        meta={"corpus": "lct", "split": split, "system": system if predictor is None else "custom",
              "corpus_dir": str(resolve_corpus_dir(corpus_dir)), "ranges": ranges},
        ranges=ranges,
    )
    t3 = time.perf_counter()
    result.seconds = {"read": t1 - t0, "predict": t2 - t1, "score": t3 - t2, "total": t3 - t0}
    return result


def add_evaluate_parser(subparsers) -> None:
    """Register ``evaluate`` on the ``criteria-nlp`` sub-command parser."""
    p = subparsers.add_parser(
        "evaluate",
        help="score threshold extraction against the LCT corpus",
        description="Score extracted threshold rules against LCT gold annotations "
        "(P/R/F1 at lenient, strict and full levels).",
    )
    p.add_argument("--corpus", choices=["lct", "registry"], default="lct",
                   help="annotated corpus (default: lct); registry: our hand-written gold of sample studies")
    p.add_argument("--gold-dir", metavar="DIR", default=None,
                   help="registry gold directory (default: corpora/registry-gold)")
    p.add_argument("--sample", metavar="FILE", default=None,
                   help="registry sample JSONL (default: each gold file's 'source')")
    p.add_argument("--split", choices=SPLITS, default="test", help="document split (default: test)")
    p.add_argument(
        "--corpus-dir",
        metavar="DIR",
        default=None,
        help=f"brat directory (default: ${ENV_LCT_DIR} or {DEFAULT_LCT_DIR})",
    )
    p.add_argument("--system", choices=SYSTEMS, default="pipeline", help="system to score (default: pipeline)")
    p.add_argument("--predictions", metavar="FILE", default=None,
                   help="score saved predictions (JSON lines, one extract() result per document) instead")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="show N misses and N false positives")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.add_argument("--ranges", choices=RANGE_MODES, default="merged",
                   help="how ranges are counted. merged (default): a variable's lower and upper bound "
                        "annotated as two comparisons on one line ('>= 18 and <= 65') and a class list "
                        "without operator ('ASA I or II') are one gold range each, as in the output "
                        "contract; as-annotated: every gold comparison counts as written; "
                        "split: every range, gold or predicted, counts as its two bounds")
    p.add_argument("--split-ranges", dest="ranges", action="store_const", const="split",
                   help="same as --ranges split")
    p.add_argument("--html", metavar="FILE", default=None,
                   help="also write a self-contained HTML page of every miss and false positive in context")
    p.add_argument("--force", action="store_true", help="replace an existing --html FILE")
    p.add_argument("--traceback", action="store_true", help="show the full traceback if the system fails")
    p.set_defaults(handler=run_evaluate)


def system_failed(args, system: str, exc: Exception) -> int:
    """Exit status 1 after one line on stderr (re-raises with ``--traceback``); call it in an
    ``except`` block."""
    if getattr(args, "traceback", False):
        raise exc
    print(f"criteria-nlp evaluate: system {system!r} failed: {type(exc).__name__}: {exc} "
          "(--traceback for details)", file=sys.stderr)
    return 1


def run_evaluate(args) -> int:
    if args.corpus == "registry":
        from .registry_command import run_registry_evaluate

        return run_registry_evaluate(args)
    corpus_dir = resolve_corpus_dir(args.corpus_dir)
    if not corpus_dir.is_dir():
        print(
            f"criteria-nlp evaluate: LCT corpus not found at {corpus_dir} "
            f"(use --corpus-dir DIR or set {ENV_LCT_DIR})",
            file=sys.stderr,
        )
        return 2
    html_path = getattr(args, "html", None)
    if html_path and (os.path.isdir(html_path) or os.path.exists(html_path) and not args.force):
        reason = "is a directory" if os.path.isdir(html_path) else "exists; add --force to replace it"
        print(f"criteria-nlp evaluate: --html {html_path}: {reason}", file=sys.stderr)
        return 2
    predictions = None
    system = args.system
    if args.predictions:
        try:
            predictions = load_predictions(args.predictions)
        except (OSError, ValueError) as exc:
            print(f"criteria-nlp evaluate: cannot read predictions: {exc}", file=sys.stderr)
            return 2
        system = f"file:{args.predictions}"
    try:
        result = run_evaluation(corpus_dir, args.split, args.system, predictions=predictions,
                                ranges=args.ranges)
    except CorpusNotFound as exc:
        print(f"criteria-nlp evaluate: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the scored system failed: one line, or the traceback
        return system_failed(args, system, exc)
    result.meta["system"] = system
    if html_path:
        from ..io.writers import write_atomically
        from ..view.evaluation import error_texts, evaluation_report_html

        page = evaluation_report_html(result, error_texts(result, corpus_dir))
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(Path(html_path), page.encode("utf-8"))
    if args.json:
        print(json.dumps(result.to_dict(errors=max(0, args.errors)), indent=2, ensure_ascii=False))
    else:
        print(result.format_table())
        if args.errors > 0:
            print(result.format_errors(args.errors))
    return 0

