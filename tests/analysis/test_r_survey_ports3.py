"""More ports of R survey's tests/ folder with survey 4.5 numbers (tests/analysis/reference/
extra_ports3.R -> extra_ports3.json): twophase.R (two-phase simple random sampling on pbc;
Tsuchiya's stratified example), poisson.R (R's seeded Poisson sample of apipop, rows saved),
bycovmat.R. Not ported from twophase.R: the svycoxph case-cohort fit (Cox models are not
supported)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

from analysis import SurveyDesign, twophase

X = json.loads((REFERENCE_DIR / "extra_ports3.json").read_text())


def test_twophase_simple_random_sampling_pbc():
    pbc = pd.read_csv(DATA_DIR / "pbc.csv")
    # R's test subsets trt == -9; the current survival::pbc codes those patients as NA
    d = twophase(pbc, subset=pbc["trt"].isna())
    m = d.mean("bili")
    assert_close([m["estimate"].iloc[0], m["se"].iloc[0]], [X["pbc"]["estimate"], X["pbc"]["se"]])
    sub = pbc.loc[pbc["trt"].isna(), "bili"]          # R's own check: close to the SRS SE
    assert abs(m["se"].iloc[0] / (sub.std() / np.sqrt(len(sub))) - 1) < 0.01


def test_twophase_tsuchiya_example():
    R = X["rei"]
    rei = pd.DataFrame(R["data"])
    d = twophase(rei, subset="sub", strata2="h", fpc1="N")
    tot = d.total("y")
    assert_close(tot["estimate"], [R["total"]["estimate"]])
    assert_close(tot["se"], [R["total"]["se"]])
    assert_close(tot["se"].iloc[0] ** 2, R["phases"]["phase1"] + R["phases"]["phase2"])


def test_twophase_two_stage_sampling_as_two_phases():
    """twophase.R: mu284, clusters at phase 1 and units within them at phase 2 equal the
    two-stage design"""
    M = X["mu284"]
    mu = pd.DataFrame(M["data"])
    d = twophase(mu, subset="sub", strata2="id1", fpc1="n1", psu1="id1")
    t, m = d.total("y1"), d.mean("y1")
    assert_close([t["estimate"].iloc[0], t["se"].iloc[0]],
                 [M["twophase_total"]["estimate"], M["twophase_total"]["se"]])
    assert_close([m["estimate"].iloc[0], m["se"].iloc[0]],
                 [M["twophase_mean"]["estimate"], M["twophase_mean"]["se"]])
    two_stage = SurveyDesign(mu[mu["sub"]], psu=["id1", "id2"], fpc=["n1", "n2"])
    assert_close(two_stage.total("y1")["se"], [M["twostage_total"]["se"]])
    assert_close(t["se"], [M["twostage_total"]["se"]])


def test_poisson_sampling_total(apipop):
    P = X["poisson"]
    pois = apipop.iloc[np.asarray(P["rows"]) - 1].assign(
        prob=lambda f: f["api00"] / 1000)
    d = SurveyDesign(pois, probs="prob", pps="poisson")
    t = d.total("api00")
    assert_close([t["estimate"].iloc[0], t["se"].iloc[0]],
                 [P["total_api00"]["estimate"], P["total_api00"]["se"]])
    # R's own check: sqrt(sum((y w)^2 (1 - p)))
    w = 1 / pois["prob"].to_numpy()
    assert_close(t["se"].iloc[0], np.sqrt(np.sum((pois["api00"].to_numpy() * w) ** 2
                                                 * (1 - pois["prob"].to_numpy()))))


def test_svyby_covmat_replicates_two_factors(dclus1):
    B = X["bycovmat"]
    res = dclus1.replicate("jk1").by(["comp.imp", "sch.wide"]).mean(["api00", "api99"])
    order = [(c, s, v) for v in ("api00", "api99") for c, s in
             [("No", "No"), ("No", "Yes"), ("Yes", "Yes")]]
    assert_close(res.loc[order, "estimate"], B["estimate"])
    assert_close(res.loc[order, "se"], B["se"])
    V = res.vcov.loc[order, order].to_numpy()
    assert_close(V, B["vcov"]["rows"])
    assert_close(np.sqrt(np.diag(V)), res.loc[order, "se"], rtol=1e-14)
