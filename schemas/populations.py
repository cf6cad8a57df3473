"""Population margins for weighting and simulation (``schemas/populations/<name>.yaml``).

``load_population_margins()`` returns tidy pandas objects, each carrying ``attrs`` with ``source``,
``year`` and ``basis`` (``published`` / ``derived`` / ``proxy`` / ``allocation``), so a weighting
step can say where its totals came from.

>>> m = load_population_margins()
>>> int(m["practice_type"].sum())
141655
>>> int(m["practice_type"][3])
28042
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._yaml import read_yaml
from .errors import DeclarationError

POPULATIONS_DIR = Path(__file__).resolve().parent / "populations"


class PopulationMarginsError(DeclarationError):
    """A population margins file is inconsistent (the message names file, table and values)."""


def controlled_round(x: np.ndarray, row_totals: np.ndarray, col_totals: np.ndarray) -> np.ndarray:
    """Round a non-negative real table to integers keeping integer row and column totals exactly.

    Rounds the two-way cumulative sums S_ij = sum_{k<=i, l<=j} x_kl and differences them back:
    every full-row and full-column cumulative sum is an integer, so the margins survive exactly and
    each cell moves by less than 2.

    >>> controlled_round(np.array([[0.5, 0.5], [1.5, 0.5]]), np.array([1, 2]), np.array([2, 1]))
    array([[1, 0],
           [1, 1]])
    """
    x = np.asarray(x, dtype=float)
    s = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
    s[1:, 1:] = x.cumsum(axis=0).cumsum(axis=1)
    r = np.floor(s + 0.5)
    y = (r[1:, 1:] - r[:-1, 1:] - r[1:, :-1] + r[:-1, :-1]).astype(np.int64)
    if (y < 0).any():
        raise PopulationMarginsError(
            "controlled rounding produced a negative cell; table too sparse"
        )
    if not (
        np.array_equal(y.sum(axis=1), row_totals) and np.array_equal(y.sum(axis=0), col_totals)
    ):
        raise PopulationMarginsError(
            f"controlled rounding lost the margins: rows {y.sum(axis=1)} vs {row_totals}, "
            f"columns {y.sum(axis=0)} vs {col_totals}"
        )
    return y


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts proportional to ``shares`` that sum exactly to ``total`` (Hamilton's method).

    Ties in the remainders go to the earlier entry, so the result is deterministic.

    >>> largest_remainder(10, np.array([0.333, 0.333, 0.334]))
    array([3, 3, 4])
    """
    quota = total * np.asarray(shares, dtype=float) / np.sum(shares)
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


def _with_attrs(obj, **attrs):
    obj.attrs.update(attrs)
    return obj


def load_population_margins(name: str = "de_practices", path: str | Path | None = None) -> dict:
    """Load population margins as a dict of tidy pandas objects.

    Keys (each a pandas Series of counts named ``N`` with ``attrs`` source/year/basis/file):

    - ``practice_type``: N by instrument code 1..5;
    - ``practice_form``: N by code 1..3 (code 4 Praxisgemeinschaft counts as 1: see
      ``attrs["collapse_for_raking"]``);
    - ``federal_state``: N by Land code (STAND-IN from population shares, ``basis == "proxy"``);
    - ``practice_type_x_form``: N indexed by (practice_type, practice_form), published cells;
    - ``practice_type_x_federal_state``: N indexed by (practice_type, federal_state), the strata
      counts from the documented allocation (``basis == "allocation"``);
    - ``practice_type_x_form_x_federal_state``: the three-way allocation the simulator uses.

    Every margin and cross-table sums to the same total (141,655 for ``de_practices``).

    >>> m = load_population_margins("de_practices")
    >>> m["practice_type_x_federal_state"].groupby(level="practice_type").sum().equals(m["practice_type"])
    True
    """
    file = Path(path) if path is not None else POPULATIONS_DIR / f"{name}.yaml"
    if not file.exists():
        raise FileNotFoundError(f"population margins file {file} does not exist")
    spec = read_yaml(file, error=PopulationMarginsError)
    if not isinstance(spec, dict):
        raise PopulationMarginsError(f"{file}: a margins file must be a YAML mapping")
    total = int(spec["total"])
    margins = _published(spec, file, total)
    margins["federal_state"] = _federal_states(spec, file, total)
    margins.update(_allocations(spec, file, total, margins))
    return margins


