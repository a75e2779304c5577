"""``export --to fhir``: population and exception conditions are part of the EvidenceVariable's
logic. The resource is validated with fhir.resources (R5) and then *evaluated* by a small reader
of EvidenceVariable characteristics written here, on the persons of the population/exception CDM
(tests/test_match_conditions.py): every person whose sex and birth date are known gets the
verdict ``match`` gives.
"""
from __future__ import annotations

import json

import pytest

pytest.importorskip("fhir.resources.evidencevariable")

import criteria_nlp  # noqa: E402
from criteria_nlp.cli import main  # noqa: E402

import cdm_cases  # noqa: E402
import test_match_conditions as conditions  # noqa: E402

LOINC, SNOMED, GENDER = "http://loinc.org", "http://snomed.info/sct", "http://hl7.org/fhir/administrative-gender"
# the test CDM's SNOMED codes: a descendant of Gilbert's syndrome counts as it
SNOMED_OF = {conditions.GILBERT: {"27503000"}, conditions.GILBERT_CHILD: {"99990001", "27503000"}}
LOINC_OF = {code: key for key, (_, code) in conditions.LOINC.items()}


def _person(pid: int) -> dict:
    _, gender, (y, m, d), overrides, dx = conditions.CASES[pid]
    index = conditions.INDEX
    labs = {key: overrides.get(key, base) for key, base in conditions.BASE.items()}
    diagnosed = dx is not None and dx[1] >= 0  # on or before the index date
    return {"sex": {conditions.MALE: "male", conditions.FEMALE: "female"}[gender],
            "age": index.year - y - ((index.month, index.day) < (m, d)),
            "labs": {k: (v[1], v[3]) for k, v in labs.items()},
            "snomed": SNOMED_OF.get(dx[0], set()) if diagnosed else set()}


def _compare(value: float, q: dict) -> bool:
    op = q.get("comparator")
    return {">": value > q["value"], ">=": value >= q["value"], "<": value < q["value"],
            "<=": value <= q["value"], None: value == q["value"]}[op]


def holds(ch: dict, person: dict, loinc_of: dict = LOINC_OF) -> bool | None:
    """Whether the person has the characteristic; None when this reader cannot tell."""
    if "definitionByCombination" in ch:
        combo = ch["definitionByCombination"]
        parts = [holds(c, person, loinc_of) for c in combo["characteristic"]]
        if combo["code"] == "all-of":
            result = False if False in parts else None if None in parts else True
        else:
            result = True if True in parts else None if None in parts else False
    elif "definitionByTypeAndValue" in ch:
        d = ch["definitionByTypeAndValue"]
        code = d["type"].get("coding", [{}])[0].get("code")
        if code == "46098-0":
            if person.get("sex") is None:
                return None  # sex not recorded
            result = person["sex"] == d["valueCodeableConcept"]["coding"][0]["code"]
        elif code == "30525-0":
            age = person["age"]
            result = (d["valueRange"]["low"]["value"] <= age <= d["valueRange"]["high"]["value"]
                      if "valueRange" in d else _compare(age, d["valueQuantity"]))
        elif code in loinc_of:
            if loinc_of[code] not in person["labs"]:
                return None  # no measurement: unknown, with or without exclude (the rule's method says so)
            value, high, *unit = person["labs"][loinc_of[code]]
            if "offset" in d:
                if not high:
                    return None  # no upper limit of normal
                value = value / high
            elif unit:
                value = _in_unit(value, unit[0], d, d["type"]["text"])
            result = (d["valueRange"]["low"]["value"] <= value <= d["valueRange"]["high"]["value"]
                      if "valueRange" in d else _compare(value, d["valueQuantity"]))
        else:
            return None  # a variable without a LOINC code
    else:
        codings = ch["definitionCodeableConcept"].get("coding") or []
        if not codings:
            return None
        result = any(c["system"] == SNOMED and c["code"] in person["snomed"] for c in codings)
    return (not result) if ch.get("exclude") and result is not None else result


def _in_unit(value: float, unit: str, definition: dict, variable: str) -> float:
    """A measured value in the unit of the characteristic's quantity (the project's conversions)."""
    from criteria_nlp.omop.conversions import linear_conversion, molar_mass

    quantity = definition.get("valueQuantity") or definition["valueRange"]["low"]
    factor, offset = linear_conversion(unit, quantity["code"], molar_mass(variable))
    return value * factor + offset


