"""The second example study (staff of public pharmacies): its declaration loads, flags its invented
margins, and its derived variables are right on simulated responses (checked by hand)."""

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import schemas
from schemas.study import StudyError, load_study

STUDY_FILE = Path(schemas.__file__).parent / "studies" / "pharmacy_staff.yaml"


@pytest.fixture(scope="module")
def study():
    return load_study("pharmacy_staff")


def test_declaration(study):
    assert study.instrument.name == "pharmacy_staff" and study.simulated
    assert study.languages == ("en", "de") and study.title("de").startswith("Informationssicherheit")
    margins = study.population.margins
    assert set(margins) == {"role", "pharmacy_size", "role_x_pharmacy_size"}
    for m in margins.values():  # invented numbers, flagged as such, each with source and year
        assert m.attrs["stand_in"] is True and "invented" in m.attrs["source"]
        assert m.attrs["year"] == 2025 and int(m.sum()) == study.population.total == 160000
    assert margins["role_x_pharmacy_size"].index.names == ["role", "pharmacy_size"]
    assert study.design.strata == ("role", "pharmacy_size")
    assert study.design.margin == "role_x_pharmacy_size"
    assert [s.margin for s in study.weighting.rake] == ["role", "pharmacy_size"]
    plan = study.analysis
    assert [o.var for o in plan.outcomes] == ["trained_yes", "personal_login_always",
                                             "phishing_reported_yes", "climate_score", "it_share"]
    assert plan.domains == ("role", "pharmacy_size", "experience")
    assert [(m.name, m.family) for m in plan.models] == [("reporting", "quasibinomial"),
                                                         ("climate", "gaussian")]
    assert set(plan.blocks) == {"training", "climate"}
    assert plan.published == {}
    assert [d.origin for d in study.derived] == ["study"] * 10  # the instrument declares none


def test_margins_that_disagree_are_refused(tmp_path):
    data = yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["population"]["margins"]["role_x_pharmacy_size"]["counts"][0][2] += 1000
    bad["population"]["margins"]["role_x_pharmacy_size"]["counts"][1][2] -= 1000
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True))
    with pytest.raises(StudyError, match=r"population\.margins\.role_x_pharmacy_size: sums to 31000 "
                                         r"for pharmacy_size = 1, but margin 'pharmacy_size' says "
                                         r"30000; make the tables agree"):
        load_study(path)


def test_derived_values_on_hand_made_staff(study):
    inst = study.instrument
    cols = {c: [] for c in inst.columns}
    rows = [
        # climate 7,6,2(reversed -> 6),5 -> mean 6; trained; 35 h full time; 2 of 40 h on IT
        {"climate_rules_clear": 7, "climate_report_easy": 6, "climate_time_pressure": 2,
             "climate_manager_cares": 5, "trained": 1, "weekly_hours": 40.0, "it_hours": 2.0,
             "years_in_pharmacy": 4, "devices": ("counter_pc", "own_phone")},
        # one climate answer don't know (98): mean of three (3 + 4 + 8-7=1) / 3; it_hours 98
        {"climate_rules_clear": 3, "climate_report_easy": 98, "climate_time_pressure": 7,
             "climate_manager_cares": 4, "trained": 2, "weekly_hours": 20.5, "it_hours": 98,
             "years_in_pharmacy": 15, "devices": ("none",)},
        # two climate answers missing: below min_valid 3 -> NA; weekly hours no answer (99)
        {"climate_rules_clear": 98, "climate_report_easy": 99, "climate_time_pressure": 1,
             "climate_manager_cares": 1, "trained": 98, "weekly_hours": 99, "it_hours": 0.0,
             "years_in_pharmacy": 98, "devices": None},
    ]
    options = [o.code for o in inst.item("devices_used").options]
    for r in rows:
        for values in cols.values():
            values.append(pd.NA)
        for k, v in r.items():
            if k != "devices":
                cols[k][-1] = v
        for o in options:
            cols[f"devices_used__{o}"][-1] = 99 if r["devices"] is None else int(o in r["devices"])
    frame = pd.DataFrame(cols)
    out = schemas.derive(frame, study, lang="en")
    np.testing.assert_allclose(out["climate_score"].iloc[:2], [6.0, 8 / 3], rtol=1e-15)
    assert math.isnan(out["climate_score"].iloc[2])
    assert out["trained_yes"].tolist()[:2] == [1.0, 0.0] and math.isnan(out["trained_yes"].iloc[2])
    assert out["it_share"].iloc[0] == 2 / 40 and out["it_share"].isna().tolist()[1:] == [True, True]
    assert out["full_time"].tolist()[:2] == [1.0, 0.0] and math.isnan(out["full_time"].iloc[2])
    assert out["n_devices"].tolist() == [2, 0, pd.NA]
    assert out["own_phone_for_work"].tolist()[:2] == [1.0, 0.0]
    assert list(out["experience"].astype(object).where(out["experience"].notna(), None)) == [
        "under 5 years", "15 years or more", None]
    assert out["experience"].cat.ordered


def test_derive_on_simulated_responses(study):
    from surveydata.simulate.generic import simulate_responses

    sim = simulate_responses(study.instrument, n=200, seed=5)
    out = schemas.derive(sim.coded, study)
    assert len(out) == 200 and list(out.columns) == [d.var for d in study.derived]
    climate = out["climate_score"].dropna()
    assert climate.between(1, 7).all() and len(climate) > 150
    assert set(out["trained_yes"].dropna()) <= {0.0, 1.0}
    assert set(out["experience"].dropna()) <= {1, 2, 3}
