"""Every corpus document processes without error, with exact offsets and a schema-valid result.

Needs ``../shared/corpora`` (skipped when absent). All 712 LCT dev documents and all 6,770
ClinicalTrials.gov sample studies are checked (about 50 s on the 2-core machine, with
``extract_many`` batching and one schema validator). ``CRITERIA_NLP_CTGOV_SAMPLE=N`` checks a
deterministic sample of N studies (every k-th) instead, should the pipeline get slower.
"""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
CTGOV = CORPORA / "ctgov-sample" / "studies.jsonl"
LCT = CORPORA / "lct" / "dev"
SAMPLE = int(os.environ.get("CRITERIA_NLP_CTGOV_SAMPLE", "0"))
# A hard limit per corpus: a catastrophic (e.g. regex backtracking) document fails the test
# in bounded time instead of stalling CI.
TIME_LIMIT = float(os.environ.get("CRITERIA_NLP_CORPUS_TIME_LIMIT", "600"))


def _check(items, label):
    """Run :func:`_check_here` in a forked child with a time limit (in-process without fork)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return _check_here(items, label)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def target():
        try:
            child.send(("ok", _check_here(items, label)))
        except AssertionError as exc:
            child.send(("fail", str(exc)))
        except BaseException as exc:  # noqa: BLE001
            child.send(("fail", f"{type(exc).__name__}: {exc}"))

    proc = ctx.Process(target=target, daemon=True)
    proc.start()
    child.close()
    if not parent.poll(TIME_LIMIT):
        proc.kill()
        proc.join()
        pytest.fail(f"{label}: {len(items)} documents not done within {TIME_LIMIT:.0f} s "
                    "(a pathological slow-down; run scripts/check_corpora.py to find the document)")
    status, value = parent.recv()
    proc.join(30)
    if status != "ok":
        pytest.fail(value, pytrace=False)
    return value


def _check_here(items, label):
    from criteria_nlp import extract_many
    from criteria_nlp.io.validate import offset_problems, schema_validator

    validator = schema_validator()  # built once
    failures = []
    n = rules = 0
    texts = {doc_id: text for text, doc_id, _ in items}
    for res in extract_many(items, batch_size=64):
        n += 1
        doc_id = res["source"]["id"]
        problems = offset_problems(res, texts[doc_id])
        problems += [f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:150]}"
                     for e in list(validator.iter_errors(res))[:3]]
        rules += sum(len(c["rules"]) for c in res["criteria"])
        if problems:
            failures.append(f"{doc_id}: {problems[0]}")
    assert n == len(items)
    assert not failures, f"{label}: {len(failures)} document(s) failed, e.g.\n" + "\n".join(failures[:10])
    return n, rules


@pytest.mark.skipif(not LCT.is_dir(), reason=f"LCT corpus not found at {LCT}")
def test_lct_dev_documents():
    items = []
    for p in sorted(LCT.glob("*.txt")):
        text = p.read_bytes().decode("utf-8")
        items.append((text, p.stem, str(p)))
    assert len(items) >= 700
    n, rules = _check(items, "LCT")
    assert rules > 0


@pytest.mark.skipif(not CTGOV.is_file(), reason=f"ClinicalTrials.gov sample not found at {CTGOV}")
def test_ctgov_sample_studies():
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    recs = list(iter_ctgov_jsonl(str(CTGOV)))
    assert len(recs) == 6770
    bad = [f"{r.where()}: {r.error}" for r in recs if r.error]
    assert not bad, bad[:5]
    if SAMPLE and SAMPLE < len(recs):
        step = len(recs) / SAMPLE
        recs = [recs[int(i * step)] for i in range(SAMPLE)]
    items = [(r.text, r.id, r.path) for r in recs]
    n, rules = _check(items, "ctgov")
    assert rules > 0
