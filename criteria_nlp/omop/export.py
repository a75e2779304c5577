"""The ``export`` runner: every trial of the results as Circe JSON, SQL or FHIR."""
from __future__ import annotations

import argparse
import re
import sys
from contextlib import ExitStack
from typing import IO

from .circe import Concept, Vocabulary, export_circe
from .command import UsageError, write_json
from .conversions import common_units_by_loinc, unit_factors
from .errors import OmopError, require
from .fhir import export_fhir
from .query import BuiltQuery, IndexSpec, build_query, pivot_for
from .results import TrialPlan, read_plans
from .summaries import CountsWriter, PersonVerdictWriter


def export_all(args: argparse.Namespace, out: IO[str]) -> int:
    """Write every trial of ``args.results`` in ``args.to``; returns the number of failed records."""
    if args.to == "sql" and args.index_date is None and args.index_table is None:
        raise UsageError("--to sql needs --index-date or --index-table")
    if args.to != "circe" and getattr(args, "any_measurement", False):
        raise UsageError(f"--any-measurement is an option of --to circe, not of --to {args.to}")
    if args.to != "sql" and getattr(args, "level", "full") != "full":
        raise UsageError(f"--level {args.level} is a level of --to sql (the query of match --level), not of --to {args.to}")
    failed = 0
    plans: list[TrialPlan] = []
    from .conceptmap import load_concept_map

    concept_map = load_concept_map(getattr(args, "concept_map", None))
    with ExitStack() as stack:
        db = names = None
        if args.cdm and args.to in ("circe", "sql"):
            from .database import connect
            from .match import name_lookup_for

            db = stack.enter_context(connect(args.cdm, args.cdm_schema))
            names = name_lookup_for(db) if getattr(args, "name_lookup", True) else None
        for plan in read_plans(args.results, args.lookback_days, concept_map, names):
            if isinstance(plan, OmopError):
                print(f"criteria-nlp: {plan}", file=sys.stderr)
                failed += 1
            else:
                plans.append(plan)
        for note in names.notes() if names is not None else []:
            print(f"criteria-nlp: name look-up: {note}", file=sys.stderr)
        for plan in plans:
            if args.to == "circe":
                index_date = args.index_date.isoformat() if args.index_date is not None else None
                if args.index_table is not None:
                    print("criteria-nlp: warning: --index-table is not expressed in Circe (the entry event is "
                          "the first observation period)", file=sys.stderr)
                result = export_circe(plan, _vocabulary(plan, db), index_date,
                                      most_recent=not getattr(args, "any_measurement", False))
                for w in result.warnings:
                    print(f"criteria-nlp: warning: {plan.trial}: {w}", file=sys.stderr)
                write_json(out, result.expression, many=len(plans) > 1)
            elif args.to == "fhir":
                try:
                    resource = validated_fhir(export_fhir(plan))
                except OmopError as e:  # this trial is reported; the others are still written
                    print(f"criteria-nlp: {plan.trial}: {e}", file=sys.stderr)
                    failed += 1
                    continue
                write_json(out, resource, many=len(plans) > 1)
            else:
                out.write(export_sql(plan, args, db))
    return failed


def export_sql(plan: TrialPlan, args: argparse.Namespace, db) -> str:
    from .database import measured_units

    sources = sorted({t.source_key for t in plan.thresholds if t.kind == "measurement" and t.source_key})
    has_ancestor = db.has_table("concept_ancestor") if db else True
    units = measured_units(db, sources, has_ancestor) if db else common_units_by_loinc(sources)
    index = IndexSpec(date=args.index_date, table=args.index_table)
    level = getattr(args, "level", "full")
    built = build_query(plan, unit_factors(plan.thresholds, units), index, cdm_schema=args.cdm_schema,
                        has_ancestor=has_ancestor, literals=True, pivot=pivot_for(args.dialect),
                        ordered=level == "full", criterion_columns=level != "full")
    built = level_query(plan, built, level, index)
    label = re.sub(r"[^\w.\-]", "_", plan.trial)[:80]  # record text never reaches the SQL unescaped
    return (f"-- criteria-nlp match query (--level {level}), trial {label}\n"
            f"{built.sql(args.dialect, pretty=True)};\n")


