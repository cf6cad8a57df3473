"""Findings in words: sentences generated from the estimates, in German or English.

Every number in a sentence comes from an estimate passed in (never typed), written in the
edition's locale (de: 1.621 and 33,3 %; en: 1,621 and 33.3%). Comparisons go only as far as
the confidence intervals and tests allow: two shares whose 95% CIs overlap, or a model term
whose design-based test is not significant at 5 %, are reported as "no clear difference".
Each finding keeps the numbers it quotes (``Finding.quotes``) so that a test can parse the
sentence and check it against the estimate table.

The page texts of the generic report (headings, paragraphs, notes) are here too, in both
languages, so that one edition is in one language throughout: :func:`say`.

Example
-------
>>> fmt_pct(0.3333, "de"), fmt_pct(0.3333, "en"), fmt_int(1621, "de"), fmt_int(1621, "en")
('33,3 %', '33.3%', '1.621', '1,621')
>>> est = pd.Series({"estimate": 0.367, "ci_low": 0.335, "ci_high": 0.399, "n": 1142})
>>> share_finding("Guideline fully implemented", est, "en").text
'Guideline fully implemented: 36.7% (95% CI 33.5–39.9; n = 1,142).'
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from surveydata.report import data as reportdata
from surveydata.report.disclosure import TOTAL, suppression_mask
from surveydata.report.i18n import check_lang, t

DASH = "–"
ALPHA = 0.05


# ---------------------------------------------------------------------------------------------
# numbers in the locale of the edition

def fmt_num(x: float, lang: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals and thousands separators of ``lang``.

    >>> fmt_num(1234.56, "de"), fmt_num(1234.56, "en"), fmt_num(-0.5, "de", 2)
    ('1.234,6', '1,234.6', '−0,50')
    """
    check_lang(lang)
    text = f"{abs(x):,.{digits}f}"
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return ("−" if x < 0 and float(text.replace(".", "").replace(",", "")) != 0 else "") + text


def fmt_int(n: float, lang: str) -> str:
    """A count with the thousands separator of ``lang`` (de 1.621, en 1,621)."""
    return fmt_num(float(n), lang, 0)


def fmt_pct(share: float, lang: str, digits: int = 1) -> str:
    """A share as a percentage: de "33,3 %", en "33.3%"."""
    number = fmt_num(100 * share, lang, digits)
    return f"{number} %" if lang == "de" else f"{number}%"


def fmt_p(p: float, lang: str) -> str:
    """A p value: "p < 0.001" or "p = 0.041" (de: "p < 0,001", "p = 0,041")."""
    return f"p < {fmt_num(0.001, lang, 3)}" if p < 0.0005 else f"p = {fmt_num(p, lang, 3)}"


def fmt_p_value(p: float, lang: str) -> str:
    """A p value for a table cell: "<0.001" or "0.041" (de "<0,001", "0,041")."""
    return f"<{fmt_num(0.001, lang, 3)}" if p < 0.0005 else fmt_num(p, lang, 3)


def fmt_ci(lo: float, hi: float, lang: str, percent: bool = True, digits: int = 1) -> str:
    """A 95% CI: en "95% CI 33.5–39.9", de "95-%-KI 33,5–39,9"."""
    scale = 100 if percent else 1
    head = "95-%-KI" if lang == "de" else "95% CI"
    return f"{head} {fmt_num(scale * lo, lang, digits)}{DASH}{fmt_num(scale * hi, lang, digits)}"


_NUMBER = re.compile(r"[−-]?\d[\d.,]*")


def parse_numbers(text: str, lang: str) -> list[float]:
    """Every number in a sentence, read in the locale of ``lang`` (for tests and checks).

    >>> parse_numbers("36,7 % (95-%-KI 33,5–39,9; n = 1.142).", "de")
    [36.7, 95.0, 33.5, 39.9, 1142.0]
    """
    out = []
    for token in _NUMBER.findall(text):
        token = token.rstrip(".,").replace("−", "-")
        if lang == "de":
            token = token.replace(".", "").replace(",", ".")
        else:
            token = token.replace(",", "")
        if token in ("", "-"):
            continue
        out.append(float(token))
    return out


# ---------------------------------------------------------------------------------------------
# texts of the generic pages

