"""Report and plot labels in German and English.

Item texts and answer labels come from the instrument (``Item.label(code, lang)``); this module
holds only the words of the report itself: page titles, axis labels, legends, notes.

Example
-------
>>> t("estimate", "de")
'Schätzwert'
>>> t("suppressed_note", "en", k=5, marker="•")[:40]
'• = suppressed: fewer than 5 respondents'
"""
from __future__ import annotations

LANGS = ("de", "en")

_LABELS: dict[str, dict[str, str]] = {
    # report frame
    "report_title": {"de": "IT-Sicherheit in Praxen: Ergebnisbericht",
                     "en": "IT security in medical practices: report"},
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
    "ci": {"de": "95%-Konfidenzintervall", "en": "95% confidence interval"},
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
}


def check_lang(lang: str) -> str:
    """``lang`` if it is a supported language, else a ValueError naming the choices.

    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; expected one of {', '.join(LANGS)}")
    return lang


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
