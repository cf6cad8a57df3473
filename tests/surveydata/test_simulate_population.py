"""Simulated population: exact margins, priors within sampling error, skip logic, the true model."""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import schemas
from schemas.populations import load_population_margins
from surveydata.simulate import TrueModel, simulate_population

SEED = 11


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def pop(inst):
    return simulate_population(seed=SEED, instrument=inst)


def test_population_reproduces_the_margins_exactly(pop):
    m = load_population_margins()
    assert len(pop) == 141655 == int(m["practice_type"].sum())
    form = pop["practice_form"].replace({4: 1})          # Praxisgemeinschaft counts as single
    counts = pop.assign(practice_form=form).groupby(["practice_type", "practice_form", "federal_state"]).size()
    expected = m["practice_type_x_form_x_federal_state"]
    expected = expected[expected > 0]
    assert counts.sort_index().to_dict() == expected.sort_index().to_dict()
    assert pop.groupby("practice_type").size().to_dict() == m["practice_type"].to_dict()
    assert pop.groupby(form).size().to_dict() == m["practice_form"].to_dict()
    assert pop.groupby("federal_state").size().to_dict() == m["federal_state"].to_dict()
    assert int((pop["practice_form"] == 4).sum()) == round(0.06 * 141655)
    strata = pop.groupby("stratum").size()
    assert len(strata) == 80 and strata.sum() == 141655


def _shares(col):
    asked = col[col != -7]
    return asked, asked.value_counts(normalize=True)


def test_every_prior_within_sampling_error(pop, inst):
    """Single, Likert and multi items: |share - prior| < 4 binomial SE (base: those asked)."""
    failures = []
    for item in inst.items:
        if item.prior is None or item.type in ("integer", "text"):
            continue
        if item.type == "multi":
            pairs = [(f"{item.var}__{o.code}", 1, item.prior[o.code]) for o in item.options]
        else:
            pairs = [(item.var, code, share) for code, share in item.prior.items()]
        for column, code, percent in pairs:
            asked = pop[column][pop[column] != -7]
            p = percent / 100.0
            share = float((asked == code).mean())
            se = np.sqrt(p * (1 - p) / len(asked))
            if abs(share - p) > 4 * se:
                failures.append((column, code, round(share, 4), p))
    assert not failures, failures


def test_practice_size_follows_the_integer_priors(pop):
    """Structural draws are tuned, not solved: within 3 points of the brief's estimated shares."""
    persons = pop["n_persons_data"]
    assert abs((persons <= 5).mean() - 0.45) < 0.03
    assert abs(((persons >= 6) & (persons <= 20)).mean() - 0.47) < 0.03
    assert abs((persons > 20).mean() - 0.08) < 0.03
    assert abs(persons.mean() - 8.5) < 0.5
    phys = pop["n_physicians"]
    assert abs((phys == 1).mean() - 0.68) < 0.03 and abs(phys.mean() - 1.8) < 0.15
    assert (phys <= persons).all()
    assert (phys[pop["practice_form"] == 1] <= 3).all()                     # soft rule never fires
    ws = pop["n_workstations"]
    assert ws.median() == 5 and abs((ws <= 2).mean() - 0.22) < 0.07
    # psychotherapy practices are small (Destatis: ~2 persons)
    assert pop.loc[pop["practice_type"] == 3, "n_persons_data"].mean() < 2.5


def test_skip_logic_and_hard_rules_hold_in_the_population(pop, inst):
    for item in inst.items:
        if item.ask_if is None:
            for c in item.columns:
                assert (pop[c] != -7).all(), c
            continue
        asked = item.ask_if.evaluate(pop).to_numpy()
        for c in item.columns:
            assert ((pop[c] == -7).to_numpy() == ~asked).all(), c
    for rule in inst.rules:
        assert int(rule.violations(pop).sum()) == 0, rule.id


def test_same_seed_same_population_other_seed_other_population(pop, inst):
    again = simulate_population(seed=SEED, instrument=inst)
    pd.testing.assert_frame_equal(pop, again)
    other = simulate_population(seed=SEED + 1, instrument=inst)
    assert not pop["incident_12m"].equals(other["incident_12m"])
    assert pop.attrs["seed"] == SEED and pop.attrs["params"]["incident_log_size"] == 0.35


