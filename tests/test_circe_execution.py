"""``export --to circe`` run as OHDSI runs it: the cohort expression compiled to SQL by OHDSI's
Python Circe (``ohdsi-circepy``, a port of circe-be), rendered and translated to DuckDB by its
SqlRender port, and executed on the test CDMs (in DuckDB, and translated to PostgreSQL on a
throw-away server). The persons in the Circe cohort are compared with
``match``'s verdicts on the same CDM and index date.

The populations (``in men``, ``in children``, ``for females``, ``for subjects with Gilbert's
syndrome``) and the exception (``unless due to Gilbert's syndrome``) are in the cohort, so a man
with Hb 12.5 (the women's threshold) is not in it; before, Circe left population rules out and
let him in.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")
api = pytest.importorskip("circe.api")

import criteria_nlp  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402
from criteria_nlp.omop.cdm import build_duckdb, read_csv_dir  # noqa: E402

import cdm_cases  # noqa: E402
import test_match_conditions as conditions  # noqa: E402
from test_export import _circe_roundtrip  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401  (the throw-away PostgreSQL server fixture)

OBSERVED = ("2000-01-01", "2026-12-31")
DEMO = Path(__file__).resolve().parent.parent / "corpora" / "omop-demo"
REFERENCE = DEMO.parent / "examples" / "NCT06852573.criteria.txt"


def _rules_file(base: Path, criteria: str, trial: str) -> Path:
    """``extract``'s result for ``criteria``, written to a file for the commands."""
    rules = base / f"{trial}.json"
    rules.write_text(json.dumps(criteria_nlp.extract(criteria, doc_id=trial)), encoding="utf-8")
    return rules


def circe_statements(cohort_json: str, schema: str, dialect: str) -> list[str]:
    """circe-be's SQL for the cohort (Circe -> SqlRender), translated to ``dialect`` and split into
    statements; the CDM and the ``cohort`` table are in ``schema``."""
    from circe.sqlrender.renderer import render
    from circe.sqlrender.splitter import split_sql
    from circe.sqlrender.translator import translate

    options = api.BuildExpressionQueryOptions()
    options.cdm_schema = options.result_schema = options.vocabulary_schema = schema
    options.target_table, options.cohort_id = f"{schema}.cohort", 1
    sql = translate(render(api.build_cohort_query(api.cohort_expression_from_json(cohort_json), options)), dialect)
    return [statement for statement in split_sql(sql) if statement.strip()]


COHORT_TABLE = "(cohort_definition_id BIGINT, subject_id BIGINT, cohort_start_date DATE, cohort_end_date DATE)"


def run_circe(cohort_json: str, cdm_path: str) -> list[int]:
    """The person ids of the cohort, by circe-be's SQL on the DuckDB CDM file ``cdm_path``."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        assert "'" not in cdm_path  # a pytest tmp path: ATTACH takes no bound parameter
        con.execute(f"ATTACH '{cdm_path}' AS cdm (READ_ONLY)")
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'cdm'"
                                    ).fetchall():
            con.execute(f"CREATE VIEW main.{table} AS SELECT * FROM cdm.main.{table}")
        con.execute(f"CREATE TABLE main.cohort {COHORT_TABLE}")
        for statement in circe_statements(cohort_json, "main", "duckdb"):
            con.execute(statement)
        return sorted(int(r[0]) for r in con.execute("SELECT DISTINCT subject_id FROM main.cohort").fetchall())
    finally:
        con.close()


def run_circe_postgres(cohort_json: str, dsn: str, schema: str) -> list[int]:
    """The person ids of the cohort, by circe-be's SQL translated to PostgreSQL, on the CDM in
    ``schema`` of the server at ``dsn`` (the cohort table is made there, emptied first)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {schema}.cohort")
        con.execute(f"CREATE TABLE {schema}.cohort {COHORT_TABLE}")
        for statement in circe_statements(cohort_json, schema, "postgresql"):
            con.execute(statement)
        rows = con.execute(f"SELECT DISTINCT subject_id FROM {schema}.cohort").fetchall()
    return sorted(int(r[0]) for r in rows)


