"""What ingestion needs to know about an instrument, in one small, flat view.

`schemas.load_instrument` owns the instrument; this module only reads it and answers the
questions `read_export`/`validate` ask: which columns an export must have, how each column is
coded (so its text can be parsed), which items are multi-choice, which are Likert items, and
whether an item was asked in a row (its ``ask_if``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.conditions import parse_condition

# How a column's text is parsed into the coded frame that the schema checks.
ID, DATETIME, NUMBER, INT_CODE, STR_CODE, TEXT = "id", "datetime", "number", "int", "str", "text"
DATE_ITEM = "date_item"  # a date or date-time ITEM (format 2): parsed with its range and missing codes


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # one of ID, DATETIME, NUMBER, INT_CODE, STR_CODE, TEXT
    item: str  # the item variable (for multi columns: the multi item)
    item_type: str  # single, multi, integer, likert5, text, id, datetime, number


@dataclass(frozen=True)
class Spec:
    name: str
    version: str
    columns: tuple[Column, ...]
    multi: tuple[tuple[str, tuple[str, ...]], ...]
    ask_if: tuple[tuple[str, object], ...]  # (item var, parsed Condition), questionnaire order
    likert: tuple[str, ...]
    single: tuple[str, ...]
    kinds: dict = field(default_factory=dict)


def _items(inst):
    return list(inst.items)


_CACHE: dict[int, tuple[object, Spec]] = {}


def spec(inst) -> Spec:
    """The flat view of ``inst``, cached per instrument object (instruments are immutable)."""
    hit = _CACHE.get(id(inst))
    if hit is None or hit[0] is not inst:
        hit = (inst, _build(inst))
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[id(inst)] = hit
    return hit[1]


def _get(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _build(inst) -> Spec:
    columns: list[Column] = []
    for m in _get(inst, "metadata", ()) or ():
        t = _get(m, "type")
        kind = {"id": ID, "datetime": DATETIME, "number": NUMBER}.get(t, TEXT)
        columns.append(Column(_get(m, "var"), kind, _get(m, "var"), t))
    multi, ask_if, likert, single = [], [], [], []
    for it in _get(inst, "items"):
        var, t = _get(it, "var"), _get(it, "type")
        codes = _get(it, "codes") or {}
        cond = _get(it, "ask_if")
        if cond is not None:
            ask_if.append((var, cond if hasattr(cond, "evaluate") else parse_condition(cond)))
        if t == "multi":
            opts = _get(it, "options") or ()
            options = (tuple(str(_get(o, "code")) for o in opts) if opts
                       else tuple(str(o) for o in codes))
            multi.append((var, options))
            columns += [Column(f"{var}__{o}", INT_CODE, var, t) for o in options]
            continue
        if t == "text":
            columns.append(Column(var, TEXT, var, t))
            continue
        if t == "integer":
            columns.append(Column(var, INT_CODE, var, t))
            continue
        if t == "number":  # format 2: decimals
            columns.append(Column(var, NUMBER, var, t))
            continue
        if t in ("date", "datetime"):  # format 2
            columns.append(Column(var, DATE_ITEM, var, t))
            continue
        is_str = any(isinstance(c, str) and not _is_int_text(c) for c in codes)
        columns.append(Column(var, STR_CODE if is_str else INT_CODE, var, t))
        single.append(var)
        if t == "likert5":
            likert.append(var)
    meta = _get(inst, "instrument", None) or {}
    name = _get(inst, "name", None) or _get(meta, "name", "")
    version = _get(inst, "version", None) or _get(meta, "version", "")
    return Spec(str(name), str(version), tuple(columns), tuple(multi), tuple(ask_if),
                tuple(likert), tuple(single), {c.name: c.kind for c in columns})


def _is_int_text(x: str) -> bool:
    try:
        int(x)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------- questions


def raw_columns(inst) -> list[str]:
    """Every column an export of ``inst`` must have, in questionnaire order."""
    return [c.name for c in spec(inst).columns]


def multi_items(inst):
    """(var, options) for each multi-choice item."""
    return spec(inst).multi


def multi_columns(inst):
    """(var, option) for every multi-choice column ``var__option``."""
    return [(v, o) for v, opts in spec(inst).multi for o in opts]


def coded_single_columns(inst) -> list[str]:
    """Columns of single-code items (single, likert, integer), where an empty cell means a code."""
    return [c.name for c in spec(inst).columns
            if c.kind in (INT_CODE, STR_CODE) and c.item_type != "multi"]


def likert_items(inst) -> tuple[str, ...]:
    return spec(inst).likert


def asked_mask_from_text(inst, raw: pd.DataFrame) -> dict[str, np.ndarray]:
    """Like `asked_masks`, but from an all-text frame where a skipped item is an empty cell.

    Items are processed in questionnaire order: an empty cell of an item that was itself not
    asked counts as -7 when later conditions look at it.
    """
    sp = spec(inst)
    conds = dict(sp.ask_if)
    coded = pd.DataFrame(index=raw.index)
    out = {}
    for col in sp.columns:
        if col.name not in raw.columns or col.kind not in (INT_CODE, STR_CODE):
            continue
        text = raw[col.name].str.strip()
        if col.kind == INT_CODE:
            text = text.replace({"Y": "1", "N": "0"})
            values = pd.to_numeric(text.where(text.str.fullmatch(r"[+-]?\d+"), None),
                                   errors="coerce").astype("Int64")
        else:
            values = text.where(text != "", None)
        cond = conds.get(col.item)
        asked = np.ones(len(raw), dtype=bool)
        if cond is not None and all(v in coded.columns for v in cond.variables):
            if col.item not in out:
                out[col.item] = cond.evaluate(coded).to_numpy(dtype=bool)
            asked = out[col.item]
        if col.kind == INT_CODE:
            values = values.mask(~asked & values.isna(), -7)
            if col.item_type == "multi":
                # an empty option of an asked question is unticked (0) for later conditions
                values = values.mask(asked & values.isna(), 0)
        coded[col.name] = values
    return out