def level_query(plan: TrialPlan, built: BuiltQuery, level: str, index: IndexSpec) -> BuiltQuery:
    """The query of ``match --level level`` around the match query ``built`` (rendered with
    literals), its own parameters (rule ids) written as SQL literals too."""
    if level == "full":
        return built
    if level == "verdicts":
        wrapped = PersonVerdictWriter(plan).query(built)
    else:
        wrapped = CountsWriter(plan, index.date.isoformat() if index.date else None, index.table).query(built)
    exp = require("sqlglot").exp
    return BuiltQuery(exp.replace_placeholders(wrapped.expression, *wrapped.params))


def _vocabulary(plan: TrialPlan, db) -> Vocabulary:
    sources = sorted({t.source_key for t in plan.thresholds if t.kind == "measurement" and t.source_key})
    loincs = [s for s in sources if not s.startswith("#")]
    if db is None:
        vocabulary = Vocabulary.unresolved(common_units_by_loinc(sources))
        vocabulary.loinc = {c: v for c, v in vocabulary.loinc.items() if not c.startswith("#")}
        return vocabulary
    from .database import concepts_by_code, measured_units

    has_ancestor = db.has_table("concept_ancestor")
    units = measured_units(db, sources, has_ancestor)
    found_loinc = concepts_by_code(db, "LOINC", loincs)
    found_ucum = concepts_by_code(db, "UCUM", sorted({u for codes in units.values() for u in codes}))
    ids = [int(s[1:]) for s in sources if s.startswith("#")]
    by_id = {}
    if ids:
        rows = db.select(f"SELECT concept_id, concept_code, concept_name, vocabulary_id FROM concept "
                         f"WHERE concept_id IN ({', '.join('?' for _ in ids)})", ids)
        by_id = {f"#{int(i)}": Concept(int(i), str(code), str(name), str(vocab)) for i, code, name, vocab in rows}
    return Vocabulary(
        loinc={**{c: Concept(found_loinc[c][0], c, found_loinc[c][1], "LOINC") if c in found_loinc
                  else Concept(0, c, c, "LOINC") for c in loincs}, **by_id},
        ucum={u: Concept(cid, u, name, "UCUM") for u, (cid, name) in found_ucum.items()},
        units=units, resolved=True, diagnoses=_diagnoses(plan, db))


def _diagnoses(plan: TrialPlan, db) -> dict[int, Concept]:
    """Condition key -> the concept of each diagnosis condition, as the CDM's ``concept`` table has it."""
    out = {}
    for spec in plan.conditions:
        concept = spec.concept
        if spec.kind != "diagnosis" or concept is None:
            continue
        if concept.concept_id is not None:
            rows = db.select("SELECT concept_id, concept_code, concept_name, vocabulary_id, domain_id, concept_class_id "
                             "FROM concept WHERE concept_id = ?", [concept.concept_id])
        else:
            rows = db.select("SELECT concept_id, concept_code, concept_name, vocabulary_id, domain_id, concept_class_id "
                             "FROM concept WHERE vocabulary_id = ? AND concept_code = ?",
                             [concept.vocabulary, concept.code])
        if rows:
            cid, code, name, vocab, domain, cls = rows[0]
            out[spec.key] = Concept(int(cid), str(code), str(name), str(vocab), str(domain), str(cls))
    return out


def validated_fhir(resource: dict) -> dict:
    """The resource after validation by fhir.resources' R5 EvidenceVariable model."""
    module = require("fhir.resources.evidencevariable")
    try:
        module.EvidenceVariable.model_validate(resource)
    except Exception as e:  # pydantic.ValidationError
        raise OmopError(f"the FHIR export does not validate: {str(e).splitlines()[0][:200]}") from None
    return resource
