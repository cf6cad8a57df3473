"""``surveydata report [--data EXPORT] [--instrument PATH] [--lang de|en] --out DIR``.

Validates the data (default: the embedded demo survey), runs the numbered notebooks in
``notebooks/`` on it with progress on stderr, and writes ``DIR/index.html``, one HTML page per
notebook and ``DIR/provenance.json`` (see `surveydata.report`). Exit code 0 on success, 2 on a
usage error or unreadable input, 1 when a notebook fails or a page would disclose free text.
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "build the publishable report (offline HTML) from the notebooks"
EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help=HELP, description=HELP)
    p.add_argument("--data", metavar="EXPORT", default=None,
                   help="survey export to report on (default: the embedded demo survey)")
    p.add_argument("--instrument", metavar="PATH", default=None,
                   help="instrument YAML (default: the packaged practice_security)")
    p.add_argument("--lang", choices=("de", "en"), default="en", help="report language (default: en)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.add_argument("--min-cell", metavar="K", type=int, default=5, dest="k",
                   help="suppress table cells of fewer than K respondents (default: 5)")
    p.add_argument("--notebooks", metavar="DIR", default=None,
                   help="directory of NN_*.ipynb notebooks (default: the repository's notebooks/)")
    p.add_argument("--jobs", metavar="N", type=int, default=None,
                   help="notebooks executed at once (default: up to 2)")
    p.add_argument("--keep-executed", metavar="DIR", default=None,
                   help="also keep the executed notebooks in DIR")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def run(args) -> int:
    from surveydata.cli import UserError
    from surveydata.commands.validate import load_instrument_or_fail
    from surveydata.report import ReportError, build_report

    load_instrument_or_fail(args.instrument)  # a broken instrument is a one-line usage error
    if args.data is not None and not Path(args.data).is_file():
        raise UserError(f"{args.data}: no such file")
    if args.k < 1:
        raise UserError(f"--min-cell must be a positive integer, got {args.k}")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs must be a positive integer, got {args.jobs}")
    try:
        build_report(args.out, data=args.data, instrument=args.instrument, lang=args.lang, k=args.k,
                     notebooks_dir=args.notebooks, jobs=args.jobs, progress=not args.quiet,
                     keep_executed=args.keep_executed)
    except ReportError as err:
        print(f"surveydata report: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    return 0
