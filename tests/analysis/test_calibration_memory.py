"""Calibration records read influence values column by column and stay small.

Every record's ``residualize`` takes an array or a ColumnwiseInfluence (columns computed on
demand); both must give the same numbers, and the column-wise path must never form an n x k
matrix. Records share the weights before the step with the design instead of copying them, and
keep margin codes in small integer types. R parity itself is checked in test_calibration*.py.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from test_calibration_api import POP, POP_SCHWIDE, POP_TYPES

from analysis.calibration import (
    CalibrationError,
    Cells,
    GregCalibration,
    PostStratification,
    Raking,
    Trimming,
    calibrate_weights,
    calibration_matrix,
    cell_codes,
    poststratify_weights,
    rake_weights,
    trim_weights,
)
from analysis.design import SurveyDesign
from analysis.variance import ColumnwiseInfluence


def _records(apiclus1):
    """One record of every kind, on weights where a fifth of the rows are zero (a subset)."""
    rng = np.random.default_rng(3)
    w = apiclus1["pw"].to_numpy() * rng.uniform(0.5, 2.0, len(apiclus1))
    w[rng.random(len(w)) < 0.2] = 0.0
    stype = cell_codes(apiclus1, "stype", POP_TYPES, weights=w)
    schwide = cell_codes(apiclus1, "sch.wide", POP_SCHWIDE, weights=w)
    X, t, names = calibration_matrix(apiclus1, {"stype": POP_TYPES, "api99": 3914069.0})
    recs = {
        "poststratify": poststratify_weights(w, stype),
        "rake": rake_weights(w, [stype, schwide]),
        "rake_R_control": rake_weights(w, [stype, schwide], epsilon=1.0, maxit=10),
        "calibrate_linear": calibrate_weights(w, X, t, names=names),
        "calibrate_raking": calibrate_weights(w, X, t, method="raking", names=names),
        "calibrate_logit": calibrate_weights(w, X, t, method="logit", bounds=(0.5, 2.5)),
        "trim": trim_weights(w, upper=np.quantile(w, 0.9)),
    }
    return recs


@pytest.mark.parametrize("k", [1, 4])
def test_residualize_same_numbers_for_an_array_and_columnwise(apiclus1, k):
    for name, (new, rec) in _records(apiclus1).items():
        rng = np.random.default_rng(11)
        U = rng.normal(size=(len(new), k)) * new[:, None]
        calls = []

        def column(j, U=U, calls=calls):
            calls.append(j)
            return U[:, j].copy()

        from_array = rec.residualize(U)
        lazy = rec.residualize(ColumnwiseInfluence(U.shape[0], k, column))
        assert isinstance(from_array, np.ndarray) and from_array.shape == U.shape, name
        assert isinstance(lazy, ColumnwiseInfluence) and lazy.shape == U.shape, name
        for j in range(k):
            np.testing.assert_allclose(
                lazy.column(j), from_array[:, j], rtol=1e-14, atol=0, err_msg=name
            )
        np.testing.assert_allclose(np.asarray(lazy), from_array, rtol=1e-14, atol=0)
        # a vector is residualised as a one-column matrix
        np.testing.assert_allclose(rec.residualize(U[:, 0]), from_array[:, 0], rtol=1e-14, atol=0)
        assert set(calls) <= set(range(k))
        if name != "trim":  # the residual is not the input
            assert not np.allclose(from_array, U), name


def test_records_chain_columnwise_in_the_design(apiclus1):
    """poststratify -> rake -> calibrate -> trim: the design's variance from an array and from
    a ColumnwiseInfluence of the same values agree, and so do domain estimates."""
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    d = (
        d.poststratify("stype", POP_TYPES)
        .rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
        .calibrate(POP["pop.totals"], "~stype+api99")
        .trim(upper=60.0)
    )
    assert [r.kind for r in d.calibrations] == ["poststratify", "rake", "calibrate", "trim"]
    Y = apiclus1[["api00", "api99", "enroll"]].to_numpy(dtype=float)
    U = d.weights[:, None] * (Y - (d.weights @ Y) / d.weights.sum())
    V_array = d.vcov_influence(U)
    V_lazy = d.vcov_influence(ColumnwiseInfluence(U.shape[0], 3, lambda j: U[:, j]))
    np.testing.assert_allclose(V_lazy, V_array, rtol=1e-13)
    by = d.by("stype").mean("api00")
    assert np.all(np.isfinite(by["se"])) and np.all(by["se"] > 0)


def test_records_share_the_starting_weights_and_keep_compact_codes(apiclus1):
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    ps = d.poststratify("stype", POP_TYPES)
    rk = d.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    for design in (ps, rk):
        (rec,) = design.calibrations
        assert rec.old_weights is d.weights  # the design's read-only weights, not a copy
        assert not rec.old_weights.flags.writeable
    (rec,) = rk.calibrations
    assert isinstance(rec, Raking)
    assert rec.joint.dtype == np.int8 and all(m.codes.dtype == np.int8 for m in rec.margins)
    (post,) = ps.calibrations
    assert isinstance(post, PostStratification)
    # the post-stratified weights are recomputed from the cell factors, bit for bit
    np.testing.assert_array_equal(post.weights, ps.weights)
    # weights the caller may still change are copied
    w = apiclus1["pw"].to_numpy().copy()
    _, rec = rake_weights(w, rec.margins)
    assert rec.old_weights is not w and not np.shares_memory(rec.old_weights, w)
    np.testing.assert_array_equal(rec.old_weights, w)
    assert w.flags.writeable  # the caller's array is left as it was
    series = pd.Series(w)
    _, rec = rake_weights(series, rec.margins)
    assert not np.shares_memory(rec.old_weights, series.to_numpy())


def test_many_cells_get_a_wider_code_type():
    n = 3000
    g = np.arange(n) % 300
    df = pd.DataFrame({"g": g, "h": np.arange(n) % 2})
    cells = cell_codes(df, "g", pd.Series(10.0, index=np.arange(300)))
    assert cells.codes.dtype == np.int16 and cells.codes.max() == 299
    other = cell_codes(df, "h", pd.Series({0: 1500.0, 1: 1500.0}))
    w, rec = rake_weights(np.ones(n), [cells, other])
    np.testing.assert_allclose(np.bincount(cells.codes, weights=w), 10.0, rtol=1e-10)
    assert rec.joint.dtype == np.int16
    # replicate weight matrices are raked with the same compact codes
    W = rec.replay(np.column_stack([np.ones(n), np.linspace(0.5, 1.5, n)]))
    np.testing.assert_allclose(np.bincount(cells.codes, weights=W[:, 1]), 10.0, rtol=1e-8)


def test_columnwise_residuals_hold_no_n_by_k_matrix():
    """Raking and post-stratification residuals of k = 8 columns at n = 200,000: the
    column-wise path allocates a few n-vectors at most, far less than the n x k matrix."""
    n, k = 200_000, 8
    rng = np.random.default_rng(5)
    a, b, c = rng.integers(0, 4, n), rng.integers(0, 3, n), rng.integers(0, 5, n)
    margins = [
        Cells((name,), codes.astype(np.int8), np.full(levels, 1e6 / levels), tuple(range(levels)))
        for name, codes, levels in (("a", a, 4), ("b", b, 3), ("c", c, 5))
    ]
    w = rng.uniform(1.0, 9.0, n)
    w.setflags(write=False)
    _, rake_rec = rake_weights(w, margins)
    _, post_rec = poststratify_weights(w, margins[0])
    Y = rng.normal(size=(n, k))
    matrix_bytes = 8 * n * k
    for rec in (rake_rec, post_rec):
        U = ColumnwiseInfluence(n, k, lambda j: Y[:, j] * w)
        tracemalloc.start()
        try:
            R = rec.residualize(U)
            sums = [R.column(j).sum() for j in range(k)]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 0.6 * matrix_bytes, (rec.kind, peak)  # 8 MB of columns would be 12.8 MB
        np.testing.assert_allclose(sums, rec.residualize(Y * w[:, None]).sum(axis=0), rtol=1e-12)


def test_rake_record_is_small():
    """What a raking record adds to a design at n rows: compact codes only (the starting
    weights are the previous design's), about 4 bytes a row for three margins."""
    n = 200_000
    rng = np.random.default_rng(8)
    df = pd.DataFrame(
        {
            "m1": rng.integers(1, 5, n),
            "m2": rng.integers(1, 4, n),
            "m3": rng.integers(1, 6, n),
            "psu": np.arange(n) // 100,
            "w": rng.uniform(1.0, 3.0, n),
        }
    )
    pops = {
        m: pd.Series(6e5 / k, index=np.arange(1, k + 1))
        for m, k in (("m1", 4), ("m2", 3), ("m3", 5))
    }
    d = SurveyDesign(df, weights="w", psu="psu")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        raked = d.rake(pops)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # the new weights (8 bytes a row) and the record's codes (4 x 1 byte a row)
    assert kept < 14 * n, kept
    assert raked.calibrations[0].old_weights is d.weights


def test_trimming_passes_columnwise_influence_through():
    w, rec = trim_weights(np.array([1.0, 2.0, 3.0, 10.0]), upper=6.0)
    assert isinstance(rec, Trimming)
    U = ColumnwiseInfluence(4, 1, lambda j: w)
    assert rec.residualize(U) is U


def test_greg_record_columnwise_with_zero_weights():
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    w0 = np.array([1.0, 2.0, 0.0, 1.5, 1.0, 2.5])
    w, rec = calibrate_weights(w0, X, np.array([10.0, 30.0]))
    assert isinstance(rec, GregCalibration)
    U = np.column_stack([w * np.arange(6.0), w])
    lazy = rec.residualize(ColumnwiseInfluence(6, 2, lambda j: U[:, j]))
    np.testing.assert_array_equal(np.asarray(lazy), rec.residualize(U))
    assert np.asarray(lazy)[2].tolist() == [0.0, 0.0]  # a row without weight has no residual


def _reference_codes(df, col, pop):
    """Cell codes the plain way: every row looked up in the population index."""
    return pd.Index(pop.index).get_indexer(pd.Index(df[col]))


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, -2, 7, 3, 3, -2], dtype=np.int32),  # integers read block by block
        np.array([5, 0, 5, 2**40, 0, 2], dtype=np.int64),  # too wide a range: pandas' factorize
        np.array([1, 0, 1, 1, 0, 2], dtype=np.uint8),
        np.array(["b", "a", "c", "b", "a", "c"], dtype=object),
        np.array([True, False, True, True, False, True]),
    ],
)
def test_cell_codes_of_every_column_kind_match_a_plain_lookup(values):
    df = pd.DataFrame({"g": values})
    levels = pd.unique(values)
    pop = pd.Series(np.arange(1.0, len(levels) + 1), index=pd.Index(levels[::-1]))
    cells = cell_codes(df, "g", pop)
    np.testing.assert_array_equal(cells.codes, _reference_codes(df, "g", pop))
    assert cells.codes.dtype.itemsize <= 8 and cells.labels == tuple(pop.index.tolist())
    unknown = pop.drop(levels[0])
    with pytest.raises(CalibrationError, match=r"sample level\(s\) .* \(first rows \[0"):
        cell_codes(df, "g", unknown)


