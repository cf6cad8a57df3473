"""Instrument format 2 (issue 11 part 3), backward compatible with format 1.

Format 1 (no `format:` key) keeps every result: the practice instrument's validation of the demo
export is compared with hashes recorded from the code before format 2 existed (commit 1ce771e;
tests/data/practice_demo_validation_sha256.json): update them only for a deliberate change of the
validation output, never to make this test pass.
"""
from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import schemas
from schemas import InstrumentError, coerce_raw, load_instrument, parse_instrument, to_typed

ROOT = Path(__file__).resolve().parents[2]

MINI2 = """
format: 2
instrument: {name: mini2, version: "0.1"}
meta: {title_de: "Mini", title_en: "Mini"}
missing_codes:
  -1: {name: not_applicable, label_de: "Filter", label_en: "Skipped"}
  -2: {name: no_answer, label_de: "Keine Angabe", label_en: "No answer"}
  -3: {name: dont_know, label_de: "Weiß nicht", label_en: "Don't know"}
  -4: {name: refused, label_de: "Verweigert", label_en: "Refused"}
sections:
  A: {title_de: "Teil A", title_en: "Part A"}
scales:
  ten:
    points: 11
    start: 0
    labels:
      0: {label_de: "gar nicht", label_en: "not at all"}
      10: {label_de: "voll", label_en: "completely"}
    missing: [-3]
metadata:
  - {var: response_id, type: id, text_de: "ID", text_en: "ID"}
items:
  - var: kind
    section: A
    type: single
    text_de: "Art?"
    text_en: "Kind?"
    codes:
      1: {label_de: "Eins", label_en: "One"}
      2: {label_de: "Zwei", label_en: "Two", specify: kind_other}
  - var: hours
    section: A
    type: number
    text_de: "Stunden?"
    text_en: "Hours?"
    unit: h
    validation: {min: 0, max: 80, decimals: 1}
    missing: [-3, -4]
  - var: staff
    section: A
    type: integer
    text_de: "Personen?"
    text_en: "People?"
    ask_if: "kind == 1"
    validation: {min: 0, max: 500}
    missing: [-3]
  - grid: trust
    section: A
    scale: ten
    text_de: "Wie sehr vertrauen Sie ...?"
    text_en: "How far do you trust ...?"
    ask_if: "kind == 1"
    items:
      - {var: trust_it, text_de: "der IT", text_en: "IT"}
      - {var: trust_boss, text_de: "der Leitung", text_en: "management", reverse: true}
  - var: since
    section: A
    type: date
    text_de: "Seit wann?"
    text_en: "Since when?"
    missing: [-3]
"""


def mini2(text: str = MINI2) -> schemas.Instrument:
    return parse_instrument(textwrap.dedent(text), source="mini2.yaml")


def refused(old: str, new: str) -> str:
    assert old in MINI2, old
    with pytest.raises(InstrumentError) as err:
        mini2(MINI2.replace(old, new, 1))
    msg = str(err.value)
    assert msg.startswith("mini2.yaml: ") and "\n" not in msg
    return msg[len("mini2.yaml: "):]


# --------------------------------------------------------------------------- format 1 unchanged


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False, lineterminator="\n").encode()).hexdigest()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_practice_validation_of_the_demo_is_byte_identical(lang):
    from surveydata import read_export
    from surveydata.validate import validate

    golden = json.loads((ROOT / "tests/data/practice_demo_validation_sha256.json").read_text())[lang]
    inst = load_instrument()
    assert inst.format == 1
    res = validate(read_export(ROOT / "surveydata/demo/export.csv", inst), inst, lang=lang)
    cols = [c for c in res.valid.columns
            if c in set(inst.columns) or c.endswith("__missing") or c == "line"]
    assert (len(res.valid), len(res.quarantine)) == (golden["n_valid"], golden["n_quarantined"])
    assert _sha(res.quarantine) == golden["quarantine"]
    assert _sha(res.failures) == golden["failures"]
    assert _sha(res.flags) == golden["flags"]
    assert _sha(res.valid[cols]) == golden["valid_items"]
    assert hashlib.sha256(str(list(res.valid[cols].dtypes.astype(str))).encode()).hexdigest() \
        == golden["dtypes"]


