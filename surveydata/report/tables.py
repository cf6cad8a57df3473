"""Publishable tables: estimates rounded and formatted with their CIs, codes replaced by labels,
and cells based on too few respondents suppressed (see `surveydata.report.disclosure`).

These helpers only present numbers that the analysis produced; they compute no statistic.
Formatting to text with a fixed number of digits keeps notebook outputs stable for nbval.

Examples use R's api data (:mod:`analysis.datasets`) or neutral names: this module is generic.

Example
-------
>>> import pandas as pd
>>> est = pd.DataFrame({"estimate": [0.3124], "se": [0.01], "ci_low": [0.2931], "ci_high": [0.3322]},
...                    index=["yes"])
>>> ci_table(est, lang="en").iloc[0].tolist()
['31.2', '29.3–33.2']
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from surveydata.report import labels
from surveydata.report.disclosure import DEFAULT_K, MARKER, suppression_mask
from surveydata.report.i18n import check_lang, t

DASH = "–"


def localized(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Numbers in a text table written the German way for ``lang="de"`` (1.234,5), else unchanged.

    >>> localized(pd.DataFrame({"x": ["141,655", "29.3–33.2", "<0.001", "•"]}), "de")["x"].tolist()
    ['141.655', '29,3–33,2', '<0,001', '•']
    """
    check_lang(lang)
    if lang != "de":
        return table

    def swap(text):
        if not isinstance(text, str):
            return text
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "\x00", text)  # thousands separator
        text = re.sub(r"(?<=\d)\.(?=\d)", ",", text)
        return text.replace("\x00", ".")

    return table.map(swap)


def _fmt(x: np.ndarray, scale: float, digits: int) -> np.ndarray:
    vals = np.asarray(x, dtype=float) * scale
    return np.array([("" if np.isnan(v) else f"{v:.{digits}f}") for v in vals], dtype=object)


def ci_table(est: pd.DataFrame, lang: str = "en", percent: bool = True, digits: int = 1,
             n: pd.Series | None = None, k: int = DEFAULT_K, marker: str = MARKER,
             suppress: pd.Series | None = None) -> pd.DataFrame:
    """Estimate and 95% CI as text columns, optionally with the respondent count ``n``.

    Rows whose ``n`` is below ``k``, or where ``suppress`` is True, show ``marker`` instead of
    numbers (the count included).

    >>> est = pd.DataFrame({"estimate": [0.5, 0.2], "ci_low": [0.4, 0.1], "ci_high": [0.6, 0.3]},
    ...                    index=["a", "b"])
    >>> ci_table(est, n=pd.Series({"a": 120, "b": 3}), lang="de").loc["b"].tolist()
    ['•', '•', '•']
    """
    check_lang(lang)
    scale = 100.0 if percent else 1.0
    est_text = _fmt(est["estimate"], scale, digits)
    lo, hi = _fmt(est["ci_low"], scale, digits), _fmt(est["ci_high"], scale, digits)
    ci = np.where((lo == "") | (hi == ""), "", lo + DASH + hi)
    out = pd.DataFrame({t("share_pct" if percent else "estimate", lang): est_text,
                        t("ci", lang): ci}, index=est.index)
    if n is not None:
        counts = n.reindex(est.index)
        if counts.isna().any():
            raise ValueError(f"no respondent count for rows {list(counts.index[counts.isna()])}")
        out[t("n", lang)] = [f"{int(v):,}" for v in counts]
        out.loc[(counts < k).to_numpy(), :] = marker
    if suppress is not None:
        out.loc[suppress.reindex(est.index).fillna(True).to_numpy(dtype=bool), :] = marker
    return localized(out, lang)


def ci_cells(est: pd.DataFrame, percent: bool = True, digits: int = 1) -> pd.Series:
    """One text per row: ``estimate (low–high)``, e.g. ``31.2 (29.3–33.2)``.

    >>> est = pd.DataFrame({"estimate": [0.312], "ci_low": [0.293], "ci_high": [0.332]})
    >>> ci_cells(est).tolist()
    ['31.2 (29.3–33.2)']
    """
    scale = 100.0 if percent else 1.0
    e = _fmt(est["estimate"], scale, digits)
    lo, hi = _fmt(est["ci_low"], scale, digits), _fmt(est["ci_high"], scale, digits)
    text = np.where(e == "", "", e + " (" + lo + DASH + hi + ")")
    return pd.Series(text, index=est.index, dtype=object)


