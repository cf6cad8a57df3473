"""``surveydata fieldwork [--study S] [--db URL] [--reminders OUT.csv --invitations CSV]``.

Prints invited / started / completed / broken off by group, response rate against the target,
median duration and where respondents broke off. ``--reminders`` writes the mail-merge rows of
every unit still owed a response (from the invitation file, the only place tokens are in
clear). ``--hash-password`` reads a password from stdin and prints the hash to put into
SURVEYDATA_ADMIN_PASSWORD_HASH for the admin page of `surveydata serve`.
"""
from __future__ import annotations

import csv
import getpass
import sys

from surveydata.commands._common import add_db_option, add_study_options, require_database
from surveydata.errors import UserError

HELP = "fieldwork monitor: response status by stratum, reminder list"


def register(subparsers) -> None:
    p = subparsers.add_parser("fieldwork", help=HELP, description=HELP)
    add_study_options(p)
    add_db_option(p)
    p.add_argument("--reminders", metavar="OUT_CSV", default=None,
                   help="write the invitation rows of units without a completed response")
    p.add_argument("--invitations", metavar="CSV", default=None,
                   help="the invitations.csv of `surveydata invite` (needed by --reminders)")
    p.add_argument("--hash-password", action="store_true",
                   help="read a password from stdin, print its hash for "
                        "SURVEYDATA_ADMIN_PASSWORD_HASH, and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.hash_password:
        from surveydata.fieldwork.web import hash_password  # noqa: PLC0415 - lazy (commands/__init__)

        pw = (getpass.getpass("admin password: ") if sys.stdin.isatty()
              else sys.stdin.readline().rstrip("\n"))
        if len(pw) < 10:
            raise UserError("the admin password needs at least 10 characters")
        print(hash_password(pw))
        return 0
    from surveydata.fieldwork.form import Questionnaire  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.monitor import status  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.store import Store, engine_url  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.study import from_args  # noqa: PLC0415 - lazy (commands/__init__)

    study = from_args(args)
    url = engine_url(args.db, study.name)
    require_database(url, " (the one `surveydata invite`/`serve` used)")
    store = Store(url)
    try:
        st = status(store, study, Questionnaire(study.instrument))
    finally:
        store.dispose()
    print(st.text())
    if args.reminders:
        if not args.invitations:
            raise UserError("--reminders needs --invitations (the invitations.csv of "
                            "`surveydata invite`)")
        owed = set(st.reminder_units)
        try:
            with open(args.invitations, encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
        except OSError as err:
            raise UserError(f"{args.invitations}: cannot read ({err.strerror})") from None
        if not rows or rows[0][:2] != ["unit_id", "token"]:
            raise UserError(f"{args.invitations}: not an invitations.csv (first columns must "
                            "be unit_id,token)")
        keep = [rows[0]] + [r for r in rows[1:] if r and r[0] in owed]
        with open(args.reminders, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(keep)
        print(f"{len(keep) - 1} reminder(s) written to {args.reminders}")
    return 0