TEXT: dict[str, dict[str, str]] = {
    "key_findings": {"de": "Wichtigste Ergebnisse", "en": "Key findings"},
    "simulated": {"de": "Simulierte Daten: Die Zahlen beschreiben keine echten Befragten.",
                  "en": "Simulated data: the numbers describe no real respondents."},
    "unweighted_note": {
        "de": "Ungewichtet: Für diese Studie ist kein Stichprobendesign und keine Grundgesamtheit "
              "angegeben. Alle Anteile beschreiben die Befragten, nicht eine Grundgesamtheit.",
        "en": "Unweighted: this study declares no sampling design or population. Every share "
              "describes the respondents, not a population."},
    # page titles
    "title_quality": {"de": "Datenqualität", "en": "Data quality"},
    "title_sample": {"de": "Stichprobe und Gewichtung", "en": "Sample and weighting"},
    "title_estimates": {"de": "Ergebnisse", "en": "Estimates"},
    "title_descriptives": {"de": "Ergebnisse (ungewichtet)", "en": "Results (unweighted)"},
    "title_models": {"de": "Modelle", "en": "Models"},
    # data quality
    "intro_quality": {
        "de": "Was einging, was mit welchem Grund in Quarantäne ging, wie oft Fragen unbeantwortet "
              "blieben und welche gültigen Antworten auffielen. Alle Zahlen sind ungewichtete "
              "Datensätze; jeder Datensatz ist entweder gültig oder in Quarantäne, keiner geht "
              "verloren.",
        "en": "What came in, what was quarantined and why, how often items were left unanswered, "
              "and which valid responses were flagged. All counts are unweighted records; every "
              "record is either valid or quarantined, none is lost."},
    "h_records": {"de": "Datensätze", "en": "Records"},
    "h_reasons": {"de": "Gründe der Quarantäne", "en": "Why records were quarantined"},
    "p_reasons": {"de": "Gründe nach Art; ein Datensatz mit mehreren Gründen zählt in jeder Gruppe. "
                        "Gruppen mit weniger als {k} Datensätzen sind gesperrt (•).",
                  "en": "Reasons grouped by kind; a record with several reasons counts in each "
                        "group. Groups of fewer than {k} records are suppressed (•)."},
    "h_nonresponse": {"de": "Fehlende Angaben", "en": "Item nonresponse"},
    "p_nonresponse": {"de": "Die {n} Fragen mit dem höchsten Anteil „Weiß nicht“ oder ohne Angabe, "
                            "unter den Befragten, denen die Frage gestellt wurde.",
                      "en": "The {n} items with the highest share of \"don't know\" or no answer, "
                            "among the respondents who were asked the item."},
    "p_nonresponse_few": {
        "de": "{n} Fragen mit insgesamt 1 bis {k_1} fehlenden Angaben sind nicht aufgeführt: Die "
              "Zahl wäre aus den veröffentlichten Antworten genau ablesbar.",
        "en": "{n} items with 1 to {k_1} missing answers in all are not listed: the count would "
              "follow exactly from the published answers."},
    "h_flags": {"de": "Auffälligkeiten", "en": "Flags on valid responses"},
    "p_flags": {"de": "Weiche Prüfungen, die eine Antwort nicht zurückweisen (z. B. sehr kurze "
                      "Bearbeitungszeit).",
                "en": "Soft checks that do not reject a response (for example a very short "
                      "completion time)."},
    "no_flags": {"de": "Keine gültige Antwort wurde markiert.", "en": "No valid response was flagged."},
    "no_quarantine": {"de": "Kein Datensatz ging in Quarantäne.", "en": "No record was quarantined."},
    "f_records": {
        "de": "Von {n_raw} eingegangenen Datensätzen sind {n_valid} gültig ({share}); {n_q} "
              "{went} in Quarantäne.",
        "en": "Of {n_raw} records received, {n_valid} are valid ({share}); {n_q} {went} "
              "quarantined."},
    "went": {"de": "gingen", "en": "were"},
    "went_1": {"de": "ging", "en": "was"},
    "f_top_reason": {"de": "Häufigster Quarantänegrund: {reason} ({n} Datensätze).",
                     "en": "Most frequent reason for quarantine: {reason} ({n} records)."},
    "f_nonresponse": {
        "de": "Die höchste Quote fehlender Angaben hat „{item}“: {share} der {asked} Gefragten.",
        "en": "The item left unanswered most often is \"{item}\": {share} of {asked} asked."},
    "f_flags": {"de": "{n} gültige Antworten tragen einen Hinweis (weiche Prüfung).",
                "en": "{n} valid responses carry a flag (soft check)."},
    # sample and weighting
    "intro_sample": {
        "de": "Wer geantwortet hat und wie die Gewichtung die Stichprobe an die Grundgesamtheit "
              "angleicht: Rücklauf nach Schichtungsmerkmalen, Designgewicht N_h / n_h, Raking auf "
              "die angegebenen Randverteilungen und Kappung. Die Varianz jeder Schätzung "
              "berücksichtigt Schichtung, Endlichkeitskorrektur und Raking (Taylor-Linearisierung).",
        "en": "Who answered, and how the weighting aligns the sample with the population: "
              "response by the strata variables, the base weight N_h / n_h, raking to the "
              "declared margins and trimming. The variance of every estimate accounts for the "
              "strata, the finite population correction and the raking (Taylor linearisation)."},
    "h_response": {"de": "Rücklauf nach: {var}", "en": "Response by: {var}"},
    "h_weights": {"de": "Gewichtsdiagnostik", "en": "Weight diagnostics"},
    "p_weights": {"de": "Effektive Fallzahl n / (1 + cv²) und Designeffekt 1 + cv² nach Kish für das "
                        "Designgewicht, das geraked Gewicht und das finale (geraked und gekappte).",
                  "en": "Kish's effective sample size n / (1 + cv²) and design effect 1 + cv² for "
                        "the base, raked and final (raked and trimmed) weights."},
    "h_composition": {"de": "Stichprobe und Grundgesamtheit: {var}",
                      "en": "Sample and population: {var}"},
    "p_composition": {"de": "Anteile in Prozent: Befragte ungewichtet, Grundgesamtheit und Befragte "
                            "gewichtet. Anteile mit weniger als {k} Befragten sind gesperrt (•).",
                      "en": "Shares in percent: respondents unweighted, the population, and "
                            "respondents weighted. Shares of fewer than {k} respondents are "
                            "suppressed (•)."},
    "no_invited": {"de": "Die Zahl der Eingeladenen ist nicht bekannt (keine Schichtdatei mit "
                         "n_invited): Rücklaufquoten können nicht angegeben werden.",
                   "en": "The number invited is not known (no strata file with n_invited): "
                         "response rates cannot be given."},
    "f_response": {"de": "Rücklauf: {rate} ({n_valid} gültige Antworten von {n_inv} Eingeladenen).",
                   "en": "Response rate: {rate} ({n_valid} valid responses of {n_inv} invited)."},
    "f_response_range": {
        "de": "Nach {var} reicht der Rücklauf von {lo} ({lo_cat}) bis {hi} ({hi_cat}).",
        "en": "By {var}, response ranges from {lo} ({lo_cat}) to {hi} ({hi_cat})."},
    "f_weights": {
        "de": "Die finalen Gewichte haben einen Designeffekt von {deff} (Kish); die effektive "
              "Fallzahl ist {n_eff} von {n}.",
        "en": "The final weights have a design effect of {deff} (Kish); the effective sample size "
              "is {n_eff} of {n}."},
    "f_composition": {
        "de": "Größte Abweichung der ungewichteten Stichprobe von der Grundgesamtheit: {cat} "
              "({var}) mit {sample} statt {pop}; gewichtet {weighted}.",
        "en": "Largest gap between the unweighted sample and the population: {cat} ({var}), "
              "{sample} instead of {pop}; weighted {weighted}."},
    # estimates
    "intro_estimates": {
        "de": "Gewichtete Anteile (und Mittelwerte) mit designbasierten 95-%-Konfidenzintervallen, "
              "jeweils unter den Befragten, die die Frage beantwortet haben („Weiß nicht“ und keine "
              "Angabe zählen nicht mit; ihre Häufigkeit steht unter Datenqualität). Zellen mit "
              "weniger als {k} Befragten, oder mit weniger als {k} Ja- oder Nein-Antworten, sind "
              "gesperrt (•).",
        "en": "Weighted shares (and means) with design-based 95% confidence intervals, each among "
              "the respondents who answered the question (\"don't know\" and no answer are left "
              "out; their frequency is under data quality). Cells of fewer than {k} respondents, "
              "or with fewer than {k} answering yes or no, are suppressed (•)."},
    "intro_estimates_unweighted": {
        "de": "Anteile (und Mittelwerte) unter den Befragten mit 95-%-Konfidenzintervallen, die sie "
              "als einfache Zufallsstichprobe behandeln, jeweils unter den Befragten, die die Frage "
              "beantwortet haben („Weiß nicht“ und keine Angabe zählen nicht mit; ihre Häufigkeit "
              "steht unter Datenqualität). Zellen mit weniger als {k} Befragten, oder mit weniger "
              "als {k} Ja- oder Nein-Antworten, sind gesperrt (•).",
        "en": "Shares (and means) among the respondents, with 95% confidence intervals that treat "
              "them as a simple random sample, each among the respondents who answered the question "
              "(\"don't know\" and no answer are left out; their frequency is under data quality). "
              "Cells of fewer than {k} respondents, or with fewer than {k} answering yes or no, are "
              "suppressed (•)."},
    "intro_descriptives": {
        "de": "Ungewichtete Häufigkeiten jeder Frage: Anteile unter den Befragten, die die Frage "
              "beantwortet haben. Zellen mit weniger als {k} Befragten sind gesperrt (•).",
        "en": "Unweighted frequencies of every item: shares among the respondents who answered "
              "the item. Cells of fewer than {k} respondents are suppressed (•)."},
    "caveat_nonresponse": {
        "de": "Einschränkung: {rate}Die Gewichtung gleicht die Zusammensetzung nach {vars} an die "
              "Grundgesamtheit an, nicht aber eine Auswahl der Antwortenden innerhalb dieser "
              "Gruppen (z. B. wenn besser vorbereitete Einheiten eher antworten).",
        "en": "Caveat: {rate}the weighting aligns the composition by {vars} with the population, "
              "not a selection of respondents within these groups (e.g. if better prepared units "
              "are more likely to answer)."},
    "caveat_rate": {"de": "Rücklauf {rate}. ", "en": "response rate {rate}; "},
    "h_overall": {"de": "Insgesamt", "en": "Overall"},
    "h_by": {"de": "Aufgeschlüsselt nach: {var}", "en": "Broken down by: {var}"},
    "p_by": {"de": "Anteil in Prozent (95-%-KI; n = Befragte mit Antwort). Befragte ohne Angabe zu "
                   "{var} sind in keiner Spalte. Fehlt das n einer Zelle, ließe es erkennen, wie "
                   "wenige (1 bis {k_1}) in der Gruppe nicht geantwortet haben, oder die gesperrte "
                   "Größe einer Gruppe.",
             "en": "Share in percent (95% CI; n = respondents who answered). Respondents without a "
                   "value of {var} are in no column. A cell without its n leaves it out because it "
                   "would show how few (1 to {k_1}) of the group did not answer, or the suppressed "
                   "size of a group."},
    "h_published": {"de": "Vergleich mit veröffentlichten Zahlen",
                    "en": "Against the published figures"},
    "p_published": {"de": "Veröffentlichte Vergleichswerte (Quelle in der Tabelle); Unterschiede "
                          "können auch an anderer Frageformulierung und Stichprobe liegen.",
                    "en": "Published reference figures (source in the table); differences may also "
                          "come from other question wording and sampling."},
    "h_means": {"de": "Mittelwerte", "en": "Means"},
    "group_n": {"de": "Befragte in der Gruppe (n)", "en": "Respondents in the group (n)"},
    "f_share": {"de": "{label}: {pct} ({ci}; n = {n}).", "en": "{label}: {pct} ({ci}; n = {n})."},
    "f_mean": {"de": "{label}: Mittelwert {est} ({ci}; n = {n}).",
               "en": "{label}: mean {est} ({ci}; n = {n})."},
    "f_domain_diff": {
        "de": "{label}: höher bei {hi_cat} ({hi}) als bei {lo_cat} ({lo}); die "
              "95-%-Konfidenzintervalle überschneiden sich nicht.",
        "en": "{label}: higher for {hi_cat} ({hi}) than for {lo_cat} ({lo}); the 95% "
              "confidence intervals do not overlap."},
    "f_domain_same": {
        "de": "{label}: kein klarer Unterschied zwischen den Gruppen (von {lo} bei {lo_cat} bis {hi} bei "
              "{hi_cat}; die 95-%-Konfidenzintervalle überschneiden sich).",
        "en": "{label}: no clear difference between groups (from {lo} for {lo_cat} to {hi} for "
              "{hi_cat}; the 95% confidence intervals overlap)."},
    "f_published": {
        "de": "{label}: geschätzt {pct} ({ci}), veröffentlicht {pub}: {verdict}.",
        "en": "{label}: estimated {pct} ({ci}), published {pub}: {verdict}."},
    "inside_ci": {"de": "der veröffentlichte Wert liegt im Konfidenzintervall",
                  "en": "the published figure lies inside the confidence interval"},
    "outside_ci": {"de": "der veröffentlichte Wert liegt außerhalb des Konfidenzintervalls",
                   "en": "the published figure lies outside the confidence interval"},
    "item": {"de": "Frage", "en": "Item"},
    "flag": {"de": "Hinweis", "en": "Flag"},
    "flag_speeder": {"de": "Sehr kurze Bearbeitungszeit", "en": "Very short completion time"},
    "flag_straightlining": {"de": "Gleiche Antwort auf alle Skalenfragen",
                            "en": "Same answer to every rating item"},
    "w_n": {"de": "Befragte (n)", "en": "Respondents (n)"},
    "w_sum": {"de": "Summe der Gewichte", "en": "Sum of weights"},
    "w_min": {"de": "Kleinstes Gewicht", "en": "Smallest weight"},
    "w_max": {"de": "Größtes Gewicht", "en": "Largest weight"},
    "w_max/min": {"de": "Verhältnis größtes/kleinstes", "en": "Ratio largest/smallest"},
    "w_n_eff (Kish)": {"de": "Effektive Fallzahl (Kish)", "en": "Effective sample size (Kish)"},
    "w_deff (Kish)": {"de": "Designeffekt (Kish)", "en": "Design effect (Kish)"},
    "h_scales": {"de": "Skalen: Reliabilität", "en": "Scales: reliability"},
    "p_scales": {"de": "Cronbachs Alpha und McDonalds Omega (Ein-Faktor-Modell) mit designbasierten "
                       "95-%-Konfidenzintervallen; je Frage die Trennschärfe (Korrelation mit der "
                       "Summe der übrigen Fragen) und Alpha ohne die Frage. Umgepolte Fragen sind "
                       "vorher umgekehrt.",
                 "en": "Cronbach's alpha and McDonald's omega (one-factor model) with design-based "
                       "95% confidence intervals; per item the item-rest correlation and alpha "
                       "without the item. Reverse-keyed items are reversed first."},
    "f_scale": {"de": "Skala „{label}“ ({k} Fragen): Cronbachs Alpha {alpha} ({ci}), Omega {omega}; "
                      "n = {n}.",
                "en": "Scale \"{label}\" ({k} items): Cronbach's alpha {alpha} ({ci}), omega "
                      "{omega}; n = {n}."},
    "statistic": {"de": "Kennwert", "en": "Statistic"},
    "item_rest": {"de": "Trennschärfe", "en": "Item-rest correlation"},
    "alpha_if_dropped": {"de": "Alpha ohne die Frage", "en": "Alpha if dropped"},
    "source": {"de": "Quelle", "en": "Source"},
    "numeric_items": {"de": "Zahlenangaben", "en": "Numeric items"},
    "f_mode": {"de": "„{item}“: häufigste Antwort „{answer}“ ({share}; {n} von {total}).",
               "en": "\"{item}\": most frequent answer \"{answer}\" ({share}; {n} of {total})."},
    "answer": {"de": "Antwort", "en": "Answer"},
    "mean": {"de": "Mittelwert", "en": "Mean"},
    "median": {"de": "Median", "en": "Median"},
    # models
    "intro_models": {
        "de": "Die geplanten Regressionsmodelle mit designbasierten Standardfehlern "
              "(Taylor-Linearisierung; t-Tests mit den Freiheitsgraden des Designs), jeweils auch "
              "ungewichtet: Wo beide abweichen, kommt es auf die Zusammensetzung der Stichprobe an. "
              "Querschnittsdaten: Zusammenhänge, keine Wirkungen.",
        "en": "The planned regression models with design-based standard errors (Taylor "
              "linearisation; t tests with the design's degrees of freedom), each also fitted "
              "without weights: where the two differ, the sample's composition matters. "
              "Cross-sectional data: associations, not effects."},
    "p_ratio_OR": {"de": "Odds Ratios (OR): Faktor der Chance je Einheit der Variablen bzw. gegenüber "
                         "der Referenzkategorie.",
                   "en": "Odds ratios (OR): factor of the odds per unit of the variable, or against "
                         "the reference category."},
    "p_ratio_RR": {"de": "Ratenverhältnisse (RR): Faktor je Einheit der Variablen bzw. gegenüber der "
                         "Referenzkategorie.",
                   "en": "Rate ratios (RR): factor per unit of the variable, or against the "
                         "reference category."},
    "p_ratio_None": {"de": "Koeffizienten: Unterschied im Mittel je Einheit der Variablen bzw. "
                           "gegenüber der Referenzkategorie.",
                     "en": "Coefficients: difference in the mean per unit of the variable, or "
                           "against the reference category."},
    "h_blocks": {"de": "Blöcke von Merkmalen: {outcome}", "en": "Blocks of predictors: {outcome}"},
    "p_blocks": {"de": "Je Block: Wald-F-Test des Blocks gegeben alle anderen Terme, mittlerer "
                       "absoluter standardisierter Effekt und ΔD², der Anteil erklärter gewichteter "
                       "Devianz, der ohne den Block verloren geht. Kontrollvariablen: {controls}.",
                 "en": "For each block: a Wald F test of the block given everything else, the mean "
                       "absolute standardised effect, and ΔD², the share of weighted deviance "
                       "explained that is lost without the block. Controls: {controls}."},
    "f_term_sig": {"de": "{model}: {term} geht mit {direction} einher ({stat}, {ci}, {p}).",
                   "en": "{model}: {term} goes with {direction} ({stat}, {ci}, {p})."},
    "f_term_none": {"de": "{model}: kein Modellterm hängt klar mit dem Ergebnis zusammen "
                          "(alle p ≥ 0,05; kleinstes p = {p_min}).",
                    "en": "{model}: no term is clearly associated with the outcome (every "
                          "p ≥ 0.05; smallest p = {p_min})."},
    "higher_odds": {"de": "einer höheren Chance", "en": "higher odds"},
    "lower_odds": {"de": "einer niedrigeren Chance", "en": "lower odds"},
    "higher_rate": {"de": "einer höheren Rate", "en": "a higher rate"},
    "lower_rate": {"de": "einer niedrigeren Rate", "en": "a lower rate"},
    "higher_mean": {"de": "einem höheren Mittelwert", "en": "a higher mean"},
    "lower_mean": {"de": "einem niedrigeren Mittelwert", "en": "a lower mean"},
    "f_block_sig": {"de": "{outcome}: Der Block „{block}“ trägt über die anderen hinaus bei "
                          "(F = {F}, {p}; ΔD² = {d2}).",
                    "en": "{outcome}: the block \"{block}\" adds to the others (F = {F}, {p}; "
                          "ΔD² = {d2})."},
    "f_block_none": {"de": "{outcome}: Der Block „{block}“ trägt über die anderen hinaus nicht klar "
                           "bei (F = {F}, {p}).",
                     "en": "{outcome}: no clear contribution of the block \"{block}\" beyond the "
                           "others (F = {F}, {p})."},
    "f_margin": {
        "de": "{label}: vorhergesagt {yes} ({ci_yes}) mit, {no} ({ci_no}) ohne; {verdict}.",
        "en": "{label}: predicted {yes} ({ci_yes}) with, {no} ({ci_no}) without; {verdict}."},
    "margin_clear": {"de": "die Konfidenzintervalle überschneiden sich nicht",
                     "en": "the confidence intervals do not overlap"},
    "margin_unclear": {"de": "kein klarer Unterschied (die Konfidenzintervalle überschneiden sich)",
                       "en": "no clear difference (the confidence intervals overlap)"},
    "no_models": {"de": "Die Studie plant keine Modelle.", "en": "The study plans no models."},
    "term": {"de": "Modellterm", "en": "Term"},
    "coefficient": {"de": "Koeffizient", "en": "Coefficient"},
    "reference": {"de": "Referenz: {ref}", "en": "reference: {ref}"},
}


