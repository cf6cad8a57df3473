"""The ``surveydata`` command line: one subcommand per module in `surveydata.commands`.

Each command module exposes ``register(subparsers)``, which adds its subparser and sets
``func`` (called with the parsed arguments, returning the exit code). A command is a module of
`surveydata.commands` with a ``register`` function: adding the module adds the command.

Exit codes: 0 success (also when rows were quarantined: that is a result, not a failure),
2 usage errors and unreadable input (a one-line message naming the file, never a traceback).
Every user mistake is one of the three package error bases (`schemas.errors.DeclarationError`,
`surveydata.errors.SurveyDataError`, `analysis.errors.AnalysisError`) or an `OSError`, caught
here once; ``--debug`` (before the command) shows the traceback instead.

>>> main(["--help"])   # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import surveydata.commands as _commands_pkg
from analysis.errors import AnalysisError
from schemas.errors import DeclarationError
from surveydata.errors import SurveyDataError, UserError

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_USAGE", "UserError", "build_parser", "main"]


def _command_names() -> tuple[str, ...]:
    """Modules of `surveydata.commands` (not starting with ``_``), in a fixed order."""
    first = ("validate", "codebook", "report", "simulate")
    found = sorted(m.name for m in pkgutil.iter_modules(_commands_pkg.__path__)
                   if not m.name.startswith("_"))
    return tuple([n for n in first if n in found] + [n for n in found if n not in first])


COMMANDS = _command_names()

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command.

    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:2]   # doctest: +SKIP
    ['codebook', 'validate']
    """
    parser = argparse.ArgumentParser(
        prog="surveydata",
        description="Survey data toolkit: validate exports, write the codebook, and more.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"surveydata.commands.{name}")
        module.register(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code (also used as the console entry point)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on usage errors
    try:
        return int(args.func(args) or EXIT_OK)
    except (SurveyDataError, DeclarationError, AnalysisError) as err:
        if args.debug:
            raise
        print(f"surveydata {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        if args.debug:
            raise
        name = getattr(err, "filename", None) or ""
        print(f"surveydata {args.command}: error: {name}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (a multi-line message is joined with "; ")."""
    return "; ".join(part.strip() for part in str(err).splitlines() if part.strip())


if __name__ == "__main__":
    sys.exit(main())