def _observed(tables: dict) -> dict:
    tables["observation_period"] = [
        {"observation_period_id": p["person_id"], "person_id": p["person_id"],
         "observation_period_start_date": OBSERVED[0], "observation_period_end_date": OBSERVED[1]}
        for p in tables["person"]]
    return tables


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def conditions_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("circe-conditions")
    rules, cmap = conditions.write_rules_and_map(base)
    cdm = base / "cdm.duckdb"
    build_duckdb(cdm, _observed(conditions.cdm_tables()))
    return {"rules": rules, "map": cmap, "cdm": str(cdm)}


def _verdicts(capsys, rules, cdm, index: str, *extra) -> dict[int, str]:
    code, out, err = _run(capsys, "match", rules, "--cdm", cdm, "--index-date", index, *extra)
    assert code == 0, err
    return {r["person_id"]: r["verdict"] for r in map(json.loads, out.splitlines())}


def test_population_rules_run_in_circe_as_match_decides(conditions_files, capsys):
    f = conditions_files
    index = conditions.INDEX.isoformat()
    code, out, err = _run(capsys, "export", f["rules"], "--to", "circe", "--cdm", f["cdm"], "--concept-map", f["map"],
                          "--index-date", index)
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    assert "cannot be identified" not in err  # every population of this trial is expressed
    verdicts = _verdicts(capsys, f["rules"], f["cdm"], index, "--concept-map", f["map"])
    assert verdicts == {pid: want[0] for pid, want in conditions.EXPECTED.items()}
    in_circe = run_circe(out, f["cdm"])
    # who passes match is in the Circe cohort; who fails is not; unknown (sex not recorded and the
    # two thresholds disagree; a birth year only) is not met in Circe
    assert in_circe == sorted(p for p, v in verdicts.items() if v == "passes")
    assert 3 not in in_circe  # a man with Hb 12.5: the men's threshold (13) applies
    assert 2 in in_circe  # a woman with Hb 12.5: the women's (12)
    assert 7 in in_circe and 6 not in in_circe  # ALT 3 x ULN: the Gilbert's exception lets 7 through
    assert 10 not in in_circe and 11 in in_circe  # children with platelets 80 / 250 (exclusion)
    assert 12 not in in_circe and 13 in in_circe  # QTc 480: a woman is excluded, a man is not


def test_population_rules_are_written_as_demographic_and_condition_criteria(conditions_files, capsys):
    f = conditions_files
    code, out, err = _run(capsys, "export", f["rules"], "--to", "circe", "--cdm", f["cdm"], "--concept-map", f["map"])
    assert code == 0, err
    cohort = json.loads(out)
    parsed, circe_sql = _circe_roundtrip(cohort)
    rules = {r["name"]: r for r in cohort["InclusionRules"]}
    hb = rules["inc-1 (inclusion)"]["expression"]
    # ALL(ANY(not men, Hb >= 13), ANY(men, not women, Hb >= 12)): no default rules in this criterion
    assert hb["Type"] == "ALL" and len(hb["Groups"]) == 2
    men_clause = hb["Groups"][0]
    assert men_clause["Type"] == "ANY"
    assert men_clause["Groups"][0]["DemographicCriteriaList"] == [{"Gender": [
        {"CONCEPT_ID": 8532, "CONCEPT_NAME": "FEMALE", "STANDARD_CONCEPT": "S", "INVALID_REASON": "V",
         "CONCEPT_CODE": "F", "DOMAIN_ID": "Gender", "VOCABULARY_ID": "Gender", "CONCEPT_CLASS_ID": "Gender"}]}]
    assert "for men: " in rules["inc-1 (inclusion)"]["description"]
    gilbert = next(s for s in cohort["ConceptSets"] if s["expression"]["items"][0]["concept"]["DOMAIN_ID"] == "Condition")
    assert gilbert["expression"]["items"][0]["concept"]["CONCEPT_ID"] == conditions.GILBERT
    assert gilbert["expression"]["items"][0]["includeDescendants"] is True
    children = rules["exc-1 (exclusion)"]
    assert "Circe's age is the index year minus the year of birth" in children["description"]
    assert "Circe's age is the index year minus the year of birth" in err
    # Circe's compiler wrote the gender and the diagnosis
    assert "gender_concept_id in (8532)" in circe_sql.lower().replace("  ", " ")
    assert "condition_occurrence" in circe_sql.lower()
    # no --index-date: the entry event stays the first observation period, with the note
    assert cohort["PrimaryCriteria"]["CriteriaList"] == [{"ObservationPeriod": {}}]


