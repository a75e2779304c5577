"""A saved pipeline is the same pipeline: ``nlp.to_disk(d)`` then ``spacy.load(d)``, and ``spacy package``.

The JSON of the reference record and of 200 ClinicalTrials.gov sample studies must be byte-identical
before and after the round trip; the saved config holds no path; data files, settings and the
tokenizer guard survive; ``python -m spacy package`` gives a wheel that loads in another process.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from criteria_nlp.pipeline import build_pipeline, doc_to_result, mask_markup
from criteria_nlp.tokenizer import GuardedTokenizer

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"
CTGOV = ROOT.parent / "shared" / "corpora" / "ctgov-sample" / "studies.jsonl"
N_STUDIES = 200


def _json_lines(nlp, texts: list[str]) -> list[str]:
    docs = nlp.pipe(mask_markup(t) for t in texts)
    return [json.dumps(doc_to_result(doc, t).to_dict(), ensure_ascii=False) for doc, t in zip(docs, texts)]


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    """(the built pipeline, the same pipeline saved and loaded, the save directory)."""
    nlp = build_pipeline()
    saved = tmp_path_factory.mktemp("saved") / "criteria_pipeline"
    nlp.to_disk(saved)
    return nlp, spacy.load(saved), saved


def test_reference_record_json_is_byte_identical_after_load(pipelines):
    nlp, loaded, _ = pipelines
    text = REFERENCE.read_text(encoding="utf-8")
    (before,), (after,) = _json_lines(nlp, [text]), _json_lines(loaded, [text])
    assert after == before
    result = json.loads(after)
    sections = {c["section"] for c in result["criteria"]}
    assert sections == {"inclusion", "exclusion"}  # the headings still split the record
    assert all(r["confidence"] is not None for c in result["criteria"] for r in c["rules"])  # model saved too


@pytest.mark.corpus
@pytest.mark.skipif(not CTGOV.is_file(), reason=f"ClinicalTrials.gov sample not found at {CTGOV}")
def test_sample_studies_json_is_byte_identical_after_load(pipelines):
    nlp, loaded, _ = pipelines
    with CTGOV.open(encoding="utf-8") as fh:
        studies = [json.loads(line) for line in itertools.islice(fh, N_STUDIES)]
    texts = [s["protocolSection"].get("eligibilityModule", {}).get("eligibilityCriteria") or "" for s in studies]
    assert sum(1 for t in texts if t) > N_STUDIES * 0.9
    before, after = _json_lines(nlp, texts), _json_lines(loaded, texts)
    assert sum(json.loads(b).get("criteria") != [] for b in before) > N_STUDIES * 0.9
    assert [i for i, (a, b) in enumerate(zip(after, before)) if a != b] == []


def test_saved_config_holds_no_path_and_names_the_criteria_tokenizer(pipelines):
    _, _, saved = pipelines
    config = (saved / "config.cfg").read_text(encoding="utf-8")
    assert str(ROOT) not in config and "/resources/" not in config
    tokenizer = spacy.util.load_config(saved / "config.cfg")["nlp"]["tokenizer"]
    assert tokenizer["@tokenizers"] == "criteria_nlp.tokenizer.v1"
    # the component data lives beside the config instead
    assert (saved / "criteria_sections" / "sections.json").is_file()
    assert (saved / "criteria_variables" / "variables.json").is_file()
    assert (saved / "criteria_context" / "context_rules.json").is_file()
    assert (saved / "criteria_linker" / "linker.skops").is_file()


def test_tokenizer_rules_and_guard_survive(pipelines):
    nlp, loaded, _ = pipelines
    assert isinstance(loaded.tokenizer, GuardedTokenizer)
    for text in ("PLT<30*×10^9/L and Hb≥80g/L", "(" * 3000 + " ANC1.5", "<>=" * 700):
        assert [t.text for t in loaded.make_doc(text)] == [t.text for t in nlp.make_doc(text)]
    assert [t.text for t in loaded.make_doc("Hb≥80g/L")] == ["Hb", "≥", "80", "g", "/", "L"]
    # the guard's piece length: no token of a long run is longer than it
    assert max(len(t) for t in loaded.make_doc("(" * 3000)) <= loaded.tokenizer.max_run


def test_custom_lexicon_and_newline_pattern_are_saved_with_the_pipeline(tmp_path):
    """A lexicon file and a newline pattern with ``$`` (thinc's config mangles ``$``) survive; the
    saved pipeline does not need the original lexicon file any more."""
    lexicon = json.loads((ROOT / "criteria_nlp" / "resources" / "variables.json").read_text(encoding="utf-8"))
    lexicon["variables"] = [v for v in lexicon["variables"] if v["name"] != "hemoglobin"]
    custom = tmp_path / "no_hemoglobin.json"
    custom.write_text(json.dumps(lexicon), encoding="utf-8")
    pattern = r"[\n\r]+[ \t]*$|^[ \t]+$"
    nlp = build_pipeline(linker_model=None)
    nlp.replace_pipe("criteria_variables", "criteria_variables", config={"lexicon_path": str(custom)})
    nlp.replace_pipe("criteria_sections", "criteria_sections", config={"newline_pattern": pattern})
    nlp.to_disk(tmp_path / "saved")
    custom.unlink()
    loaded = spacy.load(tmp_path / "saved")
    assert loaded.get_pipe("criteria_sections").newline_pattern == pattern
    text = "Exclusion Criteria:\n1. Hemoglobin < 9 g/dL\n2. Platelets < 50 x 10^9/L"
    names = [m._.variable_entry.name for m in loaded(text)._.variable_mentions]
    assert names == ["platelet_count"]  # hemoglobin is not in the saved lexicon
    assert _json_lines(loaded, [text]) == _json_lines(nlp, [text])


def test_rules_only_pipeline_stays_rules_only_after_load(tmp_path):
    nlp = build_pipeline(linker_model=None)
    nlp.to_disk(tmp_path / "saved")
    assert not (tmp_path / "saved" / "criteria_linker" / "linker.skops").exists()
    loaded = spacy.load(tmp_path / "saved")
    result = json.loads(_json_lines(loaded, ["Inclusion Criteria:\n1. Hemoglobin ≥ 9 g/dL"])[0])
    assert [r["confidence"] for c in result["criteria"] for r in c["rules"]] == [None]


def _has_wheel_builder() -> bool:
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_wheel_builder(), reason="the 'wheel' package is needed by spacy package --build wheel")
def test_spacy_package_gives_a_wheel_that_loads_elsewhere(pipelines, tmp_path):
    """``python -m spacy package`` → wheel → installed (no deps) into a directory → loaded by name in
    a fresh process, which prints the same JSON for the reference record."""
    nlp, _, saved = pipelines
    meta = json.loads((saved / "meta.json").read_text(encoding="utf-8"))
    meta.update(name="criteria_test", version="0.0.1")
    (saved / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    out = tmp_path / "packages"
    out.mkdir()
    build = subprocess.run([sys.executable, "-m", "spacy", "package", str(saved), str(out), "--build", "wheel"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (wheel_file,) = out.glob("*/dist/*.whl")
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                              "--target", str(target), str(wheel_file)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    requires = next(target.glob("en_criteria_test-*.dist-info")).joinpath("METADATA").read_text()
    assert "Requires-Dist: criteria-nlp" in requires  # the factories' package is a requirement
    script = ("import json, sys, spacy\n"
              "from criteria_nlp.pipeline import doc_to_result, mask_markup\n"
              "nlp = spacy.load('en_criteria_test')\n"
              "text = open(sys.argv[1], encoding='utf-8').read()\n"
              "print(nlp.meta['name'], nlp.path)\n"
              "print(json.dumps(doc_to_result(nlp(mask_markup(text)), text).to_dict(), ensure_ascii=False))\n")
    # the package before the caller's path: criteria-nlp (the factories) from the checkout under test
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, "-c", script, str(REFERENCE)], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    where, result = run.stdout.splitlines()
    assert where.startswith("criteria_test ") and str(target) in where
    assert result == _json_lines(nlp, [REFERENCE.read_text(encoding="utf-8")])[0]
    shutil.rmtree(out)
