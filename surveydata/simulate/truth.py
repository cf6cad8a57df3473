"""Known truth: population values and census model coefficients of a simulated population.

Everything here is computed on the *whole* population (a census), from the answers every practice
would give, so a design-based estimator on a sample targets exactly these numbers. Shares are
among the practices *asked* an item (not -7), with "don't know" (-8) in the denominator, unless
the name says otherwise.

Analysis variables (`analysis_variables`): the instrument's derived variables ``tech_index``,
``n_applicable``, ``tech_share``, ``org_index`` and ``kbv_size_class`` exactly as
``schemas.derived`` computes them for a validated frame, plus ``n_info_sources`` (ticked
sources, "none" excluded; missing if the question was unanswered), 0/1 indicators
(``responsible_named``, ``training_all``, ``guideline_known``, ``provider_certified``) and the
0/1 outcome ``incident`` (1 yes, 0 no, missing for don't know / no answer). ``info_index`` is
not used: it is standardised within each sample, so it has no fixed population value.

Census models (statsmodels, point estimates only; their formulas are stored with the numbers so
that a survey fit on a sample can target the same coefficients):

- ``incident_logit``: binomial GLM, logit link, on practices answering incident_12m yes/no;
- ``tech_index_poisson``: Poisson GLM with offset log(n_applicable);
- ``implementation_polr``: proportional-odds logit of guideline_implementation codes 1 (fully)
  < 2 < 3 < 4 (hardly) among the aware practices with a substantive answer, in MASS::polr's
  convention logit P(Y <= k) = zeta_k - x'beta (negative beta: more fully implemented).

>>> from surveydata.simulate import simulate_population
>>> t = population_truth(simulate_population(1))
>>> round(t["prevalence"]["incident_12m_yes"], 2)
0.08
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import schemas

NA = -7
#: the technical measures counted by the instrument's tech_index (from its declaration)
TM = tuple(schemas.load_instrument().derived_variable("tech_index").extra["compute"]["count"])

MODELS = {
    "incident_logit": {
        "formula": "incident ~ tech_index + org_index + n_info_sources + C(kbv_size_class) + C(practice_type)",
        "family": "binomial",
        "subset": "incident_12m in [1, 2] (yes/no answers)",
    },
    "tech_index_poisson": {
        "formula": "tech_index ~ org_index + n_info_sources + C(kbv_size_class) + C(practice_type) + C(it_support_model)",
        "family": "poisson",
        "offset": "log(n_applicable)",
        "subset": "n_applicable > 0 and it_support_model answered",
    },
    "implementation_polr": {
        "formula": "guideline_implementation ~ tech_share + responsible_named + guideline_known + training_all"
                   " + guideline_understandable + provider_certified",
        "family": "ordinal logit (proportional odds), MASS::polr convention",
        "subset": "guideline_implementation in [1, 2, 3, 4] and guideline_understandable in 1..5",
    },
}


def analysis_variables(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the analysis variables used by the truth and the census models (raw codes in, new columns out).

    >>> import pandas as pd
    >>> f = pd.DataFrame({c: [1] for c in TM} | {"it_security_responsible": [3], "training_12m": [1],
    ...     "emergency_plan": [1], "guideline_awareness": [2], "n_persons_data": [4], "large_devices": [-7],
    ...     "incident_12m": [-8], "guideline_implementation": [-7], "provider_kbv_certified": [-7],
    ...     "guideline_understandable": [-7]})
    >>> analysis_variables(f)[["tech_index", "org_index", "kbv_size_class"]].iloc[0].tolist()
    [12, 2, 1]
    """
    out = frame.copy()
    # the instrument's derived variables, computed by schemas (never re-implemented here)
    derived = schemas.derive(frame, schemas.load_instrument(), variables=[
        "tech_index", "n_applicable", "tech_share", "org_index", "kbv_size_class"])
    for col in derived:
        out[col] = derived[col]
    out["responsible_named"] = frame["it_security_responsible"].isin([1, 2]).astype(int)
    out["training_all"] = (frame["training_12m"] == 1).astype(int)
    out["guideline_known"] = (frame["guideline_awareness"] == 1).astype(int)
    src = [c for c in frame.columns if c.startswith("info_sources__") and c != "info_sources__none"]
    if src:
        ticks = frame[src]
        out["n_info_sources"] = (ticks == 1).sum(axis=1).where((ticks >= 0).all(axis=1))
    out["incident"] = frame["incident_12m"].map({1: 1.0, 2: 0.0})
    out["provider_certified"] = (frame["provider_kbv_certified"] == 1).astype(int)
    und = frame["guideline_understandable"]
    out["guideline_understandable"] = und.where(und.between(1, 5))
    return out