def _published(spec: dict, file: Path, total: int) -> dict:
    """The published cells practice_type x practice_form and their margins, checked against the
    published totals."""
    cells = pd.DataFrame(spec["practice_type_x_form"]["cells"])
    tf = cells.set_index(["practice_type", "practice_form"])["n"].astype("int64").rename("N")
    if int(tf.sum()) != total:
        raise PopulationMarginsError(
            f"{file}: practice_type_x_form sums to {int(tf.sum())}, total says {total}"
        )
    sources = sorted(set(cells["source"]))
    years = sorted({int(y) for y in cells["year"]})
    tf = _with_attrs(tf, source="; ".join(sources), year=years, basis="published", file=str(file))

    margins = {"practice_type_x_form": tf}
    for var in ("practice_type", "practice_form"):
        m = tf.groupby(level=var).sum().rename("N")
        published = {int(k): int(v["n"]) for k, v in spec[var]["published_totals"].items()}
        derived = {int(k): int(v) for k, v in m.items()}
        if derived != published:
            raise PopulationMarginsError(
                f"{file}: {var} sums of practice_type_x_form {derived} differ from published totals {published}"
            )
        entries = spec[var]["published_totals"].values()
        margins[var] = _with_attrs(
            m,
            source="; ".join(sorted({e["source"] for e in entries})),
            year=sorted({int(e["year"]) for e in entries}),
            basis="published",
            file=str(file),
            labels={int(k): v["label"] for k, v in spec[var]["published_totals"].items()},
        )
    margins["practice_form"].attrs["collapse_for_raking"] = {
        int(k): int(v) for k, v in spec["practice_form"].get("collapse_for_raking", {}).items()
    }
    return margins


def _federal_states(spec: dict, file: Path, total: int) -> pd.Series:
    """N by Land: the total spread over the population shares (a stand-in, basis "proxy")."""
    fs = spec["federal_state"]
    states = list(fs["shares_percent"])
    shares = np.array([fs["shares_percent"][s] for s in states], dtype=float)
    if abs(shares.sum() - 100.0) > 1e-9:
        raise PopulationMarginsError(
            f"{file}: federal_state shares sum to {shares.sum()}, expected 100"
        )
    n_state = pd.Series(
        largest_remainder(total, shares), index=pd.Index(states, name="federal_state"), name="N"
    )
    return _with_attrs(
        n_state,
        source=fs["source"],
        year=int(fs["year"]),
        basis="proxy",
        file=str(file),
        shares_percent=dict(fs["shares_percent"]),
        note=fs["description"],
    )


def _allocations(spec: dict, file: Path, total: int, margins: dict) -> dict:
    """The strata counts type x state and the three-way type x form x state, by controlled
    rounding of the margins' products (basis "allocation")."""
    tf, n_type, n_state = (margins["practice_type_x_form"], margins["practice_type"],
                           margins["federal_state"])
    states = list(n_state.index)
    # Strata counts: type x state by controlled rounding of N_t * N_s / N.
    tx = controlled_round(
        np.outer(n_type.to_numpy(), n_state.to_numpy()) / total,
        n_type.to_numpy(),
        n_state.to_numpy(),
    )
    ts_index = pd.MultiIndex.from_product(
        [n_type.index, states], names=["practice_type", "federal_state"]
    )
    ts = pd.Series(tx.ravel(), index=ts_index, name="N")
    method = spec["allocation"]["method"]
    out = {"practice_type_x_federal_state": _with_attrs(
        ts,
        source=f"allocation of {file.name} practice_type over federal_state",
        year=None,
        basis="allocation",
        method=method,
        file=str(file),
    )}

    # Three-way: within each type, its forms spread over the states (controlled rounding again).
    pieces = []
    for t in n_type.index:
        forms = tf.xs(t, level="practice_type")
        row_tot = forms.to_numpy()
        col_tot = tx[n_type.index.get_loc(t)]
        cell = controlled_round(np.outer(row_tot, col_tot) / n_type[t], row_tot, col_tot)
        idx = pd.MultiIndex.from_product(
            [[t], forms.index, states], names=["practice_type", "practice_form", "federal_state"]
        )
        pieces.append(pd.Series(cell.ravel(), index=idx, name="N"))
    tfs = pd.concat(pieces)
    out["practice_type_x_form_x_federal_state"] = _with_attrs(
        tfs,
        source=f"allocation of {file.name} practice_type_x_form over federal_state",
        year=None,
        basis="allocation",
        method=method,
        file=str(file),
    )
    return out
