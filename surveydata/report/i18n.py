"""Report and plot labels in German and English.

Item texts and answer labels come from the instrument (``Item.label(code, lang)``), names of
variables from the study's declaration (:func:`var_label`, :func:`term_label`); this module
holds only the words of the report itself: page titles, axis labels, legends, notes.

Example
-------
>>> t("estimate", "de")
'Schätzwert'
>>> t("suppressed_note", "en", k=5, marker="•")[:40]
'• = suppressed: fewer than 5 respondents'
"""
from __future__ import annotations

from surveydata.languages import LANGS, check_lang
from surveydata.report import labels

__all__ = ["LANGS", "check_lang", "t", "term_label", "var_label"]

_LABELS: dict[str, dict[str, str]] = {
    # report frame
    "report_title": {"de": "Ergebnisbericht", "en": "Report"},  # a study without a title
    "contents": {"de": "Inhalt", "en": "Contents"},
    "back_to_index": {"de": "Zur Übersicht", "en": "Back to contents"},
    "data_source": {"de": "Datengrundlage", "en": "Data"},
    "demo_data": {"de": "Simulierte Demo-Erhebung (keine echten Praxen)",
                  "en": "Simulated demo survey (no real practices)"},
    "user_data": {"de": "Export", "en": "Export"},
    "instrument": {"de": "Fragebogen", "en": "Questionnaire"},
    "provenance": {"de": "Herkunft und Reproduzierbarkeit", "en": "Provenance and reproducibility"},
    "provenance_note": {
        "de": "Prüfsummen der Eingaben, Versionen und Commit stehen in provenance.json.",
        "en": "Input checksums, versions and the commit are recorded in provenance.json."},
    "git_commit": {"de": "Git-Commit", "en": "Git commit"},
    "n_respondents": {"de": "Gültige Antworten", "en": "Valid responses"},
    "n_quarantined": {"de": "In Quarantäne", "en": "Quarantined"},
    "n_raw": {"de": "Eingegangene Antworten", "en": "Responses received"},
    "suppressed_note": {
        "de": "{marker} = gesperrt: weniger als {k} Befragte oder zum Schutz einer gesperrten Zelle "
              "(sekundäre Sperrung). Freitextangaben werden nicht veröffentlicht.",
        "en": "{marker} = suppressed: fewer than {k} respondents, or to protect a suppressed cell "
              "(secondary suppression). Free-text answers are never published."},
    # estimates and plots
    "estimate": {"de": "Schätzwert", "en": "Estimate"},
    "se": {"de": "Standardfehler", "en": "Std. error"},
    "ci": {"de": "95-%-KI", "en": "95% CI"},  # short: a table column fits a phone
    "ci_low": {"de": "KI unten", "en": "CI low"},
    "ci_high": {"de": "KI oben", "en": "CI high"},
    "share": {"de": "Anteil", "en": "Share"},
    "share_pct": {"de": "Anteil (%)", "en": "Share (%)"},
    "n": {"de": "n", "en": "n"},
    "total": {"de": "Gesamt", "en": "Total"},
    "odds_ratio": {"de": "Odds Ratio (log. Skala)", "en": "Odds ratio (log scale)"},
    "weighted": {"de": "gewichtet", "en": "weighted"},
    "unweighted": {"de": "ungewichtet", "en": "unweighted"},
    "sample": {"de": "Stichprobe", "en": "Sample"},
    "population": {"de": "Grundgesamtheit", "en": "Population"},
    "sample_weighted": {"de": "Stichprobe gewichtet", "en": "Sample, weighted"},
    "weight": {"de": "Gewicht", "en": "Weight"},
    "respondents": {"de": "Befragte", "en": "Respondents"},
    "published_figure": {"de": "veröffentlichter Wert", "en": "published figure"},
    "trim_bounds": {"de": "Kappungsgrenzen", "en": "trimming bounds"},
    "base_weight": {"de": "Designgewicht", "en": "Base weight"},
    "raked_weight": {"de": "geraked", "en": "raked"},
    "trimmed_weight": {"de": "geraked und gekappt", "en": "raked and trimmed"},
    "records": {"de": "Datensätze", "en": "Records"},
    "invited": {"de": "Eingeladen", "en": "Invited"},
    "response_rate": {"de": "Rücklaufquote (%)", "en": "Response rate (%)"},
    "asked": {"de": "Gefragt", "en": "Asked"},
    "dont_know": {"de": "Weiß nicht", "en": "Don't know"},
    "no_answer": {"de": "Keine Angabe", "en": "No answer"},
    "missing_pct": {"de": "Fehlend (%)", "en": "Missing (%)"},
    "duplicates": {"de": "Doppelte Datensätze", "en": "Duplicate records"},
    "skip_logic": {"de": "Filterführung verletzt", "en": "Skip logic violated"},
    "invalid_code": {"de": "Ungültiger Antwortcode", "en": "Invalid answer code"},
    "invalid_number": {"de": "Ungültige Zahl", "en": "Invalid number"},
    "malformed_record": {"de": "Fehlerhafter Datensatz", "en": "Malformed record"},
    "other_rule": {"de": "Andere Regel", "en": "Other rule"},
    "reason": {"de": "Grund", "en": "Reason"},
    "measure": {"de": "Maßnahme", "en": "Measure"},
    "term": {"de": "Term", "en": "Term"},
    "block": {"de": "Block", "en": "Block"},
    # notebook 05 still names its blocks with t(block); the plan declares them (block_labels)
    "p_value": {"de": "p-Wert", "en": "p value"},
    "predicted": {"de": "Vorhergesagte Wahrscheinlichkeit (%)", "en": "Predicted probability (%)"},
    "yes": {"de": "ja", "en": "yes"},
    "no": {"de": "nein", "en": "no"},
    # page furniture
    "table": {"de": "Tabelle", "en": "Table"},
    "figure": {"de": "Abbildung", "en": "Figure"},
    "download": {"de": "Herunterladen", "en": "Download"},
    "figure_data": {"de": "Daten der Abbildung", "en": "data of the figure"},
    "row_header": {"de": "Zeile", "en": "Row"},
    "scroll_hint": {"de": "Breite Tabellen lassen sich seitlich wischen.",
                    "en": "Wide tables can be swiped sideways."},
    "on_this_page": {"de": "Auf dieser Seite", "en": "On this page"},
    "skip_to_content": {"de": "Zum Inhalt springen", "en": "Skip to content"},
    "report_navigation": {"de": "Berichtsnavigation", "en": "Report navigation"},
    "other_edition": {"de": "English version", "en": "Deutsche Fassung"},
    "simulated_banner": {
        "de": "Simulierte Daten: Alle Zahlen dieses Berichts stammen aus einer simulierten "
              "Erhebung und beschreiben keine echten Befragten.",
        "en": "Simulated data: every number in this report comes from a simulated survey and "
              "describes no real respondents."},
    "previous_page": {"de": "Vorherige Seite", "en": "Previous page"},
    "next_page": {"de": "Nächste Seite", "en": "Next page"},
    "summary_failed": {"de": "Die Zusammenfassung konnte nicht berechnet werden: {reason}",
                       "en": "The summary could not be computed: {reason}"},
    "executive_summary": {"de": "Zusammenfassung", "en": "Summary"},
    "key_facts": {"de": "Eckdaten", "en": "Key facts"},
    "downloads": {"de": "Downloads", "en": "Downloads"},
    "all_tables_xlsx": {"de": "Alle Tabellen (Excel-Arbeitsmappe)", "en": "All tables (Excel workbook)"},
    "page_tables_xlsx": {"de": "Tabellen dieser Seite (Excel)", "en": "Tables of this page (Excel)"},
    "estimates_csv": {"de": "Alle Schätzwerte der Abbildungen als Tabelle (CSV, tidy)",
                      "en": "All estimates shown in figures, one row each (tidy CSV)"},
    "codebook": {"de": "Codebuch", "en": "Codebook"},
    "generated_with": {"de": "Erstellt mit {package} {version}, Commit",
                       "en": "Built with {package} {version}, commit"},
    "response_rate_total": {"de": "Rücklaufquote", "en": "Response rate"},
    # model tables
    "ref": {"de": "1 (Referenz)", "en": "1 (ref.)"},
    "model_n": {"de": "n = {used} von {all} Befragten im Modell.",
                "en": "n = {used} of {all} respondents in the model."},
    "model_dropped": {"de": "{n} fehlen wegen eines fehlenden Werts in: {vars}.",
                      "en": "{n} left out for a missing value in: {vars}."},
    "model_units": {"de": "Einheiten der Koeffizienten:", "en": "Units of the coefficients:"},
    "unit_binary": {"de": "{var}: ja gegenüber nein", "en": "{var}: yes vs no"},
    "unit_share": {"de": "{var}: Änderung von 0 auf 1 (0 % auf 100 %)",
                   "en": "{var}: change from 0 to 1 (0% to 100%)"},
    "unit_per_one": {"de": "{var}: je 1 Einheit (Bereich {lo} bis {hi})",
                     "en": "{var}: per 1 unit (range {lo} to {hi})"},
    # methods page
    "methods": {"de": "Methoden und Daten", "en": "Methods and data"},
    "m_population": {"de": "Grundgesamtheit und Auswahlrahmen", "en": "Population and sampling frame"},
    "m_design": {"de": "Stichprobendesign", "en": "Sampling design"},
    "m_fieldwork": {"de": "Feldzeit", "en": "Fieldwork period"},
    "m_response": {"de": "Rücklauf nach Schicht", "en": "Response by stratum"},
    "m_validation": {"de": "Prüfung und Quarantäne", "en": "Validation and quarantine"},
    "m_weighting": {"de": "Gewichtung", "en": "Weighting"},
    "m_variance": {"de": "Varianzschätzung und Konfidenzintervalle",
                   "en": "Variance estimation and confidence intervals"},
    "m_disclosure": {"de": "Schutz vor Offenlegung", "en": "Disclosure control"},
    "m_software": {"de": "Software und Versionen", "en": "Software and versions"},
    "m_citation": {"de": "Zitiervorschlag", "en": "Suggested citation"},
    "m_codebook": {"de": "Codebuch", "en": "Codebook"},
    "not_stated": {"de": "in der Studiendeklaration nicht angegeben",
                   "en": "not stated in the study declaration"},
    "margin": {"de": "Randverteilung", "en": "Margin"},
    "variables": {"de": "Merkmale", "en": "Variables"},
    "source": {"de": "Quelle", "en": "Source"},
    "year": {"de": "Jahr", "en": "Year"},
    "status": {"de": "Status", "en": "Status"},
    "stand_in": {"de": "Platzhalter (keine amtliche Zahl)", "en": "stand-in (not an official figure)"},
    "published_margin": {"de": "veröffentlicht", "en": "published"},
    "stratum": {"de": "Schicht", "en": "Stratum"},
    "software": {"de": "Software", "en": "Software"},
    "version": {"de": "Version", "en": "Version"},
    # figure descriptions (alt text), generated from the numbers drawn
    "alt_bar_ci": {"de": "Balkendiagramm: {what} mit 95-%-Konfidenzintervallen, {n} {rows}.",
                   "en": "Bar chart of {what} with 95% confidence intervals, {n} {rows}."},
    "alt_bar": {"de": "Balkendiagramm: {what}, {n} {rows}.", "en": "Bar chart of {what}, {n} {rows}."},
    "alt_row": {"de": "Zeile", "en": "row"},
    "alt_rows": {"de": "Zeilen", "en": "rows"},
    "alt_ci": {"de": "{est} (95-%-KI {lo}–{hi})", "en": "{est} (95% CI {lo}–{hi})"},
    "alt_suppressed": {"de": "gesperrt", "en": "suppressed"},
    "alt_forest": {"de": "Forest-Plot: {what} mit 95-%-Konfidenzintervallen für {n} Terme; "
                         "gestrichelte Linie bei {null} (kein Effekt).",
                   "en": "Forest plot of {what} with 95% confidence intervals for {n} terms; "
                         "dashed line at {null} (no effect)."},
    "alt_hist": {"de": "Histogramm der Gewichte ({n} Klassen).",
                 "en": "Histogram of the weights ({n} bins)."},
    "alt_weights": {"de": "{name}: {n} Befragte, Minimum {min}, Median {median}, Maximum {max}.",
                    "en": "{name}: {n} respondents, minimum {min}, median {median}, maximum {max}."},
    "alt_bounds": {"de": "Kappungsgrenzen bei {lo} und {hi} (gestrichelt).",
                   "en": "Trimming bounds at {lo} and {hi} (dashed)."},
}


