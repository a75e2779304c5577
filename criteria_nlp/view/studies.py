"""What the reviewer view shows: one :class:`Study` per result, with the text its offsets index.

A PATH is either a result file written by ``criteria-nlp extract`` (a JSON document, or JSON
Lines, whose objects start with ``"schema_version"``) or an input of ``extract`` (text,
ClinicalTrials.gov JSON/JSONL, AACT), which is extracted here. For a result file the text is
looked up at its ``source.path`` (as given, or beside the result file) and used only when every
offset of the result matches it; otherwise the text is rebuilt from the criteria spans, which
shows the criteria (not the headings or blank lines between them) at their own offsets.
"""
from __future__ import annotations

import json
import os
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ..io.readers import SNIFF_BYTES, iter_path, stdin_stream
from ..io.records import InputRecord, error_record
from ..io.validate import offset_problems

# Where the text of a study came from (shown on its page).
TEXT_FROM_INPUT = "input"
TEXT_FROM_SOURCE = "source file"
TEXT_REBUILT = "rebuilt from the criteria"

MAX_RESULT_FILE_BYTES = 256 * 1024 * 1024  # a result document, or one JSON line, read into memory
_RESULT_HEAD = re.compile(rb'^\s*\[?\s*\{\s*"schema_version"\s*:')


@dataclass
class Study:
    """One result (or error record) and the text it indexes (None when there is none)."""

    result: dict[str, Any]
    text: str | None
    text_origin: str | None
    where: str  # the input or result file it came from, for messages
    problems: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        source = self.result.get("source")
        sid = source.get("id") if isinstance(source, dict) else None
        return str(sid) if sid not in (None, "") else self.where

    @property
    def error(self) -> str | None:
        err = self.result.get("error")
        return str(err) if err is not None else None


def is_result_file(path: str) -> bool:
    """Whether ``path`` holds extraction results (not inputs): its first object starts with schema_version."""
    try:
        if path == "-":
            head = stdin_stream().peek_head(SNIFF_BYTES)
        else:
            with open(path, "rb") as fh:
                head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return bool(_RESULT_HEAD.match(head.removeprefix(b"\xef\xbb\xbf")))


def _lines(fh, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)`` of a binary file; a line over ``limit`` bytes is ``None`` (skipped)."""
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = fh.readline(1 << 20)
            yield lineno, None
        else:
            yield lineno, line


def iter_result_objects(path: str) -> Iterator[tuple[Any, str | None]]:
    """``(object, None)`` per result of a results file, ``(None, message)`` for what cannot be read.

    JSON Lines are read line by line (a line over ``MAX_RESULT_FILE_BYTES`` is an error); any other
    file is one JSON document (a result or a list of results) of at most that size.
    """
    try:
        fh = open(path, "rb") if path != "-" else _stdin_binary()
    except OSError as exc:
        yield None, f"cannot read: {exc.strerror or exc}"
        return
    too_big = f"over {MAX_RESULT_FILE_BYTES:,} bytes"
    with fh:
        lines = _lines(fh, MAX_RESULT_FILE_BYTES)
        _, first = next(lines, (1, b""))
        try:
            obj = json.loads(first) if first else None
        except ValueError:
            obj = None
        if isinstance(obj, dict):  # JSON Lines
            yield obj, None
            for lineno, line in lines:
                if line is None:
                    yield None, f"line {lineno}: {too_big}"
                elif line.strip():
                    try:
                        yield json.loads(line), None
                    except ValueError as exc:
                        yield None, f"line {lineno}: invalid JSON: {exc}"
            return
        if first is None:
            yield None, f"a JSON result document {too_big} (use JSON Lines)"
            return
        rest = fh.read(MAX_RESULT_FILE_BYTES + 1 - len(first))
        if len(first) + len(rest) > MAX_RESULT_FILE_BYTES:
            yield None, f"a JSON result document {too_big} (use JSON Lines)"
            return
        try:
            doc = json.loads(first + rest)
        except ValueError as exc:
            yield None, f"invalid JSON: {exc}"
            return
        for item in doc if isinstance(doc, list) else [doc]:
            yield item, None


def _stdin_binary():
    import io

    return io.BufferedReader(stdin_stream())


def rebuild_text(result: dict[str, Any]) -> str:
    """A text of the result's length with every criterion's text at its offsets, blanks between.

    A gap between criteria becomes blanks ending in a line break, so each criterion starts a line.
    """
    criteria = [c for c in result.get("criteria") or [] if isinstance(c, dict)]
    placed = [(c["start"], c["text"]) for c in criteria
              if type(c.get("start")) is int and c["start"] >= 0 and isinstance(c.get("text"), str)]
    length = max((start + len(text) for start, text in placed), default=0)
    chars = [" "] * length
    for start, text in placed:
        chars[start:start + len(text)] = text
        if start > 0 and chars[start - 1] == " ":
            chars[start - 1] = "\n"
    return "".join(chars)


class SourceTexts:
    """Texts of the records named by results' ``source``, each source file read once."""

    def __init__(self) -> None:
        self.files: dict[str, dict[Any, str]] = {}

    def text_for(self, result: dict[str, Any], result_path: str) -> str | None:
        source = result.get("source")
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            return None
        for candidate in _candidates(source["path"], result_path):
            texts = self._texts_of(candidate)
            if texts:
                key = source.get("id") if len(texts) > 1 else next(iter(texts))
                return texts.get(key)
        return None

    def _texts_of(self, path: str) -> dict[Any, str]:
        if path not in self.files:
            texts: dict[Any, str] = {}
            try:
                for rec in iter_path(path):
                    if rec.text is not None:
                        texts[rec.id] = rec.text
            except Exception:  # noqa: BLE001 - an unreadable source only means no source text
                texts = {}
            self.files[path] = texts
        return self.files[path]


