"""Streaming readers of every input format; each yields :class:`InputRecord` objects.

Formats (``--format``):

``text``
    one plain UTF-8 file = one document (read as bytes and decoded: no newline translation);
    ``-`` is standard input.
``ctgov-json``
    a ClinicalTrials.gov API v2 study, a page ``{"studies": [...], ...}`` or a bare list of
    studies. Read incrementally (one study decoded at a time), never the whole page at once.
``ctgov-jsonl``
    one API v2 study per line.
``aact``
    AACT's pipe-delimited ``eligibilities.txt`` (header line, ``"``-quoted multi-line fields).

A PostgreSQL AACT database (table ``ctgov.eligibilities``) is read by :func:`iter_postgres`
with a server-side (named) cursor.

No reader raises on a bad record: it yields an ``InputRecord`` with ``error`` set and goes on
(or stops that file when the rest of it cannot be read).
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .records import InputRecord

FORMATS = ("text", "ctgov-json", "ctgov-jsonl", "aact")
STRUCTURED_FIELDS = ("minimumAge", "maximumAge", "sex", "healthyVolunteers")
# Files picked up when a directory is given as PATH.
DIRECTORY_SUFFIXES = (".txt", ".json", ".jsonl", ".ndjson")

SNIFF_BYTES = 64 * 1024  # bytes read to guess a format from content

_NCT_RE = re.compile(rb'"nctId"\s*:\s*"([^"\\]{1,64})"')


class InputError(Exception):
    """An input source that cannot be used at all (message is one line for the user)."""


# --------------------------------------------------------------------------- detection


def expand_paths(paths: Iterable[str]) -> Iterator[str]:
    """Paths as given; a directory becomes its ``.txt``/``.json``/``.jsonl`` files (sorted)."""
    for p in paths:
        if p != "-" and os.path.isdir(p):
            try:
                names = sorted(os.listdir(p))
            except OSError:
                yield p  # the reader reports it
                continue
            for name in names:
                full = os.path.join(p, name)
                if name.lower().endswith(DIRECTORY_SUFFIXES) and os.path.isfile(full):
                    yield full
        else:
            yield p


def detect_format(path: str) -> str:
    """The format of ``path`` from its extension, else from its first bytes (``text`` if unsure).

    Standard input (``-``) is sniffed like a file without extension: its first bytes are read
    and kept, and every reader of ``-`` gets them back first (:func:`stdin_stream`).
    """
    if path == "-":
        return sniff_format(stdin_stream().peek_head(SNIFF_BYTES))
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson", ".jsonl.txt")):
        return "ctgov-jsonl"
    if lower.endswith(".json"):
        return "ctgov-json"
    head = b""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return "text"  # the text reader reports why it cannot be read
    return sniff_format(head, name=os.path.basename(lower))


def sniff_format(head: bytes, name: str = "") -> str:
    """Guess a format from the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    stripped = head.lstrip()
    first_line = head.split(b"\n", 1)[0].strip().lower()
    if b"|" in first_line:
        cols = [c.strip().strip(b'"') for c in first_line.split(b"|")]
        if b"nct_id" in cols and b"criteria" in cols:
            return "aact"
    if stripped.startswith(b"["):
        return "ctgov-json"
    if stripped.startswith(b"{"):
        lines = [ln.strip() for ln in stripped.split(b"\n") if ln.strip()]
        # Several lines that each are a whole object -> JSON Lines.
        if len(lines) >= 2 and all(ln.startswith(b"{") for ln in lines[:2]) and lines[0].endswith(b"}"):
            return "ctgov-jsonl"
        if len(lines) == 1 and lines[0].endswith(b"}") and b"protocolSection" in lines[0] and len(head) < SNIFF_BYTES:
            return "ctgov-json"
        if b'"protocolSection"' in head or b'"studies"' in head:
            # a pretty-printed object (JSON) or one long line (JSONL) -- decide on the first line
            return "ctgov-jsonl" if lines and lines[0].endswith(b"}") and len(lines) > 1 else "ctgov-json"
    return "text"


# --------------------------------------------------------------------------- helpers