def _share(col: pd.Series, code) -> float:
    asked = col[col != NA]
    return float((asked == code).mean()) if len(asked) else float("nan")


def _key_values(d: pd.DataFrame) -> dict:
    """The key quantities of one population (or one domain of it)."""
    inc = d["incident_12m"]
    v = {
        "N": len(d),
        "incident_12m_yes": float((inc == 1).mean()),
        "incident_12m_yes_among_answered": float((inc == 1).sum() / inc.isin([1, 2]).sum()),
        "incident_true_12m": float(d["incident_true"].mean()) if "incident_true" in d else None,
        "incident_with_downtime": float(((inc == 1) & (d["incident_downtime"] >= 1)).mean()),
        "incident_ever_yes": _share(d["incident_ever"], 1),
        "guideline_awareness_well": _share(d["guideline_awareness"], 1),
        "guideline_implementation_fully": _share(d["guideline_implementation"], 1),
        "guideline_implementation_fully_among_all": float((d["guideline_implementation"] == 1).mean()),
        "it_security_responsible_named": float(d["it_security_responsible"].isin([1, 2]).mean()),
        "training_12m_all": _share(d["training_12m"], 1),
        "tech_index_mean": float(d["tech_index"].mean()),
        "tech_share_mean": float(d["tech_share"].mean()),
        "org_index_mean": float(d["org_index"].mean()),
        "tm_fully": {c: _share(d[c], 1) for c in TM},
    }
    return v


def population_truth(population: pd.DataFrame, instrument=None, variables: pd.DataFrame | None = None) -> dict:
    """Population values: key quantities overall, by practice_type and by kbv_size_class, and the
    share of every code of every single-choice/Likert item (and every multi-choice option).

    >>> from surveydata.simulate import simulate_population
    >>> t = population_truth(simulate_population(2))
    >>> sorted(t["by_practice_type"])
    ['1', '2', '3', '4', '5']
    """
    d = analysis_variables(population) if variables is None else variables
    truth = {"prevalence": _key_values(d)}
    truth["by_practice_type"] = {str(k): _key_values(g) for k, g in d.groupby("practice_type")}
    truth["by_kbv_size_class"] = {str(int(k)): _key_values(g) for k, g in d.groupby("kbv_size_class")}
    dist = {}
    if instrument is not None:
        for item in instrument.items:
            if item.type in ("single", "likert5"):
                asked = d[item.var][d[item.var] != NA]
                dist[item.var] = {str(k): float(v) for k, v in asked.value_counts(normalize=True).sort_index().items()}
            elif item.type == "multi":
                for c in item.columns:
                    asked = d[c][d[c] != NA]
                    dist[c] = {"1": float((asked == 1).mean())}
            elif item.type == "integer":
                dist[item.var] = {"mean": float(d[item.var].mean()), "median": float(d[item.var].median())}
    truth["distributions"] = dist
    return truth


def census_models(population: pd.DataFrame, variables: pd.DataFrame | None = None) -> dict:
    """Fit the analysis models on the whole population (point estimates only).

    ``variables`` may pass ``analysis_variables(population)`` when it was computed already.
    Formulas use only ``+``, numeric terms and ``C(var)`` (treatment coding, lowest code as the
    reference), so the design matrix is built directly (`design_matrix`) with patsy's names.

    >>> from surveydata.simulate import simulate_population
    >>> m = census_models(simulate_population(3))
    >>> m["incident_logit"]["params"]["tech_index"] < 0
    True
    """
    import statsmodels.api as sm  # imported here: `import surveydata` stays light

    d = analysis_variables(population) if variables is None else variables
    integer = ["tech_index", "n_applicable", "org_index", "kbv_size_class"]
    d = d.dropna(subset=integer).astype({c: "int64" for c in integer})   # a census has no -9
    out = {}
    spec = MODELS["incident_logit"]
    y, X = design_matrix(spec["formula"], d[d["incident"].notna()])
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-10)
    out["incident_logit"] = {**spec, "n": int(fit.nobs), "params": _params(fit.params)}

    spec = MODELS["tech_index_poisson"]
    sub = d[(d["n_applicable"] > 0) & (d["it_support_model"] > 0)]
    y, X = design_matrix(spec["formula"], sub)
    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(sub["n_applicable"].to_numpy(float))).fit(tol=1e-10)
    out["tech_index_poisson"] = {**spec, "n": int(fit.nobs), "params": _params(fit.params)}

    spec = MODELS["implementation_polr"]
    sub = d[d["guideline_implementation"].isin([1, 2, 3, 4]) & d["guideline_understandable"].notna()]
    y, X = design_matrix(spec["formula"], sub, intercept=False)
    beta, zeta = polr(y.to_numpy().astype(np.int64), X.to_numpy())
    out["implementation_polr"] = {**spec, "n": len(sub),
                                  "params": {t: _r(b) for t, b in zip(X.columns, beta)},
                                  "cutpoints": {f"{k}|{k + 1}": _r(z) for k, z in zip((1, 2, 3), zeta)}}
    return out