def say(key: str, lang: str, **fields) -> str:
    """The page text ``key`` in ``lang`` with ``{fields}`` filled in.

    >>> say("h_by", "de", var="Region")
    'Aufgeschlüsselt nach: Region'
    """
    check_lang(lang)
    try:
        text = TEXT[key][lang]
    except KeyError:
        raise KeyError(f"no page text {key!r}") from None
    return text.format(**fields) if fields else text


# ---------------------------------------------------------------------------------------------
# findings

@dataclass(frozen=True)
class Finding:
    """One sentence and the numbers it quotes (name -> value, as estimated, unrounded)."""

    text: str
    quotes: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def share_finding(label: str, est: pd.Series, lang: str, kind: str = "share") -> Finding:
    """"<label>: 36.7% (95% CI 33.5–39.9; n = 1,142)." from one row of an estimate table."""
    n = fmt_int(est["n"], lang)
    if kind == "mean":
        text = say("f_mean", lang, label=label, est=fmt_num(est["estimate"], lang, 2), n=n,
                   ci=fmt_ci(est["ci_low"], est["ci_high"], lang, percent=False, digits=2))
    else:
        text = say("f_share", lang, label=label, pct=fmt_pct(est["estimate"], lang), n=n,
                   ci=fmt_ci(est["ci_low"], est["ci_high"], lang))
    return Finding(text, {"estimate": float(est["estimate"]), "ci_low": float(est["ci_low"]),
                          "ci_high": float(est["ci_high"]), "n": int(est["n"])})


