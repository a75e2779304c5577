"""``criteria-nlp match``: real extract output against a crafted OMOP CDM, in DuckDB and PostgreSQL.

Each person of tests/cdm_cases.py is one case of issue 10 (value in/out of range, a unit that
converts, an incompatible unit, ULN with and without range_high, outside the window, no
measurement, age boundaries, an OR group, an exclusion that holds, a descendant concept ...).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

import criteria_nlp  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402
from criteria_nlp.omop.cdm import build_duckdb  # noqa: E402

from cdm_cases import CASES, CRITERIA, EXPECTED, INDEX_DATE, TRIAL, cdm_tables  # noqa: E402
from cdm_cases import duck_cdm, result_file  # noqa: E402,F401  (fixtures)
from cdm_cases import check_verdicts, fresh_postgres_cdm, run_match  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401  (the throw-away PostgreSQL server fixture)


def _check_cases(lines: list[dict]) -> None:
    check_verdicts(lines, EXPECTED, CASES)


def test_every_case_on_duckdb(result_file, duck_cdm, capsys):
    code, lines, err = run_match(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat())
    assert code == 0, err
    _check_cases(lines)
    first = lines[0]
    assert first["trial"] == TRIAL and first["index_date"] == "2025-06-01"
    assert first["scope"] == "numeric threshold rules only"


def test_values_units_and_dates_are_reported(result_file, duck_cdm, capsys):
    _, lines, _ = run_match(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat())
    rule = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    assert rule[(3, "inc-1.r1")]["value"] == pytest.approx(11.5)  # 115 g/L in the rule's g/dL
    assert rule[(3, "inc-1.r1")]["unit"] == "g/dL"
    assert rule[(3, "inc-1.r1")]["measurement_date"] == "2025-05-30"
    assert rule[(2, "inc-1.r1")]["value"] == 8.0  # the most recent measurement decides, not the older 14
    assert rule[(1, "inc-2.r1")]["value"] == pytest.approx(80 / 110)  # ULN multiple, no unit
    assert rule[(1, "inc-2.r1")]["unit"] is None
    assert rule[(1, "inc-4.r2")]["value"] == pytest.approx(80 / 88.4, rel=1e-3)  # umol/L -> mg/dL (molar mass)
    assert rule[(12, "exc-1.r1")]["value"] == pytest.approx(80.0)  # 80,000 /uL -> 10*9/L
    assert rule[(9, "inc-3.r1")]["value"] == 18 and rule[(9, "inc-3.r1")]["unit"] == "a"
    assert rule[(14, "inc-3.r1")]["value"] is None
    assert rule[(16, "inc-1.r1")]["value"] == pytest.approx(7.0 * 16114.5 / 10000, rel=1e-6)  # mmol/L -> g/dL


def test_index_table_and_lookback(result_file, tmp_path, capsys):
    """An index table chooses the persons and their dates; --lookback-days bounds rules without a window."""
    import duckdb

    tables = cdm_tables()
    path = tmp_path / "idx.duckdb"
    build_duckdb(path, tables)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE idx (person_id INTEGER, index_date DATE)")
    # person 1 a year later: the hemoglobin (7-day window) and the others (look-back) are too old
    con.execute("INSERT INTO idx VALUES (1, DATE '2026-06-01'), (2, DATE '2025-06-01')")
    con.close()
    code, lines, _ = run_match(capsys, result_file, "--cdm", path, "--index-table", "idx", "--lookback-days", "30")
    assert code == 0
    assert [(r["person_id"], r["index_date"]) for r in lines] == [(1, "2026-06-01"), (2, "2025-06-01")]
    first = {x["rule"]: x for x in lines[0]["rules"]}
    assert first["inc-2.r1"]["reason"] == "no_measurement_in_window"
    assert lines[0]["verdict"] == "unknown" and lines[1]["verdict"] == "fails"
    code, lines, _ = run_match(capsys, result_file, "--cdm", path, "--index-table", "idx", "--lookback-days", "400")
    assert {x["rule"]: x for x in lines[0]["rules"]}["inc-2.r1"]["verdict"] == "met"


def test_bad_record_does_not_lose_the_others(result_file, duck_cdm, tmp_path, capsys):
    good = json.loads(result_file.read_text(encoding="utf-8"))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([json.dumps(good), "{broken", json.dumps({"error": "x", "source": {}}),
                               json.dumps(dict(good, source={"id": "SECOND"}))]) + "\n", encoding="utf-8")
    code, lines, err = run_match(capsys, path, "--cdm", duck_cdm, "--index-date", "2025-06-01")
    assert code == 1
    assert {r["trial"] for r in lines} == {TRIAL, "SECOND"} and len(lines) == 2 * len(CASES)
    assert "mixed.jsonl:2: not a JSON line" in err and "Traceback" not in err


def test_record_text_is_never_sql(duck_cdm, tmp_path, capsys):
    """Quotes and SQL in ids, units and codes are data: the query runs and the CDM is intact."""
    hostile = "x'); DROP TABLE person; --"
    result = criteria_nlp.extract(CRITERIA, doc_id=hostile)
    rule = result["criteria"][0]["rules"][0]
    rule["unit"] = hostile
    result["criteria"][1]["rules"][0]["variable"]["code"]["code"] = hostile
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    code, lines, err = run_match(capsys, path, "--cdm", duck_cdm, "--index-date", "2025-06-01")
    assert code == 0, err
    assert lines[0]["trial"] == hostile
    by_id = {r["rule"]: r for r in lines[0]["rules"]}
    assert by_id["inc-1.r1"]["reason"] == "unit_not_convertible"  # no unit converts to it
    assert by_id["inc-2.r1"]["reason"] == "no_loinc_code"  # not a LOINC code: not queried
    import duckdb

    con = duckdb.connect(duck_cdm, read_only=True)
    assert con.execute("SELECT COUNT(*) FROM person").fetchone()[0] == len(CASES)
    con.close()


@pytest.mark.parametrize("args, status, message", [
    (["--cdm", "/nonexistent.duckdb", "--index-date", "2025-06-01"], 1, "no such DuckDB file"),
    (["--cdm", "CDM", "--index-date", "2025-13-01"], 2, "not a valid date"),
    (["--cdm", "CDM", "--index-table", "x; DROP TABLE person"], 1, "must be a table name"),
    (["--cdm", "CDM", "--index-date", "2025-06-01", "--cdm-schema", "nope"], 1, "no person, measurement, concept"),
    (["--cdm", "CDM", "--index-date", "2025-06-01", "--lookback-days", "-3"], 2, "between 0 and 36500"),
    (["--cdm", "postgresql://nobody@127.0.0.1:1/cdm", "--index-date", "2025-06-01"], 1,
     "cannot connect to the CDM database"),
    (["--cdm", "RESULT", "--index-date", "2025-06-01"], 1, "not a readable DuckDB database"),  # a JSON file
    (["--cdm", "CDM", "--index-table", "no_such_table"], 1, "the CDM database refused a query: Catalog Error"),
    (["--cdm", "CDM", "--index-table", "person"], 1, 'does not have a column named "index_date"'),
])
def test_bad_input_one_line_error(result_file, duck_cdm, capsys, args, status, message):
    args = [duck_cdm if a == "CDM" else str(result_file) if a == "RESULT" else a for a in args]
    assert _status(["match", str(result_file), *args]) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if status == 1:
        assert len(err.strip().splitlines()) == 1, err


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse's usage errors
        return int(e.code)


def test_output_file_is_never_overwritten(result_file, duck_cdm, tmp_path, capsys):
    out = tmp_path / "v.jsonl"
    out.write_text("keep\n", encoding="utf-8")
    code = main(["match", str(result_file), "--cdm", duck_cdm, "--index-date", "2025-06-01", "-o", str(out)])
    assert code == 2 and out.read_text(encoding="utf-8") == "keep\n"
    assert "exists" in capsys.readouterr().err


def test_cli_help_imports_no_database_library():
    code = ("import sys; from criteria_nlp.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('duckdb', 'sqlglot', 'psycopg', 'fhir.resources') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_extra_is_a_one_line_error(result_file, duck_cdm):
    code = ("import sys; sys.modules['duckdb'] = None; from criteria_nlp.cli import main; "
            f"sys.exit(main(['match', {str(result_file)!r}, '--cdm', {duck_cdm!r}, '--index-date', '2025-06-01']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "criteria-nlp: this command needs the 'omop' extra (duckdb is not installed): pip install 'criteria-nlp[omop]'"]


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def pg_cdm(pg_server):  # noqa: F811
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm")
    return dsn


@pytest.mark.postgres
def test_every_case_on_postgres_same_as_duckdb(result_file, duck_cdm, pg_cdm, capsys):
    code, pg_lines, err = run_match(capsys, result_file, "--cdm", pg_cdm, "--cdm-schema", "cdm",
                                 "--index-date", INDEX_DATE.isoformat())
    assert code == 0, err
    _check_cases(pg_lines)
    _, duck_lines, _ = run_match(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat())
    for a, b in zip(pg_lines, duck_lines):
        assert [(r["rule"], r["verdict"], r["reason"], r["measurement_date"]) for r in a["rules"]] == \
               [(r["rule"], r["verdict"], r["reason"], r["measurement_date"]) for r in b["rules"]]
        assert [r["value"] for r in a["rules"]] == pytest.approx([r["value"] for r in b["rules"]])
        assert a["verdict"] == b["verdict"]


def test_reference_record_against_the_demo_cdm(capsys, monkeypatch, tmp_path):
    """The README's demo: the reference record's rules, the CSV CDM in corpora/omop-demo, stdin input."""
    import io
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    text = (root / "corpora" / "examples" / "NCT06852573.criteria.txt").read_text(encoding="utf-8")
    result = criteria_nlp.extract(text, doc_id="NCT06852573.criteria")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(result).encode("utf-8"))))
    code, lines, err = run_match(capsys, "-", "--cdm", root / "corpora" / "omop-demo", "--index-date", "2025-03-01")
    assert code == 0, err
    assert [(r["person_id"], r["verdict"]) for r in lines] == [
        (1, "passes"), (2, "passes"), (3, "fails"), (4, "unknown"), (5, "fails"), (6, "unknown"), (7, "passes")]
    rules = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    assert (rules[(3, "inc-8.1.r1")]["verdict"], rules[(3, "inc-8.1.r1")]["value"]) == ("not_met", 72.0)
    assert rules[(2, "inc-8.1.r1")]["value"] == 95.0 and rules[(2, "inc-8.3.r1")]["value"] == 28.0
    assert rules[(4, "inc-8.1.r1")]["reason"] == "no_measurement_in_window"
    assert rules[(5, "inc-5.r1")]["value"] == 75
    assert rules[(6, "inc-9.2.r1")]["reason"] == "no_range_high"
    assert rules[(1, "inc-6.r1")]["reason"] == "no_loinc_code"  # life expectancy: not evaluated
    assert "life_expectancy" in rules[(1, "inc-6.r1")]["detail"]
    # person 7 (ALT 3.75 x ULN, bilirubin 1.9 x ULN) has Gilbert's syndrome in condition_occurrence:
    # without a concept map, "Gilbert's syndrome" is found by its name in the demo's concept table
    # (one standard Condition concept of that name), and the Gilbert's thresholds apply ...
    assert (rules[(7, "inc-9.2.r1")]["verdict"], rules[(7, "inc-9.2.r1")]["reason"]) == (
        "not_applicable", "population_rule_applies")
    assert ("name look-up: \"gilbert's syndrome\" is the Condition concept 2000201 \"Gilbert's syndrome\" "
            "(by its name)") in err
    # ... with the look-up off the population cannot be resolved, so the criterion is unknown ...
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(result).encode("utf-8"))))
    code, lines, err = run_match(capsys, "-", "--cdm", root / "corpora" / "omop-demo", "--index-date", "2025-03-01",
                              "--no-name-lookup")
    assert code == 0, err
    assert [r["verdict"] for r in lines][6] == "unknown" and "name look-up" not in err
    rules = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    assert (rules[(7, "inc-9.2.r1")]["verdict"], rules[(7, "inc-9.2.r1")]["reason"]) == (
        "not_met", "population_not_resolvable")
    # ... and with the demo's concept map it is resolved again, the same way
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(result).encode("utf-8"))))
    code, lines, err = run_match(capsys, "-", "--cdm", root / "corpora" / "omop-demo", "--index-date", "2025-03-01",
                              "--concept-map", root / "corpora" / "omop-demo" / "concept-map.json")
    assert code == 0, err
    assert [r["verdict"] for r in lines] == ["passes", "passes", "fails", "unknown", "fails", "unknown", "passes"]
    rules = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    assert (rules[(7, "inc-9.2.r1")]["verdict"], rules[(7, "inc-9.2.r1")]["reason"]) == (
        "not_applicable", "population_rule_applies")
    assert (rules[(7, "inc-9.2.r4")]["verdict"], rules[(7, "inc-9.2.r4")]["value"]) == ("met", 3.75)
    assert (rules[(1, "inc-9.2.r4")]["verdict"], rules[(1, "inc-9.2.r4")]["reason"]) == (
        "not_applicable", "not_in_population")
