#!/usr/bin/env python
"""Throughput of the criteria-nlp pipeline over the ClinicalTrials.gov sample, in process CPU time.

    python scripts/bench_throughput.py [STUDIES.jsonl] [--limit 3000] [--repeats 3] [--workers 2]
                                       [--batch-size 64] [--no-breakdown] [--json]

Over the same texts (the first ``--limit`` sample studies), after a warm-up pass of each:

1. **ratio to the tokenizer**: spaCy's blank English tokenizer (``spacy.blank("en").tokenizer``,
   warm: its cache filled by the warm-up, as the pipeline's is) and the whole pipeline in this
   process (``extract_many`` + the JSON bytes of each result, as ``extract`` writes them), timed
   alternately ``--repeats`` times with ``time.process_time`` (CPU of this process); medians;
2. **1 vs N workers**: ``criteria_nlp.batch.process_records`` (the engine of ``criteria-nlp
   extract``) with 1 and with ``--workers`` processes, alternately, medians: wall-clock
   documents/s, CPU seconds of parent + workers (``resource.getrusage``), the speed-up, and the
   peak RSS of the largest worker (``ru_maxrss`` of the reaped children) and of this process;
3. **breakdown** (unless ``--no-breakdown``): one warm pass calling each component by hand, CPU
   per component and for building the result (``doc_to_result``) and its JSON.

Pipeline build time is reported apart and counted nowhere else.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from typing import Callable

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


def cpu(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # KiB on Linux


def run_tokenizer(tok, items) -> int:
    return sum(len(tok(text)) for text, _, _ in items)


def run_pipeline(items, batch_size: int) -> int:
    from criteria_nlp import extract_many
    from criteria_nlp.io.writers import dumps

    n = 0
    for res in extract_many(iter(items), batch_size=batch_size):
        dumps(res)
        n += sum(len(c["rules"]) for c in res["criteria"])
    return n


def run_workers(items, workers: int, batch_size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its workers) of one process_records run."""
    from criteria_nlp.batch import process_records
    from criteria_nlp.io.records import InputRecord
    from criteria_nlp.io.writers import dumps

    recs = (InputRecord(i, t, p) for t, i, p in items)
    c0, k0, w0 = time.process_time(), children_cpu(), time.perf_counter()
    n = 0
    for outcome in process_records(recs, workers=workers, batch_size=batch_size):
        if hasattr(outcome, "json_bytes"):
            outcome.json_bytes()  # what the JSON Lines writer does
        else:  # a criteria_nlp from before the bytes path (to compare versions)
            dumps(outcome.result)
        n += 1
    wall = time.perf_counter() - w0
    assert n == len(items)
    return wall, (time.process_time() - c0) + (children_cpu() - k0)


