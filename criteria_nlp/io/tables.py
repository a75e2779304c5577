"""Writers of the flat rule table (:mod:`criteria_nlp.flat`): Parquet and CSV.

Both take the same ``write(result, record)`` calls as the JSON writers and turn each result into
its rule rows. A file target is written under a temporary name beside it and renamed over it on
``close``, so a reader never sees a half-written table under the final name. Error records have no
rules and add no row (their message goes to stderr and the exit status, as for every output).
"""
from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .. import flat
from .records import InputRecord
from .writers import OutputError

if TYPE_CHECKING:
    import pyarrow.parquet as pq

ROW_GROUP = 50_000  # rules buffered per Parquet row group


def _temp_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.tmp{os.getpid()}")


def _require_pyarrow():
    try:
        return flat.require_pyarrow()
    except ImportError as exc:
        raise OutputError(str(exc)) from None


class ParquetWriter:
    """``-o FILE.parquet``: every rule of every result, row groups of :data:`ROW_GROUP` rules."""

    def __init__(self, target: str, row_group: int = ROW_GROUP):
        _require_pyarrow()
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = _temp_beside(self.target)
        self.schema = flat.arrow_schema()
        self.writer: pq.ParquetWriter | None = None  # opened at the first flush: no stray temp file
        self.rows: list[dict[str, Any]] = []
        self.row_group = max(1, row_group)
        self.written = 0

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        self.rows.extend(flat.rule_rows(result))
        if len(self.rows) >= self.row_group:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        import pyarrow as pa

        rows, self.rows = self.rows, []
        self._open().write_table(pa.Table.from_pylist(rows, schema=self.schema))
        self.written += len(rows)

    def _open(self):
        if self.writer is None:
            import pyarrow.parquet as pq

            self.writer = pq.ParquetWriter(str(self.tmp), self.schema, compression="zstd")
        return self.writer

    def close(self) -> None:
        try:
            self.flush()
            self._open()  # a run without rules still gives a (0-row) table with the schema
        finally:
            if self.writer is not None:
                self.writer.close()
        os.replace(self.tmp, self.target)


class CsvWriter:
    """CSV with a header of :data:`criteria_nlp.flat.COLUMN_NAMES` (``conditions`` as JSON), to a
    file (``-o FILE.csv``) or to stdout."""

    def __init__(self, target: str | None):
        self.target = Path(target) if target and target != "-" else None
        if self.target is None:
            self.raw: IO[bytes] = sys.stdout.buffer
            self.tmp = None
        else:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = _temp_beside(self.target)
            self.raw = open(self.tmp, "wb")
        self.fh = io.TextIOWrapper(self.raw, encoding="utf-8", errors="backslashreplace", newline="",
                                   write_through=True)
        self.csv = csv.writer(self.fh)
        self.csv.writerow(flat.COLUMN_NAMES)

    def write(self, result: dict[str, Any], record: InputRecord | None = None) -> None:
        for row in flat.rule_rows(result):
            self.csv.writerow([flat.csv_value(row, name) for name in flat.COLUMN_NAMES])
        self.fh.flush()

    def close(self) -> None:
        if self.tmp is None:
            try:
                self.fh.flush()
                self.fh.detach()
            except (BrokenPipeError, ValueError):
                pass
            return
        self.fh.close()
        os.replace(self.tmp, self.target)
