"""``surveydata report [--study S | --instrument X] [--data EXPORT] [--lang de|en|both] --out DIR``.

Validates the data (default: the embedded demo of the default study), runs the report's
notebooks on it (the generic pages the study has something for, plus the study's extra pages)
with progress on stderr, and writes ``DIR/index.html``, one HTML page per notebook and
``DIR/provenance.json`` (see `surveydata.report.build`). ``--study`` names a study declaration;
``--instrument`` alone gives an unweighted report of every item, labelled as such. Exit code 0
on success, 2 on a usage error, a broken declaration or unreadable input, 1 when a notebook
fails or a page would disclose free text.
"""
from __future__ import annotations

import sys
from pathlib import Path

from surveydata.commands._common import study_from_args
from surveydata.errors import UserError

HELP = "build the publishable report (offline HTML) from the notebooks"
EXIT_FAILED = 1


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help=HELP, description=HELP)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--study", metavar="STUDY.yaml", default=None,
                       help="study declaration (default: the packaged practice_security study)")
    which.add_argument("--instrument", metavar="X.yaml", default=None,
                       help="an instrument alone (file or packaged name): no population, design "
                            "or weighting; every result unweighted and labelled so")
    p.add_argument("--data", metavar="EXPORT", default=None,
                   help="survey export to report on (default: the embedded demo survey)")
    # no argparse choices: a wrong language is one line naming the study's languages
    # (study_from_args), not argparse's whole usage
    p.add_argument("--lang", metavar="{de,en,both}", default=None,
                   help="report language (default: every language of the study, one edition "
                        "each, linked; both: the same)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.add_argument("--min-cell", metavar="K", type=int, default=None, dest="k",
                   help="suppress table cells of fewer than K respondents (default: the study's "
                        "min_cell, else 5)")
    p.add_argument("--notebooks", metavar="DIR", default=None,
                   help="directory of NN_*.ipynb notebooks (default: the repository's notebooks/)")
    p.add_argument("--jobs", metavar="N", type=int, default=None,
                   help="notebooks executed at once (default: up to 2)")
    p.add_argument("--keep-executed", metavar="DIR", default=None,
                   help="also keep the executed notebooks in DIR")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=run)


def _study(args):
    """The study of the command line, validated before anything runs (a broken declaration is
    its one-line error), with ``args.lang`` settled ("both": every language of the study)."""

    if args.study is not None and not Path(args.study).is_file():
        raise UserError(f"--study {args.study}: no such file")
    both = args.lang in (None, "both")       # default: every language the study declares
    if both:
        args.lang = None
    study = study_from_args(args)
    if both:
        args.lang = "both" if len(study.languages) > 1 else study.languages[0]
    return study


def _min_cell(args, study) -> int:
    if args.k is not None:
        if args.k < 1:
            raise UserError(f"--min-cell must be a positive integer, got {args.k}")
        return args.k
    for part in ("report", "disclosure"):
        k = getattr(getattr(study, part, None), "min_cell", None)
        if k:
            return int(k)
    return 5


def run(args) -> int:
    from surveydata.report.build import ReportError, build_report  # noqa: PLC0415 - lazy (commands/__init__)

    study = _study(args)
    if args.data is not None and not Path(args.data).is_file():
        raise UserError(f"{args.data}: no such file")
    if args.data is None and args.study is None and args.instrument is not None:
        raise UserError("--instrument needs --data EXPORT (the demo belongs to the default study)")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs must be a positive integer, got {args.jobs}")
    try:
        build_report(args.out, data=args.data, study=args.study, instrument=args.instrument,
                     lang=args.lang, k=_min_cell(args, study), notebooks_dir=args.notebooks,
                     jobs=args.jobs, progress=not args.quiet, keep_executed=args.keep_executed)
    except ReportError as err:
        print(f"surveydata report: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    return 0
