"""Survey design objects: Taylor-linearisation designs and replicate-weight designs.

``SurveyDesign`` mirrors R's ``svydesign`` (weights or probabilities, strata, one or more stages of
clusters, fpc per stage, ``nest``, lonely-PSU rule); ``ReplicateDesign`` mirrors ``svrepdesign``.
Both share ``_Design``: the same estimator methods (mean, total, proportion, ratio, quantile),
domains (``by``, ``subset``), tables (``crosstab``), and one variance entry point ``vcov``
(the contract: :class:`analysis.protocols.Design`).
Designs are immutable: every transformation returns a new design.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "h": ["a", "a", "b", "b"], "w": [2.0, 2, 3, 3]})
>>> d = SurveyDesign(df, weights="w", strata="h")
>>> d.degf
2
"""
from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from analysis.design_setup import (
    PPS_METHODS,  # noqa: F401 (the methods of pps=, importable from here as before)
    _as_fpc,
    _as_list,
    _numeric_column,
    _pps_stages,
    check_sample,
    design_weights,
    drop_na_weights,
    pps_option,
    pps_probabilities,
    stage_clusters,
)
from analysis.domains import DomainMixin
from analysis.estimators import EstimatorMixin
from analysis.replicates import ReplicateWeightMatrix, replicate_variance
from analysis.results import make_estimate
from analysis.tables import TablesMixin
from analysis.variance import (
    LONELY_PSU_RULES,
    ColumnwiseInfluence,
    build_stages,
    column_of,
    stagewise_vcov,
)
from analysis.weighting import WeightingMixin

from .errors import DesignError

__all__ = ["DesignError", "ReplicateDesign", "SurveyDesign"]