def design_matrix(formula: str, data: pd.DataFrame, intercept: bool = True) -> tuple[pd.Series, pd.DataFrame]:
    """(y, X) for a formula ``y ~ a + C(b) + ...``: numeric terms as they are, ``C(b)`` as
    treatment dummies against b's lowest value, named as patsy names them (``C(b)[T.2]``).

    >>> y, X = design_matrix("y ~ x + C(g)", pd.DataFrame({"y": [0, 1, 1], "x": [1.0, 2, 3], "g": [1, 2, 3]}))
    >>> list(X.columns)
    ['Intercept', 'C(g)[T.2]', 'C(g)[T.3]', 'x']
    """
    lhs, rhs = (part.strip() for part in formula.split("~"))
    terms = [t.strip() for t in rhs.split("+")]
    cols = {"Intercept": np.ones(len(data))} if intercept else {}
    numeric = {}
    for t in terms:
        if t.startswith("C(") and t.endswith(")"):
            var = t[2:-1]
            levels = np.sort(data[var].unique())
            for lev in levels[1:]:
                cols[f"{t}[T.{lev}]"] = (data[var].to_numpy() == lev).astype(float)
        else:
            numeric[t] = data[t].to_numpy(dtype=float)
    cols.update(numeric)   # patsy puts categorical dummies before numeric terms
    return data[lhs].astype(float), pd.DataFrame(cols, index=data.index)


def polr(y: np.ndarray, X: np.ndarray, tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Unweighted proportional-odds logit by Newton-Raphson (MASS::polr convention).

    logit P(Y <= k) = zeta_k - x'beta for ordered categories 1..K (y holds 1..K). Returns
    (beta, zeta). Used for census fits only; survey fits belong to ``analysis.svyolr``.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((20000, 1))
    >>> y = 1 + np.searchsorted([-1.0, 1.0], x[:, 0] * 0.8 + rng.logistic(size=20000))
    >>> b, z = polr(y, x)
    >>> bool(abs(b[0] - 0.8) < 0.05 and abs(z[0] + 1) < 0.05)
    True
    """
    y = np.asarray(y, dtype=np.int64)
    K = int(y.max())
    n, p = X.shape
    cum = np.cumsum(np.bincount(y, minlength=K + 1)[1:]) / n
    theta = np.concatenate([np.zeros(p), np.log(cum[:-1] / (1 - cum[:-1]))])
    for _ in range(max_iter):
        beta, zeta = theta[:p], theta[p:]
        eta = X @ beta
        zpad = np.concatenate([[-np.inf], zeta, [np.inf]])
        hi, lo = zpad[y] - eta, zpad[y - 1] - eta          # P(Y = y) = F(hi) - F(lo)
        Fh, Fl = _expit(hi), _expit(lo)
        fh, fl = Fh * (1 - Fh), Fl * (1 - Fl)
        pr = np.maximum(Fh - Fl, 1e-300)
        # derivatives of F(hi) - F(lo) with respect to beta and zeta
        d_beta = -(fh - fl)[:, None] * X
        d_zeta = np.zeros((n, K - 1))
        rows = np.arange(n)
        up = y <= K - 1
        d_zeta[rows[up], y[up] - 1] += fh[up]
        dn = y >= 2
        d_zeta[rows[dn], y[dn] - 2] -= fl[dn]
        J = np.hstack([d_beta, d_zeta]) / pr[:, None]      # scores per row
        grad = J.sum(axis=0)
        info = J.T @ J                                      # Fisher scoring (outer product)
        step = np.linalg.solve(info, grad)
        theta = theta + step
        if np.abs(step).max() < tol:
            break
    return theta[:p], theta[p:]


def _expit(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _r(x: float) -> float:
    """Round to 8 significant digits: far below any sampling error, and far above the last-bit
    differences between machines (BLAS kernels), so regenerated files stay byte-identical."""
    return float(f"{float(x):.8g}")


def _params(params: pd.Series) -> dict:
    return {str(k): _r(v) for k, v in params.items()}


def round_floats(obj):
    """Recursively round floats to 8 significant digits (NaN -> None) for stable JSON."""
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else _r(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