def test_unidentified_populations_bind_everyone_as_match_is_unknown(conditions_files, capsys):
    """Without the concept map (and with the name look-up off) Gilbert's syndrome cannot be
    identified: everyone must meet both the Gilbert's and the default bilirubin thresholds, and
    ALT <= 2.5 x ULN holds for everyone -- said on stderr. match calls those persons unknown
    unless both readings agree, so the Circe cohort is still exactly who passes match."""
    f = conditions_files
    index = conditions.INDEX.isoformat()
    code, out, err = _run(capsys, "export", f["rules"], "--to", "circe", "--cdm", f["cdm"], "--no-name-lookup",
                          "--index-date", index)
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    assert "inc-3: the population \"Gilbert's syndrome\" cannot be identified in the data" in err
    assert 'inc-2.r1: its exception ("due to Gilbert\'s syndrome") is not expressed' in err
    assert not any(s["expression"]["items"][0]["concept"]["DOMAIN_ID"] == "Condition" for s in cohort["ConceptSets"])
    rules = {r["name"]: r for r in cohort["InclusionRules"]}
    assert "(not identified in the data: required of everyone)" in rules["inc-3 (inclusion)"]["description"]
    assert "for men: " in rules["inc-1 (inclusion)"]["description"]
    verdicts = _verdicts(capsys, f["rules"], f["cdm"], index, "--no-name-lookup")
    assert (verdicts[6], verdicts[7], verdicts[8]) == ("unknown", "unknown", "unknown")
    assert run_circe(out, f["cdm"]) == sorted(p for p, v in verdicts.items() if v == "passes")


def test_circe_differs_from_match_only_where_the_export_says(tmp_path, capsys):
    """The case CDM run through Circe: the documented difference shows, and only it. Persons 10
    (18th birthday the day after the index date) and 14 (birth year 2007 only) are 17 or unknown
    in completed years; Circe's age is 2025 - 2007 = 18. Person 2 has Hb 8 two days before the
    index date and an older 14 in the 7-day window: match fails him on the latest value, and so
    does Circe (the 14 has a later measurement within 7 days: it is not the most recent one)."""
    rules = _rules_file(tmp_path, cdm_cases.CRITERIA, cdm_cases.TRIAL)
    cdm = tmp_path / "cases.duckdb"
    build_duckdb(cdm, _observed(cdm_cases.cdm_tables()))
    index = cdm_cases.INDEX_DATE.isoformat()
    code, out, err = _run(capsys, "export", rules, "--to", "circe", "--cdm", cdm, "--index-date", index)
    assert code == 0, err
    verdicts = _verdicts(capsys, rules, str(cdm), index)
    in_circe = set(run_circe(out, str(cdm)))
    passes = {p for p, v in verdicts.items() if v == "passes"}
    assert passes <= in_circe, (passes, in_circe)
    assert in_circe - passes == {10, 14} and 2 not in in_circe
    assert (verdicts[2], verdicts[10], verdicts[14]) == ("fails", "fails", "unknown")
    assert "Circe takes the most recent measurement as" in err and "index year minus the year of birth" in err


