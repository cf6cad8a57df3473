"""Sections of the generic report pages, driven by the study declaration.

Each function displays one section (heading, paragraph, table, figure) in the order a reader
sees it, in the language of the edition, with labels from the study and the instrument; the
generic notebooks call one function per cell and stay free of loops and of study variables.
Numbers come from `surveydata.report.data`, sentences and number formats from
`surveydata.report.findings`, tables and figures from `surveydata.report.tables` and `surveydata.report.plots`.

Example
-------
>>> from surveydata.report import data as reportdata, pages
>>> rd = reportdata.load_data(lang="de")          # doctest: +SKIP
>>> pages.header(rd, "title_quality", "intro_quality", [])   # doctest: +SKIP
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

import analysis
from analysis.pubtable import model_table as publication_model_table
from analysis.scales import ScaleError
from surveydata.report import data as rdata
from surveydata.report import dates, disclosure, labels, plots, tables
from surveydata.report import findings as fd
from surveydata.report.html import slug
from surveydata.report.i18n import t

#: pandas' display truncation off while a page shows a table: a published table (and the CSV
#: made from it) must never lose rows or columns to a "..." (a domain of 25 districts).
_FULL_TABLES = ("display.max_columns", None, "display.max_rows", None, "display.max_colwidth", None,
                "display.width", None)


def _display(*objs) -> None:
    from IPython.display import display  # noqa: PLC0415 - IPython only inside a notebook kernel

    with pd.option_context(*_FULL_TABLES):
        for o in objs:
            if o is not None:
                display(o)


def header(rd, title: str, intro: str, findings, k: int = 5) -> None:
    """Page title, the "unweighted" note when the study has no design, intro and key findings.
    An unweighted study gets the intro's unweighted wording where there is one (no "weighted",
    no "design-based" below the note that says there is no design)."""
    lang = rd.lang
    if not rd.weighted and f"{intro}_unweighted" in fd.TEXT:
        intro = f"{intro}_unweighted"
    _display(fd.text(title, lang, 1),
             fd.text("unweighted_note", lang) if not rd.weighted else None,
             fd.text(intro, lang, k=k),
             fd.markdown(findings, lang) if findings else None)


def caveat(rd) -> None:
    """The nonresponse caveat beside the headline estimates of a weighted study."""
    if not rd.weighted:
        return
    quote = ("„{}“" if rd.lang == "de" else "“{}”").format
    variables = [quote(rd.label(v)) if rd.label(v).endswith("?") else rd.label(v)
                 for v in rdata.raking_variables(rd) or rdata.strata_variables(rd)]
    rate = rdata.response_rate(rd)
    joiner = " und " if rd.lang == "de" else " and "
    names = ", ".join(variables[:-1]) + joiner + variables[-1] if len(variables) > 1 else "".join(variables)
    _display(fd.text("caveat_nonresponse", rd.lang, vars=names,
                     rate=fd.say("caveat_rate", rd.lang, rate=fd.fmt_pct(rate, rd.lang)) if rate else ""))


def heading(rd, key: str, level: int = 2, **fields):
    return fd.text(key, rd.lang, level, **fields)


def _for_plot(est: pd.DataFrame, labels, suppress: pd.Series | None) -> pd.DataFrame:
    out = est[["estimate", "ci_low", "ci_high"]].astype(float).copy()
    if suppress is not None:
        out.loc[suppress.reindex(out.index, fill_value=False).to_numpy(), :] = np.nan
    out.index = [labels(v) for v in out.index]
    return out


# ---------------------------------------------------------------------------------------------
# data quality

def records_table(rd) -> pd.DataFrame:
    lang = rd.lang
    assert rd.n_raw == len(rd.valid) + len(rd.quarantine)  # nothing lost
    counts = pd.Series({t("n_raw", lang): rd.n_raw, t("n_respondents", lang): len(rd.valid),
                        t("n_quarantined", lang): len(rd.quarantine)}, name=t("records", lang))
    return counts.map(lambda n: fd.fmt_int(n, lang)).to_frame()


def reasons_section(rd, k: int) -> None:
    lang = rd.lang
    _display(heading(rd, "h_reasons"), fd.text("p_reasons", lang, k=k))
    reasons = rdata.quarantine_by_reason(rd)
    if not len(reasons):
        _display(fd.text("no_quarantine", lang))
        return
    reasons.index = pd.Index([t(r, lang) for r in reasons.index], name=t("reason", lang))
    _display(_total_label(disclosure.protect_counts(reasons.to_frame(t("records", lang)), k=k,
                                                    row_totals=False, col_totals=True), lang))


def nonresponse_section(rd, k: int, top: int = 15) -> None:
    lang = rd.lang
    nonresponse = rdata.item_nonresponse(rd)
    # asked and answered are public (the number of valid responses, the answers' n on the
    # estimates page): an item with 1 to k-1 missing answers in all would show them exactly
    missing = nonresponse["dont_know"] + nonresponse["no_answer"]
    few = (missing > 0) & (missing < k)
    nonresponse = nonresponse[~few].sort_values("share_missing", ascending=False,
                                                kind="stable").head(top)
    _display(heading(rd, "h_nonresponse"), fd.text("p_nonresponse", lang, n=len(nonresponse)),
             fd.text("p_nonresponse_few", lang, n=int(few.sum()), k_1=k - 1) if few.any() else None)
    if not len(nonresponse):
        return
    nonresponse.index = pd.Index([rd.label(v) for v in nonresponse.index], name=fd.say("item", lang))
    _display(tables.nonresponse_table(nonresponse, lang, k=k))
    plots.bar_ci(tables.nonresponse_shares(nonresponse, lang, k=k), lang=lang,
                 title=t("missing_pct", lang))


def flags_section(rd, k: int) -> None:
    lang = rd.lang
    _display(heading(rd, "h_flags"), fd.text("p_flags", lang))
    if not len(rd.flags):
        _display(fd.text("no_flags", lang))
        return
    flags = rd.flags.groupby("flag").size().rename(t("records", lang)).to_frame()
    flags.index = pd.Index([flag_label(rd, f) for f in flags.index], name=fd.say("flag", lang))
    _display(disclosure.protect_counts(flags, k=k, row_totals=False, col_totals=False))


def flag_label(rd, flag: str) -> str:
    """A flag in words: the quality screens by name, a soft rule by its message."""
    try:
        return fd.say(f"flag_{flag}", rd.lang)
    except KeyError:
        pass
    try:
        return rd.instrument.rule(flag).message.get(rd.lang)
    except (KeyError, ValueError, AttributeError):
        return str(flag)


def _total_label(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The totals row and column of a protected count table labelled in ``lang``."""
    total = t("total", lang)
    return table.rename(index={disclosure.TOTAL: total}, columns={disclosure.TOTAL: total})


