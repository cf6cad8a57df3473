"""The study a fieldwork command works on: `schemas.load_study` when it exists, else the instrument.

Fieldwork needs only a few things of a study: its name, its instrument, its languages, a title
and the fieldwork targets. `load(path)` returns those whether `path` is a study YAML, an
instrument YAML or None (the packaged practice study).

Example:
    >>> s = load(None)
    >>> s.name, s.instrument.name, s.languages[0] in ("de", "en")
    ('practice_security', 'practice_security', True)
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemas
from surveydata.commands._common import study_from_args

__all__ = ["FieldStudy", "from_args", "from_study", "load"]


@dataclass(frozen=True)
class FieldStudy:
    """What fieldwork reads of a study declaration."""

    name: str
    instrument: schemas.Instrument
    languages: tuple[str, ...] = ("de", "en")
    titles: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)  # {"by": var, "response_rate": float, ...}
    strata: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        """The study title in `lang` (the instrument's title when the study has none)."""
        return self.titles.get(lang) or self.instrument.title.get(lang)


def from_study(study, lang: str | None = None) -> FieldStudy:
    """The fieldwork view of a `schemas.load_study` Study; `lang` first among its languages
    (the questionnaire's default language)."""
    fw = getattr(study, "fieldwork", None)
    targets: dict[str, Any] = {}
    if fw is not None:
        raw = getattr(fw, "targets", None) or (fw if isinstance(fw, Mapping) else {})
        targets = dict(raw.get("targets", raw)) if isinstance(raw, Mapping) else {}
    langs = tuple(getattr(study, "languages", ("de", "en")))
    if lang in langs:
        langs = (lang, *(x for x in langs if x != lang))
    design = getattr(study, "design", None)
    return FieldStudy(name=study.name, instrument=study.instrument, languages=langs,
                      titles={lang: study.title(lang) for lang in langs}, targets=targets,
                      strata=tuple(getattr(design, "strata", ()) or ()))


def load(path: str | Path | None) -> FieldStudy:
    """Load a study (or an instrument as an instrument-only study); None = the packaged one."""
    return from_study(schemas.load_study(path))

def from_args(args) -> FieldStudy:
    """The study named by the shared command-line options (--study / --instrument / --lang of
    `surveydata.commands._common`), with --lang as the default language."""
    return from_study(study_from_args(args), getattr(args, "lang", None))
