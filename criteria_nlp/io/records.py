"""The typed input record every reader yields, and the error record of the output contract."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..contract import SCHEMA_VERSION


@dataclass
class InputRecord:
    """One document to extract from.

    ``text`` is the eligibility criteria exactly as read (no newline translation);
    ``structured`` holds registry fields (``minimumAge``, ``maximumAge``, ``sex``,
    ``healthyVolunteers``, in the ClinicalTrials.gov API v2 spelling) when the source has them;
    ``error`` is set (and ``text`` is ``None``) when the record could not be read.
    ``line`` is the 1-based line (JSONL) or row (AACT) number in a multi-record file.
    """

    id: str | None
    text: str | None
    path: str | None
    structured: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    line: int | None = None

    @property
    def key(self) -> tuple:
        """What identifies the record across runs (used by ``--resume``)."""
        return record_key(self.path, self.id, self.line)

    def where(self) -> str:
        """A short human location for messages: ``path:line (id)``."""
        loc = self.path if self.path is not None else "<stdin>" if self.id is None else ""
        if self.line is not None:
            loc = f"{loc}:{self.line}" if loc else f"row {self.line}"
        if self.id and self.id not in (loc or ""):
            loc = f"{loc} ({self.id})" if loc else self.id
        return loc or "<input>"


def record_key(path: str | None, doc_id: str | None, line: int | None = None) -> tuple:
    p = os.path.normpath(path) if path else None
    if doc_id is not None:
        return (p, doc_id)
    return (p, None, line)


def source_of(record: InputRecord) -> dict[str, Any]:
    src: dict[str, Any] = {"id": record.id, "path": record.path}
    return src


def error_record(record: InputRecord, message: str | None = None) -> dict[str, Any]:
    """The contract's error record for a record that could not be read or processed."""
    src = source_of(record)
    if record.id is None and record.line is not None:
        src["line"] = record.line  # lets --resume recognise an id-less broken line
    return {"schema_version": SCHEMA_VERSION, "source": src, "error": message or record.error or "unknown error"}


def key_of_output(obj: dict[str, Any]) -> tuple | None:
    """The record key of one output object (result or error record), or None if unusable."""
    src = obj.get("source") if isinstance(obj, dict) else None
    if not isinstance(src, dict):
        return None
    line = src.get("line")
    return record_key(src.get("path"), src.get("id"), line if isinstance(line, int) else None)
