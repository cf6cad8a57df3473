"""response_schema: a hand-made valid frame passes; each kind of violation fails with its check."""

import doctest

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

import schemas
import schemas.response
from schemas import check_masks, check_specs, coerce_raw, response_schema, soft_rules, split_check

INST = schemas.load_instrument()
MULTI_COLS = {c for i in INST.items if i.type == "multi" for c in i.columns}


def _multi(var, ticked=(), value=None):
    """Option columns of `var`: 1 for ticked options, 0 otherwise (or `value` everywhere)."""
    item = INST.item(var)
    return {
        f"{var}__{o.code}": (value if value is not None else int(o.code in ticked))
        for o in item.options
    }


# Three respondents written out by hand, chosen to exercise every skip path.
DENTAL = {
    "response_id": "r1",
    "submitted_at": "2026-03-02T10:15:00",
    "duration_s": 812.5,
    "practice_type": 4,
    "practice_form": 1,
    "federal_state": "BY",
    "municipality_size": 3,
    "n_physicians": 1,
    "n_persons_data": 5,
    "large_devices": -7,
    "networked_med_devices": 1,
    "uses_mobile_devices": 1,
    "n_workstations": 4,
    "it_support_model": 1,
    "provider_kbv_certified": -8,
    "ti_connection_mode": 1,
    **_multi("internet_services", ["website", "remote_maintenance"]),
    "unsupported_os": 2,
    "tm_antivirus": 1,
    "tm_patching": 2,
    "tm_backup_plan": 1,
    "tm_backup_offline": 1,
    "tm_restore_test": 3,
    "tm_firewall": -8,
    "tm_disk_encryption": 3,
    "tm_individual_accounts": 1,
    "tm_mfa": 3,
    "tm_network_segmentation": 2,
    "tm_admin_rights_restricted": 1,
    "tm_mobile_lockcode": 1,
    "it_security_responsible": 2,
    "training_12m": 1,
    **_multi("training_format", ["kbv_kv_online", "internal_briefing"]),
    "emergency_plan": 2,
    "guideline_awareness": 1,
    "guideline_implementation": 2,
    "cyber_insurance": 2,
    **_multi("info_sources", ["kbv_kv", "it_provider"]),
    "info_source_main": 2,
    **_multi("info_needs", ["checklist", "templates"]),
    "info_sufficient": 4,
    "incident_12m": 2,
    **_multi("incident_types", value=-7),
    "incident_downtime": -7,
    **_multi("incident_reported_to", value=-7),
    "incident_ever": 2,
    "own_risk_high": 2,
    "general_risk_high": 4,
    "too_small_target": 3,
    "feel_protected": 4,
    "self_competence": 3,
    "staff_phishing_competence": 4,
    "guideline_understandable": 3,
    "resp_role": 1,
    "resp_age_group": 3,
    "resp_gender": 1,
    "resp_it_affinity": 4,
    "comments": None,
}
PSYCHOTHERAPY = {
    **DENTAL,
    "response_id": "r2",
    "submitted_at": "2026-03-03T08:00:00+01:00",
    "duration_s": 455.0,
    "practice_type": 3,
    "federal_state": "SN",
    "municipality_size": -8,
    "n_persons_data": 1,
    "networked_med_devices": 2,
    "uses_mobile_devices": 2,
    "n_workstations": 1,
    "it_support_model": 4,
    "provider_kbv_certified": -7,
    "ti_connection_mode": 3,
    **_multi("internet_services", ["none"]),
    "unsupported_os": -8,
    "tm_backup_plan": 3,
    "tm_backup_offline": -7,
    "tm_restore_test": -7,
    "tm_mobile_lockcode": -7,
    "training_12m": 3,
    **_multi("training_format", value=-7),
    "guideline_awareness": 3,
    "guideline_implementation": -7,
    "guideline_understandable": -7,
    **_multi("info_sources", ["none"]),
    "info_source_main": -7,
    **_multi("info_needs", ["none"]),
    "incident_12m": 1,
    **_multi("incident_types", ["malware", "account_compromise"]),
    "incident_downtime": 2,
    **_multi("incident_reported_to", ["it_provider"]),
    "incident_ever": 1,
    "comments": '=HYPERLINK("x")',
}
MVZ = {
    **DENTAL,
    "response_id": "r3",
    "submitted_at": "2026-03-04 17:45:10",
    "duration_s": 1500,
    "practice_type": 2,
    "practice_form": 3,
    "federal_state": "BE",
    "n_physicians": 8,
    "n_persons_data": 40,
    "large_devices": 1,
    "n_workstations": -9,
    "training_12m": 2,
    **_multi("training_format", value=-9),
    **_multi("info_sources", value=-9),
    "info_source_main": -9,
    **_multi("info_needs", value=-9),
    "incident_12m": -8,
    "incident_ever": -9,
    "resp_gender": -9,
    "tm_mfa": -9,
    "info_sufficient": -9,
    "comments": 'Wir haben alles; sagt "der" Dienstleister.',
}


