"""What nbval compares: the sanitizer masks only run dates and times, and a figure's numbers
reach a text output that nbval compares (it never compares PNGs).

The sanitizer is read with nbval's own parser and applied as nbval applies it (re.sub of every
pattern, in file order), on a real statsmodels summary.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nbval.plugin import get_sanitize_patterns

from surveydata.report import plots

CFG = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(CFG.read_text(encoding="utf-8")):
        text = re.sub(regex, replace, text)
    return text


@pytest.fixture(scope="module")
def glm_summary():
    sm = pytest.importorskip("statsmodels.api")
    x = np.arange(20.0)
    y = (x % 3 == 0).astype(float)
    return sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit().summary()


def test_date_and_time_are_masked_and_the_numbers_beside_them_kept(glm_summary):
    text = glm_summary.as_text()
    date_line = next(ln for ln in text.splitlines() if ln.startswith("Date:"))
    time_line = next(ln for ln in text.splitlines() if ln.startswith("Time:"))
    clean = sanitize(text).splitlines()
    new_date = next(ln for ln in clean if ln.startswith("Date:"))
    new_time = next(ln for ln in clean if ln.startswith("Time:"))
    assert "Www, DD Mmm YYYY" in new_date and "HH:MM:SS" in new_time
    # the right-hand column (Deviance, Pearson chi2 and their values) is untouched, same width
    assert new_date[new_date.index("Deviance"):] == date_line[date_line.index("Deviance"):]
    assert new_time[new_time.index("Pearson"):] == time_line[time_line.index("Pearson"):]
    assert len(new_date) == len(date_line) and len(new_time) == len(time_line)
    # nothing else changed
    assert [a for a, b in zip(clean, text.splitlines()) if a != b] == [new_date, new_time]


def test_html_summary_masks_only_date_and_time(glm_summary):
    page = glm_summary.as_html()
    clean = sanitize(page)
    assert re.search(r"<th>Date:</th>\s*<td>Www, DD Mmm YYYY</td>", clean)
    assert re.search(r"<th>Time:</th>\s*<td>HH:MM:SS</td>", clean)
    strip = re.compile(r"<td>(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4}|\d{2}:\d{2}:\d{2}|Www, DD Mmm YYYY|HH:MM:SS)</td>")
    assert strip.sub("", clean) == strip.sub("", page)


@pytest.mark.parametrize("line", [
    "Date: 17 practices answered, 12.5 %",          # not a date: a finding
    "Survey Date:        Fri, 04 Dec 2026   n = 40",  # "Date:" not at the start of the line
    "Time: 14 minutes on average",
    "Dates:              Fri, 04 Dec 2026",
])
def test_other_lines_mentioning_date_or_time_are_compared(line):
    assert sanitize(line) == line


def test_memory_addresses_are_masked():
    assert sanitize("<Figure at 0x7f3a2b1c9d80>") == "<Figure at 0xADDRESS>"


# ------------------------------------------------------------------------------- figures
def _bar(values):
    est = pd.DataFrame({"estimate": values, "ci_low": [v - 0.05 for v in values],
                        "ci_high": [v + 0.05 for v in values]}, index=["GP", "Dental", "PT"])
    return plots.bar_ci(est)


def test_nbval_compares_text_plain_but_not_pngs():
    import nbval.plugin

    # the keys nbval leaves out of the comparison (IPyNbFile.__init__): PNGs, never text/plain
    src = Path(nbval.plugin.__file__).read_text(encoding="utf-8")
    block = src[src.index("self.skip_compare = ("): src.index("kernel = None")]
    assert "'image/png'" in block and "'text/plain'" not in block


def test_a_change_in_a_figures_data_changes_the_text_nbval_compares(monkeypatch):
    """In a kernel, plot helpers display the PNG together with a text/plain description holding
    the numbers drawn; nbval compares that text. A change in the data beyond the printed
    precision changes it."""
    shown = []

    class Events:
        def register(self, *args):
            pass

    class Shell:  # a kernel's shell, as far as plots and pyplot look
        kernel = object()
        events = Events()

    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    monkeypatch.setattr(IPython.display, "display",
                        lambda data, raw=False, metadata=None: shown.append(data))
    assert _bar([0.30, 0.20, 0.10]) is None
    assert _bar([0.30, 0.20, 0.10]) is None
    assert _bar([0.30, 0.21, 0.10]) is None  # one bar moved by a percentage point
    texts = [d["text/plain"] for d in shown]
    assert texts[0] == texts[1]
    assert texts[2] != texts[0]
    assert "Dental: 20.0 (95% CI 15.0–25.0)" in texts[0] and "Dental: 21.0 (95% CI 16.0–26.0)" in texts[2]
    assert all("image/png" in d for d in shown)
