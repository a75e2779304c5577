"""Writers of results: pretty JSON, JSON Lines (append + resume), one file per record, PostgreSQL."""
from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

from .records import InputRecord, key_of_output


try:  # a dependency; the json module stays the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

# compact like orjson, so a record is the same bytes whichever serialiser wrote it
_COMPACT = (",", ":")


def dumps(obj: Any, indent: int | None = None) -> bytes:
    """UTF-8 JSON, compact (JSON Lines) or indented by ``indent`` spaces.

    orjson writes it (about 10x faster than the json module); what orjson refuses falls back to
    the json module: lone surrogates (from ``\\udXXX`` escapes in JSON input) are then kept as
    escapes, integers over 64 bits written as they are.
    """
    if _orjson is not None and indent in (None, 2):
        try:
            return _orjson.dumps(obj, option=_orjson.OPT_INDENT_2 if indent else 0)
        except TypeError:  # orjson.JSONEncodeError
            pass
    seps = _COMPACT if indent is None else None
    try:
        return json.dumps(obj, ensure_ascii=False, indent=indent, separators=seps).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True, indent=indent, separators=seps).encode("ascii")


def loads(data: bytes) -> Any:
    """The value of :func:`dumps` output (json module for what orjson refuses: surrogate escapes)."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except ValueError:  # orjson.JSONDecodeError
            pass
    return json.loads(data)


class JsonlWriter:
    """One JSON object per line, flushed after every record (a kill loses only in-flight ones)."""

    def __init__(self, target: str | None, append: bool = False):
        self.target = target
        if target is None or target == "-":
            self.fh: IO[bytes] = sys.stdout.buffer
            self.owned = False
        else:
            parent = os.path.dirname(os.path.abspath(target))
            os.makedirs(parent, exist_ok=True)
            self.fh = open(target, "ab" if append else "wb")
            self.owned = True

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        self.write_bytes(dumps(result))

    def write_outcome(self, outcome) -> None:
        """A :class:`criteria_nlp.batch.Outcome`: its JSON bytes as a worker wrote them (no re-encoding)."""
        self.write_bytes(outcome.json_bytes())

    def write_bytes(self, data: bytes) -> None:
        self.fh.write(data + b"\n")
        self.fh.flush()

    def close(self) -> None:
        if self.owned:
            self.fh.close()
        else:
            try:
                self.fh.flush()
            except (BrokenPipeError, ValueError):
                pass


class OutputError(Exception):
    """The output cannot take what the inputs give (message is one line for the user)."""


class JsonFileWriter:
    """``-o FILE.json``: the one record of one input, indented, written atomically at the end.

    A second record raises :class:`OutputError` and nothing is written.
    """

    def __init__(self, target: str):
        self.target = Path(target)
        self.result: dict[str, Any] | None = None
        self.overflow = False

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        if self.result is not None:
            self.overflow = True
            raise OutputError(f"-o {self.target}: the input holds more than one record; "
                              "use -o DIR or -o FILE.jsonl")
        self.result = result

    def close(self) -> None:
        if self.result is None or self.overflow:
            return
        self.target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.target, dumps(self.result, indent=2) + b"\n")


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it over ``target``."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)


class PrettyWriter:
    """Indented JSON documents on stdout (the one-text-file case)."""

    def __init__(self) -> None:
        self.fh = sys.stdout.buffer

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        self.fh.write(dumps(result, indent=2) + b"\n")
        self.fh.flush()

    def close(self) -> None:
        try:
            self.fh.flush()
        except (BrokenPipeError, ValueError):
            pass


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def output_name(record: InputRecord) -> str:
    """File name of a record's result in ``-o DIR``: ``<input stem>.json`` for a text file,
    ``<id>.json`` for a record of a multi-record file (``<stem>-<line>.json`` without id)."""
    stem = Path(record.path).stem if record.path else "stdin"
    if record.line is None and record.id is not None and record.path is not None and record.id == Path(record.path).stem:
        base = stem
    elif record.id:
        base = record.id
    elif record.line is not None:
        base = f"{stem}-{record.line}"
    else:
        base = stem
    base = _UNSAFE.sub("_", base).strip("._") or "result"
    return base + ".json"


class DirWriter:
    """``DIR/<name>.json`` per record, written atomically (temp file + rename).

    A name already written in this run (the same NCT id twice) becomes ``<name>-2.json``,
    ``<name>-3.json``, ...: no result overwrites another.
    """

    def __init__(self, directory: str):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seen: Counter = Counter()
        self.renamed = 0

    def path_for(self, record: InputRecord) -> Path:
        return self.dir / output_name(record)

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        assert record is not None
        target = self.path_for(record)
        self.seen[target.name] += 1
        repeat = self.seen[target.name]
        if repeat > 1:
            self.renamed += 1
            target = target.with_name(f"{target.stem}-{repeat}{target.suffix}")
        write_atomically(target, dumps(result, indent=2) + b"\n")

    def close(self) -> None:
        pass


def scan_completed(path: str) -> Counter:
    """Keys of the records already in a JSONL output (for ``--resume``).

    A truncated last line (a run killed mid-write) is cut off the file so that appending goes
    on from a clean line boundary. Returns a Counter: a key present twice in the output (the
    same record twice in the inputs) is skipped twice.
    """
    done: Counter = Counter()
    if not os.path.exists(path):
        return done
    good_end = 0
    with open(path, "r+b") as fh:
        pos = 0
        for raw in fh:
            end = pos + len(raw)
            if raw.endswith(b"\n"):
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = None
                key = key_of_output(obj) if isinstance(obj, dict) else None
                if key is not None:
                    done[key] += 1
                good_end = end
            # else: an unterminated last line -- cut below
            pos = end
        if pos != good_end:
            fh.truncate(good_end)
    return done


# --------------------------------------------------------------------------- PostgreSQL

RESULT_TABLE = "criteria_nlp_rules"

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS {table} (
    nct_id      text PRIMARY KEY,
    result      jsonb NOT NULL,
    rules_count integer NOT NULL,
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
)
"""

