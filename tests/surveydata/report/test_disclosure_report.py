"""The disclosure audit inside the report build, on small placeholder notebooks.

Two pages publish the same counts: page 1 a type x incident crosstab with totals, page 2 the
incident = yes column again by type. When page 2 hides both its cells (its total shows), the
pages agree and the build writes disclosure.json with the attacker's interval worked out by
hand. When page 2 shows PT = 10 (safe on its own page: no total there), page 1's yes total 12
gives GP = 2 away: the build refuses and writes nothing.

The published cells are checked exactly (every cell of the rendered table), not only that a
suppression marker appears somewhere on a page.
"""
from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import schemas
from surveydata.report import build as report
from surveydata.report import disclosure_audit
from surveydata.report.disclosure import MARKER
from tests import export_factory

INSTRUMENT = Path(schemas.__file__).parent / "instruments" / "practice_security.yaml"
PARAMS = 'data = None\ninstrument = None\nlang = "en"\nk_min = 5\nseed = 1'
SETUP = "import pandas as pd\nfrom surveydata.report import disclosure"
CROSSTAB = ("t = pd.DataFrame({'yes': [2, 10], 'no': [9, 11]}, index=pd.Index(['GP', 'PT'], name='type'))\n"
            "t.columns.name = 'incident'\n"
            "disclosure.protect_counts(t, k=k_min)")
YES = ("y = pd.DataFrame({'n': [2, 10]}, index=pd.Index(['GP', 'PT'], name='type'))\n"
       "y.attrs['given'] = {'incident': 'yes'}\n")
YES_SAFE = YES + "disclosure.protect_counts(y, k=k_min, row_totals=False, name='incidents by type')"
YES_LEAK = YES + ("disclosure.protect_counts(y, k=k_min, row_totals=False, col_totals=False,"
                  " name='incidents by type')")


def _nb(title, code):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["report"] = {"title_en": title, "title_de": title}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"),
                nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(code)]
    return nb


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    inst = schemas.load_instrument()
    path = tmp_path_factory.mktemp("data") / "export.csv"
    path.write_bytes(export_factory.to_csv_bytes(export_factory.to_text(
        export_factory.valid_coded(inst, 40, 5))))
    return path


def _build(tmp_path_factory, export, second):
    nbs = tmp_path_factory.mktemp("notebooks")
    nbformat.write(_nb("Crosstab", CROSSTAB), nbs / "01_crosstab.ipynb")
    nbformat.write(_nb("Incidents", second), nbs / "02_incidents.ipynb")
    out = tmp_path_factory.mktemp("report")
    try:
        # the instrument alone (an instrument-only study): no study-specific extra pages
        report.build_report(out, data=export, instrument=str(INSTRUMENT), lang="en", notebooks_dir=nbs,
                            progress=False, jobs=2)
    except disclosure_audit.DisclosureAuditError as err:
        return out, err
    return out, None


def _tables(page: str) -> list[pd.DataFrame]:
    return pd.read_html(StringIO(page), keep_default_na=False)


def test_pages_that_agree_publish_and_write_disclosure_json(tmp_path_factory, export):
    out, err = _build(tmp_path_factory, export, YES_SAFE)
    assert err is None
    # page 1, every cell: the 2 and its cheapest complements (the whole interior, cost 32 <
    # 43 for {2, 9, both column totals}) hidden; all totals shown
    page1 = _tables((out / "01_crosstab.html").read_text(encoding="utf-8"))[0]
    cells = page1.astype(str).to_numpy().tolist()
    assert [row[-3:] for row in cells[-3:]] == [[MARKER, MARKER, "11"], [MARKER, MARKER, "21"],
                                                ["12", "20", "32"]]
    page2 = _tables((out / "02_incidents.html").read_text(encoding="utf-8"))[0]
    assert [row[-1] for row in page2.astype(str).to_numpy().tolist()[-3:]] == [MARKER, MARKER, "12"]
    doc = json.loads((out / "disclosure.json").read_text(encoding="utf-8"))
    assert doc["passed"] is True
    # by hand: GP-yes = t, GP-no = 11 - t, PT-yes = 12 - t, PT-no = 9 + t >= 0: t in [0, 11]
    assert [(c["page"], c["table"], c["cell"], c["attacker_interval"], c["pass"])
            for c in doc["suppressed_cells"]] == [
        ("01_crosstab.html", "type x incident", ["GP", "yes"], [0.0, 11.0], True),
        ("02_incidents.html", "incidents by type", ["GP", "n"], [0.0, 11.0], True)]


def test_planted_linked_table_leak_makes_the_build_refuse(tmp_path_factory, export):
    out, err = _build(tmp_path_factory, export, YES_LEAK)
    assert err is not None
    message = str(err)
    assert "not published" in message
    assert "01_crosstab.html, table 'type x incident', cell ['GP', 'yes']: an attacker bounds it to [2, 2]" in message
    assert "02_incidents.html, table 'incidents by type', cell ['GP', 'n']" in message
    assert list(out.iterdir()) == []  # nothing swapped into place, not even disclosure.json
