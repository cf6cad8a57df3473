"""The steps of building a SurveyDesign, in the order of R's svydesign: rows with missing
weights (``na_weights``), the options (``pps``, ``variance``), strata and clusters of every
stage (nesting, ``nest``), the fpc per stage (R's as.fpc), the weights (from ``weights``,
``probs``, the fpc or the PPS probabilities) and the PPS stages of the variance.

Each step is a function of the data and the arguments; :class:`analysis.design.SurveyDesign`
calls them in turn and assembles the design.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from analysis.variance import LONELY_PSU_RULES

from .errors import DesignError

PPS_METHODS = ("brewer", "overton", "hartley-rao", "poisson")


# --------------------------------------------------------------------------- helpers
def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        raise DesignError(
            f"{role} column {name!r} not found in the data; available columns: "
            f"{', '.join(map(str, data.columns))}"
        )
    col = data[name]
    missing = col.isna().to_numpy()
    if missing.any():
        rows = data.index[missing]
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        raise DesignError(
            f"{role} column {name!r} has {int(missing.sum())} missing value(s) in rows {shown}; "
            f"design variables must be complete"
        )
    return col


def _numeric_column(data: pd.DataFrame, name: str, role: str) -> np.ndarray:
    col = _column(data, name, role)
    # One rule for text: always refused, never converted quietly (a text column of numbers
    # would otherwise pass until the first "abc" or "1.234,5" turns up).
    if not (pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)):
        shown = col.iloc[:3].tolist()
        raise DesignError(
            f"{role} column {name!r} must be numeric, got dtype {col.dtype} (first values "
            f"{shown}); convert it first, e.g. data[{name!r}] = pd.to_numeric(data[{name!r}]), "
            f"which names any value that is not a number")
    try:
        values = col.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{role} column {name!r} must be numeric, got dtype {col.dtype}") from exc
    bad = ~np.isfinite(values)
    if bad.any():
        rows = data.index[bad]
        raise DesignError(
            f"{role} column {name!r} has non-finite values in rows "
            f"{', '.join(map(str, rows[:10]))}: {values[bad][:10].tolist()}"
        )
    return values


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted factor codes (R factor order) and the level values."""
    codes, uniques = pd.factorize(col, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the pairs (a, b), numbered in lexicographic order."""
    key = a.astype(np.int64) * (int(b.max()) + 1) + b
    _, inverse = np.unique(key, return_inverse=True)
    return inverse.astype(np.int64)


def _first_rows(codes: np.ndarray, n_codes: int) -> np.ndarray:
    first = np.full(n_codes, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.shape[0])[::-1]
    return first

def _pps_stages(stages, pps: str, pi_row, w, data: pd.DataFrame, joint=None,
                variance: str = "HT") -> tuple:
    """The stages of a PPS design without replacement (R: svydesign(pps=...)).

    brewer: Brewer's approximation, (1 - pi_i) per PSU in the stage-wise engine (stage 2, if
    any, weighted by pi_i); overton / hartley-rao / poisson: the check-Delta matrix of the PSUs
    (R's overton2Dcheck, HRDcheck with the sample mean of pi in the stratum, poisson_sampling)."""
    st = stages[0]
    first = _first_rows(st.psu, st.n_psu)
    pi = (1.0 / w if pi_row is None else pi_row)
    varies = pi != pi[first[st.psu]]
    if varies.any():
        row = int(np.flatnonzero(varies)[0])
        raise DesignError(f"inclusion probability varies within PSU at row {data.index[row]!r} "
                          f"({pi[row]} vs {pi[first[st.psu[row]]]}): one value per PSU")
    p = pi[first]                                   # (P,) per PSU, in PSU-code order
    if pps == "brewer":
        out = [dataclasses.replace(st, psu_fpc=1.0 - p)]
        if len(stages) > 1:
            s2 = stages[1]
            out.append(dataclasses.replace(s2, stratum_multiplier=p[s2.stratum_group]))
        return tuple(out)
    import scipy.sparse as sp  # noqa: PLC0415 (lazy: designs and means do not need scipy.sparse)

    h = st.psu_stratum
    n_h = st.stratum_n[h]
    if pps == "joint":
        if joint.shape[0] != st.n_psu:
            raise DesignError(f"pps: the joint probability matrix is {joint.shape[0]} x "
                              f"{joint.shape[0]}, the design has {st.n_psu} PSUs")
        order = np.argsort(first)          # PSU codes in row order (R: matrix rows = units)
        jp = np.empty_like(joint)
        jp[np.ix_(order, order)] = joint
        with np.errstate(divide="ignore", invalid="ignore"):
            D = (jp - np.outer(np.diag(jp), np.diag(jp))) / jp
        D[np.abs(D) < jp.min() / 1e4] = 0.0          # R's pi2Dcheck tolerance
        D = sp.csr_matrix(D)
    elif pps == "poisson":
        D = sp.diags(1.0 - p)
    else:
        rows, cols, vals = [], [], []
        for g in range(st.n_strata):
            idx = np.flatnonzero(h == g)
            if pps == "overton":
                fbar = (p[idx][:, None] + p[idx][None, :]) / 2
                block = 1.0 - (n_h[idx][:, None] - fbar) / (n_h[idx][:, None] - 1)
            else:   # hartley-rao, sum(p^2)/n estimated by the mean of the sampled p
                fbar = p[idx][:, None] + p[idx][None, :]
                block = 1.0 - (n_h[idx][:, None] - fbar + p[idx].mean()) / (n_h[idx][:, None] - 1)
            block[fbar == 1] = 0.0
            np.fill_diagonal(block, 1.0 - p[idx])
            r_, c_ = np.meshgrid(idx, idx, indexing="ij")
            rows.append(r_.ravel())
            cols.append(c_.ravel())
            vals.append(block.ravel())
        D = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(st.n_psu, st.n_psu))
    return (dataclasses.replace(st, dcheck=D.tocsr(), dcheck_yg=variance == "YG"),) \
        + tuple(stages[1:])


