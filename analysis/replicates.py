"""Replicate weights (R's as.svrepdesign) and the replicate variance formula (R's svrVar).

Every constructor works on integer codes of the first-stage sampling units (``psu``, 0..P-1 per
row) and their strata (``strata``, per row), and returns a :class:`ReplicateWeights`: the
``(n, R)`` float64 matrix of *multipliers* (the replicate analysis weight is ``multiplier * w``),
the variance ``scale`` and ``rscales`` and R's type name. The matrix is built once, in place, so a
design holds a single ``(n, R)`` array.

===========  ==============================================  =====================================
type         replicate r                                      scale, rscales (R's conventions)
===========  ==============================================  =====================================
JK1          PSU r deleted, others * P/(P-1)                  (1-f)(P-1)/P, 1
JKn          PSU r of stratum h deleted, rest of h *           1, (1-f_h)(n_h-1)/n_h
             n_h/(n_h-1), other strata unchanged
BRR          half-sample from row r of a Hadamard matrix      1/R, 1
             (2 / 0)
Fay          as BRR with (2-rho) / rho                        1/(R (1-rho)^2), 1
bootstrap    n_h PSUs drawn with replacement in each stratum   n̄/((n̄-1)(R-1)), 1 with n̄ the
             (Canty-Davison, as R); multiplier = count         harmonic mean of n_h
rao-wu       n_h-1 PSUs drawn with replacement; multiplier    1/(R-1), 1
             1 - l + l count n_h/(n_h-1), l = sqrt(1-f_h)
===========  ==============================================  =====================================

Example
-------
>>> rw = jk1_weights(np.array([0, 0, 1, 2]))
>>> rw.multipliers.tolist(), rw.scale
([[0.0, 1.5, 1.5], [0.0, 1.5, 1.5], [1.5, 0.0, 1.5], [1.5, 1.5, 0.0]], 0.6666666666666666)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import AnalysisError

__all__ = [
    "ReplicateError",
    "ReplicateWeightMatrix",
    "ReplicateWeights",
    "bootstrap_weights",
    "brr_weights",
    "hadamard",
    "jk1_weights",
    "jkn_weights",
    "replicate_variance",
]


class ReplicateError(AnalysisError):
    """Replicate weights cannot be formed for this design (e.g. BRR without 2 PSUs per stratum)."""


@dataclass(frozen=True, eq=False)
class ReplicateWeights:
    """Replicate multipliers with R's variance constants.

    Every replicate type here multiplies whole first-stage PSUs, so the multipliers are kept per
    PSU: ``factors`` (P, R) and the PSU code of every row ``psu`` (n,); ``multipliers`` is the
    (n, R) matrix ``factors[psu]`` (built on request). ``scale`` and ``rscales`` enter
    ``replicate_variance``; ``type`` is R's name ("JK1", "JKn", "BRR", "Fay", "bootstrap");
    ``rho`` is Fay's rho (0 for BRR).
    """

    factors: np.ndarray
    psu: np.ndarray
    scale: float
    rscales: np.ndarray
    type: str
    rho: float = 0.0

    @property
    def multipliers(self) -> np.ndarray:
        """(n, R) multiplier of every row in every replicate."""
        return self.factors[self.psu]

    @property
    def n_replicates(self) -> int:
        return self.factors.shape[1]

    def analysis_weights(self, weights: np.ndarray) -> ReplicateWeightMatrix:
        """The (n, R) replicate analysis weights ``weights * multipliers``, kept per PSU."""
        return ReplicateWeightMatrix(weights, self.psu, self.factors)


def check_matrix_memory(n: int, n_rep: int, what: str) -> None:
    """Refuse an (n, R) float matrix larger than half the machine's memory with a clear error
    (not an out-of-memory kill): JK1/JKn make one replicate per PSU.

    >>> check_matrix_memory(10, 5, "a test")
    """
    need = 8.0 * n * n_rep
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this platform: no check
        return
    if need > 0.5 * total:
        raise ReplicateError(
            f"{what}: replicate weights for {n} rows x {n_rep} replicates need {need / 1e9:.1f} "
            f"GB, more than half of this machine's {total / 1e9:.1f} GB: use the bootstrap with "
            "fewer replicates, or group PSUs into fewer variance units"
        )


class ReplicateWeightMatrix:
    """(n, R) replicate analysis weights ``w_i * f[psu_i, r]``, held as the (P, R) PSU factors.

    Bootstrap, jackknife and BRR multipliers are constant within a first-stage PSU, so at
    1,000,000 rows, 2,000 PSUs and 100 replicates the design keeps 2,000 x 100 factors (1.6 MB)
    instead of an (n, R) matrix (800 MB). What estimators and model refits do with replicate
    weights is computed from the factors: row blocks ``W[a:b]`` (built per block), linear
    statistics ``W.T @ Y`` and ``W.sum(axis=0)`` (PSU totals times the factors), ``M @ W`` for a
    (sparse) domain indicator M, and products with a column ``W * x[:, None]`` (a new lazy
    matrix). Anything else (``np.asarray(W)``, other ndarray methods such as ``W.mean()``) acts
    on the full matrix, built for that call.

    >>> W = ReplicateWeightMatrix(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1]),
    ...                           np.array([[0.0, 2.0], [2.0, 0.0]]))
    >>> np.asarray(W).tolist()
    [[0.0, 2.0], [0.0, 4.0], [6.0, 0.0]]
    >>> (W.T @ np.array([1.0, 1.0, 2.0])).tolist(), W.sum(axis=0).tolist()
    ([12.0, 6.0], [6.0, 6.0])
    """

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, weights: np.ndarray, psu: np.ndarray, factors: np.ndarray):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.psu = np.asarray(psu)
        self.factors = np.asarray(factors, dtype=np.float64)
        if self.weights.shape != self.psu.shape or self.psu.ndim != 1:
            raise ValueError(f"weights {self.weights.shape} and psu codes {self.psu.shape} must "
                             "be vectors of the same length")
        self.shape = (self.weights.shape[0], self.factors.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (f"ReplicateWeightMatrix({self.shape[0]} rows x {self.shape[1]} replicates, "
                f"from {self.factors.shape[0]} PSU factors)")

    def __array__(self, dtype=None, copy=None):
        check_matrix_memory(self.shape[0], self.shape[1],
                            "this computation needs the full replicate weight matrix (the "
                            "estimators, tables and svyglm do not; calibrating replicates does)")
        out = self.factors[self.psu]
        out *= self.weights[:, None]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getattr__(self, name):
        # any other ndarray attribute or method (mean, min, std, ...) acts on the full matrix
        if name.startswith("__") or not hasattr(np.ndarray, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(np.asarray(self), name)

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, cols = key
            return self[rows][..., cols]
        return self.factors[self.psu[key]] * self.weights[key][..., None]

    def _psu_totals(self, x: np.ndarray) -> np.ndarray:
        """(P, k) PSU totals of w * x for x (n, k)."""
        P = self.factors.shape[0]
        Z = np.empty((P, x.shape[1]))
        for j in range(x.shape[1]):
            Z[:, j] = np.bincount(self.psu, weights=self.weights * x[:, j], minlength=P)
        return Z

    @property
    def T(self) -> _TransposedReplicateWeights:
        return _TransposedReplicateWeights(self)

    def sum(self, axis=None):
        if axis == 0:
            return self.factors.T @ self._psu_totals(np.ones((self.shape[0], 1)))[:, 0]
        return np.asarray(self).sum(axis=axis)

    def __mul__(self, other):
        other = np.asarray(other)
        if other.ndim == 0:
            return ReplicateWeightMatrix(self.weights * other, self.psu, self.factors)
        if other.shape == (self.shape[0], 1):
            return ReplicateWeightMatrix(self.weights * other[:, 0], self.psu, self.factors)
        return np.asarray(self) * other

    __rmul__ = __mul__

    def premultiply(self, M):
        """M @ W for an (m, n) matrix M (e.g. a sparse domain indicator): (M diag(w) E) F with
        E the (n, P) PSU indicator. Call it directly for a scipy.sparse M: scipy's ``M @ W``
        turns W into an array before it would try ``W.__rmatmul__``."""
        import scipy.sparse as sp  # noqa: PLC0415 (lazy: not needed by means)

        n, P = self.shape[0], self.factors.shape[0]
        E = sp.csr_matrix((self.weights, (np.arange(n), self.psu)), shape=(n, P))
        MWE = M @ E
        MWE = MWE.toarray() if sp.issparse(MWE) else np.asarray(MWE)
        return MWE @ self.factors

    __rmatmul__ = premultiply


class _TransposedReplicateWeights:
    """``W.T`` of a :class:`ReplicateWeightMatrix`, for ``W.T @ Y`` from PSU totals."""

    def __init__(self, W: ReplicateWeightMatrix):
        self.W = W
        self.shape = W.shape[::-1]

    def __matmul__(self, Y):
        Y = np.asarray(Y, dtype=np.float64)
        Y2 = Y[:, None] if Y.ndim == 1 else Y
        out = self.W.factors.T @ self.W._psu_totals(Y2)
        return out[:, 0] if Y.ndim == 1 else out

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.W, dtype=dtype).T


# ----------------------------------------------------------------------------------------------
# helpers on codes
# ----------------------------------------------------------------------------------------------
def _codes(x) -> np.ndarray:
    """Integer codes 0..K-1 numbered in order of first appearance (R's unique() order)."""
    x = np.asarray(x)
    n = x.shape[0]
    if x.dtype.kind in "iu" and n and 0 <= x.min() and x.max() < 10 * n + 1_000_000:
        # integer codes (as a design's): first appearances from a table, no sorting of rows
        first = np.full(int(x.max()) + 1, n, dtype=np.intp)
        first[x[::-1]] = np.arange(n)[::-1]
        keys = np.flatnonzero(first < n)
        rank = np.empty(first.shape[0], dtype=np.intp)
        rank[keys[np.argsort(first[keys], kind="stable")]] = np.arange(keys.shape[0])
        return rank[x]
    _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    return rank[inverse.reshape(-1)]


def _psu_table(strata, psu):
    """PSU codes (first-appearance order), stratum code of each PSU, PSUs per stratum."""
    p = _codes(psu)
    h = _codes(np.zeros(p.shape[0]) if strata is None else strata)
    n_psu = int(p.max()) + 1
    first = np.full(n_psu, -1, dtype=np.intp)
    first[p[::-1]] = np.arange(p.shape[0])[::-1]
    psu_stratum = h[first]
    if not np.array_equal(psu_stratum[p], h):
        bad = int(np.flatnonzero(psu_stratum[p] != h)[0])
        raise ReplicateError(f"PSU of row {bad} lies in several strata: PSUs must nest in strata")
    n_h = np.bincount(psu_stratum)
    return p, psu_stratum, n_h, first


def _stratum_fpc(popsize, first, psu_stratum, n_h) -> np.ndarray:
    """(H,) 1 - f_h from per-row population sizes (number of PSUs in the stratum); 1 if None."""
    if popsize is None:
        return np.ones(n_h.shape[0])
    N_psu = np.asarray(popsize, dtype=np.float64)[first]  # one value per PSU
    N_h = np.full(n_h.shape[0], np.nan)
    N_h[psu_stratum] = N_psu
    if not np.array_equal(N_h[psu_stratum], N_psu):
        raise ReplicateError("the population size (fpc) varies within a stratum")
    if np.any(N_h < n_h):
        h = int(np.flatnonzero(N_h < n_h)[0])
        raise ReplicateError(
            f"population size {N_h[h]} of stratum {h + 1} is smaller than its {n_h[h]} sampled PSUs"
        )
    return np.where(np.isinf(N_h), 1.0, (N_h - n_h) / N_h)


# ----------------------------------------------------------------------------------------------
# jackknife
# ----------------------------------------------------------------------------------------------
def jk1_weights(psu, popsize=None) -> ReplicateWeights:
    """Delete-one-PSU jackknife for an unstratified design (R's JK1).

    Replicate r drops the r-th PSU (in order of first appearance) and multiplies the others by
    P/(P-1); ``scale = (1-f)(P-1)/P`` with ``f = P/N`` when ``popsize`` (N per row) is given.

    >>> jk1_weights(np.array([5, 5, 7]), popsize=np.full(3, 10.0)).scale
    0.4
    """
    p, psu_stratum, n_h, first = _psu_table(None, psu)
    P = int(n_h[0])
    if P < 2:
        raise ReplicateError("the jackknife needs at least 2 PSUs")
    fpc = _stratum_fpc(popsize, first, psu_stratum, n_h)[0]
    F = np.full((P, P), P / (P - 1))
    np.fill_diagonal(F, 0.0)
    return ReplicateWeights(F, p, scale=float(fpc * (P - 1) / P), rscales=np.ones(P), type="JK1")


def jkn_weights(strata, psu, popsize=None, lonely_psu: str = "fail") -> ReplicateWeights:
    """Stratified delete-one-PSU jackknife (R's JKn): one replicate per PSU.

    Replicate (h, i) drops PSU i of stratum h and multiplies the other PSUs of h by
    n_h/(n_h-1); ``rscales = (1-f_h)(n_h-1)/n_h``, ``scale = 1``. Strata sampled completely
    (f_h = 1) contribute no replicate and are never lonely. A stratum with one PSU (sampled
    with f_h < 1) follows ``lonely_psu`` as R's
    jknweights: "fail" raises, "remove"/"certainty" skip it, "average" skips it and scales the
    variance up by P/(number of replicates), "adjust" adds a replicate dropping it with the other
    strata weighted H/(H-1) and rscale (H-1)/H.

    >>> rw = jkn_weights(np.array([1, 1, 2, 2]), np.array([1, 2, 3, 4]))
    >>> rw.rscales.tolist()
    [0.5, 0.5, 0.5, 0.5]
    """
    p, psu_stratum, n_h, first = _psu_table(strata, psu)
    fpc = _stratum_fpc(popsize, first, psu_stratum, n_h)
    P, H = int(p.max()) + 1, n_h.shape[0]
    # a stratum sampled completely (f_h = 1, e.g. a certainty PSU with N = n = 1) has no
    # sampling variance and no replicate: it is not lonely (R's jknweights: jk1weights gives it
    # no column, so the lonely-PSU rule never sees it)
    lonely = (n_h == 1) & (fpc > 0)
    if lonely.any() and lonely_psu == "fail":
        h = int(np.flatnonzero(lonely)[0])
        raise ReplicateError(f"stratum {h + 1} (in order of appearance) has only one PSU")
    # one replicate per PSU of a stratum with >= 2 PSUs that is not a census
    use = (~lonely[psu_stratum]) & (fpc[psu_stratum] > 0)
    reps = np.flatnonzero(use)  # PSU codes are in stratum-free first-appearance order
    reps = reps[np.argsort(psu_stratum[reps], kind="stable")]  # R: stratum by stratum
    R = reps.shape[0]
    adjust = lonely_psu == "adjust" and lonely.any()
    n_adj = int(lonely.sum()) if adjust else 0
    F = np.ones((P, R + n_adj))          # per PSU: the multiplier of its rows
    rep_h = psu_stratum[reps]
    col_of_psu = np.full(P, -1, dtype=np.intp)
    col_of_psu[reps] = np.arange(R)
    # the replicates of a stratum form a block of columns; PSUs of the stratum get n_h/(n_h-1)
    # there (0 in their own column), every other PSU keeps 1
    block_start = np.full(H, -1, dtype=np.intp)
    block_start[rep_h[::-1]] = np.arange(R)[::-1]
    q = np.flatnonzero(use)
    k = n_h[psu_stratum[q]]
    q_rep = np.repeat(q, k)
    offset = np.arange(q_rep.shape[0]) - np.repeat(np.cumsum(k) - k, k)
    factor = n_h / np.maximum(n_h - 1, 1)
    F[q_rep, block_start[psu_stratum[q_rep]] + offset] = factor[psu_stratum[q_rep]]
    F[q, col_of_psu[q]] = 0.0
    rscales = list(fpc[rep_h] * (n_h[rep_h] - 1) / n_h[rep_h])
    if adjust:
        for j, h in enumerate(np.flatnonzero(lonely)):
            F[:, R + j] = np.where(psu_stratum == h, 0.0, H / (H - 1))
            rscales.append((H - 1) / H)
    if F.shape[1] == 0:
        raise ReplicateError("all strata were sampled completely: there is no sampling variance")
    scale = 1.0
    if lonely_psu == "average" and F.shape[1] < P:
        # R's jknweights: fewer replicates than PSUs (lonely PSUs skipped, or strata sampled
        # completely) scales the variance up by PSUs / replicates
        scale = P / F.shape[1]
    return ReplicateWeights(F, p, scale=scale, rscales=np.asarray(rscales), type="JKn")


# ----------------------------------------------------------------------------------------------
# Hadamard matrices and BRR / Fay
# ----------------------------------------------------------------------------------------------
def _is_prime(k: int) -> bool:
    if k < 2:
        return False
    return all(k % d for d in range(2, int(k**0.5) + 1))


def _paley(p: int) -> np.ndarray:
    """Paley construction for a prime p = 3 (mod 4): 0/1 Hadamard matrix of order p + 1 (as R)."""
    residues = np.zeros(p, dtype=bool)
    residues[(np.arange(1, (p - 1) // 2 + 1) ** 2) % p] = True
    residues[0] = True
    m = (np.add.outer(np.arange(p), np.arange(p)) % p).astype(np.intp)
    core = np.where(residues[m], 0, 1)
    H = np.ones((p + 1, p + 1), dtype=np.int8)
    H[1:, 1:] = core
    return H


def _double(H: np.ndarray) -> np.ndarray:
    """Sylvester doubling in 0/1 coding, as R's hadamard.doubler."""
    return np.block([[H, H], [H, 1 - H]]).astype(np.int8)


def hadamard(n_strata: int) -> np.ndarray:
    """A 0/1 Hadamard matrix with at least ``n_strata + 1`` rows, first row and column all 1.

    The smallest order available from Sylvester doubling of [[1]] or of a Paley matrix (primes
    p = 3 mod 4 up to 10,000). For 100 strata this is R's choice (Paley, p = 103, 104 replicates).
    In +/-1 coding (2H - 1) the columns are orthogonal and every row but the first is balanced.

    >>> H = hadamard(3); H.shape
    (4, 4)
    """
    need = n_strata + 1
    best: tuple[int, int, int] | None = None  # (order, p, doublings); p = 1 means Sylvester
    for p in [1] + [q for q in range(3, 10_000, 4) if _is_prime(q)]:
        base = p + 1 if p > 1 else 1
        if base > 2 * need and best is not None:
            break
        k = 0
        while base * 2**k < need or (base * 2**k) % 4:
            k += 1
        order = base * 2**k
        if best is None or order < best[0]:
            best = (order, p, k)
    order, p, k = best
    H = np.ones((1, 1), dtype=np.int8) if p == 1 else _paley(p)
    for _ in range(k):
        H = _double(H)
    return H


def brr_weights(strata, psu, fay_rho: float = 0.0, hadamard_matrix=None) -> ReplicateWeights:
    """Balanced repeated replication (Fay's variant for ``fay_rho > 0``), as R's brrweights.

    Needs exactly 2 PSUs per stratum. Strata are numbered as R does (sorted by their label as
    text), the first-appearing PSU of a stratum is "PSU 1". Replicate r keeps PSU 2 of stratum k
    (weight 2 - rho, PSU 1 gets rho) when ``H[k, r] == 0`` and PSU 1 otherwise, with ``H`` the
    Hadamard matrix from :func:`hadamard` (rows 2.. used), or a user-given matrix.

    >>> rw = brr_weights(np.array([1, 1, 2, 2]), np.array([1, 2, 3, 4]))
    >>> rw.multipliers.shape, rw.scale
    ((4, 4), 0.25)
    """
    if not 0 <= fay_rho < 1:
        raise ReplicateError(f"fay_rho must be in [0, 1); got {fay_rho}")
    strata = np.asarray(strata)
    p, psu_stratum, n_h, first = _psu_table(strata, psu)
    if np.any(n_h != 2):
        h = int(np.flatnonzero(n_h != 2)[0])
        raise ReplicateError(
            f"BRR needs exactly 2 PSUs per stratum; stratum {strata[first[psu_stratum == h][0]].item()!r} "
            f"has {n_h[h]} (use the jackknife or bootstrap)"
        )
    H_count = n_h.shape[0]
    # R numbers the strata by sorting their labels as character strings
    labels = np.array([str(strata[first[psu_stratum == h][0]]) for h in range(H_count)])
    stratum_rank = np.empty(H_count, dtype=np.intp)
    stratum_rank[np.argsort(labels, kind="stable")] = np.arange(H_count)
    if hadamard_matrix is None:
        Hm = hadamard(H_count)
    else:
        vals = np.unique(np.asarray(hadamard_matrix))
        if vals.shape[0] != 2:
            raise ReplicateError("hadamard_matrix must have exactly two distinct values")
        Hm = (np.asarray(hadamard_matrix) != vals[0]).astype(np.int8)
        pm = 2.0 * Hm - 1.0
        if Hm.shape[0] < H_count + 1 or not np.allclose(
            pm.T @ pm, Hm.shape[0] * np.eye(Hm.shape[1])
        ):
            raise ReplicateError(
                f"hadamard_matrix must be a Hadamard matrix with at least {H_count + 1} rows"
            )
    # second PSU of a stratum: the one that is not the stratum's first-appearing PSU
    first_psu_of_stratum = np.full(H_count, -1, dtype=np.intp)
    first_psu_of_stratum[psu_stratum[::-1]] = np.arange(psu_stratum.shape[0])[::-1]
    is_second = np.arange(psu_stratum.shape[0]) != first_psu_of_stratum[psu_stratum]
    h_row = Hm[1 + stratum_rank[psu_stratum], :]  # (P, R): the PSU's stratum's Hadamard row
    keep = np.where(is_second[:, None], h_row == 0, h_row == 1)
    F = np.where(keep, 2.0 - fay_rho, fay_rho)
    R = F.shape[1]
    return ReplicateWeights(
        F,
        p,
        scale=1.0 / (R * (1.0 - fay_rho) ** 2),
        rscales=np.ones(R),
        type="BRR" if fay_rho == 0 else "Fay",
        rho=float(fay_rho),
    )


# ----------------------------------------------------------------------------------------------
# bootstrap
# ----------------------------------------------------------------------------------------------
def bootstrap_weights(
    strata,
    psu,
    replicates: int = 50,
    *,
    seed=None,
    popsize=None,
    method: str = "canty-davison",
) -> ReplicateWeights:
    """PSU bootstrap within strata with a seeded numpy Generator.

    ``method="canty-davison"`` (R's ``type="bootstrap"``): draw n_h PSUs with replacement in each
    stratum (without replacement from the PSUs repeated up to the population size N_h when
    ``popsize`` is given, as R); the multiplier is the number of draws;
    ``scale = n̄ / ((n̄ - 1)(R - 1))`` with n̄ the harmonic mean of n_h.
    ``method="rao-wu"``: draw n_h - 1 with replacement, multiplier
    ``1 - l + l * count * n_h / (n_h - 1)`` with ``l = sqrt(1 - f_h)`` (1 without ``popsize``),
    ``scale = 1/(R - 1)`` (Rao and Wu's 1988 rescaling bootstrap).
    R's own draws come from R's random numbers: to reproduce R number for number, load R's
    replicate weights as user-supplied weights.

    >>> rw = bootstrap_weights(None, np.arange(6), replicates=3, seed=1)
    >>> rw.multipliers.shape, rw.multipliers.sum(axis=0).tolist()
    ((6, 3), [6.0, 6.0, 6.0])
    """
    if replicates < 2:
        raise ReplicateError("the bootstrap needs at least 2 replicates")
    rng = np.random.default_rng(seed)
    p, psu_stratum, n_h, first = _psu_table(strata, psu)
    if np.any(n_h < 2):
        raise ReplicateError("every stratum needs at least 2 PSUs for the bootstrap")
    P, H = psu_stratum.shape[0], n_h.shape[0]
    order = np.argsort(psu_stratum, kind="stable")  # PSUs grouped by stratum
    start = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    counts = np.zeros((P, replicates))
    if method == "canty-davison":
        draws_per_h = n_h
    elif method == "rao-wu":
        draws_per_h = n_h - 1
    else:
        raise ReplicateError(f"method must be 'canty-davison' or 'rao-wu'; got {method!r}")
    if popsize is None or method == "rao-wu":
        # with replacement, all strata at once: draw positions within the stratum, count per
        # (PSU, replicate)
        h_of_draw = np.repeat(np.arange(H), draws_per_h)
        u = rng.random((replicates, h_of_draw.shape[0]))
        pos = start[h_of_draw] + np.minimum(
            (u * n_h[h_of_draw]).astype(np.intp), n_h[h_of_draw] - 1
        )
        psu_drawn = order[pos]  # (R, draws)
        flat = psu_drawn + P * np.arange(replicates)[:, None]
        counts = np.bincount(flat.ravel(), minlength=P * replicates).reshape(replicates, P).T
        counts = counts.astype(np.float64)
    else:
        _stratum_fpc(popsize, first, psu_stratum, n_h)  # checks: constant in strata, N_h >= n_h
        N_h = np.empty(H)
        N_h[psu_stratum] = np.asarray(popsize, dtype=np.float64)[first]
        for h in range(H):  # loop over strata: a multivariate hypergeometric draw per stratum
            members = order[start[h] : start[h] + n_h[h]]
            if not np.isfinite(N_h[h]) or N_h[h] > 1e7:  # no fpc: with replacement
                probs = np.full(n_h[h], 1.0 / n_h[h])
                counts[members] = rng.multinomial(n_h[h], probs, replicates).T
            else:
                # R: sample(rep(shuffled psus, length = N_h), n_h) without replacement, i.e. a
                # hypergeometric draw from N_h // n_h copies of each PSU (+1 for N_h % n_h of them)
                copies = np.full(n_h[h], int(N_h[h]) // n_h[h])
                copies[rng.permutation(n_h[h])[: int(N_h[h]) % n_h[h]]] += 1
                counts[members] = rng.multivariate_hypergeometric(copies, n_h[h], replicates).T
    if method == "rao-wu":
        # Rao & Wu (1988) with m_h = n_h - 1: 1 - lam + lam * n_h/(n_h - 1) * count,
        # lam = sqrt(1 - f_h) (1 without an fpc)
        lam = np.sqrt(_stratum_fpc(popsize, first, psu_stratum, n_h))[psu_stratum][:, None]
        counts = 1.0 - lam + lam * (n_h / (n_h - 1))[psu_stratum][:, None] * counts
        scale = 1.0 / (replicates - 1)
    else:
        nbar = 1.0 / np.mean(1.0 / n_h)
        scale = nbar / ((nbar - 1.0) * (replicates - 1))
    return ReplicateWeights(
        counts, p, scale=float(scale), rscales=np.ones(replicates), type="bootstrap"
    )


# ----------------------------------------------------------------------------------------------
# variance
# ----------------------------------------------------------------------------------------------
def replicate_variance(theta_full, theta_reps, scale, rscales, mse: bool = False) -> np.ndarray:
    """R's svrVar: ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'``.

    ``c`` is the full-sample estimate when ``mse`` else the mean of the replicate estimates with
    ``rscales > 0``. Replicates with non-finite estimates are dropped with a warning (as R).
    ``theta_full``: (k,); ``theta_reps``: (R, k). Returns (k, k).

    >>> replicate_variance(np.array([1.0]), np.array([[0.0], [2.0]]), 0.5, np.ones(2))
    array([[1.]])
    """
    theta_full = np.atleast_1d(np.asarray(theta_full, dtype=np.float64))
    reps = np.asarray(theta_reps, dtype=np.float64)
    reps = reps[:, None] if reps.ndim == 1 else reps
    rscales = np.broadcast_to(np.asarray(rscales, dtype=np.float64), (reps.shape[0],))
    bad = ~np.all(np.isfinite(reps), axis=1)
    if bad.any():
        if bad.all():
            raise ReplicateError("all replicates gave non-finite estimates")
        warnings.warn(
            f"{int(bad.sum())} replicate(s) gave non-finite estimates and were discarded",
            stacklevel=2,
        )
        reps, rscales = reps[~bad], rscales[~bad]
    centre = theta_full if mse else reps[rscales > 0].mean(axis=0)
    D = (reps - centre) * np.sqrt(rscales)[:, None]
    return scale * (D.T @ D)