def valid_frame() -> pd.DataFrame:
    """The three hand-made respondents in raw dtypes, index 0..2."""
    frame = pd.DataFrame([DENTAL, PSYCHOTHERAPY, MVZ], columns=list(INST.columns))
    coerced, problems = coerce_raw(frame, INST)
    assert problems.empty
    return coerced


SCHEMA = response_schema(INST)


def failures(frame: pd.DataFrame) -> set[tuple[str, object]]:
    """{(check name, index)} of every hard failure pandera reports."""
    try:
        SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        return {(split_check(c)[0], i) for c, i in zip(fc["check"], fc["index"])}
    return set()


def test_hand_made_frame_is_valid():
    frame = valid_frame()
    assert list(frame.columns) == list(INST.columns)
    out = response_schema(INST).validate(frame, lazy=True)
    assert out.shape == (3, 104)
    assert out["n_physicians"].dtype == "Int64"
    assert out["federal_state"].dtype == "str"


def test_raw_dtypes_cover_every_column():
    dtypes = schemas.raw_dtypes(INST)
    assert list(dtypes) == list(INST.columns)
    assert dtypes["comments"] == "str" and dtypes["submitted_at"] == "str"
    assert {dtypes[c] for c in MULTI_COLS} == {"Int64"}


def with_value(row: int, **values) -> pd.DataFrame:
    frame = valid_frame()
    for col, value in values.items():
        if value is None:
            frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value
        frame[col] = frame[col].astype(schemas.raw_dtypes(INST)[col])
    return frame


