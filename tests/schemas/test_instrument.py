"""Loading the instrument: the real one, and every kind of broken one (exact error texts)."""

import dataclasses
import doctest
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import schemas
import schemas.instrument
from schemas import InstrumentError, load_instrument, parse_instrument

ROOT = Path(__file__).resolve().parents[2]
YAML_PATH = ROOT / "schemas" / "instruments" / "practice_security.yaml"


# --------------------------------------------------------------------------- the real instrument


@pytest.fixture(scope="module")
def inst():
    return load_instrument(YAML_PATH)


def test_real_instrument_has_the_drafts_55_variables_in_8_sections(inst):
    assert inst.name == "practice_security"
    assert inst.version == "1.0.0"
    assert len(inst.items) == 55
    per_section = {s: sum(i.section == s for i in inst.items) for s in "ABCDEFGH"}
    assert per_section == {"A": 9, "B": 6, "C": 12, "D": 7, "E": 4, "F": 5, "G": 7, "H": 5}
    assert [i.var for i in inst.items][:3] == ["practice_type", "practice_form", "federal_state"]
    assert inst.items[-1].var == "comments"


def test_drafts_middle_part_is_complete(inst):
    # training_format .. info_needs sat in the draft's truncated middle: check each in detail.
    tf = inst.item("training_format")
    assert tf.type == "multi" and tf.ask_if.text == "training_12m in [1, 2]"
    assert [o.code for o in tf.options] == [
        "kbv_kv_online",
        "kv_seminar",
        "it_provider",
        "commercial_elearning",
        "phishing_sim",
        "internal_briefing",
        "other",
    ]
    assert inst.item("emergency_plan").codes[2].en == "In preparation"
    gi = inst.item("guideline_implementation")
    assert gi.ask_if.text == "guideline_awareness in [1, 2]"
    assert list(gi.codes) == [1, 2, 3, 4, -8] and gi.missing == (-8, -9)
    assert inst.item("cyber_insurance").prior == {1: 28, 2: 57, -8: 15}
    src = inst.item("info_sources")
    assert len(src.options) == 10 and src.exclusive_options == ("none",)
    main = inst.item("info_source_main")
    assert main.ask_if.variables == ("info_sources__none",)
    assert main.codes[8].de == "Sonstige"
    needs = inst.item("info_needs")
    assert needs.max_select == 3 and needs.exclusive_options == ("none",)
    assert inst.item("info_sufficient").type == "likert5"


def test_codes_and_labels_kept_from_draft(inst):
    assert inst.item("practice_type").codes[4].de == "Zahnärztlich / kieferorthopädisch"
    assert inst.item("federal_state").codes["NW"].en == "North Rhine-Westphalia"
    assert list(inst.item("tm_restore_test").codes) == [1, 3, -8]  # draft skips 2: never renumber
    assert list(inst.item("incident_downtime").codes) == [0, 1, 2, 3, 4]
    assert inst.item("resp_gender").codes[-9].en == "Prefer not to say"
    assert inst.item("n_persons_data").min == 1 and inst.item("n_persons_data").max == 1000
    assert inst.item("comments").max_length == 2000
    assert inst.item("tm_antivirus").prior == {1: 88, 2: 7, 3: 2, -8: 3}
    assert inst.item("tm_antivirus").extra["kbv_ref"] == "Anlage 1 Nr. 15"


def test_missing_codes_per_item(inst):
    assert inst.item("practice_type").missing == ()  # required weighting margin
    assert inst.item("practice_type").required
    assert inst.item("n_physicians").missing == (-9,)
    assert inst.item("incident_12m").missing == (-8, -9)
    assert inst.item("info_needs").missing == (-9,)
    assert inst.item("comments").missing == ()
    for item in inst.items:
        assert (-8 in item.missing) == (-8 in item.codes), item.var


