"""Command-line interface: ``criteria-nlp extract``, ``spark-extract``, ``evaluate``, ``match`` and ``export``."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="criteria-nlp",
        description="Turn numeric thresholds in clinical-trial eligibility criteria into JSON rules.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from .io.command import add_extract_parser

    add_extract_parser(sub)
    from .spark_command import add_spark_parser

    add_spark_parser(sub)
    from .omop.command import add_export_parser, add_match_parser

    add_match_parser(sub)
    add_export_parser(sub)
    from .view.command import add_view_parser

    add_view_parser(sub)
    try:
        from .evaluation.command import add_evaluate_parser
    except ImportError:  # evaluation harness not installed in this build
        pass
    else:
        add_evaluate_parser(sub)
    return parser


def installed_version() -> str:
    """The version of the installed distribution (package metadata; no heavy import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("criteria-nlp")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("criteria-nlp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # "criteria-nlp evaluate ... | head": the reader went away; stop quietly like other Unix tools
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