def _as_fpc(data: pd.DataFrame, fpc_cols: list, stage_strata: list, stage_psu: list,
            stage_labels: list, n_stages: int, pps) -> list | None:
    """Population sizes per stage from the fpc columns (R's as.fpc): all values are population
    sizes (some > 1) or all sampling fractions (<= 1, N = n_h / f), decided over every stage as R
    does; constant within strata, never fewer units than were sampled. Returns one (n,) array
    per stage (np.inf: a stage without fpc), or None when no fpc is given."""
    n = len(data)
    popsize = None
    if fpc_cols:
        raw_fpc = [_numeric_column(data, c, "fpc") for c in fpc_cols]
        allv = np.concatenate(raw_fpc)
        if np.any(allv < 0):
            s = next(i for i, v in enumerate(raw_fpc) if np.any(v < 0))
            row = int(np.flatnonzero(raw_fpc[s] < 0)[0])
            raise DesignError(
                f"fpc column {fpc_cols[s]!r} row {data.index[row]!r}: negative value "
                f"{raw_fpc[s][row]}; expected a population size or a sampling fraction"
            )
        is_popsize = bool(np.any(allv > 1))
        if is_popsize and np.any(allv < 1):
            s = next(i for i, v in enumerate(raw_fpc) if np.any(v < 1))
            row = int(np.flatnonzero(raw_fpc[s] < 1)[0])
            raise DesignError(
                f"fpc column {fpc_cols[s]!r} row {data.index[row]!r} has {raw_fpc[s][row]} "
                f"while other fpc values exceed 1: all fpc values must be population sizes "
                f"(>= 1) or all sampling fractions (<= 1)"
            )
        popsize = []
        for s in range(n_stages):
            h = stage_strata[s]
            n_h = np.bincount(
                stage_strata[s][_first_rows(stage_psu[s], int(stage_psu[s].max()) + 1)],
                minlength=int(h.max()) + 1,
            ).astype(np.float64)
            if s >= len(fpc_cols):
                popsize.append(np.full(n, np.inf))
                continue
            v = raw_fpc[s]
            first = _first_rows(h, int(h.max()) + 1)
            varies = v != v[first[h]]
            if s == 0 and pps == "brewer":
                varies[:] = False       # one probability per PSU, not per stratum
            if varies.any():
                row = int(np.flatnonzero(varies)[0])
                raise DesignError(
                    f"fpc column {fpc_cols[s]!r} varies within stratum "
                    f"{stage_labels[s][h[row]]} at stage {s + 1} (row {data.index[row]!r}: "
                    f"{v[row]} vs {v[first[h[row]]]}); it must be constant within strata"
                )
            with np.errstate(divide="ignore"):
                N = v if is_popsize else n_h[h] / v
            too_small = N < n_h[h]
            if too_small.any():
                row = int(np.flatnonzero(too_small)[0])
                raise DesignError(
                    f"fpc column {fpc_cols[s]!r} row {data.index[row]!r} implies a population "
                    f"of {N[row]} units in stratum {stage_labels[s][h[row]]} at stage {s + 1} "
                    f"but {int(n_h[h[row]])} were sampled (>100% sampling)"
                )
            popsize.append(N.astype(np.float64))
    return popsize



