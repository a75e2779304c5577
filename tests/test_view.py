"""``criteria-nlp view``: the page holds the exact text with each rule's parts marked, the rule table,
warnings and errors, with every piece of record text escaped (read back with an HTML parser)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from criteria_nlp import extract
from criteria_nlp.cli import main
from criteria_nlp.view.spans import Highlight, marked_html, value_and_unit
from criteria_nlp.view.studies import rebuild_text
from view_dom import check_highlights, parse_page

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"
HOSTILE = ('\nInclusion Criteria:\n\n- Age >= 18 years <script>alert("x")</script>\n'
           "- Hemoglobin > 9 g/dL & \"quoted\" 'single' </pre><b>bold</b>\n")


def view(capsys, *argv):
    code = main(["view", *map(str, argv)])
    _, err = capsys.readouterr()
    return code, err


def study(nct, criteria, **fields):
    em = {"eligibilityCriteria": criteria, **fields}
    return {"protocolSection": {"identificationModule": {"nctId": nct}, "eligibilityModule": em}}


def test_marked_html_keeps_every_character_once_with_overlaps_escaped():
    text = 'a <b> "c" & d'
    marks = [Highlight(0, 5, "variable", "r1"), Highlight(2, 9, "condition", "r1"), Highlight(2, 9, "condition", "r2")]
    page = marked_html(text, marks)
    assert "<b>" not in page and "&lt;b&gt;" in page and "&quot;c&quot;" in page and "&amp;" in page
    assert page.count('data-condition="r1 r2"') == 2  # "<b>" (inside the variable too) and ' "c"'


def test_value_and_unit_from_rule_offsets():
    text = "Hemoglobin (Hb) ≥ 80 g/L"
    rule = {"id": "r", "text": text, "start": 100, "end": 100 + len(text), "unit_text": "g/L",
            "variable": {"text": "Hemoglobin (Hb)", "start": 100, "end": 115}}
    (v0, v1), (u0, u1) = value_and_unit(rule)
    assert text[v0 - 100:v1 - 100] == "≥ 80" and text[u0 - 100:u1 - 100] == "g/L"
    words = "Survival is expected to be more than 3 months"
    rule = {"id": "r", "text": words, "start": 0, "end": len(words), "unit_text": "months",
            "variable": {"text": "Survival is expected", "start": 0, "end": 20}}
    (v0, v1), (u0, u1) = value_and_unit(rule)
    assert words[v0:v1] == "more than 3" and words[u0:u1] == "months"


def test_reference_record_page_has_exact_text_highlights_and_table(tmp_path, capsys):
    out = tmp_path / "ref.html"
    code, err = view(capsys, REFERENCE, "-o", out)
    assert code == 0, err
    page = parse_page(out.read_text(encoding="utf-8"))
    text = REFERENCE.read_text(encoding="utf-8")
    assert page.texts == [text]
    result = extract(text, doc_id="NCT06852573.criteria")
    counts = check_highlights(page, 0, result, text)
    n_rules = sum(len(c["rules"]) for c in result["criteria"])
    assert n_rules >= 36  # the 36 required rules of the reference gold, and optional ones
    assert counts["rules"] == n_rules and counts["variable"] == n_rules and counts["condition"] >= 10 \
        and counts["unit"] >= 15
    assert len(page.rows) == n_rules
    hb = next(r for r in page.rows if r[0] == "inc-8.1.r1")
    assert hb[2].startswith("Hemoglobin (Hb)") and hb[3] == "LOINC 718-7" and hb[4:7] == [">=", "80", "g/L"]
    assert "within 3 days prior to single collection" in hb[8] and hb[9] == "no"
    assert not page.tags & {"script", "link", "img", "iframe"}
    assert all(url.startswith("#") for url in page.urls)


def test_record_text_and_fields_are_escaped(tmp_path, capsys):
    src = tmp_path / "hostile.jsonl"
    src.write_text(json.dumps(study('NCT<script>"1"', HOSTILE, minimumAge="21 Years")) + "\n", encoding="utf-8")
    out = tmp_path / "hostile.html"
    code, err = view(capsys, src, "-o", out)
    assert code == 0, err
    raw = out.read_text(encoding="utf-8")
    assert "<script" not in raw.lower() and "<b>bold" not in raw
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in raw and "&#x27;single&#x27;" in raw
    page = parse_page(raw)
    assert page.texts == [HOSTILE]  # the markup is shown as text, exactly
    assert 'NCT<script>"1"' in raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert "warning: structured minimumAge" in " ".join(raw.split())  # age 21 vs text 18, escaped and shown


def test_result_files_use_the_source_text_or_rebuild_it(tmp_path, capsys):
    src = tmp_path / "in" / "doc.txt"
    src.parent.mkdir()
    src.write_text(HOSTILE, encoding="utf-8")
    results = tmp_path / "res.jsonl"
    assert main(["extract", str(src), "-o", str(results), "-q"]) == 0
    out = tmp_path / "a.html"
    assert view(capsys, results, "-o", out)[0] == 0
    page = parse_page(out.read_text(encoding="utf-8"))
    assert page.texts == [HOSTILE] and "text: source file" in out.read_text(encoding="utf-8")
    result = json.loads(results.read_text(encoding="utf-8"))
    check_highlights(page, 0, result, HOSTILE)

    shutil.rmtree(src.parent)  # the source is gone: the criteria are placed at their own offsets
    out2 = tmp_path / "b.html"
    assert view(capsys, results, "-o", out2)[0] == 0
    page = parse_page(out2.read_text(encoding="utf-8"))
    rebuilt = rebuild_text(result)
    assert page.texts == [rebuilt] and "text: rebuilt from the criteria" in out2.read_text(encoding="utf-8")
    for crit in result["criteria"]:
        assert rebuilt[crit["start"]:crit["end"]] == crit["text"]
    check_highlights(page, 0, result, rebuilt)


def test_bad_records_are_shown_and_do_not_lose_the_others(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text(HOSTILE, encoding="utf-8")
    results = tmp_path / "res.jsonl"
    assert main(["extract", str(good), "-o", str(results), "-q"]) == 0
    with open(results, "a", encoding="utf-8") as fh:
        fh.write('{"schema_version": "1.0", broken\n')
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Age \xff 18")
    out = tmp_path / "r.html"
    code, err = view(capsys, results, bad, "-o", out)
    assert code == 1
    assert "invalid JSON" in err and "UTF-8" in err and "Traceback" not in err
    raw = " ".join(out.read_text(encoding="utf-8").split())
    assert raw.count('class="study"') == 3 and "error: line 2: invalid JSON" in raw and "not valid UTF-8" in raw
    assert parse_page(out.read_text(encoding="utf-8")).texts[0] == HOSTILE  # the good study is there


def test_existing_page_is_kept_without_force_and_study_limit(tmp_path, capsys):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps(study(f"NCT{i}", "Age >= 18 years")) + "\n" for i in range(5)), encoding="utf-8")
    out = tmp_path / "r.html"
    out.write_text("mine", encoding="utf-8")
    code, err = view(capsys, src, "-o", out)
    assert code == 2 and "--force" in err and out.read_text(encoding="utf-8") == "mine"
    code, err = view(capsys, src, "-o", out, "--force", "--max-studies", "2")
    assert code == 0, err
    raw = out.read_text(encoding="utf-8")
    assert raw.count('class="study"') == 2 and "the first 2 studies; the rest are left out (--max-studies)" in raw
    assert view(capsys, tmp_path / "nothing-here.txt", "-o", tmp_path / "x" )[0] == 1


def test_usage_errors_are_one_line(tmp_path, capsys):
    code, err = view(capsys, "-", "-", "-o", tmp_path / "r.html")
    assert code == 2 and len(err.strip().splitlines()) == 1
    (tmp_path / "d.html").mkdir()
    code, err = view(capsys, REFERENCE, "-o", tmp_path / "d.html")
    assert code == 2 and "is a directory" in err


def test_a_result_line_over_the_size_limit_is_an_error_and_the_rest_is_kept(tmp_path, capsys, monkeypatch):
    from criteria_nlp.view import studies

    good = tmp_path / "good.txt"
    good.write_text(HOSTILE, encoding="utf-8")
    results = tmp_path / "res.jsonl"
    assert main(["extract", str(good), "-o", str(results), "-q"]) == 0
    line = results.read_text(encoding="utf-8")
    huge = json.loads(line)
    huge["source"]["id"] = "huge"
    huge["filler"] = "x" * 20_000
    results.write_text(line + json.dumps(huge) + "\n" + line, encoding="utf-8")
    monkeypatch.setattr(studies, "MAX_RESULT_FILE_BYTES", 10_000)
    out = tmp_path / "r.html"
    code, err = view(capsys, results, "-o", out)
    assert code == 1 and "line 2: over 10,000 bytes" in err
    page = parse_page(out.read_text(encoding="utf-8"))
    assert page.texts == [HOSTILE, HOSTILE] and "xxxxxxxxxx" not in out.read_text(encoding="utf-8")


def test_results_on_stdin(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "doc.txt"
    src.write_text(HOSTILE, encoding="utf-8")
    results = tmp_path / "res.jsonl"
    assert main(["extract", str(src), "-o", str(results), "-q"]) == 0
    out = tmp_path / "stdin.html"
    proc = subprocess.run([sys.executable, "-m", "criteria_nlp.cli", "view", "-", "-o", str(out)],
                          input=results.read_bytes(), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    raw = out.read_text(encoding="utf-8")
    assert parse_page(raw).texts == [HOSTILE] and "text: source file" in raw  # read as results, not as text


def test_one_page_per_study_in_a_directory(tmp_path, capsys):
    src = tmp_path / "two.jsonl"
    src.write_text(json.dumps(study("NCT1", HOSTILE)) + "\n" + json.dumps(study("NCT2", "Age 18-65 years\n")) + "\n",
                   encoding="utf-8")
    out = tmp_path / "pages"
    code, err = view(capsys, src, "-o", out)
    assert code == 0, err
    index = parse_page((out / "index.html").read_text(encoding="utf-8"))
    study_pages = sorted(u for u in index.urls)
    assert len(study_pages) == 2 and all((out / u).is_file() for u in study_pages)
    first = parse_page((out / study_pages[0]).read_text(encoding="utf-8"))
    second = parse_page((out / study_pages[1]).read_text(encoding="utf-8"))
    assert first.texts == [HOSTILE] and second.texts == ["Age 18-65 years\n"]
    assert first.urls == ["index.html"] and second.marked[0, "value", "crit-1.r1"] == "18-65"
    code, err = view(capsys, src, "-o", out)
    assert code == 2 and "--force" in err
    assert view(capsys, src, "-o", out, "--force")[0] == 0
