"""Simulated sample and export: allocation, nonresponse bias direction, planted errors found exactly."""
import numpy as np
import pandas as pd
import pytest

import schemas
import surveydata
from surveydata.simulate import allocate, draw_sample, make_export, simulate_population
from surveydata.simulate.truth import analysis_variables, population_truth


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def pop(inst):
    return simulate_population(seed=101, instrument=inst)


@pytest.fixture(scope="module")
def truth(pop, inst):
    return population_truth(pop, inst)["prevalence"]


def test_allocation_power_bounds_and_total():
    N = pd.Series({"a": 40000, "b": 400, "c": 30, "d": 9})
    n = allocate(N, 500, power=0.5, min_invited=20)
    assert n.sum() == 500 and (n <= N).all() and (n >= np.minimum(20, N)).all()
    assert n["d"] == 9                                  # census of a tiny stratum
    # disproportionate: the small stratum's sampling fraction is far above the large one's
    assert n["b"] / N["b"] > 5 * n["a"] / N["a"]
    proportional = allocate(pd.Series({"a": 300, "b": 100}), 40, power=1.0, min_invited=0)
    assert proportional.tolist() == [30, 10]
    with pytest.raises(ValueError, match="minimum allocation"):
        allocate(N, 50, min_invited=20)


def test_sample_design_columns_and_strata(pop, inst):
    s = draw_sample(pop, seed=1, n_invited=8000, response_rate=0.2, instrument=inst)
    r = s.respondents
    assert s.strata["N_h"].sum() == len(pop) and s.strata["n_invited"].sum() == 8000
    assert s.strata["n_responded"].sum() == len(r) == s.invited["responded"].sum()
    assert abs(len(r) / 8000 - 0.2) < 0.02
    assert r["practice_id"].is_unique and s.invited["practice_id"].is_unique
    # the base weights add up to N_h in every stratum
    sums = r.groupby("stratum")["w"].sum()
    np.testing.assert_allclose(sums.to_numpy(), s.strata.set_index("stratum").loc[sums.index, "N_h"], rtol=1e-12)
    # invited units really come from their strata, at most N_h per stratum
    assert (s.strata["n_invited"] <= s.strata["N_h"]).all()
    # item nonresponse happened, never on required items, and skips still hold
    assert ((r["tm_mfa"] == -9).mean() > 0.002)
    for req in ("practice_type", "practice_form", "federal_state"):
        assert not (r[req].astype(str) == "-9").any()
    for rule in inst.rules:
        assert int(rule.violations(r).sum()) == 0, rule.id


def test_unweighted_estimates_are_biased_upwards_as_documented(pop, inst, truth):
    """Aware practices and practices with an incident respond more: unweighted incident prevalence
    and guideline implementation exceed the population values at every seed tried."""
    for seed in (1, 2, 3):
        r = analysis_variables(draw_sample(pop, seed=seed, n_invited=8000, response_rate=0.2, instrument=inst).respondents)
        inc = r.loc[r["incident_12m"].isin([1, 2, -8]), "incident_12m"]
        impl = r.loc[~r["guideline_implementation"].isin([-7, -9]), "guideline_implementation"]
        assert (inc == 1).mean() > truth["incident_12m_yes"] + 0.01, seed
        assert (impl == 1).mean() > truth["guideline_implementation_fully"] + 0.02, seed


def test_same_seed_same_sample(pop, inst):
    a = draw_sample(pop, seed=9, n_invited=3000, response_rate=0.3, instrument=inst)
    b = draw_sample(pop, seed=9, n_invited=3000, response_rate=0.3, instrument=inst)
    pd.testing.assert_frame_equal(a.respondents, b.respondents)
    assert a.settings == b.settings


@pytest.mark.parametrize("seed,error_rate", [(1, 0.02), (2, 0.05), (3, 0.15)])
def test_validation_finds_exactly_the_planted_errors(pop, inst, tmp_path, seed, error_rate):
    sample = draw_sample(pop, seed=seed, n_invited=8000, response_rate=0.2, instrument=inst)
    export = make_export(sample, seed=seed, error_rate=error_rate, instrument=inst)
    path = export.write(tmp_path / "export.csv")
    result = surveydata.validate(surveydata.read_export(path, inst), inst)

    planted_q = {k for k, v in export.planted.items() if v["expected"] == "quarantine"}
    planted_flag = {k for k, v in export.planted.items() if v["kind"] == "speeder"}
    quarantined = set(result.quarantine["response_id"])
    speeders = set(result.flags.loc[result.flags["flag"] == "speeder", "response_id"])
    assert len(planted_q) > 0 and len(planted_flag) > 0
    assert quarantined == planted_q                      # precision and recall 1.0
    assert speeders == planted_flag
    assert result.report["n_raw"] == len(sample.respondents) + sum(
        v["kind"] in ("duplicate_row", "duplicate_response_id") for v in export.planted.values())
    # each planted error is rejected for the column it was planted in (duplicates: by their rule)
    fails = result.failures
    for rid, p in export.planted.items():
        if p["expected"] != "quarantine":
            continue
        mine = fails[fails["response_id"] == rid]
        if p["kind"] == "duplicate_row":
            assert (mine["rule"] == "duplicate_row").any(), (rid, p)
        elif p["kind"] == "duplicate_response_id":
            assert (mine["rule"] == "duplicate_response_id").any(), (rid, p)
        else:
            assert (mine["column"].astype(str).str.contains(p["column"])).any(), (rid, p, mine)


def test_export_uses_german_excel_conventions(pop, inst):
    sample = draw_sample(pop, seed=4, n_invited=2000, response_rate=0.25, instrument=inst)
    e = make_export(sample, seed=4, error_rate=0.0, instrument=inst)
    data = e.to_bytes()
    text = data.decode("cp1252")
    header = text.split("\r\n", 1)[0].split(";")
    assert header == list(inst.columns)
    assert "\r\n" in text and ";" in text
    dur = e.frame["duration_s"]
    assert dur.str.fullmatch(r"\d+,\d").all()           # decimal comma
    assert e.frame["submitted_at"].str.fullmatch(r"2026-0[23]-\d\dT\d\d:\d\d:\d\d").all()
    assert e.frame["response_id"].is_unique
    # umlauts survive as single Windows-1252 bytes (not UTF-8 sequences)
    if e.frame["comments"].str.contains("ü").any():
        assert "ü".encode("cp1252") in data and "ü".encode() not in data
    assert e.frame["submitted_at"].is_monotonic_increasing


def test_ignorable_nonresponse_gives_unbiased_base_weighted_estimates(pop, inst, truth):
    """With response at random within strata (NonresponseModel.ignorable), the base-weighted
    estimate of incident prevalence is unbiased: its mean over 25 samples is within 3 Monte
    Carlo standard errors of the population value; the unweighted mean is not needed here."""
    from surveydata.simulate import NonresponseModel

    est = []
    for seed in range(25):
        s = draw_sample(pop, seed=seed, n_invited=8000, response_rate=0.2,
                        model=NonresponseModel.ignorable(), instrument=inst)
        r = s.respondents
        assert not (r[[c for c in r.columns if c.startswith("tm_")]] == -9).any().any()
        est.append(np.average(r["incident_12m"] == 1, weights=r["w"]))
    est = np.array(est)
    assert abs(est.mean() - truth["incident_12m_yes"]) < 3 * est.std(ddof=1) / np.sqrt(len(est))