def wide(est: pd.DataFrame, columns: str, percent: bool = True, digits: int = 1,
         n: pd.Series | None = None, k: int = DEFAULT_K, marker: str = MARKER,
         suppress: pd.Series | None = None, lang: str = "en") -> pd.DataFrame:
    """Domain estimates as a wide text table: the index level ``columns`` becomes the columns.

    ``n`` (indexed like ``est``) holds each cell's respondent count; cells below ``k`` show
    ``marker``.

    >>> idx = pd.MultiIndex.from_tuples([("E", "yes"), ("H", "yes")], names=["stype", "level"])
    >>> est = pd.DataFrame({"estimate": [0.3, 0.2], "ci_low": [0.2, 0.1], "ci_high": [0.4, 0.3]}, index=idx)
    >>> wide(est, "stype", n=pd.Series([50, 4], index=idx)).loc["yes"].tolist()
    ['30.0 (20.0–40.0)', '•']
    """
    cells = ci_cells(est, percent, digits)
    if n is not None:
        counts = n.reindex(est.index)
        if counts.isna().any():
            raise ValueError(f"no respondent count for cells {list(counts.index[counts.isna()])}")
        cells = cells.where(~(counts < k).to_numpy(), marker)
    if suppress is not None:
        cells = cells.where(~suppress.reindex(est.index).fillna(True).to_numpy(dtype=bool), marker)
    # keep the order of first appearance of rows and columns (unstack would sort them)
    levels = cells.index.names
    rows_level = [n for n in levels if n != columns]
    col_order = list(dict.fromkeys(cells.index.get_level_values(columns)))
    row_order = list(dict.fromkeys(cells.index.droplevel(columns)))
    table = cells.unstack(columns)
    table = table.loc[row_order, col_order]
    table.columns.name = None
    table.index.names = rows_level
    return localized(table, lang)


def label_index(frame: pd.DataFrame, inst, lang: str = "en", variables: dict | None = None) -> pd.DataFrame:
    """Codes in the index replaced by the instrument's answer labels, variable names by item texts.

    Index levels named like an instrument item get that item's labels; a ``level`` level next
    to a ``variable`` level gets the labels of the row's variable; a ``variable`` level gets
    ``variables[name]`` if given (short names for long question texts), else the name.

    >>> label_index(pd.DataFrame({"x": [1]}, index=pd.Index([2], name="region")), inst, "en")  # doctest: +SKIP
    """
    check_lang(lang)
    variables = variables or {}
    names = list(frame.index.names)
    tuples = [i if isinstance(i, tuple) else (i,) for i in frame.index]

    def label(var, code):
        try:
            item = inst.item(var)
        except (KeyError, ValueError):
            return code
        try:
            return item.label(code, lang)
        except (KeyError, ValueError):
            return code

    new = []
    for tup in tuples:
        row = dict(zip(names, tup))
        out = []
        for name, value in zip(names, tup):
            if name == "level" and "variable" in row:
                out.append(label(row["variable"], value))
            elif name == "variable":
                out.append(variables.get(value, value))
            elif name is not None and _has_item(inst, name):
                out.append(label(name, value))
            else:
                out.append(value)
        new.append(tuple(out))
    index = (pd.MultiIndex.from_tuples(new, names=names) if len(names) > 1
             else pd.Index([n[0] for n in new], name=names[0]))
    result = frame.copy()
    result.index = index
    return result


def _has_item(inst, name: str) -> bool:
    try:
        inst.item(name)
    except (KeyError, ValueError):
        return False
    return True


def p_text(p: float) -> str:
    """A p value as published: three decimals, or "<0.001".

    >>> p_text(0.00004), p_text(0.0412)
    ('<0.001', '0.041')
    """
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def _var_label(var: str, lang: str, study=None) -> str:
    """A variable's short label in ``study``'s declaration (None: the packaged default study)."""

    return labels.short_label(var, lang, study)


def _term_label(term: str, lang: str, study=None) -> str:
    return labels.term_label(term, lang, study)