def test_columns_and_accessors(inst):
    assert inst.columns[:4] == ("response_id", "submitted_at", "duration_s", "practice_type")
    assert len(inst.columns) == 3 + 55 - 6 + (9 + 7 + 10 + 9 + 9 + 8)
    assert len(set(inst.columns)) == len(inst.columns)
    assert inst.multi_columns("incident_reported_to")[-1] == "incident_reported_to__nobody"
    assert [i.var for i in inst.likert_items] == [
        "info_sufficient",
        "own_risk_high",
        "general_risk_high",
        "too_small_target",
        "feel_protected",
        "self_competence",
        "staff_phishing_competence",
        "guideline_understandable",
        "resp_it_affinity",
    ]
    assert inst.column_item("info_needs__none").var == "info_needs"
    with pytest.raises(KeyError, match="instrument 'practice_security' has no item 'nope'"):
        inst.item("nope")
    with pytest.raises(KeyError, match="item 'practice_type' is single, not multi-choice"):
        inst.multi_columns("practice_type")


def test_rules_cover_the_drafts_cross_item_validation(inst):
    ids = {r.id: r for r in inst.rules}
    assert len(ids) == 8
    assert {
        r.severity
        for r in inst.rules
        if r.id in ("single_practice_few_physicians", "psychotherapy_no_devices")
    } == {"soft"}
    assert ids["exclusive_options"].builtin == "exclusive_options"
    assert ids["incident_ever_if_incident_12m"].when.text == "incident_12m == 1"
    assert all(r.message.de and r.message.en for r in inst.rules)


def test_derived_and_metadata(inst):
    assert [d.var for d in inst.derived] == [
        "kbv_size_class",
        "tech_index",
        "n_applicable",
        "tech_share",
        "org_index",
        "info_index",
        "risk_gap",
        "east_west",
        "weight",
    ]
    assert inst.derived_variable("kbv_size_class").codes[3].de.startswith("Großpraxis")
    assert [(m.var, m.type) for m in inst.metadata] == [
        ("response_id", "id"),
        ("submitted_at", "datetime"),
        ("duration_s", "number"),
    ]


def test_instrument_is_immutable(inst):
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.name = "x"
    with pytest.raises(TypeError):
        inst.item("practice_type").codes[9] = None
    with pytest.raises(TypeError):
        inst.item("tm_antivirus").prior[1] = 0


def test_packaged_default_loads_from_anywhere(tmp_path):
    code = "import schemas; i = schemas.load_instrument(); print(i.name, len(i.columns))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["practice_security", "104"]
    assert load_instrument("practice_security").columns == load_instrument().columns


def test_unknown_packaged_name():
    expected = r"^no packaged instrument named 'nope'; packaged: \['pharmacy_staff', 'practice_security'\]$"
    with pytest.raises(InstrumentError, match=expected):
        load_instrument("nope")


def test_missing_file(tmp_path):
    with pytest.raises(InstrumentError, match="instrument file not found"):
        load_instrument(tmp_path / "x.yaml")


def test_docstring_examples():
    result = doctest.testmod(schemas.instrument)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- broken instruments

BASE = """
instrument: {name: mini, version: "0.1"}
meta: {title_de: "Mini", title_en: "Mini"}
missing_codes:
  -7: {name: not_applicable, label_de: "Filter", label_en: "Not applicable"}
  -8: {name: dont_know, label_de: "Weiß nicht", label_en: "Don't know"}
  -9: {name: no_answer, label_de: "Keine Angabe", label_en: "No answer"}
sections:
  A: {title_de: "Teil A", title_en: "Part A"}
metadata:
  - {var: response_id, type: id, text_de: "ID", text_en: "ID"}
items:
  - var: kind
    section: A
    type: single
    text_de: "Art?"
    text_en: "Kind?"
    missing: [-8, -9]
    codes:
      1: {label_de: "Eins", label_en: "One"}
      2: {label_de: "Zwei", label_en: "Two"}
      -8: {label_de: "Weiß nicht", label_en: "Don't know"}
  - var: tools
    section: A
    type: multi
    text_de: "Werkzeuge?"
    text_en: "Tools?"
    missing: [-9]
    codes:
      hammer: {label_de: "Hammer", label_en: "Hammer"}
      none: {label_de: "Keine", label_en: "None", exclusive: true}
  - var: count
    section: A
    type: integer
    text_de: "Anzahl?"
    text_en: "Count?"
    ask_if: "kind == 1"
    missing: [-9]
    validation: {min: 0, max: 10}
"""


