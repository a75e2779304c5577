#!/usr/bin/env python
"""Compare two JSON Lines outputs of ``criteria-nlp extract`` record by record, matched by id.

    python scripts/compare_output.py BEFORE.jsonl AFTER.jsonl [--show N] [--bytes]

Records are matched by ``source.id`` (``source.line`` for records without id; a repeated id is
matched by its occurrence number). For each pair it tells whether the JSON values are equal (same
keys in the same order, same values: floats compared exactly) and whether the lines are
byte-identical. Prints the counts, the ids only on one side, and the first ``--show`` differing
records with the first path where they differ.

Exit status: 0 when every record is on both sides with equal values (and, with ``--bytes``,
byte-identical lines), 1 otherwise, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any, Iterator


def _key(obj: Any, seen: Counter) -> tuple:
    src = obj.get("source") if isinstance(obj, dict) else None
    src = src if isinstance(src, dict) else {}
    base = (src.get("id"), None if src.get("id") is not None else src.get("line"))
    seen[base] += 1
    return (*base, seen[base])


def read(path: str) -> dict[tuple, tuple[bytes, Any]]:
    """``key -> (line bytes without newline, parsed value)`` of a JSONL file."""
    out: dict[tuple, tuple[bytes, Any]] = {}
    seen: Counter = Counter()
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip(b"\n")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise SystemExit(f"compare_output: {path}:{n}: not JSON: {exc}") from None
            out[_key(obj, seen)] = (line, obj)
    return out


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """The JSON path of the first difference (keys order included), or None when equal."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r:.60} != {type(b).__name__} {b!r:.60}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r:.80} != {b!r:.80}"


def compare(before: dict, after: dict) -> Iterator[tuple[tuple, str | None, bool]]:
    for key in before.keys() & after.keys():
        (la, a), (lb, b) = before[key], after[key]
        yield key, first_difference(a, b), la == lb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--show", type=int, default=10, help="differing records to show (default 10)")
    ap.add_argument("--bytes", action="store_true", help="also require byte-identical lines")
    args = ap.parse_args(argv)
    try:
        before, after = read(args.before), read(args.after)
    except OSError as exc:
        print(f"compare_output: {exc}", file=sys.stderr)
        return 2
    only_before = sorted(before.keys() - after.keys(), key=str)
    only_after = sorted(after.keys() - before.keys(), key=str)
    results = sorted(compare(before, after), key=lambda r: str(r[0]))
    differ = [(k, d) for k, d, _ in results if d]
    same_bytes = sum(1 for _, _, b in results if b)
    print(f"{len(before):,} records before, {len(after):,} after, {len(results):,} matched by id")
    print(f"equal values: {len(results) - len(differ):,}; differing: {len(differ):,}; "
          f"byte-identical lines: {same_bytes:,}")
    if only_before or only_after:
        print(f"only before: {len(only_before):,} {[k[0] for k in only_before[:5]]}; "
              f"only after: {len(only_after):,} {[k[0] for k in only_after[:5]]}")
    for key, diff in differ[:args.show]:
        print(f"  {key[0] if key[0] is not None else 'line ' + str(key[1])}: {diff}")
    ok = not differ and not only_before and not only_after and (not args.bytes or same_bytes == len(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
