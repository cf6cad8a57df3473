"""Result objects of survey models: coefficients with design-based covariance, t tests with the
model's residual df, confidence intervals, exponentiated effects, Wald tests, predictions, a tidy
frame and a plain-text summary (no timestamps, so notebook outputs stay reproducible)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import ModelError
from analysis.results import confidence_level

from ..display import Summary
from .formula import new_design_matrix
from .irls import deviance_sum, irls, mean_and_derivative
from .profile import profile_conf_int
from .wald import WaldTest, p_chisq_sum, term_indices, wald


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "NaN"
    return "<1e-16" if p < 1e-16 else f"{p:.4g}"


class SurveyModelResults:
    """Coefficients, design covariance and residual df of a survey model.

    Standard errors come from the design (linearisation or replicates); t tests and confidence
    intervals use the t distribution with ``df_resid`` degrees of freedom, as R's summary.svyglm and
    confint.svyglm do.
    """

    model_name = "survey model"

    def __init__(self, *, params: pd.Series, cov: np.ndarray, df_resid: float, design_degf: float,
                 nobs: int, formula: str, design, design_text: list[str], terms: dict[str, list[str]],
                 replicate: bool):
        self.params = params
        self._cov = np.asarray(cov, dtype=float)
        self.df_resid = df_resid
        self.design_degf = design_degf
        self.nobs = nobs
        self.formula = formula
        self.design = design
        self._design_text = design_text
        self._terms = terms
        self.replicate = replicate

    # ---- coefficient table ------------------------------------------------------------------
    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov)), index=self.params.index, name="se")

    @property
    def tvalues(self) -> pd.Series:
        return (self.params / self.bse).rename("t")

    @property
    def pvalues(self) -> pd.Series:
        t = self.tvalues.to_numpy()
        p = 2 * stats.t.sf(np.abs(t), self.df_resid) if self.df_resid > 0 else np.full(t.shape, np.nan)
        return pd.Series(p, index=self.params.index, name="p")

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance of the coefficients."""
        names = self.params.index
        return pd.DataFrame(self._cov, index=names, columns=names)

    def _tq(self, level: float) -> float:
        """t quantile of a two-sided ``level`` interval with the residual df."""
        alpha = 1 - level
        return float(stats.t.ppf(1 - alpha / 2, self.df_resid)) if self.df_resid > 0 else float("nan")

    def conf_int(self, level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals b -/+ t((1 + level)/2, df_resid) * se (R's confint.svyglm default),
        as columns ``ci_low``, ``ci_high`` (the names of tidy() and of every estimate);
        ``alpha`` (= 1 - level) is still accepted.

        >>> fit.conf_int().round(2).loc["ell"].tolist()
        [-1.27, 0.26]
        """
        q = self._tq(confidence_level(level, alpha))
        return pd.DataFrame({"ci_low": self.params - q * self.bse,
                             "ci_high": self.params + q * self.bse})

    def tidy(self, level: float = 0.95, exponentiate: bool = False, *,
             alpha: float | None = None) -> pd.DataFrame:
        """One row per coefficient: estimate, se, t, p, ci_low, ci_high (exp'd when asked)."""
        ci = self.conf_int(level, alpha=alpha)
        out = pd.DataFrame({"estimate": self.params, "se": self.bse, "t": self.tvalues,
                            "p": self.pvalues, "ci_low": ci["ci_low"], "ci_high": ci["ci_high"]})
        out.index.name = "term"
        if exponentiate:
            out = out.assign(estimate=np.exp(out.estimate), ci_low=np.exp(out.ci_low),
                             ci_high=np.exp(out.ci_high)).drop(columns="se")
        out.attrs["df"] = self.df_resid
        return out

    # ---- tests -------------------------------------------------------------------------------
    def wald_test(self, terms, null=None, method: str = "F", df: float | None = None) -> WaldTest:
        """Joint Wald test that all coefficients of ``terms`` are zero (R's regTermTest, Wald).

        terms: "x", "x + C(g)", "~ x + C(g)" or a list; interaction terms match in any factor
        order; a single coefficient name is accepted too. method "F": F = chisq/q on (q, df) df
        with df the model's residual df (or ``df``); "chisq": chi-square on q df (R's df=Inf).
        """
        names = list(self.params.index)
        wanted, idx = term_indices(terms, self._terms, names)
        idx = idx[np.isfinite(self.params.to_numpy()[idx])]    # R: aliased (NA) are left out
        if idx.size == 0:
            raise ValueError(f"every coefficient of {wanted} is aliased (NaN): nothing to test")
        ddf = self.df_resid if df is None else df
        stat, chisq, p = wald(self.params.to_numpy(), self._cov, idx, ddf, null, method)
        return WaldTest(terms=tuple(wanted), coefficients=tuple(names[i] for i in idx), statistic=stat,
                        chisq=chisq, df=len(idx), ddf=float(ddf) if method == "F" else float("inf"),
                        p_value=p, method=method, model=f"{self.model_name}({self.formula})")

    # ---- printing ----------------------------------------------------------------------------
    def _header(self) -> list[str]:
        return [f"{self.model_name}: {self.formula}"]

    def _coef_table(self, level: float = 0.95) -> str:
        frame = self._coef_frame(level)
        frame.index.name = None
        return frame.to_string()

    def _coef_frame(self, level: float = 0.95) -> pd.DataFrame:
        t = self.tidy(level)
        alpha = 1 - level
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        table = pd.DataFrame({
            "coef": t.estimate.map(lambda v: f"{v:.6g}"), "std err": t.se.map(lambda v: f"{v:.4g}"),
            "t": t.t.map(lambda v: f"{v:.3f}"), "P>|t|": t.p.map(_fmt_p),
            lo: t.ci_low.map(lambda v: f"{v:.5g}"), hi: t.ci_high.map(lambda v: f"{v:.5g}")})
        table.index.name = None
        return table

    def summary(self, level: float = 0.95, *, alpha: float | None = None) -> Summary:
        """Model, design (strata, PSUs, degf), fit facts and the coefficient table: prints as
        text, shows as an HTML table in Jupyter, ``.as_latex()`` for a paper."""
        level = confidence_level(level, alpha)
        header = self._header()
        lines = header[1:] + ["Design:"] + ["  " + s for s in self._design_text] + self._fit_lines()
        foot = ("Standard errors: design-based ("
                + ("replicate weights" if self.replicate else "Taylor linearisation")
                + f"); t tests and intervals with {self.df_resid:g} df.")
        return Summary(header[0], lines, [("", self._coef_frame(level))], [foot])

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def to_frame(self, level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
        """Tidy coefficients (estimate, se, t, p, ci_low, ci_high) with df and n used."""
        out = self.tidy(level, alpha=alpha)
        out["df"] = self.df_resid
        out["n"] = self.nobs
        return out

    def _fit_lines(self) -> list[str]:
        return [f"Observations: {self.nobs}   residual df: {self.df_resid:g}"]

    def __repr__(self) -> str:
        return "\n".join(self._header() + self._fit_lines() + [self._coef_table()])


class SvyGLMResults(SurveyModelResults):
    """Result of :func:`analysis.svyglm`."""

    model_name = "svyglm"

    def __init__(self, *, family, family_name: str, link_name: str, deviance: float,
                 null_deviance: float, dispersion: float, model_frame, used: np.ndarray, offset,
                 offset_values, fitted: pd.Series, point, refit, model_design, **kw):
        super().__init__(terms=model_frame.terms, **kw)
        self.family = family
        self.family_name = family_name
        self.link_name = link_name
        self.deviance = deviance
        self.null_deviance = null_deviance
        self.dispersion = dispersion
        self.model_frame = model_frame
        self.used = used
        self._offset_spec = offset
        self._offset_values = offset_values
        self.fittedvalues = fitted
        # for predictive margins and block comparisons: the point fit (with what the influence
        # values of the coefficients are made of: A^-1 and the score factors, see glm.py), the
        # replicate refit, and the design restricted to the rows used
        self._point = point
        self._refit = refit
        self._model_design = model_design
        #: replicate coefficients (svyglm(..., return_replicates=True) on a replicate design)
        self.replicates = None

    @property
    def _influence_used(self) -> np.ndarray:
        """(n_used, p) influence values U = S A^-1 of the coefficients on the rows used, built on
        request (n x p: the fit itself never holds it)."""
        return self._point.influence_used()

    @property
    def deviance_explained(self) -> float:
        """1 - deviance/null deviance with the design weights (weighted McFadden R2 for 0/1 data)."""
        return 1.0 - self.deviance / self.null_deviance

    def _header(self) -> list[str]:
        return [f"Survey-weighted GLM (svyglm): {self.formula}",
                f"Family: {self.family_name} (link: {self.link_name})"]

    def _fit_lines(self) -> list[str]:
        used = (f"Observations used: {self.nobs}   residual df: {self.df_resid:g}   "
                f"dispersion: {self.dispersion:.6g}")
        deviance = (f"Weighted deviance: {self.deviance:.6g}   null deviance: "
                    f"{self.null_deviance:.6g}   (weights scaled to mean 1)")
        return [used, deviance]

    def lrt_test(self, terms, df: float | None = None) -> WaldTest:
        """Rao-Scott working likelihood ratio test of ``terms`` (R's regTermTest(method="LRT")).

        chisq = deviance(model without the terms) - deviance(model), both with the mean-1 design
        weights, the reduced model refitted on the same rows; under H0 chisq ~ sum_i lambda_i
        chi2_1 with lambda the eigenvalues of V0^-1 V (V0 the naive, V the design covariance of
        the tested coefficients), divided by chi2_ddf/ddf for ddf = residual df (or ``df``; inf
        for a chi-square reference). p by R's saddlepoint approximation (pFsum / pchisqsum).
        """
        self._refuse_aliased("lrt_test")
        names = list(self.params.index)
        wanted, idx = term_indices(terms, self._terms, names)
        pt = self._point
        fit, fam = pt.fit, self.family
        keep = np.setdiff1d(np.arange(len(names)), idx)
        wf = pt.w / pt.w_scale
        if keep.size:
            start = self.params.to_numpy()[keep]
            b0 = irls(fit.X[:, keep], fit.y, fit.offset, wf[:, None], fam, start, tol=1e-12,
                      what=f"{self.model_name} reduced model")[0]
            mu0 = mean_and_derivative(fam.link, fit.X[:, keep] @ b0 + fit.offset)[0]
        else:
            mu0 = mean_and_derivative(fam.link, fit.offset)[0]
        chisq = deviance_sum(fam, fit.y, mu0, pt.w, pt.w_scale) - self.deviance
        V0 = (pt.A_inv * pt.w_scale)[np.ix_(idx, idx)]     # R's naive.cov (unscaled)
        V = self._cov[np.ix_(idx, idx)]
        lam = np.sort(np.linalg.eigvals(np.linalg.solve(V0, V)).real)[::-1]
        ddf = self.df_resid if df is None else df
        p = p_chisq_sum(chisq, lam, ddf)
        return WaldTest(terms=tuple(wanted), coefficients=tuple(names[i] for i in idx), statistic=chisq,
                        chisq=chisq, df=len(idx), ddf=float(ddf), p_value=p, method="LRT",
                        model=f"{self.model_name}({self.formula})", lambdas=tuple(lam))

    def deff(self) -> pd.Series:
        """Design effects of the coefficients (R: svyglm(..., deff=TRUE); deff(fit)): the
        design variance over the variance of a glm fitted to the same data as a simple random
        sample, ``dispersion * (X' W X)^-1`` with the weights scaled to mean 1; the dispersion
        is 1 for binomial and poisson, else the glm's Pearson statistic / (n - p).

        >>> fit.deff()
        Intercept    0.785773
        ell          1.144709
        meals        1.113338
        Name: deff, dtype: float64
        """
        pt = self._point
        kept = np.isfinite(self.params.to_numpy())
        n, p = len(pt.w), int(kept.sum())
        naive = np.full(len(self.params), np.nan)
        naive[kept] = np.diag(pt.A_inv) * pt.w_scale
        if self.family_name in ("binomial", "poisson"):
            phi = 1.0
        else:
            y, mu = pt.fit.y, pt.mu
            pearson = (y - mu) ** 2 / self.family.variance(mu)
            phi = float(np.sum(pt.w / pt.w_scale * pearson) / (n - p))
        return pd.Series(np.diag(self._cov) / (phi * naive), index=self.params.index,
                         name="deff")

    def profile_conf_int(self, names=None, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Profile-likelihood intervals (R's confint(fit, method = "likelihood")): the working
        deviance profiled and scaled by each coefficient's design effect; see
        analysis.models.profile. ``names``: coefficient names (default all).

        >>> logit.profile_conf_int(["ell"])
               ci_low   ci_high
        ell -0.033148  0.019245
        """
        self._refuse_aliased("profile_conf_int")
        if names is None:
            names = list(self.params.index)
        elif isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in self.params.index]
        if unknown:
            raise KeyError(f"{unknown} are not coefficients; coefficients: {list(self.params.index)}")
        return profile_conf_int(self, list(names), level=level, df=df)

    def _refuse_aliased(self, what: str) -> None:
        aliased = [n for n, v in self.params.items() if not np.isfinite(v)]
        if aliased:
            raise ModelError(f"{what} needs every coefficient; {aliased} are aliased (NaN): "
                             "remove them from the formula and refit")

    # ---- effects on the exp scale ------------------------------------------------------------
    def odds_ratios(self, level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
        """exp(coefficients) with the exponentiated t intervals: odds ratios (column
        ``odds_ratio``) for a logit link, rate or mean ratios (column ``ratio``) for a log link;
        any other link is an error (exp of its coefficients means nothing in particular).

        >>> logit.odds_ratios().round(3).loc["ell"].tolist()
        [0.993, 0.968, 1.019]
        """
        if self.link_name not in ("logit", "log"):
            raise ModelError(f"exp(coef) is an odds or rate ratio only for a logit or log link; "
                             f"this model has link {self.link_name!r}")
        ci = self.conf_int(level, alpha=alpha)
        label = "odds_ratio" if self.link_name == "logit" else "ratio"
        return pd.DataFrame({label: np.exp(self.params), "ci_low": np.exp(ci["ci_low"]),
                             "ci_high": np.exp(ci["ci_high"])})

    def exp_params(self, level: float = 0.95, *, alpha: float | None = None) -> pd.DataFrame:
        """Deprecated: the same as :meth:`odds_ratios` (R users know that name)."""
        warnings.warn("exp_params() is deprecated: use odds_ratios() (the same numbers)",
                      DeprecationWarning, stacklevel=2)
        return self.odds_ratios(level, alpha=alpha)

    # ---- prediction --------------------------------------------------------------------------
    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link", offset=None,
                total: float | None = None, vcov: bool = False,
                level: float | None = None) -> pd.DataFrame:
        """Predictions with design-based SEs (R's predict.svyglm with se.fit).

        type "link": eta = x'b, se = sqrt(x'Vx); "response": mu = g^-1(eta), se by the delta method
        |dmu/deta| * se(eta). Default "link" as in R. Unlike R (which ignores offsets in
        predict.svyglm) the model's offset is added: taken from ``newdata`` when the offset was a
        column name, else from ``offset`` (required for new data with an array offset).
        ``total``: R's predict(total=): the intercept column is multiplied by ``total``, so that
        ``newdata`` holding population totals of the predictors gives the predicted population
        total of the outcome (a linear model: the regression estimator of the total).
        ``vcov=True`` attaches the joint covariance of the predictions (``attrs["vcov"]``).
        ``level`` (e.g. 0.95) adds confidence intervals ``ci_low``, ``ci_high``: t intervals with
        the residual df on the link scale (as :meth:`conf_int`), mapped through the inverse link
        for ``type="response"`` (so a probability's interval stays within 0 and 1).

        >>> fit.predict(d.data.head(2), level=0.95).round(1)
           estimate    se  ci_low  ci_high
        0     708.6   6.5   695.7    721.5
        1     480.1  14.6   451.3    508.9
        """
        if type not in ("link", "response"):
            raise ValueError(f"type must be 'link' or 'response', got {type!r}")
        if newdata is None:
            X = self.model_frame.X[self.used[self.model_frame.complete]]
            off = self._offset_values[self.used] if self._offset_values is not None else 0.0
            index = self.design.data.index[self.used]
        else:
            X = new_design_matrix(self.model_frame, newdata)
            index = newdata.index
            off = self._new_offset(newdata, offset)
        if total is not None:
            if "Intercept" not in self.params.index:
                raise ValueError("predict(total=) needs a model with an intercept")
            X = np.array(X, dtype=float)
            X[:, list(self.params.index).index("Intercept")] *= float(total)
        beta = np.nan_to_num(self.params.to_numpy())     # R: aliased coefficients count as 0
        eta = X @ beta + off
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, self._cov, X))   # NaN if any is aliased, as R
        d = np.ones_like(eta)
        bounds = None
        if level is not None:
            q = self._tq(confidence_level(level))
            bounds = (eta - q * se, eta + q * se)
        if type == "response":
            mu, d = mean_and_derivative(self.family.link, eta)
            eta, se = mu, np.abs(d) * se
            if bounds is not None:
                ends = [mean_and_derivative(self.family.link, b)[0] for b in bounds]
                bounds = (np.fmin(*ends), np.fmax(*ends))   # a decreasing link swaps them
        out = pd.DataFrame({"estimate": eta, "se": se}, index=index)
        if bounds is not None:
            out["ci_low"], out["ci_high"] = bounds
        if vcov:
            V = X @ self._cov @ X.T
            out.attrs["vcov"] = pd.DataFrame(d[:, None] * V * d[None, :], index=index,
                                             columns=index)
        return out

    def _new_offset(self, newdata, offset):
        if offset is not None:
            return np.asarray(offset, dtype=float)
        if self._offset_spec is None:
            return 0.0
        if isinstance(self._offset_spec, str):
            return newdata[self._offset_spec].to_numpy(dtype=float)
        raise ValueError("the model has an offset given as an array: pass offset= for the new data")