# ---------------------------------------------------------------------------------------------
# sample and weighting

def response_section(rd, k: int) -> None:
    """Response by every strata variable of the design (when the number invited is known)."""
    if not rd.weighted:
        return
    if "n_invited" not in rd.strata:
        _display(fd.text("no_invited", rd.lang))
        return
    for i, var in enumerate(rdata.strata_variables(rd)):
        rates = tables.protected_rates(rdata.response_rates(rd, var), k=k)
        _display(heading(rd, "h_response", var=rd.label(var)),
                 tables.response_table(rates, rd.lang).rename_axis(rd.label(var)))
        if i == 0:
            plots.bar_ci(tables.rate_estimates(rates), lang=rd.lang, xlabel=t("response_rate", rd.lang))


def weights_section(rd, w) -> None:
    if not w.weighted:
        return
    lang = rd.lang
    summary = tables.weight_summary({t("base_weight", lang): w.base, t("raked_weight", lang): w.raked,
                                     t("trimmed_weight", lang): w.final}, lang)
    summary.index = [_weight_row(r, lang) for r in summary.index]
    _display(heading(rd, "h_weights"), fd.text("p_weights", lang), summary)
    plots.weight_distribution(w.raked.weights, bounds=w.bounds, lang=lang,
                              label=t("raked_weight", lang),
                              compare={t("trimmed_weight", lang): w.final.weights})


def _weight_row(row: str, lang: str) -> str:
    try:
        return fd.say(f"w_{row}", lang)
    except KeyError:
        return row


def composition_section(rd, w, k: int) -> None:
    """Sample, population and weighted shares of every raking variable."""
    if not w.weighted or not w.margins:
        return
    _display(fd.text("p_composition", rd.lang, k=k))
    for var in rdata.raking_variables(rd):
        shares = tables.protected_shares(rdata.composition(w, rd, var), k=k)
        _display(heading(rd, "h_composition", var=rd.label(var)),
                 tables.shares_table(shares, rd.lang).rename_axis(rd.label(var)))
        plots.composition(shares, lang=rd.lang, title=rd.label(var))


