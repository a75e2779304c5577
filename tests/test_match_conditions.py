"""``criteria-nlp match``: population and exception conditions resolved from OMOP data (sex from
``person.gender_concept_id``, age groups from the birth date, diagnoses of a concept map from
``condition_occurrence``), and ``--concept-map`` for variables without a LOINC code.

The rules are real ``extract`` output of CRITERIA; the CDM is written here with made-up concept
ids (only the OMOP Gender concepts 8507/8532 are the real ones). DuckDB and PostgreSQL must give
the same lines.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

import criteria_nlp  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402
from criteria_nlp.omop.cdm import build_duckdb  # noqa: E402

from cdm_cases import CASES as CASE_CDM_PERSONS  # noqa: E402
from cdm_cases import duck_cdm, result_file  # noqa: E402,F401  (fixtures of the case CDM)
from cdm_cases import check_verdicts, fresh_postgres_cdm, run_match  # noqa: E402
from test_postgres import pg_server  # noqa: E402,F401

CRITERIA = """Inclusion Criteria:
1. Hemoglobin >= 13 g/dL in men, >= 12 g/dL in women
2. ALT <= 2.5 x ULN, unless due to Gilbert's syndrome
3. Total bilirubin <= 1.5 x ULN (for subjects with Gilbert's syndrome, total bilirubin <= 3 x ULN)
4. Barthel index >= 70
5. Creatinine clearance >= 50 mL/min in adults

Exclusion Criteria:
1. Platelet count < 100 x 10^9/L in children
2. QTc > 470 ms for females
"""
INDEX = dt.date(2025, 6, 1)
MALE, FEMALE = 8507, 8532
LOINC = {"hb": (7001, "718-7"), "alt": (7005, "1742-6"), "bili": (7006, "1975-2"), "crcl": (7003, "2164-2"),
         "plt": (7004, "777-3"), "qtc": (7007, "8636-3")}
UCUM = {"g/dL": 8001, "mL/min": 8006, "10*9/L": 8007, "ms": 8009, "U/L": 8010, "umol/L": 8004}
BARTHEL = 9100  # a local measurement concept: found through the concept map's concept_id
GILBERT, GILBERT_CHILD = 9200, 9201  # SNOMED 27503000 (made-up ids) and a descendant
CONCEPT_MAP = {"variables": {"barthel_index": BARTHEL},
               "conditions": {"Gilbert's syndrome": {"vocabulary_id": "SNOMED", "concept_code": "27503000"}}}

# every person has these unless the case overrides them: (concept, value, unit, range_high)
BASE = {"hb": ("hb", 14.0, "g/dL", None), "alt": ("alt", 30.0, "U/L", 40.0), "bili": ("bili", 15.0, "umol/L", 20.0),
        "crcl": ("crcl", 90.0, "mL/min", None), "plt": ("plt", 250.0, "10*9/L", None),
        "qtc": ("qtc", 420.0, "ms", None), "kps": ("kps", 80.0, None, None)}
# person -> (case, gender concept, (birth y, m, d), overrides, Gilbert's diagnosis (concept, days before index))
CASES = {
    1: ("man, all in range", MALE, (1980, 3, 15), {}, None),
    2: ("woman, Hb 12.5: the women's threshold applies", FEMALE, (1980, 3, 15), {"hb": ("hb", 12.5, "g/dL", None)}, None),
    3: ("man, Hb 12.5: the men's threshold fails", MALE, (1980, 3, 15), {"hb": ("hb", 12.5, "g/dL", None)}, None),
    4: ("sex unknown, Hb 12.5: the two thresholds disagree", 0, (1980, 3, 15), {"hb": ("hb", 12.5, "g/dL", None)}, None),
    5: ("sex unknown, Hb 14: both thresholds hold", 0, (1980, 3, 15), {}, None),
    6: ("ALT 3 x ULN, no Gilbert's", MALE, (1980, 3, 15), {"alt": ("alt", 120.0, "U/L", 40.0)}, None),
    7: ("ALT 3 x ULN and bilirubin 2.5 x ULN with Gilbert's (a descendant concept)", MALE, (1980, 3, 15),
        {"alt": ("alt", 120.0, "U/L", 40.0), "bili": ("bili", 50.0, "umol/L", 20.0)}, (GILBERT_CHILD, 400)),
    8: ("bilirubin 2.5 x ULN, no Gilbert's", MALE, (1980, 3, 15), {"bili": ("bili", 50.0, "umol/L", 20.0)}, None),
    9: ("ALT 3 x ULN, Gilbert's diagnosed after the index date", MALE, (1980, 3, 15),
        {"alt": ("alt", 120.0, "U/L", 40.0)}, (GILBERT, -10)),
    10: ("child with platelets 80", MALE, (2012, 1, 1), {"plt": ("plt", 80.0, "10*9/L", None)}, None),
    11: ("child with platelets 250", MALE, (2012, 1, 1), {}, None),
    12: ("woman with QTc 480", FEMALE, (1980, 3, 15), {"qtc": ("qtc", 480.0, "ms", None)}, None),
    13: ("man with QTc 480", MALE, (1980, 3, 15), {"qtc": ("qtc", 480.0, "ms", None)}, None),
    14: ("birth year only (17 or 18), clearance 40", MALE, (2007, None, None), {"crcl": ("crcl", 40.0, "mL/min", None)}, None),
    15: ("Barthel index 60", MALE, (1980, 3, 15), {"kps": ("kps", 60.0, None, None)}, None),
}
# person -> (verdict, {rule: (verdict, reason)}) with the concept map
EXPECTED = {
    1: ("passes", {"inc-1.r1": ("met", None), "inc-1.r2": ("not_applicable", "not_in_population"),
                   "inc-2.r1": ("met", None), "inc-3.r1": ("met", None),
                   "inc-3.r2": ("not_applicable", "not_in_population"), "inc-4.r1": ("met", None),
                   "inc-5.r1": ("met", None), "exc-1.r1": ("not_applicable", "not_in_population"),
                   "exc-2.r1": ("not_applicable", "not_in_population")}),
    2: ("passes", {"inc-1.r1": ("not_applicable", "not_in_population"), "inc-1.r2": ("met", None),
                   "exc-2.r1": ("not_met", None)}),
    3: ("fails", {"inc-1.r1": ("not_met", None), "inc-1.r2": ("not_applicable", "not_in_population")}),
    4: ("unknown", {"inc-1.r1": ("not_met", "population_unknown"), "inc-1.r2": ("met", "population_unknown"),
                    "exc-2.r1": ("not_met", "population_unknown")}),
    5: ("passes", {"inc-1.r1": ("met", "population_unknown"), "inc-1.r2": ("met", "population_unknown")}),
    6: ("fails", {"inc-2.r1": ("not_met", None)}),
    7: ("passes", {"inc-2.r1": ("not_applicable", "exception_applies"),
                   "inc-3.r1": ("not_applicable", "population_rule_applies"), "inc-3.r2": ("met", None)}),
    8: ("fails", {"inc-3.r1": ("not_met", None), "inc-3.r2": ("not_applicable", "not_in_population")}),
    9: ("fails", {"inc-2.r1": ("not_met", None)}),
    10: ("fails", {"exc-1.r1": ("met", None), "inc-5.r1": ("not_applicable", "not_in_population")}),
    11: ("passes", {"exc-1.r1": ("not_met", None), "inc-5.r1": ("not_applicable", "not_in_population")}),
    12: ("fails", {"exc-2.r1": ("met", None)}),
    13: ("passes", {"exc-2.r1": ("not_applicable", "not_in_population")}),
    14: ("unknown", {"inc-5.r1": ("not_met", "population_unknown"), "exc-1.r1": ("not_met", "population_unknown")}),
    15: ("fails", {"inc-4.r1": ("not_met", None)}),
}


def cdm_tables() -> dict[str, list[dict]]:
    concepts = [{"concept_id": cid, "concept_name": key, "vocabulary_id": "LOINC", "concept_code": code}
                for key, (cid, code) in LOINC.items()]
    concepts += [{"concept_id": cid, "concept_name": code, "domain_id": "Unit", "vocabulary_id": "UCUM",
                  "concept_class_id": "Unit", "concept_code": code} for code, cid in UCUM.items()]
    concepts += [{"concept_id": BARTHEL, "concept_name": "Barthel index (local)", "vocabulary_id": "Local",
                  "concept_code": "KPS"},
                 {"concept_id": GILBERT, "concept_name": "Gilbert's syndrome", "domain_id": "Condition",
                  "vocabulary_id": "SNOMED", "concept_class_id": "Clinical Finding", "concept_code": "27503000"},
                 {"concept_id": GILBERT_CHILD, "concept_name": "Gilbert's syndrome variant", "domain_id": "Condition",
                  "vocabulary_id": "SNOMED", "concept_class_id": "Clinical Finding", "concept_code": "99990001"}]
    ancestors = [{"ancestor_concept_id": GILBERT, "descendant_concept_id": GILBERT_CHILD,
                  "min_levels_of_separation": 1, "max_levels_of_separation": 1}]
    concept_of = {k: v[0] for k, v in LOINC.items()} | {"kps": BARTHEL}
    persons, measurements, conditions = [], [], []
    for pid, (_, gender, (y, m, d), overrides, dx) in CASES.items():
        persons.append({"person_id": pid, "gender_concept_id": gender, "year_of_birth": y, "month_of_birth": m,
                        "day_of_birth": d})
        for key, base in BASE.items():
            concept, value, unit, high = overrides.get(key, base)
            measurements.append({"measurement_id": len(measurements) + 1, "person_id": pid,
                                 "measurement_concept_id": concept_of[concept],
                                 "measurement_date": (INDEX - dt.timedelta(days=2)).isoformat(),
                                 "value_as_number": value, "unit_concept_id": UCUM[unit] if unit else None,
                                 "range_high": high})
        if dx:
            conditions.append({"condition_occurrence_id": len(conditions) + 1, "person_id": pid,
                               "condition_concept_id": dx[0],
                               "condition_start_date": (INDEX - dt.timedelta(days=dx[1])).isoformat()})
    return {"concept": concepts, "concept_ancestor": ancestors, "person": persons, "measurement": measurements,
            "condition_occurrence": conditions}


def write_rules_and_map(base) -> tuple:
    """``(rules.json, concepts.json)`` in ``base``: the extracted CRITERIA and CONCEPT_MAP (also used by
    the Circe and FHIR tests)."""
    rules = base / "rules.json"
    rules.write_text(json.dumps(criteria_nlp.extract(CRITERIA, doc_id="NCT-CONDITIONS")), encoding="utf-8")
    cmap = base / "concepts.json"
    cmap.write_text(json.dumps(CONCEPT_MAP), encoding="utf-8")
    return rules, cmap


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    base = tmp_path_factory.mktemp("conditions")
    rules, cmap = write_rules_and_map(base)
    cdm = base / "cdm.duckdb"
    build_duckdb(cdm, cdm_tables())
    return {"rules": rules, "map": cmap, "cdm": str(cdm)}


def test_the_extracted_rules_carry_the_conditions(files):
    """The test is about what extract really gives for these lines."""
    result = json.loads(files["rules"].read_text(encoding="utf-8"))
    conds = {r["id"]: [(c["kind"], c.get("description")) for c in r.get("conditions") or []]
             for c in result["criteria"] for r in c["rules"]}
    assert conds["inc-1.r1"] == [("population", "men")] and conds["inc-1.r2"] == [("population", "women")]
    assert conds["inc-2.r1"] == [("exception", "due to Gilbert's syndrome")]
    assert conds["inc-3.r2"] == [("population", "Gilbert's syndrome")] and conds["inc-3.r1"] == []
    assert conds["exc-1.r1"] == [("population", "children")] and conds["exc-2.r1"] == [("population", "females")]


def test_populations_and_exceptions_on_duckdb(files, capsys):
    code, lines, err = run_match(capsys, files["rules"], "--cdm", files["cdm"], "--index-date", INDEX.isoformat(),
                              "--concept-map", files["map"])
    assert code == 0, err
    check_verdicts(lines, EXPECTED, CASES)
    kps = {x["rule"]: x for x in lines[0]["rules"]}["inc-4.r1"]
    assert kps["variable"] == {"name": "barthel_index", "code": None, "concept_id": BARTHEL}
    assert kps["value"] == 80


def test_without_a_concept_map_the_reasons_say_why(files, capsys):
    code, lines, err = run_match(capsys, files["rules"], "--cdm", files["cdm"], "--index-date", INDEX.isoformat())
    assert code == 0, err
    # this CDM's Gilbert's syndrome concept is not marked standard: the name look-up finds nothing
    assert "name look-up: \"gilbert's syndrome\": no standard Condition concept has this name or synonym" in err
    rule = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    kps = rule[(1, "inc-4.r1")]
    assert (kps["verdict"], kps["reason"]) == ("unknown", "no_loinc_code")
    assert "barthel_index" in kps["detail"] and "--concept-map" in kps["detail"]
    # a criterion with no rule that can be evaluated is not counted (the line's scope says so):
    # Barthel index 60 does not fail person 15 without the map
    assert lines[0]["verdict"] == "passes" and lines[14]["verdict"] == "passes"
    # Gilbert's syndrome is not resolvable: ALT 3 x ULN with the exception is unknown, not failed
    assert (rule[(7, "inc-2.r1")]["verdict"], rule[(7, "inc-2.r1")]["reason"]) == ("not_met", "exception_not_resolvable")
    assert (rule[(1, "inc-2.r1")]["verdict"], rule[(1, "inc-2.r1")]["reason"]) == ("met", "exception_not_resolvable")
    assert rule[(8, "inc-3.r2")]["reason"] == "population_not_resolvable"
    # sex and age need no map
    assert rule[(1, "inc-1.r2")]["verdict"] == "not_applicable"
    # a dynamic rule has no detail; a rule nobody can be evaluated on has one
    assert "detail" not in rule[(1, "inc-1.r1")]


def test_concept_not_in_the_cdm_is_a_reason(files, tmp_path, capsys):
    cmap = tmp_path / "missing.json"
    cmap.write_text(json.dumps({"variables": {"Barthel index": 123456}}), encoding="utf-8")
    code, lines, err = run_match(capsys, files["rules"], "--cdm", files["cdm"], "--index-date", INDEX.isoformat(),
                              "--concept-map", cmap)
    assert code == 0
    kps = {x["rule"]: x for x in lines[0]["rules"]}["inc-4.r1"]
    assert (kps["reason"], kps["variable"]["concept_id"]) == ("concept_not_in_cdm", 123456)
    assert "concept_id 123456 not in the CDM's concept table" in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a JSON document"),
    ('{"variables": {"x": "DROP TABLE person"}}', "expected a concept_id"),
    ('{"conditions": {"x": {"vocabulary_id": "SNOMED; --", "concept_code": "1"}}}', "expected a concept_id"),
    ('{"other": {}}', "expected an object with"),
])
def test_bad_concept_map_is_a_one_line_error(files, tmp_path, capsys, content, message):
    cmap = tmp_path / "bad.json"
    cmap.write_text(content, encoding="utf-8")
    assert main(["match", str(files["rules"]), "--cdm", files["cdm"], "--index-date", "2025-06-01",
                 "--concept-map", str(cmap)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_exported_sql_gives_the_same_verdicts(files, capsys):
    import duckdb

    code = main(["export", str(files["rules"]), "--to", "sql", "--index-date", INDEX.isoformat(),
                 "--concept-map", str(files["map"]), "--cdm", files["cdm"]])
    sql = capsys.readouterr().out
    assert code == 0
    con = duckdb.connect(files["cdm"], read_only=True)
    rows = con.execute(sql.rstrip().rstrip(";")).fetchall()
    names = [d[0] for d in con.description]
    con.close()
    verdict = {1: "passes", 0: "fails", None: "unknown"}
    assert [(r[names.index("person_id")], verdict[r[names.index("allowed")]]) for r in rows] == \
           [(pid, EXPECTED[pid][0]) for pid in sorted(CASES)]


@pytest.mark.postgres
def test_postgres_gives_the_same_lines_as_duckdb(files, pg_server, capsys):  # noqa: F811
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm_cond")
    args = ["--index-date", INDEX.isoformat(), "--concept-map", files["map"]]
    code, pg_lines, err = run_match(capsys, files["rules"], "--cdm", dsn, "--cdm-schema", "cdm_cond", *args)
    assert code == 0, err
    check_verdicts(pg_lines, EXPECTED, CASES)
    _, duck_lines, _ = run_match(capsys, files["rules"], "--cdm", files["cdm"], *args)
    assert pg_lines == duck_lines


@pytest.mark.postgres
def test_demo_cdm_on_postgres_gives_the_duckdb_lines(pg_server, tmp_path, capsys):  # noqa: F811
    """The README's demo (the reference record's real rules, corpora/omop-demo with its concept
    map) loaded into PostgreSQL: the same lines, byte for byte, as the in-memory DuckDB."""
    from pathlib import Path

    from criteria_nlp.omop.cdm import read_csv_dir

    demo = Path(__file__).resolve().parent.parent / "corpora" / "omop-demo"
    text = (demo.parent / "examples" / "NCT06852573.criteria.txt").read_text(encoding="utf-8")
    rules = tmp_path / "ref.json"
    rules.write_text(json.dumps(criteria_nlp.extract(text, doc_id="NCT06852573")), encoding="utf-8")
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, read_csv_dir(demo), "cdm_demo")
    args = ["--index-date", "2025-03-01", "--concept-map", demo / "concept-map.json"]
    code, pg_lines, err = run_match(capsys, rules, "--cdm", dsn, "--cdm-schema", "cdm_demo", *args)
    assert code == 0, err
    _, duck_lines, _ = run_match(capsys, rules, "--cdm", demo, *args)
    assert len(pg_lines) == 7 and pg_lines == duck_lines


@pytest.mark.parametrize("which", ["cases", "conditions"])
def test_database_and_python_writers_give_the_same_bytes(files, duck_cdm, result_file, monkeypatch, capsys, which):
    """On DuckDB the database writes the rules' JSON; Python writes it for other databases. Both
    must give the same text (every reason, not_applicable, negation, value formatting ...)."""
    from criteria_nlp.omop import match

    if which == "cases":
        args = [result_file, "--cdm", duck_cdm, "--index-date", "2025-06-01"]
    else:
        args = [files["rules"], "--cdm", files["cdm"], "--index-date", INDEX.isoformat(), "--concept-map", files["map"]]
    main(["match", *map(str, args)])
    by_database = capsys.readouterr().out
    monkeypatch.setattr(match, "SQL_WRITER_DIALECTS", ())
    main(["match", *map(str, args)])
    by_python = capsys.readouterr().out
    assert by_database == by_python
    assert by_database.count("\n") == len(CASE_CDM_PERSONS if which == "cases" else CASES)


def test_circe_and_fhir_exports_take_the_concept_map(files, capsys):
    from test_export import _circe_roundtrip

    code = main(["export", str(files["rules"]), "--to", "circe", "--cdm", files["cdm"],
                 "--concept-map", str(files["map"])])
    out, err = capsys.readouterr()
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    items = [i["concept"] for cs in cohort["ConceptSets"] for i in cs["expression"]["items"]]
    assert {"CONCEPT_ID": BARTHEL, "CONCEPT_CODE": "KPS", "VOCABULARY_ID": "Local"}.items() <= next(
        i for i in items if i["CONCEPT_ID"] == BARTHEL).items()
    assert "Circe takes the most recent measurement as" in err
    code = main(["export", str(files["rules"]), "--to", "fhir", "--concept-map", str(files["map"])])
    assert code == 0


def test_a_cdm_without_condition_occurrence_does_not_resolve_diagnoses(files, tmp_path, capsys):
    import duckdb

    path = tmp_path / "no-conditions.duckdb"
    tables = cdm_tables()
    del tables["condition_occurrence"]
    build_duckdb(path, tables)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE condition_occurrence")
    con.close()
    code, lines, err = run_match(capsys, files["rules"], "--cdm", path, "--index-date", INDEX.isoformat(),
                              "--concept-map", files["map"])
    assert code == 0, err
    assert "no condition_occurrence table" in err
    rule = {(r["person_id"], x["rule"]): x for r in lines for x in r["rules"]}
    assert rule[(7, "inc-2.r1")]["reason"] == "exception_not_resolvable"
    assert rule[(8, "inc-3.r1")]["reason"] == "population_not_resolvable"
    assert rule[(3, "inc-1.r1")]["verdict"] == "not_met"  # sex still resolved


def test_the_database_writer_checks_the_person_order(files, capsys):
    """The JSON is written by a projection over rows sorted by person_id (the sort moves numbers,
    not text); the writer refuses rows that come out of order rather than writing them."""
    from criteria_nlp.omop.errors import OmopError
    from criteria_nlp.omop.results import plan_trial
    from criteria_nlp.omop.verdicts import SqlRulesWriter

    plan = plan_trial(json.loads(files["rules"].read_text(encoding="utf-8")))
    writer = SqlRulesWriter(plan)
    writer.wrap("SELECT 1 AS person_id", [], set())
    runs = sum(isinstance(p, int) for p in writer.pieces)
    row = lambda pid: (pid, INDEX, 1, *["{}"] * runs)  # noqa: E731
    text = writer.lines([row(1), row(2), row(2)])
    assert text.count("\n") == 3 and text.startswith('{"trial": "NCT-CONDITIONS", "person_id": 1, ')
    with pytest.raises(OmopError, match="out of person_id order"):
        writer.lines([row(1)])  # after person 2
    writer.wrap("SELECT 1 AS person_id", [], set())
    with pytest.raises(OmopError, match="out of person_id order"):
        writer.lines([row(5), row(3)])


def test_the_absence_of_a_mapped_diagnosis_is_no_population_of_it():
    from criteria_nlp.omop.conceptmap import ConceptMap, MappedConcept
    from criteria_nlp.omop.populations import resolve

    cmap = ConceptMap({}, {"atrial fibrillation": MappedConcept(concept_id=313217)})
    assert resolve("atrial fibrillation", cmap, 1).concept == MappedConcept(concept_id=313217)
    assert resolve("without atrial fibrillation", cmap, 2) is None
    assert resolve("no atrial fibrillation", cmap, 3) is None
