"""Tests of the variable lexicon: the packaged data file and its typed loader."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from criteria_nlp.contract import Code
from criteria_nlp.resources import lexicon
from criteria_nlp.resources.lexicon import (
    CATEGORIES,
    LexiconError,
    VariableEntry,
    load_variables,
    variables_by_name,
)

PACKAGED = Path(lexicon.__file__).with_name("variables.json")


@pytest.fixture(scope="module")
def entries() -> tuple[VariableEntry, ...]:
    return load_variables()


@pytest.fixture(scope="module")
def ucum():
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()  # slow to build: once per module


def _lookup(entries, surface: str) -> str | None:
    """Resolve a surface form the way the matcher does: abbreviations exactly, terms case-insensitively."""
    for e in entries:
        if surface in e.abbreviations:
            return e.name
    folded = " ".join(surface.casefold().split())
    for e in entries:
        if folded in (t.casefold() for t in e.terms):
            return e.name
    return None


# --------------------------------------------------------------------------- the packaged file


def test_packaged_file_loads(entries):
    assert len(entries) >= 180
    assert all(isinstance(e, VariableEntry) for e in entries)
    raw = json.loads(PACKAGED.read_text(encoding="utf-8"))
    assert raw["version"] == 1
    assert [e.name for e in entries] == [r["name"] for r in raw["variables"]]


def test_default_load_is_cached_and_explicit_path_gives_same_content(entries):
    assert load_variables() is load_variables()
    assert load_variables(PACKAGED) == entries
    assert load_variables(str(PACKAGED)) == entries


def test_entries_are_frozen_and_typed(entries):
    e = entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.name = "x"  # type: ignore[misc]
    for e in entries:
        assert isinstance(e.terms, tuple) and isinstance(e.abbreviations, tuple)
        assert e.code is None or isinstance(e.code, Code)
        assert e.unit is None or isinstance(e.unit, str)
        assert e.molar_mass is None or (isinstance(e.molar_mass, float) and e.molar_mass > 0)
        assert e.display.strip()
        assert e.terms or e.abbreviations


def test_variables_by_name(entries):
    by_name = variables_by_name()
    assert set(by_name) == {e.name for e in entries}
    assert by_name["hemoglobin"].code == Code("http://loinc.org", "718-7", "Hemoglobin [Mass/volume] in Blood")
    by_name.pop("hemoglobin")
    assert "hemoglobin" in variables_by_name()  # callers get a fresh dict


def test_names_unique_and_snake_case(entries):
    names = [e.name for e in entries]
    assert len(names) == len(set(names))
    for n in names:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", n), n


def test_terms_lowercase_and_clean(entries):
    for e in entries:
        for t in e.terms:
            assert t == t.lower(), (e.name, t)
            assert t == " ".join(t.split()), (e.name, t)


def test_no_term_claimed_by_two_variables(entries):
    owners: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        for t in e.terms:
            owners[t.casefold()].add(e.name)
    shared = {t: o for t, o in owners.items() if len(o) > 1}
    assert not shared


def test_abbreviations_unique(entries):
    exact: dict[str, set[str]] = defaultdict(set)
    folded: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        for a in e.abbreviations:
            exact[a].add(e.name)
            folded[a.casefold()].add(e.name)
    assert not {a: o for a, o in exact.items() if len(o) > 1}
    # stricter data hygiene: no two variables even differ only by the case of an abbreviation
    assert not {a: o for a, o in folded.items() if len(o) > 1}


def test_abbreviations_do_not_collide_with_other_variables_terms(entries):
    term_owner = {t.casefold(): e.name for e in entries for t in e.terms}
    for e in entries:
        for a in e.abbreviations:
            owner = term_owner.get(a.casefold(), e.name)
            assert owner == e.name, (a, e.name, owner)


def test_case_sensitive_abbreviations_are_not_words(entries):
    # the reason abbreviations are case-sensitive: these words must not resolve to a variable
    for word in ("alt", "ast", "Alt", "EGFR", "pt", "cr", "ca", "mg", "na", "ef", "hr", "ck"):
        assert _lookup(entries, word) is None, word


def test_categories_known(entries):
    assert CATEGORIES == {
        "lab", "vital", "cardiac", "score", "demographic", "anthropometric", "prognosis", "dose", "measurement",
    }
    for e in entries:
        assert e.category in CATEGORIES, e.name
    assert {e.category for e in entries} == CATEGORIES  # every category is used


def test_codes_are_well_formed_loinc(entries):
    coded = [e for e in entries if e.code is not None]
    assert len(coded) >= 60
    codes = [e.code.code for e in coded]
    assert len(codes) == len(set(codes)), "two variables share a code"
    for e in coded:
        assert e.code.system == "http://loinc.org", e.name
        assert re.fullmatch(r"\d+-\d", e.code.code), (e.name, e.code.code)
        assert e.code.display.strip(), e.name


def test_loinc_check_digits(entries):
    """LOINC check digit: Luhn mod 10 over the base number."""

    def luhn_check_digit(base: str) -> int:
        total = 0
        for i, ch in enumerate(reversed(base)):
            d = int(ch)
            if i % 2 == 0:  # rightmost digit of the base is doubled
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        return (10 - total % 10) % 10

    for e in entries:
        if e.code is not None:
            base, check = e.code.code.split("-")
            assert luhn_check_digit(base) == int(check), (e.name, e.code.code)


@pytest.mark.parametrize(
    "name,code",
    [
        ("hemoglobin", "718-7"),
        ("absolute_neutrophil_count", "751-8"),
        ("platelet_count", "777-3"),
        ("absolute_lymphocyte_count", "731-0"),
        ("lymphocyte_percentage", "736-9"),
        ("serum_creatinine", "2160-0"),
        ("creatinine_clearance", "2164-2"),
        ("egfr", "33914-3"),
        ("alt", "1742-6"),
        ("ast", "1920-8"),
        ("total_bilirubin", "1975-2"),
        ("inr", "6301-6"),
        ("aptt", "14979-9"),
        ("albumin", "1751-7"),
        ("hba1c", "4548-4"),
        ("systolic_blood_pressure", "8480-6"),
        ("diastolic_blood_pressure", "8462-4"),
        ("heart_rate", "8867-4"),
        ("oxygen_saturation", "59408-5"),
        ("body_weight", "29463-7"),
        ("body_height", "8302-2"),
        ("bmi", "39156-5"),
        ("lvef", "10230-1"),
        ("qtc", "8636-3"),
        ("ecog_performance_status", "89247-1"),
    ],
)
def test_key_loinc_codes(name, code):
    assert variables_by_name()[name].code.code == code


def test_units_parse_as_ucum(entries, ucum):
    units = {e.unit for e in entries if e.unit is not None}
    assert len(units) > 20
    for unit in sorted(units):
        ucum.from_ucum(unit)  # raises on an invalid UCUM string


def test_molar_mass_only_on_concentrations(entries, ucum):
    mass_conc = ucum.from_ucum("g/L").dimensionality
    molar_conc = ucum.from_ucum("mol/L").dimensionality
    with_mm = [e for e in entries if e.molar_mass is not None]
    assert len(with_mm) >= 10
    for e in with_mm:
        assert e.unit is not None, e.name
        if e.name in ("upcr", "uacr"):
            # mass ratio over urine creatinine: the molar mass is creatinine's (mg/mmol <-> mg/g)
            assert e.unit == "mg/g" and e.molar_mass == variables_by_name()["serum_creatinine"].molar_mass
            continue
        assert ucum.from_ucum(e.unit).dimensionality in (mass_conc, molar_conc), (e.name, e.unit)


@pytest.mark.parametrize(
    "name,unit,molar_mass",
    [
        ("hemoglobin", "g/L", 16114.5),
        ("absolute_neutrophil_count", "10*9/L", None),
        ("serum_creatinine", "umol/L", 113.12),
        ("glucose", "mmol/L", 180.16),
        ("total_bilirubin", "umol/L", 584.66),
        ("creatinine_clearance", "mL/min", None),
        ("egfr", "mL/min/{1.73_m2}", None),
        ("alt", "U/L", None),
        ("systolic_blood_pressure", "mm[Hg]", None),
        ("qtcf", "ms", None),
        ("age", "a", None),
        ("heart_rate", "{beats}/min", None),
        ("upcr", "mg/g", 113.12),
        ("life_expectancy", "mo", None),
        ("prednisone_equivalent_dose", "mg/d", None),
        ("ecog_performance_status", None, None),
        ("inr", None, None),
    ],
)
def test_canonical_units(name, unit, molar_mass):
    e = variables_by_name()[name]
    assert e.unit == unit
    assert e.molar_mass == molar_mass


@pytest.mark.parametrize(
    "surface,name",
    [
        ("absolute neutrophil count", "absolute_neutrophil_count"),
        ("ANC", "absolute_neutrophil_count"),
        ("Neutrophils", "absolute_neutrophil_count"),
        ("platelet count", "platelet_count"),
        ("PLT", "platelet_count"),
        ("Platelets", "platelet_count"),
        ("Haemoglobin", "hemoglobin"),
        ("Hb", "hemoglobin"),
        ("leucocytes", "white_blood_cell_count"),
        ("serum creatinine", "serum_creatinine"),
        ("Cr", "serum_creatinine"),
        ("creatinine", "serum_creatinine"),
        ("calculated creatinine clearance", "creatinine_clearance"),
        ("CrCl", "creatinine_clearance"),
        ("estimated glomerular filtration rate", "egfr"),
        ("eGFR", "egfr"),
        ("total bilirubin", "total_bilirubin"),
        ("TBIL", "total_bilirubin"),
        ("T. bili", "total_bilirubin"),
        ("bilirubin", "total_bilirubin"),
        ("SGPT", "alt"),
        ("ALT", "alt"),
        ("SGOT", "ast"),
        ("aspartate aminotransferase", "ast"),
        ("left ventricular ejection fraction", "lvef"),
        ("LVEF", "lvef"),
        ("Karnofsky performance status", "karnofsky_performance_status"),
        ("KPS", "karnofsky_performance_status"),
        ("ECOG PS", "ecog_performance_status"),
        ("life expectancy", "life_expectancy"),
        ("QTcF", "qtcf"),
        ("Fridericia-corrected QT interval", "qtcf"),
        ("QTc", "qtc"),
        ("body mass index", "bmi"),
        ("International normalized ratio", "inr"),
        ("International ratio", "inr"),
        ("Finger pulse oximetry saturation", "oxygen_saturation"),
        ("SpO2", "oxygen_saturation"),
        ("activated partial thromboplastin time", "aptt"),
        ("APTT", "aptt"),
        ("aPTT", "aptt"),
        ("percentage of lymphocytes", "lymphocyte_percentage"),
        ("Absolute lymphocyte count", "absolute_lymphocyte_count"),
        ("SLEDAI-2000", "sledai_2k"),
        ("SLEDAI-2K", "sledai_2k"),
        ("NYHA class", "nyha_class"),
        ("Prednisone", "prednisone_equivalent_dose"),
        ("UPCR", "upcr"),
        ("HIV viral load", "hiv_rna"),
        ("HBV DNA", "hbv_dna"),
        ("CD4 count", "cd4_count"),
        ("systolic blood pressure", "systolic_blood_pressure"),
        ("age", "age"),
        ("HbA1c", "hba1c"),
    ],
)
def test_spot_checks(entries, surface, name):
    assert _lookup(entries, surface) == name


def test_ambiguous_heads_are_left_out(entries):
    # words that would belong to two variables must not be claimed by either
    for word in ("clearance", "blasts", "PPD"):  # PPD: tuberculin test, probing depth, postpartum depression
        assert _lookup(entries, word) is None, word
    # "performance status" names no one scale: its own entry, not ECOG's or Karnofsky's;
    # "viral load" names no one virus: its own entry, with no code, not HIV's or HBV's;
    # "transaminases" names AST and/or ALT: its own entry, with no code
    assert _lookup(entries, "performance status") == "performance_status"
    assert _lookup(entries, "viral load") == "viral_load"
    assert _lookup(entries, "transaminases") == "transaminases"
    assert variables_by_name()["viral_load"].code is None and variables_by_name()["transaminases"].code is None


# --------------------------------------------------------------------------- malformed files


def _valid_doc() -> dict:
    def entry(name, terms, abbreviations=(), category="lab"):
        return {
            "name": name,
            "display": name.title(),
            "category": category,
            "terms": list(terms),
            "abbreviations": list(abbreviations),
            "code": None,
            "unit": "g/L",
            "molar_mass": None,
        }

    doc = {
        "version": 1,
        "variables": [
            entry("hemoglobin", ["hemoglobin"], ["Hb"]),
            entry("alt", ["alanine aminotransferase"], ["ALT"]),
        ],
    }
    doc["variables"][0]["code"] = {"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin"}
    doc["variables"][1]["unit"] = "U/L"
    return doc


def _write(tmp_path: Path, doc) -> Path:
    p = tmp_path / "variables.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return p


def test_minimal_valid_file(tmp_path):
    loaded = load_variables(_write(tmp_path, _valid_doc()))
    assert [e.name for e in loaded] == ["hemoglobin", "alt"]
    assert loaded[0] == VariableEntry(
        name="hemoglobin",
        display="Hemoglobin",
        category="lab",
        terms=("hemoglobin",),
        abbreviations=("Hb",),
        code=Code("http://loinc.org", "718-7", "Hemoglobin"),
        unit="g/L",
        molar_mass=None,
    )


def test_integer_molar_mass_becomes_float(tmp_path):
    doc = _valid_doc()
    doc["variables"][0]["molar_mass"] = 16114
    (e, _) = load_variables(_write(tmp_path, doc))
    assert e.molar_mass == 16114.0 and isinstance(e.molar_mass, float)


def _set(i, key, value):
    def mutate(doc):
        doc["variables"][i][key] = value

    return mutate


def _delete(i, key):
    def mutate(doc):
        del doc["variables"][i][key]

    return mutate


def _add_entry(**fields):
    def mutate(doc):
        e = copy.deepcopy(doc["variables"][1])
        e.update(fields)
        doc["variables"].append(e)

    return mutate


@pytest.mark.parametrize(
    "mutate,pattern",
    [
        (_add_entry(name="alt", terms=["sgpt"], abbreviations=[]), r"'alt'.*duplicate name"),
        (
            _add_entry(name="haemoglobin_mass", terms=["Hemoglobin"], abbreviations=[]),
            r"'haemoglobin_mass'.*term 'Hemoglobin' is already claimed by entry 'hemoglobin'",
        ),
        (
            _add_entry(name="alt2", terms=["sgpt"], abbreviations=["ALT"]),
            r"'alt2'.*abbreviation 'ALT' is already claimed by entry 'alt'",
        ),
        (
            _add_entry(name="hb2", terms=["hb"], abbreviations=[]),
            r"'hb2'.*term 'hb'.*collides with an abbreviation of entry 'hemoglobin'",
        ),
        (
            _add_entry(name="hemo", terms=["haemo"], abbreviations=["HEMOGLOBIN"]),
            r"'hemo'.*abbreviation 'HEMOGLOBIN' collides with term of entry 'hemoglobin'",
        ),
        (_set(0, "category", "blood"), r"'hemoglobin'.*unknown category 'blood'"),
        (_delete(1, "unit"), r"'alt'.*missing field.*'unit'"),
        (_delete(0, "terms"), r"'hemoglobin'.*missing field.*'terms'"),
        (_set(0, "colour", "red"), r"'hemoglobin'.*unknown field.*'colour'"),
        (_set(0, "name", "Hemoglobin Level"), r"'name' must be a snake_case identifier"),
        (_set(0, "display", ""), r"'hemoglobin'.*'display'"),
        (_set(0, "terms", "hemoglobin"), r"'hemoglobin'.*'terms' must be a list"),
        (_set(0, "terms", ["hemoglobin", ""]), r"'hemoglobin'.*'terms' contains an empty"),
        (_set(0, "terms", ["hemoglobin", " hb level"]), r"'hemoglobin'.*stray whitespace"),
        (_set(0, "terms", ["hemoglobin", "hemoglobin"]), r"'hemoglobin'.*lists 'hemoglobin' twice"),
        (_set(0, "terms", []), None),  # still has an abbreviation: valid
        (
            lambda d: d["variables"][0].update(terms=[], abbreviations=[]),
            r"'hemoglobin'.*at least one term or abbreviation",
        ),
        (
            _set(0, "code", {"system": "http://loinc.org", "code": "7187", "display": "Hb"}),
            r"'hemoglobin'.*'7187' is not a well-formed LOINC code",
        ),
        (_set(0, "code", {"system": "http://loinc.org", "code": "718-7"}), r"'hemoglobin'.*'code' lacks.*'display'"),
        (_set(0, "code", "718-7"), r"'hemoglobin'.*'code' must be null or an object"),
        (_set(0, "unit", ""), r"'hemoglobin'.*'unit'"),
        (_set(0, "molar_mass", -1), r"'hemoglobin'.*'molar_mass' must be null or a positive number"),
        (_set(0, "molar_mass", "113"), r"'hemoglobin'.*'molar_mass'"),
        (_set(0, "molar_mass", True), r"'hemoglobin'.*'molar_mass'"),
        (_set(0, "classes", {"A": [1, 2], "B": [3, 4]}), None),  # optional letter classes: valid
        (_set(0, "classes", {"a": 1}), r"'hemoglobin'.*'classes' item 'a'"),
        (_set(0, "classes", {"A": [3, 1]}), r"'hemoglobin'.*'classes' item 'A'"),
        (_set(0, "classes", {"A": 2, "B": 1}), r"'hemoglobin'.*'classes' must rise"),
        (_set(0, "classes", []), r"'hemoglobin'.*'classes' must be an object"),
        (lambda d: d.update(version=2), r"unsupported or missing 'version' 2"),
        (lambda d: d.pop("version"), r"'version'"),
        (lambda d: d.update(variables={"hemoglobin": {}}), r"'variables' must be a list"),
        (lambda d: d["variables"].append(["not", "an", "object"]), r"entry #2 must be an object"),
    ],
)
def test_malformed_files_raise(tmp_path, mutate, pattern):
    doc = _valid_doc()
    mutate(doc)
    path = _write(tmp_path, doc)
    if pattern is None:
        load_variables(path)
        return
    with pytest.raises(LexiconError, match=pattern) as info:
        load_variables(path)
    assert isinstance(info.value, ValueError)
    assert "variables.json" in str(info.value)  # the message names the file


def test_invalid_json_raises(tmp_path):
    with pytest.raises(LexiconError, match="not valid JSON"):
        load_variables(_write(tmp_path, '{"version": 1, "variables": [}'))


def test_top_level_must_be_object(tmp_path):
    with pytest.raises(LexiconError, match="top level must be an object"):
        load_variables(_write(tmp_path, "[]"))


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_variables(tmp_path / "nope.json")
