#!/usr/bin/env python
"""Write ``criteria_nlp/resources/unit_conversions.json``: the unit conversions text asks for.

::

    python scripts/build_unit_conversions.py [--sample ../shared/corpora/ctgov-sample/studies.jsonl]
                                             [--corpus-dir ../shared/corpora/lct/dev] [--check]

Runs the rules-only pipeline over the registry sample, every LCT document and the reference
record, collects every (from unit, to unit, molar mass, valence) conversion the normaliser asked
for, adds the identity-free conversions between the canonical units of the lexicon's variables and
every unit seen with a variable of that canonical unit, and stores what pint (via ucumvert) gives
for each. Extraction reads this table and builds pint's registry only for a pair outside it
(``criteria_nlp.quantities.units``). ``--check`` recomputes the shipped table and exits 1 when it
differs (a test does the same on a sample of it).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _texts(sample: Path | None, corpus_dir: str | None):
    from criteria_nlp.evaluation.command import resolve_corpus_dir
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    if sample is not None and sample.is_file():
        for rec in iter_ctgov_jsonl(str(sample)):
            if rec.text:
                yield rec.text
    lct = Path(resolve_corpus_dir(corpus_dir))
    if lct.is_dir():
        for path in sorted(lct.glob("*.txt")):
            yield path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "corpora" / "examples").glob("*.criteria.txt")):
        yield path.read_text(encoding="utf-8")


def collect_pairs(texts) -> set[tuple]:
    """Every conversion key the normaliser asks for on ``texts``."""
    from criteria_nlp.pipeline import build_pipeline, prepare_text
    from criteria_nlp.quantities import units

    nlp = build_pipeline(linker_model=None)
    shipped = units._shipped_conversions
    units._shipped_conversions = lambda: {}  # ask pint for everything, and record the keys
    try:
        units._CONV_CACHE.clear()
        keys: set[tuple] = set()
        for doc in nlp.pipe(prepare_text(t).text for t in texts):
            keys.update(units._CONV_CACHE)
            units._CONV_CACHE.clear()
    finally:
        units._shipped_conversions = shipped
    return keys


def table(keys: set[tuple]) -> list[list]:
    from criteria_nlp.quantities.units import conversion

    # units seen converting to a canonical unit also convert to the other units of the same canonical
    # unit and molar mass (a unit written for creatinine is written for urea too)
    seen_with: dict[str, set[str]] = {}
    for frm, to, _, _ in keys:
        seen_with.setdefault(to, set()).add(frm)
    from criteria_nlp.resources.lexicon import variables_by_name

    for entry in variables_by_name().values():
        if entry.unit:
            for frm in seen_with.get(entry.unit, ()):
                keys.add((frm, entry.unit, entry.molar_mass, None))
    rows = []
    for frm, to, mass, valence in sorted(keys, key=lambda k: (k[0], k[1], k[2] or 0.0, k[3] or 0)):
        if frm == to:
            continue  # no table needed
        conv = conversion(frm, to, mass, valence)
        rows.append([frm, to, mass, valence, list(conv) if conv is not None else None])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, default=ROOT.parent / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl")
    ap.add_argument("--corpus-dir", default=None, help="LCT brat directory (default: $CRITERIA_NLP_LCT_DIR or ../shared/corpora/lct/dev)")
    ap.add_argument("--check", action="store_true", help="recompute the shipped table; exit 1 when it differs")
    args = ap.parse_args(argv)
    from criteria_nlp.quantities.units import CONVERSIONS_RESOURCE, conversion

    if args.check:
        data = json.loads(CONVERSIONS_RESOURCE.read_text(encoding="utf-8"))
        bad = [row for row in data["conversions"]
               if (list(c) if (c := conversion(*row[:4])) is not None else None) != row[4]]
        print(f"{len(data['conversions'])} conversions, {len(bad)} differ from pint")
        return 1 if bad else 0
    rows = table(collect_pairs(_texts(args.sample, args.corpus_dir)))
    head = json.dumps({
        "description": "Unit conversions (from UCUM, to UCUM, molar mass g/mol or null, valence or null, "
                       "[10** before, factor, offset, log10 after] or null when the units do not convert), "
                       "computed with pint via ucumvert for the pairs that registry and annotated text ask "
                       "for. Written by scripts/build_unit_conversions.py; extraction computes any other "
                       "pair with pint.",
        "version": 1,
    }, indent=1, ensure_ascii=False)
    body = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows)
    CONVERSIONS_RESOURCE.write_text(f'{head[:-2]},\n "conversions": [\n{body}\n ]\n}}\n', encoding="utf-8")
    print(f"wrote {len(rows)} conversions to {CONVERSIONS_RESOURCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