# ---------------------------------------------------------------------------------------------
# estimates

def estimates(rd, d):
    """Share outcomes overall and by every domain: (overall table, {domain: table})."""
    shares = rd.outcomes("share")
    if not shares:
        return None, {}
    by = {}
    for dom in rd.domains():
        est = rdata.prevalence(d, shares, by=dom)
        # respondents (unweighted) per category: the n of each column of the domain table
        est.attrs["group_n"] = d.data[dom].value_counts(dropna=True).to_dict()
        by[dom] = est
    return rdata.prevalence(d, shares), by


def overall_section(rd, est, k: int) -> None:
    if est is None:
        return
    suppress = rdata.too_few(est, k)
    # the same rows stay hidden wherever these estimates reappear (a list: pandas compares attrs)
    est.attrs["suppressed_rows"] = [str(v) for v in suppress.index[suppress.to_numpy(dtype=bool)]]
    _display(heading(rd, "h_overall"), fd.share_table(est, rd.label, rd.lang, suppress))
    plots.bar_ci(_for_plot(est, rd.label, suppress), lang=rd.lang)


def means_section(rd, d, k: int) -> None:
    means = rd.outcomes("mean")
    if not means:
        return
    est = rdata.prevalence(d, means)
    suppress = rdata.too_few(est, k, binary=False)
    _display(heading(rd, "h_means"), fd.share_table(est, rd.label, rd.lang, suppress, kind="mean"))


def _members_name(rd, members) -> str:
    """A heading in the edition's language from the labels of a group's (or block's) members."""
    labels = [rd.label(re.sub(r"^C\((\w+)\)$", r"\1", str(m))) for m in members]
    return ", ".join(labels[:3]) + (" …" if len(labels) > 3 else "")


def _group_name(rd, group: str, members=()) -> str:
    """A group's heading: its declared label, else the labels of its members, else its name."""
    return labels.plan_label(rd, "group_labels", group, rd.lang) or _members_name(rd, members) or str(group)


def groups_section(rd, d, k: int) -> None:
    """Every group of variables the analysis plan shows together: weighted shares of 0/1
    variables (with a figure), weighted means of the others."""
    plan = getattr(rd.study, "analysis", None)
    for group, members in (getattr(plan, "groups", None) or {}).items():
        members = [v for v in members if v in d.data]
        if not members:
            continue
        est = rdata.prevalence(d, members)
        binary = all(set(d.data[v].dropna().unique()) <= {0.0, 1.0} for v in members)
        suppress = rdata.too_few(est, k, binary=binary)
        _display(fd.plain(_group_name(rd, group, members), 2),
                 fd.share_table(est, rd.label, rd.lang, suppress, kind="share" if binary else "mean"))
        if binary:
            plots.bar_ci(_for_plot(est, rd.label, suppress), lang=rd.lang)


def scale_results(rd, d) -> list:
    """(spec, reliability) of every scale of the study (see `reportdata.scales`); a scale whose
    reliability cannot be computed (too few complete rows, a constant item) is left out."""

    out = []
    for spec in rdata.scales(rd):
        try:
            out.append((spec, rdata.scale_reliability(rd, d, spec)))
        except ScaleError:
            continue
    return out


def scales_section(rd, results: list) -> None:
    if not results:
        return
    _display(heading(rd, "h_scales"), fd.text("p_scales", rd.lang))
    for spec, result in results:
        _display(fd.plain(spec.label, 3), fd.reliability_table(result, rd.lang),
                 fd.scale_items_table(result, rd.lang))


def domains_section(rd, by: dict, k: int) -> None:
    for domain, est in by.items():
        _display(heading(rd, "h_by", var=rd.label(domain)), fd.text("p_by", rd.lang, var=rd.label(domain), k_1=k - 1),
                 fd.domain_table(est, domain, rd.label, rd.lang, rdata.too_few(est, k),
                                 group_n=pd.Series(est.attrs["group_n"]) if "group_n" in est.attrs
                                 else None, k=k))


