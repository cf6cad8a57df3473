"""Disclosure control: small cells suppressed, and no suppressed cell recoverable from the totals.

The attacker in these tests is independent of the code under test: a linear program that knows
every published cell and total, that counts are >= 0, and asks for the smallest and largest
value each suppressed cell can take. A cell is disclosed when the two coincide.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from surveydata.report import disclosure as dc
from surveydata.report.disclosure import MARKER, TOTAL


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


def test_exactly_k_respondents_are_published_and_k_minus_one_are_not():
    # the boundary of "fewer than k": n < k, never n <= k
    for k in (2, 5, 60):
        counts = pd.DataFrame({"a": [k - 1, k, k + 1]})
        assert dc.primary_mask(counts, k=k)["a"].tolist() == [True, False, False]
        est = pd.DataFrame({"estimate": [0.1, 0.2, 0.3]}, index=["x", "y", "z"])
        out = dc.suppress_small_domains(est, pd.Series({"x": k - 1, "y": k, "z": k + 1}), k=k)
        assert out["estimate"].tolist() == [MARKER, 0.2, 0.3]
    # a table whose small cells are all exactly k needs no suppression at all
    counts = pd.DataFrame({"yes": [5, 5], "no": [5, 40]}, index=["GP", "PT"])
    assert not dc.suppression_mask(counts, k=5).to_numpy().any()
    out = dc.safe_crosstab(pd.DataFrame({"t": ["GP"] * 10 + ["PT"] * 45,
                                         "y": ["yes"] * 5 + ["no"] * 5 + ["yes"] * 5 + ["no"] * 40}),
                           "t", "y", k=5)
    assert MARKER not in out.to_numpy().ravel().tolist()


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
            # the default policy: 30 % of k = 5, rounded up = 2 respondents below (or down to 0)
            # and above the true value
            assert lo <= max(0, value - 2) + 1e-9 and hi >= value + 2 - 1e-9, \
                f"small cell {cell}={value}: attacker interval [{lo}, {hi}] in\n{full}\n{mask}"


def test_random_tables_every_small_cell_keeps_its_protection_interval():
    """100 seeded random 2-4 x 2-4 tables (half the cells 0-6, half 5-60), k = 5: no small
    cell's attacker interval is narrower than the protection levels (2 below or down to 0, 2
    above). Kills "zeros cost nothing / may go below 0" in the suppression program."""
    rng = np.random.default_rng(20261204)
    small = 0
    for _ in range(100):
        r, c = rng.integers(2, 5, size=2)
        rows = np.where(rng.random((r, c)) < 0.5, rng.integers(0, 7, (r, c)), rng.integers(5, 61, (r, c)))
        counts = pd.DataFrame(rows)
        mask = dc.suppression_mask(counts, k=5)
        full = dc.with_totals(counts)
        primary = dc.primary_mask(full).to_numpy()
        assert (mask.to_numpy() | ~primary).all()
        if mask.to_numpy().all():
            continue
        for cell, (lo, hi) in attacker_bounds(full, mask).items():
            if primary[cell]:
                small += 1
                v = full.to_numpy()[cell]
                assert lo <= max(0, v - 2) + 1e-9 and hi >= v + 2 - 1e-9, (cell, v, lo, hi, rows)
    assert small > 150  # the tables do have small cells to protect


def test_zero_is_a_complement_of_last_resort_and_the_cheapest_pattern_is_found():
    """Hand-checked. Interior [[0, 12, 2], [12, 0, 30]], totals: rows 14, 42; columns 12, 12,
    32; all 56. The 2 must move 2 down and 2 up. In its row only the 12 can move with it (the
    0 cannot go below 0); in column b the other cell is a 0 again, so the column total 12 must
    go, and then the column-c total too (else total b = 56 - 12 - 32). Cost 12 + 2 + 12 + 32 =
    58, the cheapest pattern without zeros. Hiding all six interior cells costs only 56 if
    zeros were free, and is what a solver minimising the hidden count alone returns - but a
    reader may know the zeros to be structural, and then that pattern protects nothing."""
    counts = pd.DataFrame({"a": [0, 12], "b": [12, 0], "c": [2, 30]}, index=["x", "y"])
    mask = dc.suppression_mask(counts, k=5)
    hidden = {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}
    assert hidden == {("x", "b"), ("x", "c"), (TOTAL, "b"), (TOTAL, "c")}
    # by hand: x,c = t, x,b = 14 - t, total b = 14 - t, total c = t + 30; all >= 0: t in [0, 14]
    full = dc.with_totals(counts)
    assert attacker_bounds(full, mask)[(0, 2)] == (0.0, 14.0)
    assert dc.attacker_intervals(full, mask)[("x", "c")] == (0.0, 14.0)


def test_upper_protection_alone_still_avoids_zero_complements():
    """Hand-checked, lower level 0: the rectangle {2, 20, 15, 0} would let the 2 rise (the 0
    rising with it) - cost 37 if zeros were free; the cheapest without zeros hides the 2, the
    20 and both column totals (2 + 20 + 17 + 20 = 59)."""
    counts = pd.DataFrame({"a": [2, 15], "b": [20, 0], "c": [30, 40]}, index=["x", "y"])
    mask = dc.suppression_mask(counts, policy=dc.DisclosurePolicy(min_cell=5, lower=0, upper=2))
    hidden = {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}
    assert hidden == {("x", "a"), ("x", "b"), (TOTAL, "a"), (TOTAL, "b")}
    # by hand: x,a = t, x,b = 22 - t, total a = 15 + t, total b = 22 - t: t in [0, 22]
    assert attacker_bounds(dc.with_totals(counts), mask)[(0, 0)] == (0.0, 22.0)


def test_policy_from_declaration_and_levels_in_respondents():
    p = dc.DisclosurePolicy.from_any({"min_cell": 60, "protection": {"lower": 0.3, "upper": "25%"}})
    assert (p.min_cell, p.lower_level, p.upper_level) == (60, 18, 15)
    assert dc.DisclosurePolicy.from_any(None).as_dict()["protection_respondents"] == {"lower": 2, "upper": 2}
    three = dc.DisclosurePolicy.from_any({"protection": {"lower": 3, "upper": 0}})
    assert (three.lower_level, three.upper_level) == (3, 1)  # upper never below 1
    assert dc.DisclosurePolicy.from_any({"protection": {"lower": 1.0, "upper": 1}}).lower_level == 5
    assert dc.DisclosurePolicy.from_any(None, k=10).upper_level == 3  # ceil(0.3 * 10)
    assert dc.DisclosurePolicy.from_any(p.as_dict()) == p  # the record's round trip

    class StudyPolicy:  # what the study declaration's loader hands over
        min_cell = 7
        protection = (1, 4)
    q = dc.DisclosurePolicy.from_any(StudyPolicy())
    assert (q.min_cell, q.lower_level, q.upper_level) == (7, 1, 4)
    for bad, match in [({"protection": {"lower": [1]}}, "not a number"),
                       ({"protection": {"lower": "abc"}}, "percentage"),
                       ({"protection": {"upper": -0.2}}, "negative"),
                       ({"min_cel": 5}, "unknown key"),
                       ({"min_cell": 0}, "min_cell"),
                       ({"zeros": "hide"}, "zeros")]:
        with pytest.raises(dc.DisclosureError, match=match):
            dc.DisclosurePolicy.from_any(bad)


def test_policy_k_and_protection_reach_the_suppression():
    counts = pd.DataFrame({"yes": [6, 30], "no": [20, 40]}, index=["GP", "PT"])
    assert not dc.suppression_mask(counts, k=5).to_numpy().any()
    mask = dc.suppression_mask(counts, policy={"min_cell": 7})
    assert mask.loc["GP", "yes"]
    full = dc.with_totals(counts)
    for cell, (lo, hi) in attacker_bounds(full, mask).items():
        if cell == (0, 0):  # 30 % of 7 = 3 respondents each way
            assert lo <= 3 and hi >= 9


def test_zero_cells_suppressed_when_the_policy_says_so():
    counts = pd.DataFrame({"yes": [0, 12], "no": [9, 30]}, index=["GP", "PT"])
    mask = dc.suppression_mask(counts, policy={"zeros": "suppress"})
    assert mask.loc["GP", "yes"]
    lo, hi = attacker_bounds(dc.with_totals(counts), mask)[(0, 0)]
    assert lo == 0 and hi >= 2  # the attacker cannot prove the cell empty
    assert not dc.suppression_mask(counts).to_numpy().any()  # default: zeros are published


def test_full_cells_protected_against_group_disclosure():
    counts = pd.DataFrame({"yes": [7, 6], "no": [0, 30]}, index=["GP", "PT"])  # every GP said yes
    assert not dc.suppression_mask(counts).to_numpy().any()  # default: published
    mask = dc.suppression_mask(counts, policy={"full_cells": "suppress"})
    assert mask.loc["GP", "yes"]
    lo, _ = attacker_bounds(dc.with_totals(counts), mask)[(0, 0)]
    assert lo <= 6  # the attacker cannot prove that all 7 GPs are in the cell


def test_dominance_rule_by_hand():
    # (1, 85): the largest contribution above 85 % of the cell total; (2, 90) two largest
    assert dc.dominance_mask({"a": [86, 14], "b": [85, 15], "c": [50, 45, 5]}, n=1, percent=85) == \
        {"a": True, "b": False, "c": False}
    assert dc.dominance_mask({"c": [50, 45, 5], "d": [50, 40, 10]}, n=2, percent=90) == \
        {"c": True, "d": False}


def test_solver_prints_nothing():
    """HiGHS' MIP solver writes debugging lines through C stdio (buffered: they appear when the
    process exits); a notebook would show them as output. Run in a fresh process, so that its
    exit flushes everything, on tables that make HiGHS print without the guard."""
    code = ("import numpy as np, pandas as pd\n"
            "from surveydata.report import disclosure as dc\n"
            "rng = np.random.default_rng(1)\n"
            "for _ in range(40):\n"
            "    r, c = rng.integers(2, 5, 2)\n"
            "    v = np.where(rng.random((r, c)) < 0.5, rng.integers(0, 7, (r, c)), rng.integers(5, 61, (r, c)))\n"
            "    dc.suppression_mask(pd.DataFrame(v))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert run.stdout == "" and run.stderr == ""


def test_a_declared_zero_protection_still_never_lets_a_cell_be_recovered():
    class StudyPolicy:  # the loader's default when protection is not declared: (0.0, 0.0)
        min_cell = 5
        protection = (0.0, 0.0)
    counts = pd.DataFrame({"GP": [2, 10, 12], "Dental": [9, 11, 30]}, index=["s", "m", "l"])
    mask = dc.suppression_mask(counts, policy=StudyPolicy())
    for cell, (lo, hi) in attacker_bounds(dc.with_totals(counts), mask).items():
        if cell == (0, 0):
            assert hi >= 3  # 2 + the floor of 1


def test_cells_published_elsewhere_are_never_complements():
    # one item's nonresponse: answered 9 (published on another page as the estimate's n),
    # don't know 3, no answer 40, asked 52. The cheapest complement of the 3 is the 9 (cost 9),
    # but the 9 is public: the 40 must go instead. By hand: dk + na = 43, dk in [0, 43].
    counts = pd.DataFrame({"n": [9, 3, 40]}, index=pd.Index(["answered", "dk", "na"], name="item"))
    assert dc.suppression_mask(counts, row_totals=False)["n"].tolist() == [True, True, False, False]
    known = pd.DataFrame({"n": [True, False, False]}, index=counts.index)
    mask = dc.suppression_mask(counts, row_totals=False, published=known)
    assert mask["n"].tolist() == [False, True, True, False]
    full = dc.with_totals(counts, row_totals=False)
    assert dc.attacker_intervals(full, mask, row_totals=False)[("dk", "n")] == (0.0, 43.0)


def test_a_one_column_table_has_no_full_cells():
    # each cell of a one-column table equals its row total: that is no group disclosure
    t = dc.with_totals(pd.DataFrame({"n": [7, 30]}, index=["GP", "PT"]))
    assert not dc.full_cell_mask(t).to_numpy().any()
    mask = dc.suppression_mask(pd.DataFrame({"n": [7, 30]}, index=["GP", "PT"]),
                               policy={"full_cells": "suppress"})
    assert not mask.to_numpy().any()
