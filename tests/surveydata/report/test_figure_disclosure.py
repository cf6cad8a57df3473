"""Figures publish no number that a table on the same page suppresses (demo survey, k = 60).

The generic pages' sections (data quality, sample and weighting, estimates) are run in this
process twice, as the notebooks run them: once with the disclosure threshold k = 60 and once
with k = 1 (nothing suppressed, which gives every cell's true text). Every table cell that
shows the suppression marker at k = 60 has its k = 1 numbers looked up; no figure's data (what
becomes the figure's CSV and the report's estimates.csv) and no figure description (alt text)
of the k = 60 run may carry one of them for the same row. A figure row of a suppressed table
row must be drawn as the marker (estimate missing) and described as suppressed.
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from surveydata.report import data as rdata
from surveydata.report import pages, plots
from surveydata.report.disclosure import MARKER

K = 60
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _run_pages(rd, w, est, by_domain, k, monkeypatch) -> tuple[list[pd.DataFrame], list[dict]]:
    """The tables and figures (info: alt, data) of pages 1-3 at threshold ``k``, in order."""
    tables, figures = [], []

    def display(*objs):
        tables.extend(o for o in objs if isinstance(o, pd.DataFrame))

    def shown(fig, info):
        figures.append(info)
        plt.close(fig)

    monkeypatch.setattr(pages, "_display", display)
    monkeypatch.setattr(plots, "_shown", shown)
    pages.reasons_section(rd, k)
    pages.nonresponse_section(rd, k)
    pages.flags_section(rd, k)
    pages.response_section(rd, k)
    pages.composition_section(rd, w, k)
    est = est.copy()
    est.attrs = {}
    pages.overall_section(rd, est, k)
    pages.groups_section(rd, w.final, k)
    pages.domains_section(rd, by_domain, k)
    pages.published_section(rd, est)  # as notebook 03 calls it: the rows overall_section hid
    return tables, figures


def _estimates_page(rd, est, k, monkeypatch):
    """Tables and figures of the headline estimates and the published comparison at ``k``."""
    tables, figures = [], []
    monkeypatch.setattr(pages, "_display",
                        lambda *objs: tables.extend(o for o in objs if isinstance(o, pd.DataFrame)))
    monkeypatch.setattr(plots, "_shown", lambda fig, info: (figures.append(info), plt.close(fig)))
    est = est.copy()
    est.attrs = {}
    pages.overall_section(rd, est, k)
    pages.published_section(rd, est)
    return tables, figures


@pytest.fixture(scope="module")
def runs():
    mp = pytest.MonkeyPatch()
    try:
        rd = rdata.load_data(None, None, "en")
        w = rdata.weighting(rd)
        est, by_domain = pages.estimates(rd, w.final)
        out = {k: _run_pages(rd, w, est, by_domain, k, mp) for k in (K, 1)}
        out["estimates_400"] = _estimates_page(rd, est, 400, mp)
    finally:
        mp.undo()
    return out


def _row(label) -> str:
    return " ".join(str(label).split())


def _suppressed_numbers(runs) -> dict[tuple[str, str], set[str]]:
    """(row label, column) -> the numbers (also at 1 decimal) of a cell suppressed at k = K."""
    hidden, open_ = runs[K][0], runs[1][0]
    assert len(hidden) == len(open_), "the same tables at both thresholds"
    out: dict[tuple[str, str], set[str]] = {}
    for t_k, t_1 in zip(hidden, open_):
        assert list(t_k.columns) == list(t_1.columns)
        for row in t_k.index:
            for col in t_k.columns:
                if str(t_k.loc[row, col]).strip() != MARKER or row not in t_1.index:
                    continue
                for num in _NUMBER.findall(str(t_1.loc[row, col])):
                    value = float(num.replace(",", ""))
                    out.setdefault((_row(row), str(col)), set()).update({f"{value:.1f}", num})
    return out


def test_k60_suppresses_cells_that_figures_could_show(runs):
    suppressed = _suppressed_numbers(runs)
    figure_rows = {_row(rec["row"]) for info in runs[K][1] for rec in info["data"]}
    assert {row for row, _ in suppressed} & figure_rows, "k = 60 hides rows that a figure draws (the test bites)"


def test_no_figure_data_or_description_carries_a_suppressed_value(runs):
    """A figure series matches a table column of its name (a figure of one series: every
    column). Public numbers a table shows beside a hidden one (the population share, equal to
    the weighted share after raking) are not leaks: only the hidden column's numbers count."""
    suppressed = _suppressed_numbers(runs)
    leaks = []
    for info in runs[K][1]:
        for rec in info["data"]:
            for (row, col), numbers in suppressed.items():
                if _row(rec["row"]) != row or not col.startswith(rec["series"]):
                    continue
                for field in ("estimate", "ci_low", "ci_high"):
                    v = rec[field]
                    if v is not None and f"{float(v):.1f}" in numbers:
                        leaks.append(f"figure data {row!r} {rec['series']!r} {field} = {v}")
        for series_text in info["alt"].split(". "):
            series, _, rows = series_text.rpartition(": ") if series_text.count(": ") > 1 else ("", "", series_text)
            for part in rows.split(";"):
                for (row, col), numbers in suppressed.items():
                    if (_row(part).startswith(f"{row}:") and col.startswith(series.strip())
                            and any(n in _NUMBER.findall(part) for n in numbers)):
                        leaks.append(f"description {series!r} {part.strip()!r}")
    assert not leaks, leaks


def test_rows_hidden_on_the_estimates_page_stay_hidden_in_the_published_comparison(runs):
    """At k = 60 the demo's headline shares all stand; at k = 400 some rows of the overall
    table are hidden: the comparison with published figures (table and figure, data and
    description) hides the same rows, as notebook 03 calls it (without k)."""
    tables, figures = runs["estimates_400"]
    overall, compared = tables[0], tables[-1]
    hidden = [r for r in overall.index if (overall.loc[r].iloc[:3] == MARKER).all()]
    shown_rows = [r for r in overall.index if r not in hidden]
    assert hidden and shown_rows, "k = 400 hides some headline rows, not all"
    both = [r for r in compared.index if r in hidden]
    assert both, "a hidden row has a published figure to compare with"
    for r in compared.index:
        assert ((compared.loc[r].iloc[:3] == MARKER).all()) == (r in hidden), r
    figure = figures[-1]
    for rec in figure["data"]:
        assert (rec["estimate"] is None) == (rec["row"] in hidden), rec
    for r in both:
        assert f"{_row(r)}: suppressed" in figure["alt"], figure["alt"]
