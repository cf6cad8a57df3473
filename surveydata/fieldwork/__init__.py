"""Fieldwork: collect responses with a web questionnaire generated from the study declaration.

Running a survey in three commands::

    surveydata invite --study S --frame sample.csv --out invitations/ [--db URL]
    surveydata serve  --study S [--db URL] [--host 0.0.0.0 --port 8000 --workers K]
    surveydata export --study S [--db URL] --out data/      # then: surveydata validate data/export.csv

``surveydata fieldwork --study S`` shows the progress by stratum (and ``--reminders``).
Databases: SQLite (WAL) by default (``<study>.fieldwork.sqlite``), or
``--db postgresql://user@host/db`` (psycopg 3) when several server workers run.

Modules, one job each:

study       what fieldwork reads of a study (`schemas.load_study`, or an instrument alone)
store       SQLAlchemy tables, Alembic migrations, append-only page submissions
tokens      unguessable tokens (`secrets`), stored as SHA-256, compared in constant time
form        pages, posted fields -> raw codes, checks = `schemas.check_specs` (as validation)
web         the ASGI app (Starlette + Jinja2): pages, sessions, CSRF, limits, headers, admin
invite      tokens + mail-merge CSV + printable letters
monitor     invited / started / completed / broken off by group, reminder list
export      export.csv (validator input), frame.csv (response status), strata.csv, paradata.csv

Design rule: imports `schemas` and surveydata's validation, never `analysis`.

>>> from surveydata.fieldwork import Questionnaire, load_study
>>> len(Questionnaire(load_study(None).instrument).pages)
15
"""
from surveydata.fieldwork.export import export_study
from surveydata.fieldwork.form import Questionnaire
from surveydata.fieldwork.store import Store, StoreError
from surveydata.fieldwork.study import load as load_study

__all__ = ["Questionnaire", "Store", "StoreError", "export_study", "load_study"]
