"""``match`` on the two CDMs of tests/cdm_cases.py written for the Circe comparison: which
measurement decides (a later one after the index date, one without a value, two on the same day,
none under an exclusion) and a population stated by a rule that is itself under a population
(`Women: - Patients with hemoglobin less than 10 g/dL: ALT greater than 3 times ULN`, which
crashed the match query before: a population whose only rule states another one). The same lines
on DuckDB and PostgreSQL, the same verdicts from the SQL ``export --to sql`` writes, and the
compact levels agree with the full output."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

import criteria_nlp  # noqa: E402
from criteria_nlp.omop.cdm import build_duckdb  # noqa: E402

import cdm_cases  # noqa: E402
from test_match_levels import _levels, check_levels  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401

INDEX = ["--index-date", cdm_cases.INDEX_DATE.isoformat()]
CASES = {
    "recency": (cdm_cases.CRITERIA, cdm_cases.TRIAL, cdm_cases.recency_tables, cdm_cases.RECENCY_CASES,
                cdm_cases.RECENCY_EXPECTED),
    "nested": (cdm_cases.NESTED_CRITERIA, cdm_cases.NESTED_TRIAL, cdm_cases.nested_tables, cdm_cases.NESTED_CASES,
               cdm_cases.NESTED_EXPECTED),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, tmp_path_factory):
    criteria, trial, tables, cases, expected = CASES[request.param]
    base = tmp_path_factory.mktemp(request.param)
    rules = base / "rules.json"
    rules.write_text(json.dumps(criteria_nlp.extract(criteria, doc_id=trial)), encoding="utf-8")
    cdm = base / "cdm.duckdb"
    build_duckdb(cdm, tables())
    return {"name": request.param, "rules": rules, "cdm": str(cdm), "tables": tables, "cases": cases,
            "expected": expected}


def test_match_verdicts(case, capsys):
    code, lines, err = cdm_cases.run_match(capsys, case["rules"], "--cdm", case["cdm"], *INDEX)
    assert code == 0, err
    cdm_cases.check_verdicts(lines, case["expected"], case["cases"])


def test_the_levels_agree(case, capsys):
    check_levels(_levels(capsys, case["rules"], "--cdm", case["cdm"], *INDEX))


def test_exported_sql_gives_the_verdicts(case, capsys):
    got = cdm_cases.exported_sql_verdicts(capsys, case["rules"], case["cdm"], *INDEX)
    assert got == [(pid, e[0]) for pid, e in sorted(case["expected"].items())]


@pytest.mark.postgres
def test_postgres_gives_the_duckdb_lines(case, pg_server, capsys):  # noqa: F811
    dsn, schema = pg_server["dsn"], f"cdm_{case['name']}"
    cdm_cases.fresh_postgres_cdm(dsn, case["tables"](), schema)
    code, pg_lines, err = cdm_cases.run_match(capsys, case["rules"], "--cdm", dsn, "--cdm-schema", schema, *INDEX)
    assert code == 0, err
    _, duck_lines, _ = cdm_cases.run_match(capsys, case["rules"], "--cdm", case["cdm"], *INDEX)
    assert pg_lines == duck_lines
    check_levels(_levels(capsys, case["rules"], "--cdm", dsn, "--cdm-schema", schema, *INDEX))
