"""Proportional-odds (cumulative logit) model for an ordinal outcome: ``svyolr`` as R survey's.

Model (MASS::polr's convention): for categories 1..K and cutpoints zeta_1 < ... < zeta_{K-1},
    logit P(Y <= k | x) = zeta_k - x'beta        (no intercept: the cutpoints take its place)
fitted by maximising the weighted pseudo-log-likelihood sum_i w_i log p_i(y_i) with Newton's method
on (beta, zeta) using the analytic gradient and observed information (the log-likelihood is
concave in these parameters). statsmodels' OrderedModel is not used: it ignores weights silently.

Covariance: influence values U = S I^-1 (S the weighted per-row scores, I the observed information
of the weighted pseudo-likelihood) through the design's variance engine (R's svyolr: inffun =
gmini %*% solve(H), svyrecvar); replicate designs refit with every replicate column (R: polr with
the replicate weights). Residual df = degf - number of slopes (R's svyolr).

The proportional-odds check (:meth:`SvyOLRResults.proportional_odds_test`) is a Brant-type Wald
test with design-based covariance: it fits the K-1 binary logits of 1{Y > k}, estimates the joint
covariance of their slopes from their stacked influence values (or replicate refits), and tests
that each predictor's slope is the same at every cut (Brant 1990, with the design covariance in
place of the model-based one).
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import patsy
from scipy import stats
from scipy.special import expit
from statsmodels.genmod import families

from ._design import describe_design, restrict
from .formula import ModelFrame, model_frame, new_design_matrix
from .irls import irls, tall_matmul
from .modelwarnings import SurveyModelWarning
from .results import SurveyModelResults
from .wald import WaldTest, p_chisq_sum, term_indices


def _f(t):
    """Logistic density, 0 at +/-inf."""
    e = expit(t)
    return e * (1 - e)


class _OrdinalData:
    """Design matrix (no intercept), 0-based category codes and the cut indicators of every row."""

    def __init__(self, X: np.ndarray, codes: np.ndarray, n_levels: int):
        self.X = X
        self.codes = codes.astype(int)
        self.q = n_levels - 1
        n = len(codes)
        # upper cut of row i is zeta_{c_i} (absent for the top category), lower is zeta_{c_i - 1}
        self.up = np.zeros((n, self.q))
        self.lo = np.zeros((n, self.q))
        has_up = self.codes < self.q
        has_lo = self.codes > 0
        self.up[np.flatnonzero(has_up), self.codes[has_up]] = 1.0
        self.lo[np.flatnonzero(has_lo), self.codes[has_lo] - 1] = 1.0
        self.has_up, self.has_lo = has_up, has_lo

    def pieces(self, beta, zeta):
        """p_i, and f, f' of the logistic at the upper (1) and lower (2) cut of each row."""
        eta = self.X @ beta
        a = np.where(self.has_up, self.up @ zeta - eta, np.inf)
        b = np.where(self.has_lo, self.lo @ zeta - eta, -np.inf)
        p = expit(a) - expit(b)
        f1, f2 = _f(a), _f(b)
        g1 = f1 * (1 - 2 * expit(a))     # derivative of the logistic density
        g2 = f2 * (1 - 2 * expit(b))
        return p, f1, f2, g1, g2

    def loglik(self, theta, w):
        beta, zeta = theta[: -self.q], theta[-self.q:]
        if np.any(np.diff(zeta) <= 0):
            return -np.inf
        p = self.pieces(beta, zeta)[0]
        with np.errstate(divide="ignore"):
            return float(np.sum(w * np.log(p)))

    def scores(self, theta, w):
        """(n, pc + q) weighted per-row scores of the log-likelihood."""
        beta, zeta = theta[: -self.q], theta[-self.q:]
        p, f1, f2, _, _ = self.pieces(beta, zeta)
        D = f1[:, None] * self.up - f2[:, None] * self.lo
        return np.hstack([self.X * (-(w * (f1 - f2) / p))[:, None], D * (w / p)[:, None]])

    def information(self, theta, w):
        """Observed information (minus the Hessian of the weighted log-likelihood)."""
        beta, zeta = theta[: -self.q], theta[-self.q:]
        p, f1, f2, g1, g2 = self.pieces(beta, zeta)
        D = f1[:, None] * self.up - f2[:, None] * self.lo
        G = g1[:, None] * self.up - g2[:, None] * self.lo
        c_bb = w * ((g1 - g2) / p - (f1 - f2) ** 2 / p**2)
        H_bb = (self.X * c_bb[:, None]).T @ self.X
        H_zz = np.diag((w / p) @ (g1[:, None] * self.up - g2[:, None] * self.lo)) \
            - (D * (w / p**2)[:, None]).T @ D
        H_zb = -((G * (w / p)[:, None]).T @ self.X - (D * (w * (f1 - f2) / p**2)[:, None]).T @ self.X)
        H = np.block([[H_bb, H_zb.T], [H_zb, H_zz]])
        return -H

    def start(self, w):
        """beta = 0 and the cutpoints of the weighted marginal cumulative proportions."""
        props = np.bincount(self.codes, weights=w, minlength=self.q + 1) / w.sum()
        cum = np.clip(np.cumsum(props)[:-1], 1e-6, 1 - 1e-6)
        return np.concatenate([np.zeros(self.X.shape[1]), np.log(cum / (1 - cum))])

    def fit(self, w, start=None, tol=1e-10, maxiter=100, what="svyolr"):
        """Newton's method with step halving (keeps the cutpoints ordered, the likelihood rising)."""
        theta = self.start(w) if start is None else np.array(start, dtype=float)
        ll = self.loglik(theta, w)
        for _ in range(maxiter):
            grad = self.scores(theta, w).sum(axis=0)
            step = np.linalg.solve(self.information(theta, w), grad)
            t = 1.0
            while t > 1e-10:
                cand = theta + t * step
                ll_c = self.loglik(cand, w)
                if ll_c >= ll - 1e-12 * abs(ll):
                    break
                t /= 2
            theta, ll = cand, ll_c
            if np.all(np.abs(t * step) <= tol * (np.abs(theta) + tol)):
                return theta, ll
        warnings.warn(f"{what}: Newton did not converge in {maxiter} iterations", SurveyModelWarning,
                      stacklevel=3)
        return theta, ll


