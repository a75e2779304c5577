#!/usr/bin/env python
"""Run every sample study and LCT document through extraction and check the invariants.

    python scripts/check_corpora.py [--ctgov STUDIES.jsonl] [--lct DIR] [--workers N]
                                    [--limit N] [--schema] [--show N]

For each document: no exception (no error record), and every offset exact --
``text == input[start:end]`` for criteria, rules, their variables and their conditions; with
``--schema`` also valid against ``criteria_nlp/schema/rules.schema.json``. Prints counts and
exits 1 on any failure (2 when a corpus is missing).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque
from typing import Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_CTGOV = os.path.join(ROOT, "..", "shared", "corpora", "ctgov-sample", "studies.jsonl")
DEFAULT_LCT = os.path.join(ROOT, "..", "shared", "corpora", "lct", "dev")


def corpus_records(ctgov: str | None, lct: str | None, limit: int | None = None) -> Iterator:
    from criteria_nlp.io.readers import iter_ctgov_jsonl, iter_text

    n = 0
    if ctgov:
        for rec in iter_ctgov_jsonl(ctgov):
            yield "ctgov", rec
            n += 1
            if limit and n >= limit:
                break
    if lct:
        m = 0
        for name in sorted(os.listdir(lct)):
            if name.endswith(".txt"):
                yield from (("lct", r) for r in iter_text(os.path.join(lct, name)))
                m += 1
                if limit and m >= limit:
                    break


def check_all(ctgov: str | None, lct: str | None, *, workers: int = 1, batch_size: int = 64,
              limit: int | None = None, schema: bool = False, show: int = 10, timeout: float | None = 60.0,
              out=sys.stdout) -> int:
    from criteria_nlp.batch import process_records
    from criteria_nlp.io.validate import offset_problems, schema_problems

    texts: deque = deque()
    corpora: deque = deque()

    def feed():
        for corpus, rec in corpus_records(ctgov, lct, limit):
            texts.append(rec.text)
            corpora.append(corpus)
            yield rec

    counts = {c: {"docs": 0, "criteria": 0, "rules": 0, "variables": 0, "conditions": 0, "failed": 0}
              for c in ("ctgov", "lct")}
    failures: list[str] = []
    t0 = time.perf_counter()
    for outcome in process_records(feed(), workers=workers, batch_size=batch_size, timeout=timeout):
        text = texts.popleft()
        corpus = corpora.popleft()
        c = counts[corpus]
        c["docs"] += 1
        res = outcome.result
        problems: list[str] = []
        if not outcome.ok:
            problems.append(f"error: {outcome.error}")
        else:
            problems.extend(offset_problems(res, text))
            if schema:
                problems.extend(schema_problems(res))
            for crit in res["criteria"]:
                c["criteria"] += 1
                for rule in crit["rules"]:
                    c["rules"] += 1
                    c["variables"] += rule.get("variable") is not None
                    c["conditions"] += len(rule.get("conditions") or [])
        if problems:
            c["failed"] += 1
            failures.append(f"{corpus} {outcome.record.where()}: {problems[0]}"
                            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""))
    elapsed = time.perf_counter() - t0
    total_docs = sum(c["docs"] for c in counts.values())
    for corpus, c in counts.items():
        if c["docs"]:
            print(f"{corpus:>5}: {c['docs']:,} documents, {c['criteria']:,} criteria, {c['rules']:,} rules, "
                  f"{c['variables']:,} with variable, {c['conditions']:,} conditions, {c['failed']:,} failed",
                  file=out)
    print(f"checked {total_docs:,} documents in {elapsed:.1f} s ({total_docs / max(elapsed, 1e-9):,.1f} docs/s, "
          f"{workers} worker(s)){'; schema validated' if schema else ''}", file=out)
    for f in failures[:show]:
        print(f"FAIL {f}", file=out)
    if len(failures) > show:
        print(f"... and {len(failures) - show} more failures", file=out)
    print("OK" if not failures else f"FAILED: {len(failures)} document(s)", file=out)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ctgov", default=DEFAULT_CTGOV, help="ClinicalTrials.gov sample JSONL")
    ap.add_argument("--lct", default=DEFAULT_LCT, help="LCT dev directory (*.txt)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--limit", type=int, default=None, help="at most N documents of each corpus")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-document time limit in s (default 60)")
    ap.add_argument("--schema", action="store_true", help="validate every result against the JSON Schema too")
    ap.add_argument("--show", type=int, default=10, help="failures to list (default 10)")
    args = ap.parse_args(argv)
    missing = [p for p in (args.ctgov, args.lct) if p and not os.path.exists(p)]
    if missing:
        print(f"check_corpora: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    return check_all(args.ctgov, args.lct, workers=args.workers, batch_size=args.batch_size, limit=args.limit,
                     schema=args.schema, show=args.show, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
