"""Report section: item nonresponse multiply imputed, against the complete-case estimates.

When the study declares ``analysis.imputation`` (schemas.study.ImputationSpec), every imputed
variable is estimated twice on the report's final design: among the complete answers (the
estimates page's number, R's ``svymean(~x, na.rm = TRUE)``) and with its missing answers of
the declared kinds ("don't know", no answer) imputed m times by ``analysis.impute`` (chained
equations, predictive mean matching, design variables as predictors), the m estimates combined
by Rubin's rules (``analysis.combine``, Barnard-Rubin df, fraction of missing information).
Rows the item was not asked of stay missing in every completed data set: both estimates
describe the same population, the units the question applies to. Each variable is imputed by
its own ``impute`` call with seed ``seed + i`` (i: its place in ``variables``), so adding a
variable does not change the others' numbers.

One sentence per variable says how the result changes, only as far as the intervals support:
"about the same" when each estimate lies inside the other's 95% CI, otherwise higher or lower.
Disclosure: a row whose complete-case estimate is suppressed on the estimates page (fewer than
k answers, yes or no answers) is suppressed here too, and a number of imputed answers from 1
to k-1 is not shown.

>>> from surveydata.report import data as rdata
>>> rd = rdata.load_data(lang="en")                               # doctest: +SKIP
>>> res = imputation_results(rd, rdata.weighting(rd).final)       # doctest: +SKIP
>>> list(res.columns)[:4]                                          # doctest: +SKIP
['kind', 'n_observed', 'n_imputed', 'cc_estimate']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import analysis
from analysis.imputation import ImputationError, ImputedDesigns
from surveydata.report import data as rdata
from surveydata.report import findings as fd
from surveydata.report.i18n import t

__all__ = ["coded_predictors", "imputable_rows", "imputation_finding", "imputation_results",
           "imputation_section", "imputation_spec", "imputation_table", "imputed_designs", "verdict"]

TEXT: dict[str, dict[str, str]] = {
    "h_imputation": {"de": "Fehlende Angaben: multiple Imputation und vollständige Antworten",
                     "en": "Missing answers: multiple imputation against complete cases"},
    "p_imputation": {
        "de": "„Weiß nicht“ und fehlende Angaben sind {m}-mal imputiert (verkettete Gleichungen, "
              "Predictive Mean Matching; Prädiktoren: {predictors}, dazu Schichten und Gewichte), "
              "die {m} Schätzungen nach Rubins Regeln kombiniert. Wem eine Frage nicht gestellt "
              "wurde, bleibt außen vor. Anteil fehlender Information: der Teil der Varianz, der "
              "auf die fehlenden Angaben zurückgeht. Zellen mit weniger als {k} Befragten sind "
              "gesperrt (•).",
        "en": "\"Don't know\" and missing answers are imputed {m} times (chained equations, "
              "predictive mean matching; predictors: {predictors}, plus strata and weights), "
              "the {m} estimates combined by Rubin's rules. Units not asked the question stay "
              "out. Missing information: the part of the variance due to the missing answers. "
              "Cells of fewer than {k} respondents are suppressed (•)."},
    "f_imputation": {
        "de": "{label}: mit Imputation {mi} ({ci_mi}), unter vollständigen Antworten {cc} "
              "({ci_cc}): {verdict}.",
        "en": "{label}: {mi} with imputation ({ci_mi}), {cc} among complete answers "
              "({ci_cc}): {verdict}."},
    "imp_same": {"de": "etwa gleich (jede Schätzung liegt im 95-%-KI der anderen)",
                 "en": "about the same (each estimate lies inside the other's 95% CI)"},
    "imp_higher": {"de": "höher mit Imputation (die Schätzung aus vollständigen Antworten liegt "
                         "außerhalb des 95-%-KI mit Imputation)",
                   "en": "higher with imputation (the complete-case estimate lies outside the "
                         "imputed 95% CI)"},
    "imp_lower": {"de": "niedriger mit Imputation (die Schätzung aus vollständigen Antworten "
                        "liegt außerhalb des 95-%-KI mit Imputation)",
                  "en": "lower with imputation (the complete-case estimate lies outside the "
                        "imputed 95% CI)"},
    "imp_higher_mi": {"de": "höher mit Imputation (die Schätzung mit Imputation liegt außerhalb "
                            "des 95-%-KI aus vollständigen Antworten)",
                      "en": "higher with imputation (the imputed estimate lies outside the "
                            "complete-case 95% CI)"},
    "imp_lower_mi": {"de": "niedriger mit Imputation (die Schätzung mit Imputation liegt "
                           "außerhalb des 95-%-KI aus vollständigen Antworten)",
                     "en": "lower with imputation (the imputed estimate lies outside the "
                           "complete-case 95% CI)"},
    "h_change": {"de": "Mit Imputation gegenüber vollständigen Antworten",
                 "en": "Imputed against complete cases"},
    "col_cc": {"de": "Vollständige Antworten", "en": "Complete cases"},
    "col_mi": {"de": "Multiple Imputation", "en": "Multiple imputation"},
    "col_n_imputed": {"de": "Imputierte Angaben", "en": "Imputed answers"},
    "col_missing_info": {"de": "Fehlende Information (%)", "en": "Missing information (%)"},
}


def _say(key: str, lang: str, **fields) -> str:
    text = TEXT[key][lang]
    return text.format(**fields) if fields else text


def imputation_spec(rd):
    """The study's ImputationSpec, or None when it declares no imputation."""
    return getattr(getattr(rd.study, "analysis", None), "imputation", None)


