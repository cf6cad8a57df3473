"""Date and datetime items in the descriptive report: how many answered, when (median, middle
half, range) and how many per month (per year when the answers span more than two years).

Dates can single a respondent out, so the tables publish them coarsely and under the report's
disclosure rule: every date is shown to the month (or year), never to the day; the periods
before the first period that, counted together, hold at least k respondents are pooled into one
row "until <period>" (likewise "from <period>" at the end), so the earliest and latest answers
are not published one by one; the remaining counts go through the same one-way suppression as
every frequency table (`findings.frequency_table`, recorded for the disclosure audit). A range
end, the median or a quartile is published only when at least k respondents answered.

Example
-------
>>> per_month = {"2024-01-15": 2, "2024-02-15": 3, "2024-03-15": 6, "2024-04-15": 7,
...              "2024-05-15": 1, "2024-06-15": 2}
>>> s = pd.Series(pd.to_datetime([d for d, n in per_month.items() for _ in range(n)]))
>>> date_counts(s, k=5)["n"].to_dict()
{'until 2024-02': 5, '2024-03': 6, 'from 2024-04': 10}
"""
from __future__ import annotations

import pandas as pd

from surveydata.report import findings as fd
from surveydata.report.disclosure import DEFAULT_K, MARKER

#: answers spanning more months than this are counted per year
MAX_MONTHS = 24
_WORDS = {"until": {"de": "bis", "en": "until"}, "from": {"de": "ab", "en": "from"},
          "period_month": {"de": "Monat", "en": "Month"}, "period_year": {"de": "Jahr", "en": "Year"},
          "median": {"de": "Median", "en": "Median"},
          "middle_half": {"de": "Mittlere Hälfte (25–75 %)", "en": "Middle half (25–75%)"},
          "range": {"de": "Spannweite", "en": "Range"}, "n": {"de": "n", "en": "n"},
          "heading": {"de": "Datumsangaben", "en": "Dates"}}


def _say(key: str, lang: str) -> str:
    return _WORDS[key][lang if lang in _WORDS[key] else "en"]


def heading(lang: str) -> str:
    """The heading of the date items' part of the descriptive page."""
    return _say("heading", lang)


def date_items(rd) -> list[str]:
    """The date and datetime items of the instrument that the data hold (answers as dates)."""
    out = []
    for item in rd.instrument.items:
        if getattr(item, "type", None) in ("date", "datetime") and item.var in rd.valid:
            out.append(item.var)
    return out


def answered(rd, var: str) -> pd.Series:
    """The answers of a date item as datetimes (missing codes and skipped rows left out)."""
    values = pd.to_datetime(rd.valid[var], errors="coerce").dropna()
    # a datetime item is tz-aware; periods carry no zone: count on the clock it was stored in
    return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values


def _freq(values: pd.Series) -> str:
    span = (values.max().year - values.min().year) * 12 + values.max().month - values.min().month
    return "M" if span < MAX_MONTHS else "Y"


def _label(period: pd.Period) -> str:
    return period.strftime("%Y-%m") if period.freqstr.startswith("M") else period.strftime("%Y")


def date_counts(values: pd.Series, k: int = DEFAULT_K, lang: str = "en") -> pd.DataFrame:
    """Respondents per month (per year for a span over two years), every period between the
    first and the last answer listed; leading periods pooled into "until <period>" until they
    hold at least ``k`` respondents, trailing ones into "from <period>" (see the module
    docstring). Columns n and share; the index names the period."""
    if values.empty:
        return pd.DataFrame({"n": pd.Series(dtype="int64"), "share": pd.Series(dtype=float)})
    freq = _freq(values)
    periods = values.dt.to_period(freq)
    counts = periods.value_counts().sort_index()
    counts = counts.reindex(pd.period_range(counts.index.min(), counts.index.max(), freq=freq),
                            fill_value=0)
    labels = [_label(p) for p in counts.index]
    n = counts.to_numpy()
    lo, total = 0, 0  # the head pools periods 0..lo: the first lo with k respondents so far
    while lo < len(n) - 1 and total + n[lo] < k:
        total += n[lo]
        lo += 1
    hi, total = len(n) - 1, 0  # the tail pools periods hi..end, likewise from the end
    while hi > lo + 1 and total + n[hi] < k:
        total += n[hi]
        hi -= 1
    rows: dict[str, int] = {}
    if lo > 0:
        rows[f"{_say('until', lang)} {labels[lo]}"] = int(n[: lo + 1].sum())
    else:
        rows[labels[0]] = int(n[0])
    for i in range(lo + 1, hi):
        rows[labels[i]] = int(n[i])
    if hi > lo:
        if hi < len(n) - 1:
            rows[f"{_say('from', lang)} {labels[hi]}"] = int(n[hi:].sum())
        else:
            rows[labels[hi]] = int(n[hi])
    out = pd.DataFrame({"n": pd.Series(rows, dtype="int64")})
    out["share"] = out["n"] / out["n"].sum()
    out.index.name = _say("period_month" if freq == "M" else "period_year", lang)
    return out


def date_summary(values: pd.Series, k: int = DEFAULT_K, lang: str = "en",
                 marker: str = MARKER) -> dict[str, str]:
    """n, median, middle half and range of the answers, to the month; everything but n is the
    marker when fewer than ``k`` answered, and a range end when its month holds fewer than k."""
    n = len(values)
    out = {_say("n", lang): fd.fmt_int(n, lang)}
    if n < k:
        for key in ("median", "middle_half", "range"):
            out[_say(key, lang)] = marker
        return out
    month = lambda ts: pd.Timestamp(ts).strftime("%Y-%m")
    q = values.quantile([0.25, 0.5, 0.75])
    months = values.dt.to_period("M").value_counts()
    first, last = values.min().to_period("M"), values.max().to_period("M")
    ends = [month(values.min()) if months[first] >= k else marker,
            month(values.max()) if months[last] >= k else marker]
    out[_say("median", lang)] = month(q[0.5])
    out[_say("middle_half", lang)] = f"{month(q[0.25])} – {month(q[0.75])}"
    out[_say("range", lang)] = f"{ends[0]} – {ends[1]}"
    return out


def date_tables(rd, k: int = DEFAULT_K) -> tuple[pd.DataFrame | None, list[tuple[str, pd.DataFrame]]]:
    """What the descriptive page shows of the date items: one summary table (a row per item:
    n, median, middle half, range) and, per item, its counts by period with the report's
    suppression applied (published as (label, table) pairs). (None, []) without date items."""
    lang = rd.lang
    rows, counts = {}, []
    for var in date_items(rd):
        values = answered(rd, var)
        rows[rd.label(var)] = date_summary(values, k, lang=lang)
        table = date_counts(values, k, lang)
        if len(table):
            shown = fd.frequency_table(table, lang, k)
            shown.index.name = table.index.name  # "Month" / "Year", not "Answer"
            counts.append((rd.label(var), shown))
    if not rows:
        return None, []
    return pd.DataFrame.from_dict(rows, orient="index"), counts