def _shown(est: pd.DataFrame, suppress: pd.Series | None) -> pd.DataFrame:
    est = est[est["estimate"].notna()]
    if suppress is not None:
        est = est[~suppress.reindex(est.index, fill_value=True).to_numpy()]
    return est


def outcome_findings(est: pd.DataFrame, labels, lang: str, suppress: pd.Series | None = None,
                     kind: str = "share", limit: int = 3) -> list[Finding]:
    """The highest and lowest of several outcomes (one row each), as sentences; suppressed rows
    are never quoted."""
    est = _shown(est, suppress)
    if est.empty:
        return []
    order = est.sort_values("estimate", ascending=False, kind="stable")
    picks = list(dict.fromkeys([order.index[0], order.index[-1]] + list(order.index[1:limit])))[:limit]
    return [share_finding(labels(v), est.loc[v], lang, kind) for v in picks]


def domain_finding(label: str, var_label: str, est: pd.DataFrame, lang: str,
                   suppress: pd.Series | None = None, kind: str = "share") -> Finding | None:
    """The highest against the lowest domain of one outcome: "higher for A than for B" only
    when their 95% CIs do not overlap, otherwise "no clear difference".

    ``est`` is indexed by the domain's categories (estimate, ci_low, ci_high).
    """
    est = _shown(est, suppress)
    if len(est) < 2:
        return None
    hi_cat = est["estimate"].idxmax()
    lo_cat = est["estimate"].idxmin()
    hi, lo = est.loc[hi_cat], est.loc[lo_cat]
    fmt = (lambda x: fmt_pct(x, lang)) if kind == "share" else (lambda x: fmt_num(x, lang, 2))
    clear = lo["ci_high"] < hi["ci_low"]
    text = say("f_domain_diff" if clear else "f_domain_same", lang, label=label, var=var_label,
               hi_cat=hi_cat, lo_cat=lo_cat, hi=fmt(hi["estimate"]), lo=fmt(lo["estimate"]))
    return Finding(text, {"high": float(hi["estimate"]), "low": float(lo["estimate"]),
                          "clear": bool(clear), "high_category": str(hi_cat),
                          "low_category": str(lo_cat)})