def _inputs(rd, var: str) -> list[str]:
    """The items whose answers ``var`` comes from (itself for an item)."""
    try:
        inputs = list(rd.study.derived_variable(var).inputs)
    except KeyError:
        inputs = [d.inputs for d in rd.instrument.derived if d.var == var]
        inputs = list(inputs[0]) if inputs else [var]
    return inputs


def imputable_rows(rd, data: pd.DataFrame, var: str, kinds) -> np.ndarray:
    """Rows of ``data`` whose ``var`` is missing because an answer of ``kinds`` ("dont_know",
    "no_answer") was given: missing, every source item that has a ``__missing`` column answered
    or missing by one of ``kinds``, at least one by ``kinds``. A variable none of whose items
    records why it is missing: every missing value is imputable."""
    missing = data[var].isna().to_numpy()
    reasons = [rd.valid[c].reindex(data.index) for c in (f"{i}__missing" for i in _inputs(rd, var))
               if c in rd.valid]
    if not reasons:
        return missing
    kinds = set(kinds)
    allowed = np.all([r.isna().to_numpy() | r.isin(kinds).to_numpy() for r in reasons], axis=0)
    some = np.any([r.isin(kinds).to_numpy() for r in reasons], axis=0)
    return missing & allowed & some


def coded_predictors(d, predictors) -> tuple[object, list[str]]:
    """The design with every categorical predictor also as its category codes (column
    ``<name>__code``), and the predictor names to impute with: the model matrix then does not
    depend on the labels' language, and both editions impute the same values."""
    extra, names = {}, []
    for p in predictors:
        s = d.data[p]
        if isinstance(s.dtype, pd.CategoricalDtype):
            extra[f"{p}__code"] = pd.Categorical(s.cat.codes.where(s.notna()))  # NA stays NA
            names.append(f"{p}__code")
        else:
            names.append(p)
    return (d.assign(**extra) if extra else d), names


def imputed_designs(rd, d, var: str, spec, index: int):
    """``analysis.impute`` of ``var`` on design ``d`` (seed ``spec.seed + index``; categorical
    predictors by their codes, see :func:`coded_predictors`), with the rows not imputable (not
    asked) set back to missing in every completed design."""

    keep_missing = d.data[var].isna().to_numpy() & ~imputable_rows(rd, d.data, var, spec.missing)
    coded, predictors = coded_predictors(d, spec.predictors)
    try:
        imp = analysis.impute(coded, [var], m=spec.m, seed=spec.seed + index,
                              predictors=predictors)
    except ImputationError as err:
        where = getattr(rd.study, "source", None) or f"study {getattr(rd.study, 'name', '')}"
        raise rdata.ReportDataError(f"{where}: analysis.imputation: "
                                    f"{str(err).replace('__code', '')}") from None
    designs = [c.assign(**{var: c.data[var].where(~keep_missing)}) for c in imp.designs]
    n_imputed = int(imp.n_missing[var] - keep_missing.sum())
    return ImputedDesigns(designs=designs, n_missing={var: n_imputed}, seed=imp.seed)


def _kind(rd, var: str, d) -> str:
    for o in getattr(rd.study.analysis, "outcomes", ()):
        if o.var == var:
            return o.kind
    return "share" if set(d.data[var].dropna().unique()) <= {0.0, 1.0} else "mean"


def imputation_results(rd, d, k: int = 5) -> pd.DataFrame | None:
    """Per imputed variable: complete-case and multiply imputed estimate with 95% CIs, the
    combined df and fraction of missing information, the numbers observed and imputed, and
    ``suppressed`` (the estimates page hides the complete-case row). None without a
    declaration."""
    spec = imputation_spec(rd)
    if spec is None:
        return None
    rows = {}
    for i, var in enumerate(spec.variables):
        if var not in d.data:
            continue
        cc_table = rdata.prevalence(d, [var])
        cc = cc_table.loc[var]
        imp = imputed_designs(rd, d, var, spec, i)
        mi = imp.estimate(lambda x, v=var: x.mean(v, na_rm=True)).iloc[0]
        kind = _kind(rd, var, d)
        rows[var] = {"kind": kind, "n_observed": int(cc["n"]), "n_imputed": imp.n_missing[var],
                     "cc_estimate": float(cc["estimate"]), "cc_ci_low": float(cc["ci_low"]),
                     "cc_ci_high": float(cc["ci_high"]), "mi_estimate": float(mi["estimate"]),
                     "mi_se": float(mi["se"]), "mi_ci_low": float(mi["ci_low"]),
                     "mi_ci_high": float(mi["ci_high"]), "mi_df": float(mi["df"]),
                     "missing_info": float(mi["missing_info"]), "m": imp.m,
                     "suppressed": bool(rdata.too_few(cc_table, k, binary=kind == "share").iloc[0])}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("variable")


