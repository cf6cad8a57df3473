"""Names of a study's variables in the report, read from its declaration (never from code).

Two names per variable:

* ``label`` - what headings, findings and the estimate tables say: the outcome's label in the
  analysis plan, else the derived variable's label, else the item's question text;
* ``short_label`` - what tight places say (model terms, forest plots, block tables): the
  ``short_label:`` the declaration gives the derived variable or item (study, then instrument),
  else the label.

Both fall back to the variable's name, so an undeclared name never fails. ``study`` is a Study,
anything with a ``.study`` (the report's data), or None: the packaged default study.

Example
-------
>>> import schemas
>>> study = schemas.load_study("pharmacy_staff")
>>> label("trained_yes", "en", study), short_label("trained_yes", "de", study)
('Ever trained', 'Jemals geschult')
>>> term_label("C(experience)[T.2]", "de", study)
'Berufserfahrung: 2'
"""
from __future__ import annotations

import functools
import re

import schemas

__all__ = ["label", "plan_label", "short_label", "term_label"]


@functools.lru_cache(maxsize=1)
def _default_study():
    return schemas.load_study(None)


def _study(study):
    if study is None:
        return _default_study()
    return getattr(study, "study", None) or study


def plan_label(study, kind: str, name: str, lang: str) -> str | None:
    """The heading the analysis plan declares for a group or block (``kind``: "group_labels" or
    "block_labels") in ``lang``; None when it declares none (``study`` None: the default study;
    a ReportData works too)."""
    plan = getattr(_study(study), "analysis", None)
    return text((getattr(plan, kind, None) or {}).get(name), lang) or None


def text(value, lang: str) -> str | None:
    """A declared text (a Label, a {de, en} mapping or a plain text) in ``lang``, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get(lang) or next(iter(value.values()), None)
    return value.get(lang) if hasattr(value, "get") else str(value)


def label(var: str, lang: str = "en", study=None) -> str:
    """The label of ``var`` in ``lang``: the outcome's, the derived variable's, or the item's
    question text (the name itself when the declaration has none)."""
    study = _study(study)
    plan = getattr(study, "analysis", None)
    for o in getattr(plan, "outcomes", ()) or ():
        if o.var == var and text(getattr(o, "label", None), lang):
            return text(o.label, lang)
    for d in getattr(study, "derived", ()) or ():
        if getattr(d, "var", None) == var:
            for attr in ("label", "text"):
                if text(getattr(d, attr, None), lang):
                    return text(getattr(d, attr), lang)
    inst = study.instrument
    try:
        item = inst.item(var)
    except (KeyError, ValueError, AttributeError):
        item = None
    if item is not None and text(item.text, lang):
        return text(item.text, lang)
    try:
        return text(inst.derived_variable(var).text, lang) or var
    except (KeyError, ValueError, AttributeError):
        return var


def _declared_short(study, var: str, lang: str) -> str | None:
    for d in getattr(study, "derived", ()) or ():
        if getattr(d, "var", None) == var and text(getattr(d, "short_label", None), lang):
            return text(d.short_label, lang)
    inst = study.instrument
    for find in (inst.item, inst.derived_variable):
        try:
            found = find(var)
        except (KeyError, ValueError, AttributeError):
            continue
        if text(getattr(found, "short_label", None), lang):
            return text(found.short_label, lang)
    return None


def short_label(var: str, lang: str = "en", study=None) -> str:
    """The short name of ``var`` for tables and figures: the declared ``short_label``, else
    :func:`label`."""
    study = _study(study)
    return _declared_short(study, var, lang) or label(var, lang, study)


def term_label(term: str, lang: str = "en", study=None) -> str:
    """A model term made readable: ``C(x)[T.b]`` (or ``x[T.b]``) -> "<short label of x>: b",
    ``x`` -> its short label."""
    m = re.fullmatch(r"C\((\w+)\)\[T\.(.*)\]", term) or re.fullmatch(r"(\w+)\[T\.(.*)\]", term)
    if m:
        return f"{short_label(m.group(1), lang, study)}: {m.group(2)}"
    return short_label(term, lang, study)