def svyolr(formula: str, design) -> SvyOLRResults:
    """Proportional-odds logistic regression with design-based SEs (R survey's ``svyolr``).

    The response must be an ordered categorical (its category order is the outcome's order) or
    integer codes; at least 3 levels, each observed. Coefficients follow MASS::polr:
    logit P(Y <= k) = zeta_k - x'beta, so a positive beta shifts towards higher categories.

    >>> import numpy as np, pandas as pd
    >>> from analysis.design import SurveyDesign
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=300)
    >>> y = np.digitize(x + rng.logistic(size=300), [-1.0, 1.0])
    >>> df = pd.DataFrame({"y": pd.Categorical(y, categories=[0, 1, 2], ordered=True), "x": x, "w": 1.0})
    >>> fit = svyolr("y ~ x", SurveyDesign(df, weights="w"))
    >>> fit.params.index.tolist()
    ['x', '0|1', '1|2']
    """
    mf = model_frame(formula, design.data, patsy.EvalEnvironment.capture(1), response="ordinal")
    if not mf.has_intercept:
        warnings.warn(f"svyolr({formula!r}): an intercept is needed and assumed (the cutpoints)",
                      SurveyModelWarning, stacklevel=2)
    keep = [j for j, name in enumerate(mf.names) if name != "Intercept"]
    names = [mf.names[j] for j in keep]
    w_all = np.asarray(design.weights, dtype=float)
    used = mf.complete & (w_all > 0)        # rows outside a domain (weight 0) carry no information
    if mf.infinite is not None and (mf.infinite & used).any():
        row = int(np.flatnonzero(mf.infinite & used)[0])
        raise ValueError(f"svyolr({formula!r}): infinite value in a model variable at data row "
                         f"{design.data.index[row]!r}; an infinite value is not a missing value (NaN)")
    X = mf.X[:, keep][used[mf.complete]]
    codes = mf.y[used[mf.complete]]
    od = _OrdinalData(X, codes, len(mf.response_levels))
    w = w_all[used]
    if np.linalg.matrix_rank(X[w > 0]) < X.shape[1]:
        raise ValueError(f"svyolr({formula!r}): the predictors are collinear")
    what = f"svyolr({formula!r})"
    theta, ll = od.fit(w, what=what)
    S = od.scores(theta, w)
    I_inv = np.linalg.inv(od.information(theta, w))
    n = len(design.data)

    def influence():
        U = np.zeros((n, len(theta)))
        U[used] = tall_matmul(S, I_inv)
        return U

    def refit(W):
        Wu = W[used]
        return np.vstack([od.fit(Wu[:, r], start=theta, what=f"{what} replicate")[0]
                          for r in range(Wu.shape[1])])

    model_design = restrict(design, used & (w_all > 0))
    cov = model_design.vcov(refit, influence)
    degf = int(design.degf if design.is_replicate else model_design.degf)
    lev = [str(v) for v in mf.response_levels]
    cut_names = [f"{a}|{b}" for a, b in itertools.pairwise(lev)]
    return SvyOLRResults(
        params=pd.Series(theta, index=names + cut_names, name="coef"), cov=cov,
        df_resid=degf - len(names), design_degf=degf, nobs=int((w > 0).sum()), formula=formula,
        design=design, design_text=describe_design(design), terms=_slope_terms(mf),
        replicate=design.is_replicate, n_slopes=len(names), levels=tuple(mf.response_levels),
        deviance=-2 * ll / w[w > 0].mean(), model_frame=mf, used=used, ordinal=od,
        slope_columns=keep,
    )