def published_finding(label: str, est: pd.Series, value: float, lang: str) -> Finding:
    inside = est["ci_low"] <= value <= est["ci_high"]
    text = say("f_published", lang, label=label, pct=fmt_pct(est["estimate"], lang),
               ci=fmt_ci(est["ci_low"], est["ci_high"], lang), pub=fmt_pct(value, lang),
               verdict=say("inside_ci" if inside else "outside_ci", lang))
    return Finding(text, {"estimate": float(est["estimate"]), "ci_low": float(est["ci_low"]),
                          "ci_high": float(est["ci_high"]), "published": float(value),
                          "inside": bool(inside)})


def term_findings(model_label: str, coefs: pd.DataFrame, lang: str, ratio: str | None,
                  limit: int = 2) -> list[Finding]:
    """Sentences on the terms of one model: the clearest associations (p < 0.05 and the CI
    excluding no effect), strongest first, or "no clear association" when there is none.

    ``coefs``: estimate, ci_low, ci_high, p on the link scale, indexed by readable term labels.
    """
    sig = coefs[(coefs["p"] < ALPHA) & ((coefs["ci_low"] > 0) | (coefs["ci_high"] < 0))]
    if sig.empty:
        if not len(coefs):
            return []
        p_min = float(coefs["p"].min())
        return [Finding(say("f_term_none", lang, model=model_label,
                            p_min=fmt_num(p_min, lang, 3)), {"p_min": p_min})]
    out = []
    for term, row in sig.reindex(sig["p"].sort_values(kind="stable").index).head(limit).iterrows():
        up = row["estimate"] > 0
        what = {"OR": "odds", "RR": "rate"}.get(ratio, "mean")
        direction = say(f"{'higher' if up else 'lower'}_{what}", lang)
        if ratio:
            stat = f"{ratio} {fmt_num(math.exp(row['estimate']), lang, 2)}"
            ci = fmt_ci(math.exp(row["ci_low"]), math.exp(row["ci_high"]), lang, percent=False, digits=2)
        else:
            stat = f"b = {fmt_num(row['estimate'], lang, 2)}"
            ci = fmt_ci(row["ci_low"], row["ci_high"], lang, percent=False, digits=2)
        out.append(Finding(say("f_term_sig", lang, model=model_label, term=term, direction=direction,
                               stat=stat, ci=ci, p=fmt_p(row["p"], lang)),
                           {"estimate": float(row["estimate"]), "p": float(row["p"])}))
    return out


def block_findings(outcome_label: str, blocks: pd.DataFrame, lang: str, names) -> list[Finding]:
    """One sentence per block of a block comparison (F, p, ΔD²); "adds" only when p < 0.05."""
    out = []
    for block, row in blocks.iterrows():
        key = "f_block_sig" if row["p"] < ALPHA else "f_block_none"
        out.append(Finding(say(key, lang, outcome=outcome_label, block=names(block),
                               F=fmt_num(row["F"], lang, 2), p=fmt_p(row["p"], lang),
                               d2=fmt_num(row["delta_d2"], lang, 3)),
                           {"F": float(row["F"]), "p": float(row["p"]),
                            "delta_d2": float(row["delta_d2"])}))
    return out


def margin_finding(label: str, margins: pd.DataFrame, lang: str) -> Finding:
    """Predictive margins of a 0/1 predictor at 1 ("with") and 0 ("without") in one sentence;
    a difference is stated only when the two 95% CIs do not overlap."""
    yes, no = margins.loc[1], margins.loc[0]
    clear = yes["ci_high"] < no["ci_low"] or no["ci_high"] < yes["ci_low"]
    text = say("f_margin", lang, label=label, yes=fmt_pct(yes["estimate"], lang),
               ci_yes=fmt_ci(yes["ci_low"], yes["ci_high"], lang), no=fmt_pct(no["estimate"], lang),
               ci_no=fmt_ci(no["ci_low"], no["ci_high"], lang),
               verdict=say("margin_clear" if clear else "margin_unclear", lang))
    return Finding(text, {"with": float(yes["estimate"]), "without": float(no["estimate"]),
                          "clear": bool(clear)})


def scale_finding(label: str, k: int, result, lang: str) -> Finding:
    """One sentence on a scale's reliability (alpha with its CI, omega, n)."""
    a = result.estimates.loc["alpha"]
    omega = result.estimates.loc["omega", "estimate"] if "omega" in result.estimates.index else math.nan
    text = say("f_scale", lang, label=label, k=k, alpha=fmt_num(a["estimate"], lang, 2),
               ci=fmt_ci(a["ci_low"], a["ci_high"], lang, percent=False, digits=2),
               omega=fmt_num(omega, lang, 2), n=fmt_int(result.n, lang))
    return Finding(text, {"alpha": float(a["estimate"]), "omega": float(omega), "n": int(result.n)})


