"""Planning the next wave, checked against tests/analysis/reference/extra_planning.R: the formulas of
Valliant, Dever & Kreuter (2018, ch. 3; PracTools' nPropMoe, nProp, nCont, nContMoe, strAlloc,
whose own code gave the same numbers when this test was written) and R's power.prop.test."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.planning import (
    PlanningError,
    allocate,
    n_mean,
    n_proportion,
    n_two_proportions,
    power_two_proportions,
)

REF = json.loads((Path(__file__).parent / "reference" / "extra_planning.json").read_text())
NH = [34692, 36311, 28042, 37423, 5187]
SH = [0.48, 0.50, 0.40, 0.45, 0.49]
CH = [1, 1.2, 0.8, 1, 2]


def close(a, b, rtol=1e-10):
    np.testing.assert_allclose(a, b, rtol=rtol)


def test_proportion_sample_sizes():
    close(n_proportion(0.3, moe=0.03, N=141655)["n_srs"], REF["nprop_moe_03_p30_N"])
    close(n_proportion(0.3, moe=0.03)["n_srs"], REF["nprop_moe_03_p30_inf"])
    close(n_proportion(0.1, moe=0.10, relative=True, N=141655)["n_srs"], REF["nprop_relmoe_10_p10"])
    close(n_proportion(0.33, cv=0.05, N=141655)["n_srs"], REF["nprop_cv_05_p33"])


def test_mean_sample_sizes():
    close(n_mean(cv_pop=1.2, cv=0.05, N=141655)["n_srs"], REF["ncont_cv_05_cvpop_12"])
    close(n_mean(S2=100, moe=2, N=5000, alpha=0.1)["n_srs"], REF["ncont_moe_2_S2_100"])


def test_design_effect_and_response_rate_give_the_invitations():
    plan = n_proportion(0.3, moe=0.03, N=141655, deff=1.8, response_rate=0.2)
    close(plan["n"], 1.8 * REF["nprop_moe_03_p30_N"])
    assert plan["n_complete"] == int(np.ceil(1.8 * REF["nprop_moe_03_p30_N"]))
    assert plan["n_invite"] == int(np.ceil(plan["n_complete"] / 0.2))


def test_allocations():
    close(allocate(NH, n=1500, method="proportional"), REF["alloc_prop_1500"])
    close(allocate(NH, n=1500, method="neyman", S_h=SH), REF["alloc_neyman_1500"])
    close(allocate(NH, method="cost", S_h=SH, cost_h=CH, budget=30000), REF["alloc_cost_30000"])
    close(allocate(NH, method="variance", S_h=SH, cost_h=CH, variance=1e-4), REF["alloc_var_1e4"])


def test_minimum_per_stratum_is_met_and_the_rest_keeps_its_shares():
    nh = allocate(NH, n=1500, method="proportional", minimum=100).to_numpy()
    assert nh[4] == 100 and np.isclose(nh.sum(), 1500)
    free = np.array(REF["alloc_prop_1500"][:4])
    close(nh[:4], free / free.sum() * 1400)
    # never more than the stratum holds
    nh = allocate([10, 1000], n=200, method="neyman", S_h=[5.0, 0.1])
    assert nh.iloc[0] == 10 and np.isclose(nh.sum(), 200)
    with pytest.raises(PlanningError, match="cannot meet the bounds"):
        allocate(NH, n=300, method="proportional", minimum=100)


def test_power_equals_power_prop_test():
    close(power_two_proportions(0.30, 0.36, 500), REF["power_p30_p36_n500"])
    close(power_two_proportions(0.30, 0.36, 500, alternative="one-sided"),
          REF["power_p30_p36_n500_one"])
    # iterative on both sides (R: uniroot with tol 1e-12)
    close(n_two_proportions(0.30, 0.36, power=0.8), REF["n_p30_p36_power80"], rtol=1e-6)
    close(n_two_proportions(0.30, 0.36, power=0.8, deff=2.0), 2 * REF["n_p30_p36_power80"], rtol=1e-6)
    # the design effect halves the effective n: power at 2n with deff 2 equals power at n
    close(power_two_proportions(0.30, 0.36, 1000, deff=2.0), REF["power_p30_p36_n500"])


def test_impossible_targets_are_named():
    with pytest.raises(PlanningError, match="needs n = .* > N"):
        n_proportion(0.5, moe=0.001, N=1000, deff=3)
    with pytest.raises(PlanningError, match="exactly one target"):
        n_proportion(0.5, moe=0.03, cv=0.1)
