"""`surveydata simulate` for any instrument (surveydata.simulate.generic): priors, skip logic,
missing codes and hard rules obeyed; the planted errors, and only they, are quarantined."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import schemas
from surveydata import read_export
from surveydata.cli import main
from surveydata.simulate.generic import KINDS, simulate_responses
from surveydata.validate import validate

PHARMACY = schemas.load_instrument("pharmacy_staff")


def _validate(sim, tmp_path, name="export.csv"):
    path = tmp_path / name
    path.write_bytes(sim.to_bytes())
    return validate(read_export(path, sim.instrument), sim.instrument)


def test_pharmacy_export_validates_with_exactly_the_planted_errors_quarantined(tmp_path):
    sim = simulate_responses(PHARMACY, n=600, seed=11, error_rate=0.06)
    res = _validate(sim, tmp_path)
    assert sorted(res.quarantine["line"]) == sim.quarantined_lines
    assert {p["kind"] for p in sim.planted} == set(KINDS)
    assert len(sim.planted) == round(0.06 * 600)
    n_extra = sum(p["kind"] in ("duplicate_row", "duplicate_response_id") for p in sim.planted)
    assert len(sim.frame) == 600 + n_extra
    assert res.report["n_valid"] + res.report["n_quarantined"] == len(sim.frame)
    # each planted cell is named in its row's reasons
    reasons = dict(zip(res.quarantine["line"], res.quarantine["reasons"]))
    for p in sim.planted:
        if p["kind"] not in ("duplicate_row", "duplicate_response_id"):
            assert f"{p['column']}=" in reasons[p["lines"][0]], p


def test_clean_responses_pass_every_hard_check_and_rule():
    sim = simulate_responses(PHARMACY, n=800, seed=2, error_rate=0.0)
    assert sim.planted == [] and len(sim.frame) == 800
    coded = sim.coded
    masks = schemas.check_masks(coded.assign(response_id=[f"R{i}" for i in range(len(coded))],
                                             submitted_at="2026-03-02T10:00:00", duration_s=600.0),
                                PHARMACY)
    failing = {k: int((~v).sum()) for k, v in masks.items() if not v.all()}
    assert failing == {}
    # skip logic both ways, with this instrument's 97
    not_asked = coded["trained"] != 1
    assert (coded.loc[not_asked, "last_training"] == "97").all()
    assert (coded.loc[~not_asked, "last_training"] != "97").all()
    assert coded.loc[coded["role"] != 5, "role_other"].isna().all()
    ratio = coded.loc[coded["it_hours"] < 97, "it_hours"] <= coded.loc[coded["it_hours"] < 97, "weekly_hours"]
    assert ratio.all()  # the hard rule: respondents violating it were drawn again


def test_draws_follow_the_priors():
    n = 6000
    coded = simulate_responses(PHARMACY, n=n, seed=5, error_rate=0.0).coded
    prior = PHARMACY.item("role").prior
    share = coded["role"].value_counts(normalize=True)
    for code, pct in prior.items():
        p = pct / 100
        assert abs(share.get(code, 0.0) - p) < 4 * np.sqrt(p * (1 - p) / n), code
    # the grid's prior includes don't know (98)
    dk = (coded["climate_rules_clear"] == 98).mean()
    assert abs(dk - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)
    # years: lognormal median 9 (clipped to 0..60), 2 % don't know
    years = coded.loc[coded["years_in_pharmacy"] != 98, "years_in_pharmacy"]
    assert 8 <= years.median() <= 10 and years.between(0, 60).all()
    assert abs((coded["years_in_pharmacy"] == 98).mean() - 0.02) < 4 * np.sqrt(0.02 * 0.98 / n)
    # a multi-choice option ticked with its prior share among those asked (exclusive 'none' aside)
    assert abs(coded["devices_used__counter_pc"].isin([1]).mean() - 0.88) < 0.03
    hours = coded.loc[coded["weekly_hours"] != 99, "weekly_hours"]
    assert (np.round(hours * 10) == hours * 10).all() and hours.between(1, 60).all()


UNIFORM = """
format: 2
instrument: {name: plain, version: "1"}
meta: {title_de: "Schlicht", title_en: "Plain"}
missing_codes:
  -1: {name: not_applicable, label_de: "Filter", label_en: "Skipped"}
  -2: {name: no_answer, label_de: "Keine Angabe", label_en: "No answer"}
sections:
  A: {title_de: "A", title_en: "A"}
metadata:
  - {var: response_id, type: id, text_de: "ID", text_en: "ID"}
  - {var: duration_s, type: number, text_de: "Dauer", text_en: "Duration", validation: {min: 0}}
