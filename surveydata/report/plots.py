"""Matplotlib figures for the notebooks and the report: bars with confidence intervals, forest
plots, weight distributions and sample-vs-population composition, labelled in German or English.

Every function takes numbers that the analysis produced (estimator frames with ``estimate``,
``ci_low``, ``ci_high``) and only draws them: no statistic is computed here. Each returns the
``Figure``; in a Jupyter kernel it shows the figure once instead and returns None (pass ``ax=``
to draw into a figure of your own, which is then returned and not shown).
A row whose estimate is missing (a suppressed cell) is drawn as the disclosure marker, not a bar.

In a notebook, a figure is shown as a 2x-resolution PNG whose text representation is a
description generated from the numbers drawn (the image's alt text in the report); its
metadata (``report``) carries a caption, a narrow variant for phones, an SVG (vector) copy and
the numbers as a tidy table, which the report builder turns into a numbered figure with its
downloads (the PNG stays the image on the page: it is lighter than the SVG, whose text is drawn
as paths).

Example
-------
>>> import pandas as pd
>>> est = pd.DataFrame({"estimate": [0.3, 0.1], "ci_low": [0.25, 0.07], "ci_high": [0.35, 0.13]},
...                    index=["Guideline fully implemented", "Incident ever"])
>>> fig = bar_ci(est, lang="en", reference=pd.Series([0.33, 0.10], index=est.index))
>>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
['Guideline fully implemented', 'Incident ever']
"""
from __future__ import annotations

import base64
import io
import os
import textwrap
from collections.abc import Mapping

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from surveydata.report.disclosure import MARKER
from surveydata.report.i18n import check_lang, t

#: Colour-blind safe palette (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_ROW_INCH = 0.32
_WIDTH = 7.5          # inches: the figure on a wide screen and in print
_NARROW = 4.0         # inches: the variant shown on a phone (same font sizes, wrapped labels)
_DPI = 96             # CSS pixels per inch: the figure's layout size
_SCALE = 2            # PNGs are written at twice that resolution (sharp on dense screens, in print)
_CI_COLUMNS = ("estimate", "ci_low", "ci_high")
#: Set by the report builder for its kernels: figures then also carry a phone-width variant.
REPORT_BUILD_ENV = "SURVEYDATA_REPORT_BUILD"


def _require(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = [c for c in _CI_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(_CI_COLUMNS)}; missing {missing} "
                         f"(have {list(frame.columns)})")
    return frame.loc[:, list(_CI_COLUMNS)].apply(pd.to_numeric, errors="coerce")


_MAX_LABEL = 40  # longer axis labels are wrapped onto further lines (never cut)


def _short(text: str, width: int = _MAX_LABEL) -> str:
    return textwrap.fill(text, width=width, break_long_words=False) if len(text) > width else text


def _labels(index: pd.Index, labels) -> list[str]:
    if labels is None:
        out = [" / ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in index]
    elif isinstance(labels, Mapping):
        out = [str(labels.get(i, i)) for i in index]
    else:
        out = [str(x) for x in labels]
        if len(out) != len(index):
            raise ValueError(f"{len(out)} labels for {len(index)} rows")
    return [_short(x) for x in out]


#: Tick values offered on the log axis of forest plots (plain numbers read better than 10^x).
_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2,
                1.3, 1.5, 1.75, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 100)


def _ratio_ticks(ax, lang: str = "en") -> None:
    """Plain-number ticks on a log axis, about six at most, spread evenly on the log scale and
    always including 1 when it is in view: labels never run together ("0.20.25") and a narrow
    range (rate ratios 0.7 to 1.2) still gets several."""
    lo, hi = ax.get_xlim()
    step = max(1.08, (hi / lo) ** (1 / 6))
    inside = [v for v in _RATIO_TICKS if lo <= v <= hi]
    if not inside:
        return
    centre = 1 if lo <= 1 <= hi else min(inside, key=lambda v: abs(np.log(v) - np.log(np.sqrt(lo * hi))))
    ticks = [centre]
    for v in inside:  # upwards from the centre
        if v > ticks[-1] * step * 0.999:
            ticks.append(v)
    down = [centre]
    for v in reversed(inside):
        if v < down[-1] / step * 1.001:
            down.append(v)
    ticks = sorted(set(ticks) | set(down))
    text = [f"{v:g}" for v in ticks]
    ax.set_xticks(ticks, [x.replace(".", ",") for x in text] if lang == "de" else text)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI * _SCALE, metadata={"Software": None})
    return buf.getvalue()


