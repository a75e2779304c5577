"""Build a small OMOP CDM v5.4 (the tables in ``cdm_v54.sql``) in DuckDB or PostgreSQL from rows
or from a directory of CSV files named after the tables (``person.csv``, ``measurement.csv``, ...).

``python -m criteria_nlp.omop.cdm CSV_DIR OUT.duckdb`` builds a DuckDB file from the demo CDM shipped
in ``corpora/omop-demo``; ``--cdm CSV_DIR`` loads it into an in-memory DuckDB instead. Missing NOT NULL columns get neutral defaults (``0`` for concept ids,
``'1970-01-01'``/``'2099-12-31'`` for validity dates), so CSV files list only what matters.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Any, Iterable

from .errors import OmopError, require

DDL_FILE = Path(__file__).resolve().parent / "cdm_v54.sql"
MAX_CSV_BYTES = 256 * 1024 * 1024
_DEFAULTS = {"valid_start_date": "1970-01-01", "valid_end_date": "2099-12-31", "domain_id": "Measurement",
             "concept_class_id": "Lab Test", "min_levels_of_separation": 0, "max_levels_of_separation": 0}
_CREATE_RE = re.compile(r"CREATE TABLE (\w+) \((.*?)\);", re.S)
_COLUMN_RE = re.compile(r"(\w+) ([A-Z]+(?: PRECISION)?)(?:\(\d+\))? (NOT NULL|NULL)")


def table_columns() -> dict[str, list[tuple[str, str, bool]]]:
    """``table -> [(column, type, not_null)]`` read from the DDL file."""
    ddl = DDL_FILE.read_text(encoding="utf-8")
    return {name: [(c, t, nn == "NOT NULL") for c, t, nn in _COLUMN_RE.findall(body)]
            for name, body in _CREATE_RE.findall(ddl)}


def create_tables(conn: Any) -> None:
    ddl = DDL_FILE.read_text(encoding="utf-8")
    for statement in _CREATE_RE.finditer(ddl):
        conn.execute(statement.group(0))


def insert_rows(conn: Any, table: str, rows: Iterable[dict[str, Any]], paramstyle: str = "qmark") -> int:
    """Insert dict rows (keys must be columns of the table) with bound parameters."""
    columns = table_columns()
    if table not in columns:
        raise OmopError(f"{table}: not a CDM table this builder knows ({', '.join(columns)})")
    known = {c for c, _, _ in columns[table]}
    mark = "?" if paramstyle == "qmark" else "%s"
    n = 0
    batch: list[tuple] = []
    names: list[str] | None = None
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise OmopError(f"{table}: unknown column(s) {', '.join(sorted(unknown))}")
        full = {c: row[c] if c in row else _default(c, nn) for c, _, nn in columns[table]}
        names = list(full)
        batch.append(tuple(None if v == "" else v for v in full.values()))
        n += 1
    if batch and names:
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(mark for _ in names)})"
        cur = conn.cursor() if paramstyle != "qmark" else conn
        cur.executemany(sql, batch)
    return n


def _default(column: str, not_null: bool) -> Any:
    if not not_null:
        return None
    if column in _DEFAULTS:
        return _DEFAULTS[column]
    if column.endswith("_id"):
        return 0
    raise OmopError(f"required column {column} is missing")


def read_csv_dir(directory: str | Path) -> dict[str, list[dict[str, str]]]:
    """Rows of every ``<table>.csv`` in ``directory`` (UTF-8, header line)."""
    tables: dict[str, list[dict[str, str]]] = {}
    directory = Path(directory)
    if not directory.is_dir():
        raise OmopError(f"{directory}: not a directory of CSV files")
    for path in sorted(directory.glob("*.csv")):
        if path.stat().st_size > MAX_CSV_BYTES:
            raise OmopError(f"{path}: larger than {MAX_CSV_BYTES // 2**20} MB")
        with open(path, encoding="utf-8", newline="") as fh:
            tables[path.stem] = [dict(r) for r in csv.DictReader(fh)]
    return tables


def build_duckdb(target: str | Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Create a new DuckDB CDM file; an existing file is never overwritten."""
    target = Path(target)
    if target.exists():
        raise OmopError(f"{target} exists; remove it or choose another name")
    try:
        _fill_duckdb(str(target), tables).close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def load_duckdb(database: str, csv_dir: str | Path) -> Any:
    """A DuckDB connection (``':memory:'`` or a new file) holding the CDM of ``csv_dir``."""
    return _fill_duckdb(database, read_csv_dir(csv_dir))


def _fill_duckdb(database: str, tables: dict[str, list[dict[str, Any]]]) -> Any:
    duckdb = require("duckdb")
    conn = duckdb.connect(database)
    try:
        create_tables(conn)
        for table, rows in tables.items():
            insert_rows(conn, table, rows)
    except BaseException:
        conn.close()
        raise
    return conn


def build_postgres(dsn: str, tables: dict[str, list[dict[str, Any]]], schema: str | None = None) -> None:
    """Create the CDM tables (in ``schema`` when given) of a PostgreSQL database and fill them."""
    psycopg = require("psycopg")
    with psycopg.connect(dsn) as conn:
        if schema:
            if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", schema):
                raise OmopError(f"schema name {schema!r} is not a plain identifier")
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"SET search_path TO {schema}")
        create_tables(conn)
        for table, rows in tables.items():
            insert_rows(conn, table, rows, paramstyle="format")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m criteria_nlp.omop.cdm CSV_DIR OUT.duckdb", file=sys.stderr)
        return 2
    try:
        tables = read_csv_dir(args[0])
        build_duckdb(args[1], tables)
    except OmopError as e:
        print(f"criteria-nlp: {e}", file=sys.stderr)
        return 1
    print(f"built {args[1]}: " + ", ".join(f"{t} {len(r)}" for t, r in tables.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
