"""The instrument as a DDI-Codebook 2.5 XML document, for data archives (GESIS and most social
science archives take DDI).

One ``<var>`` per export column, in export order, each with its label and question text in both
languages (``xml:lang``), the skip condition as ``<universe>``, the valid range of numbers as
``<valrng>``, every response code as ``<catgry>`` and the instrument's missing codes as
``<catgry missing="Y">``; sections become ``<varGrp>``; derived variables carry their rule as
``<derivation>``. Built with ElementTree (escaping is the library's, not ours).

>>> import schemas
>>> xml = ddi_codebook(schemas.load_instrument())
>>> xml.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "ddi:codebook:2_5" in xml
True
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

__all__ = ["DDI_NAMESPACE", "ddi_codebook"]

DDI_NAMESPACE = "ddi:codebook:2_5"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGS = ("de", "en")


def _sub(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def _labels(parent, tag: str, label) -> None:
    for lang in LANGS:
        text = label.get(lang) if hasattr(label, "get") else None
        if text:
            _sub(parent, tag, text, **{XML_LANG: lang})


def _var_id(i: int) -> str:
    return f"V{i + 1}"


def ddi_codebook(inst) -> str:
    """DDI-Codebook 2.5 XML of ``inst`` (a `schemas.Instrument`), as a UTF-8 string."""
    ET.register_namespace("", DDI_NAMESPACE)
    root = ET.Element("codeBook", {"version": "2.5", "ID": f"{inst.name}-{inst.version}"})
    root.set("xmlns", DDI_NAMESPACE)
    doc = _sub(root, "docDscr")
    cit = _sub(_sub(doc, "citation"), "titlStmt")
    _labels(cit, "titl", inst.title)
    study = _sub(root, "stdyDscr")
    tstmt = _sub(_sub(study, "citation"), "titlStmt")
    _labels(tstmt, "titl", inst.title)
    _sub(tstmt, "IDNo", f"{inst.name} {inst.version}", agency="praxis-survey")
    meta = getattr(inst, "meta", None) or {}
    info = _sub(_sub(study, "stdyInfo"), "sumDscr")
    if meta.get("target_population"):
        _sub(info, "universe", meta["target_population"])
    if meta.get("respondent"):
        _sub(info, "anlyUnit", meta["respondent"])

    data = _sub(root, "dataDscr")
    columns = list(inst.columns)
    ids = {c: _var_id(i) for i, c in enumerate(columns)}
    sections: dict[str, list[str]] = {}
    for col in columns:
        try:
            item = inst.column_item(col)
        except (KeyError, ValueError):
            item = None
        if item is not None:
            sections.setdefault(item.section, []).append(ids[col])
    for key, members in sections.items():
        grp = _sub(data, "varGrp", ID=f"section_{key}", var=" ".join(members))
        section = inst.sections.get(key)
        if section is not None:
            _labels(grp, "labl", section.title)
    missing = dict(inst.missing_codes)
    metas = {m.var: m for m in getattr(inst, "metadata", ())}
    for col in columns:
        if col in metas:
            m = metas[col]
            var = _sub(data, "var", ID=ids[col], name=col)
            _labels(var, "labl", m.text)
            _sub(var, "varFormat", type="character" if m.type in ("id", "datetime") else "numeric")
            continue
        item = inst.column_item(col)
        discrete = item.type not in ("integer", "number", "text")
        var = _sub(data, "var", ID=ids[col], name=col,
                   intrvl="discrete" if discrete else ("contin" if item.type != "text" else None))
        _labels(var, "labl", item.text)
        qstn = _sub(var, "qstn")
        _labels(qstn, "qstnLit", item.text)
        lo, hi = getattr(item, "min", None), getattr(item, "max", None)
        if lo is not None or hi is not None:
            _sub(_sub(var, "valrng"), "range", min=lo, max=hi)
        if item.ask_if is not None:
            _sub(var, "universe", str(getattr(item.ask_if, "text", item.ask_if)), clusion="I")
        if item.type == "multi":
            opt = col.removeprefix(f"{item.var}__")
            option = next((o for o in item.options if str(o.code) == opt), None)
            if option is not None:
                _labels(var, "txt", option.label)
            for code, (de, en) in ((1, ("ausgewählt", "selected")), (0, ("nicht ausgewählt", "not selected"))):
                cat = _sub(var, "catgry")
                _sub(cat, "catValu", code)
                _sub(cat, "labl", de, **{XML_LANG: "de"})
                _sub(cat, "labl", en, **{XML_LANG: "en"})
        else:
            for code, label in (getattr(item, "codes", None) or {}).items():
                if code in missing:
                    continue
                cat = _sub(var, "catgry")
                _sub(cat, "catValu", code)
                _labels(cat, "labl", label)
        if item.type != "text":
            for code, mc in missing.items():
                cat = _sub(var, "catgry", missing="Y")
                _sub(cat, "catValu", code)
                _labels(cat, "labl", mc.label)
        _sub(var, "varFormat", type="character" if item.type == "text" else "numeric")
    for d in getattr(inst, "derived", ()):
        var = _sub(data, "var", ID=f"D_{d.var}", name=d.var)
        _labels(var, "labl", d.text)
        deriv = _sub(var, "derivation")
        _sub(deriv, "drvdesc", d.rule)
        _sub(var, "varFormat", type="numeric")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