def _svg(fig) -> bytes:
    """The figure as SVG for download (vector: sharp at any size, editable). Deterministic: a
    fixed hash salt for the element ids and no date, so the same figure gives the same bytes."""
    buf = io.BytesIO()
    with plt.rc_context({"svg.hashsalt": "surveydata-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _narrow_png(fig) -> bytes:
    """The figure re-laid out at phone width: same font sizes, long labels wrapped."""
    width, height = fig.get_size_inches()
    for ax in fig.axes:
        ticks = ax.get_yticks()
        labels = [tx.get_text() for tx in ax.get_yticklabels()]
        if any(labels):
            ax.set_yticks(ticks, [textwrap.fill(x.replace("\n", " "), 24, break_long_words=False)
                                  for x in labels])
    for legend in fig.legends:
        legend.set_ncols(1)
    rows = [tx.get_text() for ax in fig.axes[:1] for tx in ax.get_yticklabels()]
    extra = max(0.0, _rows_height(rows, 0) - _rows_height([x.split("\n")[0] for x in rows], 0))
    fig.set_size_inches(_NARROW, height * 1.1 + extra + 0.3 * len(fig.legends))
    data = _png(fig)
    fig.set_size_inches(width, height)
    return data


def fmt_number(value: float, lang: str, digits: int = 1) -> str:
    """A number as written in ``lang`` (German: decimal comma, point between thousands).

    >>> fmt_number(1621.25, "de", 1), fmt_number(1621.25, "en", 1)
    ('1.621,2', '1,621.2')
    """
    text = f"{value:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "de" else text


def _describe_rows(labels, frame: pd.DataFrame, lang: str, digits: int) -> list[str]:
    out = []
    for label, (est, lo, hi) in zip(labels, frame.to_numpy(dtype=float)):
        label = " ".join(str(label).split())
        if np.isnan(est):
            out.append(f"{label}: {t('alt_suppressed', lang)}")
        elif np.isnan(lo) or np.isnan(hi):
            out.append(f"{label}: {fmt_number(est, lang, digits)}")
        else:
            out.append(f"{label}: " + t("alt_ci", lang, est=fmt_number(est, lang, digits),
                                          lo=fmt_number(lo, lang, digits),
                                          hi=fmt_number(hi, lang, digits)))
    return out


def _tidy(frames: Mapping, labels: list[str], unit: str) -> list[dict]:
    """The numbers drawn, one record per series and row (for the figure's download)."""
    rows = []
    for name, f in frames.items():
        for label, (est, lo, hi) in zip(labels, f.to_numpy(dtype=float)):
            rows.append({"series": "" if name is None else str(name), "row": " ".join(label.split()),
                         "estimate": None if np.isnan(est) else round(float(est), 6),
                         "ci_low": None if np.isnan(lo) else round(float(lo), 6),
                         "ci_high": None if np.isnan(hi) else round(float(hi), 6), "unit": unit})
    return rows


def describe(fig) -> str:
    """The description (alt text) generated for a figure drawn by this module.

    >>> est = pd.DataFrame({"estimate": [0.2], "ci_low": [0.1], "ci_high": [0.3]}, index=["x"])
    >>> describe(bar_ci(est))
    'Bar chart of Share (%) with 95% confidence intervals, 1 row. x: 20.0 (95% CI 10.0–30.0).'
    """
    return getattr(fig, "report_info", {}).get("alt", "")


def _shown(fig, info: dict):
    """Attach ``info`` (alt, caption, data) to the figure; in a Jupyter kernel display it once
    as a 2x PNG with the description as its text, close it and return None; elsewhere return
    the figure.

    Why not return the Figure in a kernel: nbval runs cells with store_history=False, and
    IPython then ignores a trailing ';' (it looks for it in the history), so a returned Figure
    would be shown a second time as the cell's result, and closing keeps the inline backend
    from showing it at the end of the cell. Either way the stored and the re-run outputs would
    differ in number.
    """
    fig.report_info = info
    try:
        from IPython import get_ipython  # noqa: PLC0415 - IPython only inside a notebook kernel
    except ImportError:  # IPython is not installed: not in a notebook
        return fig
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display  # noqa: PLC0415 - IPython only inside a notebook kernel

        wide = _png(fig)
        width, height = (round(v * _DPI) for v in fig.get_size_inches())
        # the phone variant and the SVG download only for the report builder: committed
        # notebooks stay lean
        building = bool(os.environ.get(REPORT_BUILD_ENV))
        svg = _svg(fig) if building else b""
        narrow = _narrow_png(fig) if building else b""
        display({"image/png": base64.b64encode(wide).decode("ascii"), "text/plain": info["alt"]},
                raw=True, metadata={
                    "image/png": {"width": width, "height": height},
                    "report": {"alt": info["alt"], "caption": info.get("caption") or "",
                               "data": info.get("data", []),
                               "narrow_png": base64.b64encode(narrow).decode("ascii") if narrow else "",
                               "svg": svg.decode("utf-8")}})
        plt.close(fig)
        return None
    return fig


def _locale_axis(axis, lang: str) -> None:
    """Tick labels with a decimal comma in German."""
    if lang == "de":
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}".replace(".", ",")))


def _legend(fig, ax, created: bool, ncols: int) -> None:
    """The legend below the plot area (never over the data); in a caller's axes: its best spot."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if created:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, 3), frameon=False,
                   fontsize="small")
    else:
        ax.legend(loc="best", fontsize="small", frameon=False)


_LINE_INCH = 0.19  # one line of tick label text (10 pt and its leading)


def _rows_height(labels: list[str], per_row: float) -> float:
    """Inches the rows need: ``per_row`` each, more for labels wrapped onto several lines."""
    return sum(max(per_row, _LINE_INCH * (x.count("\n") + 1) + 0.1) for x in labels)


def _figure(n_rows: float, ax, min_height: float = 2.2, labels: list[str] | None = None):
    if ax is not None:
        return ax.figure, ax
    rows = _rows_height(labels, _ROW_INCH * n_rows / max(len(labels), 1)) if labels else _ROW_INCH * n_rows
    height = max(min_height, 0.9 + rows)
    fig, ax = plt.subplots(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
    return fig, ax


def bar_ci(estimates: pd.DataFrame | Mapping[str, pd.DataFrame], labels=None, ax=None,
           lang: str = "en", percent: bool = True, title: str | None = None,
           xlabel: str | None = None, reference: pd.Series | None = None,
           reference_label: str | None = None):
    """Horizontal bars with 95% confidence intervals, first row on top.

    ``estimates`` is one estimator frame, or a mapping ``series name -> frame`` (same index) for
    side-by-side bars (e.g. weighted vs unweighted, or one series per practice type).
    ``reference`` (same index) marks published figures as black dashed lines across the row
    (a line, not a dot: it must not read as a data point). ``title`` is the figure's caption
    (under the figure in the report, not drawn into it).

    >>> est = pd.DataFrame({"estimate": [0.2], "ci_low": [0.1], "ci_high": [0.3]}, index=["x"])
    >>> bar_ci(est).axes[0].get_xlabel()
    'Share (%)'
    """
    check_lang(lang)
    series = dict(estimates) if isinstance(estimates, Mapping) else {None: estimates}
    frames = {name: _require(f, "bar_ci") for name, f in series.items()}
    index = next(iter(frames.values())).index
    for name, f in frames.items():
        if not f.index.equals(index):
            raise ValueError(f"series {name!r} has other rows than the first series")
    scale = 100.0 if percent else 1.0
    n, k = len(index), len(frames)
    created = ax is None  # a figure of the caller's is theirs to show
    fig, ax = _figure(n * max(1, k * 0.7), ax, labels=_labels(index, labels))
    height = 0.8 / k
    y = np.arange(n)[::-1].astype(float)  # first row on top
    for s, (name, f) in enumerate(frames.items()):
        pos = y + 0.4 - height * (s + 0.5)
        est = f["estimate"].to_numpy() * scale
        lo, hi = f["ci_low"].to_numpy() * scale, f["ci_high"].to_numpy() * scale
        ok = ~np.isnan(est)
        color = PALETTE[s % len(PALETTE)]
        ax.barh(pos[ok], est[ok], height=height * 0.9, color=color, alpha=0.85,
                label=None if name is None else str(name))
        has_ci = ok & ~np.isnan(lo) & ~np.isnan(hi)
        ax.errorbar(est[has_ci], pos[has_ci], xerr=[est[has_ci] - lo[has_ci], hi[has_ci] - est[has_ci]],
                    fmt="none", ecolor="#333333", elinewidth=1, capsize=2)
        for p in pos[~ok]:
            ax.text(0, p, f" {MARKER}", va="center", ha="left", color="#555555")
    ref_text = []
    if reference is not None:
        ref = reference.reindex(index).to_numpy(dtype=float) * scale
        has = ~np.isnan(ref)
        ref_label = reference_label or t("published_figure", lang)
        ax.vlines(ref[has], y[has] - 0.45, y[has] + 0.45, colors="black", linestyles=(0, (2, 1.5)),
                  lw=1.8, zorder=5, label=ref_label)
        ref_text = [f"{ref_label[:1].upper()}{ref_label[1:]}: " + "; ".join(
            f"{' '.join(str(lab).split())} {fmt_number(v, lang)}"
            for lab, v, h in zip(_labels(index, labels), ref, has) if h)]
    row_labels = _labels(index, labels)
    ax.set_yticks(y, row_labels)
    what = xlabel or (t("share_pct", lang) if percent else t("estimate", lang))
    ax.set_xlabel(what)
    if percent:
        ax.set_xlim(0, 100)
    _locale_axis(ax.xaxis, lang)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if not created and title:
        ax.set_title(title)
    if k > 1 or reference is not None:
        _legend(fig, ax, created, k + (reference is not None))
    has_ci = any(f[["ci_low", "ci_high"]].notna().any().any() for f in frames.values())
    parts = []
    for name, f in frames.items():
        rows = _describe_rows(row_labels, f.mul(scale), lang, 1)
        parts.append((f"{name}: " if name is not None else "") + "; ".join(rows))
    head = t("alt_bar_ci" if has_ci else "alt_bar", lang, what=what, n=n,
             rows=t("alt_rows" if n != 1 else "alt_row", lang))
    alt = head + " " + ". ".join(parts + ref_text) + "."
    data = _tidy({name: f.mul(scale) for name, f in frames.items()}, row_labels, what)
    return _shown(fig, {"alt": alt, "caption": title, "data": data}) if created else fig


def forest_plot(coefficients: pd.DataFrame | Mapping[str, pd.DataFrame], labels=None, ax=None,
                lang: str = "en", exponentiate: bool = True, null: float = 1.0,
                title: str | None = None, xlabel: str | None = None):
    """Forest plot of odds ratios (or any ratios) with 95% CIs on a log axis.

    ``coefficients`` is a frame of model coefficients on the link scale (``estimate``,
    ``ci_low``, ``ci_high``; ``exponentiate=True`` turns them into odds ratios), or a mapping
    ``series name -> frame`` (e.g. weighted and unweighted fits) drawn with a small offset.
    Rows are drawn in the order of the first frame; a term missing from a series is skipped.
    Long term labels are wrapped, never cut; ``title`` is the caption.

    >>> coef = pd.DataFrame({"estimate": [0.5, -0.2], "ci_low": [0.1, -0.6], "ci_high": [0.9, 0.2]},
    ...                     index=["training", "size"])
    >>> forest_plot(coef).axes[0].get_xscale()
    'log'
    """
    check_lang(lang)
    series = dict(coefficients) if isinstance(coefficients, Mapping) else {None: coefficients}
    frames = {name: _require(f, "forest_plot") for name, f in series.items()}
    index = next(iter(frames.values())).index
    n, k = len(index), len(frames)
    created = ax is None  # a figure of the caller's is theirs to show
    fig, ax = _figure(n * max(1, k * 0.6), ax, labels=_labels(index, labels))
    y = np.arange(n)[::-1].astype(float)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.6 / max(k, 1)) if k > 1 else np.zeros(1)
    for s, (name, f) in enumerate(frames.items()):
        f = f.reindex(index)
        vals = f.to_numpy(dtype=float)
        if exponentiate:
            vals = np.exp(vals)
        est, lo, hi = vals[:, 0], vals[:, 1], vals[:, 2]
        ok = ~np.isnan(est) & ~np.isnan(lo) & ~np.isnan(hi)
        pos = y - offsets[s]
        ax.errorbar(est[ok], pos[ok], xerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o",
                    color=PALETTE[s % len(PALETTE)], ms=4, elinewidth=1.2, capsize=2,
                    label=None if name is None else str(name))
    ax.axvline(null, color="#444444", lw=0.8, ls="--")
    ax.set_xscale("log")
    _ratio_ticks(ax, lang)
    row_labels = _labels(index, labels)
    ax.set_yticks(y, row_labels)
    what = xlabel or t("odds_ratio", lang)
    ax.set_xlabel(what)
    ax.grid(axis="x", alpha=0.3, which="both")
    if not created and title:
        ax.set_title(title)
    if k > 1:
        _legend(fig, ax, created, k)
    shown = {name: (np.exp(f.reindex(index)) if exponentiate else f.reindex(index))
             for name, f in frames.items()}
    parts = [(f"{name}: " if name is not None else "") + "; ".join(_describe_rows(row_labels, f, lang, 2))
             for name, f in shown.items()]
    alt = (t("alt_forest", lang, what=what, n=n, null=fmt_number(null, lang, 0 if null == int(null) else 2))
           + " " + ". ".join(parts) + ".")
    return _shown(fig, {"alt": alt, "caption": title, "data": _tidy(shown, row_labels, what)}) if created else fig


def weight_distribution(weights, ax=None, lang: str = "en", bins: int = 40,
                        bounds: tuple[float, float] | None = None, title: str | None = None,
                        compare: Mapping[str, np.ndarray] | None = None, label: str | None = None):
    """Histogram of survey weights, with trimming ``bounds`` as dashed lines.

    ``compare`` adds further weight vectors (e.g. ``{"trimmed": w_trim}``) as outlined histograms
    over the same bins; ``label`` names ``weights`` in the legend.

    >>> weight_distribution([1.0, 2.0, 2.0, 5.0], bins=4).axes[0].get_xlabel()
    'Weight'
    """
    check_lang(lang)
    w = np.asarray(weights, dtype=float)
    if np.isnan(w).any() or (w <= 0).any():
        raise ValueError("weights must be positive numbers without missing values")
    others = {str(k): np.asarray(v, dtype=float) for k, v in (compare or {}).items()}
    lo = min([w.min()] + [v.min() for v in others.values()])
    hi = max([w.max()] + [v.max() for v in others.values()])
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo - 0.5, hi + 0.5])
    created = ax is None  # a figure of the caller's is theirs to show
    fig, ax = _figure(6, ax, min_height=3.0)
    ax.hist(w, bins=edges, color=PALETTE[0], alpha=0.75,
            label=(label or t("weight", lang)) if others else None)
    for s, (name, v) in enumerate(others.items(), start=1):
        ax.hist(v, bins=edges, histtype="step", lw=1.5, color=PALETTE[s % len(PALETTE)], label=name)
    if bounds is not None:
        for b in bounds:
            ax.axvline(b, color="black", ls="--", lw=1)
        ax.plot([], [], color="black", ls="--", lw=1, label=t("trim_bounds", lang))
    ax.set_xlabel(t("weight", lang))
    ax.set_ylabel(t("respondents", lang))
    _locale_axis(ax.xaxis, lang)
    if not created and title:
        ax.set_title(title)
    if others or bounds is not None:
        _legend(fig, ax, created, 1 + len(others) + (bounds is not None))
    parts = []
    for name, v in {(label or t("weight", lang)): w, **others}.items():
        parts.append(t("alt_weights", lang, name=name, n=fmt_number(len(v), lang, 0),
                       min=fmt_number(v.min(), lang, 2), median=fmt_number(np.median(v), lang, 2),
                       max=fmt_number(v.max(), lang, 2)))
    if bounds is not None:
        parts.append(t("alt_bounds", lang, lo=fmt_number(bounds[0], lang, 2),
                       hi=fmt_number(bounds[1], lang, 2)))
    alt = t("alt_hist", lang, n=bins) + " " + " ".join(parts)
    qs = [0, 0.25, 0.5, 0.75, 1]
    data = [{"series": name, "row": f"q{int(q * 100)}", "estimate": round(float(np.quantile(v, q)), 6),
             "ci_low": None, "ci_high": None, "unit": t("weight", lang)}
            for name, v in {(label or t("weight", lang)): w, **others}.items() for q in qs]
    return _shown(fig, {"alt": alt, "caption": title, "data": data}) if created else fig


def composition(shares: pd.DataFrame, labels=None, ax=None, lang: str = "en",
                title: str | None = None):
    """Side-by-side shares of categories, e.g. sample, population and weighted sample.

    ``shares`` has one row per category and one column per series, as proportions (0-1);
    the standard column names ``sample``, ``population`` and ``weighted`` get translated legends.

    >>> s = pd.DataFrame({"sample": [0.6, 0.4], "population": [0.5, 0.5]}, index=["GP", "PT"])
    >>> [x.get_text() for x in composition(s, lang="de").legends[0].get_texts()]
    ['Stichprobe', 'Grundgesamtheit']
    """
    check_lang(lang)
    names = {"sample": t("sample", lang), "population": t("population", lang),
             "weighted": t("sample_weighted", lang)}
    frames = {names.get(str(c), str(c)): pd.DataFrame({"estimate": shares[c], "ci_low": np.nan,
                                                      "ci_high": np.nan}, index=shares.index)
              for c in shares.columns}
    return bar_ci(frames, labels=labels, ax=ax, lang=lang, percent=True, title=title)
