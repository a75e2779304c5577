"""Long texts are read in parts cut between criteria (criteria_nlp.parts), with a single reading's result."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from criteria_nlp import extract
from criteria_nlp.excerpt import class_letters, criteria_to_read, excerpt_of, find_criteria
from criteria_nlp.parts import part_ids
from criteria_nlp.pipeline import MAX_TEXT_LENGTH, TextTooLongError, get_pipeline, prepare_text

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"
SAMPLE = ROOT / ".." / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"
FOOTNOTE_TEXT = (
    "Inclusion Criteria:\n\n- Age 18 years or older\n- Absolute neutrophil count ≥ 1,500/mm3*\n"
    "- Platelet count ≥ 100,000/mm3*\n- Total bilirubin ≤ 1.5 mg/dL\n"
    "*Unless due to lymphomatous involvement of the bone marrow\n\n"
    "Exclusion Criteria:\n\n- Creatinine clearance < 30 mL/min\n")
ID_KEYS = ("id", "parent", "inherited_from")


def _copy_id(criterion_or_rule_id: str, copy: int) -> str:
    """The id a single reading gives in the ``copy``-th repeat of a record (0: the first)."""
    if not copy:
        return criterion_or_rule_id
    head, dot, rest = criterion_or_rule_id.partition(".")
    return f"{head}_{copy + 1}{dot}{rest}"


def _as_copy(value, copy: int, shift: int):
    """A criterion's JSON as it reads in the ``copy``-th repeat: offsets moved, ids suffixed."""
    if isinstance(value, list):
        return [_as_copy(v, copy, shift) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if key in ("start", "end") and isinstance(v, int):
            out[key] = v + shift
        elif key in ID_KEYS and isinstance(v, str):
            out[key] = _copy_id(v, copy)
        elif key == "args":
            out[key] = [_copy_id(a, copy) if isinstance(a, str) else _as_copy(a, copy, shift) for a in v]
        else:
            out[key] = _as_copy(v, copy, shift)
    return out


def _parts_of(text: str, part_length: int) -> list[set[str]]:
    nlp = get_pipeline()
    source = prepare_text(text).text
    criteria, quantities = find_criteria(nlp, source)
    return list(part_ids(source, criteria, criteria_to_read(source, criteria, quantities, class_letters(nlp)),
                         part_length))


def test_a_record_repeated_past_a_million_characters_gives_n_times_its_criteria():
    record = REFERENCE.read_text(encoding="utf-8")
    copies = 1_000_000 // len(record) + 2
    text = record * copies
    assert len(text) > 1_000_000
    single = extract(record)
    result = extract(text, part_length=50_000)  # about 20 parts
    expected = [_as_copy(c, k, k * len(record)) for k in range(copies) for c in single["criteria"]]
    assert len(result["criteria"]) == copies * 46
    # 36 rules per copy: a washout counted in half-lives (exc-8) is no threshold since branch acc15
    assert sum(len(c["rules"]) for c in result["criteria"]) == copies * 36
    assert result["criteria"] == expected
    for criterion in result["criteria"][-46:]:
        assert text[criterion["start"]:criterion["end"]] == criterion["text"]


def test_parts_are_cut_between_top_level_criteria_within_the_length():
    text = REFERENCE.read_text(encoding="utf-8") * 3
    parts = _parts_of(text, 5_000)
    assert len(parts) > 3
    roots = [{cid.partition(".")[0] for cid in ids} for ids in parts]
    assert all(not a & b for a, b in zip(roots, roots[1:]))  # no top-level criterion in two parts
    source = prepare_text(text).text
    criteria, _ = find_criteria(get_pipeline(), source)
    sizes = [len(excerpt_of(source, criteria, ids).text) for ids in parts]
    assert max(sizes) <= 5_000


def test_a_text_in_parts_reads_as_a_single_reading():
    text = REFERENCE.read_text(encoding="utf-8") * 4
    assert extract(text, part_length=3_000) == extract(text, part_length=len(text))


def test_a_starred_footnote_keeps_the_values_it_reaches_in_its_part():
    whole = extract(FOOTNOTE_TEXT, part_length=len(FOOTNOTE_TEXT))
    kinds = {c["id"]: [cond["kind"] for r in c["rules"] for cond in r["conditions"]] for c in whole["criteria"]}
    assert kinds["inc-2"] == kinds["inc-3"] == ["exception"]
    assert extract(FOOTNOTE_TEXT, part_length=60) == whole
    assert len(_parts_of(FOOTNOTE_TEXT, 60)) == 3  # inc-1 | inc-2..inc-4 with the footnote | exc-1


def test_sample_studies_read_in_small_parts_as_in_one():
    from criteria_nlp.components.conditions import has_footnote_exception
    from criteria_nlp.io.readers import iter_ctgov_jsonl

    if not SAMPLE.exists():
        pytest.skip("ctgov sample not present")
    records = [r for r in iter_ctgov_jsonl(str(SAMPLE)) if r.error is None and r.text]
    chosen = records[::40] + [r for r in records if has_footnote_exception(r.text)]  # 170 + 26 footnote texts
    differing = [r.id for r in chosen if extract(r.text, r.id, part_length=150) != extract(r.text, r.id)]
    assert differing == []


def test_a_criterion_longer_than_the_part_is_read_whole():
    text = "Inclusion Criteria:\n1. Hemoglobin ≥ 9 g/dL " + "and no bleeding " * 20 + "\n2. Age ≥ 18 years\n"
    result = extract(text, part_length=40)
    assert [r["variable"]["name"] for c in result["criteria"] for r in c["rules"]] == ["hemoglobin", "age"]
    assert result == extract(text)


def test_the_outer_limit_is_large_and_fails_at_once_with_one_line():
    text = "Inclusion Criteria:\n1. Age ≥ 18 years\n" + "x" * MAX_TEXT_LENGTH
    with pytest.raises(TextTooLongError) as info:
        extract(text)
    message = str(info.value)
    assert "\n" not in message and f"over the limit of {MAX_TEXT_LENGTH:,}" in message and "--max-length" in message


def test_cli_reads_a_long_file_in_parts_with_the_same_json(tmp_path, capsys):
    from criteria_nlp.cli import main

    path = tmp_path / "long.txt"
    path.write_text(REFERENCE.read_text(encoding="utf-8") * 3, encoding="utf-8")
    assert main(["extract", "-q", str(path)]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert main(["extract", "-q", "--part-length", "4000", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == whole
    assert len(whole["criteria"]) == 3 * 46
