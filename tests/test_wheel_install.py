"""A wheel install (not ``pip install -e``) ships and uses the learned model.

Builds the criteria-nlp wheel from a copy of the sources, installs it without dependencies into a
directory (the dependencies are those of this environment) and runs it in a fresh process from
another directory: the package must come from the wheel, and every rule of the reference record
must have a ``confidence``.
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
