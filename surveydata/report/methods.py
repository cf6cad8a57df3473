"""The report's methods page, written from the study declaration and the data.

Population and frame, sampling design, fieldwork period, response by stratum, validation and
quarantine, weighting margins with their sources and years (stand-ins flagged), variance and
confidence-interval methods, disclosure control, software versions, a suggested citation and
the codebook. Every number comes from the data or the declaration; what the declaration does
not state is said to be not stated, never invented.

Example
-------
>>> page = methods_body(rd, prov, "en", 5, Counter())       # doctest: +SKIP
>>> page.file, [h for _, h in page.headings][:2]            # doctest: +SKIP
('methods.html', ['Population and sampling frame', 'Sampling design'])
"""
from __future__ import annotations

import html

import pandas as pd

from surveydata.report import data as reportdata
from surveydata.report import disclosure, labels, tables
from surveydata.report.html import Page, render_html_table, slug
from surveydata.report.i18n import t

__all__ = ["methods_body"]

_TEXT = {
    "population": {
        "de": "Grundgesamtheit (Einheit: {unit}): N = {total}; Randverteilungen aus {margins}.",
        "en": "Population (unit: {unit}): N = {total}; margins from {margins}."},
    "margins_inline": {"de": "Angaben der Studiendeklaration ({sources})",
                       "en": "the study declaration ({sources})"},
    "frame_file": {"de": "der Datei {file} neben den Daten (N_h und Eingeladene je Schicht)",
                   "en": "the file {file} beside the data (N_h and the number invited per stratum)"},
    "frame_margin": {"de": "der Randverteilung {margin} der Grundgesamtheit {population}",
                     "en": "the margin {margin} of the population {population}"},
    "frame_margin_inline": {"de": "der in der Studie deklarierten Randverteilung {margin} ({sources})",
                            "en": "the margin {margin} declared in the study ({sources})"},
    "frame": {
        "de": "Auswahlrahmen: die Schichtgrößen N_h stammen aus {frame}.",
        "en": "Sampling frame: the stratum sizes N_h come from {frame}."},
    "design": {
        "de": "Geschichtete Stichprobe nach {strata} ({n_strata} Schichten mit gültigen Antworten), "
              "{psu}; Designgewicht w = N_h / n_h (n_h: gültige Antworten der Schicht){fpc}. "
              "Schichten mit nur einer Antwort: Varianz wie R survey mit lonely.psu = \"{lonely}\".",
        "en": "Stratified sample by {strata} ({n_strata} strata with valid responses), {psu}; "
              "base weight w = N_h / n_h (n_h: valid responses in the stratum){fpc}. Strata with "
              "a single response: variance as R survey with lonely.psu = \"{lonely}\"."},
    "psu_none": {"de": "Auswahleinheit: {unit} (keine Klumpen)",
                 "en": "each {unit} sampled on its own (no clusters)"},
    "psu": {"de": "Klumpen (PSU): {psu}", "en": "clusters (PSUs): {psu}"},
    "fpc": {"de": " mit Endlichkeitskorrektur", "en": " with finite population correction"},
    "no_design": {
        "de": "Die Studiendeklaration nennt kein Stichprobendesign: alle Ergebnisse sind "
              "ungewichtet und beschreiben nur die Antwortenden.",
        "en": "The study declaration names no sampling design: every result is unweighted and "
              "describes the respondents only."},
    "fieldwork": {"de": "{start} bis {end}{mode}.", "en": "{start} to {end}{mode}."},
    "mode": {"de": ", Erhebungsmodus: {mode}", "en": ", mode: {mode}"},
    "response_intro": {
        "de": "Eingeladen, gültige Antworten und Rücklaufquote nach {by}. Insgesamt {valid} von "
              "{invited} ({rate}).",
        "en": "Invited, valid responses and response rate by {by}. Overall {valid} of {invited} "
              "({rate})."},
    "no_invited": {
        "de": "Die Zahl der Eingeladenen je Schicht ist nicht bekannt ({why}): eine "
              "Rücklaufquote lässt sich nicht angeben.",
        "en": "The number invited per stratum is not known ({why}): no response rate can be "
              "given."},
    "why_file": {"de": "keine Spalte n_invited in {file}", "en": "no n_invited column in {file}"},
    "why_margin": {
        "de": "das Design nimmt N_h aus der Randverteilung {margin}; eine Schichtdatei neben den "
              "Daten mit Schicht, N_h und n_invited ergibt Rücklaufquoten",
        "en": "the design takes N_h from the population margin {margin}; a strata file beside "
              "the data with stratum, N_h and n_invited gives response rates"},
    "why_none": {
        "de": "keine Schichtdatei mit n_invited neben den Daten",
        "en": "no strata file with n_invited beside the data"},
    "validation": {
        "de": "Alle {n_raw} eingegangenen Datensätze wurden gegen den Fragebogen geprüft "
              "(Antwortcodes, Wertebereiche, Filterführung, Dubletten): {n_valid} gültig, "
              "{n_q} in Quarantäne. Ein Datensatz mit mehreren Gründen zählt unten bei jedem.",
        "en": "All {n_raw} records received were validated against the questionnaire (answer "
              "codes, ranges, skip logic, duplicates): {n_valid} valid, {n_q} quarantined. A "
              "record with several reasons counts under each of them below."},
    "weighting": {
        "de": "Die Designgewichte wurden iterativ an die folgenden Randverteilungen angepasst "
              "(Raking){trim}.",
        "en": "The base weights were raked (iterative proportional fitting) to the margins "
              "below{trim}."},
    "trim": {"de": ", dann an den {lo}- und {hi}-Quantilen gekappt (Überschuss umverteilt, "
                   "Summe erhalten)",
             "en": ", then trimmed at the {lo} and {hi} quantiles (excess redistributed, total "
                   "kept)"},
    "standin_note": {
        "de": "Eine als Platzhalter markierte Randverteilung ist keine amtliche Zahl für diese "
              "Grundgesamtheit (z. B. Anteile an der Gesamtbevölkerung statt Zahlen der "
              "Einheiten dieser Grundgesamtheit): die Gewichtung "
              "nach diesem Merkmal ist eine Näherung.",
        "en": "A margin marked as a stand-in is not an official figure for this population (for "
              "example shares of the general population instead of counts of this population's "
              "units): weighting on it is an "
              "approximation."},
    "no_weighting": {"de": "Keine Gewichtung deklariert.", "en": "No weighting declared."},
    "variance": {
        "de": "Standardfehler durch Taylor-Linearisierung für das geschichtete Design (wie R "
              "survey, svydesign/svymean); bei gerakten Gewichten berücksichtigen sie die "
              "Kalibrierung. 95-%-Konfidenzintervalle sind Wald-Intervalle: Schätzwert ± 1,96 × "
              "Standardfehler (Voreinstellung von R survey confint); Modellkoeffizienten aus "
              "designbasierten verallgemeinerten linearen Modellen (svyglm), Tests als Wald-Tests "
              "mit den Freiheitsgraden des Designs.",
        "en": "Standard errors by Taylor linearisation for the stratified design (as R survey's "
              "svydesign/svymean); with raked weights they account for the calibration. 95% "
              "confidence intervals are Wald intervals: estimate ± 1.96 × standard error (R "
              "survey's confint default); model coefficients from design-based generalised "
              "linear models (svyglm), tested by Wald tests with the design's degrees of freedom."},
    "variance_unweighted": {
        "de": "Ungewichtete, beschreibende Auswertung: Anteile, Mittelwerte und Häufigkeiten "
              "beschreiben nur die Antwortenden. Ohne Stichprobendesign gibt es keine "
              "designbasierte Inferenz auf eine Grundgesamtheit (keine Standardfehler des "
              "Designs, keine Gewichtung).",
        "en": "Unweighted, descriptive analysis: shares, means and frequencies describe the "
              "respondents only. Without a sampling design there is no design-based inference "
              "to a population (no design standard errors, no weighting)."},
    "disclosure": {
        "de": "Zellen mit weniger als {k} Befragten (ungewichtet) werden gesperrt ({marker}), "
              "ebenso Zellen, aus denen sich eine gesperrte Zelle zurückrechnen ließe. "
              "Freitextangaben werden nie veröffentlicht.",
        "en": "Cells of fewer than {k} respondents (unweighted) are suppressed ({marker}), as "
              "are cells from which a suppressed cell could be worked out. Free-text answers are "
              "never published."},
    # {publisher} is "" or "<publisher>. " (a citation without one has no dangling dash)
    "citation": {"de": "{authors} ({year}): {title}. {publisher}Bericht erstellt mit {package} "
                       "{version} (Commit {commit}).",
                 "en": "{authors} ({year}). {title}. {publisher}Report built with {package} "
                       "{version} (commit {commit})."},
    "codebook": {"de": "Alle Fragen, Antwortcodes und Filter: {link}.",
                 "en": "Every question, answer code and filter: {link}."},
    "simulated": {"de": "Die Daten dieses Berichts sind simuliert.",
                  "en": "The data of this report are simulated."},
}


