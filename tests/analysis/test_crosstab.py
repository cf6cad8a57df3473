"""crosstab(): weighted table and svychisq tests against R (reference.json b svychisq)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close


@pytest.fixture(scope="module")
def tab(dclus1):
    return dclus1.crosstab("sch.wide", "stype")


@pytest.mark.parametrize("name", ["F", "Chisq", "Wald", "adjWald"])
def test_tests_match_r_svychisq(tab, reference, name):
    ref = reference["b_cluster1"]["svychisq_sch.wide_stype"][name]
    t = tab.tests[name]
    assert_close(t.statistic, next(iter(ref["statistic"].values())), what="statistic")
    assert_close(t.p, ref["p_value"], what="p")
    par = ref["parameter"]
    if "ndf" in par:
        assert_close([t.ndf, t.ddf], [par["ndf"], par["ddf"]], what="df")
    else:
        assert t.ndf == par["df"] and not np.isfinite(t.ddf)
    assert t.method == ref["method"]


def test_saddlepoint_p_value_matches_r(tab, reference):
    ref = reference["b_cluster1"]["svychisq_sch.wide_stype"]["saddlepoint"]
    t = tab.tests["saddlepoint"]
    assert_close(t.statistic, ref["statistic"]["X-squared"])
    assert_close(t.p, ref["p_value"])


def test_default_test_is_second_order_rao_scott(tab, reference):
    ref = reference["b_cluster1"]["svychisq_sch.wide_stype"]["F"]
    assert tab.test is tab.tests["F"]
    assert_close([tab.test.F, tab.test.p], [ref["statistic"]["F"], ref["p_value"]])


def test_weighted_table_sums_to_the_weight_total(tab, dclus1):
    assert tab.table.shape == (2, 3)
    assert_close(tab.table.to_numpy().sum(), dclus1.weights.sum(), rtol=1e-12)
    assert list(tab.table.index) == ["No", "Yes"]
    assert list(tab.table.columns) == ["E", "H", "M"]


def test_cell_counts_and_proportions_equal_direct_estimators(tab, dclus1, apiclus1):
    cell = (apiclus1["sch.wide"] == "Yes") & (apiclus1["stype"] == "H")
    d2 = dclus1.__class__(apiclus1.assign(c=cell.astype(float)), weights="pw", psu="dnum",
                          fpc="fpc")
    tot, mean = d2.total("c"), d2.mean("c")
    assert_close(tab.counts.loc[("Yes", "H"), ["estimate", "se"]].to_numpy(float),
                 tot[["estimate", "se"]].to_numpy()[0], rtol=1e-12)
    assert_close(tab.proportions.loc[("Yes", "H"), ["estimate", "se"]].to_numpy(float),
                 mean[["estimate", "se"]].to_numpy()[0], rtol=1e-12)


def test_row_proportions_sum_to_one_within_rows(tab):
    rp = tab.row_proportions()
    sums = rp["estimate"].groupby(level=0).sum()
    assert_close(sums.to_numpy(), [1.0, 1.0], rtol=1e-12)


def test_missing_values_are_counted_not_silent(dclus1, apiclus1):
    data = apiclus1.copy()
    data.loc[[0, 1], "sch.wide"] = None
    d = dclus1.__class__(data, weights="pw", psu="dnum", fpc="fpc")
    tab = d.crosstab("sch.wide", "stype")
    assert tab.n_missing == 2
    assert "2 row(s) with missing values left out" in repr(tab)
    with pytest.raises(ValueError, match="2 row\\(s\\) with missing values"):
        d.crosstab("sch.wide", "stype", na_rm=False)


def test_unused_categories_are_dropped_as_r_factor(tab, dclus1, apiclus1):
    data = apiclus1.assign(stype=apiclus1["stype"].cat.add_categories(["X"]))
    d = dclus1.__class__(data, weights="pw", psu="dnum", fpc="fpc")
    t2 = d.crosstab("sch.wide", "stype")
    assert list(t2.table.columns) == ["E", "H", "M"]
    assert_close(t2.test.F, tab.test.F, rtol=1e-12)
