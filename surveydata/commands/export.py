"""``surveydata export [--study S] [--db URL] --out DIR [--link-units]``.

Writes the collected responses as the export `surveydata validate` and `surveydata report` read
(DIR/export.csv), the frame with each unit's response status (DIR/frame.csv), strata counts
(DIR/strata.csv) and paradata (DIR/paradata.csv); see `surveydata.fieldwork.export`. The export
is pseudonymous: the unit<->response link is cut unless --link-units is given.
"""
from __future__ import annotations

from pathlib import Path

HELP = "export collected responses for validate/report (and the frame with response status)"
FORMATS = ("csv",)  # archive formats (.sav/.dta) are added here


def register(subparsers) -> None:
    from surveydata.commands._common import add_study_options

    p = subparsers.add_parser("export", help=HELP, description=HELP)
    add_study_options(p)
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL or SQLite file (default: <study>.fieldwork.sqlite)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.add_argument("--format", choices=FORMATS, default="csv",
                   help="format of the response export (default csv)")
    p.add_argument("--link-units", action="store_true",
                   help="keep response_id in frame.csv (links units to answers; default: cut)")
    p.set_defaults(func=run)


def run(args) -> int:
    from surveydata.cli import UserError
    from surveydata.fieldwork.export import export_study
    from surveydata.fieldwork.store import engine_url
    from surveydata.fieldwork.study import from_args

    study = from_args(args)
    url = engine_url(args.db, study.name)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise UserError(f"{url[len('sqlite:///'):]}: no such database; give --db")
    written = export_study(study, url, args.out, pseudonymous=not args.link_units)
    print("written: " + ", ".join(str(p) for p in written.values()))
    return 0