class _ReplayedStdin(io.RawIOBase):
    """Standard input whose first bytes can be looked at and are then read again."""

    def __init__(self, source: IO[bytes]):
        self.source = source
        self.head = b""
        self.pos = 0  # bytes of ``head`` already handed out
        self.eof = False

    def readable(self) -> bool:
        return True

    def peek_head(self, size: int) -> bytes:
        """Up to ``size`` bytes from the start of the stream (before any read), kept for replay."""
        while len(self.head) < size and not self.eof and self.pos == 0:
            chunk = self.source.read1(size - len(self.head)) if hasattr(self.source, "read1") \
                else self.source.read(size - len(self.head))
            if not chunk:
                self.eof = True
            self.head += chunk
        return self.head[:size]

    def readinto(self, buffer) -> int:
        if self.pos < len(self.head):
            n = min(len(buffer), len(self.head) - self.pos)
            buffer[:n] = self.head[self.pos:self.pos + n]
            self.pos += n
            return n
        if self.eof:
            return 0
        chunk = self.source.read1(len(buffer)) if hasattr(self.source, "read1") else self.source.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


_stdin_streams: dict[int, _ReplayedStdin] = {}


def stdin_stream() -> _ReplayedStdin:
    """The one replaying wrapper of the current ``sys.stdin`` (so a sniffed head is not lost)."""
    source = sys.stdin.buffer
    stream = _stdin_streams.get(id(source))
    if stream is None or stream.source is not source:
        _stdin_streams.clear()
        stream = _stdin_streams[id(source)] = _ReplayedStdin(source)
    return stream


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return io.BufferedReader(stdin_stream())
    return open(path, "rb")


def _display_path(path: str) -> str | None:
    return None if path == "-" else path


def _os_error(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}"


def _utf8_error(exc: UnicodeDecodeError, base: int = 0) -> str:
    bad = exc.object[exc.start:exc.start + 1] if isinstance(exc.object, (bytes, bytearray)) else b""
    byte = f"byte 0x{bad[0]:02x} " if bad else ""
    return f"not valid UTF-8 ({byte}at byte offset {base + exc.start})"


def study_to_record(study: Any, path: str | None, line: int | None = None) -> InputRecord:
    """One ClinicalTrials.gov API v2 study object -> InputRecord (error record if malformed)."""
    if not isinstance(study, dict):
        return InputRecord(None, None, path, error=f"study is a JSON {_json_type(study)}, not an object", line=line)
    ps = study.get("protocolSection")
    nct = None
    if isinstance(ps, dict):
        ident = ps.get("identificationModule")
        if isinstance(ident, dict) and isinstance(ident.get("nctId"), str):
            nct = ident["nctId"]
    rec_line = None if nct else line
    if not isinstance(ps, dict):
        return InputRecord(nct, None, path, error="missing field protocolSection", line=rec_line)
    em = ps.get("eligibilityModule")
    if not isinstance(em, dict):
        return InputRecord(nct, None, path, error="missing field protocolSection.eligibilityModule", line=rec_line)
    structured = {k: em[k] for k in STRUCTURED_FIELDS if k in em}
    if "eligibilityCriteria" not in em or em["eligibilityCriteria"] is None:
        return InputRecord(nct, None, path, structured,
                           error="missing field protocolSection.eligibilityModule.eligibilityCriteria", line=rec_line)
    crit = em["eligibilityCriteria"]
    if not isinstance(crit, str):
        return InputRecord(nct, None, path, structured,
                           error=f"eligibilityCriteria is a JSON {_json_type(crit)}, not a string", line=rec_line)
    return InputRecord(nct, crit, path, structured, line=rec_line)


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


# --------------------------------------------------------------------------- text


def iter_text(path: str) -> Iterator[InputRecord]:
    """One plain-text document (``-`` = stdin): decoded as strict UTF-8, newlines untouched."""
    doc_id = None if path == "-" else Path(path).stem
    shown = _display_path(path)
    try:
        with _open_binary(path) as fh:
            data = fh.read()
    except OSError as exc:
        yield InputRecord(doc_id, None, shown, error=_os_error(exc))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield InputRecord(doc_id, None, shown, error=_utf8_error(exc))
        return
    yield InputRecord(doc_id, text, shown)


# --------------------------------------------------------------------------- JSON Lines


