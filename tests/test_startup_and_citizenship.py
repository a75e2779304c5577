"""The package in a caller's process: what ``--help`` imports, which extensions and warning filters
building the pipeline leaves behind, span labels for displacy, and the length limit.

The process-wide checks run in one fresh interpreter (the other tests have imported medspaCy in
full and changed the registries of this one).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from criteria_nlp import extensions

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"

_PROBE = r"""
import json, sys, warnings
found = {}
filters_before = list(warnings.filters)
from criteria_nlp.cli import build_parser
build_parser().format_help()
found["after_help"] = sorted(m for m in ("spacy", "thinc", "numpy", "medspacy", "sklearn", "skops", "psycopg")
                             if m in sys.modules)
from spacy.tokens.underscore import Underscore  # importing spaCy registers no extension
extensions_before = {k: set(getattr(Underscore, k + "_extensions")) for k in ("doc", "span", "token")}
from criteria_nlp.pipeline import build_pipeline
nlp = build_pipeline()
nlp("Exclusion Criteria:\n1. No hemoglobin < 9 g/dL within 3 months")
found["heavy_after_build"] = sorted(m for m in ("quickumls", "nltk", "PyRuSH", "medspacy") if m in sys.modules)
# the packaged model is read from its weights and the units from the shipped conversions
found["after_extraction"] = sorted(m for m in ("sklearn", "skops", "scipy", "pint", "ucumvert") if m in sys.modules)
found["new_extensions"] = {k: sorted(set(getattr(Underscore, k + "_extensions")) - extensions_before[k])
                           for k in ("doc", "span", "token")}
found["blanket_ignores"] = [str(f) for f in warnings.filters
                            if f not in filters_before and f[0] == "ignore" and f[1] is None
                            and f[2] in (Warning, UserWarning)]
with warnings.catch_warnings(record=True) as caught:
    warnings.warn("the caller's own warning")
found["caller_warning_shown"] = len(caught) == 1
import medspacy  # the caller's own import of medspaCy is the full one
found["medspacy_after"] = [hasattr(medspacy, "load"), medspacy.__version__]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def fresh_process() -> dict:
    run = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=600, cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_help_does_not_import_spacy_or_the_heavy_libraries(fresh_process):
    assert fresh_process["after_help"] == []


def test_building_the_pipeline_does_not_import_quickumls_nltk_or_pyrush(fresh_process):
    assert fresh_process["heavy_after_build"] == []
    assert fresh_process["medspacy_after"] == [True, "1.3.1"]


def test_extracting_with_the_packaged_model_imports_no_scikit_learn_scipy_or_pint(fresh_process):
    assert fresh_process["after_extraction"] == []