VIOLATIONS = [
    # (description, row, changed values, expected check name)
    ("unknown code", 0, {"practice_form": 5}, "codes:practice_form"),
    (
        "-8 where the question offers no don't know",
        0,
        {"uses_mobile_devices": -8},
        "codes:uses_mobile_devices",
    ),
    ("-9 on a required item", 0, {"practice_type": -9}, "codes:practice_type"),
    ("-7 on an item without skip logic", 0, {"cyber_insurance": -7}, "codes:cyber_insurance"),
    ("unknown state code", 0, {"federal_state": "XX"}, "codes:federal_state"),
    ("state given as a missing code", 0, {"federal_state": "-9"}, "codes:federal_state"),
    ("likert out of range", 0, {"own_risk_high": 6}, "likert:own_risk_high"),
    ("likert don't know not offered", 0, {"feel_protected": -8}, "likert:feel_protected"),
    ("integer below min", 0, {"n_physicians": 0}, "range:n_physicians"),
    ("integer above max", 0, {"n_workstations": 2001}, "range:n_workstations"),
    ("integer don't know not offered", 0, {"n_workstations": -8}, "range:n_workstations"),
    ("multi column not 0/1", 0, {"info_needs__hotline": 2}, "binary:info_needs__hotline"),
    (
        "multi column -7 without skip logic",
        0,
        {"info_needs__hotline": -7},
        "binary:info_needs__hotline",
    ),
    ("text too long", 0, {"comments": "x" * 2001}, "max_length:comments"),
    ("negative duration", 0, {"duration_s": -1.0}, "min:duration_s"),
    ("not a date-time", 0, {"submitted_at": "03.02.2026 10:15"}, "datetime:submitted_at"),
    ("empty coded cell", 0, {"tm_patching": None}, "not_nullable"),
    ("empty response id", 0, {"response_id": None}, "not_nullable"),
    ("duplicate response id", 1, {"response_id": "r1"}, "field_uniqueness"),
    ("answered although not asked", 0, {"large_devices": 2}, "skip_not_asked:large_devices"),
    (
        "answered -9 although not asked",
        1,
        {"tm_backup_offline": -9},
        "skip_not_asked:tm_backup_offline",
    ),
    ("not applicable although asked", 2, {"large_devices": -7}, "skip_asked:large_devices"),
    ("backup sub-item -7 despite a plan", 0, {"tm_restore_test": -7}, "skip_asked:tm_restore_test"),
    (
        "multi answered although not asked",
        1,
        {"training_format__other": 0},
        "skip_not_asked:training_format",
    ),
    ("multi -7 although asked", 0, {"training_format__other": -7}, "skip_asked:training_format"),
    ("main source although 'none'", 1, {"info_source_main": 3}, "skip_not_asked:info_source_main"),
    (
        "exclusive option combined",
        1,
        {"internet_services__website": 1},
        "exclusive:internet_services",
    ),
    ("'nobody' combined", 1, {"incident_reported_to__nobody": 1}, "exclusive:incident_reported_to"),
    (
        "four info needs",
        0,
        {"info_needs__hotline": 1, "info_needs__funding": 1},
        "max_select:info_needs",
    ),
    ("partial no answer in a multi", 2, {"info_needs__hotline": 0}, "multi_no_answer:info_needs"),
    ("incident 12m but never", 1, {"incident_ever": 2}, "rule:incident_ever_if_incident_12m"),
    ("more physicians than persons", 0, {"n_physicians": 6}, "rule:physicians_le_persons_data"),
    ("main source not ticked", 0, {"info_source_main": 4}, "rule:info_source_main_ticked"),
    (
        "'other' main source without insurer/internet",
        0,
        {"info_source_main": 8},
        "rule:info_source_main_ticked",
    ),
]


@pytest.mark.parametrize("case", VIOLATIONS, ids=[c[0] for c in VIOLATIONS])
def test_violation_is_rejected_with_its_check(case):
    _, row, values, expected = case
    got = failures(with_value(row, **values))
    assert (expected, row) in got
    # nothing else is wrong with the other rows
    others = {g for g in got if g[1] != row}
    if expected == "field_uniqueness":
        assert others == {("field_uniqueness", 0)}
    else:
        assert others == set()


def test_failure_case_names_column_value_and_rule():
    frame = with_value(0, practice_form=5)
    with pytest.raises(pa.errors.SchemaErrors) as err:
        response_schema(INST).validate(frame, lazy=True)
    fc = err.value.failure_cases
    assert fc[["column", "failure_case", "index"]].values.tolist() == [["practice_form", 5, 0]]
    assert fc["check"].iloc[0] == "codes:practice_form: practice_form must be one of 1, 2, 3, 4"


def test_skip_check_description_names_the_condition():
    spec = {s.name: s for s in check_specs(INST)}["skip_not_asked:large_devices"]
    assert spec.description == (
        "large_devices was not asked (ask_if 'practice_type in [2, 5]' is false) but holds an "
        "answer; expected -7 (not applicable)"
    )
    assert spec.columns[0] == "large_devices"