# --------------------------------------------------------------------------- helpers
def _r_qr_rank(a: np.ndarray, tol: float = 1e-5) -> int:
    """Rank as R's qr(x, tol) (LINPACK dqrdc2): a column counts while its norm after projecting
    out the earlier ones stays above tol times its original norm."""
    if a.size == 0:
        return 0
    norms = np.linalg.norm(a, axis=0)
    import scipy.linalg  # noqa: PLC0415 (lazy: designs and means do not need scipy.linalg)

    _, r, piv = scipy.linalg.qr(a, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    orig = norms[piv[: diag.shape[0]]]
    return int(np.sum(diag > tol * np.where(orig > 0, orig, np.inf)))


# --------------------------------------------------------------------------- base class
class _Design(EstimatorMixin, DomainMixin, TablesMixin, WeightingMixin):
    """What every estimator and model may rely on (:class:`analysis.protocols.Design`): data,
    weights, domain, calibrations, n, degf, ``is_replicate`` and the one variance entry point
    ``vcov(point_fn, influence_fn)`` (Taylor or replicates)."""

    #: variances from replicate weights (ReplicateDesign) rather than influence values
    is_replicate: ClassVar[bool] = False

    _data: pd.DataFrame
    _weights: np.ndarray
    _domain: np.ndarray
    _calibrations: tuple

    # immutability: attributes are set once through object.__setattr__
    def __setattr__(self, name, value):
        raise AttributeError(
            f"{type(self).__name__} is immutable: methods return new designs "
            f"(tried to set {name!r})"
        )

    def _set_fields(self, **fields) -> None:
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def _replace(self, **changes) -> _Design:
        new = copy.copy(self)
        new.__dict__.pop("_degf_cache", None)  # derived from the weights
        for key, value in changes.items():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(new, key, value)
        return new

    @property
    def data(self) -> pd.DataFrame:
        """The design's data: a shallow copy-on-write view, so editing it (or the frame the
        design was built from) never changes the design."""
        return self._data.copy(deep=False)

    def assign(self, **columns) -> _Design:
        """The same design with new or changed variables (R's ``update(design, ...)``, srvyr's
        ``mutate``): strata, clusters, fpc, weights, replicate weights and every calibration
        record are kept, so variances of the new variables stay calibration-aware.

        Each value is what ``pandas.DataFrame.assign`` takes: a column (array or Series with
        the design's index, one value per row of the design, also rows outside a subset), a
        scalar, or a function of the data frame. A design variable (weights, strata, PSU, fpc)
        cannot be changed this way: build a new design for that.

        >>> import pandas as pd
        >>> d = SurveyDesign(pd.DataFrame({"a": [1.0, 2.0, 4.0], "w": [1.0, 1.0, 2.0]}), weights="w")
        >>> d.assign(a2=lambda df: df["a"] * 2).mean("a2")["estimate"].tolist()
        [5.5]
        """
        protected = self._design_columns()
        clash = sorted(set(columns) & protected)
        if clash:
            raise DesignError(
                f"assign() cannot change design variable(s) {clash}: they define the sample "
                f"(weights, strata, clusters, fpc); build a new SurveyDesign instead")
        try:
            data = self._data.assign(**columns)
        except (ValueError, TypeError, KeyError) as err:
            raise DesignError(f"assign(): {err}; each new column needs one value per row of "
                              f"the design ({len(self._data)} rows, also those outside a subset), "
                              f"a scalar, or a function of the data frame") from None
        if len(data) != len(self._data) or not data.index.equals(self._data.index):
            raise DesignError(f"assign() must keep the design's {len(self._data)} rows and their index")
        return self._replace(_data=data)

    #: R's name for the same operation
    update = assign

    def _design_columns(self) -> set:
        """Columns of the data that define the design (never changed by assign)."""
        spec = getattr(self, "_spec", None) or {}
        names = set()
        for value in spec.values():
            if isinstance(value, str):
                names.add(value)
            elif isinstance(value, (list, tuple)):
                names.update(v for v in value if isinstance(v, str))
        return names & set(self._data.columns)

    @property
    def weights(self) -> np.ndarray:
        """(n,) current analysis weights; 0 for rows outside a subset (domain)."""
        return self._weights

    @property
    def calibrations(self) -> tuple:
        """Calibration records applied so far (each has ``residualize(U) -> U``)."""
        return self._calibrations

    @property
    def n(self) -> int:
        """Number of rows in the design (in the domain, for a subset; as R's nrow(design))."""
        return int(self._domain.sum())

    @property
    def domain(self) -> np.ndarray:
        """(n,) boolean: rows belonging to this (sub)design."""
        return self._domain

    def _restrict(self, mask: np.ndarray) -> _Design:
        """The design restricted to rows with mask True; every row (and PSU) is kept for the
        variance, rows outside get weight 0 and no influence (R's subset of a design)."""
        mask = np.asarray(mask, dtype=bool)
        return self._replace(_weights=self._weights * mask, _domain=self._domain & mask)

    def _with_weights(self, new_weights, calibration_record=None) -> _Design:
        """A new design with other analysis weights (and one more calibration record)."""
        w = np.array(new_weights, dtype=np.float64)  # a copy: the caller's array may change
        if w.shape != self._weights.shape:
            raise DesignError(f"new weights have shape {w.shape}, expected {self._weights.shape}")
        bad = ~np.isfinite(w)
        if bad.any():
            rows = self.data.index[bad]
            raise DesignError(
                f"new weights have non-finite values in rows {', '.join(map(str, rows[:10]))}: "
                f"{w[bad][:10].tolist()}; expected finite numbers"
            )
        cals = self._calibrations
        if calibration_record is not None:
            cals = cals + (calibration_record,)
        w *= self._domain
        w.setflags(write=False)
        return self._replace(_weights=w, _calibrations=cals)

    def vcov(self, point_fn: Callable, influence_fn: Callable) -> np.ndarray:  # pragma: no cover
        """(k, k) covariance of the statistics: see :mod:`analysis.protocols`."""
        raise NotImplementedError

    def vcov_grouped(self, point_fn, influence_fn, codes, n_groups) -> np.ndarray:  # noqa: ARG002
        """Replicate designs: the point function already returns every group's statistics."""
        return self.vcov(point_fn, influence_fn)


# --------------------------------------------------------------------------- Taylor design
class SurveyDesign(_Design):
    """A probability sample design with Taylor-linearisation variances (R: svydesign).

    Parameters
    ----------
    data : DataFrame
    weights, probs : column of sampling weights or of selection probabilities (not both); when
        neither is given, weights follow from the fpc (population sizes / sample sizes per stage),
        else all weights are 1 (with a warning, as R).
    strata : column of first-stage strata, or None.
    psu : column or list of columns, one per stage of cluster sampling; None = each row is a PSU.
    fpc : column or list of columns, one per stage: population sizes (number of units in the
        stratum) or sampling fractions; as R, all values > 1 somewhere means population sizes.
        All values equal to 1 are read as sampling fraction 1 (a census), where R would refuse.
    nest : cluster ids repeat across strata (ids are only unique within a stratum).
    pps : a PPS design without replacement (R's svydesign(pps=)): "brewer" (Brewer's
        approximation; fpc= holds each PSU's inclusion probability; up to two stages),
        "overton", "hartley-rao" (with the sample mean of the probabilities for sum(pi^2)/n)
        or "poisson" (Poisson sampling), or an (n, n) matrix of joint inclusion probabilities of
        the PSUs in row order (R's ppsmat); the probabilities come from fpc=, else probs=, else
        1 / weights.
    variance : "HT" (Horvitz-Thompson, default) or "YG" (Yates-Grundy) for pps designs with
        joint probabilities, as R's svydesign(variance=).
    na_weights : rows whose weight is missing: "fail" (default, an error naming them), "warn"
        (dropped with a warning) or "allow" (dropped; the design's repr counts them), as R's
        svydesign(na_weights=).
    lonely_psu : "fail" (default), "remove", "certainty", "adjust" or "average" (R's
        survey.lonely.psu); applied when a variance is computed. "adjust" follows survey 4.5
        and its documentation: a lonely PSU is centred at the grand mean of all PSU totals
        (survey 4.1-1 centred it at zero; the two differ for totals, not for means or models).

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "c": [1, 1, 2, 2, 3, 3],
    ...                    "w": [10.0] * 6, "N": [30] * 6})
    >>> d = SurveyDesign(df, weights="w", psu="c", fpc="N")
    >>> d.degf
    2
    >>> round(float(d.mean("y")["se"].iloc[0]), 4)
    1.0954
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        probs: str | None = None,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        nest: bool = False,
        lonely_psu: str = "fail",
        na_weights: str = "fail",
        pps=None,
        variance: str = "HT",
    ):
        """The steps of R's svydesign, each a function of analysis.design_setup."""
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"data must be a pandas DataFrame, got {data.__class__.__name__}")
        data, n_dropped = drop_na_weights(data, weights, na_weights)
        check_sample(data, weights, probs, lonely_psu)
        data = data.copy(deep=False)  # copy-on-write: the caller's later edits do not leak in
        psu_cols = _as_list(psu)
        fpc_cols = _as_list(fpc)
        n_stages = max(len(psu_cols), 1)
        if len(fpc_cols) > n_stages:
            raise DesignError(
                f"{len(fpc_cols)} fpc columns {fpc_cols} given for {n_stages} stage(s) of sampling"
            )
        pps, joint = pps_option(pps, variance, n_stages, fpc_cols)
        pps_pi, fpc_cols = pps_probabilities(data, pps, fpc_cols)
        stage_strata, stage_psu, stage_labels = stage_clusters(data, strata, psu_cols, nest,
                                                               n_stages)
        popsize = _as_fpc(data, fpc_cols, stage_strata, stage_psu, stage_labels, n_stages, pps)
        w = design_weights(data, weights, probs, popsize, pps_pi, stage_strata, stage_psu)
        stages = build_stages(stage_strata, stage_psu, popsize, stage_labels)
        if pps is not None:
            stages = _pps_stages(stages, pps, pps_pi, w, data, joint, variance)
        w = np.asarray(w, dtype=np.float64).copy()
        w.setflags(write=False)
        domain = np.ones(len(data), dtype=bool)
        domain.setflags(write=False)
        self._set_fields(
            _data=data,
            _weights=w,
            _domain=domain,
            _calibrations=(),
            _stages=stages,
            _lonely_psu=lonely_psu,
            _spec={"weights": weights, "probs": probs, "strata": strata, "psu": psu_cols,
                   "fpc": fpc_cols, "nest": nest},
            _has_fpc=popsize is not None or pps is not None,
            _n_dropped=n_dropped,
            _pps=pps,
        )

    # ------------------------------------------------------------------ design facts
    @property
    def lonely_psu(self) -> str:
        return self._lonely_psu

    @property
    def stages(self):
        """Per-stage sampling structure (analysis.variance.Stage)."""
        return self._stages

    @property
    def has_strata(self) -> bool:
        return self._spec["strata"] is not None

    @property
    def degf(self) -> int:
        """Design degrees of freedom as R's degf(): #PSU - #strata (stage 1), counting only
        rows with non-zero weight (a subset has fewer)."""
        cached = self.__dict__.get("_degf_cache")
        if cached is not None:
            return cached
        st = self._stages[0]
        has_psu = np.zeros(st.n_psu, dtype=bool)
        has_psu[st.psu[self._weights != 0]] = True
        has_stratum = np.zeros(st.n_strata, dtype=bool)
        has_stratum[st.psu_stratum[has_psu]] = True
        value = int(has_psu.sum() - has_stratum.sum())
        object.__setattr__(self, "_degf_cache", value)
        return value

    def with_lonely_psu(self, rule: str) -> SurveyDesign:
        """The same design with another lonely-PSU rule.

        >>> d2 = d.with_lonely_psu("adjust")
        """
        if rule not in LONELY_PSU_RULES:
            raise DesignError(f"lonely_psu must be one of {LONELY_PSU_RULES}, got {rule!r}")
        return self._replace(_lonely_psu=rule)

    # ------------------------------------------------------------------ variance
    def vcov_influence(self, U: np.ndarray) -> np.ndarray:
        """(k, k) design covariance of the column sums of weighted influence values U (n, k).

        Applies every calibration record's ``residualize`` in order, then the stage-wise engine.

        >>> y = d.data["api00"].to_numpy()
        >>> d.vcov_influence(d.weights[:, None] * y[:, None])  # variance of a total
        array([[3.39643939e+09]])
        """
        if not isinstance(U, ColumnwiseInfluence):
            U = np.asarray(U, dtype=np.float64)
            if U.ndim == 1:
                U = U[:, None]
        if U.shape[0] != self._weights.shape[0]:
            raise ValueError(f"influence matrix has {U.shape[0]} rows, design has "
                             f"{self._weights.shape[0]}")
        for record in self._calibrations:
            U = record.residualize(U)
            if not isinstance(U, ColumnwiseInfluence):
                U = np.asarray(U, dtype=np.float64)
        within = [r for r in self._calibrations if getattr(r, "within_stage", 0)]
        present = None if self._domain.all() else self._domain
        return stagewise_vcov(U, self._stages, self._lonely_psu, present,
                              within=within or None)

    def vcov(self, point_fn: Callable, influence_fn: Callable) -> np.ndarray:  # noqa: ARG002
        """Generic variance entry point (Taylor: the influence values)."""
        return self.vcov_influence(influence_fn())

    def vcov_grouped(self, point_fn: Callable, influence_fn: Callable,  # noqa: ARG002
                     codes: np.ndarray, n_groups: int) -> np.ndarray:
        """Variance of statistics computed per group (domain) at once.

        influence_fn() returns (n, k) values whose group-g copy (rows with codes == g, others
        zero) is the influence of the g-th block of k statistics; the result is the joint
        (G*k, G*k) covariance, without forming the (n, G*k) matrix unless calibration
        residuals need it."""
        U = influence_fn()
        if not isinstance(U, ColumnwiseInfluence):
            U = np.asarray(U, dtype=np.float64)
        if self._calibrations:
            # calibration residuals are not per domain: the (n, G*k) domain influence values,
            # column g*k + j = U[:, j] inside domain g and 0 outside, handed over column by column
            k = U.shape[1]

            def column(c):
                g, j = divmod(c, k)
                return np.where(codes == g, column_of(U, j), 0.0)

            return self.vcov_influence(ColumnwiseInfluence(U.shape[0], n_groups * k, column,
                                                           fresh=True))
        present = None if self._domain.all() else self._domain
        return stagewise_vcov(U, self._stages, self._lonely_psu, present,
                              groups=(codes, n_groups))

    def _replicate_design(self, repweights, **options) -> ReplicateDesign:
        """The replicate design ``replicate()`` builds: same data and weights, these replicate
        weights and ReplicateDesign options."""
        return ReplicateDesign(self.data, repweights=repweights, weights=self.weights,
                               _degf_from_rank=True, **options)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        st = self._stages[0]
        strat = "Stratified " if self.has_strata else ""
        wr = "" if self._has_fpc else " (with replacement)"
        n_rows = self._weights.shape[0]
        if st.n_psu == n_rows:
            kind = f"{strat}Independent Sampling design{wr}"
            clusters = ""
        else:
            kind = f"{strat}{len(self._stages)} - level Cluster Sampling design{wr}"
            clusters = "\nWith (" + ", ".join(str(s.n_psu) for s in self._stages) + ") clusters."
        spec = self._spec
        parts = []
        for key in ("weights", "probs", "strata"):
            if spec[key] is not None:
                parts.append(f"{key}={spec[key]!r}")
        if spec["psu"]:
            parts.append(f"psu={spec['psu']!r}")
        if spec["fpc"]:
            parts.append(f"fpc={spec['fpc']!r}")
        if spec["nest"]:
            parts.append("nest=True")
        if self._lonely_psu != "fail":
            parts.append(f"lonely_psu={self._lonely_psu!r}")
        sub = "" if self._domain.all() else f"\nSubset: {self.n} of {n_rows} rows"
        cal = f"\nCalibrated: {len(self._calibrations)} step(s)" if self._calibrations else ""
        if self.__dict__.get("_n_dropped"):
            cal += f"\n{self._n_dropped} record(s) with missing weights dropped (na_weights)"
        return (
            f"{kind}{clusters}\nSurveyDesign({', '.join(parts)})\n"
            f"n = {self.n}, strata = {st.n_strata}, PSUs = {st.n_psu}, degf = {self.degf}"
            f"{sub}{cal}"
        )


