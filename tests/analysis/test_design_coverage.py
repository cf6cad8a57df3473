"""Monte Carlo: design-based 95% intervals cover the population value about 95% of the time
(stratified two-stage sampling from a fixed finite population with cluster effects).

Marked slow (run by `make test-slow`); seeded, so the counts are reproducible."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.design import SurveyDesign

N_STRATA, CLUSTERS_PER_STRATUM, UNITS_PER_CLUSTER = 6, 60, 30
N_PSU_SAMPLED, N_UNITS_SAMPLED = 8, 6
REPS = 600


def _population(rng):
    h = np.repeat(np.arange(N_STRATA), CLUSTERS_PER_STRATUM * UNITS_PER_CLUSTER)
    c = np.repeat(np.arange(N_STRATA * CLUSTERS_PER_STRATUM), UNITS_PER_CLUSTER)
    effect = rng.normal(0, 4, N_STRATA * CLUSTERS_PER_STRATUM)[c]
    y = 50 + 3 * h + effect + rng.gamma(2, 3, h.shape[0])
    return pd.DataFrame({"h": h, "c": c, "y": y, "incident": (y > 62).astype(float)})


def _sample(pop, rng):
    parts = []
    for h in range(N_STRATA):
        clusters = rng.choice(np.arange(h * CLUSTERS_PER_STRATUM, (h + 1) * CLUSTERS_PER_STRATUM),
                              N_PSU_SAMPLED, replace=False)
        for c in clusters:
            rows = pop.index[pop["c"] == c]
            parts.append(pop.loc[rng.choice(rows, N_UNITS_SAMPLED, replace=False)])
    s = pd.concat(parts).reset_index(drop=True)
    s["N1"] = CLUSTERS_PER_STRATUM
    s["N2"] = UNITS_PER_CLUSTER
    s["unit"] = np.arange(len(s))
    return s


@pytest.mark.slow
def test_two_stage_intervals_cover_about_95_percent():
    rng = np.random.default_rng(20261128)
    pop = _population(rng)
    truth_mean, truth_prop = pop["y"].mean(), pop["incident"].mean()
    truth_total = pop["y"].sum()
    hits = {"mean": 0, "total": 0, "proportion": 0}
    for _ in range(REPS):
        s = _sample(pop, rng)
        d = SurveyDesign(s, strata="h", psu=["c", "unit"], fpc=["N1", "N2"])
        m = d.mean("y", df="degf").iloc[0]
        t = d.total("y", df="degf").iloc[0]
        p = d.proportion("incident", ci_method="logit").iloc[0]
        hits["mean"] += m["ci_low"] <= truth_mean <= m["ci_high"]
        hits["total"] += t["ci_low"] <= truth_total <= t["ci_high"]
        hits["proportion"] += p["ci_low"] <= truth_prop <= p["ci_high"]
    # binomial sd of the coverage at 600 replications is about 0.009: allow 3 sd
    for name, count in hits.items():
        assert abs(count / REPS - 0.95) < 0.027, f"{name}: coverage {count / REPS:.3f}"