def _say(key: str, lang: str, **fields) -> str:
    return _TEXT[key][lang].format(**fields)


def _int(n, lang: str) -> str:
    text = f"{int(n):,}"
    return text.replace(",", ".") if lang == "de" else text


def _pct(x: float, lang: str) -> str:
    text = f"{100 * x:.1f}"
    return text.replace(".", ",") + " %" if lang == "de" else text + "%"


def _text(value, lang: str) -> str:
    if hasattr(value, "get") and not isinstance(value, str):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _label(rd, var: str) -> str:
    """A short name of a variable: the study's short label, else its label."""

    short = labels.short_label(var, rd.lang, getattr(rd, "study", None))
    if short != var:
        return short
    try:
        return rd.label(var)
    except Exception:  # noqa: BLE001 - a label is decoration; the name will do
        return var


def _margins_source(population, lang: str) -> str:
    """Where the population margins come from: the margins file's name, or, for tables declared
    in the study itself, the study declaration with each table's declared source and year."""
    name = getattr(population, "name", None) or "?"
    if name != "inline":
        return name
    return _say("margins_inline", lang, sources=_sources(getattr(population, "margins", {}) or {}, lang))


def _sources(margins, lang: str) -> str:
    """"source year; source year" of margin tables (their declared attributes), each once."""
    sources = []
    for series in margins.values():
        attrs = dict(getattr(series, "attrs", {}) or {})
        source = _text(attrs.get("source"), lang)
        year = attrs.get("year")
        year = ", ".join(map(str, year)) if isinstance(year, (list, tuple)) else (
            "" if year is None else str(year))
        text = f"{source} {year}".strip() if source else year
        if text and text not in sources:
            sources.append(text)
    return "; ".join(sources) or t("not_stated", lang)


