"""``criteria-nlp export --to sql|circe|fhir`` on real extract output.

* sql: the exported statement (literals, no parameters) run by DuckDB and PostgreSQL on the case
  CDM gives the same person verdicts as ``match``; the other dialects transpile and parse back.
* circe: OHDSI's Python Circe (circe-be's model) reads the cohort expression without dropping a
  field we wrote, and its SQL compiler turns our fields into the expected predicates.
* fhir: fhir.resources' R5 EvidenceVariable model validates the resource.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
sqlglot = pytest.importorskip("sqlglot")

import criteria_nlp  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402

from cdm_cases import CASES, EXPECTED, INDEX_DATE, LOINC, UCUM, cdm_tables, fresh_postgres_cdm  # noqa: E402
from cdm_cases import duck_cdm, result_file  # noqa: E402,F401  (fixtures)
from test_postgres import pg_server  # noqa: E402,F401

REFERENCE = Path(__file__).resolve().parent.parent / "corpora" / "examples" / "NCT06852573.criteria.txt"
VERDICT_OF_ALLOWED = {1: "passes", 0: "fails", None: "unknown"}


def _export(capsys, *args) -> tuple[int, str, str]:
    code = main(["export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _expected_verdicts() -> list[tuple[int, str]]:
    return [(pid, EXPECTED[pid][0]) for pid in sorted(CASES)]


# ------------------------------------------------------------------------------ sql


def test_sql_export_on_duckdb_gives_match_verdicts(result_file, duck_cdm, capsys):
    import duckdb

    code, sql, err = _export(capsys, result_file, "--to", "sql", "--dialect", "duckdb",
                             "--index-date", INDEX_DATE.isoformat())
    assert code == 0, err
    assert "?" not in sql  # literals: runnable as it is
    con = duckdb.connect(duck_cdm, read_only=True)
    rows = con.execute(sql.rstrip().rstrip(";")).fetchall()
    names = [d[0] for d in con.description]
    con.close()
    got = [(r[names.index("person_id")], VERDICT_OF_ALLOWED[r[names.index("allowed")]]) for r in rows]
    assert got == _expected_verdicts()


@pytest.mark.postgres
def test_sql_export_on_postgres_gives_match_verdicts(result_file, duck_cdm, pg_server, capsys):  # noqa: F811
    import psycopg

    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm_export")
    # units from the PostgreSQL CDM itself, tables qualified with the schema
    code, sql, err = _export(capsys, result_file, "--to", "sql", "--dialect", "postgres", "--cdm", dsn,
                             "--cdm-schema", "cdm_export", "--index-date", INDEX_DATE.isoformat())
    assert code == 0, err
    assert "cdm_export.measurement" in sql
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(sql.rstrip().rstrip(";"))
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    got = [(r[names.index("person_id")], VERDICT_OF_ALLOWED[r[names.index("allowed")]]) for r in rows]
    assert got == _expected_verdicts()
    # and match on the same server agrees rule by rule with what the exported SQL computed
    assert main(["match", str(result_file), "--cdm", dsn, "--cdm-schema", "cdm_export",
                 "--index-date", INDEX_DATE.isoformat()]) == 0
    matched = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(m["person_id"], m["verdict"]) for m in matched] == got


@pytest.mark.parametrize("dialect", ["spark", "bigquery", "tsql"])
def test_sql_export_other_dialects_parse(result_file, capsys, dialect):
    code, sql, _ = _export(capsys, result_file, "--to", "sql", "--dialect", dialect, "--index-table", "cohort.idx")
    assert code == 0
    tree = sqlglot.parse_one(sql.rstrip().rstrip(";"), read=dialect)
    assert {t.name for t in tree.find_all(sqlglot.exp.Table)} >= {"measurement", "concept", "person", "idx"}
    if dialect == "bigquery":
        assert "DATE_DIFF(" in sql and "FLOAT64" in sql
    if dialect == "tsql":
        assert "DATEDIFF(DAY" in sql


def test_sql_export_needs_an_index(result_file, capsys):
    code, _, err = _export(capsys, result_file, "--to", "sql")
    assert code == 2 and "needs --index-date or --index-table" in err


# ------------------------------------------------------------------------------ circe


def _paths(x, prefix=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, f"{prefix}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, f"{prefix}[{i}]")
    else:
        yield prefix


def _circe_roundtrip(expression: dict):
    api = pytest.importorskip("circe.api")
    parsed = api.cohort_expression_from_json(json.dumps(expression))
    back = json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True))
    # every field we write is a field of circe-be's model (its dump capitalises some keys ATLAS
    # writes in lower case, such as an inclusion rule's name/expression)
    lost = {p.lower() for p in _paths(expression)} - {p.lower() for p in _paths(back)}
    assert not lost, sorted(lost)[:10]
    return parsed, api.build_cohort_query(parsed)


def test_circe_export_with_vocabulary(result_file, duck_cdm, capsys):
    code, out, err = _export(capsys, result_file, "--to", "circe", "--cdm", duck_cdm)
    assert code == 0, err
    cohort = json.loads(out)
    parsed, circe_sql = _circe_roundtrip(cohort)
    sets = {s["expression"]["items"][0]["concept"]["CONCEPT_CODE"]: s for s in cohort["ConceptSets"]}
    assert sets["718-7"]["expression"]["items"][0]["concept"]["CONCEPT_ID"] == LOINC["hb"][0]
    assert sets["718-7"]["expression"]["items"][0]["includeDescendants"] is True
    rules = {r["name"]: r["expression"] for r in cohort["InclusionRules"]}
    assert list(rules) == ["inc-1 (inclusion)", "inc-2 (inclusion)", "inc-3 (inclusion)", "inc-4 (inclusion)",
                           "exc-1 (exclusion)"]

    hb = rules["inc-1 (inclusion)"]["Groups"][0]
    assert hb["Type"] == "ANY"  # one criterion per unit of the CDM that converts to g/dL
    by_unit = {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"]: c for c in hb["CriteriaList"]}
    assert set(by_unit) == {"g/dL", "g/L", "mmol/L"}
    assert by_unit["g/dL"]["Criteria"]["Measurement"]["ValueAsNumber"] == {"Value": 10.0, "Op": "gte"}
    assert by_unit["g/L"]["Criteria"]["Measurement"]["ValueAsNumber"] == {"Value": 100.0, "Op": "gte"}
    assert by_unit["g/L"]["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_ID"] == UCUM["g/L"]
    assert by_unit["g/dL"]["StartWindow"]["Start"] == {"Days": 7, "Coeff": -1}
    assert by_unit["g/dL"]["Occurrence"] == {"Type": 2, "Count": 1, "IsDistinct": False}
    # the most recent measurement: the only one with a value of the concept set from its day to 7
    # days after it (the window's span); no --index-date: not bounded by the window's last day
    (later,) = by_unit["g/dL"]["Criteria"]["Measurement"]["CorrelatedCriteria"]["CriteriaList"]
    assert by_unit["g/dL"]["Criteria"]["Measurement"]["CorrelatedCriteria"]["Type"] == "ALL"
    assert later["Criteria"] == {"Measurement": {"CodesetId": by_unit["g/dL"]["Criteria"]["Measurement"]["CodesetId"],
                                                 "ValueAsNumber": {"Value": 1, "Op": "!bt", "Extent": 0}}}
    assert later["StartWindow"]["Start"] == {"Days": 0, "Coeff": 1} and later["StartWindow"]["End"] == {"Days": 7, "Coeff": 1}
    assert later["Occurrence"] == {"Type": 1, "Count": 1, "IsDistinct": False}
    assert later["IgnoreObservationPeriod"] is True
    assert "a later measurement after the index date (within the window's span) also keeps" in err

    uln = rules["inc-2 (inclusion)"]["Groups"][0]["CriteriaList"][0]["Criteria"]["Measurement"]
    assert uln["RangeHighRatio"] == {"Value": 1.5, "Op": "lte"} and "Unit" not in uln
    assert uln["CorrelatedCriteria"]["CriteriaList"][0]["StartWindow"]["End"] == {"Days": 90, "Coeff": 1}  # look-back
    assert rules["inc-3 (inclusion)"]["DemographicCriteriaList"] == [{"Age": {"Value": 18.0, "Op": "bt", "Extent": 65.0}}]
    assert rules["inc-4 (inclusion)"]["Type"] == "ANY"
    platelets = rules["exc-1 (exclusion)"]["Groups"][0]
    assert platelets["Type"] == "ANY"  # "the most recent count is >= 100 x 10^9/L", in any unit: known not to hold
    assert {c["Occurrence"]["Type"] for c in platelets["CriteriaList"]} == {2}
    values = {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"]: c["Criteria"]["Measurement"]["ValueAsNumber"]
              for c in platelets["CriteriaList"]}
    assert values == {"10*9/L": {"Value": 100.0, "Op": "gte"}, "/uL": {"Value": 100000.0, "Op": "gte"}}

    # Circe's own compiler understood the fields
    assert "value_as_number / NULLIF(C.range_high, 0)) <= 1.5" in circe_sql
    assert re.search(r"value_as_number >= 100\.0+ AND C\.unit_concept_id in \(8002\)", circe_sql)
    assert len(parsed.inclusion_rules) == 5


def test_circe_any_measurement_leaves_out_the_most_recent_criteria(result_file, duck_cdm, capsys):
    """``--any-measurement``: no nested criteria (cheaper SQL); the stderr and the descriptions say
    that Circe then counts any measurement in the window."""
    code, out, err = _export(capsys, result_file, "--to", "circe", "--cdm", duck_cdm, "--any-measurement")
    assert code == 0, err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    assert "CorrelatedCriteria" not in out
    hb = cohort["InclusionRules"][0]["expression"]["Groups"][0]["CriteriaList"]
    assert {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"] for c in hb} == {"g/dL", "g/L", "mmol/L"}
    assert "Circe counts any measurement in the window that meets the threshold (--any-measurement)" in err
    assert "(--any-measurement)" in cohort["InclusionRules"][0]["description"]
    code, out, err = _export(capsys, result_file, "--to", "fhir", "--any-measurement")
    assert code == 2 and out == ""
    assert err.strip() == "criteria-nlp: --any-measurement is an option of --to circe, not of --to fhir"


def test_circe_export_without_vocabulary_warns(result_file, capsys):
    code, out, err = _export(capsys, result_file, "--to", "circe")
    assert code == 0
    assert "CONCEPT_ID is 0" in err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    hb = cohort["InclusionRules"][0]["expression"]["Groups"][0]["CriteriaList"]
    units = {c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_CODE"] for c in hb}
    assert {"g/dL", "g/L", "mmol/L"} <= units  # from the list of common units
    assert all(c["Criteria"]["Measurement"]["Unit"][0]["CONCEPT_ID"] == 0 for c in hb)


def test_circe_export_of_the_reference_record(tmp_path, capsys):
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(criteria_nlp.extract(REFERENCE.read_text(encoding="utf-8"), doc_id="NCT06852573")),
                    encoding="utf-8")
    code, out, err = _export(capsys, path, "--to", "circe")
    assert code == 0 and "Traceback" not in err
    cohort = json.loads(out)
    _circe_roundtrip(cohort)
    names = [r["name"] for r in cohort["InclusionRules"]]
    assert "inc-8.1 (inclusion)" in names and "exc-16 (exclusion)" in names
    # no --cdm: Gilbert's syndrome cannot be identified; everyone must meet both sets of thresholds
    assert "inc-9.2: the population \"Gilbert's syndrome\" cannot be identified in the data" in err
    # how Circe's "most recent" differs from match's: said on stderr and in each measurement rule
    assert "Circe takes the most recent measurement as the only measurement with a value" in err
    descriptions = {r["name"]: r["description"] for r in cohort["InclusionRules"]}
    assert "two on the same day make neither the most recent" in descriptions["inc-8.1 (inclusion)"]


# ------------------------------------------------------------------------------ fhir


def test_fhir_export_validates_and_says_what_the_rules_say(result_file, capsys):
    ev_module = pytest.importorskip("fhir.resources.evidencevariable")
    code, out, err = _export(capsys, result_file, "--to", "fhir")
    assert code == 0, err
    resource = json.loads(out)
    ev_module.EvidenceVariable.model_validate(resource)
    chars = {c["linkId"]: c for c in resource["characteristic"]}
    hb = chars["inc-1"]
    assert hb["exclude"] is False
    d = hb["definitionByTypeAndValue"]
    assert d["type"]["coding"] == [{"system": "http://loinc.org", "code": "718-7"}]
    assert d["valueQuantity"] == {"value": 10.0, "comparator": ">=", "unit": "g/dL",
                                  "system": "http://unitsofmeasure.org", "code": "g/dL"}
    assert hb["timeFromEvent"][0]["range"]["low"]["value"] == -7
    assert hb["timeFromEvent"][0]["range"]["high"]["value"] == 0
    uln = chars["inc-2"]["definitionByTypeAndValue"]
    assert uln["offset"] == {"text": "upper limit of normal"} and uln["valueQuantity"]["comparator"] == "<="
    age = chars["inc-3"]["definitionByTypeAndValue"]
    assert age["valueRange"]["low"]["value"] == 18 and age["valueRange"]["high"]["code"] == "a"
    assert chars["inc-4"]["definitionByCombination"]["code"] == "any-of"
    assert len(chars["inc-4"]["definitionByCombination"]["characteristic"]) == 2
    assert chars["exc-1"]["exclude"] is True


def test_fhir_export_of_several_results_is_json_lines(result_file, tmp_path, capsys):
    ev_module = pytest.importorskip("fhir.resources.evidencevariable")
    good = json.loads(result_file.read_text(encoding="utf-8"))
    many = tmp_path / "many.jsonl"
    many.write_text("\n".join(json.dumps(dict(good, source={"id": f"T{i}"})) for i in range(3)) + "\n",
                    encoding="utf-8")
    code, out, _ = _export(capsys, many, "--to", "fhir")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    for line in lines:
        ev_module.EvidenceVariable.model_validate(json.loads(line))


# ------------------------------------------------------------------------------ sql --level verdicts|counts


def sql_level_output(rules_path, level: str, names: list[str], rows: list[tuple], index_date: str) -> str:
    """What ``match --level level`` prints, written from the rows of the exported query by match's
    own writers (the rows carry everything; the writers only add the fixed parts)."""
    from criteria_nlp.omop import summaries
    from criteria_nlp.omop.results import plan_trial

    plan = plan_trial(json.loads(Path(rules_path).read_text(encoding="utf-8")))
    if level == "verdicts":
        return summaries.PersonVerdictWriter(plan).lines(rows)
    (row,) = rows
    return summaries.CountsWriter(plan, index_date, None).line(names, row)


def run_exported_sql(capsys, rules_path, level: str, *, duckdb_path: str | None = None, dsn: str | None = None,
                     schema: str | None = None, index_date: str = INDEX_DATE.isoformat()) -> str:
    """``export --to sql --level level`` run on DuckDB (``duckdb_path``) or PostgreSQL (``dsn``,
    ``schema``); the output match's writers make of its rows."""
    if dsn is None:
        import duckdb

        code, sql, err = _export(capsys, rules_path, "--to", "sql", "--level", level, "--index-date", index_date)
        assert code == 0, err
        con = duckdb.connect(duckdb_path, read_only=True)
        rows = con.execute(sql.rstrip().rstrip(";")).fetchall()
        names = [d[0] for d in con.description]
        con.close()
    else:
        import psycopg

        code, sql, err = _export(capsys, rules_path, "--to", "sql", "--level", level, "--dialect", "postgres",
                                 "--cdm", dsn, "--cdm-schema", schema, "--index-date", index_date)
        assert code == 0, err
        with psycopg.connect(dsn) as conn:
            cur = conn.execute(sql.rstrip().rstrip(";"))
            names, rows = [d.name for d in cur.description], cur.fetchall()
    assert "?" not in sql and f"(--level {level})" in sql
    return sql_level_output(rules_path, level, names, rows, index_date)


