"""How much would quantulum3 (not a dependency: `pip install quantulum3==0.10.0` to run this) add as the last-resort resolver of unit surfaces our table does not know?

    python scripts/measure_quantulum.py [--sample ../shared/corpora/ctgov-sample/studies.jsonl] [--show 50]

For every quantity of the registry sample's criteria texts that has a comparator and no unit or
reference limit (``find_quantities``), the text right after the number (up to the end of its clause,
25 characters) is given to quantulum3 (its pickled classifier does not load with the scikit-learn we
need, so it runs with ``USE_CLF = False``). Counts: quantities looked at, quantulum3 units found
(dimensionless ones apart), and the first ``--show`` of them with their context for a hand check.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter

from criteria_nlp.quantities.grammar import find_quantities


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", default="../shared/corpora/ctgov-sample/studies.jsonl")
    ap.add_argument("--show", type=int, default=50)
    args = ap.parse_args(argv)
    from quantulum3 import classifier, parser
    classifier.USE_CLF = False
    looked = with_unit = dimensionless = errors = 0
    found: list[tuple[str, str, str]] = []
    kinds: Counter = Counter()
    t0 = time.perf_counter()
    with open(args.sample, encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["protocolSection"]["eligibilityModule"].get("eligibilityCriteria") or ""
            for q in find_quantities(text):
                if q.unit is not None or q.relative_to is not None or not q.comparator or q.comparator == "between":
                    continue
                tail = re.split(r"[;\n()]", text[q.value_start:q.value_start + 25])[0]
                looked += 1
                try:
                    parsed = parser.parse(tail)
                except Exception:  # quantulum3 raises on some inputs
                    errors += 1
                    continue
                units = [p for p in parsed if p.span[0] == 0]
                if not units:
                    continue
                unit = units[0].unit
                if unit.name == "dimensionless" or unit.entity.name == "dimensionless":
                    dimensionless += 1
                    continue
                with_unit += 1
                kinds[unit.name] += 1
                found.append((tail.strip(), unit.name, unit.entity.name))
    seconds = time.perf_counter() - t0
    print(f"quantities with a comparator and no unit: {looked}; quantulum3 errors {errors}")
    print(f"quantulum3 gives a unit: {with_unit} ({with_unit / max(looked, 1):.3f}); dimensionless: {dimensionless}")
    print(f"seconds: {seconds:.1f}")
    print("most frequent units:", ", ".join(f"{k} {n}" for k, n in kinds.most_common(15)))
    random.Random(9).shuffle(found)
    for tail, unit, entity in found[:args.show]:
        print(f"  {tail!r:32} -> {unit} ({entity})")


if __name__ == "__main__":
    main()
