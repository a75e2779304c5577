#!/usr/bin/env python
"""Pick the registry-gold studies from the ClinicalTrials.gov sample, reproducibly.

    python scripts/pick_registry_gold.py [--sample PATH] [--per-layout 16] [--seed 8]

Pool: every study of ``../shared/corpora/ctgov-sample/studies.jsonl`` whose
``eligibilityCriteria`` holds at least one digit (a study without a digit has no threshold to
annotate). The pool is split by layout: **PDQ** when the text contains ``PATIENT
CHARACTERISTICS`` or ``DISEASE CHARACTERISTICS`` (the run-in field layout of legacy cancer
trials), **other** otherwise. Each part is sorted by NCT id and ``random.Random(SEED).sample``
draws ``--per-layout`` studies from it (one generator, PDQ first). Prints one line per study:
``NCT id<TAB>layout<TAB>characters``. The gold files in ``corpora/registry-gold/`` are the
studies this prints with the defaults.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from criteria_nlp.evaluation.registry import layout_of

SEED = 8  # issue 8
PER_LAYOUT = 16
DEFAULT_SAMPLE = Path("..") / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"


def read_pool(sample: Path) -> dict[str, list[tuple[str, int]]]:
    """``{layout: [(nct_id, length), ...]}`` of the studies whose criteria hold a digit, by id."""
    pool: dict[str, list[tuple[str, int]]] = {"pdq": [], "other": []}
    with open(sample, encoding="utf-8") as fh:
        for line in fh:
            ps = json.loads(line)["protocolSection"]
            text = (ps.get("eligibilityModule") or {}).get("eligibilityCriteria") or ""
            if any(ch.isdigit() for ch in text):
                pool[layout_of(text)].append((ps["identificationModule"]["nctId"], len(text)))
    for studies in pool.values():
        studies.sort()
    return pool


def pick(pool: dict[str, list[tuple[str, int]]], per_layout: int = PER_LAYOUT,
         seed: int = SEED) -> list[tuple[str, str, int]]:
    """``[(nct_id, layout, length), ...]``: ``per_layout`` studies of each layout, PDQ first."""
    rng = random.Random(seed)
    return [(nct, layout, n) for layout in ("pdq", "other")
            for nct, n in sorted(rng.sample(pool[layout], per_layout))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="studies.jsonl (default: %(default)s)")
    ap.add_argument("--per-layout", type=int, default=PER_LAYOUT, help="studies per layout (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    args = ap.parse_args(argv)
    if not args.sample.is_file():
        print(f"pick_registry_gold: sample not found: {args.sample}", file=sys.stderr)
        return 2
    try:
        pool = read_pool(args.sample)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        print(f"pick_registry_gold: cannot read {args.sample}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if args.per_layout < 1 or any(len(v) < args.per_layout for v in pool.values()):
        print(f"pick_registry_gold: cannot draw {args.per_layout} studies per layout", file=sys.stderr)
        return 2
    print(f"# pool: {len(pool['pdq'])} pdq, {len(pool['other'])} other; seed {args.seed}", file=sys.stderr)
    for nct, layout, n in pick(pool, args.per_layout, args.seed):
        print(f"{nct}\t{layout}\t{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
