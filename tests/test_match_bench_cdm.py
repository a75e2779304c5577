"""A demanding user's check: the reference record's rules matched against a synthetic CDM of a few
hundred persons (``scripts/bench_match.py``'s generator, with edge cases added: sex recorded or not,
Gilbert's syndrome for some, two measurements on the same day, measurements without a value or
after the index date, birth years only) give the same lines on DuckDB and on PostgreSQL, at every
output level."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

import criteria_nlp  # noqa: E402

import cdm_cases  # noqa: E402
from test_match_levels import _levels, check_levels  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_match  # noqa: E402

PERSONS = 300
INDEX = ["--index-date", bench_match.INDEX_DATE.isoformat()]
# Edge cases on the generated rows (DuckDB SQL; persons chosen by their id's remainders)
EDGE_CASES = [
    # sex: male, female, not recorded
    "UPDATE person SET gender_concept_id = CASE person_id % 3 WHEN 0 THEN 8507 WHEN 1 THEN 8532 ELSE 0 END",
    # a birth year only
    "UPDATE person SET month_of_birth = NULL, day_of_birth = NULL WHERE person_id % 11 = 0",
    # Gilbert's syndrome (the demo vocabulary's concept), found by its name
    """INSERT INTO condition_occurrence (condition_occurrence_id, person_id, condition_concept_id,
         condition_start_date, condition_type_concept_id)
       SELECT person_id, person_id, c.concept_id, DATE '2020-01-01', 0 FROM person
       JOIN concept AS c ON c.concept_name = 'Gilbert''s syndrome' WHERE person_id % 7 = 0""",
    # the same day as the latest one, another value (every 5th person: a second copy of each lab)
    """INSERT INTO measurement (measurement_id, person_id, measurement_concept_id, measurement_date,
         measurement_type_concept_id, value_as_number, unit_concept_id, range_high)
       SELECT 1000000 + measurement_id, person_id, measurement_concept_id, measurement_date, 0,
              value_as_number * 0.5, unit_concept_id, range_high
       FROM measurement WHERE person_id % 5 = 0""",
    # a later measurement without a value, and one after the index date (every 4th person)
    """INSERT INTO measurement (measurement_id, person_id, measurement_concept_id, measurement_date,
         measurement_type_concept_id, value_as_number, unit_concept_id, range_high)
       SELECT 2000000 + measurement_id, person_id, measurement_concept_id,
              CASE WHEN measurement_id % 2 = 0 THEN DATE '{index}' - 1 ELSE DATE '{index}' + 2 END, 0,
              CASE WHEN measurement_id % 2 = 0 THEN NULL ELSE value_as_number * 3 END, unit_concept_id, range_high
       FROM measurement WHERE person_id % 4 = 0 AND measurement_id < 1000000""",
]


def _tables(path: Path) -> dict[str, list[dict]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {}
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            cur = con.execute(f"SELECT * FROM {name}")  # names from the CDM's own catalogue
            columns = [d[0] for d in cur.description]
            tables[name] = [dict(zip(columns, row)) for row in cur.fetchall()]
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def bench_cdm(tmp_path_factory):
    base = tmp_path_factory.mktemp("bench-cdm")
    cdm = base / "bench.duckdb"
    bench_match.build(cdm, PERSONS, 2, bench_match.INDEX_DATE)
    con = duckdb.connect(str(cdm))
    for statement in EDGE_CASES:
        con.execute(statement.replace("{index}", bench_match.INDEX_DATE.isoformat()))
    con.close()
    rules = base / "NCT06852573.json"
    text = (ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt").read_text(encoding="utf-8")
    rules.write_text(json.dumps(criteria_nlp.extract(text, doc_id="NCT06852573")), encoding="utf-8")
    return {"cdm": cdm, "rules": rules}


@pytest.mark.postgres
def test_duckdb_and_postgres_give_the_same_lines_on_a_synthetic_cdm(bench_cdm, pg_server, capsys):  # noqa: F811
    duck = _levels(capsys, bench_cdm["rules"], "--cdm", bench_cdm["cdm"], *INDEX)
    check_levels(duck)
    assert len(duck["full"]) == PERSONS
    assert {line["verdict"] for line in duck["full"]} == {"fails", "unknown"}  # 37 random labs: nobody passes
    assert {r["verdict"] for line in duck["full"] for r in line["rules"]} == {"met", "not_met", "unknown",
                                                                              "not_applicable"}
    reasons = {r["reason"] for line in duck["full"] for r in line["rules"]}
    assert {"population_rule_applies", "birth_date_incomplete", "not_in_population"} <= reasons
    dsn = pg_server["dsn"]
    cdm_cases.fresh_postgres_cdm(dsn, _tables(bench_cdm["cdm"]), "cdm_bench")
    pg = _levels(capsys, bench_cdm["rules"], "--cdm", dsn, "--cdm-schema", "cdm_bench", *INDEX)
    assert pg == duck
