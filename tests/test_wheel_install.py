"""A wheel install (not ``pip install -e``) ships and uses the learned model.

Builds the criteria-nlp wheel from a copy of the sources, installs it without dependencies into a
directory (the dependencies are those of this environment) and runs it in a fresh process from
another directory: the package must come from the wheel, and every rule of the reference record
must have a ``confidence``. The wheel's ``spacy_factories`` entry points are those a spaCy user
gets: every ``spacy.blank`` imports only ``criteria_nlp.factories``, and a component's module is
imported when the component is first built.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"


def _can_build_without_isolation() -> bool:
    try:
        setuptools_major = int(metadata.version("setuptools").split(".")[0])
        metadata.version("wheel")
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return setuptools_major >= 68


pytestmark = pytest.mark.skipif(not _can_build_without_isolation(),
                                reason="needs setuptools>=68 and wheel (the test extra) to build the wheel")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The directory the wheel was installed into, and the wheel file."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "criteria_nlp", src / "criteria_nlp", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = dist.glob("criteria_nlp-*.whl")
    site = tmp / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                              "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    return site, wheel


def _run(site: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=site.parent, timeout=600)


def test_the_wheel_contains_the_model(installed):
    _, wheel = installed
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "criteria_nlp/resources/linker.skops" in names
    assert "criteria_nlp/resources/linker.weights.json" in names  # what extraction reads
    assert "criteria_nlp/resources/unit_conversions.json" in names
    assert "criteria_nlp/resources/variables.json" in names


def test_installed_wheel_gives_confidences_on_the_reference_record(installed):
    site, _ = installed
    code = ("import json, sys, criteria_nlp\n"
            "print(criteria_nlp.__file__)\n"
            "print(json.dumps(criteria_nlp.extract(open(sys.argv[1], encoding='utf-8').read())))\n")
    run = _run(site, code, str(REFERENCE))
    assert run.returncode == 0, run.stderr[-2000:]
    where, result = run.stdout.splitlines()
    assert where.startswith(str(site))  # the wheel's copy, not the sources
    rules = [r for c in json.loads(result)["criteria"] for r in c["rules"]]
    assert len(rules) >= 30
    assert all(isinstance(r["confidence"], float) for r in rules)


def test_installed_cli_model_option(installed, tmp_path):
    """``--model none`` runs rules only; a missing model file is a one-line usage error, exit 2."""
    site, _ = installed
    code = "import sys\nfrom criteria_nlp.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    rules_only = _run(site, code, "extract", "--model", "none", str(REFERENCE))
    assert rules_only.returncode == 0, rules_only.stderr[-2000:]
    rules = [r for c in json.loads(rules_only.stdout)["criteria"] for r in c["rules"]]
    assert rules and all(r["confidence"] is None for r in rules)
    missing = _run(site, code, "extract", "--model", str(tmp_path / "nope.skops"), str(REFERENCE))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "linker model not found" in missing.stderr
    assert missing.stdout == ""


_SPACY_START = """
import json, sys
import spacy
from spacy.tokens.underscore import Underscore
nlp = spacy.blank("en")
print(json.dumps({"modules": sorted(m for m in sys.modules if m.startswith("criteria_nlp")),
                  "extensions": sorted(k for kind in ("doc", "span", "token")
                                       for k in getattr(Underscore, kind + "_extensions"))}))
"""


def test_a_spacy_start_imports_only_the_registration_module(installed):
    """Where criteria-nlp is installed, spaCy loads its entry points at every ``Language()``:
    that costs the light module alone, no component module, no extension."""
    site, _ = installed
    run = _run(site, _SPACY_START)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert found["modules"] == ["criteria_nlp", "criteria_nlp.factories", "criteria_nlp.serialization"]
    assert not {"criteria", "quantities", "rules", "quantity", "rule"} & set(found["extensions"])


_ADD_PIPE = """
import json, sys
import spacy
nlp = spacy.blank("en")
nlp.add_pipe("criteria_quantities")
doc = nlp("Hemoglobin >= 9 g/dL and platelets < 100 x 10^9/L")
print(json.dumps({"quantities": [(s.text, s._.quantity.comparator, s._.quantity.value, s._.quantity.unit)
                                 for s in doc._.quantities],
                  "linker_imported": "criteria_nlp.components.linker" in sys.modules,
                  "config": dict(nlp.get_pipe_config("criteria_quantities")),
                  "assigns": nlp.get_pipe_meta("criteria_quantities").assigns}))
"""


def test_add_pipe_by_name_in_a_fresh_process_builds_the_component(installed):
    site, _ = installed
    run = _run(site, _ADD_PIPE)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert [q[1:] for q in found["quantities"]] == [[">=", 9, "g/dL"], ["<", 100, "10*9/L"]]
    assert found["linker_imported"] is False  # only the module of the component built
    assert found["config"] == {"factory": "criteria_quantities"}
    assert found["assigns"] == ["doc._.quantities", "span._.quantity"]


_CONFIGS = """
import json
import spacy
nlp = spacy.blank("en")
names = ["criteria_sections", "criteria_structure", "criteria_quantities", "criteria_variables", "criteria_linker",
         "criteria_conditions", "criteria_context", "criteria_normalizer", "criteria_spans"]
for name in names:
    nlp.add_pipe(name)
configs = {name: dict(nlp.get_pipe_config(name)) for name in names}
try:
    spacy.blank("en").add_pipe("criteria_linker", config={"threshold": "high"})
    refused = None
except Exception as error:
    refused = type(error).__name__
print(json.dumps({"configs": configs, "refused": refused}))
"""


def test_installed_factories_keep_their_defaults_and_typed_configs(installed):
    site, _ = installed
    run = _run(site, _CONFIGS)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    defaults = {name: {k: v for k, v in config.items() if k != "factory"} for name, config in found["configs"].items()}
    assert defaults == {
        "criteria_sections": {"rules": None, "newline_pattern": None},
        "criteria_structure": {"split_sentences": True},
        "criteria_quantities": {},
        "criteria_variables": {"lexicon_path": None},
        "criteria_linker": {"model": None, "threshold": 0.5},
        "criteria_conditions": {"inherit": True},
        "criteria_context": {"rules": None},
        "criteria_normalizer": {},
        "criteria_spans": {},
    }
    assert found["refused"] == "ConfigValidationError"  # threshold: float