def published_section(rd, est, k: int | None = None) -> None:
    """Estimates beside the published figures they can be compared with. Rows suppressed on
    the page (fewer than ``k`` respondents; default: the rows :func:`overall_section` hid)
    stay hidden here, in the table and in the figure."""
    pub = rdata.published(rd)
    if est is None or pub.empty:
        return
    pub = pub[pub.index.isin(est.index)]
    if pub.empty:
        return
    lang = rd.lang
    compared = est.loc[pub.index]
    if k is not None:
        suppress = rdata.too_few(est, k)
    elif "suppressed_rows" in est.attrs:
        suppress = pd.Series([str(v) in est.attrs["suppressed_rows"] for v in est.index], index=est.index)
    else:
        raise ValueError("published_section needs k (the disclosure threshold) or estimates "
                         "that overall_section has shown")
    suppress = suppress.reindex(compared.index, fill_value=True)
    table = fd.share_table(compared, rd.label, lang, suppress)
    table[t("published_figure", lang)] = [fd.fmt_num(100 * v, lang, 1) for v in pub["value"]]
    table[fd.say("source", lang)] = pub["source"].fillna("").to_numpy()
    _display(heading(rd, "h_published"), fd.text("p_published", lang), table)
    plots.bar_ci(_for_plot(compared, rd.label, suppress),
                 reference=pd.Series(pub["value"].to_numpy(), index=[rd.label(v) for v in pub.index]),
                 lang=lang)


def descriptives_section(rd, k: int) -> None:
    """Unweighted frequencies of every item (free text never shown): one table per categorical
    or multiple-choice item, one table of all numeric items."""
    lang = rd.lang
    numeric = []
    for var, kind in rdata.described_items(rd):
        if kind == "numeric":
            numeric.append(rdata.item_numeric(rd, var).rename(rd.label(var)))
            continue
        if kind == "categorical":
            table = fd.frequency_table(rdata.item_frequencies(rd, var), lang, k)
        else:  # options are separate yes/no counts of the item's respondents
            table = fd.multi_table(rdata.multi_shares(rd, var), _multi_respondents(rd, var), lang, k,
                                   name=f"frequencies {var}")
        _display(fd.plain(rd.label(var), 3), table)
    if numeric:
        _display(fd.plain(fd.say("numeric_items", lang), 3),
                 fd.numeric_table(pd.DataFrame(numeric), lang, k))
    # date items to the month (sparse first and last periods pooled), counts recorded for the audit
    summary, counts = dates.date_tables(rd, k)
    if summary is not None:
        _display(fd.plain(dates.heading(lang), 3), summary)
        for label, table in counts:
            _display(fd.plain(label, 3), table)


def _multi_respondents(rd, var: str) -> int:
    """Respondents who answered a multiple-choice item (every option column known), the base
    of `reportdata.multi_shares`."""
    cols = [c for c in rd.valid.columns if c.startswith(var + "__") and c != var + "__missing"]
    return int(rd.valid[cols].notna().all(axis=1).sum()) if cols else 0


def descriptive_findings(rd, k: int = 5, limit: int = 4) -> list:
    """The most frequent answer of the first categorical items (unweighted)."""
    out = []
    for var, kind in rdata.described_items(rd):
        if kind != "categorical":
            continue
        freq = rdata.item_frequencies(rd, var)
        if freq["n"].max() < k or ((freq["n"] > 0) & (freq["n"] < k)).any():
            continue  # a suppressed answer would follow from the total
        top = freq["n"].idxmax()
        out.append(fd.Finding(fd.say("f_mode", rd.lang, item=rd.label(var), answer=top,
                                     share=fd.fmt_pct(freq.loc[top, "share"], rd.lang),
                                     n=fd.fmt_int(freq.loc[top, "n"], rd.lang),
                                     total=fd.fmt_int(freq["n"].sum(), rd.lang)),
                              {"share": float(freq.loc[top, "share"]), "n": int(freq.loc[top, "n"]),
                               "total": int(freq["n"].sum())}))
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------------------------
# models

def fit_models(rd, d) -> dict:
    """Every planned model fitted weighted and unweighted: name -> (model, fit, unweighted fit)."""
    flat = rdata.unweighted(d)
    return {m.name: (m, rdata.fit(m, d), rdata.fit(m, flat)) for m in rdata.models(rd)}


def compare_blocks(rd, d) -> dict:
    """Block comparisons of the declared blocks for every glm outcome of the models."""

    blocks = rdata.blocks(rd)
    if not blocks:
        return {}
    return {resp: analysis.compare_blocks(d, resp, blocks, controls=rdata.controls(rd), family=fam)
            for resp, fam in rdata.block_outcomes(rd)}


