"""The languages of texts and labels, and their check, for every layer that prints text.

The languages are the instrument's (`schemas.instrument.LANGUAGES`: every Label has a German and
an English text). Here, below the report layer, so ingestion (`surveydata.demo`) checks a
language without importing the report.

>>> check_lang("en")
'en'
>>> check_lang("fr")
Traceback (most recent call last):
...
surveydata.languages.LanguageError: language 'fr' is not supported; expected one of de, en
"""
from __future__ import annotations

from schemas.instrument import LANGUAGES
from surveydata.errors import SurveyDataError

__all__ = ["LANGS", "LanguageError", "check_lang"]

LANGS = LANGUAGES


class LanguageError(SurveyDataError):
    """A language the texts do not exist in (a ValueError, as before it had a name)."""


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else a LanguageError naming the choices."""
    if lang not in LANGS:
        raise LanguageError(f"language {lang!r} is not supported; expected one of {', '.join(LANGS)}")
    return lang
