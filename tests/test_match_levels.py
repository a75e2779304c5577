"""``criteria-nlp match --level verdicts|counts``: the compact outputs computed in the database.

On the crafted CDMs of tests/cdm_cases.py (every case of issue 10) and of
tests/test_match_conditions.py (populations and exceptions), in DuckDB and in PostgreSQL, the
compact outputs must say what the full output says: the same person verdicts, rule ids whose full
verdicts explain them, and counts equal to the aggregation of the full lines.
"""
from __future__ import annotations

import io
import json
from collections import Counter

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

from criteria_nlp.omop import summaries  # noqa: E402
from criteria_nlp.omop.errors import OmopError  # noqa: E402
from criteria_nlp.omop.match import run_match as run_match_api  # noqa: E402
from criteria_nlp.omop.query import IndexSpec  # noqa: E402

from cdm_cases import CASES, INDEX_DATE, TRIAL, cdm_tables  # noqa: E402
from cdm_cases import duck_cdm, result_file  # noqa: E402,F401  (fixtures)
from cdm_cases import fresh_postgres_cdm, run_match  # noqa: E402
from test_match_conditions import INDEX as COND_INDEX  # noqa: E402
from test_match_conditions import cdm_tables as cond_tables  # noqa: E402
from test_match_conditions import files  # noqa: E402,F401  (the population/exception CDM)
from test_postgres import pg_server  # noqa: E402,F401

AGAINST = {"inclusion": "not_met", "exclusion": "met"}
OPEN_REASONS = {"population_unknown", "population_not_resolvable", "exception_unknown", "exception_not_resolvable"}


def _levels(capsys, *args) -> dict[str, list[dict]]:
    out = {}
    for level in ("full", "verdicts", "counts"):
        code, lines, err = run_match(capsys, *args, "--level", level)
        assert code == 0, err
        out[level] = lines
    return out


def check_levels(out: dict[str, list[dict]]) -> None:
    """The compact outputs agree with the full output of the same run."""
    full, verdicts, (counts,) = out["full"], out["verdicts"], out["counts"]
    assert [(v["trial"], v["person_id"], v["index_date"], v["verdict"]) for v in verdicts] == \
           [(f["trial"], f["person_id"], f["index_date"], f["verdict"]) for f in full]
    for f, v in zip(full, verdicts):
        rules = {r["rule"]: r for r in f["rules"]}
        assert all(rules[r]["verdict"] == AGAINST[rules[r]["section"]] for r in v["deciding"]), (f, v)
        assert all(rules[r]["verdict"] == "unknown" or rules[r]["reason"] in OPEN_REASONS for r in v["unknown"]), v
        assert bool(v["deciding"]) == (v["verdict"] == "fails"), v
        if v["verdict"] == "unknown":
            assert v["unknown"], v
        if v["verdict"] == "passes":
            assert v["unknown"] == [], v
    assert counts["persons"] == len(full) and counts["scope"] == "numeric threshold rules only"
    assert counts["verdicts"] == {k: Counter(f["verdict"] for f in full)[k] for k in ("passes", "fails", "unknown")}
    assert [r["rule"] for r in counts["rules"]] == [r["rule"] for r in full[0]["rules"]]
    for i, rule in enumerate(counts["rules"]):
        seen = Counter(f["rules"][i]["verdict"] for f in full)
        assert {k: rule[k] for k in ("met", "not_met", "unknown", "not_applicable")} == \
               {k: seen[k] for k in ("met", "not_met", "unknown", "not_applicable")}, rule
    for c in counts["criteria"]:
        assert c["allows"] + c["excludes"] + c["unknown"] == len(full)
    # a person fails when some criterion excludes them: every failing person is excluded somewhere
    assert counts["verdicts"]["fails"] <= sum(c["excludes"] for c in counts["criteria"])


