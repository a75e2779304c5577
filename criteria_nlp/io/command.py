"""``criteria-nlp extract``: minimal version (the batch/registry version replaces it)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def add_extract_parser(sub) -> None:
    p = sub.add_parser("extract", help="extract threshold rules from criteria text files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="text file(s), or - for stdin")
    p.add_argument("-o", "--output", metavar="DIR", help="write DIR/<stem>.json per input")
    p.add_argument("--jsonl", action="store_true", help="one JSON document per line on stdout")
    p.set_defaults(handler=run_extract)


def run_extract(args) -> int:
    from ..pipeline import extract

    failed = 0
    for path in args.paths:
        try:
            if path == "-":
                text = sys.stdin.buffer.read().decode("utf-8")
            else:
                with open(path, encoding="utf-8", newline="") as fh:
                    text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"criteria-nlp: cannot read {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        result = extract(text, doc_id=Path(path).stem if path != "-" else None, path=None if path == "-" else path)
        if args.output:
            out = Path(args.output)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{Path(path).stem}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
        elif args.jsonl:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(json.dumps(result, indent=2, ensure_ascii=False))
    return 1 if failed else 0