UPSERT_SQL = """
INSERT INTO {table} (nct_id, result, rules_count, error, updated_at)
VALUES (%s, %s::jsonb, %s, %s, now())
ON CONFLICT (nct_id) DO UPDATE
   SET result = EXCLUDED.result, rules_count = EXCLUDED.rules_count,
       error = EXCLUDED.error, updated_at = EXCLUDED.updated_at
"""


# The flat rule table (criteria_nlp.flat, one row per rule) beside the per-study table: a study's
# rows are replaced (DELETE + INSERT) in the same transaction as its upsert, so a re-run leaves one
# copy of each rule.
RULE_TABLE = "criteria_nlp_rule"

RULE_CREATE_SQL = "CREATE TABLE IF NOT EXISTS {table} ({columns})"
RULE_INDEX_SQL = "CREATE INDEX IF NOT EXISTS {index} ON {table} (source_id)"
RULE_DELETE_SQL = "DELETE FROM {table} WHERE source_id = %s"
RULE_INSERT_SQL = "INSERT INTO {table} ({columns}) VALUES ({values})"


def _pg_value(value: Any, pg_type: str) -> Any:
    """A flat-table cell for PostgreSQL: jsonb as escaped JSON text; text without NUL (U+FFFD
    keeps the length, so offsets stay valid)."""
    if pg_type == "jsonb":
        return _jsonb_text(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _rule_table_rows(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    from .. import flat

    types = flat.postgres_columns()
    return [tuple(_pg_value(row[name], t) for name, t in types) for row in flat.rule_rows(result)]


def _jsonb_text(result: Any) -> str:
    s = json.dumps(result, ensure_ascii=True)
    # jsonb rejects \u0000; U+FFFD keeps every string's length, so offsets stay valid.
    return s.replace("\\u0000", "\\ufffd") if "\\u0000" in s else s


class DbWriter:
    """Idempotent upsert of results into ``criteria_nlp_rules`` and of their rules into the flat
    ``criteria_nlp_rule`` (one transaction per batch; every value a query parameter)."""

    def __init__(self, dsn: str, batch_size: int = 64, table: str = RESULT_TABLE, rule_table: str = RULE_TABLE):
        from psycopg import sql

        from .. import flat
        from .readers import connect

        self.conn = connect(dsn, autocommit=True)
        parts = table.split(".")
        self.table = sql.Identifier(*parts)
        self.create = sql.SQL(CREATE_SQL).format(table=self.table)
        self.upsert = sql.SQL(UPSERT_SQL).format(table=self.table)
        rule_parts = rule_table.split(".")
        rules = sql.Identifier(*rule_parts)
        cols = flat.postgres_columns()
        self.rule_create = sql.SQL(RULE_CREATE_SQL).format(table=rules, columns=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type)) for name, pg_type in cols))
        self.rule_index = sql.SQL(RULE_INDEX_SQL).format(
            index=sql.Identifier(f"{rule_parts[-1]}_source_id_idx"), table=rules)
        self.rule_delete = sql.SQL(RULE_DELETE_SQL).format(table=rules)
        self.rule_insert = sql.SQL(RULE_INSERT_SQL).format(
            table=rules, columns=sql.SQL(", ").join(sql.Identifier(name) for name, _ in cols),
            values=sql.SQL(", ").join(sql.SQL("%s::jsonb" if t == "jsonb" else "%s") for _, t in cols))
        self.batch_size = max(1, batch_size)
        self.buffer: list[tuple[str, str, int, str | None]] = []
        self.rule_buffer: list[list[tuple[Any, ...]]] = []  # the rule rows of each buffered study
        self.written = 0
        self.skipped_no_id = 0
        self.failed: list[str] = []
        self.conn.execute(self.create)
        self.conn.execute(self.rule_create)
        self.conn.execute(self.rule_index)

    def write(self, result: dict[str, Any], record: InputRecord | None = None, rules: int = 0,
              error: str | None = None) -> None:
        nct = (result.get("source") or {}).get("id")
        if not nct:
            self.skipped_no_id += 1
            return
        self.buffer.append((nct, _jsonb_text(result), rules, error))
        self.rule_buffer.append(_rule_table_rows(result))
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        import psycopg

        rows, self.buffer = self.buffer, []
        rule_rows, self.rule_buffer = self.rule_buffer, []
        try:
            with self.conn.transaction():
                with self.conn.cursor() as cur:
                    cur.executemany(self.upsert, rows)
                    cur.executemany(self.rule_delete, [(row[0],) for row in rows])
                    flat_rows = [r for study in rule_rows for r in study]
                    if flat_rows:
                        cur.executemany(self.rule_insert, flat_rows)
            self.written += len(rows)
            return
        except psycopg.Error:
            pass
        # One bad row must not lose its batch: retry row by row, each in its own transaction.
        for row, study_rules in zip(rows, rule_rows):
            try:
                with self.conn.transaction():
                    with self.conn.cursor() as cur:
                        cur.execute(self.upsert, row)
                        cur.execute(self.rule_delete, (row[0],))
                        if study_rules:
                            cur.executemany(self.rule_insert, study_rules)
                self.written += 1
            except psycopg.Error as exc:
                self.failed.append(f"{row[0]}: {' '.join(str(exc).split())}")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()
