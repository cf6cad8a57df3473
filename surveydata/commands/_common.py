"""Command-line options every command shares, declared once: which study, which language.

``add_study_options(parser)`` adds

* ``--study STUDY.yaml``: a study declaration (schemas/study.py), or
* ``--instrument X.yaml``: an instrument alone (a packaged name or a file): the
  instrument-only study, without population, design or weighting (results unweighted and
  labelled so). The two are mutually exclusive; neither -> the packaged practice study;
* ``--lang``: the language of texts and labels; it must be one of the study's languages, and
  defaults to the command's own default (``lang_default``) when the study has it, else to the
  study's first language.

``study_from_args(args)`` loads and validates the declaration (every key, every derived
variable, every margin and formula: a StudyError/InstrumentError, one line, exit code 2, before
anything is written), settles ``args.lang`` and returns the Study.

How a command uses it (in its module under surveydata/commands/)::

    from surveydata.commands._common import add_study_options, study_from_args

    def register(subparsers):
        p = subparsers.add_parser("mycommand", help=HELP)
        add_study_options(p, lang_default="de")
        p.add_argument("--out", required=True)
        p.set_defaults(func=run)

    def run(args):
        study = study_from_args(args)         # raises before anything is written
        inst = study.instrument
        ...                                    # use args.lang, study.languages, study.design

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_study_options(p, lang_default="de")
    >>> args = p.parse_args([])
    >>> study = study_from_args(args)
    >>> study.name, args.lang
    ('practice_security', 'de')
"""

from __future__ import annotations

import argparse
from pathlib import Path

import schemas
from schemas.instrument import LANGUAGES
from surveydata.errors import UserError

__all__ = ["LANGUAGES", "add_db_option", "add_study_options", "require_database",
           "study_from_args"]


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add --db (the fieldwork database) with its one default, for every fieldwork command."""
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL or SQLite file (default: <study>.fieldwork.sqlite)")


def require_database(url: str, hint: str = "") -> None:
    """A UserError when `url` names a SQLite file that does not exist (a typo in --db would
    otherwise create an empty database and report nothing).

    >>> require_database("sqlite:///no/such.sqlite")
    Traceback (most recent call last):
    ...
    surveydata.errors.UserError: no/such.sqlite: no such database; give --db
    """
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise UserError(f"{url[len('sqlite:///'):]}: no such database; give --db{hint}")


def add_study_options(parser: argparse.ArgumentParser, *, lang_default: str | None = None,
                      lang_help: str = "language of texts and labels") -> None:
    """Add --study / --instrument (mutually exclusive) and --lang to `parser`.

    `lang_default` is the command's default language, used when the study has it (else the
    study's first language).
    """
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--study", metavar="STUDY.yaml", default=None,
                       help="study declaration (default: the packaged practice_security study)")
    which.add_argument("--instrument", metavar="X.yaml", default=None,
                       help="an instrument alone (file or packaged name): no population, design "
                            "or weighting; results unweighted")
    default = f"{lang_default}, if the study has it, else" if lang_default else ""
    # no argparse `choices`: a wrong language is checked against the study in study_from_args,
    # one line naming the study and its languages (argparse would print the whole usage)
    parser.add_argument("--lang", metavar="{" + ",".join(LANGUAGES) + "}", default=None,
                        help=f"{lang_help} (default: {default} the study's first language)")
    parser.set_defaults(_lang_default=lang_default)


def study_from_args(args: argparse.Namespace):
    """The Study the arguments name (validated), with ``args.lang`` settled.

    Raises schemas.StudyError (or InstrumentError) for a broken declaration or a language the
    study does not have: the CLI prints it as one line and exits with 2.
    """
    if getattr(args, "study", None) is not None:
        study = schemas.load_study(args.study)
    elif getattr(args, "instrument", None) is not None:
        study = schemas.load_study(schemas.load_instrument(args.instrument))
    else:
        study = schemas.load_study(None)
    lang = getattr(args, "lang", None)
    if lang is None:
        wanted = getattr(args, "_lang_default", None)
        lang = wanted if wanted in study.languages else study.languages[0]
    elif lang not in study.languages:
        source = study.source or study.name
        raise schemas.StudyError(f"{source}: --lang {lang}: the study has texts in "
                                 f"{', '.join(study.languages)} only; choose one of them")
    args.lang = lang
    return study
