"""A small OMOP CDM with persons crafted for each case of issue 10, and the trial they are matched
against (real ``extract`` output of the criteria below). Concept ids are made up: the code must
find everything through the vocabulary rows written here.

Used by tests/test_match.py and tests/test_export.py, which import the fixtures at the end.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

CRITERIA = """Inclusion Criteria:
1. Hemoglobin >= 10 g/dL within 7 days prior to enrollment
2. Serum creatinine <= 1.5 x ULN
3. Age 18-65 years
4. Creatinine clearance >= 60 mL/min or serum creatinine <= 1.2 mg/dL

Exclusion Criteria:
1. Platelet count < 100 x 10^9/L
"""
TRIAL = "NCT-CASES"
INDEX_DATE = dt.date(2025, 6, 1)

LOINC = {"hb": (7001, "718-7"), "hb_child": (7009, "99999-9"), "creat": (7002, "2160-0"),
         "crcl": (7003, "2164-2"), "plt": (7004, "777-3")}
UCUM = {"g/dL": 8001, "g/L": 8002, "mmol/L": 8003, "umol/L": 8004, "mg/dL": 8005,
        "mL/min": 8006, "10*9/L": 8007, "/uL": 8008}


def _before(days: int) -> str:
    return (INDEX_DATE - dt.timedelta(days=days)).isoformat()


# Every person has these unless the case says otherwise: (concept, value, unit, range_low, range_high, days before)
BASE = {
    "hb": ("hb", 12.0, "g/dL", None, None, 2),
    "creat": ("creat", 80.0, "umol/L", 45.0, 110.0, 2),  # 0.905 mg/dL; 0.73 x ULN
    "crcl": ("crcl", 90.0, "mL/min", None, None, 2),
    "plt": ("plt", 250.0, "10*9/L", None, None, 2),
}

# person_id -> (what the case is, birth (y, m, d), overrides of BASE (None = no such measurement))
CASES = {
    1: ("all in range", (1980, 3, 15), {}),
    2: ("hemoglobin out of range", (1980, 3, 15), {"hb": ("hb", 8.0, "g/dL", None, None, 2)}),
    3: ("hemoglobin in another unit that converts (115 g/L)", (1980, 3, 15), {"hb": ("hb", 115.0, "g/L", None, None, 2)}),
    4: ("hemoglobin in an incompatible unit", (1980, 3, 15), {"hb": ("hb", 12.0, "10*9/L", None, None, 2)}),
    5: ("ULN multiple without range_high", (1980, 3, 15), {"creat": ("creat", 80.0, "umol/L", None, None, 2)}),
    6: ("ULN multiple with range_high, above", (1980, 3, 15), {"creat": ("creat", 200.0, "umol/L", 45.0, 110.0, 2)}),
    7: ("hemoglobin outside the 7-day window", (1980, 3, 15), {"hb": ("hb", 12.0, "g/dL", None, None, 10)}),
    8: ("no hemoglobin at all", (1980, 3, 15), {"hb": None}),
    9: ("18th birthday on the index date", (2007, 6, 1), {}),
    10: ("18th birthday the day after the index date", (2007, 6, 2), {}),
    11: ("OR group: clearance too low, creatinine in mg/dL holds", (1980, 3, 15),
         {"crcl": ("crcl", 40.0, "mL/min", None, None, 2), "creat": ("creat", 1.0, "mg/dL", 0.6, 1.3, 2)}),
    12: ("exclusion threshold holds (platelets 80,000/uL)", (1980, 3, 15), {"plt": ("plt", 80000.0, "/uL", None, None, 2)}),
    13: ("hemoglobin coded with a descendant concept", (1980, 3, 15), {"hb": ("hb_child", 12.5, "g/dL", None, None, 1)}),
    14: ("birth year only, 17 or 18 at the index date", (2007, None, None), {}),
    15: ("OR group: both sides fail", (1980, 3, 15),
         {"crcl": ("crcl", 40.0, "mL/min", None, None, 2), "creat": ("creat", 1.4, "mg/dL", 0.6, 1.5, 2)}),
    16: ("hemoglobin in mmol/L (converts with the lexicon's molar mass)", (1980, 3, 15),
         {"hb": ("hb", 7.0, "mmol/L", None, None, 2)}),
}

# person_id -> (person verdict, {rule id: (rule verdict, reason)}) -- only the rules the case is about
EXPECTED = {
    1: ("passes", {"inc-1.r1": ("met", None), "inc-2.r1": ("met", None), "inc-3.r1": ("met", None),
                   "inc-4.r1": ("met", None), "inc-4.r2": ("met", None), "exc-1.r1": ("not_met", None)}),
    2: ("fails", {"inc-1.r1": ("not_met", None)}),
    3: ("passes", {"inc-1.r1": ("met", None)}),
    4: ("unknown", {"inc-1.r1": ("unknown", "unit_not_convertible")}),
    5: ("unknown", {"inc-2.r1": ("unknown", "no_range_high")}),
    6: ("fails", {"inc-2.r1": ("not_met", None)}),
    7: ("unknown", {"inc-1.r1": ("unknown", "no_measurement_in_window")}),
    8: ("unknown", {"inc-1.r1": ("unknown", "no_measurement_in_window")}),
    9: ("passes", {"inc-3.r1": ("met", None)}),
    10: ("fails", {"inc-3.r1": ("not_met", None)}),
    11: ("passes", {"inc-4.r1": ("not_met", None), "inc-4.r2": ("met", None)}),
    12: ("fails", {"exc-1.r1": ("met", None)}),
    13: ("passes", {"inc-1.r1": ("met", None)}),
    14: ("unknown", {"inc-3.r1": ("unknown", "birth_date_incomplete")}),
    15: ("fails", {"inc-4.r1": ("not_met", None), "inc-4.r2": ("not_met", None)}),
    16: ("passes", {"inc-1.r1": ("met", None)}),
}


def vocabulary_rows(loinc: dict, ucum: dict) -> list[dict]:
    """``concept`` rows of the LOINC codes ``{key: (concept_id, code)}`` and UCUM units ``{code: concept_id}``."""
    concepts = [{"concept_id": cid, "concept_name": key, "domain_id": "Measurement", "vocabulary_id": "LOINC",
                 "concept_class_id": "Lab Test", "standard_concept": "S", "concept_code": code}
                for key, (cid, code) in loinc.items()]
    return concepts + [{"concept_id": cid, "concept_name": code, "domain_id": "Unit", "vocabulary_id": "UCUM",
                        "concept_class_id": "Unit", "standard_concept": "S", "concept_code": code}
                       for code, cid in ucum.items()]


def person_rows(cases: dict, base: dict, loinc: dict, ucum: dict) -> tuple[list[dict], list[dict]]:
    """``person`` and ``measurement`` rows of ``cases`` (person -> (case, birth (y, m, d), overrides of
    ``base``)), measurements as ``(concept, value, unit, range_low, range_high, days before)``."""
    persons, measurements = [], []
    for pid, (_, (y, m, d), overrides) in cases.items():
        persons.append({"person_id": pid, "year_of_birth": y, "month_of_birth": m, "day_of_birth": d})
        for key, default in base.items():
            row = overrides.get(key, default)
            if row is None:
                continue
            concept, value, unit, low, high, days = row
            measurements.append({
                "measurement_id": len(measurements) + 1, "person_id": pid,
                "measurement_concept_id": loinc[concept][0], "measurement_date": _before(days),
                "value_as_number": value, "unit_concept_id": ucum[unit], "range_low": low, "range_high": high})
    return persons, measurements


def cdm_tables() -> dict[str, list[dict]]:
    concepts = vocabulary_rows(LOINC, UCUM)
    ancestors = [{"ancestor_concept_id": cid, "descendant_concept_id": cid} for cid, _ in LOINC.values()]
    ancestors.append({"ancestor_concept_id": LOINC["hb"][0], "descendant_concept_id": LOINC["hb_child"][0],
                      "min_levels_of_separation": 1, "max_levels_of_separation": 1})
    persons, measurements = person_rows(CASES, BASE, LOINC, UCUM)
    # an older measurement that must not decide (the most recent one does)
    measurements.append({"measurement_id": len(measurements) + 1, "person_id": 2,
                         "measurement_concept_id": LOINC["hb"][0], "measurement_date": _before(5),
                         "value_as_number": 14.0, "unit_concept_id": UCUM["g/dL"]})
    return {"concept": concepts, "concept_ancestor": ancestors, "person": persons, "measurement": measurements}


@pytest.fixture(scope="module")
def result_file(tmp_path_factory):
    """The trial's rules: real ``extract`` output of CRITERIA, as a JSON file."""
    import criteria_nlp

    path = tmp_path_factory.mktemp("rules") / "cases.json"
    path.write_text(json.dumps(criteria_nlp.extract(CRITERIA, doc_id=TRIAL)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def duck_cdm(tmp_path_factory):
    """The case CDM as a DuckDB file."""
    from criteria_nlp.omop.cdm import build_duckdb

    path = tmp_path_factory.mktemp("cdm") / "cases.duckdb"
    build_duckdb(path, cdm_tables())
    return str(path)


def run_match(capsys, *args) -> tuple[int, list[dict], str]:
    """``criteria-nlp match ARGS``: exit code, the verdict lines, stderr."""
    from criteria_nlp.cli import main

    code = main(["match", *map(str, args)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def check_verdicts(lines: list[dict], expected: dict, cases: dict) -> None:
    """One line per person of ``cases``, in order, each with the person's and every listed rule's
    expected ``(verdict, reason)`` (``expected[pid] = (verdict, {rule_id: (verdict, reason)})``)."""
    assert [r["person_id"] for r in lines] == sorted(cases)
    for record in lines:
        pid = record["person_id"]
        verdict, rules = expected[pid]
        by_id = {r["rule"]: r for r in record["rules"]}
        assert record["verdict"] == verdict, (pid, cases[pid][0], record)
        for rule_id, want in rules.items():
            assert (by_id[rule_id]["verdict"], by_id[rule_id]["reason"]) == tuple(want), (pid, cases[pid][0], by_id[rule_id])


def exported_sql_verdicts(capsys, rules, cdm: str, *args: str) -> list[tuple[int, str]]:
    """``(person_id, verdict)`` of the rows of the SQL ``export --to sql ARGS`` writes, run on the
    DuckDB CDM file ``cdm`` (``allowed`` 1 passes, 0 fails, NULL unknown)."""
    import duckdb

    from criteria_nlp.cli import main

    assert main(["export", str(rules), "--to", "sql", *args, "--cdm", cdm]) == 0
    sql = capsys.readouterr().out
    con = duckdb.connect(cdm, read_only=True)
    try:
        rows = con.execute(sql.rstrip().rstrip(";")).fetchall()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    verdict = {1: "passes", 0: "fails", None: "unknown"}
    return [(r[names.index("person_id")], verdict[r[names.index("allowed")]]) for r in rows]


def fresh_postgres_cdm(dsn: str, tables: dict[str, list[dict]], schema: str) -> None:
    """Drop ``schema`` (a plain identifier written by the test) and build the CDM ``tables`` in it."""
    import psycopg

    from criteria_nlp.omop.cdm import build_postgres

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    build_postgres(dsn, tables, schema=schema)


# ------------------------------------------------------------------------------ populations stated by rules
# Lines written for these tests: a population stated by a threshold (an `if` clause, `Age 18 and
# over:` headers, `Patients with hemoglobin less than 10 g/dL:`) names the stating rule in its
# condition's `rule` (schema 1.2); match applies the conditioned rule exactly to the persons for
# whom the stating rule is met.
STATED_CRITERIA = """Inclusion Criteria:
- Creatinine clearance above 55 mL/min (if serum creatinine at least 1.6 mg/dL)
- Hematopoietic:
  - Age 18 and over:
    - Platelet count at least 120,000/mm3
  - Under age 18:
    - Platelet count at least 90,000/mm3
- Total bilirubin <= 1.5 x ULN (<= 3 x ULN if serum creatinine at least 1.6 mg/dL)

Exclusion Criteria:
- Patients with hemoglobin less than 10 g/dL: ALT greater than 3 times ULN
"""
STATED_TRIAL = "NCT-STATED"
STATED_LOINC = {"creat": (7002, "2160-0"), "crcl": (7003, "2164-2"), "plt": (7004, "777-3"),
                "hb": (7001, "718-7"), "alt": (7005, "1742-6"), "bili": (7006, "1975-2")}
STATED_UCUM = {"mg/dL": 8005, "umol/L": 8004, "mL/min": 8006, "10*9/L": 8007, "g/dL": 8001, "g/L": 8002,
               "U/L": 8010}
# (concept, value, unit, range_low, range_high, days before the index date)
STATED_BASE = {"creat": ("creat", 1.0, "mg/dL", None, None, 2), "crcl": ("crcl", 90.0, "mL/min", None, None, 2),
               "plt": ("plt", 250.0, "10*9/L", None, None, 2), "hb": ("hb", 13.0, "g/dL", None, None, 2),
               "alt": ("alt", 30.0, "U/L", None, 40.0, 2), "bili": ("bili", 15.0, "umol/L", None, 20.0, 2)}
_CRCL_40 = {"crcl": ("crcl", 40.0, "mL/min", None, None, 2)}
_HIGH_CREAT = {"creat": ("creat", 2.0, "mg/dL", None, None, 2)}
_PLT_100 = {"plt": ("plt", 100.0, "10*9/L", None, None, 2)}
_ALT_150 = {"alt": ("alt", 150.0, "U/L", None, 40.0, 2)}
_BILI_2_5_ULN = {"bili": ("bili", 50.0, "umol/L", None, 20.0, 2)}
STATED_CASES = {
    1: ("creatinine 1.0 mg/dL: the clearance rule does not apply (clearance 40)", (1980, 3, 15), _CRCL_40),
    2: ("creatinine 2.0 mg/dL: the clearance rule applies and fails (40)", (1980, 3, 15), _HIGH_CREAT | _CRCL_40),
    3: ("creatinine 2.0 mg/dL: the clearance rule applies and holds (70); bilirubin 2.5 x ULN: the "
        "population's <= 3 x ULN replaces the default <= 1.5", (1980, 3, 15),
        _HIGH_CREAT | {"crcl": ("crcl", 70.0, "mL/min", None, None, 2)} | _BILI_2_5_ULN),
    4: ("creatinine 177 umol/L (2.0 mg/dL converted): the clearance rule applies and fails", (1980, 3, 15),
        {"creat": ("creat", 177.0, "umol/L", None, None, 2)} | _CRCL_40),
    5: ("no creatinine: whether the clearance rule applies is unknown, and it fails", (1980, 3, 15),
        {"creat": None} | _CRCL_40),
    6: ("no creatinine: unknown whether it applies, but the clearance rule holds (90)", (1980, 3, 15),
        {"creat": None}),
    7: ("creatinine 2.0 mg/dL measured 120 days ago (outside the look-back): unknown", (1980, 3, 15),
        {"creat": ("creat", 2.0, "mg/dL", None, None, 120)} | _CRCL_40),
    8: ("adult with platelets 100: the adults' 120 applies and fails", (1980, 3, 15), _PLT_100),
    9: ("child with platelets 100: the children's 90 applies and holds", (2012, 1, 1), _PLT_100),
    10: ("18th birthday on the index date, platelets 100: an adult", (2007, 6, 1), _PLT_100),
    11: ("birth year only (17 or 18), platelets 100: the two populations disagree", (2007, None, None), _PLT_100),
    12: ("birth year only (17 or 18), platelets 150: both populations' rules hold", (2007, None, None),
         {"plt": ("plt", 150.0, "10*9/L", None, None, 2)}),
    13: ("hemoglobin 9 g/dL and ALT 3.75 x ULN: excluded", (1980, 3, 15),
         {"hb": ("hb", 9.0, "g/dL", None, None, 2)} | _ALT_150),
    14: ("hemoglobin 13 g/dL and ALT 3.75 x ULN: the ALT rule does not apply", (1980, 3, 15), _ALT_150),
    15: ("hemoglobin 9 g/dL, ALT without range_high: unknown", (1980, 3, 15),
         {"hb": ("hb", 9.0, "g/dL", None, None, 2), "alt": ("alt", 150.0, "U/L", None, None, 2)}),
    16: ("hemoglobin 90 g/L (9 g/dL converted) and ALT 3.75 x ULN: excluded", (1980, 3, 15),
         {"hb": ("hb", 90.0, "g/L", None, None, 2)} | _ALT_150),
    17: ("creatinine 1.0 mg/dL, bilirubin 2.5 x ULN: the default <= 1.5 x ULN applies and fails", (1980, 3, 15),
         _BILI_2_5_ULN),
    18: ("no creatinine, bilirubin 2.5 x ULN: the default and the population's rule disagree", (1980, 3, 15),
         {"creat": None} | _BILI_2_5_ULN),
}
_NOT_IN = ("not_applicable", "not_in_population")
STATED_EXPECTED = {
    1: ("passes", {"inc-1.r2": ("not_met", None), "inc-1.r1": _NOT_IN}),
    2: ("fails", {"inc-1.r2": ("met", None), "inc-1.r1": ("not_met", None)}),
    3: ("passes", {"inc-1.r2": ("met", None), "inc-1.r1": ("met", None),
                   "inc-3.r1": ("not_applicable", "population_rule_applies"), "inc-3.r2": ("met", None)}),
    4: ("fails", {"inc-1.r2": ("met", None), "inc-1.r1": ("not_met", None)}),
    5: ("unknown", {"inc-1.r2": ("unknown", "no_measurement_in_window"), "inc-1.r1": ("not_met", "population_unknown")}),
    6: ("passes", {"inc-1.r2": ("unknown", "no_measurement_in_window"), "inc-1.r1": ("met", "population_unknown")}),
    7: ("unknown", {"inc-1.r2": ("unknown", "no_measurement_in_window"), "inc-1.r1": ("not_met", "population_unknown")}),
    8: ("fails", {"inc-2.1.r1": ("met", None), "inc-2.1.1.r1": ("not_met", None), "inc-2.2.1.r1": _NOT_IN}),
    9: ("passes", {"inc-2.2.r1": ("met", None), "inc-2.2.1.r1": ("met", None), "inc-2.1.1.r1": _NOT_IN}),
    10: ("fails", {"inc-2.1.1.r1": ("not_met", None), "inc-2.2.1.r1": _NOT_IN}),
    11: ("unknown", {"inc-2.1.r1": ("unknown", "birth_date_incomplete"),
                     "inc-2.1.1.r1": ("not_met", "population_unknown"), "inc-2.2.1.r1": ("met", "population_unknown")}),
    12: ("passes", {"inc-2.1.1.r1": ("met", "population_unknown"), "inc-2.2.1.r1": ("met", "population_unknown")}),
    13: ("fails", {"exc-1.r1": ("met", None), "exc-1.r2": ("met", None)}),
    14: ("passes", {"exc-1.r1": ("not_met", None), "exc-1.r2": _NOT_IN}),
    15: ("unknown", {"exc-1.r1": ("met", None), "exc-1.r2": ("unknown", "no_range_high")}),
    16: ("fails", {"exc-1.r1": ("met", None), "exc-1.r2": ("met", None)}),
    17: ("fails", {"inc-3.r3": ("not_met", None), "inc-3.r1": ("not_met", None), "inc-3.r2": _NOT_IN}),
    18: ("unknown", {"inc-3.r1": ("not_met", "population_unknown"), "inc-3.r2": ("met", "population_unknown")}),
}


def stated_tables() -> dict[str, list[dict]]:
    """The CDM of STATED_CASES (made-up concept ids, written here)."""
    persons, measurements = person_rows(STATED_CASES, STATED_BASE, STATED_LOINC, STATED_UCUM)
    return {"concept": vocabulary_rows(STATED_LOINC, STATED_UCUM), "person": persons, "measurement": measurements}


@pytest.fixture(scope="module")
def stated_files(tmp_path_factory):
    """The stated-population trial's rules (real ``extract`` output) and its CDM as a DuckDB file."""
    import criteria_nlp
    from criteria_nlp.omop.cdm import build_duckdb

    base = tmp_path_factory.mktemp("stated")
    rules = base / "stated.json"
    rules.write_text(json.dumps(criteria_nlp.extract(STATED_CRITERIA, doc_id=STATED_TRIAL)), encoding="utf-8")
    cdm = base / "stated.duckdb"
    build_duckdb(cdm, stated_tables())
    return {"rules": rules, "cdm": str(cdm)}


# ------------------------------------------------------------------------------ which measurement is the most recent
# The case trial (CRITERIA) on persons crafted for how match picks the deciding measurement, and
# how the Circe export's nested criteria must agree: a later one after the index date, a later
# one without a value, two on the same day, no measurement under an exclusion. Extra rows:
# (person, concept, value, unit, range_low, range_high, days before the index date; negative = after).
RECENCY_CASES = {
    1: ("all in range", (1980, 3, 15), {}),
    2: ("Hb 12 two days before, Hb 8 three days after the index date (within 7 days of the 12)", (1980, 3, 15), {}),
    3: ("Hb 12 two days before, a later Hb without a value the day before", (1980, 3, 15), {}),
    4: ("Hb 8 and Hb 14 the same day, the 14 recorded last (larger measurement_id)", (1980, 3, 15),
        {"hb": ("hb", 8.0, "g/dL", None, None, 2)}),
    5: ("Hb 14 and Hb 8 the same day, the 8 recorded last", (1980, 3, 15), {"hb": ("hb", 14.0, "g/dL", None, None, 2)}),
    6: ("no platelet count: the exclusion threshold is unknown", (1980, 3, 15), {"plt": None}),
    7: ("platelets 250 two days before, 80 two days after the index date", (1980, 3, 15), {}),
    8: ("platelets 80 two days before, a later platelet count without a value", (1980, 3, 15),
        {"plt": ("plt", 80.0, "10*9/L", None, None, 2)}),
}
RECENCY_EXTRA = [
    (2, "hb", 8.0, "g/dL", None, None, -3),
    (3, "hb", None, "g/dL", None, None, 1),
    (4, "hb", 14.0, "g/dL", None, None, 2),
    (5, "hb", 8.0, "g/dL", None, None, 2),
    (7, "plt", 80.0, "10*9/L", None, None, -2),
    (8, "plt", None, "10*9/L", None, None, 1),
]
RECENCY_EXPECTED = {
    1: ("passes", {"inc-1.r1": ("met", None)}),
    2: ("passes", {"inc-1.r1": ("met", None)}),
    3: ("passes", {"inc-1.r1": ("met", None)}),
    4: ("passes", {"inc-1.r1": ("met", None)}),
    5: ("fails", {"inc-1.r1": ("not_met", None)}),
    6: ("unknown", {"exc-1.r1": ("unknown", "no_measurement_in_window")}),
    7: ("passes", {"exc-1.r1": ("not_met", None)}),
    8: ("fails", {"exc-1.r1": ("met", None)}),
}
#: The persons of RECENCY_CASES that match passes but Circe cannot: two measurements on the same day.
RECENCY_SAME_DAY = {4}


def measurement_row(measurements: list[dict], pid: int, row: tuple, loinc: dict, ucum: dict) -> dict:
    """A ``measurement`` row of ``(concept, value, unit, range_low, range_high, days before)``, its id the next one."""
    concept, value, unit, low, high, days = row
    return {"measurement_id": len(measurements) + 1, "person_id": pid, "measurement_concept_id": loinc[concept][0],
            "measurement_date": _before(days), "value_as_number": value, "unit_concept_id": ucum[unit],
            "range_low": low, "range_high": high}


def recency_tables() -> dict[str, list[dict]]:
    """The CDM of RECENCY_CASES (the case CDM's vocabulary)."""
    tables = cdm_tables()
    persons, measurements = person_rows(RECENCY_CASES, BASE, LOINC, UCUM)
    for pid, *row in RECENCY_EXTRA:
        measurements.append(measurement_row(measurements, pid, tuple(row), LOINC, UCUM))
    return dict(tables, person=persons, measurement=measurements)


# ------------------------------------------------------------------------------ a stated population under a population
# The hemoglobin rule states the ALT rule's population, and is itself under "Women": the ALT
# threshold concerns women with hemoglobin < 10 g/dL.
NESTED_CRITERIA = """Exclusion Criteria:
- Women:
  - Patients with hemoglobin less than 10 g/dL: ALT greater than 3 times ULN
"""
NESTED_TRIAL = "NCT-NESTED"
MALE, FEMALE, SEX_UNKNOWN = 8507, 8532, 0
# person_id -> (case, sex, overrides of STATED_BASE)
NESTED_CASES = {
    1: ("woman, Hb 9, ALT 3.75 x ULN: excluded", FEMALE, {"hb": ("hb", 9.0, "g/dL", None, None, 2)} | _ALT_150),
    2: ("man, Hb 9, ALT 3.75 x ULN: not in the population", MALE, {"hb": ("hb", 9.0, "g/dL", None, None, 2)} | _ALT_150),
    3: ("woman, Hb 13, ALT 3.75 x ULN: not in the population", FEMALE, _ALT_150),
    4: ("woman without Hb, ALT 3.75 x ULN: unknown", FEMALE, {"hb": None} | _ALT_150),
    5: ("woman without Hb, ALT 0.75 x ULN: not excluded either way", FEMALE, {"hb": None}),
    6: ("sex not recorded, Hb 9, ALT 3.75 x ULN: unknown", SEX_UNKNOWN, {"hb": ("hb", 9.0, "g/dL", None, None, 2)} | _ALT_150),
    7: ("man without Hb, ALT 3.75 x ULN: not in the population", MALE, {"hb": None} | _ALT_150),
    8: ("woman, Hb 9, ALT without range_high: unknown", FEMALE,
        {"hb": ("hb", 9.0, "g/dL", None, None, 2), "alt": ("alt", 150.0, "U/L", None, None, 2)}),
}
NESTED_EXPECTED = {
    1: ("fails", {"exc-1.1.r1": ("met", None), "exc-1.1.r2": ("met", None)}),
    2: ("passes", {"exc-1.1.r1": ("not_applicable", "not_in_population"), "exc-1.1.r2": _NOT_IN}),
    3: ("passes", {"exc-1.1.r1": ("not_met", None), "exc-1.1.r2": _NOT_IN}),
    4: ("unknown", {"exc-1.1.r1": ("unknown", "no_measurement_in_window"), "exc-1.1.r2": ("met", "population_unknown")}),
    5: ("passes", {"exc-1.1.r2": ("not_met", "population_unknown")}),
    6: ("unknown", {"exc-1.1.r1": ("met", "population_unknown"), "exc-1.1.r2": ("met", "population_unknown")}),
    7: ("passes", {"exc-1.1.r1": ("not_applicable", "not_in_population"), "exc-1.1.r2": _NOT_IN}),
    8: ("unknown", {"exc-1.1.r1": ("met", None), "exc-1.1.r2": ("unknown", "no_range_high")}),
}


def nested_tables() -> dict[str, list[dict]]:
    """The CDM of NESTED_CASES (the stated-population CDM's vocabulary, persons with their sex)."""
    cases = {pid: (case, (1980, 3, 15), overrides) for pid, (case, _, overrides) in NESTED_CASES.items()}
    persons, measurements = person_rows(cases, STATED_BASE, STATED_LOINC, STATED_UCUM)
    for person in persons:
        person["gender_concept_id"] = NESTED_CASES[person["person_id"]][1]
    return {"concept": vocabulary_rows(STATED_LOINC, STATED_UCUM), "person": persons, "measurement": measurements}
