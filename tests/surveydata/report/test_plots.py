"""The plot helpers draw exactly the numbers they are given, labelled in the chosen language."""
import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from surveydata.report import plots
from surveydata.report.disclosure import MARKER

EST = pd.DataFrame({"estimate": [0.30, 0.10, np.nan], "ci_low": [0.25, 0.07, np.nan],
                    "ci_high": [0.36, 0.13, np.nan]}, index=["fully", "incident", "MVZ"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(fig):
    return [x.get_text() for x in fig.legends[0].get_texts()]


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


def test_bar_ci_draws_estimates_in_percent_first_row_on_top():
    fig = plots.bar_ci(EST, lang="en")
    ax = fig.axes[0]
    bars = sorted(_bars(ax), key=lambda b: -b.get_y())
    assert [round(b.get_width(), 9) for b in bars] == [30.0, 10.0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["fully", "incident", "MVZ"]
    assert ax.get_xlabel() == "Share (%)"
    # The error bar spans the CI: segments from 25 to 36 and 7 to 13.
    segs = [s for c in ax.collections for s in c.get_segments()]
    spans = sorted((round(s[0][0], 9), round(s[1][0], 9)) for s in segs)
    assert spans == [(7.0, 13.0), (25.0, 36.0)]
    # The suppressed row shows the disclosure marker instead of a bar.
    assert any(MARKER in tx.get_text() for tx in ax.texts)


def test_bar_ci_german_labels_series_and_published_reference():
    fig = plots.bar_ci({"gewichtet": EST, "ungewichtet": EST / 2}, lang="de",
                       reference=pd.Series({"fully": 0.33, "incident": 0.10}))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Anteil (%)"
    legend = _legend(fig)
    assert sorted(legend) == ["gewichtet", "ungewichtet", "veröffentlichter Wert"]
    # the published figures: dashed vertical lines across their rows, not dots
    ref = ax.collections[-1]
    assert isinstance(ref, matplotlib.collections.LineCollection)
    xs = sorted(round(float(seg[0][0]), 9) for seg in ref.get_segments())
    assert xs == [10.0, 33.0]
    assert all(seg[0][0] == seg[1][0] and seg[1][1] - seg[0][1] > 0.5 for seg in ref.get_segments())
    # the legend sits below the plot area, not over the bars
    assert not ax.get_legend() and fig.legends


def test_bar_ci_refuses_frames_without_ci_columns_and_unknown_languages():
    with pytest.raises(ValueError, match="ci_low"):
        plots.bar_ci(pd.DataFrame({"estimate": [0.1]}))
    with pytest.raises(ValueError, match="not supported"):
        plots.bar_ci(EST, lang="fr")
    with pytest.raises(ValueError, match="other rows"):
        plots.bar_ci({"a": EST, "b": EST.iloc[:2]})


def test_forest_plot_exponentiates_coefficients_on_a_log_axis():
    coef = pd.DataFrame({"estimate": [np.log(2.0)], "ci_low": [np.log(1.5)], "ci_high": [np.log(3.0)]},
                        index=["training"])
    fig = plots.forest_plot(coef, lang="de", labels={"training": "Schulung"})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Odds Ratio (log. Skala)"
    assert [x.get_text() for x in ax.get_yticklabels()] == ["Schulung"]
    x_point = ax.lines[0].get_xdata()[0]
    assert x_point == pytest.approx(2.0, rel=1e-12)
    seg = next(s for c in ax.collections for s in c.get_segments())
    assert (seg[0][0], seg[1][0]) == pytest.approx((1.5, 3.0), rel=1e-12)
    assert ax.lines[-1].get_xdata()[0] == 1.0  # the null line
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    assert "1" in ticks and "1,3" in ticks  # plain numbers, German decimal comma


def test_forest_plot_ticks_never_run_together_and_labels_are_wrapped_not_cut():
    long = "Size class: Medium practice with between six and twenty persons (KBV)"
    coef = pd.DataFrame({"estimate": np.log([0.22, 0.27]), "ci_low": np.log([0.2, 0.24]),
                         "ci_high": np.log([0.25, 0.3])}, index=[long, "x"])
    fig = plots.forest_plot(coef)
    ax = fig.axes[0]
    fig.canvas.draw()
    boxes = sorted((lab.get_window_extent() for lab in ax.get_xticklabels() if lab.get_text()),
                   key=lambda b: b.x0)
    assert len(boxes) >= 3
    assert all(b.x0 - a.x1 >= 4 for a, b in itertools.pairwise(boxes))  # was "0.20.25"
    # a narrow range of rate ratios still gets several labelled ticks, 1 among them
    narrow = pd.DataFrame({"estimate": np.log([0.8, 1.1]), "ci_low": np.log([0.7, 1.0]),
                           "ci_high": np.log([0.9, 1.2])}, index=["a", "b"])
    labels = [x.get_text() for x in plots.forest_plot(narrow).axes[0].get_xticklabels()]
    assert "1" in labels and len(labels) >= 3, labels
    label = ax.get_yticklabels()[0].get_text()
    assert "…" not in label and label.replace("\n", " ") == long


def test_figures_carry_a_description_from_the_numbers_drawn():
    fig = plots.bar_ci(EST, lang="en", reference=pd.Series({"fully": 0.33}))
    alt = plots.describe(fig)
    assert alt.startswith("Bar chart of Share (%) with 95% confidence intervals, 3 rows.")
    assert "fully: 30.0 (95% CI 25.0–36.0)" in alt and "incident: 10.0 (95% CI 7.0–13.0)" in alt
    assert "MVZ: suppressed" in alt and "Published figure: fully 33.0" in alt
    de = plots.describe(plots.bar_ci(EST * 10, lang="de"))
    assert "fully: 300,0 (95-%-KI 250,0–360,0)" in de
    data = fig.report_info["data"]
    assert data[0] == {"series": "", "row": "fully", "estimate": 30.0, "ci_low": 25.0,
                       "ci_high": 36.0, "unit": "Share (%)"}
    w = plots.describe(plots.weight_distribution([1.0, 2.0, 3.0, 10.0], bounds=(1.5, 8.0)))
    assert "4 respondents, minimum 1.00, median 2.50, maximum 10.00" in w and "1.50 and 8.00" in w


def test_weight_distribution_counts_every_weight_and_marks_trimming_bounds():
    w = np.array([1.0, 1.0, 2.0, 4.0, 8.0])
    fig = plots.weight_distribution(w, bins=7, bounds=(1.5, 6.0), lang="de")
    ax = fig.axes[0]
    assert sum(p.get_height() for p in _bars(ax)) == 5
    assert ax.get_xlabel() == "Gewicht" and ax.get_ylabel() == "Befragte"
    assert sorted(line.get_xdata()[0] for line in ax.lines if len(line.get_xdata())) == [1.5, 6.0]
    with pytest.raises(ValueError, match="positive"):
        plots.weight_distribution([1.0, -1.0])


def test_composition_translates_standard_series_names():
    shares = pd.DataFrame({"sample": [0.6, 0.4], "population": [0.5, 0.5], "weighted": [0.5, 0.5]},
                          index=["GP", "PT"])
    fig = plots.composition(shares, lang="en")
    assert _legend(fig) == ["Sample", "Population", "Sample, weighted"]
    heights = sorted(round(b.get_width(), 9) for b in _bars(fig.axes[0]))
    assert heights == [40.0, 50.0, 50.0, 50.0, 50.0, 60.0]


def test_svg_download_is_vector_deterministic_and_undated():
    est = pd.DataFrame({"estimate": [0.3, 0.1], "ci_low": [0.25, 0.07], "ci_high": [0.35, 0.13]},
                       index=["a", "b"])
    first, second = plots._svg(plots.bar_ci(est)), plots._svg(plots.bar_ci(est))
    assert first == second                       # fixed hash salt: the same ids every time
    assert first.lstrip().startswith(b"<?xml") and b"<svg" in first
    assert b"<dc:date>" not in first             # no creation date
    assert matplotlib.rcParams["svg.hashsalt"] is None    # only for this file, not for the session
    plt.close("all")