def test_true_incident_model_is_recovered_from_the_census(pop):
    """Regressing the *true* incident on the generating covariates recovers every slope of
    TrueModel within 3 census standard errors: the simulator implements the documented model."""
    p = TrueModel()
    tm = pop[[c for c in pop.columns if c.startswith("tm_")]]
    services = pop[[c for c in pop.columns if c.startswith("internet_services__") and not c.endswith("none")]]
    sources = pop[[c for c in pop.columns if c.startswith("info_sources__") and not c.endswith("none")]]
    X = pd.DataFrame({
        "tech_index": (tm == 1).sum(axis=1),
        "training_all": (pop["training_12m"] == 1).astype(float),
        "guideline_known": (pop["guideline_awareness"] == 1).astype(float),
        "responsible": pop["it_security_responsible"].isin([1, 2]).astype(float),
        "info_sources": sources.clip(lower=0).sum(axis=1),
        "log_size": np.log(pop["n_persons_data"] / 6.0),
        "unsupported_os": (pop["unsupported_os"] == 1).astype(float),
        "internet_services": services.clip(lower=0).sum(axis=1),
        "psychotherapy": (pop["practice_type"] == 3).astype(float),
    })
    fit = sm.GLM(pop["incident_true"].astype(float), sm.add_constant(X), family=sm.families.Binomial()).fit()
    truth = {"tech_index": p.incident_tech_measure, "training_all": p.incident_training_all,
             "guideline_known": p.incident_guideline_known, "responsible": p.incident_responsible,
             "info_sources": p.incident_info_source, "log_size": p.incident_log_size,
             "unsupported_os": p.incident_unsupported_os, "internet_services": p.incident_internet_service,
             "psychotherapy": p.incident_type[2]}
    z = {k: (fit.params[k] - v) / fit.bse[k] for k, v in truth.items()}
    assert all(abs(v) < 3.5 for v in z.values()), z


def test_detection_bias_runs_in_the_documented_direction(pop):
    """Aware practices notice more of their incidents, so the reported outcome understates the
    protective effect of information (H1's documented threat)."""
    inc = pop[pop["incident_true"]]
    aware = inc["awareness"] > 0
    assert inc.loc[aware, "incident_detected"].mean() > inc.loc[~aware, "incident_detected"].mean() + 0.05
    assert abs(pop["p_detect"].mean() - TrueModel().detection_rate) < 1e-9   # solved level
    # fewer incidents among the aware, who detect more: detection among incidents is below the mean
    assert 0.6 < pop["incident_detected"].sum() / pop["incident_true"].sum() < 0.75
    known = pop["guideline_awareness"] == 1
    true_or = _odds_ratio(pop["incident_true"], known)
    reported_or = _odds_ratio(pop["incident_12m"] == 1, known)
    assert reported_or > true_or            # weaker protective association once detection enters


def _odds_ratio(y, x):
    a, b = y[x].mean(), y[~x].mean()
    return (a / (1 - a)) / (b / (1 - b))


def test_census_models_show_h1_and_h2_as_the_defaults_intend(pop):
    """Default effect sizes follow the brief: per standard deviation, organisation beats
    equipment on reported incidents (H1, even after detection bias), larger practices have more
    incidents (H2), organisation raises the count of measures and implementation (H3)."""
    from surveydata.simulate import analysis_variables, census_models

    v = analysis_variables(pop)
    m = census_models(pop, v)
    inc = m["incident_logit"]["params"]
    sd_org, sd_tech = v["org_index"].astype(float).std(), v["tech_index"].astype(float).std()
    assert inc["org_index"] < 0 and inc["tech_index"] < 0
    assert abs(inc["org_index"] * sd_org) > abs(inc["tech_index"] * sd_tech)
    assert inc["C(kbv_size_class)[T.3]"] > inc["C(kbv_size_class)[T.2]"] > 0
    assert m["tech_index_poisson"]["params"]["org_index"] > 0
    polr = m["implementation_polr"]["params"]            # negative: more fully implemented
    p = TrueModel()
    for term, true in (("tech_share", p.impl_tech_share), ("responsible_named", p.impl_responsible),
                       ("guideline_known", p.impl_guideline_known), ("training_all", p.impl_training_all),
                       ("guideline_understandable", p.impl_understandable), ("provider_certified", p.impl_certified)):
        # the census ordinal fit recovers the generating slopes (the model is correctly specified)
        assert abs(-polr[term] - true) < 0.1, (term, polr[term], true)