def verdict(row) -> tuple[str, str | None]:
    """How an imputed estimate compares with the complete-case one, as far as the 95% CIs
    support: ("same", None) when each estimate lies inside the other's CI, else ("higher" |
    "lower", "cc_outside" | "mi_outside": which estimate lies outside the other's CI; the
    complete-case one when both do)."""
    mi_in_cc = row["cc_ci_low"] <= row["mi_estimate"] <= row["cc_ci_high"]
    cc_in_mi = row["mi_ci_low"] <= row["cc_estimate"] <= row["mi_ci_high"]
    if mi_in_cc and cc_in_mi:
        return "same", None
    change = "higher" if row["mi_estimate"] > row["cc_estimate"] else "lower"
    return change, "cc_outside" if not cc_in_mi else "mi_outside"


def _verdict(row) -> str:
    change, reason = verdict(row)
    return f"imp_{change}" + ("_mi" if reason == "mi_outside" else "")


def imputation_finding(label: str, row: pd.Series, lang: str) -> fd.Finding:
    """One sentence: the imputed against the complete-case estimate, with their CIs and how
    the result changes (as far as the intervals support)."""
    share = row["kind"] == "share"
    fmt = (lambda x: fd.fmt_pct(x, lang)) if share else (lambda x: fd.fmt_num(x, lang, 2))
    ci = (lambda lo, hi: fd.fmt_ci(lo, hi, lang, percent=share, digits=1 if share else 2))
    text = _say("f_imputation", lang, label=label, mi=fmt(row["mi_estimate"]),
                ci_mi=ci(row["mi_ci_low"], row["mi_ci_high"]), cc=fmt(row["cc_estimate"]),
                ci_cc=ci(row["cc_ci_low"], row["cc_ci_high"]), verdict=_say(_verdict(row), lang))
    return fd.Finding(text, {"mi_estimate": float(row["mi_estimate"]),
                             "mi_ci_low": float(row["mi_ci_low"]),
                             "mi_ci_high": float(row["mi_ci_high"]),
                             "cc_estimate": float(row["cc_estimate"]),
                             "cc_ci_low": float(row["cc_ci_low"]),
                             "cc_ci_high": float(row["cc_ci_high"]),
                             "change": verdict(row)[0]})


def imputation_table(results: pd.DataFrame, labels, lang: str, k: int = 5,
                     marker: str = "•") -> pd.DataFrame:
    """The section's table: complete-case and imputed estimate with 95% CI, answers observed
    and imputed, missing information; suppressed cells show the marker."""
    cc, mi, ci = _say("col_cc", lang), _say("col_mi", lang), t("ci", lang)
    est = t("share_pct", lang) if (results["kind"] == "share").all() else t("estimate", lang)
    out = {}
    for var, r in results.iterrows():
        scale, digits = (100, 1) if r["kind"] == "share" else (1, 2)
        num = lambda x, s=scale, dg=digits: fd.fmt_num(s * x, lang, dg)
        span = lambda lo, hi, s=scale, dg=digits: f"{fd.fmt_num(s * lo, lang, dg)}{fd.DASH}{fd.fmt_num(s * hi, lang, dg)}"
        if r["suppressed"]:
            out[labels(var)] = [marker] * 7
            continue
        few = 0 < r["n_imputed"] < k
        out[labels(var)] = [num(r["cc_estimate"]), span(r["cc_ci_low"], r["cc_ci_high"]),
                            fd.fmt_int(r["n_observed"], lang), num(r["mi_estimate"]),
                            span(r["mi_ci_low"], r["mi_ci_high"]),
                            marker if few else fd.fmt_int(r["n_imputed"], lang),
                            fd.fmt_num(100 * r["missing_info"], lang, 1)]
    columns = [f"{cc}: {est}", f"{cc}: {ci}", f"{cc}: n", f"{mi}: {est}",
               f"{mi}: {ci}", _say("col_n_imputed", lang), _say("col_missing_info", lang)]
    return pd.DataFrame.from_dict(out, orient="index", columns=columns)


def imputation_section(rd, d, k: int = 5) -> None:
    """Heading, method paragraph, table and one sentence per imputed variable; nothing when
    the study declares no imputation."""
    from IPython.display import display  # noqa: PLC0415 - IPython only inside a notebook kernel

    results = imputation_results(rd, d, k)
    if results is None or results.empty:
        return
    spec = imputation_spec(rd)
    lang = rd.lang
    predictors = ", ".join(rd.label(p) for p in spec.predictors) or "–"
    display(fd.plain(_say("h_imputation", lang), 2),
            fd.plain(_say("p_imputation", lang, m=spec.m, predictors=predictors, k=k)),
            imputation_table(results, rd.label, lang, k))
    sentences = [imputation_finding(rd.label(v), r, lang) for v, r in results.iterrows()
                 if not r["suppressed"]]
    if sentences:
        display(fd.markdown(sentences, lang, heading=_say("h_change", lang)))