def test_running_one_command_imports_only_that_command():
    code = ("import sys; from criteria_nlp.cli import build_parser; "
            "p = build_parser(['extract', '--help']); "
            "print(sorted(m for m in ('criteria_nlp.evaluation.command', 'criteria_nlp.omop.command', "
            "'criteria_nlp.view.command') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def test_no_process_wide_warning_filter_and_the_callers_warnings_still_show(fresh_process):
    assert fresh_process["blanket_ignores"] == []
    assert fresh_process["caller_warning_shown"] is True


def test_registered_extensions_are_exactly_the_documented_ones(fresh_process):
    new = fresh_process["new_extensions"]
    assert set(new["doc"]) == extensions.registered_names("Doc")
    assert set(new["span"]) == extensions.registered_names("Span")
    assert new["token"] == []


def test_readme_table_is_the_extensions_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert extensions.markdown_table() in readme


@pytest.fixture(scope="module")
def reference_doc():
    from criteria_nlp.pipeline import get_pipeline, mask_markup

    return get_pipeline()(mask_markup(REFERENCE.read_text(encoding="utf-8")))


def test_rule_and_part_spans_are_labelled_and_displacy_shows_them(reference_doc):
    from spacy import displacy

    rules = list(reference_doc.spans["criteria_rules"])
    assert len(rules) == sum(len(r) for r in reference_doc._.rules.values()) and {s.label_ for s in rules} == {"RULE"}
    parts = {(s.text, s.label_) for s in reference_doc.spans["criteria_rule_parts"]}
    assert {("Hemoglobin (Hb)", "VARIABLE"), ("≥ 80 g/L", "VALUE"),
            ("within 3 days prior to single collection", "CONDITION")} <= parts
    html = displacy.render(reference_doc, style="span", options={"spans_key": "criteria_rule_parts"}, page=True)
    for label in ("VARIABLE", "VALUE", "CONDITION"):
        assert html.count(label) >= 5
    assert "Hemoglobin" in displacy.render(reference_doc, style="span", options={"spans_key": "criteria_rules"})


def test_max_length_is_configurable_both_ways(monkeypatch):
    from criteria_nlp import extract
    from criteria_nlp.pipeline import TextTooLongError, get_pipeline

    text = REFERENCE.read_text(encoding="utf-8")
    with pytest.raises(TextTooLongError):
        extract(text, max_length=len(text) - 1)
    expected = extract(text)
    monkeypatch.setattr(get_pipeline(), "max_length", 1000)  # spaCy's own limit below the text:
    assert extract(text, max_length=len(text)) == expected  # read in parts, the same result


def test_cli_batch_keeps_the_other_records_when_one_is_too_long(tmp_path):
    from criteria_nlp.cli import main

    short, long_ = tmp_path / "short.txt", tmp_path / "long.txt"
    short.write_text("Inclusion Criteria:\n1. Hemoglobin ≥ 9 g/dL\n", encoding="utf-8")
    long_.write_text("Inclusion Criteria:\n1. Age ≥ 18 years\n" + "y" * 200, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status = main(["extract", "--max-length", "100", "-q", "-o", str(out), str(long_), str(short)])
    assert status == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "over the limit of 100" in records[0]["error"]
    assert records[1]["criteria"][0]["rules"][0]["variable"]["name"] == "hemoglobin"


_COLLECTOR_PROBE = r"""
import gc, json, sys
import criteria_nlp.batch as batch, criteria_nlp.pipeline as pipeline
seen = {}
build, run_batch = pipeline.build_pipeline, batch.process_batch
def watched_build(*args, **kwargs):
    seen["collector_on_while_building"] = gc.isenabled()
    return build(*args, **kwargs)
def watched_batch(*args, **kwargs):
    seen["collector_on_for_records"] = gc.isenabled()
    seen["frozen_objects"] = gc.get_freeze_count()
    return run_batch(*args, **kwargs)
pipeline.build_pipeline, batch.process_batch = watched_build, watched_batch
from criteria_nlp.cli import main
seen["status"] = main(["extract", sys.argv[1], "-o", sys.argv[2]])
seen["collector_on_after"] = gc.isenabled()
print(json.dumps(seen))
"""


def test_extract_builds_without_the_collector_and_reads_records_with_it(tmp_path):
    from criteria_nlp import extract

    out = tmp_path / "out.json"
    run = subprocess.run([sys.executable, "-c", _COLLECTOR_PROBE, str(REFERENCE), str(out)], capture_output=True,
                         text=True, timeout=600, cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.splitlines()[-1])
    assert seen["status"] == 0
    assert seen["collector_on_while_building"] is False
    assert seen["collector_on_for_records"] is True
    assert seen["frozen_objects"] > 50_000  # spaCy and the pipeline, out of later collections
    assert seen["collector_on_after"] is True
    rules = [r for c in json.loads(out.read_text(encoding="utf-8"))["criteria"] for r in c["rules"]]
    expected = [r for c in extract(REFERENCE.read_text(encoding="utf-8"))["criteria"] for r in c["rules"]]
    assert rules == expected
