"""Share of rules whose variable carries a code, in an ``extract`` JSON Lines output.

    criteria-nlp extract ../shared/corpora/ctgov-sample/studies.jsonl -o sample.jsonl -q
    python scripts/code_coverage.py sample.jsonl [--top 25]

Prints the share of all rules with a code, the share among rules whose variable is a lexicon entry
(a ``category`` is set), and the most frequent variables without a code.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    total = coded = lexicon = lexicon_coded = 0
    uncoded_lexicon: Counter = Counter()
    uncoded_other: Counter = Counter()
    with open(args.results, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            for criterion in record.get("criteria", []):
                for rule in criterion["rules"]:
                    var = rule.get("variable") or {}
                    total += 1
                    has_code = bool(var.get("code"))
                    coded += has_code
                    if var.get("category"):
                        lexicon += 1
                        lexicon_coded += has_code
                        if not has_code:
                            uncoded_lexicon[var.get("name")] += 1
                    elif not has_code:
                        uncoded_other[var.get("name")] += 1
    print(f"rules {total}: coded {coded} ({coded / max(total, 1):.3f})")
    print(f"rules of lexicon variables {lexicon}: coded {lexicon_coded} ({lexicon_coded / max(lexicon, 1):.3f})")
    print("most frequent lexicon variables without a code:")
    for name, n in uncoded_lexicon.most_common(args.top):
        print(f"  {n:6d}  {name}")
    print("most frequent unknown variables:")
    for name, n in uncoded_other.most_common(args.top):
        print(f"  {n:6d}  {name}")


if __name__ == "__main__":
    main()