def reliability_table(result, lang: str) -> pd.DataFrame:
    """Alpha and omega: estimate, 95% CI and n."""

    est = result.estimates
    return pd.DataFrame({t("estimate", lang): [fmt_num(x, lang, 2) for x in est["estimate"]],
                         t("ci", lang): [f"{fmt_num(lo, lang, 2)}{DASH}{fmt_num(hi, lang, 2)}"
                                         for lo, hi in zip(est["ci_low"], est["ci_high"])],
                         "n": fmt_int(result.n, lang)},
                        index=pd.Index(["Cronbach α" if i == "alpha" else "McDonald ω" for i in est.index],
                                       name=say("statistic", lang)))


def scale_items_table(result, lang: str) -> pd.DataFrame:
    """Per item: item-rest correlation and alpha if the item is dropped."""
    items = result.items
    return pd.DataFrame({say("item_rest", lang): [fmt_num(x, lang, 2) for x in items["item_rest_r"]],
                         say("alpha_if_dropped", lang): [fmt_num(x, lang, 2)
                                                         for x in items["alpha_if_dropped"]]},
                        index=pd.Index(items.index, name=say("item", lang)))


# ---------------------------------------------------------------------------------------------
# showing them in a notebook

def markdown(findings, lang: str, heading: str | None = None):
    """Key findings as a Markdown list (displayed by a notebook, rendered in the report)."""
    from IPython.display import Markdown  # noqa: PLC0415 - IPython only inside a notebook kernel

    items = [str(f) for f in findings if f is not None][:5]
    head = f"**{heading or say('key_findings', lang)}**\n\n" if items else ""
    return Markdown(head + "\n".join(f"- {_md(s)}" for s in items))


def _md(text: str) -> str:
    """Text safe inside Markdown (no emphasis or HTML from labels)."""
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)


def text(key: str, lang: str, level: int = 0, **fields):
    """A heading (``level`` 1-3) or paragraph (0) of page text as Markdown."""
    from IPython.display import Markdown  # noqa: PLC0415 - IPython only inside a notebook kernel

    body = _md(say(key, lang, **fields))
    return Markdown(("#" * level + " " if level else "") + body)


def plain(body: str, level: int = 0):
    """A heading or paragraph of given (already localised) text as Markdown."""
    from IPython.display import Markdown  # noqa: PLC0415 - IPython only inside a notebook kernel

    return Markdown(("#" * level + " " if level else "") + _md(body))


# ---------------------------------------------------------------------------------------------
# the study in a few sentences (the index page)

def study_summary(rd, k: int = 5, limit: int = 5) -> list[Finding]:
    """An executive summary of the whole study: records, response, and the headline estimates
    (weighted when the study has a design), each sentence from the numbers it quotes.

    >>> from surveydata.report import data as reportdata
    >>> [f.text for f in study_summary(reportdata.load_data(lang="en"))][:1]   # doctest: +SKIP
    ['Of 1,621 records received, 1,577 are valid (97.3%); 44 were quarantined.']
    """

    lang = rd.lang
    out = quality_findings(rd, k)[:1]
    rate = reportdata.response_rate(rd)
    if rate is not None:
        out.append(Finding(say("f_response", lang, rate=fmt_pct(rate, lang),
                               n_valid=fmt_int(rd.strata["n_valid"].sum(), lang),
                               n_inv=fmt_int(rd.strata["n_invited"].sum(), lang)),
                           {"rate": rate}))
    shares = rd.outcomes("share")
    if shares and len(rd.valid):
        d = reportdata.weighting(rd).final
        est = reportdata.prevalence(d, shares)
        suppress = reportdata.too_few(est, k)
        out += outcome_findings(est, rd.label, lang, suppress, limit=2)
        first = next((v for v in est.index if not suppress[v]), None)
        domains = rd.domains()
        if first is not None and domains:
            table = reportdata.prevalence(d, [first], by=domains[0])
            found = domain_finding(rd.label(first), rd.label(domains[0]),
                                   table.xs(first, level="variable"), lang,
                                   reportdata.too_few(table, k).xs(first, level="variable"))
            if found is not None:
                out.append(found)
        models = reportdata.models(rd)
        if models:
            m = models[0]
            out += term_findings(m.label, reportdata.coefficient_frame(reportdata.fit(m, d), rd),
                                 lang, m.ratio, limit=1)
    if not rd.weighted:
        out.append(Finding(say("unweighted_note", lang)))
    return out[:limit + 1]


def quality_findings(rd, k: int = 5) -> list[Finding]:
    """Records received, valid and quarantined; the most frequent reason; the item most often
    left unanswered; flags. A count of 1 to k-1 (suppressed in the tables) is never quoted."""

    lang = rd.lang
    small = lambda n: 0 < n < k
    n_raw, n_valid, n_q = rd.n_raw, len(rd.valid), len(rd.quarantine)
    out = [Finding(say("f_records", lang, n_raw=fmt_int(n_raw, lang), n_valid=fmt_int(n_valid, lang),
                       share=fmt_pct(n_valid / n_raw if n_raw else 0.0, lang), n_q=fmt_int(n_q, lang),
                       went=say("went_1" if n_q == 1 else "went", lang)),
                   {"n_raw": n_raw, "n_valid": n_valid, "n_quarantined": n_q})]
    reasons = reportdata.quarantine_by_reason(rd)
    if len(reasons) and not small(int(reasons.iloc[0])):
        out.append(Finding(say("f_top_reason", lang, reason=t(reasons.index[0], lang),
                               n=fmt_int(reasons.iloc[0], lang)), {"n": int(reasons.iloc[0])}))
    nonresponse = reportdata.item_nonresponse(rd).dropna(subset=["share_missing"])
    nonresponse = nonresponse[~(nonresponse["dont_know"].map(small) | nonresponse["no_answer"].map(small))]
    if len(nonresponse) and nonresponse["share_missing"].max() > 0:
        top = nonresponse["share_missing"].idxmax()
        row = nonresponse.loc[top]
        out.append(Finding(say("f_nonresponse", lang, item=rd.label(top),
                               share=fmt_pct(row["share_missing"], lang),
                               asked=fmt_int(row["asked"], lang)),
                           {"share": float(row["share_missing"]), "asked": int(row["asked"])}))
    if len(rd.flags):
        n = int(rd.flags["line"].nunique()) if "line" in rd.flags else len(rd.flags)
        if not small(n):
            out.append(Finding(say("f_flags", lang, n=fmt_int(n, lang)), {"n": n}))
    return out


def as_frame(findings) -> pd.DataFrame:
    """Findings as a table (text and the quoted numbers), e.g. for a download."""
    return pd.DataFrame([{"finding": f.text, **{k: v for k, v in f.quotes.items()
                                                   if isinstance(v, (int, float, np.floating))}}
                         for f in findings])