def test_categorical_column_with_an_unused_category():
    cat = pd.Categorical(["x", "y", "x", "y"], categories=["z", "x", "y"])
    df = pd.DataFrame({"g": cat})
    pop = pd.Series({"y": 30.0, "x": 70.0})  # 'z' is a category without rows, not in pop
    cells = cell_codes(df, "g", pop)
    assert cells.codes.tolist() == [1, 0, 1, 0] and cells.targets.tolist() == [30.0, 70.0]
    with pytest.raises(CalibrationError, match=r"sample level\(s\) \['x'\]"):
        cell_codes(df, "g", pd.Series({"y": 30.0, "z": 70.0}))


@pytest.mark.parametrize("levels", [(4, 3, 5), (3000, 2000, 7), (2**21, 2**21, 2**21)])
def test_joint_cells_number_the_level_combinations_in_order(levels):
    """The table, sorting and (keys that would overflow) row-sorting paths agree with
    np.unique over the rows of codes."""
    from analysis.calibration import _joint_codes

    rng = np.random.default_rng(1)
    codes = [rng.integers(0, k, 5000).astype(np.int32) for k in levels]
    codes[0][:3] = [0, levels[0] - 1, 0]
    joint, lev = _joint_codes(codes, list(levels))
    uniq, inv = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
    np.testing.assert_array_equal(joint, inv.reshape(-1))
    for i in range(3):
        np.testing.assert_array_equal(lev[i], uniq[:, i])
    assert joint.dtype == (np.int8 if len(uniq) <= 127 else np.int16)


def test_fresh_columns_are_residualised_in_place_with_the_same_numbers(apiclus1):
    """A ColumnwiseInfluence flagged fresh (every column a new array) is residualised in the
    array it hands over; the numbers are those of the array path, and records' own outputs are
    flagged fresh so that chained records work in place too."""
    for name, (new, rec) in _records(apiclus1).items():
        U = np.random.default_rng(2).normal(size=(len(new), 3)) * new[:, None]
        fresh = ColumnwiseInfluence(U.shape[0], 3, lambda j, U=U: U[:, j].copy())
        fresh.fresh = True
        out = rec.residualize(fresh)
        np.testing.assert_allclose(np.asarray(out), rec.residualize(U), rtol=1e-14, atol=0)
        assert name == "trim" or out.fresh
        twice = rec.residualize(out)  # a chained record reads fresh columns
        np.testing.assert_allclose(
            np.asarray(twice), rec.residualize(rec.residualize(U)), rtol=1e-14, atol=0
        )
