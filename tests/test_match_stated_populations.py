"""``match`` with populations stated by a rule (a condition's ``rule``, schema 1.2): a conditioned
rule applies to a person exactly when the stating rule is met for them (the stating rule evaluated
like any rule: value, unit conversion, window, ULN); not met -> the conditioned rule is
``not_applicable``; unknown -> the conditioned rule keeps its verdict with ``population_unknown``
and decides only when both readings agree. On DuckDB and PostgreSQL, at every output level, and
in the SQL ``export --to sql`` writes. The CDM and the cases are in tests/cdm_cases.py."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from criteria_nlp.cli import main  # noqa: E402

from cdm_cases import INDEX_DATE, STATED_CASES, STATED_EXPECTED, check_verdicts, exported_sql_verdicts  # noqa: E402
from cdm_cases import fresh_postgres_cdm  # noqa: E402
from cdm_cases import run_match, stated_files, stated_tables  # noqa: E402,F401  (fixture)
from test_match_levels import _levels, check_levels  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401

INDEX = ["--index-date", INDEX_DATE.isoformat()]
VERDICT_OF_ALLOWED = {1: "passes", 0: "fails", None: "unknown"}


def test_the_rules_carry_their_stating_rules(stated_files):
    """The test is about what extract really gives for these lines."""
    result = json.loads(stated_files["rules"].read_text(encoding="utf-8"))
    stated = {r["id"]: c["rule"] for crit in result["criteria"] for r in crit["rules"]
              for c in r["conditions"] if c["kind"] == "population"}
    assert stated == {"inc-1.r1": "inc-1.r2", "inc-2.1.1.r1": "inc-2.1.r1", "inc-2.2.1.r1": "inc-2.2.r1",
                      "inc-3.r2": "inc-3.r3", "exc-1.r2": "exc-1.r1"}


def test_the_stating_rule_decides_who_the_rule_applies_to(stated_files, capsys):
    code, lines, err = run_match(capsys, stated_files["rules"], "--cdm", stated_files["cdm"], *INDEX)
    assert code == 0, err
    check_verdicts(lines, STATED_EXPECTED, STATED_CASES)


def test_the_levels_agree(stated_files, capsys):
    out = _levels(capsys, stated_files["rules"], "--cdm", stated_files["cdm"], *INDEX)
    check_levels(out)
    verdicts = {v["person_id"]: (v["deciding"], v["unknown"]) for v in out["verdicts"]}
    assert verdicts[1] == ([], [])  # creatinine not high: the clearance rule is not a requirement
    assert verdicts[2] == (["inc-1.r1"], [])  # the stating rule itself is never "deciding"
    assert verdicts[5] == ([], ["inc-1.r1"])
    assert verdicts[13] == (["exc-1.r2"], [])
    rules = {r["rule"]: r for r in out["counts"][0]["rules"]}
    # creatinine 1.0 mg/dL (not high) for everyone but persons 2-7 and 18 (high: 2-4; none in the window: 5-7, 18)
    assert (rules["inc-1.r1"]["not_applicable"], rules["inc-1.r1"]["unknown"]) == (len(STATED_CASES) - 7, 0)
    assert rules["inc-3.r1"]["not_applicable"] == 3  # the population's rule replaces the default: 2-4
    assert rules["exc-1.r2"]["not_applicable"] == len(STATED_CASES) - 3  # hemoglobin < 10 for 13, 15, 16 only


@pytest.mark.postgres
def test_postgres_gives_the_duckdb_lines(stated_files, pg_server, capsys):  # noqa: F811
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, stated_tables(), "cdm_stated")
    code, pg_lines, err = run_match(capsys, stated_files["rules"], "--cdm", dsn, "--cdm-schema", "cdm_stated", *INDEX)
    assert code == 0, err
    check_verdicts(pg_lines, STATED_EXPECTED, STATED_CASES)
    _, duck_lines, _ = run_match(capsys, stated_files["rules"], "--cdm", stated_files["cdm"], *INDEX)
    assert pg_lines == duck_lines
    check_levels(_levels(capsys, stated_files["rules"], "--cdm", dsn, "--cdm-schema", "cdm_stated", *INDEX))


def _allowed(names: list[str], rows: list[tuple]) -> list[tuple[int, str]]:
    return [(r[names.index("person_id")], VERDICT_OF_ALLOWED[r[names.index("allowed")]]) for r in rows]


def test_exported_sql_on_duckdb_gives_the_same_verdicts(stated_files, capsys):
    got = exported_sql_verdicts(capsys, stated_files["rules"], stated_files["cdm"], *INDEX)
    assert got == [(pid, STATED_EXPECTED[pid][0]) for pid in sorted(STATED_CASES)]


@pytest.mark.postgres
def test_exported_sql_on_postgres_gives_the_same_verdicts(stated_files, pg_server, capsys):  # noqa: F811
    import psycopg

    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, stated_tables(), "cdm_stated_sql")
    assert main(["export", str(stated_files["rules"]), "--to", "sql", "--dialect", "postgres", *INDEX,
                 "--cdm", dsn, "--cdm-schema", "cdm_stated_sql"]) == 0
    sql = capsys.readouterr().out
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(sql.rstrip().rstrip(";"))
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    assert _allowed(names, rows) == [(pid, STATED_EXPECTED[pid][0]) for pid in sorted(STATED_CASES)]


def test_a_stating_rule_the_cdm_cannot_evaluate_leaves_the_population_unresolvable(tmp_path, stated_files, capsys):
    """Without serum creatinine in the CDM's vocabulary nobody's membership can be told: the
    clearance rule decides only where both readings agree, with ``population_not_resolvable``."""
    from criteria_nlp.omop.cdm import build_duckdb

    tables = stated_tables()
    tables["concept"] = [c for c in tables["concept"] if c["concept_code"] != "2160-0"]
    cdm = tmp_path / "no-creatinine.duckdb"
    build_duckdb(cdm, tables)
    code, lines, err = run_match(capsys, stated_files["rules"], "--cdm", cdm, *INDEX)
    assert code == 0, err
    rule = {(line["person_id"], r["rule"]): r for line in lines for r in line["rules"]}
    assert (rule[(1, "inc-1.r2")]["verdict"], rule[(1, "inc-1.r2")]["reason"]) == ("unknown", "concept_not_in_cdm")
    assert (rule[(1, "inc-1.r1")]["verdict"], rule[(1, "inc-1.r1")]["reason"]) == ("not_met", "population_not_resolvable")
    assert (rule[(6, "inc-1.r1")]["verdict"], rule[(6, "inc-1.r1")]["reason"]) == ("met", "population_not_resolvable")
    verdict = {line["person_id"]: line["verdict"] for line in lines}
    assert (verdict[1], verdict[3], verdict[6]) == ("unknown", "unknown", "passes")  # 3: bilirubin 2.5 x ULN too


@pytest.mark.parametrize("level", ["verdicts", "counts"])
def test_exported_level_queries_give_match_output(stated_files, capsys, level):
    from test_export import _match_output, run_exported_sql

    got = run_exported_sql(capsys, stated_files["rules"], level, duckdb_path=stated_files["cdm"])
    assert got == _match_output(capsys, stated_files["rules"], "--cdm", stated_files["cdm"], *INDEX, "--level", level)


@pytest.mark.postgres
@pytest.mark.parametrize("level", ["verdicts", "counts"])
def test_exported_level_queries_give_match_output_on_postgres(stated_files, pg_server, capsys, level):  # noqa: F811
    from test_export import _match_output, run_exported_sql

    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, stated_tables(), "cdm_stated_levels")
    got = run_exported_sql(capsys, stated_files["rules"], level, dsn=dsn, schema="cdm_stated_levels")
    assert got == _match_output(capsys, stated_files["rules"], "--cdm", stated_files["cdm"], *INDEX, "--level", level)