def t(key: str, lang: str = "en", **fields) -> str:
    """The label ``key`` in ``lang``, with ``{fields}`` filled in.

    >>> t("weighted", "de")
    'gewichtet'
    """
    check_lang(lang)
    try:
        text = _LABELS[key][lang]
    except KeyError:
        raise KeyError(f"no report label {key!r}; known labels: {', '.join(sorted(_LABELS))}") from None
    return text.format(**fields) if fields else text


def var_label(name: str, lang: str = "en", study=None) -> str:
    """Short name of a variable for tables and figures, from the study's declaration: its
    ``short_label``, else its label, else the name (`surveydata.report.labels.short_label`;
    ``study`` None: the packaged default study).

    >>> import schemas
    >>> var_label("trained_yes", "de", schemas.load_study("pharmacy_staff"))
    'Jemals geschult'
    """
    check_lang(lang)
    return labels.short_label(name, lang, study)


def term_label(term: str, lang: str = "en", study=None) -> str:
    """A model term made readable: ``C(x)[T.b]`` -> "<short name of x>: b"; a plain variable
    gets its short name (see :func:`var_label`).

    >>> import schemas
    >>> term_label("C(experience)[T.2]", "en", schemas.load_study("pharmacy_staff"))
    'Experience: 2'
    """
    check_lang(lang)
    return labels.term_label(term, lang, study)
