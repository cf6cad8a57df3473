"""The generic simulation engine: a study's simulation declared in YAML (schemas.simulation checks
it, surveydata.simulate.engine runs it). The practice study's byte-identity is guarded by
test_demo.py and test_simulate_population.py; here: the formula evaluator, one-line errors, a
second study (pharmacy staff) declaring its own causal model, and the generic simulator's
exclusive options."""
from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import numpy as np
import pytest

import schemas
from schemas._yaml import read_yaml
from schemas.simulation import SimulationError, parse_formula
from schemas.study import parse_study
from surveydata.simulate import census_models, draw_sample, population_truth, simulate_population
from surveydata.simulate.engine import Evaluator
from surveydata.simulate.generic import simulate_responses

STUDIES = Path(schemas.__file__).parent / "studies"


def test_a_formula_repeats_numpys_arithmetic_and_random_draws_bit_for_bit():
    """The engine walks the syntax tree in Python's order, so a declared formula gives the same
    bits and the same random stream as the numpy code it replaces."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000)
    k = rng.integers(1, 4, 1000)
    slope = (0.5, -0.25, 1.5)
    f = parse_formula("0.3 * x + slope[k] - 0.7 * (k in [2, 3]) + 0.2 * normal() + poisson(0.5 * k)", "<t>", "lp")
    got = Evaluator({"x": x, "k": k, "slope": slope}, np.random.default_rng(9), 1000)(f)
    r = np.random.default_rng(9)
    want = (0.3 * x + np.array(slope)[k - 1] - 0.7 * np.isin(k, [2, 3]) + 0.2 * r.standard_normal(1000)
            + r.poisson(0.5 * k))
    assert got.dtype == want.dtype and np.array_equal(got, want)
    # on a subset of rows, draws have the subset's size (as rng.poisson(mu, rows.sum()) in code)
    rows = k == 2
    sub = Evaluator({"k": k}, np.random.default_rng(9), 1000)(parse_formula("2 + poisson(0.3)", "<t>", "v"), rows=rows)
    assert np.array_equal(sub, 2 + np.random.default_rng(9).poisson(0.3, rows.sum()))


def _practice_data():
    return read_yaml(STUDIES / "practice_security.yaml", error=schemas.StudyError)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["steps"].__setitem__(1, {"kind": "ordinl", "item": "resp_age_group"}),
     "my.yaml: simulation.steps[1].kind: unknown step kind 'ordinl'; kinds: let, value, ordinal"),
    (lambda s: s["steps"][3].__setitem__("lp", "0.3 * log_sise"),
     "my.yaml: simulation.steps[3].lp: unknown name 'log_sise' in '0.3 * log_sise'"),
    (lambda s: s["steps"].insert(1, {"let": "z", "value": "practice_type.real"}),
     "my.yaml: simulation.steps[1].value: Attribute not allowed in a formula"),
    (lambda s: s["steps"].insert(1, {"let": "z", "value": "np.exp(1)"}),
     "my.yaml: simulation.steps[1].value: unknown function 'np.exp'"),
    (lambda s: s["steps"].insert(1, {"let": "z", "value": "__import__('os')"}),
     "my.yaml: simulation.steps[1].value: unknown function '__import__'"),
    (lambda s: s["steps"].insert(1, {"kind": "ordinal", "item": "resp_shoe_size"}),
     "my.yaml: simulation.steps[1].item: 'resp_shoe_size' is not an item of instrument 'practice_security'"),
    (lambda s: s["steps"].pop(-1),
     "my.yaml: simulation.steps: no step draws the instrument column(s) comments"),
    (lambda s: s["response"].__setitem__("propensity", "r_awareness * awareness +"),
     "my.yaml: simulation.response.propensity: cannot read formula"),
    (lambda s: s["truth"]["models"]["incident_logit"].__setitem__("fit", "probit"),
     "my.yaml: simulation.truth.models.incident_logit.fit: must be binomial, poisson or polr"),
])
def test_a_broken_simulation_is_a_one_line_error_naming_file_and_key(change, message):
    data = _practice_data()
    change(data["simulation"])
    with pytest.raises(SimulationError) as e:
        parse_study(data, "my.yaml", STUDIES)
    text = str(e.value)
    assert text.startswith(message), text
    assert "\n" not in text and isinstance(e.value, schemas.StudyError)


def test_a_study_without_a_simulation_section_says_so():
    with pytest.raises(schemas.StudyError, match="declares no simulation: section"):
        simulate_population(1, study=schemas.load_instrument("pharmacy_staff"))


@pytest.fixture(scope="module")
def pharmacy():
    study = schemas.load_study("pharmacy_staff")
    return study, simulate_population(4, study=study)


def test_a_second_study_declares_its_own_population_and_its_shares_are_the_priors(pharmacy):
    """Every level is solved to the prior, so a realised share differs from it by binomial noise
    only: within 4 standard errors sqrt(p(1-p)/n_asked) (a false alarm 6e-5 per share)."""
    study, pop = pharmacy
    inst = study.instrument
    assert len(pop) == 160000 and pop["person_id"].tolist()[:3] == [1, 2, 3]
    assert pop.groupby(["role", "pharmacy_size"]).size().sum() == 160000
    assert set(pop["stratum"].str.count("-")) == {1}
    checked = 0
    for var in ("trained", "shared_login", "phishing_seen", "phishing_reported", "climate_rules_clear",
                "climate_time_pressure", "phone_for_work_data"):
        item = inst.item(var)
        asked = pop[var][pop[var] != item.not_applicable]
        for code, pct in item.prior.items():
            p = pct / 100
            assert abs((asked == code).mean() - p) < 4 * np.sqrt(p * (1 - p) / len(asked)), (var, code)
            checked += 1
    assert checked > 30
    # skip logic: phishing_reported only where phishing_seen == 1, with the instrument's 97
    assert (pop.loc[pop["phishing_seen"] != 1, "phishing_reported"] == 97).all()
    # the hard rule declared as a value step holds
    ok = (pop["it_hours"] < 98) & (pop["weekly_hours"] < 99)
    assert (pop.loc[ok, "it_hours"] <= pop.loc[ok, "weekly_hours"]).all()


def test_the_declared_slopes_are_what_a_census_fit_recovers(pharmacy):
    """The reporting model is declared without confounding, so the census logit estimates the
    declared slopes (0.9 for training, 0.6 per SD of climate) up to its sampling error (about 0.02
    at n = 60,000 reporters): within 0.1."""
    study, pop = pharmacy
    fit = census_models(pop, study=study)["reporting_logit"]
    assert abs(fit["params"]["trained01"] - 0.9) < 0.1
    assert abs(fit["params"]["climate"] - 0.6) < 0.1
    truth = population_truth(pop, study=study)
    assert set(truth) == {"prevalence", "by_role", "by_pharmacy_size", "distributions"}
    assert abs(truth["prevalence"]["trained_yes"] - 0.55) < 0.005


def test_a_second_study_samples_with_its_declared_response_model(pharmacy):
    study, pop = pharmacy
    s = draw_sample(pop, seed=2, n_invited=3000, response_rate=0.3, study=study)
    assert set(s.settings["nonresponse_model"]) == {"r_climate", "r_manager", "item_nonresponse"}
    w = s.respondents.groupby("stratum")["w"].sum().round()
    assert w.eq(s.strata.set_index("stratum").loc[w.index, "N_h"]).all()
    # engaged (high-climate) staff respond more: the respondents' mean climate is above 0
    assert s.respondents["climate"].mean() > 0.05
    # item nonresponse uses this instrument's no-answer code, 99
    assert (s.respondents["trained"] == 99).any() and not (s.respondents["trained"] == -9).any()
    # without study=, the default study's response model cannot read this population: one line
    with pytest.raises(ValueError, match=r"^the population has no column '\w+', which the response model "
                                         r"of study 'practice_security' reads; pass study="):
        draw_sample(pop, seed=2, n_invited=3000, response_rate=0.3)


EXCLUSIVE = """
format: 2
instrument: {name: kit, version: "1"}
meta: {title_de: "Kit", title_en: "Kit"}
sections:
  A: {title_de: "A", title_en: "A"}
