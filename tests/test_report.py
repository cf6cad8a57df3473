"""The report builder on small placeholder notebooks (written to a temp dir, never committed).

What is checked: the pages exist, have no code cells, load nothing remote (no CDN), embed their
figures; the repository's notebooks stay untouched; free text never reaches a page; provenance
records the input hash, instrument, versions, commit and seeds; failures name the notebook.
The real notebooks are checked end to end in test_report_notebooks.py.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import schemas
from surveydata import report
from surveydata.disclosure import MARKER
from tests import export_factory

ROOT = Path(__file__).resolve().parents[1]
SECRET = "Dr. Quokka-Zebra 4711 in Musterhausen"  # a distinctive free-text answer

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
    ("code", ("from surveydata.report import load_data\nfrom surveydata import disclosure, plots\n"
             "import pandas as pd\nrd = load_data(data, instrument, lang)\n"
             "print('valid rows:', len(rd.valid))\nprint('columns with comments:', 'comments' in rd.valid.columns)")),
    ("code", "disclosure.safe_crosstab(rd.valid, 'practice_type', 'incident_12m', k=k_min)"),
    ("code", "rd.valid.head(3)"),
    ("code", "rd.failures.head(3)"),
    ("code", ("est = pd.DataFrame({'estimate': [0.3], 'ci_low': [0.2], 'ci_high': [0.4]}, index=['x'])\n"
             "plots.bar_ci(est, lang=lang);")),
]
SECOND = [
    ("md", "# Placeholder two"),
    ("params", PARAMS),
    ("code", "print('language', lang, 'seed', seed)"),
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
    index = report.build_report(out, data=export, lang="en", notebooks_dir=notebooks, progress=False)
    after = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    return {"out": out, "index": index, "before": before, "after": after}


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def test_writes_index_one_page_per_numbered_notebook_and_provenance(built):
    out = built["out"]
    assert built["index"] == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == ["01_one.html", "02_two.html", "index.html",
                                                      "provenance.json"]
    index = (out / "index.html").read_text()
    assert 'href="01_one.html"' in index and 'href="02_two.html"' in index
    assert "Placeholder one" in index and "What came in." in index


def test_pages_have_no_code_cells_and_show_outputs(built):
    page = _pages(built["out"])["01_one.html"]
    assert "load_data(" not in page and "hl-ipython3" not in page  # no highlighted code
    assert "valid rows: 60" in page
    assert "columns with comments: False" in page


def test_pages_load_nothing_remote_and_embed_figures(built):
    cdn = re.compile(r"cdn|jsdelivr|unpkg|googleapis|cloudflare|mathjax\.org|require\.js", re.IGNORECASE)
    for name, page in _pages(built["out"]).items():
        report.check_offline(page, name)
        for m in re.finditer(r"(?:https?:)?//[^\s\"'<>)]+", page):
            assert not cdn.search(m.group(0)), f"{name} links a CDN: {m.group(0)}"
        for src in re.findall(r"<(?:script|img|link|iframe)\b[^>]*(?:src|href)\s*=\s*[\"']([^\"']*)", page):
            assert src.startswith("data:") or not re.match(r"^[a-z]+:|^//", src), f"{name}: {src}"
    page = _pages(built["out"])["01_one.html"]
    assert re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/]{100,}', page)
    assert "<script src" not in page
    # A link in the narrative to a website is a link, not a resource: it stays.
    assert 'href="https://www.bsi.bund.de/"' in page


def test_report_counts_are_disclosure_protected(built):
    page = _pages(built["out"])["01_one.html"]
    assert MARKER in page  # 60 respondents over 5 practice types x incident codes: small cells


def test_repository_notebooks_are_not_modified(built):
    assert built["before"] == built["after"]


def test_free_text_appears_nowhere_in_the_report(built, export):
    assert SECRET in export.read_text()  # the input really has it
    for path in built["out"].iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path.name
        assert "Quokka" not in path.read_text(encoding="utf-8"), path.name


def test_a_notebook_that_prints_free_text_stops_the_report(tmp_path, export):
    nbs = tmp_path / "nb"
    nbs.mkdir()
    leaky = [("params", PARAMS),
             ("code", (f"import surveydata\nraw = surveydata.read_export({str(export)!r})\n"
                      "print(raw['comments'].tolist())"))]
    nbformat.write(_nb(leaky), nbs / "01_leak.ipynb")
    out = tmp_path / "out"
    with pytest.raises(report.ReportError, match=r"column 'comments' of input line \d+") as err:
        report.build_report(out, data=export, notebooks_dir=nbs, progress=False)
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


def test_cli_builds_a_german_report_with_progress(tmp_path, notebooks, export):
    res = _cli("--data", export, "--lang", "de", "--out", tmp_path / "r", "--notebooks", notebooks,
               "--jobs", 1)
    assert res.returncode == 0, res.stderr
    assert "[1/2] 01_one.ipynb done" in res.stderr and "[2/2] 02_two.ipynb done" in res.stderr
    assert "60 rows: 60 valid, 0 quarantined" in res.stderr
    assert (tmp_path / "r" / "provenance.json").exists()
    pages = _pages(tmp_path / "r")
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
    res = _cli("--data", export, "--out", tmp_path / "r", "--notebooks", nbs, "--quiet")
    assert res.returncode == 1
    assert "01_bad.ipynb failed" in res.stderr and "boom in cell" in res.stderr
    assert not (tmp_path / "r" / "index.html").exists()


def test_same_input_gives_the_same_report_byte_for_byte(tmp_path, notebooks, export, built, inst):
    """Deterministic pages (no timestamps, stable figures), also with the instrument given as a path."""
    again = tmp_path / "again"
    report.build_report(again, data=export, instrument=inst.source, lang="en",
                        notebooks_dir=notebooks, progress=False)
    for path in sorted(built["out"].iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_default_input_is_the_demo_survey(tmp_path, notebooks):
    import surveydata
    from surveydata.demo import DEMO_SETTINGS, demo_path

    out = tmp_path / "demo"
    report.build_report(out, notebooks_dir=notebooks, progress=False)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["input"]["kind"] == "demo"
    assert prov["input"]["sha256"] == hashlib.sha256(demo_path().read_bytes()).hexdigest()
    assert prov["seeds"]["demo"] == DEMO_SETTINGS["seed"]
    page = (out / "01_one.html").read_text()
    assert f"valid rows: {len(surveydata.load_demo())}" in page  # the demo's own loader agrees
    comments = surveydata.load_demo(raw=True)["comments"].dropna()
    comments = [c for c in comments.unique() if len(c.strip()) > 20]
    assert comments, "the demo has comments"
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not any(c in text for c in comments), path.name
