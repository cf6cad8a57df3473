"""Report section: a planned model fitted with multiple imputation, against complete cases.

A model fitted to survey data drops every row with a missing outcome or predictor. When the
study lists the model under ``analysis.imputation.models`` (schemas.study.ImputationSpec), the
missing answers of its variables (outcome, predictors, offset) of the declared kinds ("don't
know", no answer) are imputed m times by ``analysis.impute`` - jointly, by chained equations,
each variable predicted from the model's other variables, the declared complete ``predictors``
and the design (strata, log weight) - and the model (svyglm, or svyolr for an ordinal family)
is fitted on each completed design; Rubin's rules combine the m fits (``analysis.combine``:
coefficients, covariance T = U + (1 + 1/m) B, Barnard-Rubin df with the fit's residual df as
complete-data df, fraction of missing information), as R's
``MIcombine(with(imputationList(...), svyglm(...)), df.complete = df.residual)``.

Rows where a model variable is missing for another reason (the question was not asked) are not
imputed (``impute(rows=)``) and stay out of every fit, as they stay out of the complete-case fit:
both fits describe the same population. So do rows missing a category without an order (an
unordered categorical with more than two levels, which predictive mean matching cannot impute);
a sentence names them and their count. The model's imputations use seed ``seed + 1000 (j + 1)``
(j: the model's place in ``models``), so neither the estimates' imputations nor another model
change its numbers.

One sentence per key coefficient (the terms not among the study's ``controls``) says how it
changes, only as far as the intervals support, with the rule of the estimates' section:
"about the same" when each estimate lies inside the other's 95% CI, otherwise higher or lower.
Ratios (odds ratios, rate ratios) are compared on their own scale; the rule gives the same
answer on the log scale, since exp() keeps the order.

The block comparison (``block_imputation``: all blocks and the controls in one svyglm) is
treated the same way; each block's Wald test among complete cases (R's regTermTest) is set beside
the test pooled over the completed fits (D1, ``analysis.imputation.pooled_wald_test``), and one
sentence says whether the two agree at the 5% level.

>>> from surveydata.report import data as rdata
>>> rd = rdata.load_data(lang="en")                                     # doctest: +SKIP
>>> name = rd.study.analysis.imputation.models[0]                        # doctest: +SKIP
>>> res = model_imputation(rd, rdata.weighting(rd).final, name)         # doctest: +SKIP
>>> res.n_complete < res.n_imputed <= res.n_all                         # doctest: +SKIP
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import analysis
from analysis.imputation import ImputationError, pooled_wald_test
from surveydata.report import data as rdata
from surveydata.report import findings as fd
from surveydata.report import labels as lb
from surveydata.report import pages_imputation as pi
from surveydata.report.i18n import t

__all__ = [
    "BlockImputation",
    "ModelImputation",
    "block_finding",
    "block_findings",
    "block_imputation",
    "block_imputation_section",
    "block_imputation_table",
    "block_verdict",
    "coefficient_finding",
    "imputed_models",
    "kept_out_finding",
    "key_terms",
    "model_findings",
    "model_imputation",
    "model_imputation_section",
    "model_imputation_table",
    "model_variables",
    "n_finding",
]

#: seeds of the model imputations: seed + SEED_STEP (j + 1), apart from the estimates' seed + i
SEED_STEP = 1000

TEXT: dict[str, dict[str, str]] = {
    "h_model": {"de": "{label}: mit multipler Imputation", "en": "{label}: with multiple imputation"},
    "p_model": {
        "de": "Dasselbe Modell zweimal: unter vollständigen Fällen (jede Zeile mit einer fehlenden "
              "Angabe fällt weg) und mit den fehlenden Angaben („weiß nicht“, keine Angabe) seiner "
              "Variablen {m}-mal imputiert (verkettete Gleichungen, Predictive Mean Matching; "
              "Prädiktoren: die übrigen Modellvariablen, {predictors}, Schichten und Gewichte), "
              "das Modell auf jedem vervollständigten Datensatz geschätzt und nach Rubins Regeln "
              "kombiniert. Wem eine Frage nicht gestellt wurde, bleibt in beiden außen vor.",
        "en": "The same model twice: among complete cases (every row with a missing answer drops "
              "out) and with the missing answers (\"don't know\", no answer) of its variables "
              "imputed {m} times (chained equations, predictive mean matching; predictors: the "
              "model's other variables, {predictors}, strata and weights), the model fitted on "
              "each completed data set and the fits combined by Rubin's rules. Units not asked a "
              "question stay out of both."},
    "f_n": {"de": "Verwendete Fälle: {n_cc} von {n_all} unter vollständigen Fällen, {n_mi} mit "
                  "Imputation ({imputed} Angaben imputiert, m = {m}).",
            "en": "Rows used: {n_cc} of {n_all} among complete cases, {n_mi} with imputation "
                  "({imputed} answers imputed, m = {m})."},
    "f_coef": {"de": "{label}: {what} {mi} mit Imputation ({ci_mi}), {cc} unter vollständigen "
                     "Fällen ({ci_cc}): {verdict}.",
               "en": "{label}: {what} {mi} with imputation ({ci_mi}), {cc} among complete cases "
                     "({ci_cc}): {verdict}."},
    "same": {"de": "etwa gleich (jede Schätzung liegt im 95-%-KI der anderen)",
             "en": "about the same (each estimate lies inside the other's 95% CI)"},
    "higher": {"de": "höher mit Imputation", "en": "higher with imputation"},
    "lower": {"de": "niedriger mit Imputation", "en": "lower with imputation"},
    "cc_outside": {"de": "die Schätzung aus vollständigen Fällen liegt außerhalb des 95-%-KI mit "
                         "Imputation",
                   "en": "the complete-case estimate lies outside the imputed 95% CI"},
    "mi_outside": {"de": "die Schätzung mit Imputation liegt außerhalb des 95-%-KI aus "
                         "vollständigen Fällen",
                   "en": "the imputed estimate lies outside the complete-case 95% CI"},
    "f_kept_out": {"de": "Nicht imputiert (Kategorien ohne Ordnung): {what}; diese Fälle fehlen in "
                         "beiden Schätzungen.",
                   "en": "Not imputed (categories without an order): {what}; these rows are out of "
                         "both fits."},
    "kept_out_one": {"de": "{label} fehlt in {n} Fällen", "en": "{label} missing in {n} rows"},
    "h_blocks": {"de": "Blöcke mit multipler Imputation: {label}",
                 "en": "Blocks with multiple imputation: {label}"},
    "p_blocks": {
        "de": "Der Wald-Test jedes Blocks im Modell mit allen Blöcken und den Kontrollvariablen, "
              "unter vollständigen Fällen und mit {m}-mal imputierten fehlenden Angaben (über die "
              "Imputationen kombiniert: D1-Statistik nach Li, Raghunathan und Rubin).",
        "en": "The Wald test of each block in the model with all blocks and the controls, among "
              "complete cases and with the missing answers imputed {m} times (pooled over the "
              "imputations: the D1 statistic of Li, Raghunathan and Rubin)."},
    "f_block": {"de": "{label}: F = {f_cc} ({p_cc}) unter vollständigen Fällen, F = {f_mi} ({p_mi}) "
                      "mit Imputation: {verdict}.",
                "en": "{label}: F = {f_cc} ({p_cc}) among complete cases, F = {f_mi} ({p_mi}) with "
                      "imputation: {verdict}."},
    "b_both": {"de": "in beiden auf dem 5-%-Niveau mit dem Ergebnis verbunden",
               "en": "associated with the outcome at the 5% level in both"},
    "b_neither": {"de": "in keiner der beiden auf dem 5-%-Niveau mit dem Ergebnis verbunden",
                  "en": "not associated with the outcome at the 5% level in either"},
    "b_cc_only": {"de": "auf dem 5-%-Niveau nur unter vollständigen Fällen mit dem Ergebnis verbunden",
                  "en": "associated with the outcome at the 5% level among complete cases only"},
    "b_mi_only": {"de": "auf dem 5-%-Niveau nur mit Imputation mit dem Ergebnis verbunden",
                  "en": "associated with the outcome at the 5% level with imputation only"},
    "col_f": {"de": "F", "en": "F"},
    "col_p": {"de": "p", "en": "p"},
    "h_change": {"de": "Mit Imputation gegenüber vollständigen Fällen",
                 "en": "Imputed against complete cases"},
    "col_cc": {"de": "Vollständige Fälle", "en": "Complete cases"},
    "col_mi": {"de": "Multiple Imputation", "en": "Multiple imputation"},
    "col_missing_info": {"de": "Fehlende Information (%)", "en": "Missing information (%)"},
    "coefficient": {"de": "Koeffizient", "en": "Coefficient"},
    "OR": {"de": "OR", "en": "OR"},
    "RR": {"de": "RR", "en": "RR"},
}


def _say(key: str, lang: str, **fields) -> str:
    text = TEXT[key][lang]
    return text.format(**fields) if fields else text


@dataclass
class ModelImputation:
    """A planned model fitted among complete cases (``complete``) and on m completed designs
    combined by Rubin's rules (``combined``: estimate, se, ci_low, ci_high, df, missing_info per
    coefficient); ``comparison`` puts both side by side per coefficient (``key``: not a control)."""

    model: rdata.Model
    complete: object
    combined: pd.DataFrame
    comparison: pd.DataFrame
    n_all: int
    n_complete: int
    n_imputed: int
    imputed: dict
    m: int
    kept_out: dict = field(default_factory=dict)


def model_variables(model: rdata.Model, data: pd.DataFrame) -> list[str]:
    """The columns of ``data`` a model uses (response, predictors, offset), in formula order."""
    text = model.formula + (f" + {model.offset}" if model.offset else "")
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text)
    return list(dict.fromkeys(n for n in names if n in data.columns))


def imputed_models(rd) -> list[rdata.Model]:
    """The planned models the study fits with imputation (``analysis.imputation.models``)."""
    spec = pi.imputation_spec(rd)
    names = tuple(getattr(spec, "models", ()) or ()) if spec is not None else ()
    planned = {m.name: m for m in rdata.models(rd)}
    return [planned[n] for n in names if n in planned]


def key_terms(names, controls) -> list[str]:
    """Coefficients that are not the intercept, a cut point or a term of ``controls``."""
    controls = list(controls)

    def control(name):
        return any(name == c or name.startswith(f"{c}[") for c in controls)
    return [n for n in map(str, names) if n != "Intercept" and "|" not in n and not control(n)]


def _error(rd, what: str, err) -> rdata.ReportDataError:
    where = getattr(rd.study, "source", None) or f"study {getattr(rd.study, 'name', '')}"
    return rdata.ReportDataError(f"{where}: analysis.imputation.models: {what}: "
                                 f"{str(err).replace('__code', '')}")


def _nominal(col: pd.Series) -> bool:
    """Categories without an order (more than two): predictive mean matching cannot impute them."""
    return (isinstance(col.dtype, pd.CategoricalDtype) and not col.cat.ordered
            and len(col.cat.categories) > 2)


@dataclass
class _Imputed:
    designs: list
    imputed: dict       # variable -> answers imputed
    kept_out: dict      # nominal variable -> rows missing it (out of both fits)
    m: int


def _impute_variables(rd, d, variables, seed: int, where: str) -> _Imputed:
    """The declared kinds of missing answers of ``variables`` imputed jointly within the rows
    that have no other gaps: a gap of another kind (not asked) or in a category without order
    keeps its row out (of the complete-case fit too, which drops every row with a gap)."""

    spec = pi.imputation_spec(rd)
    data = d.data
    gaps = [v for v in variables if data[v].isna().any()]
    structural = np.zeros(len(data), dtype=bool)
    kept_out = {}
    for v in gaps:
        gap = data[v].isna().to_numpy()
        if _nominal(data[v]):
            kept_out[v] = int(gap.sum())
            structural |= gap
        else:
            structural |= gap & ~pi.imputable_rows(rd, data, v, spec.missing)
    rows = ~structural
    # imputed: what has gaps among those rows; the rest is complete there and predicts
    todo = [v for v in gaps if v not in kept_out and (data[v].isna().to_numpy() & rows).any()]
    complete = list(dict.fromkeys([*spec.predictors, *(v for v in variables if v not in todo)]))
    coded, predictors = pi.coded_predictors(d, complete)
    try:
        imp = analysis.impute(coded, todo, m=spec.m, seed=seed, predictors=predictors, rows=rows)
    except ImputationError as err:
        raise _error(rd, where, err) from None
    return _Imputed(imp.designs, dict(imp.n_missing), kept_out, imp.m)


def model_imputation(rd, d, name: str) -> ModelImputation:
    """Fit the planned model ``name`` among complete cases and with its variables' missing
    answers imputed (see the module docstring); raises ReportDataError (one line) when the
    study declares no imputation or a variable cannot be imputed."""

    spec = pi.imputation_spec(rd)
    names = tuple(getattr(spec, "models", ()) or ()) if spec is not None else ()
    if name not in names:
        raise rdata.ReportDataError(f"model {name}: not listed under analysis.imputation.models "
                                    f"({', '.join(names) or 'none'}); add it there to fit it with "
                                    f"imputation")
    model = next(m for m in rdata.models(rd) if m.name == name)
    imp = _impute_variables(rd, d, model_variables(model, d.data),
                            spec.seed + SEED_STEP * (names.index(name) + 1), f"model {name}")
    fits = [rdata.fit(model, c) for c in imp.designs]
    combined = analysis.combine(fits, df_complete=float(fits[0].df_resid))
    cc = rdata.fit(model, d)
    ci = cc.conf_int()
    comparison = pd.DataFrame({
        "cc_estimate": cc.params, "cc_se": cc.bse, "cc_ci_low": ci.iloc[:, 0],
        "cc_ci_high": ci.iloc[:, 1], "mi_estimate": combined["estimate"].to_numpy(),
        "mi_se": combined["se"].to_numpy(), "mi_ci_low": combined["ci_low"].to_numpy(),
        "mi_ci_high": combined["ci_high"].to_numpy(), "mi_df": combined["df"].to_numpy(),
        "missing_info": combined["missing_info"].to_numpy()}, index=cc.params.index.astype(str))
    if list(combined.index.astype(str)) != list(comparison.index):
        raise rdata.ReportDataError(f"model {name}: the imputed fits estimate other coefficients "
                                    f"than the complete-case fit (a category unobserved in one)")
    comparison["key"] = comparison.index.isin(key_terms(comparison.index, rdata.controls(rd)))
    comparison["change"] = [pi.verdict(r)[0] for _, r in comparison.iterrows()]
    return ModelImputation(model, cc, combined, comparison, n_all=int((d.weights > 0).sum()),
                           n_complete=int(cc.nobs), n_imputed=int(fits[0].nobs),
                           imputed=imp.imputed, m=imp.m, kept_out=imp.kept_out)


def _scale(ratio: str | None):
    """The coefficient as shown: exp() for a ratio (odds or rate ratio), as is otherwise."""
    return np.exp if ratio else (lambda x: x)


def coefficient_finding(label: str, row: pd.Series, lang: str, ratio: str | None = None) -> fd.Finding:
    """One sentence per coefficient: imputed and complete-case estimate with their 95% CIs (as
    odds/rate ratios when ``ratio``) and how it changes, as far as the intervals support."""
    f = _scale(ratio)
    num = lambda x: fd.fmt_num(f(x), lang, 2)
    ci = lambda lo, hi: fd.fmt_ci(f(lo), f(hi), lang, percent=False, digits=2)
    change, reason = pi.verdict(row)
    said = _say(change, lang) + (f" ({_say(reason, lang)})" if reason else "")
    what = _say(ratio, lang) if ratio else _say("coefficient", lang)
    text = _say("f_coef", lang, label=label, what=what, mi=num(row["mi_estimate"]),
                ci_mi=ci(row["mi_ci_low"], row["mi_ci_high"]), cc=num(row["cc_estimate"]),
                ci_cc=ci(row["cc_ci_low"], row["cc_ci_high"]), verdict=said)
    quotes = {k: float(f(row[k])) for k in ("mi_estimate", "mi_ci_low", "mi_ci_high",
                                             "cc_estimate", "cc_ci_low", "cc_ci_high")}
    return fd.Finding(text, {**quotes, "change": change})


def n_finding(res: ModelImputation, lang: str) -> fd.Finding:
    """Rows used among complete cases and with imputation, answers imputed, m."""
    imputed = sum(res.imputed.values())
    text = _say("f_n", lang, n_cc=fd.fmt_int(res.n_complete, lang), n_all=fd.fmt_int(res.n_all, lang),
                n_mi=fd.fmt_int(res.n_imputed, lang), imputed=fd.fmt_int(imputed, lang), m=res.m)
    return fd.Finding(text, {"n_complete": res.n_complete, "n_all": res.n_all,
                             "n_imputed": res.n_imputed, "imputed": imputed, "m": res.m})


def kept_out_finding(kept_out: dict, rd, lang: str) -> fd.Finding | None:
    """Which variables were not imputed (categories without an order) and how many rows miss them."""
    if not kept_out:
        return None
    what = "; ".join(_say("kept_out_one", lang, label=rd.label(v), n=fd.fmt_int(n, lang))
                     for v, n in kept_out.items())
    return fd.Finding(_say("f_kept_out", lang, what=what), dict(kept_out))


def _labels(res: ModelImputation, rd) -> dict[str, str]:
    """Readable names of the coefficients (a category says its reference), as the models page."""
    frame = rdata.coefficient_frame(res.complete, rd)
    kept = [i for i in res.comparison.index if i != "Intercept" and "|" not in i]
    return dict(zip(kept, frame.index, strict=True))


def model_imputation_table(res: ModelImputation, rd, lang: str) -> pd.DataFrame:
    """Per coefficient (cut points and intercept left out): complete-case and imputed estimate
    (ratio for a ratio model) with 95% CI, the fraction of missing information."""
    f = _scale(res.model.ratio)
    cc, mi, ci = _say("col_cc", lang), _say("col_mi", lang), t("ci", lang)
    est = res.model.ratio or t("estimate", lang)
    num = lambda x: fd.fmt_num(f(x), lang, 2)
    span = lambda lo, hi: f"{num(lo)}{fd.DASH}{num(hi)}"
    # a table is a tight place: short labels, as the models page's tables
    rows = {lb.term_label(i, lang, rd): [num(r["cc_estimate"]), span(r["cc_ci_low"], r["cc_ci_high"]),
                        num(r["mi_estimate"]), span(r["mi_ci_low"], r["mi_ci_high"]),
                        fd.fmt_num(100 * r["missing_info"], lang, 1)]
            for i, r in res.comparison.iterrows() if i != "Intercept" and "|" not in i}
    columns = [f"{cc}: {est}", f"{cc}: {ci}", f"{mi}: {est}", f"{mi}: {ci}",
               _say("col_missing_info", lang)]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def model_findings(res: ModelImputation, rd, lang: str) -> list[fd.Finding]:
    """The rows-used sentence, then one sentence per key coefficient."""
    labels = _labels(res, rd)
    kept = kept_out_finding(res.kept_out, rd, lang)
    return [n_finding(res, lang)] + ([kept] if kept else []) + [
        coefficient_finding(labels[i], r, lang, res.model.ratio)
        for i, r in res.comparison.iterrows() if r["key"] and i in labels]


def model_imputation_section(rd, d, names=None, level: int = 2) -> dict[str, ModelImputation]:
    """For each model of ``names`` (default: every model the declaration lists): heading (of
    ``level``), method paragraph, table and the sentences; nothing when the study declares none.
    Returns the results by model name."""
    from IPython.display import Markdown, display  # noqa: PLC0415 - IPython only inside a notebook kernel

    spec = pi.imputation_spec(rd)
    models = [m.name for m in imputed_models(rd)] if names is None else list(names)
    out = {}
    for name in models:
        res = model_imputation(rd, d, name)
        lang = rd.lang
        predictors = ", ".join(lb.short_label(p, lang, rd) for p in spec.predictors) or "–"
        found = model_findings(res, rd, lang)
        display(fd.plain(_say("h_model", lang, label=res.model.label), level),
                fd.plain(_say("p_model", lang, m=res.m, predictors=predictors)),
                model_imputation_table(res, rd, lang),
                Markdown(f"**{_say('h_change', lang)}**\n\n"
                         + "\n".join(f"- {fd.plain(str(s)).data}" for s in found)))
        out[name] = res
    return out


# ------------------------------------------------------------------------------ blocks
@dataclass
class BlockImputation:
    """The block comparison's Wald tests among complete cases and pooled over m completed
    designs (D1), per block (``table``: cc_F, cc_df, cc_ddf, cc_p, mi_F, mi_df, mi_ddf, mi_p,
    riv), with the rows used and what was imputed or kept out."""

    outcome: str
    formula: str
    table: pd.DataFrame
    n_all: int
    n_complete: int
    n_imputed: int
    imputed: dict
    kept_out: dict
    m: int


def block_imputation(rd, d, outcome: str, family: str = "quasibinomial", index: int = 0
                     ) -> BlockImputation:
    """The study's block comparison for ``outcome`` (all blocks and the controls in one svyglm)
    among complete cases and with the missing answers of its variables imputed (as the planned
    models; seed ``seed + SEED_STEP (len(models) + 1 + index)``); each block's Wald test given
    the others: R's regTermTest among complete cases, the pooled D1 test with imputation."""

    spec = pi.imputation_spec(rd)
    if spec is None:
        raise rdata.ReportDataError("block comparison with imputation: the study declares no "
                                    "analysis.imputation")
    blocks, controls = rdata.blocks(rd), rdata.controls(rd)
    formula = f"{outcome} ~ " + " + ".join([*controls, *(t for b in blocks.values() for t in b)])
    variables = model_variables(rdata.Model("blocks", formula, family, None, ""), d.data)
    seed = spec.seed + SEED_STEP * (len(spec.models) + 1 + index)
    imp = _impute_variables(rd, d, variables, seed, f"blocks of {outcome}")
    fits = [analysis.svyglm(formula, c, family=family) for c in imp.designs]
    cc = analysis.svyglm(formula, d, family=family)
    rows = {}
    for name, terms in blocks.items():
        w = cc.wald_test(list(terms))
        coefs = fits[0].wald_test(list(terms)).coefficients
        pooled = pooled_wald_test(fits, coefs, df_complete=float(fits[0].df_resid))
        rows[name] = {"cc_F": float(w.statistic), "cc_df": int(w.df), "cc_ddf": float(w.ddf),
                      "cc_p": float(w.p_value), "mi_F": pooled.statistic, "mi_df": pooled.df,
                      "mi_ddf": pooled.ddf, "mi_p": pooled.p_value, "riv": pooled.riv}
    return BlockImputation(outcome, formula, pd.DataFrame.from_dict(rows, orient="index"),
                           n_all=int((d.weights > 0).sum()), n_complete=int(cc.nobs),
                           n_imputed=int(fits[0].nobs), imputed=imp.imputed,
                           kept_out=imp.kept_out, m=imp.m)