def test_levels_on_the_case_cdm(result_file, duck_cdm, capsys):
    out = _levels(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat())
    check_levels(out)
    by_person = {v["person_id"]: (v["verdict"], v["deciding"], v["unknown"]) for v in out["verdicts"]}
    assert by_person[1] == ("passes", [], [])
    assert by_person[2] == ("fails", ["inc-1.r1"], [])  # hemoglobin 8 g/dL
    assert by_person[4] == ("unknown", [], ["inc-1.r1"])  # an incompatible unit
    assert by_person[12] == ("fails", ["exc-1.r1"], [])  # the exclusion threshold holds
    assert by_person[15] == ("fails", ["inc-4.r1", "inc-4.r2"], [])  # both sides of the OR fail
    assert by_person[11] == ("passes", [], [])  # one side of the OR holds
    assert by_person[14] == ("unknown", [], ["inc-3.r1"])  # birth year only
    (counts,) = out["counts"]
    assert counts["trial"] == TRIAL and counts["index_date"] == "2025-06-01" and counts["persons"] == len(CASES)
    assert counts["verdicts"] == {"passes": 6, "fails": 5, "unknown": 5}  # as EXPECTED in cdm_cases
    crit = {c["criterion"]: c for c in counts["criteria"]}
    assert (crit["inc-4"]["allows"], crit["inc-4"]["excludes"]) == (15, 1)
    assert crit["exc-1"] == {"criterion": "exc-1", "section": "exclusion", "allows": 15, "excludes": 1, "unknown": 0}
    # the verdict lines are short: no per-rule objects
    code, lines, _ = run_match(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat(),
                               "--level", "verdicts")
    assert max(len(json.dumps(v)) for v in lines) < 200


def test_levels_with_populations_and_exceptions(files, capsys):  # noqa: F811
    out = _levels(capsys, files["rules"], "--cdm", files["cdm"], "--index-date", COND_INDEX.isoformat(),
                  "--concept-map", files["map"])
    check_levels(out)
    assert any(r["not_applicable"] for r in out["counts"][0]["rules"])  # the populations are counted
    # without the concept map, Gilbert's syndrome cannot be resolved: unknowns say which rules
    out = _levels(capsys, files["rules"], "--cdm", files["cdm"], "--index-date", COND_INDEX.isoformat(),
                  "--no-name-lookup")
    check_levels(out)
    assert any(v["verdict"] == "unknown" for v in out["verdicts"])


def test_long_id_lists_are_nested(result_file, duck_cdm, capsys, monkeypatch):
    """PostgreSQL takes at most 100 arguments per call: long lists are built in parts."""
    args = (result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat(), "--level", "verdicts")
    _, flat, _ = run_match(capsys, *args)
    monkeypatch.setattr(summaries, "CONCAT_ARGS", 2)
    _, nested, _ = run_match(capsys, *args)
    assert nested == flat and any(len(v["unknown"]) + len(v["deciding"]) >= 2 for v in flat)


def test_python_api_streams_each_level(result_file, duck_cdm):
    outputs = {}
    for level in summaries.LEVELS:
        sink = io.StringIO()
        summary = run_match_api([str(result_file)], duck_cdm, IndexSpec(date=INDEX_DATE), sink, level=level)
        assert (summary.trials, summary.persons) == (1, len(CASES))
        outputs[level] = [json.loads(line) for line in sink.getvalue().splitlines()]
    check_levels(outputs)
    with pytest.raises(OmopError, match="output level must be one of full, verdicts, counts"):
        run_match_api([str(result_file)], duck_cdm, IndexSpec(date=INDEX_DATE), io.StringIO(), level="summary")


def test_an_unknown_level_is_a_usage_error(result_file, duck_cdm, capsys):
    from criteria_nlp.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["match", str(result_file), "--cdm", duck_cdm, "--index-date", "2025-06-01", "--level", "summary"])
    assert exit_.value.code == 2
    assert "invalid choice: 'summary'" in capsys.readouterr().err


def test_an_empty_index_table_counts_nobody(result_file, duck_cdm, tmp_path, capsys):
    from criteria_nlp.omop.cdm import build_duckdb

    path = tmp_path / "empty.duckdb"
    build_duckdb(path, cdm_tables())
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE idx (person_id BIGINT, index_date DATE)")
    con.close()
    code, (counts,), err = run_match(capsys, result_file, "--cdm", path, "--index-table", "idx", "--level", "counts")
    assert code == 0, err
    assert counts["persons"] == 0 and counts["index_table"] == "idx"
    assert counts["verdicts"] == {"passes": 0, "fails": 0, "unknown": 0}
    assert all(r["met"] == r["not_met"] == r["unknown"] == 0 for r in counts["rules"])


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_postgres_levels_equal_duckdb(result_file, duck_cdm, files, pg_server, capsys, monkeypatch):  # noqa: F811
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm_levels")
    fresh_postgres_cdm(dsn, cond_tables(), "cdm_levels_cond")
    runs = [((result_file, "--index-date", INDEX_DATE.isoformat()), duck_cdm, "cdm_levels"),
            ((files["rules"], "--index-date", COND_INDEX.isoformat(), "--concept-map", files["map"]),
             files["cdm"], "cdm_levels_cond")]
    for (rules, *args), duck, schema in runs:
        pg = _levels(capsys, rules, "--cdm", dsn, "--cdm-schema", schema, *args)
        check_levels(pg)
        duck_out = _levels(capsys, rules, "--cdm", duck, *args)
        assert pg["verdicts"] == duck_out["verdicts"] and pg["counts"] == duck_out["counts"]
    monkeypatch.setattr(summaries, "CONCAT_ARGS", 2)
    nested = _levels(capsys, result_file, "--cdm", dsn, "--cdm-schema", "cdm_levels", "--index-date",
                     INDEX_DATE.isoformat())
    check_levels(nested)