def breakdown(items, batch_size: int) -> dict[str, float]:
    """CPU seconds per component over one pass (docs made one by one, components called in order)."""
    from criteria_nlp import get_pipeline, prepare_text
    from criteria_nlp.io.writers import dumps
    from criteria_nlp.pipeline import doc_to_result

    nlp = get_pipeline()
    times: dict[str, float] = {"prepare_text": 0.0, "tokenizer": 0.0}
    times.update({name: 0.0 for name in nlp.pipe_names})
    times["result + JSON"] = 0.0
    pc = time.process_time
    for text, doc_id, path in items:
        t = pc()
        view = prepare_text(text)
        t2 = pc()
        times["prepare_text"] += t2 - t
        doc = nlp.make_doc(view.text)
        t = pc()
        times["tokenizer"] += t - t2
        for name, proc in nlp.pipeline:
            doc = proc(doc)
            t2 = pc()
            times[name] += t2 - t
            t = t2
        dumps(doc_to_result(doc, text, doc_id=doc_id, path=path, view=view).to_dict())
        times["result + JSON"] += pc() - t
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=DEFAULT, help=f"studies JSONL (default {DEFAULT})")
    ap.add_argument("--limit", type=int, default=3000, help="first N studies (default 3000; 0 = all)")
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats of each measure (default 3)")
    ap.add_argument("--workers", type=int, default=2, help="process count of the parallel run (default 2)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-breakdown", action="store_true", help="skip the per-component pass")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)
    if not os.path.exists(args.path):
        print(f"bench_throughput: no such file: {args.path}", file=sys.stderr)
        return 2

    items = load_texts(args.path, args.limit or None)
    n_docs = len(items)
    n_chars = sum(len(t) for t, _, _ in items)
    print(f"{n_docs:,} studies, {n_chars / 1e6:.2f} M characters from {args.path}; "
          f"{args.repeats} alternating repeats, medians")

    import spacy

    from criteria_nlp import get_pipeline

    tok = spacy.blank("en").tokenizer
    t0 = time.perf_counter()
    get_pipeline()
    t_build = time.perf_counter() - t0
    n_tokens = run_tokenizer(tok, items)           # warm-up passes
    n_rules = run_pipeline(items[:300], args.batch_size)

    # 1. pipeline vs blank tokenizer, CPU of this process, alternating
    t_tok, t_pipe = [], []
    for _ in range(args.repeats):
        t_tok.append(cpu(lambda: run_tokenizer(tok, items)))
        box = {}
        t_pipe.append(cpu(lambda: box.setdefault("rules", run_pipeline(items, args.batch_size))))
        n_rules = box["rules"]
    tok_s, pipe_s = statistics.median(t_tok), statistics.median(t_pipe)
    rss_self = peak_rss_mb(resource.RUSAGE_SELF)

    # 2. 1 vs N worker processes, alternating
    runs: dict[int, list[tuple[float, float]]] = {1: [], args.workers: []}
    for _ in range(args.repeats):
        for w in runs:
            runs[w].append(run_workers(items, w, args.batch_size))
    rss_worker = peak_rss_mb(resource.RUSAGE_CHILDREN)
    wall = {w: statistics.median(r[0] for r in v) for w, v in runs.items()}
    cpus = {w: statistics.median(r[1] for r in v) for w, v in runs.items()}

    print(f"pipeline build: {t_build:.2f} s; rules: {n_rules:,}; blank-tokenizer tokens: {n_tokens:,}")
    print(f"{'what':<52} {'CPU s':>7} {'studies/CPU-s':>14}   runs")
    print(f"{'spacy.blank(en) tokenizer, warm':<52} {tok_s:>7.2f} {n_docs / tok_s:>14,.0f}   "
          + " ".join(f"{t:.2f}" for t in t_tok))
    print(f"{'criteria-nlp pipeline + JSON, this process':<52} {pipe_s:>7.2f} {n_docs / pipe_s:>14,.0f}   "
          + " ".join(f"{t:.2f}" for t in t_pipe))
    print(f"pipeline / warm blank tokenizer (CPU): {pipe_s / tok_s:.2f}x")
    print(f"{'process_records':<22} {'workers':>7} {'wall s':>7} {'studies/s':>10} {'CPU s':>7}")
    for w in runs:
        print(f"{'':<22} {w:>7} {wall[w]:>7.2f} {n_docs / wall[w]:>10,.0f} {cpus[w]:>7.2f}")
    w = args.workers
    if w > 1:
        print(f"{w} workers vs 1: {wall[1] / wall[w]:.2f}x the throughput, {cpus[w] / cpus[1]:.2f}x the CPU")
    print(f"peak RSS: this process {rss_self:,.0f} MB; largest worker {rss_worker:,.0f} MB")

    shares = None
    if not args.no_breakdown:
        times = breakdown(items, args.batch_size)
        total = sum(times.values())
        shares = {k: v / total for k, v in times.items()}
        print(f"breakdown (one warm pass, {total:.2f} CPU s, {n_docs / total:,.0f} studies/CPU-s):")
        for k, v in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {k:<22} {v:>6.2f} s {100 * v / total:>5.1f} %")

    if args.json:
        print(json.dumps({
            "docs": n_docs, "chars": n_chars, "tokens": n_tokens, "rules": n_rules, "build_s": t_build,
            "tokenizer_cpu_s": t_tok, "pipeline_cpu_s": t_pipe, "ratio_vs_tokenizer": pipe_s / tok_s,
            "workers": {str(k): {"wall_s": [r[0] for r in v], "cpu_s": [r[1] for r in v]} for k, v in runs.items()},
            "speedup": wall[1] / wall[w] if w > 1 else None,
            "peak_rss_mb": rss_self, "peak_rss_worker_mb": rss_worker, "breakdown": shares,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
