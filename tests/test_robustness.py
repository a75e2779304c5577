"""Robustness: random and adversarial inputs never raise, keep exact offsets, stay fast.

Property tests (hypothesis, modest example counts for 2-core CI) run the real pipeline on
random text, fragment soups of criteria-like pieces, deep nesting of list markers and
parentheses, control characters and mixed scripts; every result must validate against the JSON
Schema and satisfy ``text == input[start:end]`` everywhere. The timing tests run 100 KB-1 MB
adversarial inputs, each in a forked child with a hard time limit, so a pathological
(quadratic) case fails in bounded time instead of stalling the run.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from criteria_nlp import extract, extract_many
from criteria_nlp.batch import process_records
from criteria_nlp.io.readers import iter_ctgov_jsonl, iter_studies_json, sniff_format
from criteria_nlp.io.records import InputRecord
from criteria_nlp.io.validate import offset_problems, schema_problems

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

FRAGMENTS = [
    "Age", "age", " ", "  ", "\n", "\r\n", "\t", "years", "yrs", "months", ">=", "≥", "≤", "<", ">", "=", "≧",
    "\\>", "\\<", "\\*", "mg/dL", "g/L", "x ULN", "× ULN", "x 10^9/L", "10⁹/L", "%", "kg/m2", "mL/min/1.73 m²",
    "-", "–", "—", "1.", "2)", "a)", "(i)", "•", "*", "(", ")", "[", "]", "or", "and", "between", "to", "not",
    "no", "except", "within", "weeks", "prior", "Inclusion Criteria:", "Exclusion Criteria:", "ECOG", "BMI",
    "hemoglobin", "creatinine", "ALT", "AST", "platelets", "18", "0", "1.5", "100,000", "1e308", "-5", ".5",
    "99999999999999999999999999999999", "½", "²", "٣", "一", "возраст", "年齢", "🧪", "\u200b", "\u202e",
    "\x00", "\x0b", "\x0c", "\x1c", "\u2028", "\ufeff",
]

fragment_soup = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=80).map("".join)
any_text = st.text(max_size=400)
digits_and_symbols = st.text(alphabet="0123456789.,-+eE<>=≥≤%/()x ", max_size=300)


def check(text: str) -> dict:
    res = extract(text, doc_id="t")
    assert res["source"]["id"] == "t"
    assert offset_problems(res, text) == []
    assert schema_problems(res) == []
    return res


@SETTINGS
@given(fragment_soup)
def test_fragment_soup(text):
    check(text)


@SETTINGS
@given(any_text)
def test_random_unicode(text):
    check(text)


@SETTINGS
@given(digits_and_symbols)
def test_numbers_and_symbols(text):
    check(text)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 300), st.sampled_from(["(", "[", "- ", "1. ", "a) ", "  ", "\\(", "(("]))
def test_deep_nesting(depth, opener):
    closer = {"(": ")", "[": "]", "\\(": "\\)", "((": "))"}.get(opener, "")
    text = "".join(f"{opener}" for _ in range(depth)) + "Age >= 18 years" + closer * depth
    check(text)
    lines = "".join("  " * (i % 30) + f"{i}. {opener}Hb > {i % 20} g/dL\n" for i in range(depth))
    check(lines)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.lists(fragment_soup, min_size=1, max_size=12))
def test_batched_equals_single(texts):
    items = [(t, str(i), None) for i, t in enumerate(texts)]
    batched = list(extract_many(items, batch_size=5))
    assert [r["source"]["id"] for r in batched] == [str(i) for i in range(len(texts))]
    for t, r in zip(texts, batched):
        assert offset_problems(r, t) == []


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.binary(max_size=600))
def test_readers_survive_random_bytes(data):
    # JSON Lines: every non-blank line becomes a record or an error record, never an exception
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as fh:
        fh.write(data)
        name = fh.name
    try:
        recs = list(iter_ctgov_jsonl(name))
        assert len(recs) <= data.count(b"\n") + 1
        assert all(r.error or isinstance(r.text, str) for r in recs)
    finally:
        os.unlink(name)
    sniff_format(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        list(iter_studies_json(io.StringIO(text), chunk=7))
    except ValueError:
        pass  # malformed JSON is reported as ValueError (-> one error record)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(st.one_of(fragment_soup, st.none()), min_size=1, max_size=10))
def test_engine_never_raises(texts):
    recs = [InputRecord(str(i), t, None, error=None if t is not None else "unreadable") for i, t in enumerate(texts)]
    outs = list(process_records(recs, batch_size=3))
    assert [o.record.id for o in outs] == [str(i) for i in range(len(texts))]
    assert [o.ok for o in outs] == [t is not None for t in texts]


# --------------------------------------------------------------------------- slow-down guards

TIME_LIMIT = float(os.environ.get("CRITERIA_NLP_ADVERSARIAL_LIMIT", "20"))


def _adversarial_cases() -> dict[str, str]:
    rnd = random.Random(1234)
    mixed_alphabet = "年齢≥18歳 возраст ≥ 18 лет العمر ≥ 18 🧪 Age ≥ 18 y\n\u200b\u202e"
    return {
        "1 MB single line of criteria words": (
            "Hemoglobin >= 9 g/dL and platelets > 100 x 10^9/L " * 20001)[:1_000_000],
        "1 MB digit run": "9" * 1_000_000,
        "100 KB comparator/symbol run": ("<>=≥≤±%/()[]-.,;:*^~" * 5001)[:100_000],
        "100 KB nested parentheses": "(" * 50_000 + ")" * 50_000,
        "100 KB huge numbers": " ".join(["1" + "0" * 400 + " mg/dL >= 1e308 1e999 -0.000000001"] * 230),
        "120 KB list-marker nesting": "".join(
            "  " * (i % 40) + f"{i}. a) (i) - • Age > {i} years\n" for i in range(3000)),
        "200 KB control characters": "".join(chr(rnd.randrange(0, 32)) for _ in range(200_000)),
        "200 KB mixed scripts": "".join(rnd.choice(mixed_alphabet) for _ in range(200_000)),
        "100 KB of ranges": "Age 18-65 years, BMI 18.5-30 kg/m2; " * 2800,
        "100 KB markdown escapes": "\\>\\<\\*\\^" * 12_500,
        "100 KB dots between numbers": ".".join(str(i) for i in range(20_000)),
        # long blank runs where several optional parts of a pattern could each take the blanks
        "100 KB of blanks after a heading": "Inclusion Criteria" + " " * 100_000 + "x\n- Age ≥ 18 years",
        "100 KB of blanks between two bounds": "Inclusion Criteria:\n- Age ≥ 18" + " " * 100_000 + "and ≤ 65 years",
        "100 KB of blanks after a number": "Inclusion Criteria:\n- Hb 18" + " \t" * 50_000 + "x",
        "100 KB of blanks after a window": "Inclusion Criteria:\n- within 6 months" + " " * 100_000 + "x",
        "100 KB of blanks before a variable": "Inclusion Criteria:\n- ≥ 140 mmHg" + " " * 100_000 + "of age",
    }


def _child(text: str, conn) -> None:
    try:
        t0 = time.perf_counter()
        res = extract(text)
        elapsed = time.perf_counter() - t0
        conn.send((elapsed, offset_problems(res, text)[:3], None))
    except BaseException as exc:  # noqa: BLE001
        conn.send((None, [], f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def warm_pipeline():
    extract("Age >= 18 years")  # built before forking, so every child starts warm


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
@pytest.mark.parametrize("name", list(_adversarial_cases()))
def test_adversarial_input_is_fast(name, warm_pipeline):
    text = _adversarial_cases()[name]
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(text, child), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    child.close()
    got = parent.poll(TIME_LIMIT * 1.5)
    if not got:
        proc.kill()
        proc.join()
        pytest.fail(f"{name}: no result after {time.perf_counter() - t0:.0f} s (pathological slow-down)")
    elapsed, problems, error = parent.recv()
    proc.join(10)
    assert error is None, f"{name}: {error}"
    assert problems == [], f"{name}: {problems}"
    assert elapsed < TIME_LIMIT, f"{name}: {elapsed:.1f} s for {len(text):,} characters"


def test_error_records_are_json_serialisable():
    from criteria_nlp.io.writers import dumps

    outs = list(process_records([InputRecord("x", None, "p", error="bad \udc80 byte")]))
    assert json.loads(dumps(outs[0].result))["error"].startswith("bad")


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    reference = Path(__file__).resolve().parents[1] / "corpora" / "examples" / "NCT06852573.criteria.txt"
    for i in range(8):  # more output than a pipe buffer holds
        shutil.copy(reference, tmp_path / f"copy{i}.txt")
    proc = subprocess.Popen([sys.executable, "-m", "criteria_nlp.cli", "extract", str(tmp_path), "--jsonl", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(100)  # like "| head -c 100"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) != 0  # the output was not all delivered
    assert "Traceback" not in err


def test_the_cli_turns_a_broken_pipe_into_exit_code_141(monkeypatch, capsys):
    from criteria_nlp import cli
    from criteria_nlp.evaluation import command

    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(command, "run_evaluate", closed_pipe)
    assert cli.main(["evaluate", "--corpus", "lct"]) == 141
    assert "Traceback" not in capsys.readouterr().err
