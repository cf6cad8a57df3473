"""Findings in words: every number in a sentence is the estimate it quotes, in the edition's
locale, and comparisons go no further than the CIs and tests allow."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from surveydata.report import data as reportdata
from surveydata.report import findings as fd


@pytest.mark.parametrize("x, lang, want", [
    (1 / 3, "de", "33,3 %"), (1 / 3, "en", "33.3%"), (0.0, "de", "0,0 %"), (1.0, "en", "100.0%")])
def test_percent_in_the_locale(x, lang, want):
    assert fd.fmt_pct(x, lang) == want


@pytest.mark.parametrize("n, lang, want", [
    (1621, "de", "1.621"), (1621, "en", "1,621"), (141655, "de", "141.655"), (12, "en", "12")])
def test_counts_in_the_locale(n, lang, want):
    assert fd.fmt_int(n, lang) == want


def test_decimals_p_values_and_intervals_in_the_locale():
    assert fd.fmt_num(11.24, "de", 1) == "11,2" and fd.fmt_num(251.9, "en", 1) == "251.9"
    assert fd.fmt_num(-0.004, "de", 2) == "0,00"            # no "minus zero"
    assert fd.fmt_num(-1.5, "en", 1) == "−1.5"
    assert fd.fmt_p(0.0001, "de") == "p < 0,001" and fd.fmt_p(0.0412, "en") == "p = 0.041"
    assert fd.fmt_ci(0.335, 0.399, "de") == "95-%-KI 33,5–39,9"
    assert fd.fmt_ci(0.335, 0.399, "en") == "95% CI 33.5–39.9"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_numbers_read_back_from_a_sentence(lang):
    text = fd.share_finding("X", pd.Series({"estimate": 0.36687, "ci_low": 0.33456, "ci_high": 0.39918,
                                            "n": 11142}), lang).text
    assert fd.parse_numbers(text, lang) == [36.7, 95.0, 33.5, 39.9, 11142.0]


def _est(rows):
    return pd.DataFrame(rows, columns=["estimate", "ci_low", "ci_high", "n"]).set_index(
        pd.Index(["a", "b", "c"][:len(rows)]))


def test_overlapping_intervals_are_no_clear_difference():
    est = _est([[0.30, 0.25, 0.35, 100], [0.34, 0.29, 0.39, 100]])
    f = fd.domain_finding("Backup", "Region", est, "en")
    assert "no clear difference" in f.text and not f.quotes["clear"]
    assert "höher" not in fd.domain_finding("Backup", "Region", est, "de").text


def test_separate_intervals_are_stated_as_a_difference_with_the_right_direction():
    est = _est([[0.20, 0.15, 0.25, 100], [0.50, 0.44, 0.56, 100]])
    f = fd.domain_finding("Backup", "Region", est, "en")
    assert f.text.startswith("Backup: higher for b (50.0%) than for a (20.0%)")
    assert f.quotes["clear"]


def test_a_suppressed_cell_is_never_quoted():
    est = _est([[0.20, 0.15, 0.25, 3], [0.50, 0.44, 0.56, 100], [0.40, 0.35, 0.45, 100]])
    f = fd.domain_finding("Backup", "Region", est, "en", suppress=pd.Series([True, False, False],
                                                                            index=est.index))
    assert "20.0" not in f.text and "for a" not in f.text


def test_model_terms_are_reported_only_when_the_test_supports_them():
    coefs = pd.DataFrame({"estimate": [0.8, 0.1], "ci_low": [0.3, -0.2], "ci_high": [1.3, 0.4],
                          "p": [0.002, 0.51]}, index=["Trained", "Size"])
    found = fd.term_findings("Incidents", coefs, "en", "OR")
    assert len(found) == 1 and "Trained goes with higher odds" in found[0].text
    assert "OR 2.23" in found[0].text                       # exp(0.8)
    assert "Size" not in found[0].text
    none = fd.term_findings("Incidents", coefs.iloc[[1]], "de", "OR")
    assert "kein Modellterm hängt klar" in none[0].text and "0,510" in none[0].text


def test_published_figures_inside_or_outside_the_interval():
    est = pd.Series({"estimate": 0.367, "ci_low": 0.335, "ci_high": 0.399})
    assert "inside" in fd.published_finding("G", est, 0.35, "en").text
    assert "outside" in fd.published_finding("G", est, 1 / 3, "en").text     # 33.3 < 33.5
    assert "außerhalb" in fd.published_finding("G", est, 0.10, "de").text


# ---------------------------------------------------------------------------------------------
# on the demo: each stated finding against the estimate table it quotes

@pytest.fixture(scope="module", params=["en", "de"])
def demo(request):
    rd = reportdata.load_data(lang=request.param)
    d = reportdata.weighting(rd).final
    est = reportdata.prevalence(d, rd.outcomes("share"))
    by = {dom: reportdata.prevalence(d, rd.outcomes("share"), by=dom) for dom in rd.domains()}
    return rd, est, by


def _var_of(rd, label):
    return next(v for v in rd.outcomes() if rd.label(v) == label)


def test_each_estimate_finding_quotes_its_estimate(demo):
    rd, est, by = demo
    found = fd.estimate_findings(rd, est, by, k=5)
    assert 2 <= len(found) <= 5
    checked = 0
    pattern = re.compile(r"^(.+?): (?:geschätzt )?(?:estimated )?[\d.,]+ ?%")
    for f in found:
        m = pattern.match(f.text)
        if not m or "high_category" in f.quotes:
            continue
        var = _var_of(rd, m.group(1))
        row = est.loc[var]
        numbers = fd.parse_numbers(f.text[len(m.group(1)):], rd.lang)
        assert numbers[0] == round(100 * row["estimate"], 1), f.text
        assert numbers[2:4] == [round(100 * row["ci_low"], 1), round(100 * row["ci_high"], 1)], f.text
        checked += 1
    assert checked >= 2


def test_the_domain_finding_quotes_the_domain_estimates(demo):
    rd, est, by = demo
    found = [f for f in fd.estimate_findings(rd, est, by, k=5) if "high_category" in f.quotes]
    assert found, "a comparison over a domain is stated"
    for f in found:
        domain = next(d for d in by if f.quotes["high_category"] in
                      set(by[d].index.get_level_values(d).astype(str)))
        var = next(v for v in est.index if f.text.startswith(rd.label(v)))
        table = by[domain].xs(var, level="variable")
        hi, lo = table.loc[f.quotes["high_category"]], table.loc[f.quotes["low_category"]]
        assert hi["estimate"] == table["estimate"].max() and lo["estimate"] == table["estimate"].min()
        pcts = [n for n in fd.parse_numbers(f.text.split(":", 1)[1], rd.lang)]
        assert round(100 * hi["estimate"], 1) in pcts and round(100 * lo["estimate"], 1) in pcts
        assert f.quotes["clear"] == bool(lo["ci_high"] < hi["ci_low"])


def test_the_study_summary_quotes_records_response_and_estimates(demo):
    rd, est, _ = demo
    summary = fd.study_summary(rd)
    assert 3 <= len(summary) <= 6
    first = fd.parse_numbers(summary[0].text, rd.lang)
    assert first[:2] == [rd.n_raw, len(rd.valid)] and first[-1] == len(rd.quarantine)
    rate = fd.parse_numbers(summary[1].text, rd.lang)
    assert rate[0] == round(100 * len(rd.valid) / rd.strata["n_invited"].sum(), 1)
    assert rate[1:] == [len(rd.valid), rd.strata["n_invited"].sum()]
    thousands = "1.577" if rd.lang == "de" else "1,577"
    assert thousands in summary[0].text
    quoted = [f for f in summary if "ci_low" in f.quotes]
    assert quoted, "the summary states headline estimates"
    for f in quoted:
        var = _var_of(rd, f.text.split(":", 1)[0])
        numbers = fd.parse_numbers(f.text.split(":", 1)[1], rd.lang)
        assert numbers[0] == round(100 * est.loc[var, "estimate"], 1)
        assert numbers[-1] == est.loc[var, "n"]


def test_sample_findings_quote_the_weight_diagnostics(demo):
    rd, _, _ = demo
    w = reportdata.weighting(rd)
    found = fd.sample_findings(rd, w)
    s = w.final.weight_diagnostics().summary
    deff = next(f for f in found if "deff" in f.quotes)
    numbers = fd.parse_numbers(deff.text, rd.lang)
    assert numbers[0] == round(s["deff_w"], 2) and numbers[1] == round(s["n_eff"]) and numbers[2] == s["n"]


def test_english_findings_carry_no_german_and_vice_versa(demo):
    rd, est, by = demo
    text = " ".join(f.text for f in fd.estimate_findings(rd, est, by) + fd.study_summary(rd))
    if rd.lang == "en":
        assert not re.search(r"\b(und|der|die|nicht|Befragte|gültig)\b", text)
    else:
        assert not re.search(r"\b(the|and|records|valid|higher|lower)\b", text)
        assert not re.search(r"\d\.\d%", text)               # no English decimals in German


def test_model_findings_state_the_test_they_rest_on(demo):
    rd, _, _ = demo
    from surveydata.report import pages

    d = reportdata.weighting(rd).final
    fits = pages.fit_models(rd, d)
    for m, fit, _ in fits.values():
        coefs = reportdata.coefficient_frame(fit, rd)
        for f in fd.term_findings(m.label, coefs, rd.lang, m.ratio):
            if "p" in f.quotes and m.ratio:
                assert f.quotes["p"] < 0.05
                term = next(t for t in coefs.index if f": {t} " in f.text)
                row = coefs.loc[term]
                shown = fd.parse_numbers(f.text.split(f"({m.ratio} ", 1)[1], rd.lang)
                assert shown[0] == pytest.approx(round(float(np.exp(row["estimate"])), 2))
                assert shown[2:4] == pytest.approx([round(float(np.exp(row["ci_low"])), 2),
                                                    round(float(np.exp(row["ci_high"])), 2)])
