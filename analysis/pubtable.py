"""Publication tables: one implementation renders a table for Jupyter, a paper and the report.

A :class:`PublicationTable` holds a table as published: text cells (numbers already rounded and
formatted in the reader's locale), one header row (optionally with spanners above it), row
headers (the stub; with two stub columns the first groups the rows), a title and notes. It
renders through great-tables (HTML and LaTeX: a maintained table library, with ``scope`` and
``headers`` attributes for screen readers, instead of hand-built markup), python-docx (Word) and
openpyxl (Excel). :class:`analysis.tableone.TableOne` and the report's pages
(``surveydata.report.html``) both render through it, so a table looks and reads the same in a
notebook, a paper and the published report.

Outputs are deterministic: great-tables would draw a random id for every table, so each table
gets a fixed one (``id``); the title becomes the table's ``<caption>`` (a table's accessible
name) rather than a cell in its header.

>>> import pandas as pd
>>> frame = pd.DataFrame({"n": ["120", "80"], "% (95% CI)": ["60.0 (53.1–66.5)", "40.0 (33.5–46.9)"]},
...                      index=pd.Index(["E", "H"], name="School type"))
>>> tab = PublicationTable.from_frame(frame, title="Schools", id="schools")
>>> html = tab.to_html(standalone=False)
>>> html.count("<caption"), 'scope="row"' in html, 'id="schools-c1"' in html
(1, True, True)
>>> print(tab.to_text())
               n        % (95% CI)
School type
E            120  60.0 (53.1–66.5)
H             80  40.0 (33.5–46.9)
"""
from __future__ import annotations

import html as _html
import math
import re
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["MIME", "PublicationTable", "model_table"]

#: the notebook output type that carries a table's cells, so that a report re-renders it
#: (numbered, in its stylesheet) with this same code instead of parsing its HTML
MIME = "application/vnd.surveydata.publication-table+json"

#: a cell that is a number as published (estimate, CI, count, p value, suppression marker)
_NUMBER_CELL = re.compile(r"^[<>≤≥]?\s*[−+-]?\d[\d.,\s]*(%|\s%)?(\s*\([^)]*\))?$"
                          r"|^[−+-]?\d[\d.,]*\s?[–-]\s?[−+-]?\d[\d.,]*$|^[•–—-]$|^$")
_EMPTY = ("", "•", "–", "—", "-")


def numeric_column(values) -> bool:
    """Whether a column of text cells holds numbers (right-aligned when published).

    >>> numeric_column(["1,621", "33.3 (30.1–36.4)", "•"]), numeric_column(["GP", "1"])
    (True, False)
    """
    filled = [v for v in values if v not in _EMPTY]
    return bool(filled) and all(_NUMBER_CELL.match(v) for v in filled)