# --------------------------------------------------------------------------- replicate design
#: default variance scale per replicate type as R's svrepdesign (R = number of replicates)
_REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "other")


class ReplicateDesign(_Design):
    """A design with replicate weights (R: svrepdesign).

    Variance: scale * sum_r rscales_r (theta_r - c)(theta_r - c)^T, c = full-sample estimate if
    ``mse`` else the mean of the replicate estimates.

    Parameters
    ----------
    data : DataFrame
    repweights : list of columns, a regular expression matching column names, or an (n, R) array
    weights : column of full-sample weights (None: all 1, with a warning as R)
    type : "JK1", "JKn", "BRR", "Fay", "bootstrap" or "other"; sets R's default scale/rscales
    scale, rscales : override the defaults (JKn requires rscales, as R)
    rho : Fay's rho (type "Fay")
    mse : centre at the full-sample estimate
    combined_weights : repweights already include the full-sample weight (R default True)
    degf : design degrees of freedom; default as R: rank of the replicate weights - 1. As
        survey 4.5, a value above the number of replicates or <= 1 is taken with a warning.

    Example
    -------
    >>> rd = ReplicateDesign(df, repweights="^rep", weights="w", type="JK1",
    ...                      scale=14/15)  # doctest: +SKIP
    """

    is_replicate: ClassVar[bool] = True

    def __init__(
        self,
        data: pd.DataFrame,
        repweights,
        weights: str | np.ndarray | None = None,
        type: str = "other",
        scale: float | None = None,
        rscales=None,
        rho: float | None = None,
        mse: bool = False,
        combined_weights: bool = True,
        degf: int | None = None,
        *,
        _degf_from_rank: bool = False,
    ):
        if not isinstance(data, pd.DataFrame):
            raise DesignError(f"data must be a pandas DataFrame, got {data.__class__.__name__}")
        if type not in _REPLICATE_TYPES:
            raise DesignError(f"type must be one of {_REPLICATE_TYPES}, got {type!r}")
        n = len(data)
        if n == 0:
            raise DesignError("data has no rows: a design needs at least one sampled unit "
                              "(check the filter or file that produced the frame)")
        data = data.copy(deep=False)
        if isinstance(repweights, ReplicateWeightMatrix):   # per-PSU factors (replicate())
            if repweights.shape[0] != n:
                raise DesignError(f"repweights must be (n={n}, R), got shape {repweights.shape}")
            rw = repweights
        elif isinstance(repweights, str):
            cols = [c for c in data.columns if re.search(repweights, str(c))]
            if not cols:
                raise DesignError(f"no column name matches the repweights pattern {repweights!r}")
            rw = np.column_stack([_numeric_column(data, c, "repweights") for c in cols])
        elif isinstance(repweights, (list, tuple)) and all(isinstance(c, str) for c in repweights):
            rw = np.column_stack([_numeric_column(data, c, "repweights") for c in repweights])
        else:
            rw = np.asarray(repweights, dtype=np.float64)
            if rw.ndim != 2 or rw.shape[0] != n:
                raise DesignError(f"repweights must be (n={n}, R), got shape {rw.shape}")
            if not np.all(np.isfinite(rw)):
                bad = np.flatnonzero(~np.all(np.isfinite(rw), axis=1))
                raise DesignError(
                    f"repweights have missing/non-finite values in rows "
                    f"{', '.join(map(str, data.index[bad][:10]))}"
                )
        n_rep = rw.shape[1]
        if weights is None:
            warnings.warn("No sampling weights provided: equal probability assumed", stacklevel=2)
            w = np.ones(n)
        elif isinstance(weights, str):
            w = _numeric_column(data, weights, "weights")
        else:  # full-sample weights as an array, e.g. from SurveyDesign.replicate()
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (n,) or not np.all(np.isfinite(w)):
                raise DesignError(f"weights must be a finite array of length n={n}, "
                                  f"got shape {w.shape}")
        if not combined_weights:
            rw = rw * w[:, None]
        if rscales is not None:
            rscales = np.broadcast_to(np.asarray(rscales, dtype=np.float64), (n_rep,)).copy()
        if type in ("BRR", "Fay"):
            if type == "Fay" and rho is None:
                raise DesignError("With type='Fay' you must supply rho")
            fixed = 1.0 / (n_rep * (1.0 - (rho if type == "Fay" else 0.0)) ** 2)
            if scale is not None and not np.isclose(scale, fixed, rtol=1e-12, atol=0.0):
                warnings.warn(f"type={type!r} does not use scale={scale!r}: its scale is "
                              f"{fixed!r} (as R's svrepdesign)", stacklevel=2)
            scale = fixed
        elif type == "bootstrap":
            scale = 1.0 / (n_rep - 1) if scale is None else scale
        elif type == "JK1" and scale is None:
            warnings.warn("scale (n-1)/n not provided: guessing n = number of replicates",
                          stacklevel=2)
            scale = (n_rep - 1) / n_rep
        elif type == "JKn" and rscales is None:
            raise DesignError("Must provide rscales for combined JKn weights")
        if rscales is None:
            rscales = np.ones(n_rep)
        if scale is None:
            scale = 1.0
        if degf is None:
            degf = _r_qr_rank(np.asarray(rw)) - 1
        elif not _degf_from_rank:
            # survey 4.5's svrepdesign checks a user's degf (4.1-1 took it silently); the rank
            # computed by SurveyDesign.replicate() is R's own default and is not checked
            if isinstance(degf, bool) or not isinstance(degf, (int, float, np.integer,
                                                              np.floating)):
                raise DesignError(f"degf must be None or a number, got {degf!r}")
            if degf > n_rep:
                warnings.warn(f"degf ({degf}) is larger than number of replicates ({n_rep})",
                              stacklevel=2)
            if degf <= 1:
                warnings.warn("degf is <=1", stacklevel=2)
        w = w.copy()
        if not isinstance(rw, ReplicateWeightMatrix):
            rw = np.ascontiguousarray(rw)
            rw.setflags(write=False)
        for arr in (w, rscales):
            arr.setflags(write=False)
        domain = np.ones(n, dtype=bool)
        domain.setflags(write=False)
        self._set_fields(
            _data=data, _weights=w, _domain=domain, _calibrations=(), _repweights=rw,
            _scale=float(scale), _rscales=rscales, _mse=bool(mse), _type=type, _rho=rho,
            _degf=int(degf),
        )

    @property
    def repweights(self) -> np.ndarray | ReplicateWeightMatrix:
        """(n, R) replicate analysis weights (full-sample weight included).

        An array; for a design made by ``SurveyDesign.replicate()`` without calibration, a
        :class:`~analysis.replicates.ReplicateWeightMatrix` that keeps the per-PSU multipliers
        (``np.asarray(rd.repweights)`` gives the matrix)."""
        return self._repweights

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def rscales(self) -> np.ndarray:
        return self._rscales

    @property
    def mse(self) -> bool:
        return self._mse

    @property
    def type(self) -> str:
        return self._type

    @property
    def degf(self) -> int:
        return self._degf

    def _restrict(self, mask: np.ndarray) -> ReplicateDesign:
        mask = np.asarray(mask, dtype=bool)
        return self._replace(
            _weights=self._weights * mask,
            _domain=self._domain & mask,
            _repweights=self._repweights * mask[:, None],
        )

    def _with_weights(self, new_weights, calibration_record=None, repweights=None):
        """New full-sample (and optionally replicate) weights, e.g. after calibration."""
        new = super()._with_weights(new_weights, calibration_record)
        if repweights is not None:
            rw = np.asarray(repweights, dtype=np.float64)
            if rw.shape != self._repweights.shape:
                raise DesignError(
                    f"new repweights have shape {rw.shape}, expected {self._repweights.shape}"
                )
            # no defensive (n, R) copies: the matrix is taken over read-only, and the domain
            # is applied only when it excludes rows (that product is a new array anyway)
            if not self._domain.all():
                rw = rw * self._domain[:, None]
            rw = rw.view()
            rw.flags.writeable = False
            new = new._replace(_repweights=rw)
        return new

    def vcov_replicates(self, theta_full, theta_reps) -> np.ndarray:
        """scale * sum_r rscales_r (theta_r - c)(theta_r - c)^T (R's svrVar).

        >>> rd = dclus1.replicate("jk1")
        >>> rd.vcov_replicates(np.array([1.0]), np.linspace(0.9, 1.1, 15)[:, None])
        array([[0.05227653]])
        """
        return replicate_variance(theta_full, theta_reps, self._scale, self._rscales,
                                  mse=self._mse)

    def replicate_weight(self, r: int) -> np.ndarray:
        """(n,) analysis weights of replicate r (0-based)."""
        W = self._repweights
        if isinstance(W, ReplicateWeightMatrix):
            return W.weights * W.factors[W.psu, r]
        return np.asarray(W[:, r], dtype=np.float64)

    def with_replicates(self, statistic: Callable, names=None, return_replicates: bool = False,
                        level: float = 0.95, df=None):
        """Any statistic with its replicate standard error (R: withReplicates).

        ``statistic(weights, data)`` returns a number or a vector of numbers for analysis
        weights ``weights`` (n,) and the design's data; it is called with the full-sample
        weights and with every replicate's weights, and the variance is the replicate formula
        (scale, rscales, mse). ``return_replicates=True`` keeps the replicate values for
        :func:`analysis.contrasts.nonlinear_contrast`. CI normal unless ``df`` is given.

        >>> rd = dclus1.replicate("jk1")
        >>> rd.with_replicates(lambda w, d: np.average(d["api00"], weights=w))
                     estimate         se    ci_low     ci_high
        statistic
        theta      644.169399  26.329361  592.5648  695.773997
        [withReplicates; 95% CI: normal; design df = 14]
        """
        data = self.data
        full = np.atleast_1d(np.asarray(statistic(self._weights, data), dtype=np.float64))
        if full.ndim != 1:
            raise DesignError(f"with_replicates: the statistic must return a number or a vector, "
                              f"got shape {full.shape}")
        n_rep = self._repweights.shape[1]
        reps = np.empty((n_rep, full.shape[0]))
        for r in range(n_rep):
            value = np.atleast_1d(np.asarray(statistic(self.replicate_weight(r), data),
                                             dtype=np.float64))
            if value.shape != full.shape:
                raise DesignError(f"with_replicates: replicate {r + 1} gave {value.shape[0]} "
                                  f"value(s), the full sample {full.shape[0]}")
            reps[r] = value
        V = self.vcov_replicates(full, reps)
        if names is None:
            names = ["theta"] if full.shape[0] == 1 else [f"theta{j + 1}"
                                                            for j in range(full.shape[0])]
        names = [names] if isinstance(names, str) else list(names)
        if len(names) != full.shape[0]:
            raise DesignError(f"with_replicates: {len(names)} names for {full.shape[0]} values")
        ci_df = np.inf if df is None else (float(self.degf) if df == "degf" else float(df))
        out = make_estimate(pd.Index(names, name="statistic"), full, V, self.degf, ci_df,
                            "withReplicates", level)
        if return_replicates:
            out.attrs["replicates"] = {"values": reps, "scale": self._scale,
                                       "rscales": np.asarray(self._rscales), "mse": self._mse}
        return out

    def vcov(self, point_fn: Callable, influence_fn: Callable) -> np.ndarray:  # noqa: ARG002
        """Generic variance entry point (replicates: re-estimate with every replicate weight)."""
        theta = np.asarray(point_fn(self._weights[:, None]), dtype=np.float64)[0]
        reps = np.asarray(point_fn(self._repweights), dtype=np.float64)
        return self.vcov_replicates(theta, reps)

    def __repr__(self) -> str:
        sub = "" if self._domain.all() else f"\nSubset: {self.n} of {self._weights.shape[0]} rows"
        cal = f"\nCalibrated: {len(self._calibrations)} step(s)" if self._calibrations else ""
        return (
            f"Call: ReplicateDesign(type={self._type!r})\n"
            f"Survey bootstrap/jackknife/BRR design with {self._repweights.shape[1]} replicates"
            f"{' and MSE variances' if self._mse else ''}.\n"
            f"n = {self.n}, scale = {self._scale:.6g}, degf = {self.degf}{sub}{cal}"
        )