def _candidates(source_path: str, result_path: str) -> list[str]:
    out = [source_path]
    if result_path != "-" and not os.path.isabs(source_path):
        out.append(os.path.join(os.path.dirname(os.path.abspath(result_path)), source_path))
    return [p for p in out if os.path.isfile(p)]


def studies_from_results(path: str, sources: SourceTexts) -> Iterator[Study]:
    """The results of one results file, each with its source text (or the rebuilt one)."""
    for n, (obj, problem) in enumerate(iter_result_objects(path), 1):
        where = f"{path}:{n}" if path != "-" else f"<stdin>:{n}"
        if problem is not None or not isinstance(obj, dict):
            msg = problem or "a result is not a JSON object"
            rec = InputRecord(None, None, None if path == "-" else path, error=msg, line=n)
            yield Study(error_record(rec), None, None, where, [msg])
            continue
        if obj.get("error") is not None:
            yield Study(obj, None, None, where)
            continue
        text = sources.text_for(obj, path)
        if text is not None and not offset_problems(obj, text):
            yield Study(obj, text, TEXT_FROM_SOURCE, where)
        else:
            yield Study(obj, rebuild_text(obj), TEXT_REBUILT, where)


def studies_from_inputs(paths: list[str], fmt: str | None = None, workers: int = 1,
                        batch_size: int = 64, timeout: float | None = 120.0) -> Iterator[Study]:
    """Extract the records of input files (streamed, in order), each with its own text."""
    from ..batch import process_records

    texts: deque[str | None] = deque()

    def records() -> Iterator[InputRecord]:
        for path in paths:
            for rec in iter_path(path, fmt):
                texts.append(rec.text)
                yield rec

    for outcome in process_records(records(), workers=workers, batch_size=batch_size, timeout=timeout):
        text = texts.popleft()  # outcomes come in input order
        yield Study(outcome.result, text if outcome.ok else None, TEXT_FROM_INPUT if outcome.ok else None,
                    outcome.record.where(), [outcome.error] if outcome.error else [])


def iter_studies(paths: Iterable[str], fmt: str | None = None, **extract_options: Any) -> Iterator[Study]:
    """Every study of ``paths`` in order: result files are read, inputs extracted (consecutive
    inputs go through the pipeline together)."""
    sources = SourceTexts()
    pending: list[str] = []
    for path in paths:
        if fmt is None and is_result_file(path):
            if pending:
                yield from studies_from_inputs(pending, fmt, **extract_options)
                pending = []
            yield from studies_from_results(path, sources)
        else:
            pending.append(path)
    if pending:
        yield from studies_from_inputs(pending, fmt, **extract_options)