def coefficients(fit, lang: str = "en", drop=("Intercept",), study=None) -> pd.DataFrame:
    """Model coefficients as an estimator frame (estimate, ci_low, ci_high, p) with readable terms
    (short labels of ``study``, default: the packaged study).

    Works for svyglm and svyolr results (cut points ``a|b`` of an ordinal model are dropped).
    """
    ci = fit.conf_int()
    frame = pd.DataFrame({"estimate": fit.params, "ci_low": ci.iloc[:, 0], "ci_high": ci.iloc[:, 1],
                          "p": fit.pvalues})
    keep = [i for i in frame.index if i not in drop and "|" not in str(i)]
    frame = frame.loc[keep]
    frame.index = pd.Index([_term_label(str(i), lang, study) for i in frame.index], name=t("term", lang))
    return frame


def relabel(frame: pd.DataFrame, lang: str = "en", level: str = "variable", study=None) -> pd.DataFrame:
    """Analysis variable names in the index level ``level`` replaced by their short labels.

    >>> relabel(pd.DataFrame({"x": [1]}, index=pd.Index(["api00"], name="variable")), "en").index.tolist()
    ['api00']
    """
    out = frame.copy()
    names = [t("measure", lang) if n == level else n for n in out.index.names]
    if isinstance(out.index, pd.MultiIndex):
        pos = out.index.names.index(level)
        out.index = out.index.set_levels(
            [_var_label(str(v), lang, study) for v in out.index.levels[pos]], level=pos,
            verify_integrity=False)
    else:
        out.index = pd.Index([_var_label(str(v), lang, study) for v in out.index])
    out.index.names = names
    return out


def weight_summary(designs: dict, lang: str = "en") -> pd.DataFrame:
    """Kish diagnostics of several weightings side by side, rounded: one column per design."""
    rows = {}
    for name, design in designs.items():
        s = design.weight_diagnostics().summary
        rows[name] = {"n": f"{s['n']:,.0f}", "sum": f"{s['sum']:,.0f}", "min": f"{s['min']:.1f}",
                      "max": f"{s['max']:.1f}", "max/min": f"{s['ratio']:.1f}",
                      "n_eff (Kish)": f"{s['n_eff']:,.0f}", "deff (Kish)": f"{s['deff_w']:.3f}"}
    return localized(pd.DataFrame(rows), lang)


def protect_counts_column(counts: pd.Series, k: int = DEFAULT_K) -> pd.Series:
    """Which categories of a one-way count table (whose total is published) to suppress:
    1 to k-1 respondents, plus the smallest others needed so none follows from the total.

    >>> protect_counts_column(pd.Series({"a": 3, "b": 40, "c": 57}), k=5).tolist()
    [True, True, False]
    """

    mask = suppression_mask(counts.to_frame("n"), k, row_totals=False, col_totals=True)
    return mask["n"].iloc[:-1].astype(bool)


