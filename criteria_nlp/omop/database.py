"""Connections to an OMOP CDM: a DuckDB file (embedded) or a PostgreSQL DSN.

Every statement is written in the DuckDB dialect, transpiled to the server's dialect by sqlglot
and run with bound parameters.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import OmopError, require
from .query import SOURCE_DIALECT, BuiltQuery, qualify

FETCH_ROWS = 5000


@dataclass
class Cdm:
    connection: Any
    dialect: str  # "duckdb" | "postgres"
    schema: str | None

    def execute(self, built: BuiltQuery) -> tuple[list[str], Iterator[list[tuple]]]:
        """Run a built query: the column names, and the rows as batches (lists) of tuples."""
        return self.execute_sql(built.sql(self.dialect), built.params)

    def execute_sql(self, sql: str, params: list[Any]) -> tuple[list[str], Iterator[list[tuple]]]:
        """Run a statement already in this database's dialect, with bound parameters. The rows
        are streamed: DuckDB's result is read in chunks, PostgreSQL's through a server-side
        cursor, so that the client holds one batch at a time however many persons there are."""
        cur = self._cursor(sql, params, streamed=True)
        names = [d[0] for d in cur.description]

        def batches() -> Iterator[list[tuple]]:
            try:
                while True:
                    batch = self._fetch(cur)
                    if not batch:
                        return
                    yield batch
            finally:
                if self.dialect == "postgres":
                    cur.close()
        return names, batches()

    def _fetch(self, cur) -> list[tuple]:
        try:
            return cur.fetchmany(FETCH_ROWS)
        except Exception as e:  # an error found while the rows are produced
            raise self._refused(e) from None

    def select(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """A small statement in the DuckDB dialect, CDM tables qualified with the schema."""
        sqlglot = require("sqlglot")
        expression = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
        qualify(expression, self.schema)
        return self._cursor(expression.sql(dialect=self.dialect), params or []).fetchall()

    def has_table(self, name: str) -> bool:
        rows = self.select(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ? "
            "AND table_schema = COALESCE(?, current_schema())", [name, self.schema])
        return bool(rows and rows[0][0])

    def _cursor(self, sql: str, params: list[Any], streamed: bool = False):
        try:
            if self.dialect == "duckdb":
                return self.connection.execute(sql, params)
            if streamed:  # a server-side cursor: rows come FETCH_ROWS at a time
                cur = self.connection.cursor(name=f"criteria_nlp_{next(_CURSOR_NUMBERS)}")
                cur.itersize = FETCH_ROWS
            else:
                cur = self.connection.cursor()
            cur.execute(sql, params)
            return cur
        except Exception as e:  # the driver's error types differ; report one line
            raise self._refused(e) from None

    def _refused(self, e: Exception) -> OmopError:
        if self.dialect == "postgres":
            self.connection.rollback()
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        return OmopError(f"the CDM database refused a query: {first[:300]}")


_CURSOR_NUMBERS = itertools.count(1)


@contextmanager
def connect(cdm: str, schema: str | None = None) -> Iterator[Cdm]:
    """A read-only connection to ``cdm``: a DuckDB file, a ``postgresql://`` DSN, or a directory of
    CSV files (one per table, see :mod:`.cdm`) loaded into an in-memory DuckDB."""
    if cdm.startswith(("postgresql://", "postgres://")):
        psycopg = require("psycopg")
        try:
            conn = psycopg.connect(cdm, connect_timeout=10)
        except psycopg.Error as e:
            raise OmopError(f"cannot connect to the CDM database: {str(e).strip().splitlines()[0][:200]}") from None
        conn.read_only = True
        dialect = "postgres"
    elif Path(cdm).is_dir():  # CSV files in text form (corpora/omop-demo): an in-memory DuckDB
        from .cdm import load_duckdb

        conn = load_duckdb(":memory:", cdm)
        dialect = "duckdb"
    else:
        duckdb = require("duckdb")
        if not Path(cdm).is_file():
            raise OmopError(f"{cdm}: no such DuckDB file (give a DuckDB database file or a postgresql:// DSN)")
        try:
            conn = duckdb.connect(cdm, read_only=True)
        except duckdb.Error as e:
            raise OmopError(f"{cdm}: not a readable DuckDB database ({str(e).splitlines()[0][:200]})") from None
        dialect = "duckdb"
    try:
        db = Cdm(conn, dialect, schema)
        missing = [t for t in ("person", "measurement", "concept") if not db.has_table(t)]
        if missing:
            where = f"schema {schema}" if schema else "the default schema"
            raise OmopError(f"the CDM has no {', '.join(missing)} table in {where} (see --cdm-schema)")
        yield db
    finally:
        conn.close()


def measured_units(db: Cdm, sources: list[str], has_ancestor: bool) -> dict[str, list[str]]:
    """``source -> UCUM codes`` of the units in which the CDM holds measurements of that concept
    (or of its descendants). A source is a LOINC code or ``#<concept_id>`` (concept map)."""
    loinc_codes = [s for s in sources if not s.startswith("#")]
    ids = [int(s[1:]) for s in sources if s.startswith("#")]
    out: dict[str, list[str]] = {}
    units = ("JOIN concept AS u ON u.concept_id = m.unit_concept_id AND u.vocabulary_id = 'UCUM'")
    if loinc_codes:
        marks = ", ".join("?" for _ in loinc_codes)
        concepts = (f"SELECT concept_code AS loinc, concept_id FROM concept "
                    f"WHERE vocabulary_id = 'LOINC' AND concept_code IN ({marks})")
        if has_ancestor:
            concepts += (f" UNION SELECT c.concept_code, ca.descendant_concept_id FROM concept_ancestor AS ca "
                         f"JOIN concept AS c ON c.concept_id = ca.ancestor_concept_id "
                         f"WHERE c.vocabulary_id = 'LOINC' AND c.concept_code IN ({marks})")
        sql = (f"SELECT DISTINCT rc.loinc, u.concept_code FROM measurement AS m "
               f"JOIN ({concepts}) AS rc ON rc.concept_id = m.measurement_concept_id {units}")
        for loinc, unit in db.select(sql, list(loinc_codes) * (2 if has_ancestor else 1)):
            out.setdefault(str(loinc), []).append(str(unit))
    if ids:
        marks = ", ".join("?" for _ in ids)
        concepts = f"SELECT CAST(t.root AS INT) AS root, CAST(t.root AS INT) AS concept_id FROM (VALUES {', '.join('(?)' for _ in ids)}) AS t(root)"
        if has_ancestor:
            concepts += (f" UNION SELECT ancestor_concept_id, descendant_concept_id FROM concept_ancestor "
                         f"WHERE ancestor_concept_id IN ({marks})")
        sql = (f"SELECT DISTINCT rc.root, u.concept_code FROM measurement AS m "
               f"JOIN ({concepts}) AS rc ON rc.concept_id = m.measurement_concept_id {units}")
        for root, unit in db.select(sql, ids * (2 if has_ancestor else 1)):
            out.setdefault(f"#{int(root)}", []).append(str(unit))
    return {k: sorted(set(v)) for k, v in out.items()}


def known_concepts(db: Cdm, sources: list[str]) -> set[str]:
    """The sources (LOINC codes, ``#<concept_id>``) that the CDM's ``concept`` table holds."""
    found = set(concepts_by_code(db, "LOINC", [s for s in sources if not s.startswith("#")]))
    ids = [int(s[1:]) for s in sources if s.startswith("#")]
    if ids:
        rows = db.select(f"SELECT concept_id FROM concept WHERE concept_id IN ({', '.join('?' for _ in ids)})", ids)
        found |= {f"#{int(r[0])}" for r in rows}
    return found


def concepts_by_code(db: Cdm, vocabulary: str, codes: list[str]) -> dict[str, tuple[int, str]]:
    """``code -> (concept_id, concept_name)`` for the codes found in ``vocabulary``."""
    if not codes:
        return {}
    marks = ", ".join("?" for _ in codes)
    rows = db.select(f"SELECT concept_code, concept_id, concept_name FROM concept "
                     f"WHERE vocabulary_id = ? AND concept_code IN ({marks})", [vocabulary, *codes])
    return {str(code): (int(cid), str(name)) for code, cid, name in rows}
