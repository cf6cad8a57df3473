"""Domain (subpopulation) estimation: ``design.subset(mask)`` and ``design.by(columns)``.

A domain never filters rows: rows outside get weight 0 and zero influence, so every PSU and
stratum stays in the variance (R's subset of a survey design).  ``by`` estimates all domains at
once and returns their joint covariance (R: svyby(..., covmat=TRUE)), so contrasts between
domains have correct standard errors (``contrast``).

Example
-------
>>> res = dclus1.by("stype").mean("api00")
>>> contrast(res, {"E": 1, "H": -1})                # E minus H, with its SE
           estimate         se   ci_low    ci_high
contrast
contrast  30.296627  30.027606 -28.5564  89.149654
[contrast; 95% CI: normal; design df = 14]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis import estimators as E
from analysis.contrasts import nonlinear_contrast
from analysis.masks import row_mask
from analysis.replicates import ReplicateWeightMatrix
from analysis.results import SurveyEstimate, make_estimate
from analysis.variance import ColumnwiseInfluence, indicator_matrix


class DomainMixin:
    """subset() and by() for every design."""

    def subset(self, mask):
        """The design restricted to a domain: a boolean array/Series (aligned to the data), a
        boolean column name, or a function of the data (:mod:`analysis.masks`).  All PSUs stay
        for the variance.

        >>> d.subset(d.data["stype"] == "E").mean("api00")
                  estimate        se      ci_low     ci_high
        variable
        api00       674.43  12.38248  650.160786  698.699214
        [mean; 95% CI: normal; design df = 99]
        """
        return self._restrict(row_mask(self._data, mask, "subset"))

    def by(self, columns: str | Sequence[str], missing: str = "error") -> DomainEstimates:
        """Estimates for every domain defined by one or more columns, with their joint
        covariance.  Domains are ordered as R's svyby (first column varies fastest).

        missing: what rows with a missing value in a domain column do. "error" (default) names
        them; "exclude" leaves them out of every domain (as R's svyby, which drops NA groups),
        keeping their PSUs for the variance, and says how many in the result's note.

        Missing values of the estimated variables: a domain with one gets NaN for the
        statistics it enters (R's svyby with na.rm = FALSE; the note names the domain) for
        means, totals, ratios, variances and SDs; proportions need na_rm="propagate" for that
        (R's svyciprop drops the rows), quantiles na_rm=True (R's svyquantile fails);
        ``na_rm=True`` leaves those rows out of their domain.

        >>> d.by(["stype", "sch.wide"]).total("enroll")  # doctest: +SKIP
        """
        return DomainEstimates(self, columns, missing=missing)


class DomainEstimates:
    """Estimators over the domains of ``design.by(columns)``."""

    def __init__(self, design, columns, missing: str = "error"):
        if missing not in ("error", "exclude"):
            raise ValueError(f"missing must be 'error' or 'exclude', got {missing!r}")
        self.design = design
        self.columns = [columns] if isinstance(columns, str) else list(columns)
        data = design.data
        codes_list, levels_list = [], []
        no_domain = np.zeros(len(data), dtype=bool)   # rows with a missing domain value
        for c in self.columns:
            if c not in data.columns:
                raise KeyError(f"by column {c!r} not found in the design's data")
            col = data[c]
            na = col.isna().to_numpy() & design.domain
            if na.any() and missing == "error":
                rows = data.index[na]
                raise ValueError(
                    f"by column {c!r} has {int(na.sum())} missing value(s) in rows "
                    f"{', '.join(map(str, rows[:10]))}; pass missing='exclude' to leave them "
                    f"out of every domain (their PSUs stay in the variance), or subset them out"
                )
            no_domain |= na
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels = list(col.cat.categories)
                codes = col.cat.codes.to_numpy().astype(np.int64)
            else:
                codes, levels = pd.factorize(col, sort=True)
                levels = list(levels)
            codes_list.append(codes)
            levels_list.append(levels)
        # R's interaction(): the first factor varies fastest
        key = np.zeros(len(data), dtype=np.int64)
        for codes, levels in reversed(list(zip(codes_list, levels_list))):
            key = key * len(levels) + np.maximum(codes, 0)
        key[no_domain] = -1                          # in no domain
        self.n_excluded = int(no_domain.sum())
        # R drops domains without sampled (weighted) rows
        inset = (design.weights != 0) & ~no_domain
        present = np.unique(key[inset])
        self._key = key
        self._groups = present
        labels = []
        for g in present:
            rest, parts = int(g), []
            for levels in levels_list:
                parts.append(levels[rest % len(levels)])
                rest //= len(levels)
            labels.append(tuple(parts))
        self._labels = labels

    def _codes(self, design) -> tuple[np.ndarray, int]:
        """Domain index 0..G-1 of every row of the design, -1 outside every domain."""
        pos = np.searchsorted(self._groups, self._key)
        pos = np.minimum(pos, self._groups.shape[0] - 1)
        codes = np.where(self._groups[pos] == self._key, pos, -1)
        codes = np.where(design.domain, codes, -1)
        return codes.astype(np.int64), int(self._groups.shape[0])

    @property
    def domains(self) -> list[tuple]:
        return list(self._labels)

    def _masks(self):
        for g in self._groups:
            yield self._key == g

    def _index(self, stat_labels: list, stat_names: list[str]) -> pd.MultiIndex:
        tuples = [dl + sl for dl in self._labels for sl in stat_labels]
        return pd.MultiIndex.from_tuples(tuples, names=self.columns + stat_names)

    # ------------------------------------------------------------------ linear statistics
    def _linear(self, kind, variables, na_rm, deff, df, level, ratio_den=None,
                return_replicates=False):
        E._check_deff(deff)
        d0 = self.design
        if kind == "ratio":
            nums = [variables] if isinstance(variables, str) else list(variables)
            dens = [ratio_den] if isinstance(ratio_den, str) else list(ratio_den)
            cols = E._variables(d0.data, nums + dens)
        else:
            cols = E._variables(d0.data, variables)
        na_rm = E._na_mode(na_rm)
        miss = np.isnan(cols.Y) & d0.domain[:, None]
        na_cells = None
        if miss.any() and na_rm in (False, "propagate"):
            # R's svyby(..., na.rm = FALSE): a domain whose rows miss a variable gets NA for the
            # statistics of that variable; every other domain is estimated as usual
            design, Y = d0, np.where(np.isnan(cols.Y) | ~d0.domain[:, None], 0.0, cols.Y)
            na_cells = miss
        else:
            design, Y = E._handle_missing(d0, cols.Y, cols.labels, na_rm, d0.data)
        B = None
        col_of = None
        if kind == "ratio":
            n_num = len(nums)
            pairs = [(i, j) for i in range(n_num) for j in range(len(dens))]
            col_of = [(i, n_num + j) for i, j in pairs]
            A = Y[:, [i for i, _ in pairs]]
            B = Y[:, [n_num + j for _, j in pairs]]
            stat_labels = [(f"{nums[i]}/{dens[j]}",) for i, j in pairs]
            stat_names = ["ratio"]
        elif cols.categorical:
            A = Y
            stat_labels = [tuple(lab) for lab in cols.labels]
            stat_names = ["variable", "level"]
        else:
            A = Y
            stat_labels = [(v,) for v, _ in cols.labels]
            stat_names = ["variable"]
        k = A.shape[1]
        est, V, codes, est_g, group_stats = self._grouped(design, kind, A, B)
        G = est_g.shape[0]
        note = None
        if na_cells is not None:
            est, V, note = self._missing_to_nan(est, V, codes, G, k, na_cells, col_of)
        d = None
        if deff is not False:
            # design effects need each domain's own SRS variance: one pass per domain
            d = []
            for g in range(G):
                dg = design._restrict(codes == g)
                m = (codes == g)[:, None]
                block = V[g * k:(g + 1) * k, g * k:(g + 1) * k]
                if kind == "ratio":
                    r = (A * m - est_g[g] * B * m) / (dg.weights @ (B * m))
                    d.append(E._deff(dg, r, block, "total", deff))
                else:
                    d.append(E._deff(dg, A * m, block, kind, deff))
            d = np.concatenate(d)
        if d is not None and na_cells is not None:
            d = np.where(np.isnan(est), np.nan, d)
        out = make_estimate(
            self._index(stat_labels, stat_names), est, V, d0.degf, E._ci_df(d0, df),
            kind, level, deff=d, note=self._note(note),
        )
        return E.attach_replicates(out, design, group_stats) if return_replicates else out

    def _missing_to_nan(self, est, V, codes, G, k, na_cells, col_of):
        """NaN for every (domain, statistic) whose domain has a row missing one of its
        variables (R's svyby without na.rm); a note names the domains."""
        est, V = est.copy(), V.copy()
        bad = np.zeros((G, k), dtype=bool)
        for c in range(k):
            cols = [c] if col_of is None else list(col_of[c])
            rows = na_cells[:, cols].any(axis=1) & (codes >= 0)
            bad[:, c] = np.bincount(codes[rows], minlength=G) > 0
        flat = np.flatnonzero(bad.ravel())
        est[flat] = np.nan
        V[flat, :] = np.nan
        V[:, flat] = np.nan
        names = [":".join(map(str, self._labels[g])) for g in np.flatnonzero(bad.any(axis=1))]
        return est, V, (f"NA in domain(s) {', '.join(names)}: missing values (pass "
                        "na_rm=True to leave those rows out)")

    def _note(self, other: str | None = None) -> str | None:
        parts = [other] if other else []
        if self.n_excluded:
            parts.append(f"{self.n_excluded} row(s) with a missing {' or '.join(self.columns)} "
                         "are in no domain")
        return "; ".join(parts) or None

    def _grouped(self, design, kind: str, A: np.ndarray, B: np.ndarray | None = None):
        """Means, totals or ratios (A / B) of every column in every domain at once, with the
        joint covariance from one call of the design's variance entry point.

        Returns (estimates (G*k,), covariance, row domain codes, estimates as (G, k), the
        point function of replicate weights)."""
        codes, G = self._codes(design)
        ind = indicator_matrix(codes, G)
        w = design.weights
        safe = np.maximum(codes, 0)
        n, k = A.shape

        def domain_totals(W):
            # ind @ W; replicate weights kept per PSU are multiplied from their factors (scipy
            # would first turn them into the full n x R array)
            if isinstance(W, ReplicateWeightMatrix):
                return W.premultiply(ind)
            return np.asarray(ind @ W)

        def group_stats(W):
            """(m, G*k): the statistic of every domain for every column of W."""
            out = np.empty((W.shape[1], G, k))
            den_w = domain_totals(W) if kind == "mean" else None
            for j in range(k):
                top = domain_totals(W * A[:, [j]])
                if kind == "mean":
                    top = top / den_w
                elif kind == "ratio":
                    top = top / domain_totals(W * B[:, [j]])
                out[:, :, j] = top.T
            return out.reshape(W.shape[1], G * k)

        est = group_stats(w[:, None])[0]
        est_g = est.reshape(G, k)

        def influence_fn():
            # the influence of domain g's statistics on the rows of domain g (zero elsewhere),
            # one column at a time: the engine needs only their PSU-by-domain totals
            if kind == "total":
                return ColumnwiseInfluence(n, k, lambda j: w * A[:, j], fresh=True)
            if kind == "mean":
                f = w / np.asarray(ind @ w)[safe]
                return ColumnwiseInfluence(n, k, lambda j: f * (A[:, j] - est_g[safe, j]), fresh=True)
            dtot = np.asarray(ind @ (w[:, None] * B))      # (G, k) domain totals of B
            return ColumnwiseInfluence(
                n, k, lambda j: w * (A[:, j] - est_g[safe, j] * B[:, j]) / dtot[safe, j], fresh=True)

        V = design.vcov_grouped(group_stats, influence_fn, codes, G)
        return est, V, codes, est_g, group_stats

    def mean(self, variables, na_rm: bool = False, deff=False, df=None, level: float = 0.95,
             covmat: bool = True,  # noqa: ARG002 (R's svyby; always attached)
             return_replicates: bool = False) -> SurveyEstimate:
        """Domain means with their joint covariance (``.vcov``; R's svyby covmat=TRUE).

        ``covmat`` is accepted for R users' sake and ignored: the joint covariance comes from
        the same single pass as the SEs, so it is always attached (likewise total, ratio).

        >>> d.by("stype").mean("api00")
                        estimate         se      ci_low     ci_high
        stype variable
        E     api00       674.43  12.382480  650.160786  698.699214
        H     api00       625.82  14.937129  596.543765  655.096235
        M     api00       636.60  16.214707  604.819758  668.380242
        [mean; 95% CI: normal; design df = 197]
        """
        return self._linear("mean", variables, na_rm, deff, df, level,
                            return_replicates=return_replicates)

    def total(self, variables, na_rm: bool = False, deff=False, df=None, level: float = 0.95,
              covmat: bool = True,  # noqa: ARG002 (R's svyby; always attached)
              return_replicates: bool = False) -> SurveyEstimate:
        """Domain totals with their joint covariance.

        >>> d.by("stype").total("enroll")
                            estimate            se        ci_low       ci_high
        stype variable
        E     enroll    1.842584e+06  72581.334576  1.700328e+06  1.984841e+06
        H     enroll    9.971285e+05  69239.395952  8.614218e+05  1.132835e+06
        M     enroll    8.474647e+05  55502.963794  7.386809e+05  9.562485e+05
        [total; 95% CI: normal; design df = 197]
        """
        return self._linear("total", variables, na_rm, deff, df, level,
                            return_replicates=return_replicates)

    def ratio(self, numerator, denominator, na_rm: bool = False, deff=False, df=None,
              level: float = 0.95, covmat: bool = True,  # noqa: ARG002 (as mean)
              return_replicates: bool = False) -> SurveyEstimate:
        """Domain ratios with their joint covariance.

        >>> d.by("stype").ratio("api.stu", "enroll")
                              estimate        se    ci_low   ci_high
        stype ratio
        E     api.stu/enroll  0.851816  0.007032  0.838033  0.865599
        H     api.stu/enroll  0.810570  0.020477  0.770435  0.850705
        M     api.stu/enroll  0.835696  0.018187  0.800049  0.871342
        [ratio; 95% CI: normal; design df = 197]
        """
        return self._linear("ratio", numerator, na_rm, deff, df, level, ratio_den=denominator,
                            return_replicates=return_replicates)

    def _per_domain(self, fn: Callable[[object], SurveyEstimate]) -> SurveyEstimate:
        """Run an estimator on each domain separately (non-smooth statistics); the covariance
        across domains is not estimated (NaN off the diagonal blocks). Domains whose result
        is NaN for missing values (na_rm="propagate") are named in the note."""
        results = [fn(self.design._restrict(m)) for m in self._masks()]
        na_domains = [":".join(map(str, self._labels[g])) for g, r in enumerate(results)
                      if "na_rm='propagate'" in (r.attrs.get("note") or "")]
        first = results[0]
        stat_labels = [t if isinstance(t, tuple) else (t,) for t in first.index]
        stat_names = [n if n is not None else "statistic" for n in first.index.names]
        index = self._index(stat_labels, stat_names)
        k = len(first)
        V = np.full((k * len(results), k * len(results)), np.nan)
        for g, r in enumerate(results):
            V[g * k:(g + 1) * k, g * k:(g + 1) * k] = r.vcov.to_numpy()
        frame = pd.concat([pd.DataFrame(r) for r in results], ignore_index=True)
        note = first.attrs.get("note")
        if na_domains:
            keep = [part for part in (note or "").split("; ") if part.startswith("ci_method=")]
            na_note = (f"NA in domain(s) {', '.join(na_domains)}: missing values (pass "
                       "na_rm=True to leave those rows out)")
            note = "; ".join([*keep, na_note])
        out = make_estimate(
            index, frame["estimate"].to_numpy(), V, self.design.degf,
            first.attrs["ci_df"], first.attrs["statistic"], first.attrs["level"],
            ci=(frame["ci_low"].to_numpy(), frame["ci_high"].to_numpy()),
            se=frame["se"].to_numpy(), note=self._note(note),
        )
        out.attrs["domain_df"] = [r.attrs["df"] for r in results]
        return out

    def proportion(self, variable: str, level=None, ci_method: str = "logit",
                   na_rm: bool = False, df=None, conf_level: float = 0.95) -> SurveyEstimate:
        """Domain proportions with svyciprop intervals; each domain's CI uses that domain's
        design df (as R's svyby(..., svyciprop)).

        >>> d.by("stype").proportion("sch.wide", level="Yes")
                              estimate        se    ci_low   ci_high
        stype variable level
        E     sch.wide Yes        0.91  0.028435  0.835446  0.952689
        H     sch.wide Yes        0.52  0.068968  0.383380  0.653693
        M     sch.wide Yes        0.70  0.063837  0.558829  0.811255
        [proportion; 95% CI: t(99); design df = 197; ci_method=logit]
        """
        out = self._per_domain(
            lambda dg: dg.proportion(variable, level=level, ci_method=ci_method, na_rm=na_rm,
                                     df=df, conf_level=conf_level)
        )
        # proportions are domain means of indicators: their joint covariance is available
        joint = self._proportion_vcov(variable, level, na_rm)
        if joint.shape == out.vcov.shape:
            out.vcov = joint
        return out

    def _proportion_vcov(self, variable, level, na_rm) -> np.ndarray:
        """Joint covariance of the domain proportions (domain means of the indicators)."""
        Y, labels = E._indicators(self.design.data, variable, level)
        if na_rm == "propagate":
            miss = np.isnan(Y) & self.design.domain[:, None]
            Y0 = np.where(np.isnan(Y) | ~self.design.domain[:, None], 0.0, Y)
            est, V, codes, est_g, _ = self._grouped(self.design, "mean", Y0)
            return self._missing_to_nan(est, V, codes, est_g.shape[0], Y.shape[1], miss,
                                        None)[1]
        design, Y = E._handle_missing(self.design, Y, labels, na_rm, self.design.data)
        return self._grouped(design, "mean", Y)[1]

    def var(self, variables, na_rm: bool = False, df=None, level: float = 0.95) -> SurveyEstimate:
        """Domain variances, each with its domain's n (as R's svyby(~y, ~g, d, svyvar)).

        >>> d.by("stype").var("api00")
                            estimate           se        ci_low       ci_high
        stype variable
        E     api00     15687.419293  1635.616944  12481.668989  18893.169597
        H     api00     11947.089388  1897.239800   8228.567710  15665.611065
        M     api00     13824.857143  2319.846364   9278.041820  18371.672466
        [variance; 95% CI: normal; design df = 197]
        """
        na = "propagate" if E._na_mode(na_rm) is False else na_rm   # R's svyby: NA there
        return self._per_domain(lambda dg: dg.var(variables, na_rm=na, df=df, level=level))

    def sd(self, variables, na_rm: bool = False, df=None, level: float = 0.95) -> SurveyEstimate:
        """Domain standard deviations (square roots of :meth:`var`, delta-method SEs).

        >>> d.by("stype").sd("api00")
                          estimate        se      ci_low     ci_high
        stype variable
        E     api00     125.249428  6.529439  112.451963  138.046893
        H     api00     109.302742  8.678830   92.292548  126.312936
        M     api00     117.579153  9.865041   98.244027  136.914278
        [sd; 95% CI: normal; design df = 197]
        """
        na = "propagate" if E._na_mode(na_rm) is False else na_rm   # as var
        return self._per_domain(lambda dg: dg.sd(variables, na_rm=na, df=df, level=level))

    def quantile(self, variables, q=0.5, qrule: str = "math", interval: str = "mean",
                 na_rm: bool = False, df=None, level: float = 0.95) -> SurveyEstimate:
        """Domain quantiles (Woodruff intervals with each domain's design df).

        >>> d.by("stype").quantile("api00", 0.5)
                                 estimate         se  ci_low  ci_high
        stype variable quantile
        E     api00    0.5          671.0  20.663063   638.0    720.0
        H     api00    0.5          635.0  19.655895   599.0    678.0
        M     api00    0.5          648.0  18.660660   601.0    676.0
        [quantile; 95% CI: t(99); design df = 197; qrule=math, interval=mean]
        """
        return self._per_domain(
            lambda dg: dg.quantile(variables, q, qrule=qrule, interval=interval, na_rm=na_rm,
                                   df=df, level=level)
        )


def contrast(estimates: SurveyEstimate, coefficients, level: float = 0.95,
             df=None) -> SurveyEstimate:
    """Linear contrast(s) of estimates with their SE from the attached covariance (R:
    svycontrast).  coefficients: a vector over the rows, a dict {row label: coefficient}
    (labels may be partial, e.g. the domain level only), or a dict of such dicts (several
    contrasts).  CI normal unless df is given.

    A text, or a dict of texts, is a nonlinear contrast (R's svycontrast with quoted
    expressions): see :func:`analysis.contrasts.nonlinear_contrast` (delta method, or the
    replicate estimates when they are attached).

    >>> contrast(d.by("stype").mean("api00"), {"E": 1, "M": -1})
              estimate         se   ci_low   ci_high
    contrast
    contrast     37.83  20.402023 -2.15723  77.81723
    [contrast; 95% CI: normal; design df = 197]
    >>> contrast(d.by("stype").mean("api00"), "exp(E - H)")
                  estimate            se        ci_low       ci_high
    contrast
    contrast  1.291382e+21  2.505560e+22 -4.781668e+22  5.039945e+22
    [nlcon; 95% CI: normal; design df = 197]
    """
    if isinstance(coefficients, str) or (
            isinstance(coefficients, dict) and coefficients
            and all(isinstance(v, str) for v in coefficients.values())):
        return nonlinear_contrast(estimates, coefficients, level=level, df=df)
    index = estimates.index

    def vector(c) -> np.ndarray:
        if isinstance(c, dict):
            v = np.zeros(len(index))
            for label, coef in c.items():
                hits = [
                    i for i, lab in enumerate(index)
                    if lab == label or (isinstance(lab, tuple) and (
                        lab[: len(label)] == label if isinstance(label, tuple) else lab[0] == label
                    ))
                ]
                if len(hits) != 1:
                    raise KeyError(
                        f"contrast label {label!r} matches {len(hits)} rows of the estimates; "
                        f"rows are {list(index)}"
                    )
                v[hits[0]] = coef
            return v
        v = np.asarray(c, dtype=np.float64)
        if v.shape != (len(index),):
            raise ValueError(f"contrast has {v.shape} coefficients, estimates have {len(index)}")
        return v

    if isinstance(coefficients, dict) and all(isinstance(v, dict) for v in coefficients.values()):
        names, L = list(coefficients), np.vstack([vector(c) for c in coefficients.values()])
    else:
        names, L = ["contrast"], vector(coefficients)[None, :]
    est = L @ estimates["estimate"].to_numpy()
    V = L @ np.asarray(estimates.vcov) @ L.T
    ci_df = np.inf if df is None else float(df)
    return make_estimate(pd.Index(names, name="contrast"), est, V, estimates.attrs.get("df"),
                         ci_df, "contrast", level)