def sample_findings(rd, w, k: int = 5) -> list[Finding]:
    """Response rate overall and its range over the strata variables, the design effect of the
    final weights, and the largest gap between the unweighted sample and the population."""

    lang = rd.lang
    out = []
    rate = reportdata.response_rate(rd)
    if rate is not None:
        out.append(Finding(say("f_response", lang, rate=fmt_pct(rate, lang),
                               n_valid=fmt_int(rd.strata["n_valid"].sum(), lang),
                               n_inv=fmt_int(rd.strata["n_invited"].sum(), lang)), {"rate": rate}))
        for var in reportdata.strata_variables(rd)[:1]:
            rates = reportdata.response_rates(rd, var)
            rates = rates[rates["n_valid"] >= k]
            if len(rates) >= 2:
                lo, hi = rates["rate"].idxmin(), rates["rate"].idxmax()
                out.append(Finding(say("f_response_range", lang, var=rd.label(var),
                                       lo=fmt_pct(rates.loc[lo, "rate"], lang), lo_cat=lo,
                                       hi=fmt_pct(rates.loc[hi, "rate"], lang), hi_cat=hi),
                                   {"low": float(rates.loc[lo, "rate"]),
                                    "high": float(rates.loc[hi, "rate"])}))
    if w.weighted:
        s = w.final.weight_diagnostics().summary
        out.append(Finding(say("f_weights", lang, deff=fmt_num(s["deff_w"], lang, 2),
                               n_eff=fmt_int(round(s["n_eff"]), lang), n=fmt_int(s["n"], lang)),
                           {"deff": float(s["deff_w"]), "n_eff": float(s["n_eff"]), "n": int(s["n"])}))
        gaps = []
        for var in reportdata.raking_variables(rd):
            comp = reportdata.composition(w, rd, var)
            comp = comp[comp["n"] >= k]
            if len(comp):
                cat = (comp["sample"] - comp["population"]).abs().idxmax()
                gaps.append((abs(comp.loc[cat, "sample"] - comp.loc[cat, "population"]), var, cat,
                             comp.loc[cat]))
        if gaps:
            _, var, cat, row = max(gaps, key=lambda g: g[0])
            out.append(Finding(say("f_composition", lang, cat=cat, var=rd.label(var),
                                   sample=fmt_pct(row["sample"], lang), pop=fmt_pct(row["population"], lang),
                                   weighted=fmt_pct(row["weighted"], lang)),
                               {"sample": float(row["sample"]), "population": float(row["population"]),
                                "weighted": float(row["weighted"])}))
    return out


def estimate_findings(rd, est: pd.DataFrame, by_domain: dict, k: int = 5) -> list[Finding]:
    """Key findings of the estimates page: the highest and lowest outcome, the first outcome's
    comparison over every domain (as far as the CIs allow) and the published figures."""

    lang = rd.lang
    out = outcome_findings(est, rd.label, lang, reportdata.too_few(est, k), limit=2)
    first = next((v for v in est.index if not reportdata.too_few(est, k).get(v, True)), None)
    for domain, table in by_domain.items():
        if first is None:
            break
        rows = table.xs(first, level="variable") if first in table.index.get_level_values("variable") else None
        if rows is not None:
            supp = reportdata.too_few(table, k).xs(first, level="variable")
            f = domain_finding(rd.label(first), rd.label(domain), rows, lang, supp)
            if f is not None:
                out.append(f)
    pub = reportdata.published(rd)
    for var, row in pub.iterrows():
        if var in est.index and len(out) < 5:
            out.append(published_finding(rd.label(var), est.loc[var], row["value"], lang))
    return out[:5]


# ---------------------------------------------------------------------------------------------
# tables of the generic pages (text cells in the edition's locale)

def share_table(est: pd.DataFrame, labels, lang: str, suppress: pd.Series | None = None,
                kind: str = "share", marker: str = "•") -> pd.DataFrame:
    """Estimates as a table: estimate (% for shares), 95% CI and n, rows labelled; suppressed
    rows show the marker in every cell."""

    pct = kind == "share"
    scale, digits = (100, 1) if pct else (1, 2)
    rows = {}
    for var, r in est.iterrows():
        hide = suppress is not None and bool(suppress.get(var, False))
        rows[labels(var)] = ([marker] * 3 if hide else
                             [fmt_num(scale * r["estimate"], lang, digits),
                              (f"{fmt_num(scale * r['ci_low'], lang, digits)}{DASH}"
                              f"{fmt_num(scale * r['ci_high'], lang, digits)}"),
                              fmt_int(r["n"], lang)])
    head = t("share_pct", lang) if pct else say("mean", lang)
    return pd.DataFrame.from_dict(rows, orient="index", columns=[head, t("ci", lang), "n"])


def domain_table(est: pd.DataFrame, domain: str, labels, lang: str, suppress: pd.Series,
                 kind: str = "share", marker: str = "•", group_n: pd.Series | None = None,
                 k: int = 5) -> pd.DataFrame:
    """Outcomes (rows) by the categories of a domain (columns): "estimate (lo–hi; n = answered)".

    ``group_n`` (unweighted respondents per category) adds a first row with each column's n. It
    is suppressed like the cells it belongs to: when 1 to ``k``-1 respondents are in the group
    (with the next smallest, so that it does not follow from the total), or when every cell of
    its column is suppressed (the column then shows nothing).

    The n of a cell (respondents of the group who answered the item) is a published count too:
    answered plus not answered is the group's size, and the groups' answered counts add up to
    the item's n on the overall table. So each item's counts are protected as a table of the
    groups by answered / not answered whose row totals are the group sizes: the not-answered
    column and the group sizes hidden in the first row are never published, and a cell's n is
    left out when it would give one of them away (an item that everybody answered shows each
    group's size). Each such table is recorded for the report's disclosure audit."""
    scale, digits = (100, 1) if kind == "share" else (1, 2)
    raw = list(dict.fromkeys(est.index.get_level_values(domain)))
    cats = [str(c) for c in raw]
    variables = list(dict.fromkeys(est.index.get_level_values(1)))
    hide_n: dict = {}
    first = None
    if group_n is not None:
        hidden = suppress.groupby(level=domain, sort=False).all()
        sizes = pd.DataFrame({"n": [int(group_n.get(cat, 0)) for cat in raw]},
                             index=pd.Index(cats, name=domain))
        # the group sizes add up to a published total: a lone small one would follow from the
        # others (a one-way table with its total, recorded for the report's disclosure audit)
        small = suppression_mask(sizes, k, row_totals=False, col_totals=True,
                                 name=f"group sizes {domain}")["n"].iloc[:-1]
        counts = {}
        for cat, c in zip(raw, cats):
            hide = bool(small[c]) or bool(hidden.get(cat, True))
            counts[c] = marker if hide else fmt_int(sizes.loc[c, "n"], lang)
        first = pd.DataFrame([counts], index=[say("group_n", lang)])[cats]
        for var in variables:
            hide_n[var] = _answered_mask(est, var, raw, cats, sizes["n"], small, suppress, domain, k)
    cells = {}
    for (cat, var), r in est.iterrows():
        n_part = ("" if var in hide_n and bool(hide_n[var].get(str(cat), False))
                  else f"; n = {fmt_int(r['n'], lang)}")
        text = (marker if bool(suppress.loc[(cat, var)]) else
                f"{fmt_num(scale * r['estimate'], lang, digits)} "
                f"({fmt_num(scale * r['ci_low'], lang, digits)}{DASH}"
                f"{fmt_num(scale * r['ci_high'], lang, digits)}{n_part})")
        cells.setdefault(labels(var), {})[str(cat)] = text
    table = pd.DataFrame.from_dict(cells, orient="index")[cats]
    return table if first is None else pd.concat([first, table])


