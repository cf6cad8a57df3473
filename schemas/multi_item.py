"""The multi-item scales of a study: which items a reliability analysis takes together.

A scale is declared in one of two ways, and both count:

* a derived score of the study, ``compute: {mean: [..]}`` or ``{sum: [..]}`` over two or more
  items (its ``reverse:`` items and the items the instrument declares ``reverse: true`` are
  reverse-keyed, as `schemas.derive` reverses them);
* a grid of the instrument (items sharing one stem and rating scale) whose items no score
  already covers.

The codebook lists them with their items; the report and ``surveydata codebook --data`` compute
Cronbach's alpha and McDonald's omega on them (the numbers need data and the analysis layer, so
they are computed there and handed in: this module only reads the declaration).

Example:
    >>> import schemas
    >>> [(s.name, s.how, s.reverse) for s in multi_item_scales(schemas.load_study("pharmacy_staff"))]
    [('climate_score', 'mean', ('climate_time_pressure',))]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .instrument import Label

__all__ = ["MultiItemScale", "multi_item_scales"]


@dataclass(frozen=True)
class MultiItemScale:
    """One multi-item scale: ``name`` (the score's variable, or the grid's name), ``label`` (a
    Label, or None), ``items`` in order, the reverse-keyed ones among them, ``how`` ("mean",
    "sum" or "grid": a grid has no declared score) and ``min_valid`` (answers a score needs;
    None: every item)."""

    name: str
    label: Label | None
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    how: str = "grid"
    min_valid: int | None = None

    def title(self, lang: str) -> str:
        """The label in ``lang``, else the name."""
        text = self.label.get(lang) if self.label is not None else None
        return text or self.name


def _listed(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in (value or ()) if isinstance(v, str)]


def _label(value) -> Label | None:
    if value is None or isinstance(value, Label):
        return value
    if isinstance(value, str):
        return Label(value, value)
    if isinstance(value, Mapping):
        de, en = value.get("de", value.get("en")), value.get("en", value.get("de"))
        return Label(de, en) if de else None
    return None


def multi_item_scales(study) -> list[MultiItemScale]:
    """The scales of ``study`` (a Study, or an Instrument alone: its grids): the study's derived
    ``mean``/``sum`` scores over two or more items, in declaration order, then the instrument's
    grids of two or more items not covered by a score."""
    inst = getattr(study, "instrument", study)
    items = {i.var: i for i in inst.items}
    out, covered = [], set()
    derived = getattr(study, "derived", ()) if study is not inst else ()
    for d in derived or ():
        compute = getattr(d, "compute", None) or {}
        for how in ("mean", "sum"):
            members = [v for v in _listed(compute.get(how)) if v in items]
            if len(members) < 2:
                continue
            declared = set(_listed(compute.get("reverse")))
            reverse = tuple(v for v in members if v in declared or getattr(items[v], "reverse", False))
            min_valid = compute.get("min_valid")
            out.append(MultiItemScale(d.var, _label(getattr(d, "label", None)), tuple(members),
                                      reverse, how, min_valid if isinstance(min_valid, int) else None))
            covered.update(members)
    grids: dict[str, list] = {}
    for item in inst.items:
        if item.grid and item.var not in covered:
            grids.setdefault(item.grid, []).append(item)
    for grid, members in grids.items():
        if len(members) >= 2:
            out.append(MultiItemScale(grid, members[0].stem, tuple(i.var for i in members),
                                      tuple(i.var for i in members if i.reverse)))
    return out
