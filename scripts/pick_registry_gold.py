#!/usr/bin/env python
"""Pick the registry-gold studies from the ClinicalTrials.gov sample, reproducibly.

    python scripts/pick_registry_gold.py [--sample PATH] [--per-layout 16] [--seed 8]
    python scripts/pick_registry_gold.py --round 2
    python scripts/pick_registry_gold.py --round 3
    python scripts/pick_registry_gold.py --round 4
    python scripts/pick_registry_gold.py --round 5
    python scripts/pick_registry_gold.py --round 6

Pool: every study of ``../shared/corpora/ctgov-sample/studies.jsonl`` whose
``eligibilityCriteria`` holds at least one digit (a study without a digit has no threshold to
annotate). The pool is split by layout: **PDQ** when the text contains ``PATIENT
CHARACTERISTICS`` or ``DISEASE CHARACTERISTICS`` (the run-in field layout of legacy cancer
trials), **other** otherwise. Each part is sorted by NCT id and ``random.Random(SEED).sample``
draws ``--per-layout`` studies from it (one generator, PDQ first). Prints one line per study:
``NCT id<TAB>layout<TAB>characters``.

The gold files in ``corpora/registry-gold/`` are six rounds of picks (:data:`ROUNDS`): round 1 is
what this prints with the defaults (seed 8, 16 per layout); round 2 (``--round 2``: seed 10, 6 per
layout), round 3 (``--round 3``: seed 12, 4 per layout), round 4 (``--round 4``: seed 14, 4 per
layout), round 5 (``--round 5``: seed 16, 4 per layout) and round 6 (``--round 6``: seed 18, 4 per
layout) draw the same way from the pool without the earlier rounds' studies. Each round's gold was written
from the text alone before the extractor was run on those studies.
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
# (seed, studies per layout) of each round; a round draws from the pool without the earlier rounds' studies
ROUNDS = ((SEED, PER_LAYOUT), (10, 6), (12, 4), (14, 4), (16, 4), (18, 4))
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


def pick_round(pool: dict[str, list[tuple[str, int]]], round_no: int) -> list[tuple[str, str, int]]:
    """The studies of round ``round_no`` (1-based, see :data:`ROUNDS`)."""
    earlier: set[str] = set()
    for seed, per_layout in ROUNDS[:round_no - 1]:
        rest = {k: [s for s in v if s[0] not in earlier] for k, v in pool.items()}
        earlier |= {nct for nct, _, _ in pick(rest, per_layout, seed)}
    seed, per_layout = ROUNDS[round_no - 1]
    return pick({k: [s for s in v if s[0] not in earlier] for k, v in pool.items()}, per_layout, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="studies.jsonl (default: %(default)s)")
    ap.add_argument("--per-layout", type=int, default=PER_LAYOUT, help="studies per layout (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    ap.add_argument("--round", type=int, choices=range(1, len(ROUNDS) + 1), default=None,
                    help="print a round of the gold picks (its seed and size; overrides --seed/--per-layout)")
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
    seed = ROUNDS[args.round - 1][0] if args.round else args.seed
    print(f"# pool: {len(pool['pdq'])} pdq, {len(pool['other'])} other; seed {seed}", file=sys.stderr)
    picked = pick_round(pool, args.round) if args.round else pick(pool, args.per_layout, args.seed)
    for nct, layout, n in picked:
        print(f"{nct}\t{layout}\t{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