def test_soft_rules_flag_but_do_not_reject():
    frame = with_value(0, n_physicians=4, n_persons_data=9)  # single practice with 4 physicians
    assert failures(frame) == set()
    soft = {s.name: s for s in soft_rules(INST)}
    assert set(soft) == {
        "multi_empty:internet_services",
        "multi_empty:info_sources",
        "multi_empty:info_needs",
        "multi_empty:incident_reported_to",
        "rule:single_practice_few_physicians",
        "rule:psychotherapy_no_devices",
    }
    assert soft["rule:single_practice_few_physicians"].passes(frame).tolist() == [False, True, True]
    assert soft["rule:single_practice_few_physicians"].rule.message.de.startswith("Einzelpraxis")
    psycho = with_value(1, networked_med_devices=1)
    assert failures(psycho) == set()
    assert soft["rule:psychotherapy_no_devices"].passes(psycho).tolist() == [True, False, True]
    empty = with_value(
        0, **{f"info_sources__{o}": 0 for o in ("kbv_kv", "it_provider")}, info_source_main=-9
    )
    assert failures(empty) == set()
    assert soft["multi_empty:info_sources"].passes(empty).tolist() == [False, True, True]


def test_every_hard_check_is_in_the_schema_with_name_and_error():
    schema = response_schema(INST)
    names = {c.name for c in schema.checks}
    for col in schema.columns.values():
        names |= {c.name for c in col.checks}
    hard = {s.name for s in check_specs(INST) if s.severity == "hard"}
    assert names == hard
    for check in schema.checks:
        assert check.error.startswith(check.name + ": ")


def test_builtin_rules_are_not_checked_twice():
    names = [s.name for s in check_specs(INST)]
    assert len(names) == len(set(names))
    assert not any(n in names for n in ("rule:exclusive_options", "rule:info_needs_max_3"))


def test_masks_agree_with_pandera_on_random_codes():
    # Random (mostly invalid) frames: pandera and the plain masks must fail the same cells.
    rng = np.random.default_rng(20260302)
    n = 400
    frame = pd.concat([valid_frame()] * (n // 3 + 1), ignore_index=True).iloc[:n].copy()
    frame["response_id"] = [f"id{i}" for i in range(n)]
    dtypes = schemas.raw_dtypes(INST)
    for col, dtype in dtypes.items():
        if dtype != "Int64":
            continue
        hit = rng.random(n) < 0.08
        noise = rng.choice([-9, -8, -7, 0, 1, 2, 3, 7], size=n)
        frame[col] = frame[col].mask(hit, pd.Series(noise, dtype="Int64"))
    masks = check_masks(frame, INST)
    from_masks = {
        (name.split(":")[0] if name.startswith("not_nullable") else name, i)
        for name, ok in masks.items()
        for i in frame.index[~ok.to_numpy()]
    }
    assert from_masks == failures(frame)
    assert len(from_masks) > 100  # the noise really broke things


def test_coerce_raw_reports_unconvertible_values():
    frame = pd.DataFrame(
        {
            "practice_type": ["1", "x", " 2", None],
            "duration_s": ["12.5", "abc", "3", ""],
            "federal_state": ["BW", "BY", None, "NI"],
            "info_needs__none": [1.0, 0.0, 1.0, 0.5],
            "extra": ["a", "b", "c", "d"],
        }
    )
    out, problems = coerce_raw(frame, INST)
    assert out["practice_type"].tolist() == [1, pd.NA, 2, pd.NA]
    assert out["duration_s"].iloc[[0, 2]].tolist() == [12.5, 3.0]
    assert out["info_needs__none"].tolist() == [1, 0, 1, pd.NA]
    assert out["extra"].tolist() == ["a", "b", "c", "d"]
    assert problems[["index", "column", "value", "check"]].values.tolist() == [
        [1, "duration_s", "abc", "dtype:duration_s"],
        [1, "practice_type", "x", "dtype:practice_type"],
        [3, "info_needs__none", "0.5", "dtype:info_needs__none"],
    ]


def test_split_check():
    assert split_check("not_nullable") == ("not_nullable", "")
    assert split_check("rule:x: a: b") == ("rule:x", "a: b")


def test_docstring_examples():
    result = doctest.testmod(schemas.response, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