def test_format_key():
    assert load_instrument().format == 1 and mini2().format == 2
    assert refused("format: 2", "format: 3") == \
        "format: must be 1 or 2 (the rules the file follows), got 3"
    base = (ROOT / "tests/schemas/test_instrument.py").read_text(encoding="utf-8")
    mini1 = textwrap.dedent(base.split('BASE = """', 1)[1].split('"""', 1)[0])
    with pytest.raises(InstrumentError, match="item 'count': item type 'number' needs format: 2"):
        parse_instrument(mini1.replace("type: integer", "type: number"), source="m1")
    with pytest.raises(InstrumentError, match="only -7, -8, -9 exist .declare format: 2"):
        parse_instrument(mini1.replace("missing_codes:\n", "missing_codes:\n  99: {name: x}\n"),
                         source="m1")


# --------------------------------------------------------------------------- the declaration


def test_missing_code_set_is_the_instruments_own():
    inst = mini2()
    assert dict(inst.missing_set) == {-1: "not_applicable", -2: "no_answer", -3: "dont_know",
                                      -4: "refused"}
    assert (inst.not_applicable, inst.no_answer, inst.dont_know, inst.refused) == (-1, -2, -3, -4)
    assert inst.missing_categories == ("not_applicable", "dont_know", "refused", "no_answer")
    # missing codes: the instrument's order; no_answer added unless required
    assert inst.item("hours").missing == (-2, -3, -4)
    assert inst.item("kind").missing == (-2,)
    assert inst.item("hours").codes[-3].en == "Don't know"  # label from the instrument


def test_default_missing_codes_when_format_2_declares_none():
    inst = mini2(MINI2.split("missing_codes:")[0] + "sections:" + MINI2.split("sections:")[1]
                 .replace("missing: [-3, -4]", "missing: [-8]").replace("missing: [-3]", "missing: [-8]"))
    assert dict(inst.missing_set) == {-7: "not_applicable", -8: "dont_know", -9: "no_answer"}


def test_grid_expands_to_items_sharing_scale_stem_and_filter():
    inst = mini2()
    grid = [i for i in inst.items if i.grid == "trust"]
    assert [i.var for i in grid] == ["trust_it", "trust_boss"]
    for item in grid:
        assert item.type == "scale" and item.scale == "ten" and item.rating and item.ordered
        assert item.stem.en == "How far do you trust ...?"
        assert item.ask_if.text == "kind == 1"
        assert list(item.codes) == [*range(11), -3]
        assert item.codes[5].en == "5" and item.codes[10].de == "voll"
        assert item.missing == (-2, -3)
    assert [i.reverse for i in grid] == [False, True]


def test_other_specify_adds_a_text_item_asked_when_the_option_is_chosen():
    inst = mini2()
    other = inst.item("kind_other")
    assert inst.variables[:2] == ("kind", "kind_other")
    assert other.type == "text" and other.ask_if.text == "kind == 2"
    assert other.specify_for == ("kind", 2) and other.text.en == "Two: please specify"
    pharmacy = load_instrument("pharmacy_staff")
    assert pharmacy.item("devices_other").ask_if.text == "devices_used__other == 1"


def test_number_date_and_units():
    inst = mini2()
    hours, since = inst.item("hours"), inst.item("since")
    assert (hours.min, hours.max, hours.decimals, hours.unit.de) == (0, 80, 1, "h")
    assert (since.min, since.max) == ("1900-01-01", "2100-12-31")
    assert schemas.raw_dtypes(inst)["hours"] == "float64"
    assert schemas.raw_dtypes(inst)["since"] == "str"