# --------------------------------------------------------------------------- steps of svydesign
def drop_na_weights(data: pd.DataFrame, weights, na_weights: str) -> tuple[pd.DataFrame, int]:
    """Rows whose weight is missing (R's svydesign(na_weights=)): an error naming them ("fail"),
    or dropped with a warning ("warn") or silently ("allow"). Returns the data and the count
    dropped."""
    if na_weights not in ("fail", "warn", "allow"):
        raise DesignError(f"na_weights must be 'fail', 'warn' or 'allow', got {na_weights!r}")
    if weights is None or weights not in data.columns or not data[weights].isna().any():
        return data, 0
    na = data[weights].isna().to_numpy()
    if na_weights == "fail":
        rows = data.index[na]
        raise DesignError(
            f"weights column {weights!r} has {int(na.sum())} missing value(s) in rows "
            f"{', '.join(map(str, rows[:10]))}{' ...' if len(rows) > 10 else ''}; pass "
            "na_weights='allow' (or 'warn') to drop those rows from the design, as R's "
            "svydesign(na_weights=)")
    if na_weights == "warn":
        warnings.warn(f"missing values in weights column {weights!r}: {int(na.sum())} "
                      "record(s) dropped from the design", stacklevel=3)
    return data.loc[~na], int(na.sum())


def check_sample(data: pd.DataFrame, weights, probs, lonely_psu: str) -> None:
    """The lonely-PSU rule is known, weights and probs are not both given, the sample has rows."""
    if lonely_psu not in LONELY_PSU_RULES:
        raise DesignError(f"lonely_psu must be one of {LONELY_PSU_RULES}, got {lonely_psu!r}")
    if weights is not None and probs is not None:
        raise DesignError("give either weights or probs, not both")
    if len(data) == 0:
        raise DesignError("data has no rows: a design needs at least one sampled unit "
                          "(check the filter or file that produced the frame)")


