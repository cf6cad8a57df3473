"""``surveydata codebook --out FILE [--study S.yaml | --instrument X.yaml] [--data EXPORT]``: the
codebook of the study (its instrument, analysis variables and scales), Markdown or HTML by the
file's extension; with ``--data`` the scales' reliability is computed on that export."""
from __future__ import annotations

from pathlib import Path

import schemas
from surveydata.commands._common import add_study_options, study_from_args
from surveydata.errors import UserError

HELP = "write the codebook of the instrument (Markdown or HTML by the file's extension)"
FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


def register(subparsers) -> None:
    p = subparsers.add_parser("codebook", help=HELP, description=HELP)
    add_study_options(p, lang_default="de", lang_help="language of the texts")
    p.add_argument("--out", metavar="FILE", required=True, help="output file (.md or .html)")
    p.add_argument("--data", metavar="EXPORT", default=None,
                   help="an export of the study: the scales' alpha and omega are computed on it "
                        "(weighted when the study declares a design)")
    p.set_defaults(func=run)


def run(args) -> int:
    out = Path(args.out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UserError(f"{out}: unknown extension {out.suffix!r}; use .md or .html")
    study = study_from_args(args)  # one-line error before anything is written
    inst = study.instrument
    reliability = _reliability(args, study) if args.data is not None else None
    text = schemas.codebook(study, lang=args.lang, fmt=fmt, reliability=reliability)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UserError(f"{out}: cannot write ({err.strerror})") from None
    print(f"codebook ({fmt}, {args.lang}) of {inst.name} {inst.version} written to {out}")
    return 0


def _reliability(args, study) -> dict:
    """Alpha and omega of every scale on the export (schemas stays free of data and analysis:
    the numbers are computed here and handed to the codebook)."""
    from surveydata.report import data as rdata  # noqa: PLC0415 - lazy: pandas/analysis only with --data

    if not Path(args.data).is_file():
        raise UserError(f"--data {args.data}: no such file")
    rd = rdata.load_data(args.data, study, args.lang)
    return rdata.scale_numbers(rd, rdata.weighting(rd).final)