def _publisher(meta, lang: str) -> str:
    """The publisher as a sentence of the citation ("Publisher. "), or nothing when not declared."""
    value = _text(meta.get("publisher"), lang).strip().rstrip(".") if hasattr(meta, "get") else ""
    return f"{value}. " if value else ""


def _why_no_invited(rd, design, lang: str) -> str:
    """Why the number invited is not known: the strata file read has no n_invited column, or
    the design took N_h from a population margin (there is no strata file to blame)."""
    beside = rd.source.get("strata") if hasattr(rd.source, "get") else None
    if beside and beside != "population margins":
        return _say("why_file", lang, file=beside)
    margin = getattr(design, "margin", None)
    if margin:
        return _say("why_margin", lang, margin=margin)
    return _say("why_none", lang)


def methods_body(rd, prov: dict, lang: str, k: int, counter):
    """The methods page (a `surveydata.report.html.Page`, tables numbered by ``counter``)."""

    e = html.escape
    study = getattr(rd, "study", None)
    meta = getattr(study, "meta", None) or {}
    page = Page(file="methods.html", title=t("methods", lang))
    chunks = [f"<h1>{e(page.title)}</h1>"]

    def section(key: str) -> None:
        title = t(key, lang)
        hid = slug(title)
        page.headings.append((hid, title))
        chunks.append(f'<h2 id="{hid}">{e(title)}</h2>')

    def para(text: str) -> None:
        chunks.append(f"<p>{e(text)}</p>")

    def table(frame: pd.DataFrame, caption: str, verbatim: tuple[str, ...] = ()) -> None:
        frag = render_html_table(frame.to_html(), caption, lang, counter, "methods", verbatim)
        page.tables.extend(frag.tables)
        chunks.append(frag.body)

    if getattr(study, "simulated", None) or rd.source.get("kind") == "demo":
        para(_say("simulated", lang))

    # population and frame
    section("m_population")
    population = getattr(study, "population", None)
    design = getattr(study, "design", None)
    if population is not None:
        margins = getattr(population, "margins", {}) or {}
        unit = _text(meta.get("unit"), lang) or t("not_stated", lang)
        total = getattr(population, "total", None) or meta.get("total")
        para(_say("population", lang, unit=unit, margins=_margins_source(population, lang),
                  total=_int(total, lang) if total else t("not_stated", lang)))
        frame_src = getattr(design, "strata_file", None) or "strata.csv"
        margin = getattr(design, "margin", None)
        beside = rd.source.get("strata")
        if beside and beside != "population margins":
            frame_src = _say("frame_file", lang, file=beside)
        elif margin and margin in margins:
            frame_src = (_say("frame_margin", lang, margin=margin, population=population.name)
                         if getattr(population, "name", None) != "inline" else
                         _say("frame_margin_inline", lang, margin=margin,
                              sources=_sources({margin: margins[margin]}, lang)))
        if design is not None:
            para(_say("frame", lang, frame=frame_src))
    else:
        para(t("not_stated", lang).capitalize() + ".")

    # design
    section("m_design")
    if design is not None:
        strata = [_label(rd, v) for v in getattr(design, "strata", ()) or ()]
        n_strata = int((rd.strata["n_valid"] > 0).sum()) if "n_valid" in rd.strata else 0
        psu = getattr(design, "psu", None)
        para(_say("design", lang, strata=" × ".join(strata) or "–", n_strata=_int(n_strata, lang),
                  psu=_say("psu", lang, psu=psu) if psu else _say(
                      "psu_none", lang, unit=_text(meta.get("unit"), lang) or "–"),
                  fpc=_say("fpc", lang) if getattr(design, "fpc", None) else "",
                  lonely=getattr(design, "lonely_psu", None) or "fail"))
    else:
        para(_say("no_design", lang))

    # fieldwork
    section("m_fieldwork")
    fw = meta.get("fieldwork") if hasattr(meta, "get") else None
    fw = fw if hasattr(fw, "get") and not isinstance(fw, str) else None
    if fw is not None and fw.get("start"):
        mode = _say("mode", lang, mode=_text(fw["mode"], lang)) if fw.get("mode") else ""
        para(_say("fieldwork", lang, start=str(fw["start"]), end=str(fw.get("end", "?")), mode=mode))
    else:
        para(t("not_stated", lang).capitalize() + ".")

    # response by stratum
    section("m_response")
    by_vars = list(getattr(design, "strata", ()) or ())
    if "n_invited" in rd.strata and by_vars:
        total_inv, total_valid = rd.strata["n_invited"].sum(), rd.strata["n_valid"].sum()
        para(_say("response_intro", lang, by=" / ".join(_label(rd, v) for v in by_vars),
                  valid=_int(total_valid, lang), invited=_int(total_inv, lang),
                  rate=_pct(total_valid / total_inv, lang) if total_inv else "–"))
        for var in by_vars:
            rates = reportdata.response_rates(rd, by=var)
            shown = tables.response_table(tables.protected_rates(rates, k), lang)
            shown.index.name = _label(rd, var)
            table(shown, f"{t('m_response', lang)}: {_label(rd, var)}")
    else:
        para(_say("no_invited", lang, why=_why_no_invited(rd, design, lang)))

    # validation and quarantine
    section("m_validation")
    para(_say("validation", lang, n_raw=_int(rd.n_raw, lang), n_valid=_int(len(rd.valid), lang),
              n_q=_int(len(rd.quarantine), lang)))
    reasons = reportdata.quarantine_by_reason(rd)
    if len(reasons):
        hide = tables.protect_counts_column(reasons, k).to_numpy()
        shown = pd.DataFrame({t("records", lang): [disclosure.MARKER if h else _int(v, lang)
                                                    for v, h in zip(reasons, hide)]},
                             index=pd.Index([t(str(r), lang) for r in reasons.index],
                                            name=t("reason", lang)))
        table(shown, t("m_validation", lang))

    # weighting
    section("m_weighting")
    weighting = getattr(study, "weighting", None)
    steps = list(getattr(weighting, "rake", ()) or ()) if weighting is not None else []
    if steps:
        trim = getattr(weighting, "trim", None)
        q = getattr(trim, "quantiles", None) if trim is not None else None
        trim_text = _say("trim", lang, lo=f"{q[0]:g}", hi=f"{q[1]:g}") if q else ""
        para(_say("weighting", lang, trim=trim_text))
        margins = getattr(population, "margins", {}) or {}
        rows, any_stand_in = [], False
        for step in steps:
            name = getattr(step, "margin", "?")
            series = margins.get(name) if hasattr(margins, "get") else None
            attrs = dict(getattr(series, "attrs", {}) or {})
            stand_in = bool(attrs.get("stand_in")) or attrs.get("basis") not in (None, "published")
            any_stand_in |= stand_in
            year = attrs.get("year")
            year = "–" if year is None else (", ".join(map(str, year)) if isinstance(year, (list, tuple))
                                             else str(year))
            rows.append({t("margin", lang): name,
                         t("variables", lang): " × ".join(_label(rd, v) for v in getattr(step, "variables", ())),
                         t("source", lang): _text(attrs.get("source"), lang) or t("not_stated", lang),
                         t("year", lang): year,
                         t("status", lang): t("stand_in" if stand_in else "published_margin", lang)})
        table(pd.DataFrame(rows).set_index(t("margin", lang)), t("m_weighting", lang),
              verbatim=(t("source", lang),))
        if any_stand_in:
            para(_say("standin_note", lang))
    else:
        para(_say("no_weighting", lang))

    section("m_variance")
    para(_say("variance" if design is not None and getattr(rd, "weighted", True)
              else "variance_unweighted", lang))

    section("m_disclosure")
    para(_say("disclosure", lang, k=k, marker=disclosure.MARKER))

    # software
    section("m_software")
    soft = prov["software"]
    rows = [("Python", soft["python"])] + list(soft["package"].items())
    wanted = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "nbconvert", "papermill", "pyarrow")
    rows += [(n, v) for n, v in soft["dependencies"].items() if n.lower() in wanted]
    table(pd.DataFrame(rows, columns=[t("software", lang), t("version", lang)])
          .set_index(t("software", lang)), t("m_software", lang))

    # citation
    section("m_citation")
    citation = _text(meta.get("citation"), lang) if hasattr(meta, "get") else ""
    if not citation or citation.strip(". ") == "":
        authors = meta.get("authors") if hasattr(meta, "get") else None
        authors = (", ".join(map(str, authors)) if isinstance(authors, (list, tuple))
                   else (str(authors) if authors else t("not_stated", lang)))
        fw_year = str(fw.get("end") or fw.get("start"))[:4] if fw is not None else ""
        title = getattr(study, "title", None)
        try:
            title = title(lang) if callable(title) else _text(title, lang)
        except Exception:  # noqa: BLE001 - a citation without the title is still a citation
            title = str(getattr(study, "name", ""))
        commit = str(prov["git"].get("commit", "unknown"))[:10]
        citation = _say("citation", lang, authors=authors, year=fw_year or "n. d.",
                        title=title or t("report_title", lang),
                        publisher=_publisher(meta, lang),
                        package=next(iter(soft["package"])),
                        version=next(iter(soft["package"].values())), commit=commit)
    para(citation)

    section("m_codebook")
    link = f'<a href="codebook.html">{e(t("codebook", lang))}</a>'
    chunks.append(f"<p>{_say('codebook', lang, link=link)}</p>")

    toc = ('<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">'
           f'{e(t("on_this_page", lang))}</h2><ol>'
           + "".join(f'<li><a href="#{e(i)}">{e(x)}</a></li>' for i, x in page.headings)
           + "</ol></nav>")
    chunks.insert(1, toc)
    page.body = "\n".join(chunks)
    page.summary = ""
    return page
