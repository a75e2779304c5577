"""The factories' one home, ``criteria_nlp.factories``: what the entry points name, and what
importing it costs (the installed case is in ``tests/test_wheel_install.py``)."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from spacy.language import Language
from spacy.util import registry

from criteria_nlp import factories

ROOT = Path(__file__).resolve().parent.parent


def _entry_points() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["entry-points"]["spacy_factories"]


def test_every_entry_point_names_the_registered_factory_of_the_light_module():
    entry_points = _entry_points()
    assert len(entry_points) == 9
    for name, target in entry_points.items():
        module, function = target.split(":")
        assert module == "criteria_nlp.factories"
        assert registry.factories.get(name) is getattr(factories, function)
        assert Language.get_factory_meta(name).factory == name


def test_every_factory_of_the_module_has_an_entry_point():
    declared = {name for name in registry.factories.get_all()
                if name.startswith("criteria_") and registry.factories.get(name).__module__ == factories.__name__}
    assert declared == set(_entry_points())


_IMPORT = """
import json, sys
import criteria_nlp.factories
from spacy.language import Language
print(json.dumps({"components": sorted(m for m in sys.modules if m.startswith("criteria_nlp.components")),
                  "registered": sorted(n for n in %r if Language.has_factory(n))}))
"""


def test_importing_the_registrations_imports_no_component_module():
    names = sorted(_entry_points())
    run = subprocess.run([sys.executable, "-c", _IMPORT % (names,)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert found == {"components": [], "registered": names}
