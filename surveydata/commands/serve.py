"""``surveydata serve [--study S] [--db URL] [--host H --port N] [--workers K] [--anonymous]``.

Serves the study's questionnaire (see `surveydata.fieldwork.web`) with uvicorn. The database is
created/migrated on start: SQLite by default (``<study>.fieldwork.sqlite``), or ``--db
postgresql://user@host/db`` for several workers. The admin page needs the environment
variable SURVEYDATA_ADMIN_PASSWORD_HASH (``surveydata fieldwork --hash-password``).
"""
from __future__ import annotations

import os

HELP = "serve the web questionnaire of a study (tokens or anonymous)"


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help=HELP, description=HELP)
    p.add_argument("--study", metavar="PATH", default=None,
                   help="study (or instrument) YAML (default: the packaged practice study)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL or SQLite file (default: <study>.fieldwork.sqlite)")
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
    from surveydata.fieldwork.study import load
    from surveydata.fieldwork.web import create_app

    study = load(os.environ.get("SURVEYDATA_SERVE_STUDY") or None)
    return create_app(study, os.environ["SURVEYDATA_SERVE_DB"],
                      anonymous=os.environ.get("SURVEYDATA_SERVE_ANONYMOUS") == "1",
                      secure_cookies=os.environ.get("SURVEYDATA_SERVE_SECURE") == "1")


def run(args) -> int:
    import uvicorn

    from surveydata.cli import UserError
    from surveydata.fieldwork.store import Store, engine_url
    from surveydata.fieldwork.study import load

    study = load(args.study)
    url = engine_url(args.db, study.name)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and url.startswith("sqlite"):
        print("surveydata serve: note: several workers on SQLite serialize their writes; "
              "use --db postgresql://... for real concurrency")
    Store(url).dispose()  # migrate once before workers start; a bad URL is a one-line error
    os.environ["SURVEYDATA_SERVE_STUDY"] = str(args.study or "")
    os.environ["SURVEYDATA_SERVE_DB"] = url
    os.environ["SURVEYDATA_SERVE_ANONYMOUS"] = "1" if args.anonymous else ""
    os.environ["SURVEYDATA_SERVE_SECURE"] = "1" if args.secure_cookies else ""
    print(f"serving {study.name} on http://{args.host}:{args.port}/ (database {url.split('@')[-1]})")
    uvicorn.run("surveydata.commands.serve:app_factory", factory=True, host=args.host,
                port=args.port, workers=args.workers, log_level="warning",
                server_header=False, date_header=False, access_log=False)
    return 0
