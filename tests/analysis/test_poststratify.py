"""Post-stratification properties; R's numbers are in test_calibration.py and test_calibration_api.py."""

import numpy as np
import pandas as pd
import pytest
from test_calibration_api import POP, POP_TYPES, classes  # noqa: F401

from analysis.calibration import CalibrationError


@pytest.fixture
def wclus1(classes, apiclus1):  # noqa: F811
    return classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")


def test_cells_sum_to_the_population_and_scale_uniformly(wclus1, apiclus1):
    d = wclus1.poststratify("stype", POP_TYPES)
    by_cell = pd.Series(d.weights).groupby(apiclus1["stype"].to_numpy()).sum()
    np.testing.assert_allclose(by_cell[POP_TYPES.index], POP_TYPES, rtol=1e-14)
    ratio = pd.Series(d.weights / apiclus1["pw"].to_numpy()).groupby(apiclus1["stype"].to_numpy())
    assert (ratio.max() - ratio.min()).max() < 1e-12
    # the total of the post-stratifying variable's indicators has (almost) no variance left
    res = d.total("stype")
    np.testing.assert_allclose(res["estimate"].to_numpy(), POP_TYPES.to_numpy(), rtol=1e-12)
    assert res["se"].max() < 1e-6 * POP_TYPES.max()


def test_poststratification_is_greg_with_cell_indicators(wclus1):
    # theory: linear calibration on a single factor's indicators is post-stratification, and R's
    # two residualisations coincide; the SEs must agree to rounding
    ps = wclus1.poststratify("stype", POP_TYPES)
    greg = wclus1.calibrate({"stype": POP_TYPES})
    np.testing.assert_allclose(greg.weights, ps.weights, rtol=1e-12)
    for var in ("api00", "enroll"):
        np.testing.assert_allclose(greg.mean(var)["se"], ps.mean(var)["se"], rtol=1e-10)


def test_poststratify_is_idempotent(wclus1):
    once = wclus1.poststratify("stype", POP_TYPES)
    twice = once.poststratify("stype", POP_TYPES)
    np.testing.assert_allclose(twice.weights, once.weights, rtol=1e-13)  # summation rounding
    np.testing.assert_allclose(twice.mean("api00")["se"], once.mean("api00")["se"], rtol=1e-12)


def test_subset_then_poststratify_keeps_zero_weights(wclus1):
    sub = wclus1.subset(wclus1.data["sch.wide"] == "Yes")
    d = sub.poststratify("stype", POP_TYPES)
    assert np.all(d.weights[sub.weights == 0] == 0)
    np.testing.assert_allclose(d.weights.sum(), POP_TYPES.sum(), rtol=1e-14)
    assert np.isfinite(d.mean("api00")["se"].iloc[0])


def test_population_given_as_numbers_of_another_dtype_is_refused(wclus1):
    with pytest.raises(CalibrationError, match="not in the population"):
        wclus1.poststratify("stype", pd.Series({1: 4421.0, 2: 755.0, 3: 1018.0}))
    assert POP["pop.types"]["H"] == 755
