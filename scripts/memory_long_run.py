#!/usr/bin/env python
"""Memory over a long run: the sample studies repeated with changed ids, RSS every N documents.

    python scripts/memory_long_run.py [STUDIES.jsonl] [--records 50000] [--workers 2]
                                      [--recycle-after N] [--every 5000] [--vary-text] [--json]

Feeds ``criteria_nlp.batch.process_records`` (the engine of ``criteria-nlp extract``) the sample's
studies again and again (ids ``<NCT id>-r<k>``) up to ``--records`` documents and prints, every
``--every`` documents, the resident memory of the parent and of each worker (VmRSS, and PSS, which
splits the pages a worker shares with the parent after the fork). ``--recycle-after 0`` keeps the
same workers for the whole run (the behaviour before recycling); ``--vary-text`` adds a distinct
reference line to each copy (new strings for the tokenizer cache and the StringStore every time).
With ``--workers 1`` everything runs in this process.
"""
from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import sys
import time
from typing import Iterator

DEFAULT = os.path.join("..", "shared", "corpora", "ctgov-sample", "studies.jsonl")


def _kib(pid: int, path: str, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/{path}") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb(pid: int) -> float | None:
    v = _kib(pid, "status", "VmRSS")
    return None if v is None else v / 1024


def pss_mb(pid: int) -> float | None:
    v = _kib(pid, "smaps_rollup", "Pss")
    return None if v is None else v / 1024


def repeated(path: str, n: int, vary_text: bool) -> Iterator:
    from criteria_nlp.io.readers import iter_ctgov_jsonl
    from criteria_nlp.io.records import InputRecord

    base = [r for r in iter_ctgov_jsonl(path) if r.error is None]
    if not base:
        raise SystemExit(f"memory_long_run: no studies in {path}")
    count = 0
    for k in itertools.count():
        for r in base:
            if count >= n:
                return
            text = r.text + f"\n\nReference: study copy {k}-{count} (site {count * 7919 % 100003})\n" if vary_text else r.text
            yield InputRecord(f"{r.id}-r{k}", text, r.path, r.structured)
            count += 1


def snapshot(done: int, start: float) -> dict:
    kids = multiprocessing.active_children()
    workers = [(p.pid, rss_mb(p.pid), pss_mb(p.pid)) for p in kids]
    workers = [w for w in workers if w[1] is not None]
    return {
        "docs": done, "seconds": round(time.monotonic() - start, 1),
        "parent_rss_mb": round(rss_mb(os.getpid()) or 0, 1),
        "workers": len(workers),
        "worker_rss_mb_max": round(max((w[1] for w in workers), default=0), 1),
        "worker_pss_mb_sum": round(sum((w[2] or 0) for w in workers), 1),
    }


def main(argv: list[str] | None = None) -> int:
    from criteria_nlp.batch import RECYCLE_AFTER, process_records

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=DEFAULT)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--recycle-after", type=int, default=RECYCLE_AFTER,
                    help=f"documents per worker before it is replaced (default {RECYCLE_AFTER}; 0 = never)")
    ap.add_argument("--every", type=int, default=5_000, help="report every N documents")
    ap.add_argument("--vary-text", action="store_true", help="a distinct line in every copy")
    ap.add_argument("--json", action="store_true", help="print the snapshots as JSON too")
    args = ap.parse_args(argv)
    if not os.path.exists(args.path):
        print(f"memory_long_run: no such file: {args.path}", file=sys.stderr)
        return 2

    start = time.monotonic()
    snaps = []
    done = 0
    rules = 0
    print(f"{'docs':>7} {'s':>6} {'parent RSS':>11} {'workers':>7} {'max worker RSS':>15} {'workers PSS':>12}")
    outcomes = process_records(repeated(args.path, args.records, args.vary_text), workers=args.workers,
                               batch_size=args.batch_size, recycle_after=args.recycle_after or None)
    for outcome in outcomes:
        done += 1
        rules += outcome.rules
        outcome.json_bytes()  # what a writer does with it
        if done % args.every == 0 or done == args.records:
            s = snapshot(done, start)
            snaps.append(s)
            print(f"{s['docs']:>7,} {s['seconds']:>6.0f} {s['parent_rss_mb']:>8.0f} MB {s['workers']:>7} "
                  f"{s['worker_rss_mb_max']:>12.0f} MB {s['worker_pss_mb_sum']:>9.0f} MB", flush=True)
    key = "parent_rss_mb" if args.workers <= 1 else "worker_rss_mb_max"
    if len(snaps) >= 4:
        half = len(snaps) // 2
        first, second = max(s[key] for s in snaps[:half]), max(s[key] for s in snaps[half:])
        print(f"{done:,} documents, {rules:,} rules; highest {key}: first half {first:.0f} MB, "
              f"second half {second:.0f} MB ({second - first:+.0f} MB)")
    if args.json:
        print(json.dumps({"records": done, "rules": rules, "workers": args.workers,
                          "recycle_after": args.recycle_after, "vary_text": args.vary_text, "snapshots": snaps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
