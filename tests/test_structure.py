"""Sections, list items, nesting and ids on real registry layouts."""
from criteria_nlp import extract
from criteria_nlp.components.structure.parser import parse_items


def ids_and_parents(text):
    return [(c["id"], c["parent"], c["section"]) for c in extract(text)["criteria"]]


def test_numbered_lists_under_headings():
    text = "Inclusion Criteria:\n\n1. Age 18 or older\n2. Signed consent\n\nExclusion Criteria:\n\n1. Pregnancy\n"
    assert ids_and_parents(text) == [
        ("inc-1", None, "inclusion"), ("inc-2", None, "inclusion"), ("exc-1", None, "exclusion"),
    ]


def test_flattened_restart_under_colon_parent_and_resume():
    text = ("Inclusion Criteria\n\n1. First\n2. Prior treatment history:\n\n1. Dose A\n2. Dose B\n"
            "3. Dose C\n3. Compliance\n")
    assert [(i, p) for i, p, _ in ids_and_parents(text)] == [
        ("inc-1", None), ("inc-2", None), ("inc-2.1", "inc-2"), ("inc-2.2", "inc-2"), ("inc-2.3", "inc-2"),
        ("inc-3", None),
    ]


def test_legacy_ctgov_bullets_with_wrapped_lines_and_indented_children():
    text = ("        Inclusion Criteria:\n\n"
            "          -  Histologically confirmed adenocarcinoma of the\n"
            "             pancreas\n\n"
            "          -  Adequate organ function defined as:\n\n"
            "               -  ANC ≥ 1,500/mm3\n\n"
            "               -  Platelets ≥ 100,000/mm3\n\n"
            "        Exclusion Criteria:\n\n"
            "          -  Prior chemotherapy\n")
    out = extract(text)
    got = [(c["id"], c["parent"], c["section"]) for c in out["criteria"]]
    assert got == [
        ("inc-1", None, "inclusion"), ("inc-2", None, "inclusion"), ("inc-2.1", "inc-2", "inclusion"),
        ("inc-2.2", "inc-2", "inclusion"), ("exc-1", None, "exclusion"),
    ]
    first = out["criteria"][0]
    assert first["text"].endswith("pancreas")  # the wrapped line belongs to the item
    assert [r["value"] for c in out["criteria"] for r in c["rules"]] == [1500, 100000]


def test_lettered_roman_and_parenthesised_markers():
    text = "Inclusion criteria\n1. Labs:\n   a. Hb ≥ 9 g/dL\n   b. ANC ≥ 1.5 x 10^9/L\n2. Scores:\n   (i) ECOG 0-1\n   (ii) KPS ≥ 70%\n"
    assert [(i, p) for i, p, _ in ids_and_parents(text)] == [
        ("inc-1", None), ("inc-1.a", "inc-1"), ("inc-1.b", "inc-1"),
        ("inc-2", None), ("inc-2.i", "inc-2"), ("inc-2.ii", "inc-2"),
    ]


def test_heading_spellings_and_no_heading():
    for heading in ("INCLUSION CRITERIA:", "Key Inclusion Criteria", "**Inclusion Criteria:**", "Inclusion criteria"):
        assert ids_and_parents(f"{heading}\n- Age ≥ 18 years\n")[0][2] == "inclusion", heading
    assert ids_and_parents("- Age ≥ 18 years\n- Hb ≥ 9 g/dL\n") == [("crit-1", None, None), ("crit-2", None, None)]


def test_heading_mentioned_inside_an_item_is_not_a_section():
    text = "Inclusion Criteria:\n1. Meets all inclusion criteria of the parent study\n2. Hb ≥ 9 g/dL\n"
    assert [s for _, _, s in ids_and_parents(text)] == ["inclusion", "inclusion"]


def test_ids_stay_unique_with_two_sections_of_one_kind():
    text = "Inclusion Criteria (Part A):\n1. One\nInclusion Criteria (Part B):\n1. Two\n"
    ids = [i for i, _, _ in ids_and_parents(text)]
    assert len(ids) == len(set(ids)) == 2


def test_crlf_and_offsets():
    text = "Inclusion Criteria:\r\n1. Hb >= 9 g/dL\r\n2. Age >= 18 years\r\n"
    out = extract(text)
    for c in out["criteria"]:
        assert text[c["start"]:c["end"]] == c["text"]
        assert not c["text"].endswith("\r")
    assert len([r for c in out["criteria"] for r in c["rules"]]) == 2


def test_parse_items_is_pure_and_offsets_exact():
    text = "1. a:\n1. b\n2. c\n2. d"
    items = parse_items(text, 0, len(text), "inclusion")
    assert [(i.id, text[i.start:i.end]) for i in items] == [
        ("inc-1", "a:"), ("inc-1.1", "b"), ("inc-1.2", "c"), ("inc-2", "d"),
    ]