def protected_shares(shares: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """Composition shares with ``sample`` and ``weighted`` set missing where the respondent
    count ``n`` is too small (see :func:`protect_counts_column`; the shares add up to 100 %, so
    a lone suppressed share would follow from the others). ``population`` stays: it is public.
    """
    hide = protect_counts_column(shares["n"], k).to_numpy()
    out = shares.drop(columns="n").copy()
    for col in ("sample", "weighted"):
        if col in out:
            out.loc[hide, col] = np.nan
    return out


def shares_table(shares: pd.DataFrame, lang: str = "en", digits: int = 1,
                 marker: str = MARKER) -> pd.DataFrame:
    """Composition shares (sample, population, weighted) in percent as text, translated headers;
    missing shares (suppressed, see :func:`protected_shares`) show ``marker``."""
    names = {"sample": t("sample", lang), "population": t("population", lang),
             "weighted": t("sample_weighted", lang)}
    return localized(pd.DataFrame({names.get(c, c): [marker if np.isnan(v) else f"{100 * v:.{digits}f}"
                                                     for v in shares[c]]
                                   for c in shares.columns if c != "n"}, index=shares.index), lang)


def odds_ratio_table(fit, lang: str = "en", digits: int = 2, ratio: str = "OR",
                     reference: bool = True, study=None) -> pd.DataFrame:
    """Odds ratios with 95% CIs and p values as text, one row per term (intercept left out).

    With ``reference`` (default), every categorical variable gets a row for its reference
    category, "1 (ref.)", just before its other categories: the ratios are relative to it.

    >>> odds_ratio_table(fit, "en").columns.tolist()   # doctest: +SKIP
    ['OR', '95% CI', 'p value']
    """
    c = coefficients(fit, lang, study=study)
    e = np.exp(c[["estimate", "ci_low", "ci_high"]])
    out = pd.DataFrame({ratio: [f"{x:.{digits}f}" for x in e["estimate"]],
                        t("ci", lang): [f"{lo:.{digits}f}{DASH}{hi:.{digits}f}"
                                        for lo, hi in zip(e["ci_low"], e["ci_high"])],
                        t("p_value", lang): [p_text(p) for p in c["p"]]}, index=c.index)
    if reference:
        refs = reference_levels(fit)
        rows, index = [], []
        done = set()
        for raw, label in zip(_raw_terms(fit, c), out.index):
            var = _categorical_var(raw)
            if var in refs and var not in done:
                done.add(var)
                rows.append({ratio: t("ref", lang), t("ci", lang): "", t("p_value", lang): ""})
                index.append(_term_label(f"C({var})[T.{refs[var]}]", lang, study))
            rows.append(out.loc[label].to_dict())
            index.append(label)
        out = pd.DataFrame(rows, index=pd.Index(index, name=out.index.name))
    return localized(out, lang)


def _raw_terms(fit, c: pd.DataFrame) -> list[str]:
    """The coefficient names behind the rows of :func:`coefficients` (same order)."""
    return [str(i) for i in fit.params.index if i != "Intercept" and "|" not in str(i)][: len(c)]


def _categorical_var(term: str) -> str | None:
    m = re.fullmatch(r"C\((\w+)[^)]*\)\[T\.(.*)\]", term)
    return m.group(1) if m else None


def reference_levels(fit) -> dict[str, str]:
    """The reference category of every ``C(var)`` term of a fitted model: the level of ``var``
    (in the model's rows) that has no coefficient of its own.

    >>> from analysis import SurveyDesign, datasets, svyglm
    >>> d = SurveyDesign(datasets.load("apistrat"), weights="pw", strata="stype", fpc="fpc")
    >>> reference_levels(svyglm("api00 ~ ell + C(stype)", d))
    {'stype': 'E'}
    """
    data = getattr(getattr(fit, "design", None), "data", None)
    if data is None:
        return {}
    used = getattr(fit, "used", None)
    rows = data if used is None else data.loc[np.asarray(used, dtype=bool)]
    coded: dict[str, set[str]] = {}
    for term in map(str, fit.params.index):
        var = _categorical_var(term)
        if var:
            coded.setdefault(var, set()).add(term.split("[T.", 1)[1][:-1])
    out = {}
    for var, levels in coded.items():
        if var not in rows:
            continue
        col = rows[var]
        cats = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
                else sorted(col.dropna().unique(), key=str))
        present = set(map(str, col.dropna().unique()))
        missing = [str(x) for x in cats if str(x) not in levels and str(x) in present]
        if missing:
            out[var] = missing[0]
    return out


