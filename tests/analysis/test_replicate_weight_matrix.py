"""Replicate designs made by ``replicate()`` keep their multipliers per PSU
(ReplicateWeightMatrix: P x R factors instead of an n x R matrix). Every estimator must give the
same numbers as the same design built from the materialised (n, R) matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import ReplicateDesign, SurveyDesign, svyglm
from analysis.replicates import ReplicateWeightMatrix


@pytest.fixture(params=[("bootstrap", {"replicates": 30, "seed": 4}), ("jkn", {}),
                        ("rao-wu", {"replicates": 20, "seed": 2})])
def pair(request, apistrat):
    kind, kw = request.param
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    lazy = d.replicate(kind, **kw)
    assert isinstance(lazy.repweights, ReplicateWeightMatrix)
    dense = ReplicateDesign(apistrat, repweights=np.asarray(lazy.repweights), weights=d.weights,
                            type=lazy.type, scale=lazy.scale, rscales=lazy.rscales, degf=lazy.degf)
    return lazy, dense


def same(a: pd.DataFrame, b: pd.DataFrame, rtol=1e-12):
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), rtol=rtol, atol=1e-12)


def test_linear_statistics_match_the_dense_matrix(pair):
    lazy, dense = pair
    same(lazy.mean(["api00", "api99", "enroll"]), dense.mean(["api00", "api99", "enroll"]))
    same(lazy.total(["api00", "stype"]), dense.total(["api00", "stype"]))
    same(lazy.ratio("api00", "api99"), dense.ratio("api00", "api99"))
    same(lazy.by("sch.wide").mean(["api00", "enroll"]), dense.by("sch.wide").mean(["api00", "enroll"]))
    same(lazy.by("stype").ratio("api00", "api99"), dense.by("stype").ratio("api00", "api99"))
    sub = lazy.data["enroll"] > 400
    same(lazy.subset(sub.to_numpy()).mean("api00"), dense.subset(sub.to_numpy()).mean("api00"))


def test_other_estimators_and_models_match_the_dense_matrix(pair):
    lazy, dense = pair
    same(lazy.quantile("api00", [0.25, 0.5]), dense.quantile("api00", [0.25, 0.5]))
    same(lazy.proportion("sch.wide", level="Yes"), dense.proportion("sch.wide", level="Yes"))
    same(lazy.crosstab("stype", "sch.wide").table, dense.crosstab("stype", "sch.wide").table)
    f1 = svyglm("api00 ~ ell + meals", lazy)
    f2 = svyglm("api00 ~ ell + meals", dense)
    np.testing.assert_allclose(f1.params, f2.params, rtol=1e-12)
    np.testing.assert_allclose(f1.bse, f2.bse, rtol=1e-8)


def test_the_matrix_behaves_like_the_array_it_stands_for(pair):
    lazy, _ = pair
    W = lazy.repweights
    M = np.asarray(W)
    assert W.shape == M.shape and M.flags.owndata
    np.testing.assert_array_equal(W[3:40], M[3:40])
    np.testing.assert_array_equal(W[5], M[5])
    np.testing.assert_array_equal(W[10:20, 2], M[10:20, 2])
    mask = np.arange(M.shape[0]) % 3 == 0
    np.testing.assert_array_equal(W[mask], M[mask])
    y = np.linspace(0, 1, M.shape[0])
    np.testing.assert_allclose(W.T @ y, M.T @ y, rtol=1e-12)
    np.testing.assert_allclose(W.sum(axis=0), M.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(W * y[:, None]), M * y[:, None], rtol=1e-15)  # (w y) f vs (w f) y
    assert W.mean() == pytest.approx(M.mean(), rel=1e-12)
    with pytest.raises(AttributeError):
        W.no_such_attribute  # noqa: B018


def test_a_calibrated_design_replicates_into_a_full_matrix(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    pop = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
    r = d.poststratify("stype", pop).replicate("bootstrap", replicates=10, seed=1)
    assert isinstance(r.repweights, np.ndarray)     # replicate weights now differ row by row
