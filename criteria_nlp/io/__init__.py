"""Readers of inputs and writers of results.

* :mod:`.readers` -- streaming readers (text, ClinicalTrials.gov JSON/JSONL, AACT flat file,
  AACT PostgreSQL) yielding :class:`InputRecord`;
* :mod:`.structured` -- rules from the registry's structured fields, disagreement warnings;
* :mod:`.writers` -- pretty JSON, JSON Lines (resume), one file per record, PostgreSQL upsert;
* :mod:`.validate` -- offset and JSON Schema checks; :mod:`.progress` -- bar / log lines;
* :mod:`.command` -- the ``criteria-nlp extract`` command (engine: :mod:`criteria_nlp.batch`).
"""
from .records import InputRecord, error_record
from .readers import FORMATS, InputError, detect_format, iter_inputs, iter_path

__all__ = ["FORMATS", "InputError", "InputRecord", "detect_format", "error_record", "iter_inputs", "iter_path"]
