#!/usr/bin/env python
"""Score ``criteria_nlp.extract`` on the hand-annotated reference record.

    python scripts/score_reference.py            # readable report
    python scripts/score_reference.py --json     # the report as JSON

Runs the pipeline on the gold's document (``corpora/examples/NCT06852573.criteria.txt``) and
compares the result with ``corpora/gold/NCT06852573.gold.json`` (see
``criteria_nlp.evaluation.reference_gold``). Exits 0 whatever the scores (a crash of the
pipeline is printed and scored as an empty prediction); exits 2 when a file is missing.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = ROOT / "corpora" / "gold" / "NCT06852573.gold.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSON (default: %(default)s)")
    ap.add_argument("--text", type=Path, default=None,
                    help="document to run on (default: the gold's 'document', relative to the project root)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)

    if not args.gold.is_file():
        print(f"score_reference: gold file not found: {args.gold}", file=sys.stderr)
        return 2
    from criteria_nlp.evaluation.reference_gold import compare, load_gold

    gold = load_gold(args.gold)
    text_path = args.text or ROOT / gold.document
    if not text_path.is_file():
        print(f"score_reference: document not found: {text_path}", file=sys.stderr)
        return 2
    with open(text_path, encoding="utf-8", newline="") as fh:
        text = fh.read()

    try:
        import criteria_nlp

        prediction = criteria_nlp.extract(text, doc_id=Path(gold.document).name.split(".")[0])
    except Exception:  # the pipeline is work in progress: report, score nothing
        traceback.print_exc()
        print("score_reference: extract() failed; scoring an empty prediction", file=sys.stderr)
        prediction = {"criteria": []}

    report = compare(prediction, gold)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print(report.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
