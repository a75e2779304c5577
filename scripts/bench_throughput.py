#!/usr/bin/env python
"""Throughput of the criteria-nlp pipeline over the ClinicalTrials.gov sample, in process CPU time.

    python scripts/bench_throughput.py [STUDIES.jsonl] [--limit 3000] [--repeats 3] [--workers 2]
                                       [--batch-size 64] [--no-breakdown] [--whole-doc] [--json]

Over the same texts (the first ``--limit`` sample studies), after a warm-up pass of each:

1. **ratio to the tokenizer**: spaCy's blank English tokenizer (``spacy.blank("en").tokenizer``,
   warm: its cache filled by the warm-up, as the pipeline's is) and the whole pipeline in this
   process (``extract_many`` + the JSON bytes of each result, as ``extract`` writes them), timed
   alternately ``--repeats`` times with ``time.process_time`` (CPU of this process); medians; with
   ``--whole-doc`` also the token-level path (every component on a Doc of the whole text, the
   design before ``criteria_nlp.excerpt``), in the same alternation;
2. **1 vs N workers**: ``criteria_nlp.batch.process_records`` (the engine of ``criteria-nlp
   extract``) with 1 and with ``--workers`` processes, alternately, medians: wall-clock
   documents/s, CPU seconds of parent + workers (``resource.getrusage``), the speed-up, and the
   peak RSS of the largest worker (``ru_maxrss`` of the reaped children) and of this process;
3. **breakdown** (unless ``--no-breakdown``): one warm pass calling the steps of the characters-first
   reading by hand (``criteria_nlp.excerpt.read_excerpt``): CPU per step and per token-level
   component, for building the result and its JSON, and the share of characters spaCy read.

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


def run_whole_doc(items) -> int:
    """The token-level path: every component on a Doc of the whole text (what ``nlp(text)`` does)."""
    from criteria_nlp import get_pipeline, prepare_text
    from criteria_nlp.io.writers import dumps
    from criteria_nlp.pipeline import doc_to_result

    nlp = get_pipeline()
    n = 0
    for text, doc_id, path in items:
        view = prepare_text(text)
        res = doc_to_result(nlp(view.text), text, doc_id=doc_id, path=path, view=view).to_dict()
        dumps(res)
        n += sum(len(c["rules"]) for c in res["criteria"])
    return n


def breakdown(items) -> tuple[dict[str, float], float]:
    """CPU seconds per stage of the characters-first reading (``criteria_nlp.excerpt.read_excerpt``,
    its steps called in order here) over one pass, and the share of characters spaCy read."""
    from criteria_nlp import get_pipeline, prepare_text
    from criteria_nlp.components.quantities import quantities_in_criteria
    from criteria_nlp.components.structure import criteria_in_text
    from criteria_nlp.excerpt import ExcerptReading, class_letters, criteria_to_read, excerpt_of, token_components
    from criteria_nlp.io.assemble import assemble_excerpt_result
    from criteria_nlp.io.writers import dumps
    from criteria_nlp.quantities.grammar import shifted

    nlp = get_pipeline()
    stages = ["prepare_text", "headings (string)", "criteria (string)", "quantities (string)", "excerpt",
              "tokenizer (excerpt)", "criteria + quantities on the Doc", *(n for n, _ in token_components(nlp)),
              "result + JSON"]
    times = dict.fromkeys(stages, 0.0)
    letters = class_letters(nlp)
    read_chars = all_chars = 0
    pc = time.process_time
    for text, doc_id, path in items:
        clock = [pc()]

        def lap(stage):
            now = pc()
            times[stage] += now - clock[0]
            clock[0] = now

        view = prepare_text(text)
        lap("prepare_text")
        headings = nlp.get_pipe("criteria_sections").headings_in_text(view.text)
        lap("headings (string)")
        criteria = criteria_in_text(view.text, headings, nlp.tokenizer)
        lap("criteria (string)")
        quantities = quantities_in_criteria(view.text, [(c.start, c.end) for c in criteria]) if criteria else []
        lap("quantities (string)")
        keep = criteria_to_read(view.text, criteria, quantities, letters)
        reading = ExcerptReading(criteria)
        all_chars += len(view.text)
        if keep:
            excerpt = excerpt_of(view.text, criteria, keep)
            read_chars += len(excerpt.text)
            lap("excerpt")
            doc = nlp.tokenizer(excerpt.text)
            lap("tokenizer (excerpt)")
            moved = [excerpt.moved(c) for c in criteria if c.id in keep]
            nlp.get_pipe("criteria_structure").set_criteria(doc, moved, span_extensions=False)
            nlp.get_pipe("criteria_quantities").set_quantities(
                doc, [shifted(q, excerpt.from_source(q.start) - q.start) for q in quantities])
            lap("criteria + quantities on the Doc")
            for name, component in token_components(nlp):
                doc = component(doc)
                lap(name)
            reading = ExcerptReading(criteria, doc, excerpt)
        dumps(assemble_excerpt_result(reading, text, doc_id=doc_id, path=path, view=view).to_dict())
        lap("result + JSON")
    return times, read_chars / max(1, all_chars)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=DEFAULT, help=f"studies JSONL (default {DEFAULT})")
    ap.add_argument("--limit", type=int, default=3000, help="first N studies (default 3000; 0 = all)")
    ap.add_argument("--repeats", type=int, default=3, help="alternating repeats of each measure (default 3)")
    ap.add_argument("--workers", type=int, default=2,
                    help="process count of the parallel run (default 2; 0: skip the process_records runs)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-breakdown", action="store_true", help="skip the per-stage pass")
    ap.add_argument("--whole-doc", action="store_true",
                    help="also time the token-level path (every component on a Doc of the whole text)")
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
    t_tok, t_pipe, t_whole = [], [], []
    for _ in range(args.repeats):
        t_tok.append(cpu(lambda: run_tokenizer(tok, items)))
        box = {}
        t_pipe.append(cpu(lambda: box.setdefault("rules", run_pipeline(items, args.batch_size))))
        n_rules = box["rules"]
        if args.whole_doc:
            t_whole.append(cpu(lambda: run_whole_doc(items)))
    tok_s, pipe_s = statistics.median(t_tok), statistics.median(t_pipe)
    rss_self = peak_rss_mb(resource.RUSAGE_SELF)

    # 2. 1 vs N worker processes, alternating
    runs: dict[int, list[tuple[float, float]]] = {1: [], args.workers: []} if args.workers else {}
    for _ in range(args.repeats):
        for w in runs:
            runs[w].append(run_workers(items, w, args.batch_size))
    rss_worker = peak_rss_mb(resource.RUSAGE_CHILDREN)
    wall = {w: statistics.median(r[0] for r in v) for w, v in runs.items()}  # empty with --workers 0
    cpus = {w: statistics.median(r[1] for r in v) for w, v in runs.items()}

    print(f"pipeline build: {t_build:.2f} s; rules: {n_rules:,}; blank-tokenizer tokens: {n_tokens:,}")
    print(f"{'what':<52} {'CPU s':>7} {'studies/CPU-s':>14}   runs")
    print(f"{'spacy.blank(en) tokenizer, warm':<52} {tok_s:>7.2f} {n_docs / tok_s:>14,.0f}   "
          + " ".join(f"{t:.2f}" for t in t_tok))
    print(f"{'criteria-nlp pipeline + JSON, this process':<52} {pipe_s:>7.2f} {n_docs / pipe_s:>14,.0f}   "
          + " ".join(f"{t:.2f}" for t in t_pipe))
    if t_whole:
        whole_s = statistics.median(t_whole)
        print(f"{'same, every component on a Doc of the whole text':<52} {whole_s:>7.2f} {n_docs / whole_s:>14,.0f}   "
              + " ".join(f"{t:.2f}" for t in t_whole))
        print(f"whole-Doc path / warm blank tokenizer (CPU): {whole_s / tok_s:.2f}x")
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
        times, read_share = breakdown(items)
        total = sum(times.values())
        shares = {k: v / total for k, v in times.items()}
        print(f"breakdown (one warm pass, {total:.2f} CPU s, {n_docs / total:,.0f} studies/CPU-s; "
              f"spaCy read {100 * read_share:.0f} % of the characters):")
        for k, v in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {k:<22} {v:>6.2f} s {100 * v / total:>5.1f} %")

    if args.json:
        print(json.dumps({
            "docs": n_docs, "chars": n_chars, "tokens": n_tokens, "rules": n_rules, "build_s": t_build,
            "tokenizer_cpu_s": t_tok, "pipeline_cpu_s": t_pipe, "ratio_vs_tokenizer": pipe_s / tok_s,
            "whole_doc_cpu_s": t_whole,
            "workers": {str(k): {"wall_s": [r[0] for r in v], "cpu_s": [r[1] for r in v]} for k, v in runs.items()},
            "speedup": wall[1] / wall[w] if w > 1 else None,
            "peak_rss_mb": rss_self, "peak_rss_worker_mb": rss_worker, "breakdown": shares,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
