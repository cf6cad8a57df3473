"""The ``surveydata`` command line: one subcommand per module in `surveydata.commands`.

Each command module exposes ``register(subparsers)``, which adds its subparser and sets
``func`` (called with the parsed arguments, returning the exit code). Add a command by adding its
module name to `COMMANDS`.

Exit codes: 0 success (also when rows were quarantined: that is a result, not a failure),
2 usage errors and unreadable input (a one-line message naming the file, never a traceback).

>>> main(["--help"])   # doctest: +SKIP
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("validate", "codebook", "report", "simulate")

EXIT_OK = 0
EXIT_USAGE = 2


class UserError(Exception):
    """A problem with the user's input or arguments: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command.

    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:2]   # doctest: +SKIP
    ['codebook', 'validate']
    """
    parser = argparse.ArgumentParser(
        prog="surveydata",
        description="Survey data toolkit: validate exports, write the codebook, and more.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"surveydata.commands.{name}")
        module.register(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code (also used as the console entry point)."""
    from surveydata.io import ExportError

    parser = build_parser()
    args = parser.parse_args(argv)  # argparse exits with 2 on usage errors
    try:
        return int(args.func(args) or EXIT_OK)
    except (UserError, ExportError) as err:
        print(f"surveydata {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        name = getattr(err, "filename", None) or ""
        print(f"surveydata {args.command}: error: {name}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
