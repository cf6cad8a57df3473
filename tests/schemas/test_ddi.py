"""The DDI-Codebook 2.5 export of the instrument: one <var> per export column with labels in both
languages, every code and missing code, skip conditions and sections; parsed back and compared."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import schemas
from schemas.ddi import DDI_NAMESPACE, ddi_codebook

NS = {"d": DDI_NAMESPACE}
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
INST = schemas.load_instrument()


def _root():
    return ET.fromstring(ddi_codebook(INST).encode("utf-8"))


def test_every_export_column_is_a_variable_in_order():
    names = [v.get("name") for v in _root().findall("d:dataDscr/d:var", NS) if v.get("ID").startswith("V")]
    assert names == list(INST.columns)


def test_codes_labels_and_missing_codes_of_an_item():
    var = _root().find("d:dataDscr/d:var[@name='incident_12m']", NS)
    labels = {lab.get(LANG): lab.text for lab in var.findall("d:labl", NS)}
    item = INST.item("incident_12m")
    assert labels == {"de": item.text.de, "en": item.text.en}
    cats = {(c.get("missing"), c.find("d:catValu", NS).text) for c in var.findall("d:catgry", NS)}
    assert cats == {(None, "1"), (None, "2"), ("Y", "-7"), ("Y", "-8"), ("Y", "-9")}
    dk = next(c for c in var.findall("d:catgry", NS) if c.find("d:catValu", NS).text == "-8")
    assert {lab.get(LANG): lab.text for lab in dk.findall("d:labl", NS)}["en"] == "Don't know"


def test_skip_condition_ranges_sections_and_derived():
    root = _root()
    skipped = next(i for i in INST.items if i.ask_if is not None)
    universe = root.find(f"d:dataDscr/d:var[@name='{skipped.var}']/d:universe", NS)
    assert universe is not None and universe.text
    num = next(i for i in INST.items if i.type == "integer" and i.max is not None)
    rng = root.find(f"d:dataDscr/d:var[@name='{num.var}']/d:valrng/d:range", NS)
    assert float(rng.get("max")) == num.max and float(rng.get("min")) == num.min
    groups = root.findall("d:dataDscr/d:varGrp", NS)
    assert {g.get("ID") for g in groups} == {f"section_{k}" for k in INST.sections}
    derived = root.findall("d:dataDscr/d:var/d:derivation", NS)
    assert len(derived) == len(INST.derived)


def test_markup_in_labels_is_escaped():
    text = ddi_codebook(INST)
    assert "<script" not in text
    ET.fromstring(text.encode("utf-8"))        # well-formed