def pps_option(pps, variance: str, n_stages: int, fpc_cols: list) -> tuple:
    """The PPS method (R's svydesign(pps=)) and variance= checked against the design: a matrix
    becomes "joint" with its joint inclusion probabilities. Returns (pps, joint)."""
    joint = None
    if pps is not None and not isinstance(pps, str):
        joint = np.asarray(pps, dtype=np.float64)      # R's ppsmat(joint probabilities)
        if joint.ndim != 2 or joint.shape[0] != joint.shape[1]:
            raise DesignError(f"pps as joint inclusion probabilities must be a square "
                              f"matrix, got shape {joint.shape}")
        pps = "joint"
    if pps is not None and pps not in PPS_METHODS + ("joint",):
        raise DesignError(f"pps must be one of {PPS_METHODS} or a matrix of joint "
                          f"inclusion probabilities, got {pps!r}")
    if variance not in ("HT", "YG"):
        raise DesignError(f"variance must be 'HT' or 'YG', got {variance!r}")
    if variance == "YG" and pps in (None, "brewer"):
        raise DesignError("variance='YG' (Yates-Grundy) needs a pps= design with joint "
                          "probabilities: 'overton', 'hartley-rao', 'poisson' or a matrix")
    if pps is not None and pps != "brewer" and n_stages > 1:
        raise DesignError(f"pps={pps!r} supports one stage of sampling (as R); use "
                          "pps='brewer' for a multistage design")
    if pps == "brewer" and n_stages > 2:
        raise DesignError("pps='brewer' supports at most two stages of sampling")
    if pps == "brewer" and not fpc_cols:
        raise DesignError("pps='brewer' needs fpc= with each PSU's inclusion probability")
    return pps, joint


def pps_probabilities(data: pd.DataFrame, pps, fpc_cols: list) -> tuple:
    """The inclusion probabilities of a PPS design, from the first fpc column (each in (0, 1]).
    Returns (probabilities or None, the fpc columns left for as.fpc): only pps="brewer" keeps
    them, the other methods use the probabilities in the check-Delta matrix instead."""
    if pps is None or not fpc_cols:
        return None, fpc_cols
    pps_pi = _numeric_column(data, fpc_cols[0], "fpc")
    if np.any((pps_pi <= 0) | (pps_pi > 1)):
        row = int(np.flatnonzero((pps_pi <= 0) | (pps_pi > 1))[0])
        raise DesignError(
            f"with pps={pps!r}, fpc column {fpc_cols[0]!r} holds inclusion "
            f"probabilities in (0, 1]; row {data.index[row]!r} has {pps_pi[row]}")
    return pps_pi, (fpc_cols if pps == "brewer" else [])


def _first_stage_psu(data: pd.DataFrame, strata, h_codes: np.ndarray, psu_cols: list,
                     nest: bool) -> tuple[np.ndarray, np.ndarray]:
    """First-stage PSU codes and raw ids; without nest=True a PSU must lie in one stratum (R's
    "Clusters not nested in strata at top level"). No psu= : every row is a PSU."""
    n = len(data)
    if not psu_cols:
        return np.arange(n, dtype=np.int64), np.arange(1, n + 1)
    col = _column(data, psu_cols[0], "psu")
    c_codes, c_levels = _codes(col)
    if strata is not None and nest:
        p_codes = _combine(h_codes, c_codes)
    else:
        p_codes = c_codes
        if strata is not None:
            first = _first_rows(p_codes, int(p_codes.max()) + 1)
            crossing = h_codes != h_codes[first[p_codes]]
            if crossing.any():
                row = int(np.flatnonzero(crossing)[0])
                raise DesignError(
                    f"Clusters not nested in strata at top level: psu "
                    f"{psu_cols[0]}={col.iloc[row]!r} occurs in several strata "
                    f"(row {data.index[row]!r}); you may want nest=True."
                )
    return p_codes, c_levels[c_codes]


def _later_stage(data: pd.DataFrame, psu_col: str, h_codes: np.ndarray, h_labels: np.ndarray,
                 prev_psu: np.ndarray, prev_psu_labels: np.ndarray) -> tuple:
    """A stage after the first (R): its strata are the interaction of the first-stage strata and
    the previous stage's clusters, its clusters are nested in them. Returns (stratum codes,
    stratum labels, PSU codes, raw ids)."""
    first_prev = _first_rows(prev_psu, int(prev_psu.max()) + 1)
    h_lab = h_labels[h_codes[first_prev]]
    s_labels = np.array([f"{a}.{b}" for a, b in zip(h_lab, prev_psu_labels)], dtype=object)
    c_codes, c_levels = _codes(_column(data, psu_col, "psu"))
    return prev_psu, s_labels, _combine(prev_psu, c_codes), c_levels[c_codes]


