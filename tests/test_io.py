"""Readers, format detection, structured fields, writers and resume bookkeeping (no pipeline)."""
from __future__ import annotations

import io
import json
import sys

import pytest

from criteria_nlp.contract import SCHEMA_VERSION
from criteria_nlp.io.progress import Progress
from criteria_nlp.io.readers import (
    detect_format,
    iter_aact,
    iter_ctgov_json,
    iter_ctgov_jsonl,
    iter_inputs,
    iter_studies_json,
    iter_text,
    sniff_format,
    study_to_record,
)
from criteria_nlp.io.records import InputRecord, error_record, key_of_output
from criteria_nlp.io.structured import age_warnings, apply_structured, parse_age, structured_rules
from criteria_nlp.io.validate import offset_problems
from criteria_nlp.io.writers import DirWriter, JsonlWriter, output_name, scan_completed


def study(nct, criteria, **fields):
    em = {"eligibilityCriteria": criteria}
    em.update(fields)
    return {"protocolSection": {"identificationModule": {"nctId": nct, "briefTitle": "t"}, "eligibilityModule": em}}


# --------------------------------------------------------------------------- text


def test_text_reader_keeps_newlines_exactly(tmp_path):
    p = tmp_path / "doc.txt"
    raw = "Inclusion Criteria:\r\n- Age >= 18 years\r\n\r\n- Hb > 9 g/dL\n"
    p.write_bytes(raw.encode("utf-8"))
    (rec,) = list(iter_text(str(p)))
    assert rec.error is None
    assert rec.text == raw  # no newline translation
    assert rec.id == "doc" and rec.path == str(p)