def block_verdict(row, alpha: float = fd.ALPHA) -> str:
    """both | neither | cc_only | mi_only: where the block's test rejects at ``alpha``."""
    cc, mi = row["cc_p"] < alpha, row["mi_p"] < alpha
    return "both" if cc and mi else "neither" if not (cc or mi) else "cc_only" if cc else "mi_only"


def block_finding(label: str, row, lang: str) -> fd.Finding:
    """One sentence per block: both F tests with their p values, and whether they agree."""
    change = block_verdict(row)
    text = _say("f_block", lang, label=label, f_cc=fd.fmt_num(row["cc_F"], lang, 2),
                p_cc=fd.fmt_p(row["cc_p"], lang), f_mi=fd.fmt_num(row["mi_F"], lang, 2),
                p_mi=fd.fmt_p(row["mi_p"], lang), verdict=_say(f"b_{change}", lang))
    return fd.Finding(text, {"cc_F": float(row["cc_F"]), "cc_p": float(row["cc_p"]),
                             "mi_F": float(row["mi_F"]), "mi_p": float(row["mi_p"]),
                             "change": change})


def block_imputation_table(res: BlockImputation, block_label, lang: str) -> pd.DataFrame:
    """Per block: F, df and p among complete cases and with imputation."""
    cc, mi = _say("col_cc", lang), _say("col_mi", lang)
    rows = {block_label(b): [fd.fmt_num(r["cc_F"], lang, 2), f"{int(r['cc_df'])}",
                             fd.fmt_p_value(r["cc_p"], lang), fd.fmt_num(r["mi_F"], lang, 2),
                             f"{int(r['mi_df'])}", fd.fmt_p_value(r["mi_p"], lang)]
            for b, r in res.table.iterrows()}
    columns = [f"{cc}: F", f"{cc}: df", f"{cc}: p", f"{mi}: F", f"{mi}: df", f"{mi}: p"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def block_findings(res: BlockImputation, rd, block_label, lang: str) -> list[fd.Finding]:
    """Rows used, what was kept out, then one sentence per block."""
    n = fd.Finding(_say("f_n", lang, n_cc=fd.fmt_int(res.n_complete, lang),
                        n_all=fd.fmt_int(res.n_all, lang), n_mi=fd.fmt_int(res.n_imputed, lang),
                        imputed=fd.fmt_int(sum(res.imputed.values()), lang), m=res.m),
                   {"n_complete": res.n_complete, "n_imputed": res.n_imputed})
    kept = kept_out_finding(res.kept_out, rd, lang)
    return [n] + ([kept] if kept else []) + [block_finding(block_label(b), r, lang)
                                             for b, r in res.table.iterrows()]


def block_imputation_section(rd, d, outcome: str, block_label, family: str = "quasibinomial",
                             index: int = 0, level: int = 3) -> BlockImputation | None:
    """Heading, paragraph, table and sentences of :func:`block_imputation`; nothing without
    an imputation declaration."""
    from IPython.display import Markdown, display  # noqa: PLC0415 - IPython only inside a notebook kernel

    if pi.imputation_spec(rd) is None:
        return None
    res = block_imputation(rd, d, outcome, family, index)
    lang = rd.lang
    found = block_findings(res, rd, block_label, lang)
    display(fd.plain(_say("h_blocks", lang, label=rd.label(outcome)), level),
            fd.plain(_say("p_blocks", lang, m=res.m)),
            block_imputation_table(res, block_label, lang),
            Markdown(f"**{_say('h_change', lang)}**\n\n"
                     + "\n".join(f"- {fd.plain(str(s)).data}" for s in found)))
    return res
