"""Report pages as a journal would print them: executed notebooks to lean, accessible HTML.

An executed notebook becomes one page of the report (:func:`render_notebook`):

* markdown cells and Markdown outputs are the text; headings get ids and, on long pages, a
  table of contents;
* a DataFrame becomes a numbered table ("Table 3. <caption>") rendered by
  `analysis.pubtable.PublicationTable`, the renderer of the Jupyter publication tables (Table 1)
  too: one header row under spanners (pandas' row of index names is merged into it; an unnamed
  header cell gets a label for screen readers), row groups for a two-level index, numbers
  right-aligned, a scroll hint on narrow screens, and its CSV beside it; a publication table
  shown in the notebook (Table 1, a model table) is re-rendered from the cells its output
  carries (`analysis.pubtable.MIME`), not from its HTML;
* an image becomes a numbered figure with a caption, the description the plot helpers
  generated from the data as alt text (never a placeholder), a phone-sized variant when the
  helper made one, and its PNG (and the numbers drawn, as CSV) beside it; the page links the
  PNG (and SVG) files in ``downloads/`` (relative links: the report folder is self-contained and
  offline, and a page is not a megabyte of base64);
* printed text (``print``), object representations and errors are code output and never
  reach a page.

Captions are the figure's own title, or else the nearest heading above the table or figure.
Numbering runs through the whole report (:class:`Counter`). Every page shares one stylesheet
(``report.css``, written once).

Example
-------
>>> counter = Counter()
>>> page = render_html_table('<table class="dataframe"><thead><tr><th></th><th>n</th></tr>'
...     '<tr><th>stype</th><th></th></tr></thead><tbody><tr><th>E</th><td>4421</td></tr>'
...     '</tbody></table>', "Schools", "en", counter, "01_x")
>>> page.header, page.rows
(['stype', 'n'], [['E', '4421']])
"""
from __future__ import annotations

import base64
import csv
import datetime
import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from analysis.pubtable import MIME as PUBLICATION_MIME
from analysis.pubtable import PublicationTable
from surveydata._safe_csv import neutralise
from surveydata.report.i18n import t

__all__ = [
    "Counter",
    "Figure",
    "Page",
    "Table",
    "render_html_table",
    "render_notebook",
    "shell",
    "slug",
    "stylesheet",
    "xlsx_bytes",
]

_FIGURE_TEXT = re.compile(r"^<(Figure|matplotlib)\b.*>$", re.DOTALL)
_PLAIN_NUMBER = {"en": re.compile(r"^[−-]?\d{1,3}(,\d{3})*(\.\d+)?$|^[−-]?\d+(\.\d+)?$"),
                 "de": re.compile(r"^[−-]?\d{1,3}(\.\d{3})*(,\d+)?$|^[−-]?\d+(,\d+)?$")}
_TOC_MIN_HEADINGS = 3


def stylesheet() -> str:
    """The report's one stylesheet (screen, phone and A4 print)."""
    return resources.files("surveydata.report").joinpath("assets/report.css").read_text(encoding="utf-8")


def slug(text: str) -> str:
    """An id for a heading.

    >>> slug("Größe & Typ: 1.5")
    'grosse-typ-1-5'
    """
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass
class Counter:
    """Figure and table numbers running through the report."""

    figures: int = 0
    tables: int = 0


