"""How results show themselves: plain text in a console, HTML in Jupyter, LaTeX for a paper.

A :class:`Summary` is text (it *is* a ``str``, so ``print`` and ``in`` work as before) that also
keeps its parts, a title, header lines, captioned tables and footer lines, and renders them as
HTML (``_repr_html_``, so Jupyter shows a table instead of monospaced text) and LaTeX
(``as_latex()``). Numbers are formatted once, in the table the result hands over, so all three
renderings show the same digits. No timestamps (nbval compares outputs).

>>> import pandas as pd
>>> s = Summary("Test", ["n = 3"], [("Coefficients", pd.DataFrame({"coef": ["1.5"]}, index=["x"]))])
>>> print(s)
Test
n = 3
<BLANKLINE>
Coefficients
  coef
x  1.5
>>> "<table" in s.as_html() and "\\\\begin{tabular}" in s.as_latex()
True
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

__all__ = ["Summary", "fmt_number", "fmt_p", "frame_html"]


def fmt_p(p: float) -> str:
    """p values as R prints them: 4 significant digits, '<2e-16' below that.

    >>> fmt_p(0.000123456), fmt_p(1e-20), fmt_p(float("nan"))
    ('0.0001235', '<2e-16', 'NA')
    """
    if p is None or not np.isfinite(p):
        return "NA"
    return "<2e-16" if p < 2.2e-16 else f"{p:.4g}"


def fmt_number(x: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (no exponent for everyday magnitudes).

    >>> fmt_number(1234.5678), fmt_number(0.000123456), fmt_number(float("nan"))
    ('1235', '0.0001235', 'NA')
    """
    if x is None or not np.isfinite(x):
        return "NA"
    return f"{x:.{digits}g}" if abs(x) < 1e7 else f"{x:.{digits}e}"


def frame_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A frame as an accessible HTML table: one header row, a caption, escaped text."""
    out = frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" ".join(str(p) for p in c if str(p)) for c in out.columns]
    if isinstance(out.index, pd.MultiIndex) or out.index.name is not None or any(out.index.names):
        out = out.reset_index()
        index = False
    else:
        index = True
    body = out.to_html(index=index, escape=True, border=0, na_rep="", classes="survey-result")
    if caption:
        body = body.replace(">\n  <thead>", f">\n  <caption>{html.escape(caption)}</caption>\n  <thead>",
                            1)
    return body


class Summary(str):
    """Text that also renders as HTML and LaTeX (see the module docstring)."""

    title: str
    header: tuple
    tables: tuple
    footer: tuple

    def __new__(cls, title: str, header=(), tables=(), footer=()):
        parts = [title, *header]
        for caption, frame in tables:
            parts += ["", caption, frame.to_string()] if caption else ["", frame.to_string()]
        if footer:
            parts += ["", *footer]
        self = super().__new__(cls, "\n".join(parts))
        self.title, self.header = title, tuple(header)
        self.tables, self.footer = tuple(tables), tuple(footer)
        return self

    def __repr__(self) -> str:
        return str(self)

    def as_text(self) -> str:
        return str(self)

    def as_html(self) -> str:
        e = html.escape
        parts = [f'<div class="survey-summary"><p><strong>{e(self.title)}</strong></p>']
        if self.header:
            parts.append("<p>" + "<br>".join(e(h) for h in self.header) + "</p>")
        parts += [frame_html(frame, caption) for caption, frame in self.tables]
        if self.footer:
            parts.append("<p><small>" + "<br>".join(e(f) for f in self.footer) + "</small></p>")
        return "\n".join(parts) + "</div>"

    def _repr_html_(self) -> str:
        return self.as_html()

    def as_latex(self) -> str:
        def tex(s: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                         ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                         ("^", r"\textasciicircum{}")):
                s = s.replace(a, b)
            return s

        parts = [r"\textbf{" + tex(self.title) + "}", ""]
        parts += [tex(h) + r"\\" for h in self.header]
        for caption, frame in self.tables:
            cols = "l" + "r" * frame.shape[1]
            lines = [r"\begin{tabular}{" + cols + "}", r"\hline",
                     " & ".join([""] + [tex(str(c)) for c in frame.columns]) + r" \\", r"\hline"]
            for idx, row in frame.iterrows():
                lines.append(" & ".join([tex(str(idx))] + [tex(str(v)) for v in row]) + r" \\")
            lines += [r"\hline", r"\end{tabular}"]
            if caption:
                parts.append(r"\textit{" + tex(caption) + "}" + r"\\")
            parts += lines
        parts += [tex(f) + r"\\" for f in self.footer]
        return "\n".join(parts)
