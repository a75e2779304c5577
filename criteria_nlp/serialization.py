"""Saving and loading the data files of components (``nlp.to_disk`` / ``spacy.load``).

A component built from a data file (section rules, lexicon, ConText rules, learned model) keeps
the path of that file; ``to_disk`` copies it byte for byte into the component's directory under a
fixed name and ``from_disk`` rebuilds the component from the copy. A config value of ``null``
means the packaged resource in ``criteria_nlp/resources``, so a saved ``config.cfg`` holds no
absolute path.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

RESOURCES = Path(__file__).resolve().parent / "resources"
SETTINGS_FILE = "settings.json"


def packaged_resource(name: str) -> Path:
    """The path of a data file shipped in ``criteria_nlp/resources``."""
    return RESOURCES / name


def save_file(directory: str | Path, source: str | Path, name: str) -> None:
    """Copy ``source`` into ``directory`` (created when missing) as ``name``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, directory / name)


def saved_file(directory: str | Path, name: str) -> Path | None:
    """The file ``name`` saved in ``directory`` by :func:`save_file`, or None."""
    path = Path(directory) / name
    return path if path.is_file() else None


def save_settings(directory: str | Path, settings: dict[str, Any]) -> None:
    """Settings that the config cannot carry faithfully (thinc's config mangles ``$`` in strings)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=1), encoding="utf-8")


def load_settings(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / SETTINGS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


class DataFileNotFoundError(FileNotFoundError):
    """A component's data file is missing and no saved copy replaced it."""


class FileBackedComponent:
    """A component built from a data file by ``self._load(path)``.

    ``spacy.load`` builds each component from the saved config *before* ``from_disk`` hands it the
    saved copy of its file, so a custom file path in the config may no longer exist at that moment.
    Such a component waits: ``from_disk`` loads the copy, and a component still without data raises
    :class:`DataFileNotFoundError` when it is called (an existing file is loaded at once, so a
    malformed one fails at construction).
    """

    name: str
    _missing_file: str | None = None

    def _load(self, path: str) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _load_when_present(self, path: str) -> None:
        if Path(path).is_file():
            self._load(path)
            self._missing_file = None
        else:
            self._missing_file = path

    def _require_data(self) -> None:
        if self._missing_file is not None:
            raise DataFileNotFoundError(f"{self.name}: data file not found: {self._missing_file}")