def iter_ctgov_jsonl(path: str) -> Iterator[InputRecord]:
    """One study per line; a broken line is an error record and the file goes on."""
    shown = _display_path(path)
    try:
        fh = _open_binary(path)
    except OSError as exc:
        yield InputRecord(Path(path).stem, None, shown, error=_os_error(exc))
        return
    try:
        lineno = 0
        while True:
            try:
                raw = fh.readline()
            except OSError as exc:
                yield InputRecord(None, None, shown, error=_os_error(exc), line=lineno + 1)
                return
            if not raw:
                return
            lineno += 1
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            if not raw.strip():
                continue
            m = _NCT_RE.search(raw)
            guess_id = m.group(1).decode("utf-8", "replace") if m else None
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield InputRecord(guess_id, None, shown, error=_utf8_error(exc), line=None if guess_id else lineno)
                continue
            try:
                study = json.loads(line)
            except (ValueError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__
                col = f" (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
                yield InputRecord(guess_id, None, shown, error=f"invalid JSON on line {lineno}: {msg}{col}",
                                  line=None if guess_id else lineno)
                continue
            yield study_to_record(study, shown, lineno)
    finally:
        if path != "-":
            fh.close()


# --------------------------------------------------------------------------- JSON (incremental)


class _JSONStream:
    """Incremental reader of one JSON document from a text stream.

    Values are decoded one at a time with ``JSONDecoder.raw_decode`` on a buffer that grows
    only as much as the largest single value needs (doubling on a partial value, so the cost
    stays linear).
    """

    def __init__(self, fh: IO[str], chunk: int = 1 << 20):
        self.fh = fh
        self.chunk = chunk
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters consumed before buf[0]
        self.eof = False
        self.decoder = json.JSONDecoder()

    def fill(self, grow: bool = False) -> bool:
        if self.eof:
            return False
        size = self.chunk
        if grow:
            size = max(size, len(self.buf) - self.pos)
        data = self.fh.read(size)
        if not data:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def peek(self) -> str | None:
        """Skip whitespace; the next character (not consumed), or None at the end."""
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self.fill():
                return None

    def expect(self, chars: str) -> str:
        c = self.peek()
        if c is None or c not in chars:
            what = "end of file" if c is None else repr(c)
            raise ValueError(f"invalid JSON at character {self.base + self.pos}: expected {' or '.join(map(repr, chars))}, found {what}")
        self.pos += 1
        return c

    def value(self) -> Any:
        if self.peek() is None:
            raise ValueError(f"invalid JSON at character {self.base + self.pos}: unexpected end of file")
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.fill(grow=True):
                    continue
                raise ValueError(f"invalid JSON at character {self.base + exc.pos}: {exc.msg}") from None
            except RecursionError:
                raise ValueError(f"JSON nested too deeply at character {self.base + self.pos}") from None
            if end == len(self.buf) and self.fill(grow=True):
                continue  # a number or literal may go on in the next chunk
            self.pos = end
            return obj

    def array_items(self) -> Iterator[Any]:
        """After the opening ``[``: yield each element."""
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.expect(",]") == "]":
                return


def iter_studies_json(fh: IO[str], chunk: int = 1 << 20) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, study)`` from a study, a ``{"studies": [...]}`` page or a list of studies.

    Raises ValueError (with the character position) on malformed JSON; studies before the
    error have been yielded.
    """
    js = _JSONStream(fh, chunk)
    c = js.peek()
    if c == "\ufeff":
        js.pos += 1
        c = js.peek()
    if c is None:
        raise ValueError("empty file, expected a JSON study or page")
    if c == "[":
        js.pos += 1
        yield from enumerate(js.array_items(), 1)
    elif c == "{":
        js.pos += 1
        top: dict[str, Any] = {}
        saw_studies = False
        if js.peek() == "}":
            js.pos += 1
        else:
            while True:
                if js.peek() != '"':
                    js.expect('"')
                key = js.value()
                js.expect(":")
                if key == "studies" and js.peek() == "[":
                    js.pos += 1
                    saw_studies = True
                    yield from enumerate(js.array_items(), 1)
                else:
                    val = js.value()
                    if not saw_studies:
                        top[key] = val
                if js.expect(",}") == "}":
                    break
        if not saw_studies:
            if "studies" in top:
                raise ValueError(f'"studies" is a JSON {_json_type(top["studies"])}, not an array')
            yield 1, top
    else:
        js.value()  # raises a precise error, or decodes a scalar
        raise ValueError("top-level JSON value is not a study object, a page or a list")
    if js.peek() is not None:
        raise ValueError(f"invalid JSON at character {js.base + js.pos}: extra data after the document")


def iter_ctgov_json(path: str, chunk: int = 1 << 20) -> Iterator[InputRecord]:
    shown = _display_path(path)
    try:
        if path == "-":
            fh = io.TextIOWrapper(_open_binary(path), encoding="utf-8", newline="")
        else:
            fh = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        yield InputRecord(Path(path).stem, None, shown, error=_os_error(exc))
        return
    n = 0
    try:
        for n, study in iter_studies_json(fh, chunk):
            yield study_to_record(study, shown, n)
    except UnicodeDecodeError as exc:
        yield InputRecord(None, None, shown, error=f"not valid UTF-8 after study {n}: {exc.reason}", line=n + 1)
    except ValueError as exc:
        yield InputRecord(None, None, shown, error=str(exc), line=n + 1)
    except OSError as exc:
        yield InputRecord(None, None, shown, error=_os_error(exc), line=n + 1)
    finally:
        if path != "-":
            fh.close()


# --------------------------------------------------------------------------- AACT flat file


_TRUE = {"t", "true", "yes", "y", "1", "accepts healthy volunteers"}
_FALSE = {"f", "false", "no", "n", "0"}


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def aact_structured(row: dict[str, Any]) -> dict[str, Any]:
    """AACT ``eligibilities`` columns -> the API v2 structured fields."""
    out: dict[str, Any] = {}
    for col, key in (("minimum_age", "minimumAge"), ("maximum_age", "maximumAge")):
        v = row.get(col)
        if v not in (None, ""):
            out[key] = str(v).strip()
    g = row.get("gender")
    if g not in (None, ""):
        out["sex"] = str(g).strip().upper()
    hv = parse_bool(row.get("healthy_volunteers"))
    if hv is not None:
        out["healthyVolunteers"] = hv
    return out


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def iter_aact(path: str) -> Iterator[InputRecord]:
    """Rows of AACT's pipe-delimited ``eligibilities.txt`` (streamed with the csv module)."""
    shown = _display_path(path)
    try:
        if path == "-":
            fh = io.TextIOWrapper(_open_binary(path), encoding="utf-8", errors="surrogateescape", newline="")
        else:
            fh = open(path, encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as exc:
        yield InputRecord(Path(path).stem, None, shown, error=_os_error(exc))
        return
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with fh:
        reader = csv.reader(fh, delimiter="|", quotechar='"')
        try:
            header = next(reader)
        except StopIteration:
            yield InputRecord(Path(path).stem, None, shown, error="empty AACT file (no header line)")
            return
        except (csv.Error, OSError) as exc:
            yield InputRecord(Path(path).stem, None, shown, error=f"cannot read AACT header: {exc}")
            return
        cols = [c.strip().lstrip("\ufeff").lower() for c in header]
        missing = [c for c in ("nct_id", "criteria") if c not in cols]
        if missing:
            yield InputRecord(Path(path).stem, None, shown,
                              error=f"not an AACT eligibilities file: missing column(s) {', '.join(missing)}")
            return
        errors_in_a_row = 0
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, OSError) as exc:
                errors_in_a_row += 1
                yield InputRecord(None, None, shown, error=f"unreadable AACT row: {exc}", line=start)
                if errors_in_a_row >= 20:
                    return
                continue
            errors_in_a_row = 0
            if not row or row == [""]:
                continue
            if len(row) != len(cols):
                nct = row[cols.index("nct_id")].strip() if len(row) > cols.index("nct_id") else ""
                nct = nct if re.fullmatch(r"NCT\d{8}", nct) else None
                yield InputRecord(nct, None, shown, error=f"AACT row has {len(row)} fields, header has {len(cols)}",
                                  line=None if nct else start)
                continue
            rec = dict(zip(cols, row))
            yield aact_row_to_record(rec, shown, start)


