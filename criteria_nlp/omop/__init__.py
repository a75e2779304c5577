"""Executable rules: match extraction results against an OMOP CDM v5.4 database, and export them
as an OHDSI Circe cohort expression, as SQL or as a FHIR R5 EvidenceVariable.

One module per job:

* :mod:`.results` -- read ``extract`` output (JSON or JSONL) into typed trial plans;
* :mod:`.conversions` -- unit conversion factors (the project's UCUM conversion, linear only);
* :mod:`.query` -- the one set-based SQL query per trial (sqlglot AST, transpiled per dialect);
* :mod:`.database` -- connecting to DuckDB / PostgreSQL, running the query;
* :mod:`.verdicts` -- result rows -> verdict records;
* :mod:`.match` -- the ``match`` runner;
* :mod:`.circe`, :mod:`.fhir` -- exporters; :mod:`.cdm` -- builds a small CDM from CSV files;
* :mod:`.command` -- the ``match`` and ``export`` subcommands.

Importing this package imports nothing heavy: duckdb, sqlglot, psycopg and fhir.resources are
imported inside the functions that need them.
"""