def load(text: str, tmp_path) -> schemas.Instrument:
    path = tmp_path / "mini.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_instrument(path)


def broken(tmp_path, old: str, new: str) -> str:
    """Load BASE with `old` replaced by `new`; return the error text without the file prefix."""
    assert old in BASE, old
    with pytest.raises(InstrumentError) as err:
        load(BASE.replace(old, new, 1), tmp_path)
    prefix = f"{tmp_path / 'mini.yaml'}: "
    assert str(err.value).startswith(prefix)
    return str(err.value)[len(prefix) :]


def test_base_snippet_is_valid(tmp_path):
    inst = load(BASE, tmp_path)
    assert inst.columns == ("response_id", "kind", "tools__hammer", "tools__none", "count")


COUNT_ITEM = """  - var: count
    section: A
    type: integer"""

BROKEN = [
    # (id, old, new, expected message)
    (
        "duplicate variable",
        "  - var: count\n",
        "  - var: kind\n",
        "item 'kind': duplicate variable 'kind' (already a variable of item 1)",
    ),
    (
        "duplicate with metadata",
        "  - var: count\n",
        "  - var: response_id\n",
        "item 'response_id': duplicate variable 'response_id' (already a metadata column)",
    ),
    (
        "validation key typo",
        "validation: {min: 0, max: 10}",
        "validation: {min: 0, max: 10, maks: 12}",
        "item 'count': validation: unknown key 'maks'; did you mean 'max'?",
    ),
    (
        "decimals on an integer",
        "validation: {min: 0, max: 10}",
        "validation: {min: 0, max: 10, decimals: 1}",
        "item 'count': validation: unknown key 'decimals'; integer items take min, max",
    ),
    (
        "unknown type",
        COUNT_ITEM,
        COUNT_ITEM.replace("integer", "slider"),
        "item 'count': unknown item type 'slider' (expected one of single, multi, integer, likert5, text)",
    ),
    (
        "unknown section",
        "    section: A\n    type: integer",
        "    section: Z\n    type: integer",
        "item 'count': unknown section 'Z' (sections: A)",
    ),
    (
        "ask_if unknown variable",
        'ask_if: "kind == 1"',
        'ask_if: "knd == 1"',
        "item 'count': ask_if refers to unknown variable 'knd'",
    ),
    (
        "ask_if later variable",
        "    missing: [-8, -9]\n    codes:\n      1:",
        '    ask_if: "count > 2"\n    missing: [-8, -9]\n    codes:\n      1:',
        "item 'kind': ask_if refers to 'count', which comes later in the questionnaire (item 3, this is item 1); move this item after 'count' or filter on an earlier item",
    ),
    (
        "ask_if on itself",
        'ask_if: "kind == 1"',
        'ask_if: "count == 1"',
        "item 'count': ask_if refers to the item itself ('count')",
    ),
    (
        "ask_if unparsable",
        'ask_if: "kind == 1"',
        'ask_if: "kind === 1"',
        "item 'count': ask_if: cannot parse condition 'kind === 1': '=' is not a comparison (use '==') at position 7",
    ),
    (
        "ask_if calls a function",
        'ask_if: "kind == 1"',
        "ask_if: \"__import__('os') == 1\"",
        "item 'count': ask_if: cannot parse condition \"__import__('os') == 1\": names starting with '_' are not allowed: '__import__' at position 0",
    ),
    (
        "ask_if unknown code",
        'ask_if: "kind == 1"',
        'ask_if: "kind in [1, 3]"',
        "item 'count': ask_if uses code 3 of 'kind', which is not one of its codes (1, 2, -8) or -7/-8/-9",
    ),
    (
        "ask_if string vs integer codes",
        'ask_if: "kind == 1"',
        "ask_if: \"kind == 'one'\"",
        "item 'count': ask_if compares 'kind' (integer codes) with the string 'one'",
    ),
    (
        "ask_if bare multi",
        'ask_if: "kind == 1"',
        'ask_if: "tools == 1"',
        "item 'count': ask_if refers to multi-choice item 'tools' directly; use tools__<option>",
    ),
    (
        "ask_if unknown option",
        'ask_if: "kind == 1"',
        "ask_if: \"'saw' in tools\"",
        "item 'count': ask_if refers to 'tools__saw', but 'tools' has no option 'saw'",
    ),
    (
        "ask_if multi value",
        'ask_if: "kind == 1"',
        'ask_if: "tools__none == 2"',
        "item 'count': ask_if compares multi-choice column 'tools__none' with 2 (it holds 0, 1, -7, -9)",
    ),
    (
        "code without German label",
        '2: {label_de: "Zwei", label_en: "Two"}',
        '2: {label_en: "Two"}',
        "item 'kind': code 2 has no label_de",
    ),
    (
        "code without English label",
        '2: {label_de: "Zwei", label_en: "Two"}',
        '2: {label_de: "Zwei", label_en: ""}',
        "item 'kind': code 2 has no label_en",
    ),
    (
        # YAML 1.2 booleans (schemas._yaml): NO stays the string "NO", a true/false key is refused
        "YAML word code",
        '2: {label_de: "Zwei"',
        'NO: {label_de: "Zwei"',
        "item 'kind': codes mix integers and strings",
    ),
    (
        "YAML boolean code",
        '2: {label_de: "Zwei"',
        'false: {label_de: "Zwei"',
        "item 'kind': code False is neither an integer nor a string (quote YAML words such as NO, ON, YES)",
    ),
    (
        "duplicate label",
        '2: {label_de: "Zwei", label_en: "Two"}',
        '2: {label_de: "Eins", label_en: "Two"}',
        "item 'kind': label_de 'Eins' is used for more than one code",
    ),
    (
        "reserved negative code",
        '2: {label_de: "Zwei", label_en: "Two"}',
        '-7: {label_de: "Zwei", label_en: "Two"}',
        "item 'kind': code -7 is reserved (negative codes other than -8/-9 are not answers)",
    ),
    (
        "-8 allowed but not offered",
        '      -8: {label_de: "Weiß nicht", label_en: "Don\'t know"}\n',
        "",
        "item 'kind': missing allows -8 (don't know), but codes give no -8 label (the question must offer it)",
    ),
    (
        "-8 offered but not allowed",
        "    missing: [-8, -9]",
        "    missing: [-9]",
        "item 'kind': code -8 (don't know) is offered, but missing does not allow -8",
    ),
    (
        "-9 not allowed",
        "    missing: [-8, -9]",
        "    missing: [-8]",
        "item 'kind': -9 (no answer) must be allowed unless the item is required: true",
    ),
    (
        "-7 listed",
        "    missing: [-8, -9]",
        "    missing: [-7, -8, -9]",
        "item 'kind': missing may only list -8 and -9, not -7 (-7 follows from ask_if)",
    ),
    (
        "required with -9",
        "    missing: [-8, -9]",
        "    required: true\n    missing: [-8, -9]",
        "item 'kind': a required item cannot allow -9 (no answer)",
    ),
    ("missing text", '    text_en: "Kind?"\n', "", "item 'kind': missing text_en"),
    (
        "unknown key",
        "    validation: {min: 0, max: 10}",
        '    validation: {min: 0, max: 10}\n    ask_iff: "kind == 1"',
        "item 'count': unknown key(s) ['ask_iff']",
    ),
    (
        "integer range reversed",
        "validation: {min: 0, max: 10}",
        "validation: {min: 10, max: 0}",
        "item 'count': validation.min 10 is larger than validation.max 0",
    ),
    (
        "integer without range",
        "validation: {min: 0, max: 10}",
        "validation: {min: 0}",
        "item 'count': an integer item needs an integer validation.max, got None",
    ),
    (
        "max_select too large",
        "    missing: [-9]\n    codes:\n      hammer",
        "    missing: [-9]\n    max_select: 2\n    codes:\n      hammer",
        "item 'tools': max_select must be an integer from 1 to 1, got 2",
    ),
    (
        "bad option name",
        "      hammer:",
        "      Big-Hammer:",
        "item 'tools': option 'Big-Hammer' must be a lower-case name (it becomes the column tools__<option>)",
    ),
    (
        "reserved option name",
        "      hammer:",
        "      missing:",
        "item 'tools': option 'missing' is reserved (tools__missing is the missing-reason column)",
    ),
    (
        "bad variable name",
        "  - var: count\n",
        "  - var: my__count\n",
        "item 'my__count': variable names must be lower-case identifiers without '__' (e.g. n_physicians)",
    ),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_instrument_is_refused_with_exact_message(tmp_path, case):
    _, old, new, expected = case
    assert broken(tmp_path, old, new) == expected


RULES = """
rules:
  - id: r1
    severity: hard
    when: "kind == 1"
    require: "count <= 5"
    message_de: "Zu viele"
    message_en: "Too many"
"""


def test_valid_rule(tmp_path):
    inst = load(BASE + RULES, tmp_path)
    assert inst.rule("r1").variables == ("kind", "count")


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "severity: hard",
            "severity: fatal",
            "rule 'r1': severity must be 'hard' or 'soft', got 'fatal'",
        ),
        (
            'require: "count <= 5"',
            'require: "cnt <= 5"',
            "rule 'r1': require refers to unknown variable 'cnt'",
        ),
        (
            'require: "count <= 5"',
            'require: "count <= 5 +"',
            "rule 'r1': require: cannot parse condition 'count <= 5 +': unexpected character '+' at position 11",
        ),
        ('    require: "count <= 5"\n', "", "rule 'r1': needs a 'require' condition"),
        ('    message_en: "Too many"\n', "", "rule 'r1': missing message_en"),
        (
            "severity: hard",
            "severity: hard\n    builtin: magic",
            "rule 'r1': unknown builtin 'magic' (expected one of skip_logic, exclusive_options, max_select)",
        ),
    ],
)
def test_broken_rule(tmp_path, old, new, expected):
    with pytest.raises(InstrumentError) as err:
        load(BASE + RULES.replace(old, new), tmp_path)
    assert str(err.value) == f"{tmp_path / 'mini.yaml'}: {expected}"