@dataclass
class PublicationTable:
    """A table as published (see the module docstring).

    header: one label per column (stub columns first); spanners: a label above each column
    ("" for none; consecutive equal labels span); stub: how many leading columns are row
    headers; label: a number shown before the title ("Table 3."); hidden_label: the text screen
    readers get for an empty header cell; verbatim: columns quoted as they are (marked
    ``translate="no"`` in HTML).
    """

    header: list[str]
    rows: list[list[str]]
    stub: int = 0
    spanners: list[str] = field(default_factory=list)
    title: str = ""
    label: str = ""
    notes: list[str] = field(default_factory=list)
    id: str = "publication-table"
    hidden_label: str = "Row"
    verbatim: tuple[int, ...] = ()

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **kwargs) -> PublicationTable:
        """A text DataFrame as published: its (named) index levels become the stub, a
        two-level column index becomes spanners above the column labels."""
        out = frame.copy()
        index_names = [str(n) if n is not None else "" for n in out.index.names]
        stub = len(index_names) if (len(index_names) > 1 or index_names[0]
                                    or not isinstance(out.index, pd.RangeIndex)) else 0
        if isinstance(out.columns, pd.MultiIndex):
            spanners = [str(c[0]) for c in out.columns]
            labels = [" ".join(str(p) for p in c[1:] if str(p)) for c in out.columns]
            # a column without a lower label (("n", "")) is labelled by its upper one, unspanned
            labels = [lab or s for s, lab in zip(spanners, labels)]
            spanners = [s if s != lab else "" for s, lab in zip(spanners, labels)]
        else:
            spanners, labels = [], [str(c) for c in out.columns]
        rows = []
        for idx, values in zip(out.index, out.itertuples(index=False)):
            keys = list(idx) if isinstance(idx, tuple) else [idx]
            rows.append([_text(k) for k in keys][:stub] + [_text(v) for v in values])
        header = index_names[:stub] + labels
        if spanners:
            spanners = [""] * stub + spanners
        return cls(header=header, rows=rows, stub=stub, spanners=spanners, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """The cells as a DataFrame with one header row (spanners joined: "E · n")."""
        names = [f"{s} · {h}" if s else h for s, h in zip(self._spanners(), self.header)]
        return pd.DataFrame(self.rows, columns=names)

    def _spanners(self) -> list[str]:
        return self.spanners or [""] * len(self.header)

    def numeric(self) -> list[bool]:
        """Which columns hold numbers (right-aligned)."""
        return [j >= self.stub and numeric_column([r[j] for r in self.rows])
                for j in range(len(self.header))]

    # ---- great-tables ---------------------------------------------------------------------
    def gt(self, title: bool = False):
        """The table as a great_tables.GT (``title``: the title in the table's heading, as
        LaTeX wants it; HTML gets a ``<caption>`` instead)."""
        import great_tables as gt  # noqa: PLC0415 (heavy; only for rendering)

        width = len(self.header)
        names = [f"c{j}" for j in range(width)]
        data = pd.DataFrame([list(r) + [""] * (width - len(r)) for r in self.rows], columns=names,
                            dtype=object)
        group = None
        stub = self.stub
        if stub > 2 or (stub == 2 and any(not r[0] for r in self.rows)):
            # more row-header levels than great-tables nests (or an unnamed group): one stub column
            data.insert(0, "stub", [" · ".join(x for x in r[:stub] if x) for r in self.rows])
            data = data.drop(columns=names[:stub])
            names = ["stub", *names[stub:]]
            header = [" · ".join(h for h in self.header[:stub] if h), *self.header[stub:]]
            spanners = ["", *self._spanners()[stub:]]
            stub = 1
        else:
            header, spanners = list(self.header), self._spanners()
        if stub == 2:
            group, rowname = names[0], names[1]
        elif stub == 1:
            rowname = names[0]
        else:
            rowname = None
        table = gt.GT(data, rowname_col=rowname, groupname_col=group, id=self.id)
        first = 0 if stub == 0 else stub
        labels = {names[j]: self._label(header[j]) for j in range(first, len(names))}
        table = table.cols_label(**labels)
        if stub:
            head = " · ".join(h for h in header[:stub] if h) if stub == 2 else header[0]
            table = table.tab_stubhead(label=self._label(head))
        j = first
        while j < len(names):
            span = spanners[j]
            k = j
            while k + 1 < len(names) and spanners[k + 1] == span:
                k += 1
            if span:
                table = table.tab_spanner(label=span, columns=names[j:k + 1],
                                          id=f"{self.id}-s{j}")
            j = k + 1
        numeric = self.numeric()
        if stub != self.stub:
            numeric = [False, *numeric[self.stub:]]
        right = [names[j] for j in range(first, len(names)) if numeric[j]]
        if right:
            table = table.cols_align("right", columns=right)
        left = [names[j] for j in range(first, len(names)) if not numeric[j]]
        if left:
            table = table.cols_align("left", columns=left)
        if title and (self.title or self.label):
            table = table.tab_header(title=" ".join(x for x in (self.label, self.title) if x))
        for note in self.notes:
            table = table.tab_source_note(note)
        return table

    def _label(self, text: str):
        if text:
            return text
        import great_tables as gt  # noqa: PLC0415

        # an empty header cell gets a name for screen readers (axe: empty-table-header)
        return gt.html(f'<span class="visually-hidden">{_html.escape(self.hidden_label)}</span>')

    # ---- renderings -----------------------------------------------------------------------
    def to_html(self, standalone: bool = True) -> str:
        """HTML: great-tables' table with the title as its ``<caption>``.

        ``standalone`` keeps great-tables' own stylesheet and wrapper (Jupyter, a file);
        without it only the ``<table>`` element is returned, for a page that styles the
        ``gt_*`` classes itself (the report's one stylesheet)."""
        raw = self.gt().as_raw_html()
        start, end = raw.index("<table"), raw.rindex("</table>") + len("</table>")
        table = raw[start:end]
        opening = table[: table.index(">") + 1]
        caption = ""
        if self.title or self.label:
            label = f'<span class="label">{_html.escape(self.label)}</span> ' if self.label else ""
            caption = f'<caption id="{self.id}-caption">{label}{_html.escape(self.title)}</caption>'
        table = opening + caption + table[len(opening):]
        table = re.sub(r"\n\s*\n", "\n", table)
        if self.verbatim:
            table = self._mark_verbatim(table)
        if not standalone:
            return table
        return raw[:start] + table + raw[end:]

    def _mark_verbatim(self, table: str) -> str:
        """Cells of verbatim columns (titles of sources, in their own language) get
        ``translate="no"``: a browser's translation must not change a quoted title."""
        ids = {f"{self.id}-c{j}" for j in self.verbatim}

        def mark(m):
            headers = set(m.group(1).split())
            return m.group(0).replace("<td ", '<td translate="no" ', 1) if headers & ids else m.group(0)

        return re.sub(r'<td headers="([^"]*)"[^>]*>', mark, table)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:  # noqa: ARG002 (IPython's signature)
        """HTML for Jupyter, text, and the cells (:data:`MIME`) for a report to re-render."""
        return {"text/html": self.to_html(), "text/plain": repr(self), MIME: self.to_dict()}

    def to_dict(self) -> dict:
        """The table as JSON-able data (what a notebook output carries, see :data:`MIME`)."""
        return {"header": list(self.header), "rows": [list(r) for r in self.rows], "stub": self.stub,
                "spanners": list(self.spanners), "title": self.title, "label": self.label,
                "notes": list(self.notes), "id": self.id, "hidden_label": self.hidden_label,
                "verbatim": list(self.verbatim)}

    @classmethod
    def from_dict(cls, data: dict) -> PublicationTable:
        """The inverse of :meth:`to_dict`."""
        fields = {k: data[k] for k in ("header", "rows", "stub", "spanners", "title", "label",
                                       "notes", "id", "hidden_label") if k in data}
        fields["rows"] = [[str(c) for c in r] for r in fields.get("rows", [])]
        return cls(**fields, verbatim=tuple(data.get("verbatim", ())))

    def to_text(self) -> str:
        """Plain text (the console and ``repr``)."""
        frame = self.to_frame()
        if self.stub:
            frame = frame.set_index(list(frame.columns[: self.stub]))
            return frame.to_string()
        return frame.to_string(index=False)

    def __repr__(self) -> str:
        head = " ".join(x for x in (self.label, self.title) if x)
        return (head + "\n" if head else "") + self.to_text()

    def to_latex(self) -> str:
        """LaTeX (great-tables; needs booktabs)."""
        return self.gt(title=True).as_latex()

    def to_excel(self, path, sheet: str = "Table", extra: dict | None = None) -> None:
        """An Excel workbook (openpyxl): the table as published, plus any ``extra`` frames
        (name -> DataFrame) on sheets of their own."""
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            self.to_frame().to_excel(xw, sheet_name=sheet[:31], index=False)
            for name, frame in (extra or {}).items():
                frame.to_excel(xw, sheet_name=str(name)[:31], index=False)

    def to_docx(self, path) -> None:
        """A Word document with the title, the table and its notes (python-docx)."""
        import docx  # noqa: PLC0415 (optional rendering)

        frame = self.to_frame()
        doc = docx.Document()
        title = " ".join(x for x in (self.label, self.title) if x)
        if title:
            doc.add_heading(title, level=2)
        table = doc.add_table(rows=1, cols=frame.shape[1])
        for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
            cell.text = str(name)
        for row in frame.itertuples(index=False):
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = str(value)
        for note in self.notes:
            doc.add_paragraph(note)
        doc.save(path)


#: the words of a model table (English); pass ``words=`` for another language
MODEL_WORDS = {"term": "Characteristic", "coef": "Coefficient", "ratio": "exp(b)", "ci": "{pct}% CI",
               "p": "p value", "ref": "ref.", "n": "n = {used} of {all} observations used."}
_CATEGORY_TERM = re.compile(r"^C\((\w+)(?:\s*,[^)]*)?\)\[T\.(.*)\]$|^(\w+)\[T\.(.*)\]$")


def _p_text(p: float, number) -> str:
    if p is None or not math.isfinite(p):
        return ""
    return "<" + number(0.001, 3) if p < 0.0005 else number(p, 3)


def model_table(fit, exponentiate: bool = False, level: float = 0.95, labels=None, digits: int = 2,
                number=None, words: dict | None = None, id: str = "model-table",
                title: str = "") -> PublicationTable:
    """A fitted model (svyglm, svyolr) as a publication table: one row per term (intercept and
    cut points left out), every categorical variable with a row for its reference category
    just before its other categories, the estimate (``exponentiate``: odds or rate ratios),
    its ``level`` CI and p value; the note says how many observations the fit used.

    labels: variable -> display name (a mapping or a callable); number(x, digits) -> text
    formats numbers (default: a point as decimal separator); words: the table's words in
    another language (keys of :data:`MODEL_WORDS`; ``ratio`` names the exponentiated
    estimate, e.g. "OR").

    >>> from analysis import SurveyDesign, datasets, svyglm
    >>> d = SurveyDesign(datasets.load("apistrat"), weights="pw", strata="stype", fpc="fpc")
    >>> tab = model_table(svyglm("api00 ~ ell + C(stype)", d), labels={"stype": "School type"})
    >>> [r[:2] for r in tab.rows]
    [['School type: E', '0.00 (ref.)'], ['School type: H', '-94.30'], ['School type: M', '-59.75'], ['ell', '-4.03']]
    >>> tab.notes[0]
    'n = 200 of 200 observations used.'
    """
    words = {**MODEL_WORDS, **(words or {})}
    name = labels if callable(labels) else (lambda v: (labels or {}).get(v, v))
    fmt = number or (lambda x, d: f"{x:.{d}f}")
    ci = fit.conf_int(level)
    params, pvalues = fit.params, fit.pvalues
    transform = math.exp if exponentiate else (lambda x: x)
    data = getattr(getattr(fit, "design", None), "data", None)
    used = getattr(fit, "used", None)
    rows_used = data if data is None or used is None else data.loc[list(map(bool, used))]
    terms = [str(i) for i in params.index if str(i) != "Intercept" and "|" not in str(i)]
    rows, seen = [], set()
    for term in terms:
        m = _CATEGORY_TERM.match(term)
        if m:
            var, lev = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            if var not in seen:
                seen.add(var)
                ref = _reference_level(rows_used, var, terms)
                if ref is not None:
                    rows.append([f"{name(var)}: {ref}",
                                 f"{fmt(transform(0.0), digits)} ({words['ref']})", "", ""])
            label = f"{name(var)}: {lev}"
        else:
            label = name(term)
        lo, hi = (float(x) for x in ci.loc[term].iloc[:2])
        est = float(params[term])
        rows.append([label, fmt(transform(est), digits),
                     f"{fmt(transform(lo), digits)}–{fmt(transform(hi), digits)}",
                     _p_text(float(pvalues[term]), fmt)])
    pct = f"{100 * level:g}"
    header = [words["term"], words["ratio"] if exponentiate else words["coef"],
              words["ci"].format(pct=fmt(float(pct), 0) if float(pct).is_integer() else pct),
              words["p"]]
    n_all = len(data) if data is not None else int(fit.nobs)
    notes = [words["n"].format(used=f"{int(fit.nobs):,}", all=f"{n_all:,}")]
    return PublicationTable(header=header, rows=rows, stub=1, title=title, notes=notes, id=id,
                            hidden_label=words["term"])


def _reference_level(data, var: str, terms: list[str]):
    """The level of ``var`` without a coefficient of its own (the model's reference)."""
    if data is None or var not in data:
        return None
    col = data[var]
    levels = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
              else sorted(col.dropna().unique(), key=str))
    present = set(map(str, col.dropna().unique()))
    coded = {t.split("[T.", 1)[1][:-1] for t in terms if _CATEGORY_TERM.match(t)
             and (_CATEGORY_TERM.match(t).group(1) or _CATEGORY_TERM.match(t).group(3)) == var}
    for lev in levels:
        if str(lev) not in coded and str(lev) in present:
            return str(lev)
    return None


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