metadata:
  - {var: response_id, type: id, text_de: "ID", text_en: "ID"}
items:
  - var: tools
    section: A
    type: multi
    text_de: "Werkzeuge?"
    text_en: "Tools?"
    codes:
      hammer: {label_de: "Hammer", label_en: "Hammer"}
      saw: {label_de: "Säge", label_en: "Saw"}
      drill: {label_de: "Bohrer", label_en: "Drill"}
      none: {label_de: "Keine", label_en: "None", exclusive: true}
    prior: {hammer: 40, saw: 20, drill: 50, none: 5}
  - var: needs
    section: A
    type: multi
    max_select: 2
    text_de: "Bedarf?"
    text_en: "Needs?"
    codes:
      a: {label_de: "A", label_en: "A"}
      b: {label_de: "B", label_en: "B"}
      c: {label_de: "C", label_en: "C"}
      none: {label_de: "Nichts", label_en: "Nothing", exclusive: true}
    prior: {a: 50, b: 40, c: 30, none: 10}
"""


def test_generic_simulator_ticks_an_exclusive_option_with_its_prior_share():
    """Before, an answer with nothing else ticked ticked "none": 'none' came out at 28 % instead
    of 5 % here. Now every option's share among answers is its prior, within 4 binomial standard
    errors at n = 20,000 (sd <= 0.0035), also under max_select."""
    inst = schemas.parse_instrument(textwrap.dedent(EXCLUSIVE), source="kit.yaml")
    n = 20000
    coded = simulate_responses(inst, n=n, seed=7, error_rate=0.0).coded
    for item in inst.items:
        cols = coded[list(item.columns)].to_numpy(dtype=float)
        answered = (cols >= 0).all(axis=1)
        ticks = cols[answered]
        assert (ticks[:, -1] == 1).sum() == ((ticks[:, -1] == 1) & (ticks.sum(axis=1) == 1)).sum()  # alone
        assert (ticks.sum(axis=1) >= 1).all()
        if item.max_select:
            assert (ticks.sum(axis=1) <= item.max_select).all()
        for j, o in enumerate(item.options):
            p = item.prior[o.code] / 100
            share = ticks[:, j].mean()
            assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / len(ticks)), (item.var, o.code, share, p)


def test_the_practice_parameters_stay_overridable_from_python():
    from surveydata.simulate import NonresponseModel, TrueModel
    p = TrueModel(detection_rate=0.9)
    assert p.to_dict()["detection_rate"] == 0.9 and TrueModel().detection_rate == 0.75
    assert NonresponseModel.ignorable().r_type == (0.0,) * 5
    data = copy.deepcopy(_practice_data())
    assert list(TrueModel().to_dict()) == list(data["simulation"]["parameters"])


def test_a_second_study_simulates_a_whole_dataset_whose_planted_errors_validation_finds(tmp_path):
    """simulate_dataset(study=...) runs population, sample and export of the pharmacy study (its
    missing codes 97/98/99, free text skipped as empty): validation quarantines exactly the
    planted errors of the quarantining kinds."""
    from surveydata import read_export
    from surveydata.simulate import simulate_dataset, write_dataset
    from surveydata.simulate.export import QUARANTINED
    from surveydata.validate import validate

    ds = simulate_dataset(seed=3, n_invited=2000, response_rate=0.3, study="pharmacy_staff")
    write_dataset(ds, tmp_path)
    inst = schemas.load_instrument("pharmacy_staff")
    res = validate(read_export(tmp_path / "export.csv", inst), inst)
    want = {rid for rid, p in ds.truth["planted_errors"].items() if p["kind"] in QUARANTINED}
    assert want and set(res.quarantine["response_id"]) == want
    assert ds.files["README.md"].decode().startswith("# Simulated survey: Information security of pharmacy staff")
    assert "stratum (role-pharmacy_size)" in ds.files["README.md"].decode()


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def test_junk_anywhere_in_a_simulation_section_is_a_one_line_study_error():
    """300 declarations, each with one value somewhere in the simulation: section replaced by junk
    (seeded): every one loads or fails with a one-line StudyError, never another exception."""
    import random

    rnd = random.Random(11)
    junk = [None, 5, -1.5, "x", "1 +", "__x", [], {}, [1, "a"], {"a": 1}, True, "normal()", [[1]], {1: [2]}]
    bases = {n: read_yaml(STUDIES / f"{n}.yaml", error=schemas.StudyError) for n in ("practice_security", "pharmacy_staff")}
    failures = 0
    for _ in range(300):
        data = copy.deepcopy(bases[rnd.choice(sorted(bases))])
        path = rnd.choice(list(_paths(data["simulation"])))
        target = data
        for k in ("simulation", *path[:-1]):
            target = target[k]
        target[path[-1] if path else "simulation"] = copy.deepcopy(rnd.choice(junk))
        try:
            parse_study(data, "f.yaml", STUDIES)
        except schemas.StudyError as e:
            assert "\n" not in str(e) and str(e).startswith("f.yaml: ")
            failures += 1
    assert failures > 100


def test_parameters_that_do_not_fit_the_declaration_are_a_one_line_error():
    from surveydata.simulate.population import parameters

    params = parameters("pharmacy_staff")(climate_role=[0.1, 0.2])   # 2 values for 5 roles
    with pytest.raises(schemas.StudyError) as e:
        simulate_population(1, params=params, study="pharmacy_staff")
    assert "simulation.steps[5] (let climate): cannot run: IndexError" in str(e.value)
    assert "\n" not in str(e.value)
