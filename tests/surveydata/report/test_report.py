"""The report builder on small placeholder notebooks (written to a temp dir, never committed).

What is checked: the pages exist, have no code cells, load nothing remote (no CDN), embed their
figures; the repository's notebooks stay untouched; free text never reaches a page; provenance
records the input hash, instrument, versions, commit and seeds; failures name the notebook.
The real notebooks are checked end to end in test_report_notebooks.py.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import schemas
from surveydata.report import build as report
from surveydata.report.disclosure import MARKER
from tests import export_factory

ROOT = Path(__file__).resolve().parents[3]
SECRET = "Dr. Quokka-Zebra 4711 in Musterhausen"  # a distinctive free-text answer
# The small random exports below are reported against the instrument alone (an instrument-only
# study: unweighted, no models): 60 random rows cannot carry the practice study's weighting and
# models. The study's own pages are checked on the demo survey (``demo_both``).
INSTRUMENT = str(schemas.load_instrument().source)

PARAMS = '''data = None
instrument = None
lang = "en"
k_min = 5
seed = 1'''


def _nb(cells, title_en="Placeholder one", title_de="Platzhalter eins"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["report"] = {"title_en": title_en, "title_de": title_de,
                             "summary_en": "What came in.", "summary_de": "Was einging."}
    out = []
    for kind, src in cells:
        if kind == "md":
            out.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "params":
            out.append(nbformat.v4.new_code_cell(src, metadata={"tags": ["parameters"]}))
        else:
            out.append(nbformat.v4.new_code_cell(src))
    nb.cells = out
    return nb


FIRST = [
    ("md", "# Placeholder one\n\nSee the [BSI](https://www.bsi.bund.de/) for the guideline."),
    ("params", PARAMS),
    ("code", ("from surveydata.report.data import load_data\nfrom surveydata.report import disclosure, plots\n"
             "from IPython.display import Markdown, display\n"
             "import pandas as pd\nrd = load_data(data, instrument=instrument, lang=lang)\n"
             "print('printed: code output')\n"
             "display(Markdown(f'valid rows: {len(rd.valid)}; columns with comments: {\"comments\" in rd.valid.columns}'))")),
    ("md", "## Cross table"),
    ("code", "disclosure.safe_crosstab(rd.valid, 'practice_type', 'incident_12m', k=k_min)"),
    ("code", "rd.valid.head(3)"),
    ("code", "rd.failures.head(3)"),
    ("md", "## A figure"),
    ("code", ("est = pd.DataFrame({'estimate': [0.3], 'ci_low': [0.2], 'ci_high': [0.4]}, index=['x'])\n"
             "plots.bar_ci(est, lang=lang);")),
    ("code", "rd"),  # an object's repr is code output: not on the page
]
SECOND = [
    ("md", "# Placeholder two"),
    ("params", PARAMS),
    ("code", "from IPython.display import Markdown\nMarkdown(f'language {lang} seed {seed}')"),
]


@pytest.fixture(scope="module")
def inst():
    return schemas.load_instrument()


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    d = tmp_path_factory.mktemp("notebooks")
    nbformat.write(_nb(FIRST), d / "01_one.ipynb")
    nbformat.write(_nb(SECOND, "Placeholder two", "Platzhalter zwei"), d / "02_two.ipynb")
    (d / "scratch.ipynb").write_text("not a report notebook: no NN_ prefix")
    return d


def write_export_with_comments(path: Path, inst, n=60, seed=3) -> Path:
    coded = export_factory.valid_coded(inst, n, seed)
    # practice forms that exist for the practice type (the population margins the study rakes
    # to have no psychotherapy MVZ, for one): otherwise the weighting has no target for them
    allowed = {1: {1, 2, 4}, 2: {1, 2, 4}, 3: {1, 2, 4}, 4: {1, 2, 3, 4}, 5: {2, 3}}
    bad = [f not in allowed[t] for t, f in zip(coded["practice_type"], coded["practice_form"])]
    coded.loc[bad, "practice_form"] = [2 if t == 5 else 1 for t in coded.loc[bad, "practice_type"]]
    coded["comments"] = ""
    coded.loc[[2, 17, 41], "comments"] = SECRET
    path.write_bytes(export_factory.to_csv_bytes(export_factory.to_text(coded)))
    return path


@pytest.fixture(scope="module")
def export(tmp_path_factory, inst):
    return write_export_with_comments(tmp_path_factory.mktemp("data") / "export.csv", inst)


@pytest.fixture(scope="module")
def built(tmp_path_factory, notebooks, export):
    out = tmp_path_factory.mktemp("report")
    before = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    index = report.build_report(out, data=export, instrument=INSTRUMENT, lang="en", notebooks_dir=notebooks,
                                progress=False)
    after = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    return {"out": out, "index": index, "before": before, "after": after}


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_writes_index_pages_methods_codebook_stylesheet_and_provenance(built):
    out = built["out"]
    assert built["index"] == out / "index.html"
    top = sorted(p.name for p in out.iterdir() if p.is_file())
    for name in ["01_one.html", "02_two.html", "codebook.html", "index.html", "manifest.json",
                 "methods.html", "provenance.json", "report.css"]:
        assert name in top, top
    index = (out / "index.html").read_text()
    assert 'href="01_one.html"' in index and 'href="02_two.html"' in index
    assert 'href="methods.html"' in index and 'href="codebook.html"' in index
    assert "Placeholder one" in index and "What came in." in index


def test_pages_show_text_tables_and_figures_but_no_code_or_code_output(built):
    page = _pages(built["out"])["01_one.html"]
    assert "load_data(" not in page and "hl-ipython3" not in page  # no highlighted code
    assert "valid rows: 60; columns with comments: False" in page  # a Markdown output is text
    assert "printed: code output" not in page  # print() is code output
    assert "ReportData(" not in page and "<pre" not in page  # so is an object's repr
    assert "Table 1.</span> Cross table" in page and "Figure 1.</span> A figure" in page


def test_pages_load_nothing_remote_and_embed_figures(built):
    cdn = re.compile(r"cdn|jsdelivr|unpkg|googleapis|cloudflare|mathjax\.org|require\.js", re.IGNORECASE)
    for name, page in _pages(built["out"]).items():
        report.check_offline(page, name)
        for m in re.finditer(r"(?:https?:)?//[^\s\"'<>)]+", page):
            assert not cdn.search(m.group(0)), f"{name} links a CDN: {m.group(0)}"
        for src in re.findall(r"<(?:script|img|link|iframe)\b[^>]*(?:src|href)\s*=\s*[\"']([^\"']*)", page):
            assert src.startswith("data:") or not re.match(r"^[a-z]+:|^//", src), f"{name}: {src}"
    page = _pages(built["out"])["01_one.html"]
    img = re.search(r'<img src="(downloads/01_one-figure-1\.png)" alt="([^"]+)"', page)
    assert img, "the figure is linked from the report folder"
    png = (built["out"] / img.group(1)).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in page
    # A link in the narrative to a website is a link, not a resource: it stays.
    assert 'href="https://www.bsi.bund.de/"' in page


def test_report_counts_are_disclosure_protected(built, export):
    page = _pages(built["out"])["01_one.html"]
    assert MARKER in page  # 60 respondents over 5 practice types x incident codes: small cells
    # every cell of the published crosstab: a shown count is the true count (pandas' own
    # crosstab of the valid rows), and every count of 1 to 4 respondents is the marker
    rd = report.load_data(export, instrument=INSTRUMENT, lang="en")
    true = pd.crosstab(rd.valid["practice_type"], rd.valid["incident_12m"], margins=True, margins_name="Total")
    shown = pd.read_html(io.StringIO(page), keep_default_na=False)[0]
    shown = shown.set_index(shown.columns[0])
    assert set(shown.index) == {str(i) for i in true.index}
    assert set(shown.columns) == {str(c) for c in true.columns}
    n_hidden = 0
    for row in true.index:
        for col in true.columns:
            cell, value = str(shown.loc[str(row), str(col)]), int(true.loc[row, col])
            if cell == MARKER:
                n_hidden += 1
            else:
                assert cell == str(value), (row, col, cell, value)
            assert not 0 < value < 5 or cell == MARKER, (row, col, value)
    assert n_hidden >= int(((true > 0) & (true < 5)).to_numpy().sum())


def test_repository_notebooks_are_not_modified(built):
    assert built["before"] == built["after"]


def test_free_text_appears_nowhere_in_the_report(built, export):
    assert SECRET in export.read_text()  # the input really has it
    for path in built["out"].rglob("*"):
        if path.suffix in (".html", ".csv", ".json", ".css"):
            assert SECRET not in path.read_text(encoding="utf-8-sig"), path.name
            assert "Quokka" not in path.read_text(encoding="utf-8-sig"), path.name


def test_a_notebook_that_prints_free_text_stops_the_report(tmp_path, export):
    nbs = tmp_path / "nb"
    nbs.mkdir()
    leaky = [("params", PARAMS),
             ("code", (f"import surveydata\nraw = surveydata.read_export({str(export)!r})\n"
                      "raw[['comments']]"))]  # a table of the comments: it would reach the page
    nbformat.write(_nb(leaky), nbs / "01_leak.ipynb")
    out = tmp_path / "out"
    with pytest.raises(report.ReportError, match=r"column 'comments' of input line \d+") as err:
        report.build_report(out, data=export, instrument=INSTRUMENT, lang="en", notebooks_dir=nbs,
                            progress=False)
    assert SECRET not in str(err.value)
    assert not (out / "01_leak.html").exists()


def test_provenance_records_hashes_versions_commit_and_seeds(built, export, inst):
    prov = json.loads((built["out"] / "provenance.json").read_text())
    assert prov["input"]["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
    assert prov["input"]["kind"] == "export" and prov["input"]["name"] == "export.csv"
    assert prov["input"]["n_raw"] == 60 == prov["input"]["n_valid"] + prov["input"]["n_quarantined"]
    assert prov["instrument"]["name"] == inst.name and prov["instrument"]["version"] == inst.version
    inst_file = Path(inst.source)
    assert prov["instrument"]["sha256"] == hashlib.sha256(inst_file.read_bytes()).hexdigest()
    assert prov["software"]["dependencies"]["pandas"] == pd.__version__
    assert prov["software"]["python"] == ".".join(map(str, sys.version_info[:3]))
    # A commit of this repository (HEAD may move on while the test runs in a shared checkout).
    commit = prov["git"]["commit"]
    assert re.fullmatch(r"[0-9a-f]{40}", commit)
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], check=False)
    assert known.returncode == 0
    assert isinstance(prov["git"]["dirty"], bool)
    assert prov["seeds"]["report"] == report.DEFAULT_SEED
    assert prov["report"]["disclosure_threshold_k"] == 5
    assert [n["name"] for n in prov["report"]["notebooks"]] == ["01_one.ipynb", "02_two.ipynb"]
    assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:", json.dumps(prov)), "no timestamps"


def test_outside_a_git_checkout_the_commit_is_unknown_and_says_why(tmp_path):
    info = report._git(tmp_path)
    assert info["commit"] == "unknown"
    assert "not a git checkout" in info["reason"]


def test_unknown_language_and_bad_threshold_are_refused(tmp_path, notebooks):
    with pytest.raises(ValueError, match="not supported"):
        report.build_report(tmp_path, lang="fr", notebooks_dir=notebooks, progress=False)
    with pytest.raises(ValueError, match="positive integer"):
        report.build_report(tmp_path, k=0, notebooks_dir=notebooks, progress=False)


def test_no_notebooks_is_an_error(tmp_path):
    with pytest.raises(report.ReportError, match="no notebooks"):
        report.find_notebooks(tmp_path)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "surveydata", "report", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_builds_a_report_with_progress(rebuilt):
    res = rebuilt["cli"]  # the command line built ``rebuilt``
    assert res.returncode == 0, res.stderr
    assert "[1/2] 01_one.ipynb done" in res.stderr and "[2/2] 02_two.ipynb done" in res.stderr
    assert "60 rows: 60 valid, 0 quarantined" in res.stderr
    assert (rebuilt["out"] / "provenance.json").exists()


def test_a_german_report_is_german(demo_both):
    pages = _pages(demo_both / "de")
    assert '<html lang="de">' in pages["index.html"]
    assert "Inhalt" in pages["index.html"] and "Platzhalter zwei" in pages["index.html"]
    assert f"language de seed {report.DEFAULT_SEED}" in pages["02_two.html"]


def test_cli_usage_errors_are_one_line_with_exit_code_2(tmp_path, notebooks):
    res = _cli("--data", tmp_path / "nope.csv", "--out", tmp_path / "r", "--notebooks", notebooks)
    assert res.returncode == 2 and "nope.csv: no such file" in res.stderr
    assert "Traceback" not in res.stderr
    res = _cli("--lang", "fr", "--out", tmp_path / "r")
    assert res.returncode == 2


def test_cli_failing_notebook_exits_1_naming_it(tmp_path, export):
    nbs = tmp_path / "nb"
    nbs.mkdir()
    nbformat.write(_nb([("params", PARAMS), ("code", "raise ValueError('boom in cell')")]),
                   nbs / "01_bad.ipynb")
    res = _cli("--data", export, "--instrument", INSTRUMENT, "--lang", "de", "--out", tmp_path / "r",
               "--notebooks", nbs, "--quiet")
    assert res.returncode == 1
    assert "01_bad.ipynb failed" in res.stderr and "boom in cell" in res.stderr
    assert not (tmp_path / "r" / "index.html").exists()


#: Files of the user's own in the folder ``rebuilt`` is built into (the report keeps them).
FOREIGN = {"notes.txt": "mine", "99_old.html": "not written by the report"}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory, notebooks, export):
    """The report of ``built`` built a second time, by the command line (with progress, one
    notebook at a time), into a folder that already holds files of the user's own: compared
    byte for byte with ``built`` and used for the output transaction."""
    out = tmp_path_factory.mktemp("rebuilt") / "r"
    out.mkdir()
    for name, text in FOREIGN.items():
        (out / name).write_text(text)
    res = _cli("--data", export, "--instrument", INSTRUMENT, "--lang", "en", "--out", out,
               "--notebooks", notebooks, "--jobs", 1)
    assert res.returncode == 0, res.stderr
    return {"out": out, "cli": res}


def test_same_input_gives_the_same_report_byte_for_byte(built, rebuilt):
    """Deterministic pages and downloads (no timestamps, stable figures and workbooks)."""
    again = rebuilt["out"]
    names = _files(built["out"])
    assert names == [n for n in _files(again) if n not in FOREIGN]
    commits = [json.loads((d / "provenance.json").read_text())["git"] for d in (built["out"], again)]
    moved = commits[0] != commits[1]  # another commit landed in a shared checkout meanwhile

    def same_commit(data: bytes, git: dict) -> bytes:
        commit = str(git["commit"]).encode()
        return (data.replace(commit, b"<commit>").replace(commit[:10], b"<commit>")
                .replace(b'"dirty": true', b"").replace(b'"dirty": false', b"").replace(b" (+)", b""))

    for name in names:
        first, second = (built["out"] / name).read_bytes(), (again / name).read_bytes()
        if name == "manifest.json":  # the second folder held the user's files: kept, and said so
            kept = json.loads(second)["kept_not_written_by_this_run"]
            assert kept == sorted(FOREIGN) and json.loads(first)["kept_not_written_by_this_run"] == []
            second = second.replace(json.dumps(kept, indent=2).replace("\n", "\n  ").encode(), b"[]")
        if moved:
            if name == "manifest.json":  # hashes of the files that name the commit
                continue
            first, second = same_commit(first, commits[0]), same_commit(second, commits[1])
        assert first == second, name


@pytest.fixture(scope="module")
def demo_both(tmp_path_factory, notebooks):
    """The demo survey (the default input, the practice study) in both editions."""
    out = tmp_path_factory.mktemp("demo_both")
    report.build_report(out, lang="both", notebooks_dir=notebooks, progress=False)
    return out


def test_default_input_is_the_demo_survey(demo_both):
    import surveydata
    from surveydata.demo import DEMO_SETTINGS, demo_path

    out = demo_both / "en"
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["input"]["kind"] == "demo"
    assert prov["input"]["sha256"] == hashlib.sha256(demo_path().read_bytes()).hexdigest()
    assert prov["seeds"]["demo"] == DEMO_SETTINGS["seed"]
    page = (out / "01_one.html").read_text()
    assert f"valid rows: {len(surveydata.load_demo())};" in page  # the demo's own loader agrees
    comments = surveydata.load_demo(raw=True)["comments"].dropna()
    comments = [c for c in comments.unique() if len(c.strip()) > 20]
    assert comments, "the demo has comments"
    for path in out.rglob("*"):
        if path.suffix in (".html", ".csv", ".json"):
            text = path.read_text(encoding="utf-8-sig")
            assert not any(c in text for c in comments), path.name


# ---------------------------------------------------------------------------------------------
# presentation: one language per edition, banner, methods, tables and figures as in a journal

def test_tables_have_one_header_row_a_number_a_caption_and_their_csv(built):
    from bs4 import BeautifulSoup

    out = built["out"]
    soup = BeautifulSoup((out / "01_one.html").read_text(), "html.parser")
    tables = soup.select("figure.report-table table")
    assert tables
    for table in tables:
        # one row of column labels (pandas' row of index names is merged); upper column levels
        # are spanners above it, rendered by the publication table (analysis.pubtable)
        assert len(table.select("thead tr:not(.gt_spanner_row)")) == 1
        assert "gt_table" in table["class"]
        for th in table.select("thead th"):
            assert th.get_text(strip=True), "an empty header cell (axe: empty-table-header)"
        caption = table.find("caption").get_text(" ", strip=True)
        assert re.match(r"Table \d+\. \S", caption)
        link = table.find_parent("figure").select_one('a[href$=".csv"]')["href"]
        rows = list(csv.reader(io.StringIO((out / link).read_text(encoding="utf-8-sig"))))
        shown, group = [], []
        for tr in table.select("tbody tr"):
            cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            if "gt_group_heading_row" in (tr.get("class") or []):
                group = cells          # a row group's label: the CSV repeats it in each row
                continue
            shown.append(group + cells)
        labels = [th.get_text(" ", strip=True) for th in table.select("thead tr")[-1].find_all("th")]
        spanned = table.select("thead tr.gt_spanner_row th")
        if not spanned:
            assert rows[0] == labels
        assert rows[1:] == shown  # the CSV is the table as shown
    book = out / "downloads" / "tables.xlsx"
    assert book.read_bytes()[:2] == b"PK"


def test_figures_are_numbered_with_captions_generated_alt_text_and_downloads(built):
    from bs4 import BeautifulSoup

    out = built["out"]
    soup = BeautifulSoup((out / "01_one.html").read_text(), "html.parser")
    figure = soup.select_one("figure.report-figure")
    img = figure.find("img")
    assert img["alt"] == "Bar chart of Share (%) with 95% confidence intervals, 1 row. x: 30.0 (95% CI 20.0–40.0)."
    assert "No description" not in str(soup)
    assert figure.find("figcaption").get_text(" ", strip=True).startswith("Figure 1. A figure")
    assert figure.select_one("picture source")["media"] == "(max-width: 600px)"  # the phone variant
    png = (out / img["src"]).read_bytes()
    width = int.from_bytes(png[16:20], "big")
    assert width == 2 * int(img["width"])  # drawn at twice the resolution it is shown at
    # the vector copy beside the PNG (the PNG stays the image on the page: lighter)
    svg_link = figure.select_one('a[href$=".svg"]')["href"]
    assert svg_link == "downloads/01_one-figure-1.svg" and img["src"].endswith(".png")
    assert (out / svg_link).read_bytes().lstrip().startswith(b"<?xml")
    assert b"<svg" in (out / svg_link).read_bytes()
    data = list(csv.DictReader(io.StringIO((out / "downloads" / "01_one-figure-1.csv").read_text(encoding="utf-8-sig"))))
    assert data == [{"series": "", "row": "x", "estimate": "30.0", "ci_low": "20.0", "ci_high": "40.0",
                     "unit": "Share (%)"}]
    tidy = (out / "downloads" / "estimates.csv").read_text()
    assert tidy.splitlines()[0] == "page,figure,caption,series,row,estimate,ci_low,ci_high,unit"
    assert "01_one.html,1,A figure,,x,30.0,20.0,40.0,Share (%)" in tidy


def test_pages_share_one_stylesheet_and_carry_no_lab_css(built):
    out = built["out"]
    for name, page in _pages(out).items():
        if name == "codebook.html":
            continue
        assert '<link rel="stylesheet" href="report.css">' in page, name
        assert "<style" not in page and "jp-Notebook" not in page, name
        assert len(page.encode()) < 40_000, name  # was ~257 KB of JupyterLab CSS per page
    assert "@media print" in (out / "report.css").read_text() and "size: A4" in (out / "report.css").read_text()


def test_index_has_short_commit_no_double_numbers_and_no_banner_for_a_users_export(built):
    index = (built["out"] / "index.html").read_text()
    assert not re.search(r"[0-9a-f]{40}", index)  # the full hash overflowed a phone
    assert re.search(r'<dd class="commit">[0-9a-f]{10}( \(\+\))?</dd>', index)
    assert '<a href="01_one.html">Placeholder one</a>' in index
    assert report._plain_title("1 Data quality") == "Data quality"
    assert 'class="banner"' not in index  # an export of a study that is not simulated


def test_methods_page_states_design_response_weighting_sources_and_citation(demo_both):
    page = (demo_both / "en" / "methods.html").read_text()
    for heading in ("Population and sampling frame", "Sampling design", "Fieldwork period",
                    "Response by stratum", "Validation and quarantine", "Weighting",
                    "Variance estimation and confidence intervals", "Software and versions",
                    "Suggested citation", "Codebook"):
        assert f">{heading}</h2>" in page, heading
    assert "2023-03-01 to 2023-05-31, mode: online." in page
    assert "stand-in (not an official figure)" in page  # the federal-state margin is a proxy
    assert "statistikportal.de" in page and "2018" in page
    assert "Wald intervals" in page and '<a href="codebook.html">' in page
    assert re.search(r'>Python</th>\s*<td headers="[^"]*" class="gt_row gt_right">'
                     + re.escape(".".join(map(str, sys.version_info[:3]))) + "</td>", page)


def test_both_editions_are_built_each_in_its_language_and_linked(demo_both):
    out = demo_both
    assert '<a href="de/index.html" hreflang="de" lang="de">' in (out / "index.html").read_text()
    for lang, other, word in (("de", "en", "Inhalt"), ("en", "de", "Contents")):
        pages = _pages(out / lang)
        assert set(pages) >= {"index.html", "01_one.html", "02_two.html", "methods.html", "codebook.html"}
        for name, page in pages.items():
            assert f'<html lang="{lang}">' in page, (lang, name)
            if name != "codebook.html":
                assert f'href="../{other}/{name}" hreflang="{other}"' in page, (lang, name)
                assert 'class="banner" role="note"' in page, (lang, name)  # the demo is simulated
                assert word in page
        assert f"language {lang} seed" in pages["02_two.html"]
    assert "Abbildung 1." in (out / "de" / "01_one.html").read_text()
    assert "Tabelle 1." in (out / "de" / "01_one.html").read_text()
    de_csv = next((out / "de" / "downloads").glob("01_one-table-*.csv")).read_text(encoding="utf-8-sig")
    assert ";" in de_csv.splitlines()[0]  # what a German spreadsheet splits on


def test_report_out_is_a_transaction_keeping_foreign_files_and_the_previous_report(tmp_path, rebuilt,
                                                                                   notebooks, export):
    out = rebuilt["out"]  # built into a folder that held the user's files
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "99_old.html").read_text() == "not written by the report"  # was deleted
    assert (out / "index.html").exists()
    before = {n: (out / n).read_bytes() for n in _files(out)}
    bad = tmp_path / "bad"
    bad.mkdir()
    nbformat.write(_nb([("params", PARAMS), ("code", "raise ValueError('boom')")]), bad / "01_bad.ipynb")
    with pytest.raises(report.ReportError, match="01_bad.ipynb failed"):
        report.build_report(out, data=export, instrument=INSTRUMENT, lang="en", notebooks_dir=bad,
                            progress=False)
    assert {n: (out / n).read_bytes() for n in _files(out)} == before  # the previous report, intact
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".r.")]  # no staging left
    victim = tmp_path / "victim.txt"
    (out / "link.html").symlink_to(victim)
    try:
        with pytest.raises(report.SurveyDataError, match="symbolic link"):
            report.build_report(out, data=export, instrument=INSTRUMENT, lang="en", notebooks_dir=notebooks,
                                progress=False)
        assert not victim.exists()
        assert {n: (out / n).read_bytes() for n in _files(out)} == before
    finally:
        (out / "link.html").unlink()


def test_a_summary_the_data_cannot_support_is_a_sentence_any_other_failure_stops_the_report(monkeypatch):
    """A statistical limitation (AnalysisError: a singular model on a small export) becomes one
    sentence naming the reason in the edition's language; a bug (any other error) is an error."""
    from types import SimpleNamespace

    from analysis.errors import AnalysisError
    from surveydata.report import findings

    def singular(rd, k):
        raise AnalysisError("the design matrix has rank 5 < 12 columns")

    monkeypatch.setattr(findings, "executive_summary", singular, raising=False)
    assert report._summary_sentences(SimpleNamespace(lang="de"), 5) == [
        "Die Zusammenfassung konnte nicht berechnet werden: the design matrix has rank 5 < 12 columns"]
    assert report._summary_sentences(SimpleNamespace(lang="en"), 5) == [
        "The summary could not be computed: the design matrix has rank 5 < 12 columns"]

    def bug(rd, k):
        raise KeyError("no_such_column")

    monkeypatch.setattr(findings, "executive_summary", bug, raising=False)
    with pytest.raises(report.ReportError, match="executive summary could not be written: 'no_such_column'"):
        report._summary_sentences(SimpleNamespace(lang="en"), 5)
