"""Command-line interface: ``criteria-nlp extract``, ``spark-extract``, ``evaluate``, ``match`` and ``export``."""
from __future__ import annotations

import argparse
import importlib
import sys


# command → (module, function adding its parser); a module is imported only when its command is
# run or the whole command list is shown
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("criteria_nlp.io.command", "add_extract_parser"),
    "spark-extract": ("criteria_nlp.spark_command", "add_spark_parser"),
    "match": ("criteria_nlp.omop.command", "add_match_parser"),
    "export": ("criteria_nlp.omop.command", "add_export_parser"),
    "view": ("criteria_nlp.view.command", "add_view_parser"),
    "evaluate": ("criteria_nlp.evaluation.command", "add_evaluate_parser"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The CLI parser; given the arguments, only the parser of the command they name is built."""
    parser = argparse.ArgumentParser(
        prog="criteria-nlp",
        description="Turn numeric thresholds in clinical-trial eligibility criteria into JSON rules.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = [a for a in (argv or []) if not a.startswith("-")][:1]
    for name, (module, function) in COMMANDS.items():
        if named and named[0] in COMMANDS and named[0] != name:
            continue
        try:
            add = getattr(importlib.import_module(module), function)
        except ImportError:  # e.g. the evaluation harness not installed in this build
            continue
        add(sub)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the package metadata is read only when asked for (it costs an import)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {installed_version()}")  # on stdout, like argparse's own version action
        parser.exit()


def installed_version() -> str:
    """The version of the installed distribution (package metadata; no heavy import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("criteria-nlp")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
