"""The flat rule table: one schema (criteria_nlp.flat.COLUMNS) for Parquet, CSV, pandas and the DB."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp import flat
from criteria_nlp.cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"


@pytest.fixture(scope="module")
def reference_result():
    text = REFERENCE.read_text(encoding="utf-8")
    return criteria_nlp.extract(text, doc_id="NCT06852573.criteria", path=str(REFERENCE))


def test_one_schema_for_every_table():
    schema = flat.arrow_schema()
    assert tuple(schema.names) == flat.COLUMN_NAMES
    assert len(set(flat.COLUMN_NAMES)) == len(flat.COLUMN_NAMES)
    assert [n for n, _ in flat.postgres_columns()] == list(flat.COLUMN_NAMES)
    ddl = flat.spark_ddl()
    assert all(f"`{n}`" in ddl for n in flat.COLUMN_NAMES)
    assert schema.field("conditions").type.value_type.names == [c.name for c in flat.CONDITION_FIELDS]
    assert schema.field("value").type == pa.float64() and schema.field("negated").type == pa.bool_()


def test_rows_of_the_reference_record(reference_result):
    rows = list(flat.rule_rows(reference_result))
    n_rules = sum(len(c["rules"]) for c in reference_result["criteria"])
    assert len(rows) == n_rules > 10
    assert all(tuple(r) == flat.COLUMN_NAMES for r in rows)
    hb = next(r for r in rows if r["rule_id"] == "inc-8.1.r1")
    assert hb["source_id"] == "NCT06852573.criteria"
    assert (hb["criterion_id"], hb["criterion_parent"], hb["section"]) == ("inc-8.1", "inc-8", "inclusion")
    assert hb["rule_text"] == "Hemoglobin (Hb) ≥ 80 g/L"
    text = REFERENCE.read_text(encoding="utf-8")
    assert text[hb["rule_start"]:hb["rule_end"]] == hb["rule_text"]
    assert text[hb["variable_start"]:hb["variable_end"]] == hb["variable_text"] == "Hemoglobin (Hb)"
    assert (hb["variable_name"], hb["category"], hb["code_system"], hb["code"]) == (
        "hemoglobin", "lab", "http://loinc.org", "718-7")
    assert (hb["comparator"], hb["value"], hb["unit"], hb["normalized_value"], hb["normalized_unit"]) == (
        ">=", 80.0, "g/L", 80.0, "g/L")
    # the window is the temporal condition inherited from item 8
    assert (hb["window_relation"], hb["window_value"], hb["window_unit"], hb["window_anchor"]) == (
        "before", 3.0, "d", "single collection")
    cond = hb["conditions"][0]
    assert cond["kind"] == "temporal" and cond["inherited_from"] == "inc-8" and cond["extra"] is None


def test_between_bounds_and_rows_without_conditions():
    res = criteria_nlp.extract("Inclusion Criteria:\n- Age 18-70 years\n- Platelets > 5 and <= 20 x10^9/L\n", doc_id="d")
    rows = {r["variable_name"]: r for r in flat.rule_rows(res)}
    age = rows["age"]
    assert (age["comparator"], age["value"], age["value_high"]) == ("between", 18.0, 70.0)
    assert (age["inclusive_low"], age["inclusive_high"]) == (True, True)
    assert age["window_relation"] is None and age["conditions"] == []


def test_error_records_give_no_rows():
    assert list(flat.rule_rows({"schema_version": "1.1", "source": {"id": "x"}, "error": "boom"})) == []


def test_to_frame_typed(reference_result):
    df = criteria_nlp.to_frame([reference_result, json.dumps(reference_result)])
    assert list(df.columns) == list(flat.COLUMN_NAMES)
    assert len(df) == 2 * sum(len(c["rules"]) for c in reference_result["criteria"])
    assert str(df["value"].dtype) == "Float64" and str(df["negated"].dtype) == "boolean"
    assert str(df["rule_start"].dtype) == "Int64" and str(df["source_id"].dtype).startswith("string")
    hb = df[df["rule_id"] == "inc-8.1.r1"].iloc[0]
    assert hb["value"] == 80.0 and hb["code"] == "718-7"
    assert hb["conditions"][0]["anchor"] == "single collection"


def test_extract_parquet_and_csv(tmp_path, reference_result, capsys):
    out = tmp_path / "rules.parquet"
    assert main(["extract", str(REFERENCE), "--format", "parquet", "-o", str(out), "-q"]) == 0
    table = pq.read_table(out)
    assert table.schema.names == list(flat.COLUMN_NAMES)
    assert table.to_pylist() == list(flat.rule_rows(reference_result))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left

    # an existing table is refused without --force (one line, exit 2), replaced with it
    capsys.readouterr()
    assert main(["extract", str(REFERENCE), "--format", "parquet", "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "exists; add --force" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["extract", str(REFERENCE), "-o", str(out), "-q", "--force"]) == 0  # suffix alone
    assert pq.read_table(out).num_rows == table.num_rows

    capsys.readouterr()
    assert main(["extract", str(REFERENCE), "--format", "csv", "-q"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == table.num_rows
    hb = next(r for r in rows if r["rule_id"] == "inc-8.1.r1")
    assert hb["value"] == "80.0" and hb["negated"] == "false" and hb["value_high"] == ""
    assert json.loads(hb["conditions"])[0]["inherited_from"] == "inc-8"


@pytest.mark.parametrize("argv, message", [
    (["--format", "parquet"], "needs -o FILE.parquet"),
    (["--format", "parquet", "-o", "x.csv"], "disagree"),
    (["--format", "csv", "--jsonl"], "two outputs"),
    (["-o", "x.parquet", "--resume"], "--resume continues JSON outputs"),
])
def test_table_usage_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["extract", str(REFERENCE), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_input_format_with_table_output(tmp_path, capsys):
    src = tmp_path / "studies.data"
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT00000042"},
                                 "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n- ANC >= 1500/mm3\n"}}}
    src.write_text(json.dumps(study) + "\n", encoding="utf-8")
    assert main(["extract", str(src), "--input-format", "ctgov-jsonl", "--format", "csv", "-q"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["source_id"], r["comparator"], r["value"]) for r in rows] == [("NCT00000042", ">=", "1500.0")]


def test_to_frame_is_a_lazy_export():
    import subprocess
    import sys

    code = ("import sys, criteria_nlp; f = criteria_nlp.to_frame; import criteria_nlp.spark; "
            "print('to_frame' in criteria_nlp.__all__, [m for m in ('pandas', 'pyarrow', 'pyspark', 'spacy') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True []"
