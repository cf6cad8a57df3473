"""Disclosure control: small cells suppressed, and no suppressed cell recoverable from the totals.

The attacker in these tests is independent of the code under test: a linear program that knows
every published cell and total, that counts are >= 0, and asks for the smallest and largest
value each suppressed cell can take. A cell is disclosed when the two coincide.
"""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from surveydata import disclosure as dc
from surveydata.disclosure import MARKER, TOTAL


def attacker_bounds(full: pd.DataFrame, mask: pd.DataFrame):
    """Min and max of every suppressed cell given the published table (totals included).

    Unknowns: the interior cells and totals that are suppressed. Constraints: every row adds up
    to its total, every column to its total, everything >= 0.
    """
    values = full.to_numpy(dtype=float)
    hidden = mask.to_numpy(dtype=bool)
    R, C = values.shape
    unknown = np.argwhere(hidden)
    pos = {tuple(cell): i for i, cell in enumerate(unknown)}
    A, b = [], []

    def line(cells):
        row = np.zeros(len(unknown))
        rhs = 0.0
        for (i, j), sign in cells:
            if (i, j) in pos:
                row[pos[(i, j)]] += sign
            else:
                rhs -= sign * values[i, j]
        A.append(row)
        b.append(rhs)

    for i in range(R):
        line([((i, j), 1.0) for j in range(C - 1)] + [((i, C - 1), -1.0)])
    for j in range(C):
        line([((i, j), 1.0) for i in range(R - 1)] + [((R - 1, j), -1.0)])
    bounds = []
    for i in range(len(unknown)):
        c = np.zeros(len(unknown))
        c[i] = 1.0
        lo = linprog(c, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        assert lo.status == 0, lo.message
        assert hi.status in (0, 3), hi.message  # 3: unbounded above (all totals hidden)
        bounds.append((lo.fun, -hi.fun if hi.status == 0 else np.inf))
    return {tuple(cell): bd for cell, bd in zip(unknown, bounds)}


def test_threshold_rule_suppresses_one_to_four_but_not_five_or_zero():
    counts = pd.DataFrame({"a": [0, 1, 4, 5, 40]})
    assert dc.primary_mask(counts, k=5)["a"].tolist() == [False, True, True, False, False]
    assert dc.primary_mask(counts, k=5, suppress_zeros=True)["a"].tolist() == [True, True, True, False, False]
    assert dc.primary_mask(counts, k=2)["a"].tolist() == [False, True, False, False, False]


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_threshold_must_be_a_positive_integer(k):
    with pytest.raises(ValueError, match="positive integer"):
        dc.primary_mask(pd.DataFrame({"a": [1]}), k=k)


def test_one_small_cell_gets_complements_so_totals_do_not_give_it_away():
    counts = pd.DataFrame({"GP": [2, 10, 12], "Dental": [9, 11, 30], "PT": [20, 25, 7]},
                          index=["small", "medium", "large"])
    mask = dc.suppression_mask(counts, k=5)
    full = dc.with_totals(counts)
    assert mask.loc["small", "GP"]
    # Without secondary suppression the 2 is simply row total minus the rest:
    naive = dc.primary_mask(full)
    assert dc.recoverable_cells(naive).loc["small", "GP"]
    # With it, every row and column that hides a cell hides at least two.
    hidden = mask.to_numpy()
    assert set(hidden.sum(axis=0)) <= {0, 2, 3, 4} and set(hidden.sum(axis=1)) <= {0, 2, 3, 4}
    for cell, (lo, hi) in attacker_bounds(full, mask).items():
        assert hi - lo >= 1, f"cell {cell} is pinned to [{lo}, {hi}]"
    # Cheapest complement: the 9 beside it, and a rectangle with the medium row (10 + 11).
    assert mask.to_numpy().sum() == 4
    assert mask.loc[["small", "medium"], ["GP", "Dental"]].to_numpy().all()


def test_small_total_is_suppressed_and_protected_too():
    counts = pd.DataFrame({"a": [1, 20], "b": [2, 30]}, index=["rare", "common"])  # row total 3
    mask = dc.suppression_mask(counts, k=5)
    assert mask.loc["rare"].all()
    full = dc.with_totals(counts)
    for cell, (lo, hi) in attacker_bounds(full, mask).items():
        assert hi > lo, f"cell {cell} is pinned to {lo}"


def test_one_way_frequency_table_with_total():
    counts = pd.DataFrame({"n": [3, 40, 57]}, index=["x", "y", "z"])
    mask = dc.suppression_mask(counts, k=5, row_totals=False, col_totals=True)
    assert mask["n"].tolist() == [True, True, False, False]  # the 3 and the next smallest
    assert not dc.recoverable_cells(mask, row_totals=False, col_totals=True).to_numpy().any()


def test_without_published_totals_only_primary_suppression_is_needed():
    counts = pd.DataFrame({"a": [3, 40], "b": [50, 60]})
    mask = dc.suppression_mask(counts, k=5, row_totals=False, col_totals=False)
    assert mask.to_numpy().tolist() == [[True, False], [False, False]]


def test_protect_counts_renders_marker_and_keeps_large_cells():
    counts = pd.DataFrame({"a": [2, 10, 12], "b": [9, 11, 30]}, index=["x", "y", "z"])
    out = dc.protect_counts(counts)
    assert out.loc["x", "a"] == MARKER and out.loc["x", "b"] == MARKER
    assert out.loc["z", "b"] == "30" and out.loc[TOTAL, TOTAL] == "74"
    assert "2" not in out.loc["x"].tolist()


def test_safe_crosstab_counts_respondents():
    df = pd.DataFrame({"type": ["GP"] * 30 + ["PT"] * 22, "incident": ["no"] * 27 + ["yes"] * 3 + ["no"] * 20 + ["yes"] * 2})
    out = dc.safe_crosstab(df, "type", "incident", k=5)
    assert out.loc["GP", "no"] == MARKER and out.loc["GP", "yes"] == MARKER  # 3 yes: and its complement
    assert out.loc[TOTAL, TOTAL] == "52"
    assert out.loc["GP", TOTAL] == "30"


def test_small_domains_are_masked_in_estimate_tables():
    est = pd.DataFrame({"estimate": [0.31, 0.12], "se": [0.02, 0.05]}, index=["GP", "MVZ"])
    out = dc.suppress_small_domains(est, pd.Series({"GP": 400, "MVZ": 4}))
    assert out.loc["MVZ"].tolist() == [MARKER, MARKER]
    assert out.loc["GP", "estimate"] == 0.31
    with pytest.raises(ValueError, match="no respondent count"):
        dc.suppress_small_domains(est, pd.Series({"GP": 400}))


def test_free_text_columns_are_dropped():
    df = pd.DataFrame({"comments": ["Dr. Example in Musterstadt"], "tm_mfa": [1]})
    assert dc.drop_free_text(df, ["comments"]).columns.tolist() == ["tm_mfa"]


tables = st.integers(2, 4).flatmap(
    lambda r: st.integers(2, 4).flatmap(
        lambda c: st.lists(st.lists(st.one_of(st.integers(0, 6), st.integers(5, 60)), min_size=c, max_size=c),
                           min_size=r, max_size=r)))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
@example([[0, 0], [0, 1]])  # every total below k: nothing bounds the cells from above
def test_no_suppressed_cell_can_be_pinned_by_an_lp_attacker(rows):
    counts = pd.DataFrame(rows)
    mask = dc.suppression_mask(counts, k=5)
    full = dc.with_totals(counts)
    primary = dc.primary_mask(full).to_numpy()
    assert (mask.to_numpy() | ~primary).all(), "every small cell must be suppressed"
    if mask.to_numpy().all():
        return  # nothing published
    for cell, (lo, hi) in attacker_bounds(full, mask).items():
        value = full.to_numpy()[cell]
        assert lo <= value + 1e-9 and value <= hi + 1e-9
        if primary[cell]:
            assert hi - lo > 0.5, f"small cell {cell}={value} pinned to [{lo}, {hi}] in\n{full}\n{mask}"
