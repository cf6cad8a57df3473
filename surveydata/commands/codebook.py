"""``surveydata codebook --out FILE [--study S.yaml | --instrument X.yaml]``: the codebook of the
study's instrument, Markdown or HTML by the file's extension."""
from __future__ import annotations

from pathlib import Path

HELP = "write the codebook of the instrument (Markdown or HTML by the file's extension)"
FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


def register(subparsers) -> None:
    p = subparsers.add_parser("codebook", help=HELP, description=HELP)
    from surveydata.commands._common import add_study_options

    add_study_options(p, lang_default="de", lang_help="language of the texts")
    p.add_argument("--out", metavar="FILE", required=True, help="output file (.md or .html)")
    p.set_defaults(func=run)


def run(args) -> int:
    import schemas
    from surveydata.cli import UserError
    from surveydata.commands._common import study_from_args

    out = Path(args.out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UserError(f"{out}: unknown extension {out.suffix!r}; use .md or .html")
    inst = study_from_args(args).instrument  # one-line error before anything is written
    text = schemas.codebook(inst, lang=args.lang, fmt=fmt)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UserError(f"{out}: cannot write ({err.strerror})") from None
    print(f"codebook ({fmt}, {args.lang}) of {inst.name} {inst.version} written to {out}")
    return 0