def model_note(fit, lang: str = "en", labels=None, study=None) -> str:
    """What a model table needs said beside it, as one paragraph in ``lang``: how many rows the
    fit used of how many, which variables' missing values left the others out (with counts),
    and the unit of every numeric term's ratio (yes vs no for 0/1 variables; per change from 0
    to 1, i.e. from 0 % to 100 %, for shares; per unit otherwise).

    ``labels`` maps variable names to readable names (default: the short labels of ``study``,
    None: the packaged default study).

    >>> from analysis import SurveyDesign, datasets, svyglm
    >>> api = datasets.load("apistrat")
    >>> api = api.assign(wide=(api["sch.wide"] == "Yes").astype(float), ell_share=api["ell"] / 100,
    ...                  class_size=api["acs.46"])
    >>> d = SurveyDesign(api, weights="pw", strata="stype", fpc="fpc")
    >>> fit = svyglm("wide ~ ell_share + class_size + C(stype)", d, family="quasibinomial")
    >>> print(model_note(fit, "en", labels={"ell_share": "English learners", "class_size": "Class size"}))
    n = 134 of 200 respondents in the model. 66 left out for a missing value in: Class size (66). Units of the coefficients: English learners: change from 0 to 1 (0% to 100%); Class size: per 1 unit (range 20 to 46).
    """
    def name(var):
        if labels is None:
            return _var_label(var, lang, study)
        return str(labels.get(var, var)) if hasattr(labels, "get") else str(labels(var))

    def count(n):
        text = f"{int(n):,}"
        return text.replace(",", ".") if lang == "de" else text

    data = fit.design.data
    used = np.asarray(getattr(fit, "used", np.ones(len(data), dtype=bool)), dtype=bool)
    n_all, n_used = len(data), int(fit.nobs)
    variables = [v for v in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", str(fit.formula))) if v in data]
    dropped = [(v, int(data[v].isna().sum())) for v in variables if data[v].isna().any()]
    dropped.sort(key=lambda x: -x[1])
    parts = [t("model_n", lang, used=count(n_used), all=count(n_all))]
    if n_used < n_all and dropped:
        parts.append(t("model_dropped", lang, n=count(n_all - n_used),
                       vars=", ".join(f"{name(v)} ({count(n)})" for v, n in dropped)))
    units = []
    rows = data.loc[used]
    response = set(re.findall(r"[A-Za-z_]\w*", str(fit.formula).split("~")[0]))
    for v in variables:
        if (v in response or not pd.api.types.is_numeric_dtype(rows[v])
                or re.search(rf"C\(\s*{re.escape(v)}\b", str(fit.formula))):
            continue
        x = rows[v].dropna()
        if len(x) == 0:
            continue
        if set(np.unique(x)) <= {0, 1}:
            units.append(t("unit_binary", lang, var=name(v)))
        elif x.min() >= 0 and x.max() <= 1:
            units.append(t("unit_share", lang, var=name(v)))
        else:
            lo, hi = (f"{v:g}".replace(".", ",") if lang == "de" else f"{v:g}" for v in (x.min(), x.max()))
            units.append(t("unit_per_one", lang, var=name(v), lo=lo, hi=hi))
    if units:
        parts.append(t("model_units", lang) + " " + "; ".join(units) + ".")
    return " ".join(parts)


def blocks_table(blocks: pd.DataFrame, lang: str = "en", names=None) -> pd.DataFrame:
    """The block comparison (analysis.compare_blocks) rounded for publication; any number of
    blocks of any names, each row named by ``names(block)`` (the report passes the analysis
    plan's label) or by the block's name."""
    out = pd.DataFrame({
        "F": blocks["F"].map(lambda x: f"{x:.2f}"),
        "df": blocks["df"].map(lambda x: f"{x:g}"),
        t("p_value", lang): blocks["p"].map(p_text),
        "mean |std. effect|" if lang == "en" else "mittl. |std. Effekt|":
            blocks["std_effect_mean_abs"].map(lambda x: f"{x:.3f}"),
        "ΔD²": blocks["delta_d2"].map(lambda x: f"{x:.3f}"),
    })
    out.index = pd.Index([names(b) if names is not None else str(b) for b in blocks.index],
                         name=t("block", lang))
    return localized(out, lang)


def nonresponse_hidden(nonresponse: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """Which of ``asked``, ``dont_know`` and ``no_answer`` to suppress, per item.

    The estimates page publishes each item's answered count (its n), and asked = answered +
    don't know + no answer: a lone suppressed count of 1 to k-1 would follow from the others.
    Each item is protected as a one-way table with its total, ``answered`` counted as published
    (see surveydata.report.disclosure; the tables are recorded for the report's disclosure audit).

    >>> nr = pd.DataFrame({"asked": [100], "dont_know": [3], "no_answer": [10]}, index=["x"])
    >>> nonresponse_hidden(nr).loc["x"].tolist()   # 3 = 100 - 87 - 10: the 10 goes too
    [False, True, True]
    """

    out = {}
    parts = ["answered", "dont_know", "no_answer"]
    for item, r in nonresponse.iterrows():
        counts = pd.DataFrame({"n": [int(r["asked"] - r["dont_know"] - r["no_answer"]),
                                     int(r["dont_know"]), int(r["no_answer"])]},
                              index=pd.Index(parts, name=str(item)))
        known = pd.DataFrame({"n": [True, False, False]}, index=counts.index)
        mask = suppression_mask(counts, k, row_totals=False, col_totals=True, published=known,
                                name=f"nonresponse {item}")["n"]
        out[item] = [bool(mask.iloc[-1]), bool(mask["dont_know"]), bool(mask["no_answer"])]
    return pd.DataFrame.from_dict(out, orient="index", columns=["asked", "dont_know", "no_answer"],
                                  dtype=bool).reindex(nonresponse.index)


def nonresponse_table(nonresponse: pd.DataFrame, lang: str = "en", k: int = DEFAULT_K,
                      marker: str = MARKER) -> pd.DataFrame:
    """Item nonresponse as published: asked, % don't know, % no answer.

    A count of 1 to k-1 respondents is suppressed, with what would give it away
    (:func:`nonresponse_hidden`).
    """
    hidden = nonresponse_hidden(nonresponse, k)

    def pct(col):
        share = nonresponse[col] / nonresponse["asked"]
        return np.where(hidden[col], marker, [f"{100 * s:.1f}" for s in share])

    return localized(pd.DataFrame({t("asked", lang): np.where(hidden["asked"], marker,
                                                              nonresponse["asked"].astype(str)),
                                   t("dont_know", lang) + " (%)": pct("dont_know"),
                                   t("no_answer", lang) + " (%)": pct("no_answer")},
                                  index=nonresponse.index), lang)


def nonresponse_shares(nonresponse: pd.DataFrame, lang: str = "en",
                       k: int = DEFAULT_K) -> dict[str, pd.DataFrame]:
    """Don't-know and no-answer shares as plot series (suppressed shares are missing)."""
    hidden = nonresponse_hidden(nonresponse, k)
    out = {}
    for col in ("dont_know", "no_answer"):
        share = (nonresponse[col] / nonresponse["asked"]).where(~hidden[col])
        out[t(col, lang)] = pd.DataFrame({"estimate": share, "ci_low": np.nan, "ci_high": np.nan})
    return out


def protected_rates(rates: pd.DataFrame, k: int = DEFAULT_K) -> pd.DataFrame:
    """Response rates with ``n_valid`` and ``rate`` missing where too few responded (see
    :func:`protect_counts_column`; the valid total is published)."""
    hide = protect_counts_column(rates["n_valid"], k).to_numpy()
    out = rates.astype({"n_valid": float, "rate": float})
    out.loc[hide, ["n_valid", "rate"]] = np.nan
    return out


def response_table(rates: pd.DataFrame, lang: str = "en", marker: str = MARKER) -> pd.DataFrame:
    """Invited, valid responses and response rate (%) as text; missing values show ``marker``."""
    def text(values, fmt):
        return [marker if pd.isna(v) else fmt(v) for v in values]

    return localized(pd.DataFrame({t("invited", lang): text(rates["n_invited"], lambda v: f"{v:,.0f}"),
                                   t("n_respondents", lang): text(rates["n_valid"], lambda v: f"{v:,.0f}"),
                                   t("response_rate", lang): text(rates["rate"],
                                                                  lambda v: f"{100 * v:.1f}")},
                                  index=rates.index), lang)


def rate_estimates(rates: pd.DataFrame) -> pd.DataFrame:
    """Response rates as a plot frame (no confidence interval: a rate of a known sample)."""
    return pd.DataFrame({"estimate": rates["rate"], "ci_low": np.nan, "ci_high": np.nan})


def standardised(blocks: pd.DataFrame, lang: str = "en", study=None, names=None) -> dict[str, pd.DataFrame]:
    """Standardised effects of a block comparison for a forest plot, one series per block.

    Every series has all terms (controls left out) as rows, with values only for its own block,
    so that the plot colours the terms by block. Series are named by ``names(block)``, else the
    label ``study``'s analysis plan declares for the block, else the block's name.
    """

    eff = blocks.attrs["effects"]
    eff = eff[eff["block"] != "control"]
    terms = pd.Index([_term_label(str(i), lang, study) for i in eff.index])
    out = {}
    for block in dict.fromkeys(eff["block"]):
        mine = (eff["block"] == block).to_numpy()
        frame = pd.DataFrame({"estimate": eff["std_effect"].to_numpy(), "ci_low": eff["ci_low"].to_numpy(),
                              "ci_high": eff["ci_high"].to_numpy()}, index=terms)
        frame.loc[~mine, :] = np.nan
        out[names(block) if names is not None else _block_label(str(block), lang, study)] = frame
    return out


def _block_label(block: str, lang: str, study=None) -> str:
    """The label the analysis plan declares for a block (``block_labels``), else its name."""
    return labels.plan_label(study, "block_labels", block, lang) or block


def margins_frame(margins: dict, lang: str = "en", study=None) -> pd.DataFrame:
    """Predictive margins of several 0/1 variables in one frame, rows "<variable>: yes/no"."""

    frames = []
    for var, pm in margins.items():
        f = pd.DataFrame(pm)[["estimate", "se", "ci_low", "ci_high"]]
        f.index = [f"{_var_label(var, lang, study)}: {t('yes' if int(v) == 1 else 'no', lang)}"
                   for v in f.index]
        frames.append(f)
    return pd.concat(frames)
