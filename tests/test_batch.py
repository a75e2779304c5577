"""The ``extract`` command and the batch engine, end to end on the real pipeline."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from criteria_nlp.contract import SCHEMA_VERSION
from criteria_nlp import batch as batch_mod
from criteria_nlp.batch import process_records
from criteria_nlp.cli import main
from criteria_nlp.io.records import InputRecord
from criteria_nlp.io.validate import offset_problems

TEXT_A = "Inclusion Criteria:\n\n- Age >= 18 years\n- Hemoglobin > 9 g/dL\n\nExclusion Criteria:\n\n- Creatinine > 1.5 mg/dL\n"
TEXT_B = "Inclusion Criteria:\r\n  -  Platelets >= 100,000/mm3\r\n  -  ALT <= 2.5 x ULN\r\n"


def study(nct, criteria, **fields):
    em = {"eligibilityCriteria": criteria, "sex": "ALL", "minimumAge": "18 Years", "maximumAge": "N/A",
          "healthyVolunteers": False}
    em.update(fields)
    return {"protocolSection": {"identificationModule": {"nctId": nct}, "eligibilityModule": em}}


def make_studies(n):
    texts = [TEXT_A, TEXT_B, "Age 18-65 years\nBMI 18.5 to 30 kg/m2\n", "ECOG 0-1\n", "",
             "Inclusion:\n1. Weight > 50 kg\n2. eGFR >= 60 mL/min/1.73 m2\n"]
    return [study(f"NCT{10000000 + i:08d}", texts[i % len(texts)]) for i in range(n)]


def write_jsonl(path, studies):
    path.write_text("".join(json.dumps(s) + "\n" for s in studies), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(capsys, *argv):
    code = main(["extract", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- single inputs


def test_one_text_file_pretty_json_on_stdout(tmp_path, capsys):
    p = tmp_path / "trial.txt"
    p.write_bytes(TEXT_A.encode())
    code, out, err = run(capsys, p)
    assert code == 0, err
    assert out.startswith("{\n  ")  # indented
    res = json.loads(out)
    assert res["schema_version"] == SCHEMA_VERSION == "1.2"
    assert res["source"] == {"id": "trial", "path": str(p)}
    assert res["criteria"] and offset_problems(res, TEXT_A) == []
    assert "structured" not in res
    assert err == ""  # no progress noise for one document


def test_stdin_dash(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "criteria_nlp.cli", "extract", "-"], input=TEXT_B.encode(),
                          capture_output=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    res = json.loads(proc.stdout)
    assert res["source"] == {"id": None, "path": None}
    assert offset_problems(res, TEXT_B) == []  # \r\n kept: offsets index the exact input


def test_non_utf8_file_is_one_error_line_and_exit_1(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_bytes(TEXT_A.encode())
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Age \xff\xfe 18 years\n")
    good2 = tmp_path / "good2.txt"
    good2.write_bytes(TEXT_B.encode())
    code, out, err = run(capsys, good, bad, good2, "--jsonl")
    assert code == 1
    lines = [json.loads(x) for x in out.splitlines()]
    assert [r["source"]["id"] for r in lines] == ["good", "bad", "good2"]
    assert "error" in lines[1] and "UTF-8" in lines[1]["error"]
    assert "criteria" in lines[0] and "criteria" in lines[2]
    err_lines = [x for x in err.splitlines() if "bad.txt" in x]
    assert len(err_lines) == 1 and "UTF-8" in err_lines[0]
    assert "Traceback" not in err


def test_unreadable_path_goes_on(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_bytes(TEXT_A.encode())
    code, out, err = run(capsys, tmp_path / "missing.txt", good, "--jsonl")
    assert code == 1
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0]["error"].startswith("cannot read") and "criteria" in lines[1]
    assert "missing.txt" in err and "Traceback" not in err


# --------------------------------------------------------------------------- formats through the CLI


def test_ctgov_jsonl_with_bad_records(tmp_path, capsys):
    studies = make_studies(5)
    p = tmp_path / "studies.jsonl"
    text = "".join(json.dumps(s) + "\n" for s in studies[:2])
    text += '{"protocolSection": {"identificationModule": {"nctId": "NCT99999999"}, "eligibilityMod\n'  # broken line
    text += json.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT99999998"}}}) + "\n"  # missing
    text += json.dumps(study("NCT99999997", {"text": "not a string"})) + "\n"
    text += "".join(json.dumps(s) + "\n" for s in studies[2:])
    p.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, p, "-o", out, "-q")
    assert code == 1
    res = read_jsonl(out)
    assert [r["source"]["id"] for r in res] == [s["protocolSection"]["identificationModule"]["nctId"] for s in studies[:2]] + [
        "NCT99999999", "NCT99999998", "NCT99999997"] + [s["protocolSection"]["identificationModule"]["nctId"] for s in studies[2:]]
    assert [("error" in r) for r in res] == [False, False, True, True, True, False, False, False]
    for r in res:
        if "error" not in r:
            assert r["structured"]["age"][0] == {"comparator": ">=", "value": 18, "unit": "a", "text": "18 Years",
                                                 "origin": "structured_field", "field": "minimumAge"}
            assert r["structured"]["sex"] == "ALL" and r["structured"]["healthy_volunteers"] is False
    assert len([x for x in err.splitlines() if x.startswith("criteria-nlp: ")]) == 3
    assert "Traceback" not in err


def test_ctgov_json_page_and_format_override(tmp_path, capsys):
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": make_studies(3), "nextPageToken": "x"}, indent=2), encoding="utf-8")
    code, out, _ = run(capsys, page, "-q")
    assert code == 0
    res = [json.loads(x) for x in out.splitlines()]  # registry records -> JSON Lines on stdout
    assert [r["source"]["id"] for r in res] == ["NCT10000000", "NCT10000001", "NCT10000002"]
    # the same file forced to be plain text: one document, the JSON source itself
    code, out, _ = run(capsys, page, "--format", "text")
    assert code == 0 and json.loads(out)["source"]["id"] == "page"


def test_aact_flat_file(tmp_path, capsys):
    p = tmp_path / "eligibilities.txt"
    header = "id|nct_id|sampling_method|gender|minimum_age|maximum_age|healthy_volunteers|population|criteria"
    crit = "Inclusion Criteria:\n\n  - Age >= 18 years\n  - \"Hb\" > 9 g/dL\n"
    rows = [header, '1|NCT00000001||All|18 Years|N/A|No||"' + crit.replace('"', '""') + '"',
            "2|NCT00000002||Female|18 Years|65 Years|Accepts Healthy Volunteers||Age 18-65 years"]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, p, "-q")
    assert code == 0
    res = [json.loads(x) for x in out.splitlines()]
    assert [r["source"]["id"] for r in res] == ["NCT00000001", "NCT00000002"]
    assert offset_problems(res[0], crit) == []
    assert res[1]["structured"]["sex"] == "FEMALE" and res[1]["structured"]["healthy_volunteers"] is True


# --------------------------------------------------------------------------- outputs


def test_output_directory(tmp_path, capsys):
    a = tmp_path / "in" / "alpha.txt"
    a.parent.mkdir()
    a.write_bytes(TEXT_A.encode())
    b = tmp_path / "in" / "beta.txt"
    b.write_bytes(TEXT_B.encode())
    s = write_jsonl(tmp_path / "in" / "s.jsonl", make_studies(2))
    out = tmp_path / "out"
    code, stdout, err = run(capsys, a, b, s, "-o", out)
    assert code == 0, err
    assert stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["NCT10000000.json", "NCT10000001.json", "alpha.json", "beta.json"]
    res = json.loads((out / "alpha.json").read_text(encoding="utf-8"))
    assert res["source"]["id"] == "alpha" and offset_problems(res, TEXT_A) == []
    assert "done: 4 documents (0 failed)" in err


def test_output_directory_resume_skips_existing(tmp_path, capsys):
    a = tmp_path / "alpha.txt"
    a.write_bytes(TEXT_A.encode())
    b = tmp_path / "beta.txt"
    b.write_bytes(TEXT_B.encode())
    out = tmp_path / "out"
    assert run(capsys, a, "-o", out)[0] == 0
    stamp = (out / "alpha.json").stat().st_mtime_ns
    code, _, err = run(capsys, a, b, "-o", out, "--resume")
    assert code == 0
    assert (out / "alpha.json").stat().st_mtime_ns == stamp and (out / "beta.json").exists()
    assert "1 already done" in err


def test_resume_after_kill_truncated_last_line(tmp_path, capsys):
    src = write_jsonl(tmp_path / "s.jsonl", make_studies(23))
    full = tmp_path / "full.jsonl"
    assert run(capsys, src, "-o", full, "--batch-size", "4", "-q")[0] == 0
    full_lines = full.read_bytes().splitlines(keepends=True)
    assert len(full_lines) == 23
    # simulate a kill: 9 complete lines and half of the 10th
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(full_lines[:9]) + full_lines[9][: len(full_lines[9]) // 2])
    code, _, err = run(capsys, src, "-o", part, "--resume", "--batch-size", "4")
    assert code == 0, err
    assert part.read_bytes() == full.read_bytes()  # nothing lost, nothing duplicated
    assert "9 already done" in err
    # resuming a finished run appends nothing
    code, _, _ = run(capsys, src, "-o", part, "--resume", "-q")
    assert code == 0 and part.read_bytes() == full.read_bytes()


def test_resume_keeps_error_records_done(tmp_path, capsys):
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps(study("NCT1", TEXT_A)) + "\n{oops\n" + json.dumps(study("NCT2", TEXT_B)) + "\n",
                   encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert run(capsys, src, "-o", out, "-q")[0] == 1
    before = out.read_bytes()
    lines = before.splitlines(keepends=True)
    out.write_bytes(lines[0] + lines[1])  # killed after the error record
    assert run(capsys, src, "-o", out, "--resume", "-q")[0] == 0  # only NCT2 was left to do
    assert out.read_bytes() == before


def test_workers_preserve_order(tmp_path, capsys):
    src = write_jsonl(tmp_path / "s.jsonl", make_studies(30))
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    assert run(capsys, src, "-o", one, "--batch-size", "3", "-q")[0] == 0
    assert run(capsys, src, "-o", two, "--batch-size", "3", "--workers", "2", "-q")[0] == 0
    assert one.read_bytes() == two.read_bytes()


def test_limit_and_plain_progress_lines(tmp_path, capsys):
    src = write_jsonl(tmp_path / "s.jsonl", make_studies(12))
    code, out, err = run(capsys, src, "--jsonl", "--limit", "5")
    assert code == 0
    assert len(out.splitlines()) == 5
    # stderr is not a terminal here: plain lines, no progress bar control characters
    assert "\r" not in err and "done: 5 documents (0 failed)" in err


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("argv,needle", [
    ([], "at least one PATH"),
    (["x.txt", "--resume"], "--resume needs"),
    (["x.txt", "--write-db"], "--write-db needs --dsn"),
    (["x.txt", "--dsn", "postgresql://localhost/x"], "--write-db"),
    (["-", "-"], "only once"),
])
def test_usage_errors_exit_2(capsys, argv, needle):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_argparse_usage_errors_exit_2(capsys):
    for argv in (["extract", "x.txt", "--format", "xml"], ["extract", "x.txt", "--workers", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    capsys.readouterr()


def test_db_connection_failure_is_one_line(capsys):
    code, _, err = run(capsys, "--dsn", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "-q")
    assert code == 1
    assert err.startswith("criteria-nlp: cannot connect to PostgreSQL") and "Traceback" not in err


# --------------------------------------------------------------------------- engine


def test_failing_document_becomes_error_record(monkeypatch):
    import criteria_nlp.pipeline as pipeline

    real_extract = pipeline.extract

    def many(items, batch_size=64, **options):
        items = list(items)
        if any("EXPLODE" in t for t, _, _ in items):
            raise RuntimeError("batch failed")
        for t, i, p in items:
            yield real_extract(t, i, p)

    def one(text, doc_id=None, path=None, **options):
        if "EXPLODE" in text:
            raise RuntimeError("this document is cursed")
        return real_extract(text, doc_id, path)

    monkeypatch.setattr(pipeline, "extract_many", many)
    monkeypatch.setattr(pipeline, "extract", one)
    recs = [InputRecord("a", TEXT_A, None), InputRecord("b", "EXPLODE", None), InputRecord("c", TEXT_B, None),
            InputRecord("d", None, None, error="unreadable")]
    outs = list(process_records(recs, batch_size=8))
    assert [o.record.id for o in outs] == ["a", "b", "c", "d"]
    assert [o.ok for o in outs] == [True, False, True, False]
    assert "cursed" in outs[1].result["error"] and outs[3].result["error"] == "unreadable"
    assert outs[0].result["criteria"]


@pytest.mark.parametrize("workers", [1, 2])
def test_engine_streams_lazily(workers):
    """An endless input: the engine must hand back results without reading everything first."""
    consumed = itertools.count()

    def endless():
        for i in itertools.count():
            next(consumed)
            yield InputRecord(f"d{i}", "Age >= 18 years\n", None)

    gen = process_records(endless(), workers=workers, batch_size=4)
    got = list(itertools.islice(gen, 10))
    gen.close()
    assert [o.record.id for o in got] == [f"d{i}" for i in range(10)]
    assert next(consumed) < 10 + 4 * (2 * workers + 2)  # bounded read-ahead
    assert all(o.record.text is None for o in got)  # texts are not kept around


def test_start_method_override(monkeypatch):
    monkeypatch.setenv(batch_mod.ENV_START_METHOD, "spawn")
    assert batch_mod.start_method() == "spawn"
    monkeypatch.delenv(batch_mod.ENV_START_METHOD)
    assert batch_mod.start_method() in ("fork", "spawn")


def test_no_traceback_on_unexpected_error(tmp_path, monkeypatch, capsys):
    import criteria_nlp.batch as b

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(b, "process_records", boom)
    p = tmp_path / "a.txt"
    p.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, p)
    assert code == 1 and err.strip() == "criteria-nlp: unexpected error: RuntimeError: disk on fire"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_spawn_pool_works(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(batch_mod.ENV_START_METHOD, "spawn")
    src = write_jsonl(tmp_path / "s.jsonl", make_studies(6))
    out = tmp_path / "o.jsonl"
    assert run(capsys, src, "-o", out, "--workers", "2", "--batch-size", "2", "-q")[0] == 0
    assert [r["source"]["id"] for r in read_jsonl(out)] == [f"NCT{10000000 + i:08d}" for i in range(6)]


def test_timeout_turns_a_stuck_document_into_an_error_record(monkeypatch):
    import time as _time

    import criteria_nlp.pipeline as pipeline

    real_extract = pipeline.extract

    def slow_many(items, batch_size=64, **options):
        items = list(items)
        for t, i, p in items:
            if "STUCK" in t:
                _time.sleep(30)
            yield real_extract(t, i, p)

    def slow_one(text, doc_id=None, path=None, **options):
        if "STUCK" in text:
            _time.sleep(30)
        return real_extract(text, doc_id, path)

    monkeypatch.setattr(pipeline, "extract_many", slow_many)
    monkeypatch.setattr(pipeline, "extract", slow_one)
    recs = [InputRecord("a", TEXT_A, None), InputRecord("b", "STUCK", None), InputRecord("c", TEXT_B, None)]
    t0 = _time.monotonic()
    outs = list(process_records(recs, batch_size=8, timeout=0.5))
    assert _time.monotonic() - t0 < 10
    assert [o.ok for o in outs] == [True, False, True]
    assert outs[1].error == "extraction timed out after 0.5 s"
    assert outs[1].result["error"] == "extraction timed out after 0.5 s"