def aact_row_to_record(row: dict[str, Any], path: str | None, line: int | None) -> InputRecord:
    nct = row.get("nct_id")
    nct = str(nct).strip() if nct not in (None, "") else None
    rec_line = None if nct else line
    try:
        structured = aact_structured(row)
    except Exception:  # noqa: BLE001 - defensive: odd column types from a database
        structured = {}
    crit = row.get("criteria")
    if isinstance(crit, str) and _has_surrogates(crit) or any(
        isinstance(v, str) and _has_surrogates(v) for v in (nct or "", *(row.get(c) or "" for c in ("minimum_age", "maximum_age")))
    ):
        return InputRecord(nct, None, path, error="not valid UTF-8 in this row", line=rec_line)
    if crit is None:
        return InputRecord(nct, None, path, structured, error="criteria is NULL", line=rec_line)
    if not isinstance(crit, str):
        return InputRecord(nct, None, path, structured, error=f"criteria is a {type(crit).__name__}, not text",
                           line=rec_line)
    return InputRecord(nct, crit, path, structured, line=rec_line)


# --------------------------------------------------------------------------- PostgreSQL


DEFAULT_TABLE = "ctgov.eligibilities"


def _table_identifier(table: str):
    from psycopg import sql

    parts = table.split(".")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise InputError(f"bad table name {table!r} (expected schema.table)")
    return sql.Identifier(*parts)