def _cluster_labels(p_codes: np.ndarray, raw: np.ndarray, row_prefix) -> np.ndarray:
    """R's cluster ids: the interaction of the ids of all stages so far (with the stratum in
    front when nest=True); only needed to name later-stage strata. row_prefix: each row's
    prefix (the stratum or earlier cluster label), or None for none."""
    first = _first_rows(p_codes, int(p_codes.max()) + 1)
    prefix = [""] * first.shape[0] if row_prefix is None else [f"{v}." for v in row_prefix[first]]
    return np.array([f"{a}{b}" for a, b in zip(prefix, raw[first])], dtype=object)


def stage_clusters(data: pd.DataFrame, strata, psu_cols: list, nest: bool,
                   n_stages: int) -> tuple[list, list, list]:
    """Strata and clusters of every stage (R: ids nested by interaction with earlier ones).
    Returns per stage the stratum codes, the PSU codes and the stratum labels."""
    n = len(data)
    if strata is not None:
        h_codes, h_levels = _codes(_column(data, strata, "strata"))
    else:
        h_codes, h_levels = np.zeros(n, dtype=np.int64), np.array(["1"], dtype=object)
    h_labels = np.array([str(v) for v in h_levels], dtype=object)
    stage_strata, stage_psu, stage_labels = [], [], []
    prev_psu = prev_psu_labels = None
    for s in range(n_stages):
        if s == 0:
            s_codes, s_labels = h_codes, h_labels
            p_codes, raw = _first_stage_psu(data, strata, h_codes, psu_cols, nest)
        else:
            s_codes, s_labels, p_codes, raw = _later_stage(
                data, psu_cols[s], h_codes, h_labels, prev_psu, prev_psu_labels)
        stage_strata.append(s_codes)
        stage_psu.append(p_codes)
        stage_labels.append(s_labels)
        psu_labels = None
        if s + 1 < n_stages:
            if s == 0:
                row_prefix = h_labels[h_codes] if (nest and strata is not None) else None
            else:
                row_prefix = prev_psu_labels[prev_psu]
            psu_labels = _cluster_labels(p_codes, raw, row_prefix)
        prev_psu, prev_psu_labels = p_codes, psu_labels
    if int(stage_psu[0].max()) + 1 == 1 and not (nest and strata is not None):
        raise DesignError("Design has only one primary sampling unit")
    return stage_strata, stage_psu, stage_labels


def design_weights(data: pd.DataFrame, weights, probs, popsize, pps_pi, stage_strata: list,
                   stage_psu: list) -> np.ndarray:
    """The sampling weights, as R's svydesign: the weights column, else 1 / probs, else the
    product over stages of N_h / n_h from the fpc, else 1 / the PPS inclusion probabilities,
    else 1 for every row (with R's warning)."""
    n = len(data)
    if weights is not None:
        return _numeric_column(data, weights, "weights")
    if probs is not None:
        p = _numeric_column(data, probs, "probs")
        if np.any(p <= 0):
            row = int(np.flatnonzero(p <= 0)[0])
            raise DesignError(
                f"probs column {probs!r} row {data.index[row]!r}: selection probability "
                f"{p[row]} must be > 0"
            )
        return 1.0 / p
    if popsize is not None:
        w = np.ones(n)
        for s in range(len(stage_strata)):
            h = stage_strata[s]
            n_h = np.bincount(
                h[_first_rows(stage_psu[s], int(stage_psu[s].max()) + 1)],
                minlength=int(h.max()) + 1,
            )
            w = w * popsize[s] / n_h[h]
        if not np.all(np.isfinite(w)):
            raise DesignError("weights implied by the fpc are infinite: give weights=")
        return w
    if pps_pi is not None:
        return 1.0 / pps_pi
    warnings.warn(
        "No weights or probabilities supplied, assuming equal probability", stacklevel=3
    )
    return np.ones(n)