def test_the_demo_cohort_is_who_passes_match(tmp_path, capsys):
    """The README's demo: the reference record's rules exported with the demo CDM (Gilbert's
    syndrome found by name) and run through Circe on it."""
    rules = _rules_file(tmp_path, REFERENCE.read_text(encoding="utf-8"), "NCT06852573")
    cdm = tmp_path / "demo.duckdb"
    build_duckdb(cdm, read_csv_dir(DEMO))
    code, out, err = _run(capsys, "export", rules, "--to", "circe", "--cdm", cdm, "--index-date", "2025-03-01")
    assert code == 0, err
    verdicts = _verdicts(capsys, rules, str(cdm), "2025-03-01")
    assert verdicts == {1: "passes", 2: "passes", 3: "fails", 4: "unknown", 5: "fails", 6: "unknown", 7: "passes"}
    assert run_circe(out, str(cdm)) == [1, 2, 7]


def test_a_population_circe_can_only_rule_out(tmp_path, capsys):
    """`postmenopausal women`: men are not members, a woman's status is not in the data. Circe
    writes ANY(male, rule): every woman must meet the threshold, as match passes a woman only
    when it holds."""
    rules = tmp_path / "meno.json"
    rules.write_text(json.dumps(criteria_nlp.extract("Inclusion Criteria:\n1. Hemoglobin >= 11 g/dL in "
                                                     "postmenopausal women\n", doc_id="X")), encoding="utf-8")
    code, out, err = _run(capsys, "export", rules, "--to", "circe")
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    clause = cohort["InclusionRules"][0]["expression"]
    assert clause["Type"] == "ANY"
    outside, rule = clause["Groups"]
    assert [g["CONCEPT_ID"] for d in outside["DemographicCriteriaList"] for g in d["Gender"]] == [8507]
    values = {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"]: c["Criteria"]["Measurement"]["ValueAsNumber"]
              for c in rule["Groups"][0]["CriteriaList"]}
    assert values["g/dL"] == {"Value": 11.0, "Op": "gte"}
    assert "inc-1: Circe cannot tell who is in 'postmenopausal women'" in err


# ------------------------------------------------------------------------------ PostgreSQL


def _circe_case(name: str, base: Path) -> tuple[Path, dict, list[int]]:
    """``(DuckDB CDM, its tables, persons in the cohort)`` of a CDM of this file, the cohort exported
    against the DuckDB CDM (on stdout), the persons as the DuckDB tests above find them."""
    if name == "populations":
        rules, cmap = conditions.write_rules_and_map(base)
        tables, index, extra = _observed(conditions.cdm_tables()), conditions.INDEX.isoformat(), ["--concept-map", cmap]
        persons = sorted(p for p, want in conditions.EXPECTED.items() if want[0] == "passes")
    elif name == "cases":
        rules = _rules_file(base, cdm_cases.CRITERIA, cdm_cases.TRIAL)
        tables, index, extra = _observed(cdm_cases.cdm_tables()), cdm_cases.INDEX_DATE.isoformat(), []
        persons = sorted({p for p, want in cdm_cases.EXPECTED.items() if want[0] == "passes"} | {10, 14})
    elif name == "recency":
        rules = _rules_file(base, cdm_cases.CRITERIA, cdm_cases.TRIAL)
        tables, index, extra = _observed(cdm_cases.recency_tables()), cdm_cases.INDEX_DATE.isoformat(), []
        persons = sorted({p for p, want in cdm_cases.RECENCY_EXPECTED.items() if want[0] == "passes"}
                         - cdm_cases.RECENCY_SAME_DAY)
    elif name == "nested":
        rules = _rules_file(base, cdm_cases.NESTED_CRITERIA, cdm_cases.NESTED_TRIAL)
        tables, index, extra = _observed(cdm_cases.nested_tables()), cdm_cases.INDEX_DATE.isoformat(), []
        persons = sorted(p for p, want in cdm_cases.NESTED_EXPECTED.items() if want[0] == "passes")
    else:
        rules = _rules_file(base, REFERENCE.read_text(encoding="utf-8"), "NCT06852573")
        tables, index, extra, persons = read_csv_dir(DEMO), "2025-03-01", [], [1, 2, 7]
    cdm = base / "cdm.duckdb"
    build_duckdb(cdm, tables)
    assert main(["export", str(rules), "--to", "circe", "--cdm", str(cdm), "--index-date", index, *map(str, extra)]) == 0
    return cdm, tables, persons


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["populations", "cases", "demo", "recency", "nested"])
def test_circe_sql_on_postgres_finds_the_persons_duckdb_finds(name, tmp_path, pg_server, capsys):  # noqa: F811
    """The same cohorts, compiled by Circe and translated by its SqlRender port to PostgreSQL, run
    on the same CDMs built in a PostgreSQL schema: the same persons as on DuckDB."""
    capsys.readouterr()
    cdm, tables, persons = _circe_case(name, tmp_path)
    cohort = capsys.readouterr().out
    assert run_circe(cohort, str(cdm)) == persons
    schema = f"circe_{name}"
    cdm_cases.fresh_postgres_cdm(pg_server["dsn"], tables, schema)
    assert run_circe_postgres(cohort, pg_server["dsn"], schema) == persons


