"""`short_label` on items, grid rows and derived variables: the name tables and figures show."""
from __future__ import annotations

from pathlib import Path

import pytest

from schemas import InstrumentError, load_instrument, parse_instrument
from schemas.instrument import Label

ROOT = Path(__file__).resolve().parents[2]
PRACTICE = (ROOT / "schemas" / "instruments" / "practice_security.yaml").read_text(encoding="utf-8")
PHARMACY = (ROOT / "schemas" / "instruments" / "pharmacy_staff.yaml").read_text(encoding="utf-8")
TYPE_LINE = '    short_label: {de: "Versorgungsbereich", en: "Practice type"}\n'


def test_the_practice_instrument_names_its_items_and_indices_for_tables():
    inst = load_instrument()
    assert inst.item("practice_type").short_label == Label("Versorgungsbereich", "Practice type")
    assert inst.item("federal_state").short_label.get("de") == "Bundesland"
    assert inst.derived_variable("tech_index").short_label.get("en") == "Technical measures (count)"
    assert inst.item("n_physicians").short_label is None        # optional: most items have none


def test_one_text_serves_both_languages():
    inst = parse_instrument(PRACTICE.replace(TYPE_LINE, "    short_label: Praxistyp\n"))
    assert inst.item("practice_type").short_label == Label("Praxistyp", "Praxistyp")


def test_a_grid_row_may_carry_its_own_short_label():
    row = '      - var: climate_rules_clear\n'
    assert row in PHARMACY
    inst = parse_instrument(PHARMACY.replace(row, row + '        short_label: "Rules clear"\n'))
    assert inst.item("climate_rules_clear").short_label == Label("Rules clear", "Rules clear")
    assert inst.item("climate_report_easy").short_label is None


@pytest.mark.parametrize("value, message", [
    ('{de: "Typ"}', "short_label has no text in 'en'; add en:"),
    ('""', "short_label is empty"),
    ('{de: "Typ", en: "Type", fr: "Type"}', "short_label: unknown language 'fr'"),
    ("[Typ]", "short_label must be a text or {de: .., en: ..}, got a list"),
    ("3", "short_label must be a text or {de: .., en: ..}, got the number 3"),
])
def test_a_broken_short_label_is_one_line_naming_the_item(value, message):
    with pytest.raises(InstrumentError) as err:
        parse_instrument(PRACTICE.replace(TYPE_LINE, f"    short_label: {value}\n"), "p.yaml")
    assert str(err.value).startswith("p.yaml: item 'practice_type': ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_derived_variables_of_the_study_carry_their_short_labels():
    import schemas

    study = schemas.load_study(None)
    derived = {d.var: d for d in study.derived}
    # declared in the study YAML's derived: entries
    assert derived["tm_firewall_full"].short_label == Label("Firewall", "Firewall")
    assert derived["training_all"].short_label.get("en") == "All staff trained"
    # passed through from the instrument's derived: (schemas.derived.compile_instrument)
    assert derived["tech_index"].short_label == load_instrument().derived_variable("tech_index").short_label