def model_findings(rd, fits: dict, blocks: dict) -> list:
    out = []
    for m, fit, _ in fits.values():
        out += fd.term_findings(m.label, rdata.coefficient_frame(fit, rd), rd.lang, m.ratio, limit=1)
    for resp, table in blocks.items():
        out += fd.block_findings(rd.label(resp), table, rd.lang, lambda b: block_name(rd, b))
    return out[:5]


def block_name(rd, block: str) -> str:
    """A block's name: its declared label, else the labels of its terms, else its name."""
    return (labels.plan_label(rd, "block_labels", block, rd.lang)
            or _members_name(rd, rdata.blocks(rd).get(block, ())) or str(block))


def models_section(rd, fits: dict) -> None:
    lang = rd.lang
    if not fits:
        _display(fd.text("no_models", lang))
        return
    for m, fit, fit_u in fits.values():
        coefs = _short_terms(rd, fit, rdata.coefficient_frame(fit, rd))
        _display(fd.plain(m.label, 2), fd.text(f"p_ratio_{m.ratio}", lang), model_table(rd, m, fit))
        unweighted = _short_terms(rd, fit_u, rdata.coefficient_frame(fit_u, rd))
        plots.forest_plot({t("weighted", lang): coefs, t("unweighted", lang): unweighted},
                          lang=lang, xlabel=m.ratio, exponentiate=m.ratio is not None,
                          null=1.0 if m.ratio else 0.0)


def model_table(rd, m, fit):
    """A planned model's table as published, by the publication-table code of the Jupyter
    tables (`analysis.pubtable.model_table`): reference categories, ratios (or coefficients)
    with CIs and p values in the edition's number format; its note says n used of n, which
    variables' missing values left rows out, and the unit of every numeric term (a share's
    ratio is per change from 0 to 100 %)."""

    lang = rd.lang
    words = {"term": fd.say("term", lang), "coef": fd.say("coefficient", lang), "ratio": m.ratio or "",
             "ci": t("ci", lang), "p": t("p_value", lang), "ref": "Referenz" if lang == "de" else "ref."}
    name = _short_name(rd)
    tab = publication_model_table(fit, exponentiate=m.ratio is not None, labels=name,
                                  number=lambda x, d: fd.fmt_num(x, lang, d), words=words,
                                  title=str(m.label), id=f"model-{slug(str(m.label))}")
    tab.notes = [tables.model_note(fit, lang, labels=name)]
    return tab


def _short_terms(rd, fit, coefs: pd.DataFrame) -> pd.DataFrame:
    """A coefficient frame (rows in the fit's order, intercept and cut points left out) with
    terms named by short labels, "<short>: level (vs reference)", as the forest plot shows them."""
    name = _short_name(rd)
    terms = [str(i) for i in fit.params.index if str(i) != "Intercept" and "|" not in str(i)]
    if len(terms) != len(coefs):
        return coefs
    vs = "gegenüber" if rd.lang == "de" else "vs"
    labels = []
    for term in terms:
        m = re.fullmatch(r"C\((\w+)\)\[T\.(.*)\]", term) or re.fullmatch(r"(\w+)\[T\.(.*)\]", term)
        if m:
            ref = rdata.reference_category(fit, m.group(1))
            labels.append(f"{name(m.group(1))}: {m.group(2)}" + (f" ({vs} {ref})" if ref is not None else ""))
        else:
            labels.append(name(term))
    out = coefs.copy()
    out.index = pd.Index(labels)
    return out


def _short_name(rd):
    """Variable names for tight places (model terms): the declared short label, else the label."""

    study = getattr(rd, "study", None)
    if study is None:
        return rd.label
    return lambda var: labels.short_label(var, rd.lang, study)


def blocks_section(rd, blocks: dict) -> None:
    lang = rd.lang
    controls = ", ".join(rd.term_label(c.removeprefix("C(").removesuffix(")")) for c in rdata.controls(rd))
    for resp, table in blocks.items():
        shown = tables.blocks_table(table, lang, names=lambda b: block_name(rd, b))
        _display(heading(rd, "h_blocks", outcome=rd.label(resp)),
                 fd.text("p_blocks", lang, controls=controls or "–"), shown)


def scale_findings(rd, results: list) -> list:
    return [fd.scale_finding(spec.label, len(spec.items), result, rd.lang) for spec, result in results]