@pytest.mark.parametrize("old, new, expected", [
    ("validation: {min: 0, max: 500}", "validation: {min: -5, max: 500}",
     "item 'staff': validation range -5..500 contains the missing code ... "),
    ("    start: 0\n", "    start: -3\n",
     ("scale 'ten': point -3 is also a missing code (-1/-2/-3/-4); choose another start or other "
     "missing codes")),
    ("      10: {label_de", "      9: {label_de", "scale 'ten': the end point 10 needs a label"),
    ("    scale: ten\n    text_de: \"Wie", "    scale: eleven\n    text_de: \"Wie",
     "item 'trust_it': unknown scale 'eleven' (scales: ten)"),
    ("    missing: [-3, -4]", "    missing: [-1]",
     "item 'hours': missing may not list -1 (not applicable follows from ask_if)"),
    ("    missing: [-3, -4]", "    missing: [-9]",
     ("item 'hours': missing lists -9, which is not one of the instrument's missing codes "
     "(-1/-2/-3/-4)")),
    ("  -4: {name: refused,", "  -5: {name: dont_know,",
     "missing_codes: codes -3 and -5 are both dont_know"),
    ("  -2: {name: no_answer,", "  -2: {name: nope,",
     ("missing_codes: code -2: name must be one of not_applicable, dont_know, refused, no_answer, "
     "got 'nope'")),
    ("    validation: {min: 0, max: 80, decimals: 1}",
     "    validation: {min: 0, max: 80, decimals: 1.5}",
     "item 'hours': validation.decimals must be an integer from 0 to 10, got 1.5"),
    ('    text_en: "Since when?"\n', '    text_en: "Since when?"\n    validation: {min: "2020-13-01"}\n',
     "item 'since': validation.min must be a date YYYY-MM-DD, got '2020-13-01'"),
    ("specify: kind_other", "specify: Kind Other",
     ("item 'kind': code 2: specify must name the text variable of the 'other (specify)' answer "
     "(a lower-case name), got 'Kind Other'")),
    ("    unit: h\n", "    unit: 5\n",
     "item 'hours': unit must be a text (e.g. 'h') or {label_de, label_en}, got 5"),
])
def test_broken_format_2_declarations(old, new, expected):
    msg = refused(old, new)
    if expected.endswith("... "):
        assert msg.startswith(expected[:-4])
    else:
        assert msg == expected


def test_a_date_that_does_not_exist_in_yaml_is_one_line():
    msg = refused('    text_en: "Since when?"\n',
                  '    text_en: "Since when?"\n    validation: {min: 2020-13-01}\n')
    assert msg == "not valid YAML: month must be in 1..12"


def test_range_collision_names_the_code_and_the_fix():
    msg = refused("validation: {min: 0, max: 500}", "validation: {min: -50, max: 500}\n"
                  "    unit: {label_de: Personen, label_en: people}\n    reverse: false")
    assert msg == "item 'staff': validation range -50..500 contains the missing code -4; narrow " \
                  "the range or declare missing codes outside it"


# --------------------------------------------------------------------------- checks and typed frame


def _raw(**cells) -> pd.DataFrame:
    row = {"response_id": "R1", "kind": "1", "kind_other": None, "hours": "2,5", "staff": "3",
           "trust_it": "7", "trust_boss": "-3", "since": "3.11.2025"}
    row.update(cells)
    return pd.DataFrame([row], dtype="str")


def _failed(frame_text: pd.DataFrame, inst=None) -> set[str]:
    inst = inst or mini2()
    coerced, problems = coerce_raw(frame_text, inst, decimal=",")
    masks = schemas.check_masks(coerced, inst)
    bad = {name for name, ok in masks.items() if not bool(ok.iloc[0])}
    return bad | set(problems["check"])


def test_a_clean_row_passes_every_check():
    assert _failed(_raw()) == set()


