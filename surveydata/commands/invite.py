"""``surveydata invite [--study S] --frame FRAME.csv --out DIR [--db URL] [--base-url URL]``.

One unguessable token per unit of the frame (the sampled units), stored hashed in the database;
DIR/invitations.csv (mail merge: unit_id, token, url, frame columns) is the only place the
tokens are in clear, DIR/letters/ holds a printable letter per unit.
"""
from __future__ import annotations

from surveydata.commands._common import add_db_option, add_study_options

HELP = "create tokens and invitation letters for the sampled units of a frame"


def register(subparsers) -> None:
    p = subparsers.add_parser("invite", help=HELP, description=HELP)
    add_study_options(p)
    p.add_argument("--frame", metavar="CSV", required=True,
                   help="the sampled units: one row each, an id column and frame variables")
    p.add_argument("--out", metavar="DIR", required=True, help="where invitations go")
    add_db_option(p)
    p.add_argument("--id-column", default="unit_id", help="the frame's unit id column")
    p.add_argument("--base-url", default="http://127.0.0.1:8000",
                   help="public address of `surveydata serve` used in the links")
    p.add_argument("--wave", type=int, default=1, help="invitation wave number (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    from surveydata.fieldwork.invite import invite  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.store import engine_url  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.study import from_args  # noqa: PLC0415 - lazy (commands/__init__)

    study = from_args(args)
    res = invite(study, args.frame, args.out, engine_url(args.db, study.name),
                 id_column=args.id_column, base_url=args.base_url, wave=args.wave)
    print(f"{res.n} units invited; mail merge: {res.invitations} (the only copy of the tokens: "
          f"keep it safe); letters: {res.letters}/")
    return 0
