"""A population stated by a threshold (lines written for these tests): the stating rule is named by
the condition's ``rule`` and is no requirement, in the JSON and in the plan ``match`` runs."""
from criteria_nlp import extract
from criteria_nlp.omop.results import plan_trial, rule_ids

IF_CLAUSE = "Inclusion Criteria:\n- Creatinine clearance above 55 mL/min (if serum creatinine at least 1.6 mg/dL)\n"
AGE_HEADERS = ("Inclusion Criteria:\n- Age 12 and over\n- Hematopoietic:\n"
               "  - Age 18 and over:\n    - Platelet count at least 120,000/mm3\n"
               "  - Under age 18:\n    - Platelet count at least 90,000/mm3\n")


def test_the_if_clause_threshold_states_the_population_and_is_no_requirement():
    result = extract(IF_CLAUSE)
    (crit,) = [c for c in result["criteria"] if c["rules"]]
    clearance, creatinine = crit["rules"]
    assert clearance["variable"]["name"] == "creatinine_clearance"
    assert [c["rule"] for c in clearance["conditions"] if c["kind"] == "population"] == [creatinine["id"]]
    (plan,) = plan_trial(result).criteria
    required = rule_ids(plan.default_logic) + rule_ids(plan.population_logic)
    assert creatinine["id"] not in required and clearance["id"] in required


def test_an_age_header_is_the_population_of_its_items_not_a_requirement():
    result = extract(AGE_HEADERS)
    by_text = {c["text"]: c for c in result["criteria"]}
    adults = by_text["Age 18 and over:"]
    assert adults["logic"] is None and len(adults["rules"]) == 1
    item = by_text["Platelet count at least 120,000/mm3"]
    (population,) = [c for c in item["rules"][0]["conditions"] if c["kind"] == "population"]
    assert population["text"] == "Age 18 and over" and population["rule"] == adults["rules"][0]["id"]
    children = by_text["Platelet count at least 90,000/mm3"]["rules"][0]["conditions"]
    assert [c["text"] for c in children if c["kind"] == "population"] == ["Under age 18"]
    plans = plan_trial(result).criteria
    required = {r for p in plans for r in rule_ids(p.default_logic) + rule_ids(p.population_logic)}
    assert adults["rules"][0]["id"] not in required
    assert by_text["Age 12 and over"]["rules"][0]["id"] in required
