#!/usr/bin/env python
"""Throughput of the criteria-nlp pipeline over the ClinicalTrials.gov sample.

    python scripts/bench_throughput.py [STUDIES.jsonl] [--limit N] [--workers N] [--batch-size N]

Measures, in one run and over the same texts:

* spaCy's blank English tokenizer alone (``spacy.blank("en").tokenizer``) -- the floor;
* the full pipeline in this process (1 worker, ``extract_many`` batching);
* the full pipeline with ``--workers N`` processes (``criteria_nlp.batch.process_records``),
  wall time including the pool's start-up (each worker builds the pipeline once);

and prints documents/s, tokens/s (tokens of the blank tokenizer, the same count for every
row), the pipeline/tokenizer time ratio and the peak RSS of this process and of its children
(``resource.getrusage``). Pipeline build time is reported apart, not counted in the rates.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

DEFAULT = os.path.join("..", "shared", "corpora", "ctgov-sample", "studies.jsonl")


def load_texts(path: str, limit: int | None) -> list[tuple[str, str, str]]:
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    out = []
    for rec in iter_ctgov_jsonl(path):
        if rec.error is None:
            out.append((rec.text, rec.id, rec.path))
            if limit and len(out) >= limit:
                break
    return out


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=DEFAULT, help=f"studies JSONL (default {DEFAULT})")
    ap.add_argument("--limit", type=int, default=None, help="first N studies only")
    ap.add_argument("--workers", type=int, default=2, help="process count of the parallel run (default 2)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)
    if not os.path.exists(args.path):
        print(f"bench_throughput: no such file: {args.path}", file=sys.stderr)
        return 2

    items = load_texts(args.path, args.limit)
    n_docs = len(items)
    n_chars = sum(len(t) for t, _, _ in items)
    print(f"{n_docs:,} studies, {n_chars / 1e6:.2f} M characters from {args.path}")
    rows = []

    # 1. spaCy's blank tokenizer alone
    import spacy

    tok = spacy.blank("en").tokenizer
    t0 = time.perf_counter()
    n_tokens = 0
    for text, _, _ in items:
        n_tokens += len(tok(text))
    t_tok = time.perf_counter() - t0
    rows.append(("spacy.blank('en') tokenizer", 1, t_tok))

    # 2. the full pipeline, one process
    from criteria_nlp import extract_many, get_pipeline

    t0 = time.perf_counter()
    get_pipeline()
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_rules = 0
    for res in extract_many(iter(items), batch_size=args.batch_size):
        n_rules += sum(len(c["rules"]) for c in res["criteria"])
    t_one = time.perf_counter() - t0
    rows.append(("criteria-nlp pipeline", 1, t_one))
    rss_self = peak_rss_mb(resource.RUSAGE_SELF)

    # 3. the full pipeline, N worker processes (wall time incl. pool start-up)
    t_many = None
    if args.workers > 1:
        from criteria_nlp.batch import process_records
        from criteria_nlp.io.records import InputRecord

        recs = (InputRecord(i, t, p) for t, i, p in items)
        t0 = time.perf_counter()
        first = None
        n = 0
        for _ in process_records(recs, workers=args.workers, batch_size=args.batch_size):
            n += 1
            if first is None:
                first = time.perf_counter() - t0
        t_many = time.perf_counter() - t0
        assert n == n_docs
        rows.append((f"criteria-nlp pipeline, pool incl. start-up ({first:.1f} s to 1st batch)", args.workers, t_many))
    rss_children = peak_rss_mb(resource.RUSAGE_CHILDREN)

    print(f"pipeline build: {t_build:.2f} s; rules found: {n_rules:,}; blank-tokenizer tokens: {n_tokens:,}")
    print(f"{'what':<62} {'workers':>7} {'seconds':>8} {'docs/s':>9} {'tokens/s':>11}")
    for name, w, t in rows:
        print(f"{name:<62} {w:>7} {t:>8.2f} {n_docs / t:>9,.1f} {n_tokens / t:>11,.0f}")
    print(f"pipeline / blank tokenizer time ratio (1 worker): {t_one / t_tok:,.1f}x")
    if t_many:
        print(f"speed-up with {args.workers} workers: {t_one / t_many:.2f}x")
    print(f"peak RSS: this process {rss_self:,.0f} MB; largest child {rss_children:,.0f} MB")
    target = 400
    verdict = "meets" if n_docs / t_one >= target else "below"
    print(f"target >= {target} studies/s on one core: {verdict} ({n_docs / t_one:,.1f} studies/s)")
    if args.json:
        print(json.dumps({
            "docs": n_docs, "chars": n_chars, "tokens": n_tokens, "rules": n_rules, "build_s": t_build,
            "tokenizer_docs_per_s": n_docs / t_tok, "one_worker_docs_per_s": n_docs / t_one,
            "one_worker_tokens_per_s": n_tokens / t_one,
            "workers": args.workers, "many_workers_docs_per_s": (n_docs / t_many) if t_many else None,
            "ratio_vs_tokenizer": t_one / t_tok, "peak_rss_mb": rss_self, "peak_rss_children_mb": rss_children,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