POSTGRES_EXTRA_HINT = "pip install 'criteria-nlp[postgres]'"


def require_psycopg():
    """The psycopg module, or InputError naming the extra that installs it."""
    try:
        import psycopg
    except ImportError:
        raise InputError(f"--dsn needs the PostgreSQL driver psycopg, which is not installed: "
                         f"{POSTGRES_EXTRA_HINT}") from None
    return psycopg


def connect(dsn: str, **kwargs):
    """psycopg connection, or InputError with a one-line reason."""
    psycopg = require_psycopg()
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.Error as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot connect to PostgreSQL: {msg}") from None


def count_postgres(dsn: str, table: str = DEFAULT_TABLE) -> int | None:
    from psycopg import sql

    try:
        with connect(dsn) as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_table_identifier(table))).fetchone()[0]
    except Exception:  # noqa: BLE001 - a count is only for the progress bar
        return None


def iter_postgres(dsn: str, table: str = DEFAULT_TABLE, itersize: int = 2000,
                  limit: int | None = None) -> Iterator[InputRecord]:
    """Rows of an AACT ``eligibilities`` table, ordered by ``nct_id``, via a server-side cursor.

    The connection stays in one read transaction while the (named) cursor fetches ``itersize``
    rows per round trip, so memory stays flat whatever the table size.
    """
    import psycopg
    from psycopg import sql

    conn = connect(dsn)
    try:
        query = sql.SQL("SELECT * FROM {} ORDER BY nct_id").format(_table_identifier(table))
        if limit is not None:
            query = query + sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
        try:
            cur = conn.cursor(name="criteria_nlp_eligibilities")
            cur.itersize = itersize
            cur.execute(query)
            cols = [d.name.lower() for d in cur.description or []]
        except psycopg.Error as exc:
            msg = " ".join(str(exc).split())
            raise InputError(f"cannot read {table}: {msg}") from None
        missing = [c for c in ("nct_id", "criteria") if c not in cols]
        if missing:
            raise InputError(f"{table} has no column(s) {', '.join(missing)}")
        n = 0
        try:
            for row in cur:
                n += 1
                yield aact_row_to_record(dict(zip(cols, row)), None, n)
        except psycopg.Error as exc:
            msg = " ".join(str(exc).split())
            raise InputError(f"reading {table} failed after {n} rows: {msg}") from None
        finally:
            try:
                cur.close()
            except psycopg.Error:
                pass
    finally:
        conn.close()


# --------------------------------------------------------------------------- dispatch


READERS = {
    "text": iter_text,
    "ctgov-json": iter_ctgov_json,
    "ctgov-jsonl": iter_ctgov_jsonl,
    "aact": iter_aact,
}


def iter_path(path: str, fmt: str | None = None) -> Iterator[InputRecord]:
    fmt = fmt or detect_format(path)
    if fmt not in READERS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    yield from READERS[fmt](path)


def iter_inputs(paths: Iterable[str], fmt: str | None = None) -> Iterator[InputRecord]:
    """All records of all ``paths`` (directories expanded), in order, streamed."""
    for path in expand_paths(paths):
        yield from iter_path(path, fmt)
