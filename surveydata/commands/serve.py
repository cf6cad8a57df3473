"""``surveydata serve [--study S | --instrument I] [--lang L] [--db URL] [--host H --port N]
[--workers K] [--anonymous]``.

Serves the study's questionnaire (see `surveydata.fieldwork.web`) with uvicorn. The database is
created/migrated on start: SQLite by default (``<study>.fieldwork.sqlite``), or ``--db
postgresql://user@host/db`` for several workers. The admin page needs the environment
variable SURVEYDATA_ADMIN_PASSWORD_HASH (``surveydata fieldwork --hash-password``).
"""
from __future__ import annotations

import argparse
import os

from surveydata.commands._common import add_db_option, add_study_options
from surveydata.errors import UserError

HELP = "serve the web questionnaire of a study (tokens or anonymous)"


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help=HELP, description=HELP)
    add_study_options(p, lang_help="default language of the questionnaire (respondents can "
                                   "switch)")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (use PostgreSQL for more than one)")
    p.add_argument("--anonymous", action="store_true",
                   help="open recruitment: anyone can start a response without a token")
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark cookies Secure (behind an HTTPS reverse proxy)")
    p.set_defaults(func=run)


def app_factory():
    """uvicorn --factory entry for several workers (configured through the environment)."""
    from surveydata.fieldwork.study import from_args  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.web import create_app  # noqa: PLC0415 - lazy (commands/__init__)

    env = os.environ
    args = argparse.Namespace(study=env.get("SURVEYDATA_SERVE_STUDY") or None,
                              instrument=env.get("SURVEYDATA_SERVE_INSTRUMENT") or None,
                              lang=env.get("SURVEYDATA_SERVE_LANG") or None, _lang_default=None)
    return create_app(from_args(args), env["SURVEYDATA_SERVE_DB"],
                      anonymous=env.get("SURVEYDATA_SERVE_ANONYMOUS") == "1",
                      secure_cookies=env.get("SURVEYDATA_SERVE_SECURE") == "1")


def run(args) -> int:
    import uvicorn  # noqa: PLC0415 - lazy (commands/__init__)

    from surveydata.fieldwork.store import Store, engine_url  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.study import from_args  # noqa: PLC0415 - lazy (commands/__init__)

    study = from_args(args)
    url = engine_url(args.db, study.name)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and url.startswith("sqlite"):
        print("surveydata serve: note: several workers on SQLite serialize their writes; "
              "use --db postgresql://... for real concurrency")
    Store(url).dispose()  # migrate once before workers start; a bad URL is a one-line error
    os.environ["SURVEYDATA_SERVE_STUDY"] = str(args.study or "")
    os.environ["SURVEYDATA_SERVE_INSTRUMENT"] = str(args.instrument or "")
    os.environ["SURVEYDATA_SERVE_LANG"] = args.lang or ""
    os.environ["SURVEYDATA_SERVE_DB"] = url
    os.environ["SURVEYDATA_SERVE_ANONYMOUS"] = "1" if args.anonymous else ""
    os.environ["SURVEYDATA_SERVE_SECURE"] = "1" if args.secure_cookies else ""
    print(f"serving {study.name} on http://{args.host}:{args.port}/ (database {url.split('@')[-1]})")
    uvicorn.run("surveydata.commands.serve:app_factory", factory=True, host=args.host,
                port=args.port, workers=args.workers, log_level="warning",
                server_header=False, date_header=False, access_log=False)
    return 0
