"""``criteria-nlp view``: a static HTML page of results, for people who would rather look than read JSON.

::

    criteria-nlp view RESULT_OR_INPUT... -o report.html|DIR [--force] [--max-studies N]

Exit status: 0 page written and every study fine, 1 page written but some study is an error
record (shown on the page, one line each on stderr), 2 usage error (nothing written).
"""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

PROG = "criteria-nlp view"
DEFAULT_MAX_STUDIES = 500
MAX_ERROR_LINES = 50


class ViewUsageError(Exception):
    pass


def add_view_parser(sub) -> None:
    from ..io.readers import FORMATS
    from ..io.command import positive_int

    p = sub.add_parser(
        "view",
        help="write a self-contained HTML page of results (criteria text with highlights, rule tables)",
        description="Write a static, self-contained HTML page (no network, no script) -- or, with -o DIR, "
                    "an index.html and one page per study: a list of the "
                    "studies, then each study's criteria text with every rule's variable, value, unit and "
                    "conditions highlighted in place, its warnings, and a table of its rules. A PATH is a "
                    "result file of 'criteria-nlp extract' (JSON or JSON Lines) or an input of extract "
                    "(text, ClinicalTrials.gov JSON/JSONL, AACT), which is extracted first.",
    )
    p.add_argument("paths", nargs="+", metavar="RESULT_OR_INPUT",
                   help="result .json/.jsonl of extract, or an input file (- for stdin)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.html|DIR",
                   help="one page FILE.html (study list, then every study), or a DIR with index.html and "
                        "one page per study")
    p.add_argument("--force", action="store_true", help="replace an existing FILE.html (or the pages in DIR)")
    p.add_argument("--max-studies", type=positive_int, default=DEFAULT_MAX_STUDIES, metavar="N",
                   help=f"show at most N studies; the page says when more were left out (default {DEFAULT_MAX_STUDIES})")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="read every PATH as this input format (default: results and formats are detected)")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="worker processes for inputs that need extracting (default 1)")
    p.add_argument("--title", default="criteria-nlp review", help="page title")
    p.set_defaults(handler=run_view)


def is_page_name(path: str) -> bool:
    """``-o`` names one page (``.html``/``.htm``); anything else is a directory of pages."""
    return path.lower().endswith((".html", ".htm"))


def _check_output(path: str, force: bool) -> None:
    if is_page_name(path):
        if os.path.isdir(path):
            raise ViewUsageError(f"-o {path}: is a directory, expected an .html file")
        if os.path.exists(path) and not force:
            raise ViewUsageError(f"-o {path}: exists; add --force to replace it")
        return
    if os.path.exists(path) and not os.path.isdir(path):
        raise ViewUsageError(f"-o {path}: exists and is not a directory (name a page FILE.html)")
    if os.path.isdir(path) and not force:
        with os.scandir(path) as entries:
            if any(e.name.endswith(".html") for e in entries):
                raise ViewUsageError(f"-o {path}: the directory already holds .html pages; add --force to replace them")


def _write(output: str, studies: list, title: str, note: str | None) -> str:
    """Write the page (or the directory of pages); what was written, for the summary line."""
    from ..io.writers import write_atomically
    from .render import report_html, report_pages

    if is_page_name(output):
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, report_html(studies, title, note).encode("utf-8"))
        return str(target)
    directory = Path(output)
    directory.mkdir(parents=True, exist_ok=True)
    pages = report_pages(studies, title, note)
    for name, html_text in pages.items():
        write_atomically(directory / name, html_text.encode("utf-8"))
    return f"{directory / 'index.html'} and {len(pages) - 1} study pages"


def run_view(args) -> int:
    from ..io.readers import InputError, expand_paths
    from .studies import iter_studies

    try:
        _check_output(args.output, args.force)
        paths = list(expand_paths(args.paths))
        if not paths:
            raise ViewUsageError("the given directories contain no .txt/.json/.jsonl files")
        if paths.count("-") > 1:
            raise ViewUsageError("standard input (-) can be given only once")
        studies_iter = iter_studies(paths, args.format, workers=args.workers)
        studies = list(itertools.islice(studies_iter, args.max_studies + 1))
        studies_iter.close()  # what is past the limit is not read (nor extracted)
    except ViewUsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    note = None
    if len(studies) > args.max_studies:
        studies = studies[:args.max_studies]
        note = f"the first {args.max_studies} studies; the rest are left out (--max-studies)"
    failed = [s for s in studies if s.error]
    for study in failed[:MAX_ERROR_LINES]:
        print(f"{PROG}: {study.where}: {study.error}", file=sys.stderr)
    written = _write(args.output, studies, args.title, note)
    print(f"{PROG}: wrote {written} ({len(studies)} studies, {len(failed)} with errors"
          + (f", {note}" if note else "") + ")", file=sys.stderr)
    return 1 if failed else 0