@pytest.fixture(scope="module")
def resource(tmp_path_factory):
    base = tmp_path_factory.mktemp("fhir")
    rules, cmap = conditions.write_rules_and_map(base)
    out = base / "ev.json"
    assert main(["export", str(rules), "--to", "fhir", "--concept-map", str(cmap), "-o", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_evidence_variable_gives_match_verdicts(resource):
    known = [pid for pid in conditions.CASES if pid not in (4, 5, 14, 15)]  # sex or birth date unknown; Barthel
    for pid in known:
        person = _person(pid)
        allowed = [holds(ch, person) for ch in resource["characteristic"]]
        counted = [a for a in allowed if a is not None]
        verdict = "passes" if all(counted) else "fails"
        assert verdict == conditions.EXPECTED[pid][0], (pid, conditions.CASES[pid][0], allowed)


def test_populations_are_characteristics(resource):
    by_id = {ch["linkId"]: ch for ch in resource["characteristic"]}
    hb = by_id["inc-1"]["definitionByCombination"]
    assert hb["code"] == "any-of"
    men, hb13 = hb["characteristic"][0]["definitionByCombination"]["characteristic"]
    assert men["definitionByTypeAndValue"]["valueCodeableConcept"]["coding"] == [{"system": GENDER, "code": "male"}]
    assert hb13["definitionByTypeAndValue"]["valueQuantity"]["value"] == 13
    # the last branch: in neither population (the criterion does not concern them)
    neither = hb["characteristic"][2]["definitionByCombination"]["characteristic"]
    assert [c["exclude"] for c in neither] == [True, True]
    gilbert = by_id["inc-2"]["definitionByCombination"]
    assert gilbert["code"] == "any-of"  # the exception lets the person through
    assert gilbert["characteristic"][0]["definitionCodeableConcept"]["coding"] == [{"system": SNOMED,
                                                                                    "code": "27503000"}]
    assert by_id["exc-2"]["exclude"] is True


def test_a_population_no_one_can_resolve_is_text(tmp_path, capsys):
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps(criteria_nlp.extract(
        "Inclusion Criteria:\n1. AST <= 2.5 x ULN (<= 5 x ULN if liver metastases)\n", doc_id="X")), encoding="utf-8")
    assert main(["export", str(rules), "--to", "fhir"]) == 0
    ev = json.loads(capsys.readouterr().out)
    branches = ev["characteristic"][0]["definitionByCombination"]["characteristic"]
    member, rule = branches[0]["definitionByCombination"]["characteristic"]
    assert member["definitionCodeableConcept"] == {"text": "liver metastases"} and member["exclude"] is False
    assert rule["definitionByTypeAndValue"]["valueQuantity"]["value"] == 5
    outside, default = branches[1]["definitionByCombination"]["characteristic"]
    assert outside["exclude"] is True and default["definitionByTypeAndValue"]["valueQuantity"]["value"] == 2.5
    # the person whose data this reader can read: AST 3 x ULN, liver metastases unknown -> unknown
    person = {"labs": {"ast": (120.0, 40.0)}, "snomed": set()}
    assert holds(ev["characteristic"][0], person, {"1920-8": "ast"}) is None


# ------------------------------------------------------------------------------ populations stated by rules
STATED_LOINC_OF = {code: key for key, (_, code) in cdm_cases.STATED_LOINC.items()}


def _stated_person(pid: int) -> dict:
    """A person of tests/cdm_cases.py's STATED_CASES, labs in the units they were measured in."""
    _, (y, m, d), overrides = cdm_cases.STATED_CASES[pid]
    index = cdm_cases.INDEX_DATE
    labs = {key: overrides.get(key, base) for key, base in cdm_cases.STATED_BASE.items()}
    return {"age": index.year - y - ((index.month, index.day) < (m, d)),
            "labs": {k: (v[1], v[4], v[2]) for k, v in labs.items()}}


def test_populations_stated_by_rules_are_nested_characteristics(tmp_path, capsys):
    """A rule conditioned by a stating rule S: ``any-of(all-of(S, rule), all-of(not S))`` with S's
    own definitionByTypeAndValue, and the reader gets match's verdicts for every person whose labs
    it can read (units converted with the project's table)."""
    rules = tmp_path / "stated.json"
    rules.write_text(json.dumps(criteria_nlp.extract(cdm_cases.STATED_CRITERIA, doc_id="S")), encoding="utf-8")
    assert main(["export", str(rules), "--to", "fhir"]) == 0
    ev = json.loads(capsys.readouterr().out)
    by_id = {ch["linkId"]: ch for ch in ev["characteristic"]}
    member, outside = by_id["inc-1"]["definitionByCombination"]["characteristic"]
    creatinine, clearance = member["definitionByCombination"]["characteristic"]
    assert creatinine["description"] == "population: serum creatinine at least 1.6 mg/dL"
    assert creatinine["definitionByTypeAndValue"]["valueQuantity"] == {
        "value": 1.6, "comparator": ">=", "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}
    assert clearance["definitionByTypeAndValue"]["valueQuantity"]["value"] == 55
    assert outside["exclude"] is True and outside["definitionByTypeAndValue"] == creatinine["definitionByTypeAndValue"]
    adults = by_id["inc-2.1.1"]["definitionByCombination"]["characteristic"][0]["definitionByCombination"]
    assert adults["characteristic"][0]["definitionByTypeAndValue"]["type"]["coding"][0]["code"] == "30525-0"
    readable = [pid for pid, (case, _, _) in cdm_cases.STATED_CASES.items() if pid not in (5, 6, 7, 11, 12, 15, 18)]
    for pid in readable:  # no creatinine in the window, birth year only, no range_high: not readable here
        person = _stated_person(pid)
        allowed = [holds(ch, person, STATED_LOINC_OF) for ch in ev["characteristic"]]
        verdict = "passes" if all(a is not False for a in allowed) else "fails"
        assert None not in allowed and verdict == cdm_cases.STATED_EXPECTED[pid][0], (pid, allowed)


# ------------------------------------------------------------------------------ a stated population under a population


def _nested_person(pid: int) -> dict:
    """A person of tests/cdm_cases.py's NESTED_CASES: sex, and the labs measured (none: absent)."""
    _, sex, overrides = cdm_cases.NESTED_CASES[pid]
    labs = {key: overrides.get(key, base) for key, base in cdm_cases.STATED_BASE.items()}
    return {"sex": {cdm_cases.MALE: "male", cdm_cases.FEMALE: "female"}.get(sex),
            "labs": {k: (v[1], v[4], v[2]) for k, v in labs.items() if v is not None}}


def test_a_stated_population_under_a_population_and_missing_measurements(tmp_path, capsys):
    """`Women: - Patients with hemoglobin less than 10 g/dL: ALT greater than 3 times ULN`: the
    population is all-of(female, Hb < 10), the stating rule within its own population. A missing
    measurement is unknown with or without ``exclude`` (each measurement rule's ``method`` says so,
    and that the most recent one in the ``timeFromEvent`` range decides, with the look-back
    written as one): read that way, the resource gives match's verdict for every person."""
    rules = tmp_path / "nested.json"
    rules.write_text(json.dumps(criteria_nlp.extract(cdm_cases.NESTED_CRITERIA, doc_id="N")), encoding="utf-8")
    assert main(["export", str(rules), "--to", "fhir"]) == 0
    ev = json.loads(capsys.readouterr().out)
    (criterion,) = ev["characteristic"]
    assert criterion["exclude"] is True
    population, alt = criterion["definitionByCombination"]["characteristic"]
    women, hb = population["definitionByCombination"]["characteristic"]
    assert women["definitionByTypeAndValue"]["valueCodeableConcept"]["coding"] == [{"system": GENDER, "code": "female"}]
    assert hb["definitionByTypeAndValue"]["valueQuantity"]["comparator"] == "<"
    assert "most recent measurement with a value" in alt["definitionByTypeAndValue"]["method"][0]["text"]
    (window,) = alt["timeFromEvent"]
    assert (window["range"]["low"]["value"], window["range"]["high"]["value"]) == (-90, 0)
    assert window["description"].startswith("look-back of criteria-nlp match")
    for pid, (verdict, _) in cdm_cases.NESTED_EXPECTED.items():
        allowed = holds(criterion, _nested_person(pid), STATED_LOINC_OF)
        read = {True: "passes", False: "fails", None: "unknown"}[allowed]
        assert read == verdict, (pid, cdm_cases.NESTED_CASES[pid][0])