@pytest.fixture(scope="module")
def stated_circe_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("circe-stated")
    rules = _rules_file(base, cdm_cases.STATED_CRITERIA, cdm_cases.STATED_TRIAL)
    cdm = base / "stated.duckdb"
    build_duckdb(cdm, _observed(cdm_cases.stated_tables()))
    return {"rules": rules, "cdm": str(cdm)}


def test_populations_stated_by_rules_run_in_circe(stated_circe_files, capsys):
    """A rule conditioned by a stating rule S is ``ANY(not S, rule)`` in Circe: S is written like
    any rule (here serum creatinine >= 1.6 mg/dL with its units converted, ages, hemoglobin < 10
    g/dL), "not S" as "the most recent measurement is outside S's threshold" (known not to hold,
    as match's not_met), so the cohort is exactly who passes match: no creatinine in the window
    (5, 7) is neither S nor not S, and an ALT without range_high (15) is neither above nor below
    the exclusion threshold (before, "no measurement meets S" let these three in)."""
    f = stated_circe_files
    index = cdm_cases.INDEX_DATE.isoformat()
    code, out, err = _run(capsys, "export", f["rules"], "--to", "circe", "--cdm", f["cdm"], "--index-date", index)
    assert code == 0, err
    assert "cannot be identified" not in err and "Circe cannot tell" not in err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    rules = {r["name"]: r["expression"] for r in cohort["InclusionRules"]}
    clearance = rules["inc-1 (inclusion)"]  # ANY(creatinine does not reach 1.6 mg/dL, clearance > 55)
    assert clearance["Type"] == "ANY" and len(clearance["Groups"]) == 2
    not_stated, conditioned = clearance["Groups"]
    occurrences = [c["Occurrence"] for c in not_stated["CriteriaList"]]  # one criterion per unit
    assert occurrences and all(o["Type"] == 2 and o["Count"] == 1 for o in occurrences)  # at least 1 outside S
    stated_values = {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"]: c["Criteria"]["Measurement"]["ValueAsNumber"]
                     for c in not_stated["CriteriaList"]}
    assert stated_values["mg/dL"] == {"Value": 1.6, "Op": "lt"} and stated_values["umol/L"]["Op"] == "lt"
    assert [c["Criteria"]["Measurement"]["ValueAsNumber"] for g in conditioned["Groups"] for c in g["CriteriaList"]
            ] == [{"Value": 55.0, "Op": "gt"}]
    verdicts = _verdicts(capsys, f["rules"], f["cdm"], index)
    assert verdicts == {pid: want[0] for pid, want in cdm_cases.STATED_EXPECTED.items()}
    passes = {p for p, v in verdicts.items() if v == "passes"}
    assert run_circe(out, f["cdm"]) == sorted(passes)
    assert {5, 7, 15} - passes == {5, 7, 15}


# ------------------------------------------------------------------------------ the most recent measurement