def test_text_reader_non_utf8_and_missing(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Age \xff 18")
    (rec,) = list(iter_text(str(bad)))
    assert rec.text is None and "UTF-8" in rec.error and "0xff" in rec.error
    (rec,) = list(iter_text(str(tmp_path / "nope.txt")))
    assert rec.text is None and "cannot read" in rec.error


def test_text_reader_directory_is_error(tmp_path):
    (rec,) = list(iter_text(str(tmp_path)))
    assert rec.error and "cannot read" in rec.error


# --------------------------------------------------------------------------- ctgov


def test_ctgov_jsonl_records_and_errors(tmp_path):
    p = tmp_path / "s.jsonl"
    lines = [
        json.dumps(study("NCT00000001", "Age >= 18 years", minimumAge="18 Years", maximumAge="N/A", sex="ALL",
                         healthyVolunteers=False)),
        "",  # blank lines are skipped
        '{"protocolSection": {"identificationModule": {"nctId": "NCT00000002"}, "eligibilityModule": {',  # broken
        json.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT00000003"}}}),  # no eligibility
        json.dumps(study("NCT00000004", ["not", "a", "string"])),
        "[1, 2]",
        json.dumps(study("NCT00000005", "Hb > 9 g/dL\r\n")),
    ]
    p.write_bytes(("\n".join(lines) + "\n").encode())
    recs = list(iter_ctgov_jsonl(str(p)))
    assert [r.id for r in recs] == ["NCT00000001", "NCT00000002", "NCT00000003", "NCT00000004", None, "NCT00000005"]
    ok = [r for r in recs if r.error is None]
    assert [r.id for r in ok] == ["NCT00000001", "NCT00000005"]
    assert recs[0].structured == {"minimumAge": "18 Years", "maximumAge": "N/A", "sex": "ALL",
                                  "healthyVolunteers": False}
    assert recs[5].text == "Hb > 9 g/dL\r\n"
    assert "invalid JSON on line 3" in recs[1].error
    assert "eligibilityModule" in recs[2].error
    assert "not a string" in recs[3].error
    assert recs[4].line == 6 and "not an object" in recs[4].error


def test_ctgov_jsonl_non_utf8_line_is_one_error(tmp_path):
    p = tmp_path / "s.jsonl"
    good = json.dumps(study("NCT00000001", "x")).encode()
    p.write_bytes(good + b"\n" + b'{"protocolSection": {"identificationModule": {"nctId": "NCT00000009"}} \xff}\n' + good + b"\n")
    recs = list(iter_ctgov_jsonl(str(p)))
    assert [r.error is None for r in recs] == [True, False, True]
    assert recs[1].id == "NCT00000009" and "UTF-8" in recs[1].error


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_ctgov_json_page_streams(tmp_path, chunk):
    page = {"totalCount": 3, "studies": [study(f"NCT0000000{i}", f"Age >= {i}0 years") for i in range(1, 4)],
            "nextPageToken": "abc"}
    text = json.dumps(page, indent=2)
    got = list(iter_studies_json(io.StringIO(text), chunk=chunk))
    assert [s["protocolSection"]["identificationModule"]["nctId"] for _, s in got] == [
        "NCT00000001", "NCT00000002", "NCT00000003"]
    # a single study, and a bare list
    one = list(iter_studies_json(io.StringIO(json.dumps(study("NCT1", "x"))), chunk=chunk))
    assert len(one) == 1 and one[0][1]["protocolSection"]["identificationModule"]["nctId"] == "NCT1"
    lst = list(iter_studies_json(io.StringIO(json.dumps([study("A", "x"), study("B", "y")])), chunk=chunk))
    assert [s["protocolSection"]["identificationModule"]["nctId"] for _, s in lst] == ["A", "B"]


def test_ctgov_json_numbers_split_across_chunks():
    text = '{"totalCount": 123456789, "studies": []}'
    assert list(iter_studies_json(io.StringIO(text), chunk=3)) == []


def test_ctgov_json_file_and_errors(tmp_path):
    p = tmp_path / "page.json"
    p.write_text(json.dumps({"studies": [study("NCT00000001", "a"), study("NCT00000002", 7)]}), encoding="utf-8")
    recs = list(iter_ctgov_json(str(p)))
    assert [r.id for r in recs] == ["NCT00000001", "NCT00000002"]
    assert recs[0].text == "a" and recs[1].error
    broken = tmp_path / "broken.json"
    broken.write_text('{"studies": [' + json.dumps(study("NCT00000001", "a")) + ', {"protocolSection": ', encoding="utf-8")
    recs = list(iter_ctgov_json(str(broken)))
    assert recs[0].error is None and recs[0].id == "NCT00000001"
    assert recs[-1].error and "JSON" in recs[-1].error
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    (rec,) = list(iter_ctgov_json(str(empty)))
    assert rec.error


def test_study_to_record_structured_only_known_fields():
    rec = study_to_record(study("NCT1", "x", minimumAge="6 Months", stdAges=["CHILD"]), "f")
    assert rec.structured == {"minimumAge": "6 Months"}
    rec = study_to_record({"protocolSection": {"identificationModule": {"nctId": "NCT1"},
                                               "eligibilityModule": {"sex": "ALL"}}}, "f")
    assert rec.id == "NCT1" and "eligibilityCriteria" in rec.error


# --------------------------------------------------------------------------- AACT


AACT_HEADER = ("id|nct_id|sampling_method|gender|gender_based|gender_description|minimum_age|maximum_age|"
               "healthy_volunteers|population|criteria|gender_description|adult|child|older_adult")


def test_aact_multiline_quoted_criteria(tmp_path):
    p = tmp_path / "eligibilities.txt"
    crit1 = "Inclusion Criteria:\n\n  - Age >= 18 years\n  - Hb > 9 g/dL | and \"quoted\" text\n"
    rows = [
        AACT_HEADER,
        '1|NCT00000001||All|||18 Years|N/A|No||"' + crit1.replace('"', '""') + '"||t|f|t',
        "2|NCT00000002||Female|||6 Months|65 Years|Accepts Healthy Volunteers||Age 18 to 65||t|f|f",
        "3|NCT00000003||All|||N/A|N/A|||||f|f|f",
        "4|NCT00000004|too|few",
    ]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8", newline="")
    assert detect_format(str(p)) == "aact"
    recs = list(iter_aact(str(p)))
    assert [r.id for r in recs] == ["NCT00000001", "NCT00000002", "NCT00000003", "NCT00000004"]
    assert recs[0].text == crit1
    assert recs[0].structured == {"minimumAge": "18 Years", "maximumAge": "N/A", "sex": "ALL",
                                  "healthyVolunteers": False}
    assert recs[1].structured["healthyVolunteers"] is True and recs[1].structured["sex"] == "FEMALE"
    assert recs[1].text == "Age 18 to 65"
    assert recs[2].text == "" and recs[2].error is None
    assert recs[3].error and "fields" in recs[3].error


def test_aact_bad_bytes_and_wrong_header(tmp_path):
    p = tmp_path / "eligibilities.txt"
    p.write_bytes((AACT_HEADER + "\n").encode() + b"1|NCT00000001||All|||18 Years|N/A|No||bad \xff||t|f|t\n"
                  + b"2|NCT00000002||All|||18 Years|N/A|No||fine||t|f|t\n")
    recs = list(iter_aact(str(p)))
    assert recs[0].error and "UTF-8" in recs[0].error
    assert recs[1].error is None and recs[1].text == "fine"
    q = tmp_path / "other.txt"
    q.write_text("a|b|c\n1|2|3\n", encoding="utf-8")
    (rec,) = list(iter_aact(str(q)))
    assert "missing column" in rec.error


# --------------------------------------------------------------------------- detection


def test_detect_format(tmp_path):
    cases = {
        "a.txt": b"Inclusion Criteria:\n- Age >= 18\n",
        "b.jsonl": b"{}\n",
        "c.json": b"{}",
        "d.txt": b'{"protocolSection": {}}\n{"protocolSection": {}}\n',
        "e.dat": b'{\n  "studies": [\n',
        "f": AACT_HEADER.encode() + b"\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    got = {name: detect_format(str(tmp_path / name)) for name in cases}
    assert got == {"a.txt": "text", "b.jsonl": "ctgov-jsonl", "c.json": "ctgov-json", "d.txt": "ctgov-jsonl",
                   "e.dat": "ctgov-json", "f": "aact"}
    assert sniff_format(b"[{}]") == "ctgov-json"


@pytest.mark.parametrize("data,fmt,reader", [
    (b"Inclusion Criteria:\n- Age >= 18\n", "text", iter_text),
    (json.dumps(study("NCT1", "Age > 18")).encode() + b"\n" + json.dumps(study("NCT2", "Hb > 9")).encode() + b"\n",
     "ctgov-jsonl", iter_ctgov_jsonl),
    (json.dumps(study("NCT1", "Age > 18"), indent=2).encode(), "ctgov-json", iter_ctgov_json),
])
def test_stdin_is_sniffed_like_a_file_and_readers_get_every_byte(monkeypatch, data, fmt, reader):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert detect_format("-") == fmt
    assert detect_format("-") == fmt  # a second look sees the same head
    recs = list(reader("-"))
    assert all(r.error is None for r in recs)
    if fmt == "text":
        assert [r.text for r in recs] == [data.decode()]
    else:
        assert [r.id for r in recs] == (["NCT1", "NCT2"] if fmt == "ctgov-jsonl" else ["NCT1"])


def test_iter_inputs_expands_directories(tmp_path):
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "a.ann").write_text("T1\tX 0 1\ta", encoding="utf-8")
    recs = list(iter_inputs([str(tmp_path)]))
    assert [r.id for r in recs] == ["a", "b"]


def test_forced_format_overrides_detection(tmp_path):
    p = tmp_path / "studies.txt"
    p.write_text(json.dumps(study("NCT00000001", "x")) + "\n", encoding="utf-8")
    (rec,) = list(iter_inputs([str(p)], "text"))
    assert rec.id == "studies" and rec.text.startswith("{")
    (rec,) = list(iter_inputs([str(p)], "ctgov-jsonl"))
    assert rec.id == "NCT00000001"


# --------------------------------------------------------------------------- structured fields


@pytest.mark.parametrize("raw,expected", [
    ("18 Years", (18, "a")), ("6 Months", (6, "mo")), ("1 Year", (1, "a")), ("2 Weeks", (2, "wk")),
    ("28 Days", (28, "d")), ("N/A", None), (None, None), ("", None), ("12 Hours", (12, "h")),
])
def test_parse_age(raw, expected):
    assert parse_age(raw) == expected


def test_parse_age_rejects_garbage():
    with pytest.raises(ValueError):
        parse_age("eighteen")
    s, warnings = structured_rules({"minimumAge": "eighteen", "maximumAge": "65 Years"})
    assert s["age"] == [{"comparator": "<=", "value": 65, "unit": "a", "text": "65 Years",
                         "origin": "structured_field", "field": "maximumAge"}]
    assert warnings and "minimumAge" in warnings[0]


def _age_result(*rules, section="inclusion"):
    out = []
    for i, (comp, value, value_high, unit) in enumerate(rules):
        out.append({"id": f"R{i}", "text": "age", "start": 0, "end": 3,
                    "variable": {"text": "age", "name": "age", "start": 0, "end": 3, "category": None, "code": None},
                    "comparator": comp, "value": value, "value_high": value_high, "unit": unit,
                    "unit_text": None, "relative_to": None, "normalized": None, "negated": False, "conditions": []})
    return {"schema_version": "1.0", "source": {"id": "x", "path": None},
            "criteria": [{"id": "C1", "parent": None, "section": section, "text": "age", "start": 0, "end": 3,
                          "logic": None, "rules": out}]}


def test_structured_object_shape():
    res = apply_structured(_age_result(), {"minimumAge": "18 Years", "maximumAge": "N/A", "sex": "ALL",
                                           "healthyVolunteers": False})
    assert res["structured"] == {
        "age": [{"comparator": ">=", "value": 18, "unit": "a", "text": "18 Years", "origin": "structured_field",
                 "field": "minimumAge"}],
        "sex": "ALL", "healthy_volunteers": False}
    assert "warnings" not in res


def test_structured_agreement_and_disagreement():
    fields = {"minimumAge": "18 Years", "maximumAge": "65 Years"}
    assert "warnings" not in apply_structured(_age_result(("between", 18, 65, "a")), fields)
    assert "warnings" not in apply_structured(_age_result((">", 17, None, "a"), ("<=", 65, None, None)), fields)
    res = apply_structured(_age_result((">=", 16, None, "a")), fields)
    assert len(res["warnings"]) == 1 and "minimumAge" in res["warnings"][0] and "16" in res["warnings"][0]
    # exclusion section states the complement: "Exclusion: age < 18" = minimum 18
    assert "warnings" not in apply_structured(_age_result(("<", 18, None, "a"), section="exclusion"), fields)
    # months vs years
    assert "warnings" not in apply_structured(_age_result((">=", 6, None, "mo")), {"minimumAge": "6 Months"})
    # N/A in the registry but a limit in the text
    res = apply_structured(_age_result(("<=", 75, None, "a")), {"minimumAge": "18 Years", "maximumAge": "N/A"})
    assert any("maximumAge is N/A" in w for w in res["warnings"])
    # several cohorts: the loosest text bound is the overall limit
    assert not age_warnings(structured_rules(fields)[0], _age_result((">=", 18, None, "a"), (">=", 40, None, "a")))


def test_no_structured_for_plain_text():
    res = apply_structured(_age_result(), {})
    assert "structured" not in res


# --------------------------------------------------------------------------- writers / resume


def test_error_record_and_keys():
    rec = InputRecord(None, None, "f.jsonl", error="bad", line=4)
    out = error_record(rec)
    assert out == {"schema_version": SCHEMA_VERSION, "source": {"id": None, "path": "f.jsonl", "line": 4}, "error": "bad"}
    assert key_of_output(out) == rec.key
    rec2 = InputRecord("NCT1", "x", "./f.jsonl", line=4)
    assert key_of_output({"source": {"id": "NCT1", "path": "f.jsonl"}}) == rec2.key


def test_scan_completed_truncates_partial_last_line(tmp_path):
    p = tmp_path / "out.jsonl"
    a = {"schema_version": "1.0", "source": {"id": "A", "path": "in.jsonl"}, "criteria": []}
    b = {"schema_version": "1.0", "source": {"id": "B", "path": "in.jsonl"}, "criteria": []}
    whole = (json.dumps(a) + "\n" + json.dumps(b) + "\n").encode()
    p.write_bytes(whole + b'{"schema_version": "1.0", "source": {"id": "C", "pa')
    done = scan_completed(str(p))
    assert p.read_bytes() == whole
    assert done == {(("in.jsonl"), "A"): 1, ("in.jsonl", "B"): 1}
    assert scan_completed(str(tmp_path / "missing.jsonl")) == {}


def test_jsonl_writer_appends_and_flushes(tmp_path):
    p = tmp_path / "sub" / "out.jsonl"
    w = JsonlWriter(str(p))
    w.write({"a": "é\ud800"})  # a lone surrogate from a JSON escape must not crash the writer
    assert p.read_bytes().endswith(b"\n")  # flushed before close
    w.close()
    w = JsonlWriter(str(p), append=True)
    w.write({"b": 1})
    w.close()
    assert [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()] == [{"a": "é\ud800"}, {"b": 1}]


def test_dir_writer_names(tmp_path):
    w = DirWriter(str(tmp_path / "out"))
    assert output_name(InputRecord("doc", "x", "in/doc.txt")) == "doc.json"
    assert output_name(InputRecord("NCT1", "x", "in/s.jsonl", line=3)) == "NCT1.json"
    assert output_name(InputRecord(None, None, "in/s.jsonl", line=3)) == "s-3.json"
    assert output_name(InputRecord("../../etc/x", None, "s.jsonl")) == "etc_x.json"
    w.write({"x": 1}, InputRecord("doc", "x", "in/doc.txt"))
    assert json.loads((tmp_path / "out" / "doc.json").read_text()) == {"x": 1}
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["doc.json"]


# --------------------------------------------------------------------------- progress / validation


def test_progress_log_lines_when_not_a_terminal():
    buf = io.StringIO()
    prog = Progress(total=3, stream=buf, tty=False, interval=0.0)
    prog.update(rules=2)
    prog.update(rules=1, failed=True)
    prog.close()
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("criteria-nlp: 1 documents/3, 2 rules,") and "docs/s" in lines[0] and "ETA" in lines[0]
    assert "(1 failed)" in lines[1]
    assert lines[-1].startswith("criteria-nlp: done: 2 documents (1 failed), 3 rules")


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    buf = Tty()
    prog = Progress(total=2, stream=buf)
    assert prog.bar is not None
    prog.update(rules=5)
    prog.update(rules=1)
    prog.close(summary=False)
    out = buf.getvalue()
    assert "2/2" in out and "rules=6" in out and "doc" in out


def test_offset_problems_detects_mismatch():
    text = "Age >= 18"
    good = {"criteria": [{"id": "C1", "text": text, "start": 0, "end": 9, "rules": [
        {"id": "R1", "text": "18", "start": 7, "end": 9, "variable": {"text": "Age", "start": 0, "end": 3},
         "conditions": [{"kind": "x", "text": ">=", "start": 4, "end": 6}]}]}]}
    assert offset_problems(good, text) == []
    good["criteria"][0]["rules"][0]["conditions"][0]["start"] = 3
    assert len(offset_problems(good, text)) == 1
