"""The plot helpers draw exactly the numbers they are given, labelled in the chosen language."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from surveydata import plots
from surveydata.disclosure import MARKER

EST = pd.DataFrame({"estimate": [0.30, 0.10, np.nan], "ci_low": [0.25, 0.07, np.nan],
                    "ci_high": [0.36, 0.13, np.nan]}, index=["fully", "incident", "MVZ"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert sorted(legend) == ["gewichtet", "ungewichtet", "veröffentlichter Wert"]
    ref = ax.collections[-1].get_offsets()
    assert sorted(np.round(np.asarray(ref)[:, 0], 9)) == [10.0, 33.0]


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
    assert "1,5" in ticks and "2" in ticks  # plain numbers, German decimal comma


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
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Sample", "Population", "Sample, weighted"]
    heights = sorted(round(b.get_width(), 9) for b in _bars(fig.axes[0]))
    assert heights == [40.0, 50.0, 50.0, 50.0, 50.0, 60.0]
