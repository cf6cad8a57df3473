"""Calibration with aggregate.stage (R: calibrate(..., aggregate.stage = 1)): calibration
variables and weights are averaged within clusters, so all units of a cluster share one g-weight.
Against R survey 4.5 (tests/analysis/reference/extra_aggregate.R -> extra_aggregate.json)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import CalibrationError, SurveyDesign

X = json.loads((REFERENCE_DIR / "extra_aggregate.json").read_text())
POP = {"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "api99": 3914069.0}


def _check(d, ref):
    assert_close(d.weights, ref["weights"], what="weights")
    assert_close(d.mean("api00")["se"], [ref["mean_api00"]["se"]])
    assert_close(d.total("enroll", na_rm=True)["se"], [ref["total_enroll"]["se"]])


@pytest.mark.parametrize("method", ["linear", "raking"])
def test_aggregate_stage_one_cluster_design(dclus1, apiclus1, method):
    d = dclus1.calibrate(POP, "~stype + api99", method=method, aggregate_stage=1)
    _check(d, X[f"dclus1_{method}"])
    g = d.weights / dclus1.weights
    spread = (np.bincount(apiclus1["dnum"].factorize()[0], weights=g)
              / np.bincount(apiclus1["dnum"].factorize()[0]))
    assert_close(g, spread[apiclus1["dnum"].factorize()[0]], rtol=1e-12)   # one g per cluster


def test_aggregate_stage_two_stage_design_and_by_column(apiclus2):
    d2 = SurveyDesign(apiclus2, weights="pw", psu=["dnum", "snum"])
    _check(d2.calibrate(POP, "~stype + api99", aggregate_stage=1), X["dclus2_linear"])
    by_col = d2.calibrate(POP, "~stype + api99", aggregate_stage="dnum")
    assert_close(by_col.weights, X["dclus2_linear"]["weights"])


def test_aggregate_stage_on_replicates_keeps_one_g_per_cluster(dclus1, apiclus1):
    rd = dclus1.replicate("jk1")
    r = rd.calibrate(POP, "~stype + api99", aggregate_stage="dnum")
    assert_close(r.weights, X["dclus1_linear"]["weights"])
    G = np.asarray(r.repweights) / np.where(np.asarray(rd.repweights) > 0,
                                             np.asarray(rd.repweights), 1.0)
    codes = apiclus1["dnum"].factorize()[0]
    for j in range(G.shape[1]):
        first = G[np.unique(codes, return_index=True)[1], j]
        live = np.asarray(rd.repweights)[:, j] > 0
        assert_close(G[live, j], first[codes][live], rtol=1e-10)


def test_aggregate_stage_errors(dclus1):
    with pytest.raises(CalibrationError, match="give a stage 1..1"):
        dclus1.calibrate(POP, "~stype + api99", aggregate_stage=2)
    with pytest.raises(CalibrationError, match="not found"):
        dclus1.calibrate(POP, "~stype + api99", aggregate_stage="nope")
