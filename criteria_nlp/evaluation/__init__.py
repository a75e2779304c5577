"""Evaluation of threshold extraction against the Leaf Clinical Trials (LCT) corpus.

Modules:

* :mod:`.brat` — reader for brat standoff files (T incl. discontinuous spans, E with repeated
  roles, R, A/M, ``*`` and ``#`` lines) into typed dataclasses: :func:`read_document`,
  :func:`parse_ann`, :func:`iter_corpus`.
* :mod:`.gold` — gold numeric thresholds (Observation/Age events with a ``Numeric-Filter``
  Eq-Comparison) and gold conditions (Drug doses, Temporality windows, Exceptions):
  :func:`extract_gold`, :func:`parse_number`.
* :mod:`.scorer` — greedy one-to-one matching at the lenient / strict / full levels, micro
  P/R/F1, recall by observation type, unit agreement and an error report: :func:`score`.
* :mod:`.threshold_conditions` — the gold conditions of each threshold (temporal window,
  population, exception) read from LCT's roles and relations.
* :mod:`.condition_scorer` — recall and precision of the conditions of strictly matched thresholds
  (part of :func:`score`'s result, ``result.conditions``).
* :mod:`.split` — the fixed sha1-of-NCT-id train/test split (80/20) and 5-fold CV on train.
* :mod:`.baseline` — the regex baseline (the floor), the gold oracle and a shuffled control,
  all in the output-contract shape.
* :mod:`.command` — ``criteria-nlp evaluate`` and :func:`run_evaluation`.

The corpus is never copied into the project: code takes its path as a parameter (default
``../shared/corpora/lct/dev`` relative to the working directory, or ``$CRITERIA_NLP_LCT_DIR``).

Example::

    from criteria_nlp.evaluation import run_evaluation
    result = run_evaluation(split="test", system="baseline")
    print(result.format_table())
"""
from .brat import BratDocument, iter_corpus, parse_ann, read_document
from .command import load_gold, run_evaluation
from .gold import GoldCondition, GoldDocument, GoldThreshold, extract_gold, parse_number
from .scorer import EvaluationResult, PredRule, rules_from_result, score, score_document
from .split import cv_folds, fold_of, select, split_of

__all__ = [
    "BratDocument",
    "EvaluationResult",
    "GoldCondition",
    "GoldDocument",
    "GoldThreshold",
    "PredRule",
    "cv_folds",
    "extract_gold",
    "fold_of",
    "iter_corpus",
    "load_gold",
    "parse_ann",
    "parse_number",
    "read_document",
    "rules_from_result",
    "run_evaluation",
    "score",
    "score_document",
    "select",
    "split_of",
]