def test_duplicate_rule_id(tmp_path):
    with pytest.raises(InstrumentError, match="rule 'r1': duplicate rule id$"):
        load(BASE + RULES + RULES.replace("rules:\n", ""), tmp_path)


def test_invalid_yaml_names_line(tmp_path):
    with pytest.raises(InstrumentError) as err:
        load(BASE + "  - var: [unclosed\n", tmp_path)
    assert "mini.yaml: line " in str(err.value) and "not valid YAML" in str(err.value)


def test_prior_must_match_codes(tmp_path):
    text = BASE.replace(
        "    missing: [-8, -9]\n", "    missing: [-8, -9]\n    prior: {1: 50, 3: 50}\n"
    )
    with pytest.raises(
        InstrumentError, match="item 'kind': prior has code 3, which is not one of the codes$"
    ):
        load(text, tmp_path)
    text = BASE.replace(
        "    missing: [-8, -9]\n", "    missing: [-8, -9]\n    prior: {1: 50, 2: 40}\n"
    )
    with pytest.raises(
        InstrumentError, match="item 'kind': prior must sum to 100 over the codes, sums to 90$"
    ):
        load(text, tmp_path)


def test_parse_instrument_from_text():
    inst = parse_instrument(textwrap.dedent(BASE), source="mini")
    assert inst.source == "mini"
    with pytest.raises(
        InstrumentError, match="^mini: top level: an instrument must be a YAML mapping$"
    ):
        parse_instrument("- 1\n- 2\n", source="mini")