@pytest.mark.parametrize("cells, expected", [
    ({"hours": "2,55"}, {"decimals:hours"}),
    ({"hours": "81"}, {"range:hours"}),
    ({"hours": "-3"}, set()),  # don't know
    ({"hours": "-4"}, set()),  # refused
    ({"hours": "-9"}, {"range:hours"}),  # not this instrument's code
    ({"hours": "2.5"}, {"dtype:hours", "not_nullable:hours"}),  # the export declares a comma
    ({"staff": "-3"}, set()),
    ({"staff": "0"}, set()),
    ({"staff": "-4"}, {"range:staff"}),  # refused not offered by this item
    ({"staff": "-1"}, {"skip_asked:staff"}),
    ({"kind": "2", "staff": "-1", "trust_it": "-1", "trust_boss": "-1", "kind_other": "Drei"}, set()),
    ({"kind": "2", "staff": "-1", "trust_it": "-1", "trust_boss": "-1"}, set()),  # no text given
    ({"kind_other": "Drei"}, {"skip_not_asked:kind_other"}),
    ({"kind": "2", "staff": "4", "trust_it": "-1", "trust_boss": "-1"}, {"skip_not_asked:staff"}),
    ({"trust_it": "11"}, {"scale:trust_it"}),
    ({"trust_it": "-4"}, {"scale:trust_it"}),
    ({"since": "1899-12-31"}, {"dtype:since", "not_nullable:since"}),
    ({"since": "2025-02-29"}, {"dtype:since", "not_nullable:since"}),
    ({"since": "-3"}, set()),
    ({"since": "-1"}, {"range:since"}),
])
def test_checks_use_the_instruments_codes(cells, expected):
    assert _failed(_raw(**cells)) == expected


def test_typed_frame_with_own_missing_codes():
    inst = mini2()
    text = pd.concat([_raw(), _raw(hours="-4", trust_it="-3", since="-3", kind="2", staff="-1",
                                    trust_boss="-1", kind_other="Drei")], ignore_index=True)
    coerced, problems = coerce_raw(text, inst, decimal=",")
    assert problems.empty
    typed = to_typed(coerced, inst, lang="en")
    assert typed["hours"].tolist()[0] == 2.5 and np.isnan(typed["hours"].iloc[1])
    assert typed["hours__missing"].tolist() == [np.nan, "refused"] or \
        typed["hours__missing"].astype(object).tolist()[1] == "refused"
    assert list(typed["hours__missing"].cat.categories) == list(inst.missing_categories)
    assert typed["trust_it"].cat.ordered and len(typed["trust_it"].cat.categories) == 11
    assert typed["trust_it"].astype(object).tolist() == ["7", np.nan]
    assert typed["trust_it__missing"].astype(object).tolist()[1] == "dont_know"
    assert typed["trust_boss__missing"].astype(object).tolist() == ["dont_know", "not_applicable"]
    assert typed["since"].tolist()[0] == pd.Timestamp("2025-11-03") and pd.isna(typed["since"][1])
    assert typed["since__missing"].astype(object).tolist()[1] == "dont_know"
    assert typed["staff__missing"].astype(object).tolist()[1] == "not_applicable"
    cat = to_typed(coerced, inst, lang="en", dont_know="category")
    assert cat["trust_it"].astype(object).tolist() == ["7", "Don't know"]


def test_codebook_shows_the_new_parts_in_both_languages():
    inst = load_instrument("pharmacy_staff")
    en = schemas.codebook(inst, lang="en")
    de = schemas.codebook(inst, lang="de", fmt="html")
    for fact in ("| `97` | not_applicable |", "Unit: hours per week", "Decimal places at most: 1",
                 "Scale `agree7`: 7 points (1–7)", "Grid `climate`: How far do you agree",
                 "Dates accepted: 2000-01-01 – 2026-12-31", "free text for “`role_other`”",
                 "Asked if: `trained == 1` (otherwise 97)", "Specifies option: `role` = `5`"):
        assert fact in en, fact
    assert "Einheit: Stunden pro Woche" in de and "Skala <code>agree7</code>" in de


def test_submitted_at_check_is_strict_and_plausible():
    spec = {s.name: s for s in schemas.check_specs(load_instrument())}["datetime:submitted_at"]
    values = pd.Series(["2026-03-01T09:30:00", "0000-01-01", "2026-02-30T10:00",
                        "2026-03-01 09:30:00+01:00", "01.03.2026 09:30"], dtype="str")
    assert spec.passes(values).tolist() == [True, False, False, True, False]
