"""Raking (IPF) properties; R's numbers are in test_calibration.py and test_calibration_api.py."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_calibration_api import POP, POP_SCHWIDE, POP_TYPES, classes  # noqa: F401

from analysis.calibration import (
    CalibrationError,
    Cells,
    calibrate_weights,
    calibration_matrix,
    rake_weights,
)


@st.composite
def raking_problems(draw):
    n = draw(st.integers(30, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ka, kb = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    # every combination of levels present, so that both margins can be met
    a = np.concatenate([np.repeat(np.arange(ka), kb), rng.integers(0, ka, n - ka * kb)])
    b = np.concatenate([np.tile(np.arange(kb), ka), rng.integers(0, kb, n - ka * kb)])
    w = rng.uniform(0.5, 5.0, n)
    N = w.sum() * rng.uniform(0.8, 1.5)
    ta = rng.dirichlet(np.full(ka, 5.0)) * N
    tb = rng.dirichlet(np.full(kb, 5.0)) * N
    return w, Cells(("a",), a, ta, tuple(range(ka))), Cells(("b",), b, tb, tuple(range(kb)))


@settings(max_examples=40, deadline=None)
@given(raking_problems())
def test_raked_weights_meet_every_margin(problem):
    w, ma, mb = problem
    new, rec = rake_weights(w, [ma, mb], maxit=1000)
    assert rec.converged
    for m in (ma, mb):
        np.testing.assert_allclose(np.bincount(m.codes, weights=new), m.targets, rtol=1e-8)
    # raking multiplies each joint cell by one factor: ratios are constant within joint cells
    joint = ma.codes * 10 + mb.codes
    ratio = new / w
    spread = pd.Series(ratio).groupby(joint).agg(lambda r: r.max() / r.min() - 1)
    assert spread.max() < 1e-12


def _api_margins(apiclus1) -> list[Cells]:
    """School type and sch.wide margins of apiclus1 with the api population totals."""
    return [
        Cells(("stype",), pd.factorize(apiclus1["stype"], sort=True)[0], POP_TYPES.to_numpy(),
              ("E", "H", "M")),
        Cells(("sch.wide",), pd.factorize(apiclus1["sch.wide"], sort=True)[0],
              POP_SCHWIDE.to_numpy(), ("No", "Yes")),
    ]


def test_raking_is_calibration_with_the_raking_distance(apiclus1):
    # IPF converges to the exponential-distance calibration on the margins' indicators
    w = apiclus1["pw"].to_numpy()
    margins = _api_margins(apiclus1)
    ipf, _ = rake_weights(w, margins, epsilon=1e-13, maxit=1000)
    X, t, _ = calibration_matrix(apiclus1, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    newton, _ = calibrate_weights(w, X, t, method="raking", epsilon=1e-13)
    np.testing.assert_allclose(ipf, newton, rtol=1e-9)


def test_inconsistent_margins_are_an_error_not_wrong_weights():
    # levels (a=1, b=0) never occur together: b's first level can only come from a's first
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 1, 1, 1])
    ma = Cells(("a",), a, np.array([10.0, 90.0]), ("x", "y"))
    mb = Cells(("b",), b, np.array([50.0, 50.0]), ("u", "v"))
    with pytest.raises(CalibrationError, match=r"margin \['a'\] .*no sample rows"):
        rake_weights(np.ones(4), [ma, mb], maxit=1000)
    with pytest.warns(UserWarning, match=r"replicate column\(s\) \[1, 2\]"):
        rake_weights(np.ones((4, 2)), [ma, mb], maxit=1000)


def test_raking_raked_weights_changes_nothing(classes, apiclus1):  # noqa: F811
    d = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")
    once = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    twice = once.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    np.testing.assert_allclose(twice.weights, once.weights, rtol=1e-10)


def test_joint_margin_by_tuple_key_equals_crossed_poststratification(classes, apiclus1):  # noqa: F811
    d = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")
    cross = pd.crosstab(apiclus1["stype"], apiclus1["sch.wide"]).stack() * 30.0
    ps = d.poststratify(["stype", "sch.wide"], cross)
    rk = d.rake({("stype", "sch.wide"): cross})
    np.testing.assert_allclose(rk.weights, ps.weights, rtol=1e-12)


def test_r_control_validation(classes, apiclus1):  # noqa: F811
    d = classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")
    with pytest.raises(ValueError, match="unknown rake control"):
        d.rake({"stype": POP_TYPES}, control={"tol": 1})
    with pytest.raises(ValueError, match="non-empty dict"):
        d.rake({})
    assert POP["pop.types"]["E"] == 4421


def _r_backfitting(U, record):
    """R's svyrecvar for a raking record, literally: 10 sweeps of x - w_m * ave(x / w_m, margin)."""
    x = U.copy()
    for _ in range(10):
        for m, psw in zip(record.margins, record.margin_weights):
            ratio = np.divide(x, psw[:, None], out=np.zeros_like(x), where=psw[:, None] != 0)
            means = pd.DataFrame(ratio).groupby(m.codes).transform("mean").to_numpy()
            x = x - psw[:, None] * means
    return x


def test_raking_residuals_are_r_backfitting(apiclus1):
    rng = np.random.default_rng(9)
    w = apiclus1["pw"].to_numpy() * rng.uniform(0.5, 2.0, len(apiclus1))
    w[rng.random(len(w)) < 0.2] = 0.0  # rows outside a subset
    margins = _api_margins(apiclus1)
    for eps, maxit in ((1.0, 10), (1e-10, 100)):  # R's early stop (margin weights differ) and tight
        new, rec = rake_weights(w, margins, epsilon=eps, maxit=maxit)
        U = rng.normal(size=(len(w), 3)) * (new != 0)[:, None]
        np.testing.assert_allclose(
            rec.residualize(U), _r_backfitting(U, rec), rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(
            rec.residualize(U[:, 0]), _r_backfitting(U[:, :1], rec)[:, 0], rtol=1e-9, atol=1e-12
        )