def _answered_mask(est: pd.DataFrame, var, raw: list, cats: list, sizes: pd.Series,
                   size_hidden: pd.Series, suppress: pd.Series, domain: str, k: int) -> pd.Series:
    """Groups whose n of ``var`` must not be shown (see :func:`domain_table`): the suppression
    pattern of the table groups x (answered, not answered) with the group sizes as row totals,
    the sizes the first row hides and every not-answered count never published, the sizes it
    shows and the column totals (the item's n overall and its complement) taken as known."""

    answered = [int(est.loc[(cat, var), "n"]) if (cat, var) in est.index else 0 for cat in raw]
    missing = [max(int(s) - a, 0) for s, a in zip(sizes, answered)]
    cols = pd.Index(["answered", "not answered"], name=f"response to {var}")
    counts = pd.DataFrame({"answered": answered, "not answered": missing},
                          index=pd.Index(cats, name=domain))[cols]
    counts.columns = cols
    rows = cats + [TOTAL]
    columns = list(cols) + [TOTAL]
    hidden = pd.DataFrame(False, index=rows, columns=columns)
    hidden["not answered"] = True
    hidden.loc[cats, TOTAL] = size_hidden.reindex(cats).fillna(False).to_numpy(dtype=bool)
    # an estimate the page suppresses shows no n either
    hidden.loc[cats, "answered"] = [bool(suppress.get((cat, var), True)) for cat in raw]
    published = ~hidden
    published.loc[cats, "answered"] = False
    # the totals are public elsewhere: the item's n on the page of overall estimates, the
    # respondents on the quality page, so their difference (the item's non-answers in all, not
    # printed here) follows from them: nothing in the total row is protected by this table
    published.loc[TOTAL, :] = True
    hidden.loc[TOTAL, :] = False
    published.loc[TOTAL, "not answered"] = False
    hidden.loc[TOTAL, "not answered"] = True
    exempt = pd.DataFrame(False, index=rows, columns=columns)
    exempt.loc[TOTAL, :] = True
    mask = suppression_mask(counts, k, row_totals=True, col_totals=True,
                            name=f"answered {var} by {domain}", published=published, hidden=hidden,
                            exempt=exempt)
    return mask.loc[cats, "answered"]


def frequency_table(freq: pd.DataFrame, lang: str, k: int = 5, marker: str = "•") -> pd.DataFrame:
    """Unweighted frequencies (n, %) of one item; counts of 1 to k-1 respondents suppressed,
    with what would give them away: the shares give the total (n / share), so a lone suppressed
    count would follow from it (surveydata.report.disclosure: a one-way table with its total)."""

    counts = pd.DataFrame({"n": freq["n"].astype("int64").to_numpy()},
                          index=pd.Index(freq.index.astype(str), name=str(freq.index.name or "answer")))
    small = suppression_mask(counts, k, row_totals=False, col_totals=True,
                             name=f"frequencies {freq.index.name or ''}".strip())["n"].iloc[:-1].to_numpy()
    return pd.DataFrame({"n": [marker if s else fmt_int(n, lang) for n, s in zip(freq["n"], small)],
                         t("share_pct", lang): [marker if s or pd.isna(p) else fmt_num(100 * p, lang, 1)
                                                for p, s in zip(freq["share"], small)]},
                        index=pd.Index(freq.index.astype(str), name=say("answer", lang)))


def multi_table(freq: pd.DataFrame, respondents: int, lang: str, k: int = 5,
                marker: str = "•", name: str | None = None) -> pd.DataFrame:
    """Unweighted ticks (n, % of ``respondents``) of each option of a multiple-choice item.

    The options are separate yes/no counts: they do not add up to anything published, so no
    option's count follows from the others and there is no secondary suppression across them.
    Each option is its own table, ticked + not ticked = the item's respondents (public: an
    option's n divided by its share): its n is suppressed when 1 to k-1 respondents ticked it,
    or when 1 to k-1 did not (the n would show them). Each option's table is recorded for the
    report's disclosure audit with that relation."""

    var = str(freq.index.name or name or "option")
    cols = pd.Index(["ticked", "not ticked"], name=f"{var} ticked")
    layout = {"index": None, "columns": list(cols) + [TOTAL]}
    small = []
    for option, n in zip(freq.index.astype(str), freq["n"].astype("int64")):
        counts = pd.DataFrame([[int(n), max(respondents - int(n), 0)]],
                              index=pd.Index([option], name=var), columns=cols)
        layout["index"] = [option]
        hidden = pd.DataFrame([[False, True, respondents < k]], **layout)
        known = ~hidden
        known.loc[option, "ticked"] = False
        exempt = pd.DataFrame([[False, False, respondents >= k]], **layout)
        mask = suppression_mask(counts, k, row_totals=True, col_totals=False, published=known,
                                hidden=hidden, exempt=exempt, name=f"{name or var}: {option}")
        small.append(bool(mask.loc[option, "ticked"]) or respondents < k)
    return pd.DataFrame({"n": [marker if s else fmt_int(n, lang) for n, s in zip(freq["n"], small)],
                         t("share_pct", lang): [marker if s or pd.isna(p) else fmt_num(100 * p, lang, 1)
                                                for p, s in zip(freq["share"], small)]},
                        index=pd.Index(freq.index.astype(str), name=say("answer", lang)))


def numeric_table(stats: pd.DataFrame, lang: str, k: int = 5, marker: str = "•") -> pd.DataFrame:
    """n, mean, median, min and max of numeric items (rows); items of fewer than k suppressed.
    Minimum and maximum are left out: a single respondent's answer."""
    out = {}
    for label, r in stats.iterrows():
        hide = r["n"] < k
        out[label] = [fmt_int(r["n"], lang)] + ([marker] * 2 if hide else
                                                [fmt_num(r["mean"], lang, 2), fmt_num(r["median"], lang, 2)])
    return pd.DataFrame.from_dict(out, orient="index", columns=["n", say("mean", lang), say("median", lang)])