@dataclass
class Table:
    number: int
    caption: str
    header: list[str]
    rows: list[list[str]]
    n_index: int
    csv_name: str = ""
    #: columns quoted as they are (titles of sources): marked translate="no"
    verbatim: tuple[int, ...] = ()
    #: the label above each column ("" for none; pandas' upper column level), as a spanner
    spanners: list[str] = field(default_factory=list)
    #: notes below the table (a publication table's own, e.g. the n a model used)
    notes: list[str] = field(default_factory=list)

    def publication(self, lang: str):
        """The table as an `analysis.pubtable.PublicationTable` (how the page renders it)."""

        spanners = self.spanners or [""] * len(self.header)
        labels = [h[len(s) + 3:] if s and h.startswith(f"{s} · ") else h
                  for s, h in zip(spanners, self.header)]
        return PublicationTable(header=labels, rows=self.rows, stub=self.n_index,
                                spanners=list(spanners), title=self.caption, notes=list(self.notes),
                                label=f"{t('table', lang)} {self.number}.", id=f"table-{self.number}",
                                hidden_label=t("row_header", lang), verbatim=self.verbatim)

    def csv_bytes(self, lang: str) -> bytes:
        """The table as shown (labels and formatted numbers), UTF-8 with BOM; ';'-separated in
        German (what a German spreadsheet expects), ',' in English; no cell can run as a formula."""
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";" if lang == "de" else ",", lineterminator="\r\n")
        writer.writerow([neutralise(h or t("row_header", lang)) for h in self.header])
        for row in self.rows:
            writer.writerow([neutralise(c) for c in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")


@dataclass
class Figure:
    number: int
    caption: str
    alt: str
    png: bytes
    narrow_png: bytes | None
    width: int | None
    height: int | None
    data: list[dict] = field(default_factory=list)
    png_name: str = ""
    narrow_name: str = ""
    csv_name: str = ""
    svg: bytes = b""
    svg_name: str = ""

    def files(self) -> dict[str, bytes]:
        """The figure's files in the report folder (the page links them)."""
        out = {self.png_name: self.png}
        if self.narrow_png:
            out[self.narrow_name] = self.narrow_png
        if self.svg:
            out[self.svg_name] = self.svg
        return out


@dataclass
class Page:
    """One rendered page: its body HTML, headings, and what it offers for download."""

    file: str
    title: str
    body: str = ""
    headings: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # for render_html_table's doctest
    rows: list[list[str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# tables

def _grid(rows) -> list[list[tuple[str, str]]]:
    """Rows of <th>/<td> cells expanded over rowspan/colspan: (tag, text) per grid cell."""
    grid: list[list[tuple[str, str] | None]] = []
    for r, tr in enumerate(rows):
        while len(grid) <= r:
            grid.append([])
        c = 0
        for cell in tr.find_all(["th", "td"], recursive=False):
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            text = " ".join(cell.get_text(" ").split())
            rs, cs = int(cell.get("rowspan", 1) or 1), int(cell.get("colspan", 1) or 1)
            for dr in range(rs):
                while len(grid) <= r + dr:
                    grid.append([])
                row = grid[r + dr]
                while len(row) < c + cs:
                    row.append(None)
                for dc in range(cs):
                    row[c + dc] = (cell.name, text)
            c += cs
    return [[x or ("td", "") for x in row] for row in grid]


def _parse_table(table) -> tuple[list[str], list[list[str]], int, list[str]]:
    """(header, body rows, number of row-header columns, spanners) of a pandas-style HTML
    table; a header joins the texts above a column ("share · %"), the spanner is all but its
    last part ("share")."""
    thead = table.find("thead")
    head_rows = thead.find_all("tr", recursive=False) if thead else []
    tbody = table.find("tbody") or table
    body_rows = [tr for tr in tbody.find_all("tr", recursive=False) if tr not in head_rows]
    if not head_rows and body_rows and all(c.name == "th" for c in body_rows[0].find_all(["th", "td"])):
        head_rows, body_rows = body_rows[:1], body_rows[1:]
    body = _grid(body_rows)
    head = _grid(head_rows)
    width = max([len(r) for r in body + head] or [0])
    body = [r + [("td", "")] * (width - len(r)) for r in body]
    head = [r + [("th", "")] * (width - len(r)) for r in head]
    n_index = 0
    if body:
        while n_index < width and all(r[n_index][0] == "th" for r in body):
            n_index += 1
    names = None
    if len(head) > 1:
        last = head[-1]
        if n_index and any(t for _, t in last[:n_index]) and not any(t for _, t in last[n_index:]):
            names = [t for _, t in last[:n_index]]
            head = head[:-1]
    header, spanners = [], []
    for j in range(width):
        parts = []
        for row in head:
            text = row[j][1]
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        label = " · ".join(parts)
        spanners.append(" · ".join(parts[:-1]) if j >= n_index and len(head) > 1 else "")
        if j < n_index and names and names[j]:
            label = names[j] + (f" · {label}" if label and label != names[j] else "")
        header.append(label)
    return header, [[t for _, t in r] for r in body], n_index, spanners


def render_html_table(fragment: str, caption: str, lang: str, counter: Counter, stem: str,
                      verbatim: tuple[str, ...] = ()) -> Page:
    """Every table of an HTML output re-rendered as numbered tables; returns a Page fragment.

    ``verbatim`` names columns whose cells are quoted as they are (titles of sources, in their
    own language): they are marked ``translate="no"``."""
    from bs4 import BeautifulSoup  # noqa: PLC0415 - HTML parsing loads only for a build

    soup = BeautifulSoup(fragment, "html.parser")
    page = Page(file=stem, title=caption)
    parts = []
    for table in soup.find_all("table"):
        own = table.find("caption")
        header, rows, n_index, spanners = _parse_table(table)
        if not rows and not any(header):
            continue
        counter.tables += 1
        cap = " ".join(own.get_text(" ").split()) if own else caption
        tab = Table(counter.tables, cap, header, rows, n_index,
                    csv_name=f"downloads/{stem}-table-{counter.tables}.csv",
                    verbatim=tuple(j for j, h in enumerate(header) if h in verbatim),
                    spanners=spanners if any(spanners) else [])
        page.tables.append(tab)
        parts.append(_table_html(tab, lang))
    if page.tables:
        page.header, page.rows = page.tables[0].header, page.tables[0].rows
    page.body = "\n".join(parts)
    return page


def _table_from_spec(spec: dict, caption: str, counter: Counter, stem: str) -> Table:
    """A numbered report table from the cells a publication table put in a notebook output
    (`analysis.pubtable.MIME`): rendered by the same code, with the report's number and id."""

    pub = PublicationTable.from_dict(spec)
    counter.tables += 1
    spanners = pub.spanners or [""] * len(pub.header)
    header = [f"{s} · {h}" if s else h for s, h in zip(spanners, pub.header)]
    return Table(counter.tables, pub.title or caption, header, pub.rows, pub.stub,
                 csv_name=f"downloads/{stem}-table-{counter.tables}.csv", verbatim=pub.verbatim,
                 spanners=list(pub.spanners), notes=list(pub.notes))


def _table_html(tab: Table, lang: str) -> str:
    """A numbered table as the page shows it: the publication table (great-tables' markup, the
    report's stylesheet) in a scrolling region named by its caption, the CSV link below."""
    e = html.escape
    tid = f"table-{tab.number}"
    table = tab.publication(lang).to_html(standalone=False)
    downloads = (f'<p class="downloads">{e(t("download", lang))}: '
                 f'<a href="{e(tab.csv_name)}" download>CSV</a></p>')
    return (f'<figure class="report-table" id="{tid}">\n'
            f'<div class="table-scroll" role="region" tabindex="0" aria-labelledby="{tid}-caption">\n'
            f"{table}\n</div>\n"
            f'<p class="scroll-hint" aria-hidden="true">{e(t("scroll_hint", lang))}</p>\n'
            f"{downloads}\n</figure>")


# ---------------------------------------------------------------------------------------------
# figures

def _figure_html(fig: Figure, lang: str) -> str:
    e = html.escape
    size = f' width="{fig.width}" height="{fig.height}"' if fig.width and fig.height else ""
    narrow = ""
    if fig.narrow_png:
        narrow = f'<source media="(max-width: 600px)" srcset="{e(fig.narrow_name)}">'
    src = fig.png_name
    links = [f'<a href="{e(fig.png_name)}" download>PNG</a>']
    if fig.svg:
        links.append(f'<a href="{e(fig.svg_name)}" download>SVG</a>')
    if fig.csv_name:
        links.append(f'<a href="{e(fig.csv_name)}" download>{e(t("figure_data", lang))} (CSV)</a>')
    return (f'<figure class="report-figure" id="figure-{fig.number}">\n'
            f'<picture>{narrow}<img src="{src}" alt="{e(fig.alt)}"{size}></picture>\n'
            f'<figcaption><span class="label">{e(t("figure", lang))} {fig.number}.</span> '
            f'{e(fig.caption)} <span class="downloads">{e(t("download", lang))}: '
            + " · ".join(links) + "</span></figcaption>\n</figure>")


def _figure_from_output(output, caption: str, lang: str, counter: Counter, stem: str) -> Figure:
    meta = output.get("metadata", {}) or {}
    info = meta.get("report", {}) or {}
    size = meta.get("image/png", {}) or {}
    counter.figures += 1
    alt = str(info.get("alt") or "").strip()
    text = str(output.get("data", {}).get("text/plain", "")).strip()
    if not alt and text and not _FIGURE_TEXT.match(text):
        alt = text
    cap = str(info.get("caption") or "").strip() or caption
    if not alt:  # a figure no helper described: at least say what it is about
        alt = f"{t('figure', lang)} {counter.figures}: {cap}"
    narrow = info.get("narrow_png")
    fig = Figure(counter.figures, cap, alt, base64.b64decode(output["data"]["image/png"]),
                 base64.b64decode(narrow) if narrow else None,
                 size.get("width"), size.get("height"), list(info.get("data") or []))
    fig.png_name = f"downloads/{stem}-figure-{fig.number}.png"
    fig.narrow_name = f"downloads/{stem}-figure-{fig.number}-narrow.png"
    svg = str(info.get("svg") or "")
    if svg.lstrip().startswith(("<?xml", "<svg")):
        fig.svg, fig.svg_name = svg.encode("utf-8"), f"downloads/{stem}-figure-{fig.number}.svg"
    if fig.data:
        fig.csv_name = f"downloads/{stem}-figure-{fig.number}.csv"
    return fig


def figure_csv(fig: Figure) -> bytes:
    """The numbers a figure draws, one row per series and category (machine-readable: '.' as
    decimal point in both editions)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    cols = ["series", "row", "estimate", "ci_low", "ci_high", "unit"]
    writer.writerow(cols)
    for rec in fig.data:
        writer.writerow([neutralise("" if rec.get(c) is None else rec.get(c)) for c in cols])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# notebook to page

def _markdown(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # noqa: PLC0415 - the notebook stack loads only for a build

    return markdown2html_mistune(source)


def render_notebook(nb, file: str, title: str, lang: str, counter: Counter) -> Page:
    """The body of one report page from an executed notebook (see the module docstring)."""
    from bs4 import BeautifulSoup  # noqa: PLC0415 - HTML parsing loads only for a build

    stem = Path(file).stem
    page = Page(file=file, title=title)
    chunks: list[str] = []
    caption = title
    seen_h1 = False

    def add_markdown(text: str) -> None:
        nonlocal caption, seen_h1
        soup = BeautifulSoup(_markdown(text), "html.parser")
        for a in soup.select("a.anchor-link"):
            a.decompose()
        for h in soup.find_all(["h1", "h2", "h3", "h4"]):
            if h.name == "h1":
                if seen_h1:
                    h.name = "h2"
                else:
                    seen_h1 = True
                    h.decompose()  # the page's title (from the notebook's metadata) is the h1
                    continue
            text_h = " ".join(h.get_text(" ").split())
            hid = slug(text_h)
            while any(hid == x for x, _ in page.headings):
                hid += "-2"
            h["id"] = hid
            if h.name == "h2":
                page.headings.append((hid, text_h))
            caption = text_h
        chunks.append(str(soup))

    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "markdown":
            add_markdown(cell.source)
            continue
        if cell.cell_type != "code" or tags & {"remove-output", "remove_cell", "remove-cell"}:
            continue
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind in ("stream", "error"):
                continue  # printed text and tracebacks are code output, not report content
            data = output.get("data", {})
            if PUBLICATION_MIME in data:   # a publication table: its cells, not its HTML
                tab = _table_from_spec(data[PUBLICATION_MIME], caption, counter, stem)
                page.tables.append(tab)
                chunks.append(_table_html(tab, lang))
            elif "image/png" in data:
                fig = _figure_from_output(output, caption, lang, counter, stem)
                page.figures.append(fig)
                chunks.append(_figure_html(fig, lang))
            elif "text/html" in data and "<table" in str(data["text/html"]):
                frag = render_html_table(str(data["text/html"]), caption, lang, counter, stem)
                page.tables += frag.tables
                chunks.append(frag.body)
            elif "text/markdown" in data:
                add_markdown(str(data["text/markdown"]))
            elif "text/html" in data:
                chunks.append(str(data["text/html"]))
            # text/plain alone (an object's repr, "n = ..., residual df ...") is not shown
    toc = ""
    if len(page.headings) >= _TOC_MIN_HEADINGS:
        toc = _toc(page.headings, lang)
    page.body = f"<h1>{html.escape(title)}</h1>\n{toc}\n" + "\n".join(chunks)
    return page


def _toc(headings: list[tuple[str, str]], lang: str) -> str:
    items = "".join(f'<li><a href="#{html.escape(i)}">{html.escape(x)}</a></li>' for i, x in headings)
    return (f'<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">{html.escape(t("on_this_page", lang))}'
            f"</h2><ol>{items}</ol></nav>")


# ---------------------------------------------------------------------------------------------
# the page shell

def shell(title: str, body: str, lang: str, nav: str, footer: str, banner: str = "",
          css: str = "report.css", body_class: str = "") -> str:
    """A complete page: language, viewport, the shared stylesheet, skip link, banner (simulated
    data), navigation, main content and footer."""
    e = html.escape
    banner_html = f'<p class="banner" role="note">{banner}</p>' if banner else ""
    cls = f' class="{e(body_class)}"' if body_class else ""
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="{e(css)}">
</head>
<body{cls}>
<a class="skip-link" href="#main">{e(t("skip_to_content", lang))}</a>
<header class="site-header">
{banner_html}
<nav class="report-nav" aria-label="{e(t("report_navigation", lang))}">{nav}</nav>
</header>
<main id="main">
{body}
</main>
<footer class="report-footer">{footer}</footer>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# spreadsheets

def _cell_value(text: str, lang: str):
    """A plain number shown in a table as a number (for the spreadsheet), else the text."""
    if _PLAIN_NUMBER[lang].match(text):
        clean = text.replace("−", "-")
        clean = clean.replace(".", "").replace(",", ".") if lang == "de" else clean.replace(",", "")
        try:
            value = float(clean)
        except ValueError:
            return neutralise(text)
        return int(value) if value.is_integer() and "." not in clean else value
    return neutralise(text)


def xlsx_bytes(tables: list[Table], lang: str) -> bytes:
    """All ``tables`` in one workbook, one sheet per table ("Table 3"), caption in the first row,
    notes below the table; plain numbers as numbers, everything else (CIs, markers) as text.

    Written with openpyxl (the project's one Excel library); creation time and the times inside
    the zip are fixed, so that the same report gives the same bytes.
    """

    from openpyxl import Workbook  # noqa: PLC0415 - Excel writing loads only when a workbook is written
    from openpyxl.styles import Font  # noqa: PLC0415 - Excel writing loads only when a workbook is written

    book = Workbook()
    book.remove(book.active)
    fixed = datetime.datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = fixed
    bold = Font(bold=True)
    for tab in tables:
        sheet = book.create_sheet(f"{t('table', lang)} {tab.number}"[:31])
        sheet.cell(1, 1, f"{t('table', lang)} {tab.number}. {tab.caption}").font = bold
        for j, h in enumerate(tab.header, start=1):
            sheet.cell(3, j, neutralise(h)).font = bold
        for i, row in enumerate(tab.rows, start=4):
            for j, v in enumerate(row, start=1):
                value = _cell_value(v, lang) if j > tab.n_index else neutralise(v)
                cell = sheet.cell(i, j)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
        # the table's notes (a model's n used, why rows were dropped, units) one line below it
        for i, note in enumerate(tab.notes, start=len(tab.rows) + 5):
            cell = sheet.cell(i, 1, neutralise(note))
            cell.data_type = "s"
        for j, h in enumerate(tab.header, start=1):
            width = max([len(h)] + [len(r[j - 1]) for r in tab.rows])
            sheet.column_dimensions[sheet.cell(3, j).column_letter].width = min(60, max(8, width + 2))
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            fixed_info = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed_info, data)
    return out.getvalue()
