"""Known truth: population values and census model coefficients of a simulated population.

Everything here is computed on the *whole* population (a census), from the answers every unit
would give, so a design-based estimator on a sample targets exactly these numbers. What is
computed is declared in the study's ``simulation.truth`` (checked by ``schemas.simulation``):

- ``derived``: the instrument's derived variables, computed by ``schemas.derive`` exactly as for
  a validated frame; ``variables``: further analysis variables as formulas over the raw codes
  (``valid_if(x, condition)`` leaves x missing where the condition fails);
- ``key_values``: named population values, overall and by every ``domains`` variable:
  ``{count: rows}``, ``{mean: formula}`` (over all rows), ``{ratio: [numerator, denominator]}``
  (sums of two formulas), ``{share: item, code: c}`` (among the rows asked the item, "don't
  know" in the denominator; a group name gives one share per item), ``optional: true`` (None
  where a column is absent);
- ``models``: census fits (point estimates only) with ``formula``, ``family``, ``offset`` and
  ``subset`` (stored with the numbers so a survey fit on a sample can target the same
  coefficients), ``fit`` (binomial GLM, Poisson GLM with the offset, or ``polr``: a
  proportional-odds logit in MASS::polr's convention logit P(Y <= k) = zeta_k - x'beta) and
  ``rows`` (a formula selecting the rows fitted); ``integer`` columns are whole numbers.

>>> from surveydata.simulate import simulate_population
>>> t = population_truth(simulate_population(1))
>>> sorted(t)[-2:], len(t) > 2                     # "by_<domain>" for every declared domain
(['distributions', 'prevalence'], True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import schemas

from .engine import Evaluator
from .population import simulation_of


def _truth_spec(study=None):
    st, spec = simulation_of(study)
    if spec.truth is None:
        raise schemas.StudyError(f"study {st.name!r} declares no simulation.truth; add one to compute the truth")
    return st, spec, spec.truth


def models(study=None) -> dict:
    """The census models of a study as stored with their numbers (formula, family, offset, subset)."""
    return {name: dict(m["stored"]) for name, m in _truth_spec(study)[2]["models"].items()}


def __getattr__(name):
    # MODELS, the default study's census models (formula, family, [offset,] subset), on first use
    if name == "MODELS":
        globals()["MODELS"] = models()
        return globals()["MODELS"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def evaluate(formula, frame: pd.DataFrame, spec, inst) -> np.ndarray:
    """A truth formula over the columns of `frame` (multi-choice items and groups by name)."""
    values = {c: frame[c].to_numpy() for c in frame.columns if c in formula.names or "__" in c
              or c in {v for g in spec.groups.values() for v in g}}
    return Evaluator(values, None, len(frame), dict(spec.groups), inst)(formula, full=True)


def _available(formula, frame, spec, inst) -> bool:
    for name in formula.names:
        if name in frame.columns or name in spec.groups:
            continue
        item = next((i for i in inst.items if i.var == name), None)
        if item is None or not set(item.columns) <= set(frame.columns):
            return False
    return True


def analysis_variables(frame: pd.DataFrame, study=None) -> pd.DataFrame:
    """Add the declared analysis variables (raw codes in, new columns out).

    >>> from surveydata.simulate import simulate_population
    >>> d = analysis_variables(simulate_population(1).head(50))
    >>> len(d.columns) > 100
    True
    """
    st, spec, t = _truth_spec(study)
    out = frame.copy()
    # the instrument's derived variables, computed by schemas (never re-implemented here)
    derived = schemas.derive(frame, st.instrument, variables=list(t["derived"]))
    for col in derived:
        out[col] = derived[col]
    for var, formula in t["variables"].items():
        if _available(formula, frame, spec, st.instrument):
            out[var] = evaluate(formula, frame, spec, st.instrument)
    return out


def _share(col: pd.Series, code, na=-7) -> float:
    asked = col[col != na]
    return float((asked == code).mean()) if len(asked) else float("nan")


def quantity(q, d: pd.DataFrame, spec, inst):
    """One declared quantity (count, mean, ratio or share) of the rows `d`."""
    kind = q["kind"]
    if kind == "count":
        return len(d)
    if kind == "share":
        if q["var"] in spec.groups:
            return {c: _share(d[c], q["code"], inst.item(c).not_applicable) for c in spec.groups[q["var"]]}
        return _share(d[q["var"]], q["code"], inst.item(q["var"]).not_applicable)
    formulas = q["formula"] if kind == "ratio" else (q["formula"],)
    if q["optional"] and not all(_available(f, d, spec, inst) for f in formulas):
        return None
    if kind == "mean":
        f = q["formula"]
        if f.text.strip() in d.columns:        # a column: pandas' mean (missing values skipped)
            return float(d[f.text.strip()].mean())
        return float(pd.Series(evaluate(f, d, spec, inst)).mean())
    num, den = (evaluate(f, d, spec, inst) for f in formulas)
    return num.sum() / den.sum()


def _key_values(d: pd.DataFrame, spec, t, inst) -> dict:
    """The key quantities of one population (or one domain of it)."""
    return {name: quantity(q, d, spec, inst) for name, q in t["key_values"].items()}


def _domain_key(k) -> str:
    return str(int(k)) if isinstance(k, (float, np.floating)) and float(k).is_integer() else str(k)


def population_truth(population: pd.DataFrame, instrument=None, variables: pd.DataFrame | None = None,
                     study=None) -> dict:
    """Population values: key quantities overall and by every declared domain, and the share of
    every code of every single-choice/Likert item (and every multi-choice option).

    >>> from surveydata.simulate import simulate_population
    >>> t = population_truth(simulate_population(2))
    >>> sum(t[k]["1"]["N"] for k in t if k.startswith("by_")) < 2 * t["prevalence"]["N"]
    True
    """
    st, spec, t = _truth_spec(study)
    d = analysis_variables(population, study) if variables is None else variables
    inst = st.instrument
    truth = {"prevalence": _key_values(d, spec, t, inst)}
    for var in t["domains"]:
        truth[f"by_{var}"] = {_domain_key(k): _key_values(g, spec, t, inst) for k, g in d.groupby(var)}
    dist = {}
    if instrument is not None:
        for item in instrument.items:
            na = item.not_applicable
            if item.type in ("single", "likert5"):
                asked = d[item.var][d[item.var] != na]
                dist[item.var] = {str(k): float(v) for k, v in asked.value_counts(normalize=True).sort_index().items()}
            elif item.type == "multi":
                for c in item.columns:
                    asked = d[c][d[c] != na]
                    dist[c] = {"1": float((asked == 1).mean())}
            elif item.type == "integer":
                dist[item.var] = {"mean": float(d[item.var].mean()), "median": float(d[item.var].median())}
    truth["distributions"] = dist
    return truth


def census_models(population: pd.DataFrame, variables: pd.DataFrame | None = None, study=None) -> dict:
    """Fit the declared census models on the whole population (point estimates only).

    ``variables`` may pass ``analysis_variables(population)`` when it was computed already.
    Formulas use only ``+``, numeric terms and ``C(var)`` (treatment coding, lowest code as the
    reference), so the design matrix is built directly (`design_matrix`) with patsy's names.

    >>> from surveydata.simulate import simulate_population
    >>> m = census_models(simulate_population(3))
    >>> sorted(m) == sorted(models())
    True
    """
    import statsmodels.api as sm  # noqa: PLC0415 - imported here: `import surveydata` stays light

    st, spec, t = _truth_spec(study)
    d = analysis_variables(population, study) if variables is None else variables
    integer = list(t["integer"])
    d = d.dropna(subset=integer).astype({c: "int64" for c in integer})   # a census has no -9
    out = {}
    for name, m in t["models"].items():
        stored = dict(m["stored"])
        sub = d[np.asarray(evaluate(m["rows"], d, spec, st.instrument), dtype=bool)]
        if m["fit"] == "polr":
            y, X = design_matrix(stored["formula"], sub, intercept=False)
            beta, zeta = polr(y.to_numpy().astype(np.int64), X.to_numpy())
            out[name] = {**stored, "n": len(sub),
                         "params": {term: _r(b) for term, b in zip(X.columns, beta)},
                         "cutpoints": {f"{k}|{k + 1}": _r(z) for k, z in zip(range(1, len(zeta) + 1), zeta)}}
            continue
        y, X = design_matrix(stored["formula"], sub)
        if m["fit"] == "binomial":
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-10)
        else:
            offset = evaluate(m["offset"], sub, spec, st.instrument) if m["offset"] is not None else None
            fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(tol=1e-10)
        out[name] = {**stored, "n": int(fit.nobs), "params": _params(fit.params)}
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