@pytest.mark.postgres
def test_postgres_rows_come_through_a_server_side_cursor(result_file, duck_cdm, pg_server, capsys,  # noqa: F811
                                                          monkeypatch):
    """The client holds one batch at a time: a server-side cursor, read FETCH_ROWS rows at a time."""
    import psycopg

    from criteria_nlp.omop import database

    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm_stream")
    cursors, fetched = [], []
    real_cursor, real_fetch = psycopg.Connection.cursor, database.Cdm._fetch

    def spy_cursor(self, *args, **kwargs):
        cur = real_cursor(self, *args, **kwargs)
        cursors.append(type(cur).__name__)
        return cur

    def spy_fetch(self, cur):
        batch = real_fetch(self, cur)
        fetched.append(len(batch))
        return batch

    monkeypatch.setattr(psycopg.Connection, "cursor", spy_cursor)
    monkeypatch.setattr(database.Cdm, "_fetch", spy_fetch)
    monkeypatch.setattr(database, "FETCH_ROWS", 5)
    args = ("--index-date", INDEX_DATE.isoformat())
    for level in ("full", "verdicts"):
        cursors.clear(), fetched.clear()
        code, pg_lines, err = run_match(capsys, result_file, "--cdm", dsn, "--cdm-schema", "cdm_stream", *args,
                                        "--level", level)
        assert code == 0, err
        assert cursors.count("ServerCursor") == 1 and fetched == [5, 5, 5, 1, 0]  # 16 persons
        _, duck_lines, _ = run_match(capsys, result_file, "--cdm", duck_cdm, *args, "--level", level)
        assert len(pg_lines) == len(CASES) and [p["verdict"] for p in pg_lines] == [d["verdict"] for d in duck_lines]


@pytest.mark.parametrize("level", summaries.LEVELS)
def test_persons_in_chunks_give_the_same_output(result_file, duck_cdm, tmp_path, level):
    """DuckDB matches the persons CHUNK_PERSONS at a time (its memory is the process's): chunks of
    3 persons (16 persons: 6 queries) give the lines of one query, for --index-date and
    --index-table."""
    import duckdb

    from criteria_nlp.omop.database import connect
    from criteria_nlp.omop.match import match_trial, person_chunks
    from criteria_nlp.omop.results import plan_trial

    plan = plan_trial(json.loads(result_file.read_text(encoding="utf-8")))
    path = tmp_path / "indexed.duckdb"
    from criteria_nlp.omop.cdm import build_duckdb

    build_duckdb(path, cdm_tables())
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE idx AS SELECT person_id, DATE '2025-06-01' - CAST(person_id % 3 AS INT) AS index_date "
                "FROM person WHERE person_id <> 5")
    con.close()
    for index in (IndexSpec(date=INDEX_DATE), IndexSpec(table="idx")):
        with connect(str(path)) as db:
            assert person_chunks(db, index, 3)[:2] == [(1, 3), (4, 6 if index.table is None else 7)]
            assert person_chunks(db, index, 3)[-1][1] is None and person_chunks(db, index, 100) == [None]
            outputs = []
            for chunk in (None, 3, 1):
                sink = io.StringIO()
                persons = match_trial(db, plan, index, sink, level=level, chunk_persons=chunk)
                assert persons == len(CASES) - (index.table is not None)
                outputs.append(sink.getvalue())
        assert outputs[0] == outputs[1] == outputs[2]
        assert outputs[0].count("\n") == (1 if level == "counts" else persons)