def _case_files(base: Path, criteria: str, trial: str, tables: dict) -> tuple[Path, str]:
    rules = _rules_file(base, criteria, trial)
    cdm = base / "cdm.duckdb"
    build_duckdb(cdm, _observed(tables))
    return rules, str(cdm)


def test_the_most_recent_measurement_in_circe_is_matchs(tmp_path, capsys):
    """The recency CDM: a later Hb after the index date (2) and a later one without a value (3) no
    longer keep the earlier value from deciding in Circe, a person without a platelet count (6)
    is not let through an exclusion match leaves unknown, a later platelet count after the index
    date (7) or without a value (8) does not hide the deciding one. What is left, and documented:
    two Hb values on the same day (4, 5) make neither the most recent in Circe, where match takes
    the later recorded one (4 passes match on his 14; Circe leaves him out, as an unknown)."""
    rules, cdm = _case_files(tmp_path, cdm_cases.CRITERIA, cdm_cases.TRIAL, cdm_cases.recency_tables())
    index = cdm_cases.INDEX_DATE.isoformat()
    code, out, err = _run(capsys, "export", rules, "--to", "circe", "--cdm", cdm, "--index-date", index)
    assert code == 0, err
    later = json.loads(out)["InclusionRules"][0]["expression"]["Groups"][0]["CriteriaList"][0]["Criteria"][
        "Measurement"]["CorrelatedCriteria"]["CriteriaList"][0]["Criteria"]["Measurement"]
    assert later["OccurrenceStartDate"] == {"Value": index, "Op": "lte"}  # the Hb window ends on the index date
    assert "two on the same day make neither the most recent" in err and "without --index-date" not in err
    code, lines, err = cdm_cases.run_match(capsys, rules, "--cdm", cdm, "--index-date", index)
    assert code == 0, err
    cdm_cases.check_verdicts(lines, cdm_cases.RECENCY_EXPECTED, cdm_cases.RECENCY_CASES)
    passes = {r["person_id"] for r in lines if r["verdict"] == "passes"}
    assert run_circe(out, cdm) == sorted(passes - cdm_cases.RECENCY_SAME_DAY)
    assert cdm_cases.RECENCY_SAME_DAY <= passes


def test_a_stated_population_under_a_population_in_circe(tmp_path, capsys):
    """`Women: - Patients with hemoglobin less than 10 g/dL: ALT greater than 3 times ULN`: the
    hemoglobin rule states the ALT rule's population and is itself under "Women". match applies
    the ALT threshold to women with Hb < 10; Circe writes the population as ALL(female, Hb < 10)
    and its complement as ANY(male, the most recent Hb >= 10): the cohort is who passes match."""
    rules, cdm = _case_files(tmp_path, cdm_cases.NESTED_CRITERIA, cdm_cases.NESTED_TRIAL, cdm_cases.nested_tables())
    index = cdm_cases.INDEX_DATE.isoformat()
    code, lines, err = cdm_cases.run_match(capsys, rules, "--cdm", cdm, "--index-date", index)
    assert code == 0, err
    cdm_cases.check_verdicts(lines, cdm_cases.NESTED_EXPECTED, cdm_cases.NESTED_CASES)
    code, out, err = _run(capsys, "export", rules, "--to", "circe", "--cdm", cdm, "--index-date", index)
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    (rule,) = cohort["InclusionRules"]
    outside, alt = rule["expression"]["Groups"]  # ANY(not in the population, ALT <= 3 x ULN)
    male, hb_known_high = outside["Groups"]
    assert [g["CONCEPT_ID"] for d in male["DemographicCriteriaList"] for g in d["Gender"]] == [cdm_cases.MALE]
    assert hb_known_high["CriteriaList"][0]["Criteria"]["Measurement"]["ValueAsNumber"] == {"Value": 10.0, "Op": "gte"}
    assert alt["Groups"][0]["CriteriaList"][0]["Criteria"]["Measurement"]["RangeHighRatio"] == {"Value": 3.0,
                                                                                                "Op": "lte"}
    assert run_circe(out, cdm) == sorted(r["person_id"] for r in lines if r["verdict"] == "passes")
