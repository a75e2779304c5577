"""The published JSON Schema, and the output of real texts against it."""
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from criteria_nlp import extract

EXAMPLES = Path(__file__).resolve().parent.parent / "corpora" / "examples"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(resources.files("criteria_nlp").joinpath("schema/rules.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def all_spans(result):
    for c in result["criteria"]:
        yield c
        for r in c["rules"]:
            yield r
            if r["variable"]:
                yield r["variable"]
            yield from r["conditions"]


@pytest.mark.parametrize("name", ["NCT06852573.criteria.txt", "NCT06852573.record.txt"])
def test_reference_files_validate_and_offsets_are_exact(validator, name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    result = extract(text, doc_id=name)
    validator.validate(result)
    spans = list(all_spans(result))
    assert len(spans) > 60
    for span in spans:
        assert text[span["start"]:span["end"]] == span["text"]


def test_logic_refers_to_rules_of_its_criterion(validator):
    text = (EXAMPLES / "NCT06852573.criteria.txt").read_text(encoding="utf-8")
    for crit in extract(text)["criteria"]:
        ids = {r["id"] for r in crit["rules"]}
        if not ids:
            assert crit["logic"] is None
            continue

        def leaves(node):
            for arg in node["args"]:
                if isinstance(arg, str):
                    yield arg
                else:
                    yield from leaves(arg)

        assert sorted(leaves(crit["logic"])) == sorted(ids)


def test_schema_rejects_a_broken_document(validator):
    result = extract("Hemoglobin ≥ 9 g/dL")
    result["criteria"][0]["rules"][0]["comparator"] = "≥"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(result)


def test_empty_and_odd_inputs(validator):
    for text in ["", "   \n\n", "Inclusion Criteria:", "1.", "≥≥≥ 5 5 5", "x" * 5000]:
        result = extract(text)
        validator.validate(result)


def test_schema_1_1_accepts_1_0_documents_and_checks_unit_inferred(validator):
    """1.1 adds the optional rule field unit_inferred: a 1.0 document (without it) stays valid, a
    1.1 document carries it, and a non-boolean value is refused."""
    result = extract("Platelets at least 100,000\nHemoglobin >= 9 g/dL\n")
    assert result["schema_version"] == "1.2"
    assert [r["unit_inferred"] for c in result["criteria"] for r in c["rules"]] == [True, False]
    validator.validate(result)
    old = json.loads(json.dumps(result))
    old["schema_version"] = "1.0"
    for c in old["criteria"]:
        for r in c["rules"]:
            del r["unit_inferred"]
    validator.validate(old)
    old["criteria"][0]["rules"][0]["unit_inferred"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(old)


def test_schema_1_2_names_the_rule_stating_a_population(validator):
    """1.2 adds the optional condition field rule: the rule whose threshold states a population is
    named there and left out of the criterion's logic; a 1.1 document (without it) stays valid."""
    result = extract("Creatinine clearance above 55 mL/min (if creatinine at least 1.6 mg/dL)\n")
    (crit,) = result["criteria"]
    main, stating = crit["rules"]
    (population,) = [c for c in main["conditions"] if c["kind"] == "population"]
    assert population["rule"] == stating["id"]
    assert crit["logic"] == {"op": "and", "args": [main["id"]]}
    validator.validate(result)
    old = json.loads(json.dumps(result))
    old["schema_version"] = "1.1"
    del old["criteria"][0]["rules"][0]["conditions"][0]["rule"]
    validator.validate(old)
    old["criteria"][0]["rules"][0]["conditions"][0]["rule"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(old)