def _match_output(capsys, *args) -> str:
    assert main(["match", *map(str, args)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("level", ["verdicts", "counts"])
def test_sql_export_of_a_level_gives_match_output_on_duckdb(result_file, duck_cdm, capsys, level):
    got = run_exported_sql(capsys, result_file, level, duckdb_path=duck_cdm)
    want = _match_output(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat(),
                         "--level", level)
    assert got == want and got.count("\n") == (len(CASES) if level == "verdicts" else 1)


@pytest.mark.postgres
@pytest.mark.parametrize("level", ["verdicts", "counts"])
def test_sql_export_of_a_level_gives_match_output_on_postgres(result_file, duck_cdm, pg_server, capsys,  # noqa: F811
                                                             level):
    dsn = pg_server["dsn"]
    fresh_postgres_cdm(dsn, cdm_tables(), "cdm_export_levels")
    got = run_exported_sql(capsys, result_file, level, dsn=dsn, schema="cdm_export_levels")
    want = _match_output(capsys, result_file, "--cdm", duck_cdm, "--index-date", INDEX_DATE.isoformat(),
                         "--level", level)
    assert got == want


def test_a_level_is_for_sql_only(result_file, capsys):
    code, out, err = _export(capsys, result_file, "--to", "circe", "--level", "counts")
    assert code == 2 and out == ""
    assert err.strip() == "criteria-nlp: --level counts is a level of --to sql (the query of match --level), not of --to circe"


@pytest.mark.parametrize("dialect", ["spark", "bigquery", "tsql"])
def test_level_queries_transpile_to_the_other_dialects(result_file, capsys, dialect):
    for level in ("verdicts", "counts"):
        code, sql, err = _export(capsys, result_file, "--to", "sql", "--level", level, "--dialect", dialect,
                                 "--index-date", INDEX_DATE.isoformat())
        assert code == 0, err
        assert sqlglot.parse_one(sql.split("\n", 1)[1].rstrip().rstrip(";"), read=dialect) is not None
        assert "inc-1.r1" in sql if level == "verdicts" else "met_" in sql


def test_fhir_link_ids_are_fhir_strings(tmp_path, capsys):
    """A second "Inclusion Criteria:" heading numbers its items ``inc-1_2``; FHIR's linkId allows
    letters, digits, ``-`` and ``.`` only: the export writes ``inc-1-2`` (before, the resource did
    not validate and the whole export stopped)."""
    path = tmp_path / "two-headings.json"
    text = "Inclusion Criteria:\n1. Hemoglobin >= 10 g/dL\n\nInclusion Criteria:\n1. Platelet count >= 100,000/mm3\n"
    result = criteria_nlp.extract(text, doc_id="X")
    assert [c["id"] for c in result["criteria"]] == ["inc-1", "inc-1_2"]
    path.write_text(json.dumps(result), encoding="utf-8")
    code, out, err = _export(capsys, path, "--to", "fhir")
    assert code == 0, err
    assert [c["linkId"] for c in json.loads(out)["characteristic"]] == ["inc-1", "inc-1-2"]
