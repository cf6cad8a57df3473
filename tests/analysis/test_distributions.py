"""pchisqsum_saddlepoint against R survey's saddle() and pchisqsum(method="saddlepoint")
(tests/analysis/reference/extra_distributions.R -> extra_distributions.json)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REFERENCE_DIR, assert_close
from scipy import stats

from analysis.distributions import pchisqsum_saddlepoint

CASES = json.loads((REFERENCE_DIR / "extra_distributions.json").read_text())["saddle"]


@pytest.mark.parametrize("case", CASES, ids=[f"x={c['x']},lam={c['lam']}" for c in CASES])
def test_matches_r_saddle(case):
    p = pchisqsum_saddlepoint(case["x"], np.array(case["lam"]))
    if case["upper"] is None:  # R returns NA (saddlepoint at 0): we return NaN
        assert np.isnan(p)
    else:
        assert_close(p, case["upper"], what=f"saddle({case['x']}, {case['lam']})")


def test_r_pchisqsum_is_saddle_where_defined():
    for case in CASES:
        if case["upper"] is not None and case["pchisqsum_upper"] is not None:
            assert_close(pchisqsum_saddlepoint(case["x"], case["lam"]), case["pchisqsum_upper"])


def test_scaled_chi_square_tail_is_close_to_exact():
    # 2 * chi2_3 at x = 15: the saddlepoint is a good (not exact) approximation, ~1% relative
    exact = stats.chi2.sf(15 / 2, 3)
    assert_close(pchisqsum_saddlepoint(15.0, [2.0, 2.0, 2.0]), exact, rtol=0.02)


def test_pchisqsum_falls_back_to_satterthwaite_where_the_saddlepoint_is_undefined():
    # x = sum(lam): R's saddle returns NA and pchisqsum uses chi^2 with k / tr2 df on x/(tr*tr2);
    # with equal weights that is exactly chi^2_k
    from analysis.distributions import pchisqsum

    assert np.isnan(pchisqsum_saddlepoint(3.0, [1.0, 1.0, 1.0]))
    assert pchisqsum(3.0, [1.0, 1.0, 1.0]) == pytest.approx(stats.chi2.sf(3.0, 3), rel=1e-12)


def test_pchisqsum_uses_the_saddlepoint_for_chisq_and_f_forms():
    from analysis.distributions import pchisqsum

    lam = np.array([2.0, 1.0, 0.5])
    assert pchisqsum(7.5, lam) == pchisqsum_saddlepoint(7.5, lam)
    # pFsum: the F denominator enters as int(ddf) weights -x/ddf, evaluated at 0
    assert pchisqsum(7.5, lam, ddf=30) == pchisqsum_saddlepoint(
        0.0, np.concatenate([lam, np.full(30, -7.5 / 30)]))
