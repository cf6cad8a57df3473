"""The stage-wise engine itself: a hand-computed case, and the grouped (domain) path against
the dense (n, G*k) influence matrix on a two-stage stratified design with lonely units."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close

from analysis.design import SurveyDesign
from analysis.variance import ColumnwiseInfluence, build_stages, stagewise_vcov


def test_hand_computed_two_strata():
    # stratum a: PSU totals 1 and 3 (mean 2), n=2 of N=4: (1 - 2/4) * 2/1 * (1 + 1) = 2
    # stratum b: PSU totals 2 and 6 (mean 4), same N: 0.5 * 2 * (4 + 4) = 8
    st = build_stages(strata=[np.array([0, 0, 1, 1, 1])], psu=[np.array([0, 1, 2, 2, 3])],
                      popsize=[np.array([4.0, 4, 4, 4, 4])],
                      strata_labels=[np.array(["a", "b"])])
    U = np.array([[1.0], [3.0], [1.0], [1.0], [6.0]])
    assert_close(stagewise_vcov(U, st, "fail"), [[2.0 + 8.0]], rtol=1e-14)


@pytest.mark.parametrize("rule", ["adjust", "certainty", "remove"])
def test_grouped_equals_dense(apiclus2, rule):
    d = SurveyDesign(apiclus2, strata="stype", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"],
                     nest=True, lonely_psu=rule)
    rng = np.random.default_rng(5)
    n, k, G = len(apiclus2), 3, 4
    U = rng.normal(size=(n, k))
    codes = rng.integers(-1, G, n)
    dense = np.zeros((n, G * k))
    for g in range(G):
        dense[codes == g, g * k:(g + 1) * k] = U[codes == g]
    V_dense = stagewise_vcov(dense, d.stages, rule)
    V_grouped = stagewise_vcov(U, d.stages, rule, groups=(codes, G))
    assert_close(V_grouped, V_dense, rtol=1e-10, atol=1e-12)
    # and the sparse path for wide, row-major U gives the same
    wide = np.ascontiguousarray(np.tile(U, (1, 30)))
    V_wide = stagewise_vcov(wide, d.stages, rule)
    assert_close(V_wide[:k, :k], stagewise_vcov(U, d.stages, rule), rtol=1e-10, atol=1e-12)


def test_vcov_influence_is_linear_and_symmetric(dclus2):
    rng = np.random.default_rng(1)
    U = rng.normal(size=(dclus2.data.shape[0], 4))
    V = dclus2.vcov_influence(U)
    assert_close(V, V.T, rtol=1e-14)
    L = rng.normal(size=(4, 2))
    assert_close(dclus2.vcov_influence(U @ L), L.T @ V @ L, rtol=1e-10)
    assert np.all(np.linalg.eigvalsh(V) > -1e-9)


@pytest.mark.parametrize("rule", ["fail", "adjust", "average"])
def test_columnwise_influence_gives_the_same_covariance_as_the_matrix(dclus2, rule):
    """The engine reads a ColumnwiseInfluence column by column: same numbers as the (n, k) array,
    for plain and per-domain (grouped) totals, and materialises it on request."""
    rng = np.random.default_rng(7)
    U = rng.normal(size=(dclus2.n, 3))
    lazy = ColumnwiseInfluence(U.shape[0], U.shape[1], lambda j: U[:, j])
    assert_close(np.asarray(lazy), U, rtol=0)
    assert_close(stagewise_vcov(lazy, dclus2.stages, rule), stagewise_vcov(U, dclus2.stages, rule),
                 rtol=1e-14, atol=1e-300)
    codes = rng.integers(-1, 4, size=dclus2.n)
    assert_close(stagewise_vcov(lazy, dclus2.stages, rule, groups=(codes, 4)),
                 stagewise_vcov(U, dclus2.stages, rule, groups=(codes, 4)), rtol=1e-14, atol=1e-300)
    assert_close(dclus2.vcov_influence(lazy), dclus2.vcov_influence(U), rtol=1e-14)