def _slope_terms(mf: ModelFrame) -> dict[str, list[str]]:
    return {t: cols for t, cols in mf.terms.items() if t != "Intercept"}


class SvyOLRResults(SurveyModelResults):
    """Result of :func:`analysis.svyolr`: slopes then cutpoints (R's ``coef(svyolr)``)."""

    model_name = "svyolr"

    def __init__(self, *, n_slopes: int, levels: tuple, deviance: float, model_frame: ModelFrame,
                 used: np.ndarray, ordinal: _OrdinalData, slope_columns: list[int], **kw):
        super().__init__(**kw)
        self.n_slopes = n_slopes
        self.levels = levels
        self.deviance = deviance
        self.model_frame = model_frame
        self.used = used
        self._od = ordinal
        self._slope_columns = slope_columns

    @property
    def coefficients(self) -> pd.Series:
        """The slopes beta."""
        return self.params.iloc[: self.n_slopes]

    @property
    def zeta(self) -> pd.Series:
        """The cutpoints zeta_k: logit P(Y <= k) = zeta_k - x'beta."""
        return self.params.iloc[self.n_slopes:]

    @property
    def pvalues(self) -> pd.Series:
        # R's summary.svyolr prints no p values; these use t(df_resid) like the svyglm ones
        return super().pvalues

    def _header(self) -> list[str]:
        return [f"Survey-weighted proportional-odds logit (svyolr): {self.formula}",
                "logit P(Y <= k) = zeta_k - x'beta;  levels: " + " < ".join(map(str, self.levels))]

    def _fit_lines(self) -> list[str]:
        return [(f"Observations used: {self.nobs}   residual df: {self.df_resid:g}   "
                f"deviance: {self.deviance:.6g} (weights scaled to mean 1)")]

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.DataFrame:
        """Predicted category probabilities, one column per level."""
        if newdata is None:
            X = self._od.X
            index = self.design.data.index[self.used]
        else:
            X = new_design_matrix(self.model_frame, newdata)[:, self._slope_columns]
            index = newdata.index
        eta = X @ self.coefficients.to_numpy()
        cum = expit(self.zeta.to_numpy()[None, :] - eta[:, None])
        cum = np.hstack([np.zeros((len(eta), 1)), cum, np.ones((len(eta), 1))])
        return pd.DataFrame(np.diff(cum, axis=1), index=index, columns=list(self.levels))

    def lrt_test(self, terms, df: float | None = None) -> WaldTest:
        """Rao-Scott working likelihood ratio test of slope ``terms`` (R's regTermTest(m, ~terms,
        method="LRT") for svyolr).

        chisq = deviance(model without the terms) - deviance(model), deviances -2 loglik / mean
        weight, the reduced model refitted on the same rows; under H0 a sum of lambda_i chi2_1,
        lambda the eigenvalues of V0^-1 V (V0 the inverse of the weighted observed information,
        V the design covariance of the tested slopes), over chi2_ddf/ddf with ddf the residual
        df (or ``df``). R takes V0 from optim's numerical Hessian, so lambda and p agree with R
        to about 1e-6, chisq to the fits' precision.

        >>> fit.lrt_test(["avg_ed", "stype"])  # doctest: +SKIP
        """
        names = list(self.params.index)
        wanted, idx = term_indices(terms, self._terms, names[: self.n_slopes])
        od = self._od
        w = np.asarray(self.design.weights, dtype=float)[self.used]
        theta = self.params.to_numpy()
        keep = np.setdiff1d(np.arange(self.n_slopes), idx)
        reduced = _OrdinalData(od.X[:, keep], od.codes, od.q + 1)
        start = np.concatenate([theta[keep], theta[self.n_slopes:]])
        _, ll0 = reduced.fit(w, start=start, what=f"svyolr({self.formula!r}) reduced model")
        chisq = -2 * ll0 / w[w > 0].mean() - self.deviance
        V0 = np.linalg.inv(od.information(theta, w))[np.ix_(idx, idx)]
        V = self._cov[np.ix_(idx, idx)]
        lam = np.sort(np.linalg.eigvals(np.linalg.solve(V0, V)).real)[::-1]
        ddf = self.df_resid if df is None else df
        return WaldTest(terms=tuple(wanted), coefficients=tuple(names[i] for i in idx),
                        statistic=chisq, chisq=chisq, df=len(idx), ddf=float(ddf),
                        p_value=p_chisq_sum(chisq, lam, ddf), method="LRT",
                        model=f"svyolr({self.formula})", lambdas=tuple(lam))

    def proportional_odds_test(self) -> pd.DataFrame:
        """Brant-type design-based Wald test of the proportional-odds assumption.

        Fits the K-1 weighted binary logits of 1{Y > k} (k = 1..K-1) on the same predictors, takes
        the joint design covariance of all their coefficients (stacked influence values, or
        replicate refits), and tests for each predictor, and for all jointly, that its slope is
        equal across the K-1 logits: chi-square on (K-2) df per predictor ((K-2) * p overall),
        reported also as F = chisq/df on (df, design df) with its p value. Small p values speak
        against proportional odds. (Under proportional odds each binary slope estimates beta.)
        """
        od, design = self._od, self.design
        w_all = np.asarray(design.weights, dtype=float)
        used = self.used
        w = w_all[used]
        X1 = np.hstack([np.ones((len(w), 1)), od.X])
        q, k1 = od.q, X1.shape[1]
        Y = (od.codes[:, None] > np.arange(q)[None, :]).astype(float)     # (n_used, q)
        binomial = families.Binomial()
        starts = []
        for j in range(q):
            b0 = np.zeros(k1)
            starts.append(irls(X1, Y[:, j], np.zeros(len(w)), w[:, None], binomial, b0,
                               what="proportional-odds check")[0])
        B = np.concatenate(starts)

        def point(W):
            Wu = W[used]
            return np.hstack([irls(X1, Y[:, j], np.zeros(len(w)), Wu, binomial, starts[j],
                                   what="proportional-odds check replicate") for j in range(q)])

        def influence():
            U = np.zeros((len(w_all), q * k1))
            for j in range(q):
                eta = X1 @ starts[j]
                mu = expit(eta)
                v = mu * (1 - mu)
                S = X1 * (w * (Y[:, j] - mu))[:, None]
                A = (X1 * (w * v)[:, None]).T @ X1
                U[used, j * k1:(j + 1) * k1] = S @ np.linalg.inv(A)
            return U

        V = restrict(design, used & (w_all > 0)).vcov(point, influence)
        names = list(self.coefficients.index)
        rows = []
        slope_idx = [[j * k1 + 1 + m for j in range(q)] for m in range(len(names))]

        def test(label, idx_groups):
            # contrasts: slope at cut j minus slope at cut 1, for every predictor in the group
            C = []
            for grp in idx_groups:
                for j in range(1, q):
                    c = np.zeros(q * k1)
                    c[grp[j]], c[grp[0]] = 1.0, -1.0
                    C.append(c)
            C = np.array(C)
            d = C @ B
            chisq = float(d @ np.linalg.solve(C @ V @ C.T, d))
            df = C.shape[0]
            ddf = self.design_degf
            F = chisq / df
            rows.append({"term": label, "chisq": chisq, "df": df, "p_chisq": stats.chi2.sf(chisq, df),
                         "F": F, "ddf": ddf, "p": stats.f.sf(F, df, ddf) if ddf > 0 else np.nan})

        for m, name in enumerate(names):
            test(name, [slope_idx[m]])
        test("all (omnibus)", slope_idx)
        return pd.DataFrame(rows).set_index("term")