items:
  - var: colour
    section: A
    type: single
    required: true
    text_de: "Farbe?"
    text_en: "Colour?"
    codes:
      1: {label_de: "Rot", label_en: "Red"}
      2: {label_de: "Grün", label_en: "Green"}
      3: {label_de: "Blau", label_en: "Blue"}
      4: {label_de: "Gelb", label_en: "Yellow"}
  - var: n_cars
    section: A
    type: integer
    text_de: "Autos?"
    text_en: "Cars?"
    ask_if: "colour in [1, 2]"
    validation: {min: 0, max: 9}
"""


def test_uniform_where_no_prior_and_minus_one_minus_two_codes(tmp_path):
    inst = schemas.parse_instrument(textwrap.dedent(UNIFORM), source="plain.yaml")
    n = 4000
    sim = simulate_responses(inst, n=n, seed=9, error_rate=0.05)
    coded = sim.coded
    share = coded["colour"].value_counts(normalize=True)
    assert set(share.index) == {1, 2, 3, 4}  # required: no missing code
    assert (share - 0.25).abs().max() < 4 * np.sqrt(0.25 * 0.75 / n)
    asked = coded["colour"].isin([1, 2])
    assert (coded.loc[~asked, "n_cars"] == -1).all()
    answered = coded.loc[asked, "n_cars"]
    assert abs((answered == -2).mean() - 0.03) < 0.015  # 3 % no answer without a prior
    counts = answered[answered >= 0].value_counts(normalize=True)
    assert set(counts.index) == set(range(10)) and (counts - 0.1).abs().max() < 0.03
    res = _validate(sim, tmp_path)  # no submitted_at: duplicate ids planted as other kinds
    assert sorted(res.quarantine["line"]) == sim.quarantined_lines


def test_same_seed_same_bytes_other_seed_other_data():
    a = simulate_responses(PHARMACY, n=120, seed=4).to_bytes()
    assert a == simulate_responses(PHARMACY, n=120, seed=4).to_bytes()
    assert a != simulate_responses(PHARMACY, n=120, seed=5).to_bytes()


def test_export_conventions():
    sim = simulate_responses(PHARMACY, n=200, seed=1, error_rate=0.0, decimal=",")
    text = sim.to_bytes().decode("utf-8")
    header, first = text.split("\r\n")[:2]
    assert header.split(";")[:4] == ["response_id", "submitted_at", "duration_s", "role"]
    cells = dict(zip(header.split(";"), first.split(";")))
    assert "," in cells["duration_s"] and "." not in cells["weekly_hours"]
    dot = simulate_responses(PHARMACY, n=50, seed=1, error_rate=0.0, decimal=".")
    assert "," not in dot.frame["weekly_hours"].str.cat()


def test_impossible_hard_rule_is_a_clear_error():
    text = textwrap.dedent(UNIFORM) + textwrap.dedent("""
    rules:
      - id: never
        severity: hard
        require: "colour == 9"
        message_de: "nie"
        message_en: "never"
    """)
    with pytest.raises(schemas.InstrumentError):  # 9 is not a code: refused when loading
        schemas.parse_instrument(text, source="x")
    inst = schemas.parse_instrument(text.replace("colour == 9", "colour == 1 and colour == 2"),
                                    source="x")
    with pytest.raises(ValueError, match="rarely meet the hard rule"):
        simulate_responses(inst, n=50, seed=1)


def test_cli_simulate_then_validate_any_instrument(tmp_path, capsys):
    out = tmp_path / "sim"
    args = ["simulate", "--seed", "3", "--instrument", "pharmacy_staff", "--n", "250",
            "--error-rate", "0.08", "--out", str(out)]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "export.csv", "manifest.json",
                                                     "truth.json"]
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}
    assert main([*args[:-1], str(tmp_path / "again")]) == 0
    for name, data in first.items():
        assert (tmp_path / "again" / name).read_bytes() == data, name
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["instrument"] == {"name": "pharmacy_staff", "version": "0.1.0", "format": 2}
    assert len(truth["planted_errors"]) == 20
    capsys.readouterr()
    vout = tmp_path / "val"
    assert main(["validate", str(out / "export.csv"), "--instrument", "pharmacy_staff",
                 "--out", str(vout)]) == 0
    quarantine = pd.read_csv(vout / "quarantine.csv")
    assert sorted(quarantine["line"]) == truth["quarantined_lines"]
    assert main(["simulate", "--seed", "1", "--instrument", "pharmacy_staff", "--n", "0",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "n must be at least 1" in err


def test_cli_simulate_a_study_declaration(tmp_path, capsys):
    study = "schemas/studies/pharmacy_staff.yaml"
    out = tmp_path / "s"
    assert main(["simulate", "--seed", "2", "--study", study, "--n", "120", "--out", str(out)]) == 0
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["instrument"]["name"] == "pharmacy_staff" and truth["n_respondents"] == 120
    assert "--study schemas/studies/pharmacy_staff.yaml" in (out / "README.md").read_text()
