"""The report's codebook.html is the study's codebook (analysis variables, scales) with each
scale's reliability computed on the report's data, as `surveydata codebook --data` gives it."""
from __future__ import annotations

import re
from pathlib import Path

import schemas
from surveydata.report import build
from surveydata.report import data as reportdata
from surveydata.simulate.generic import simulate_responses

OWN = Path(__file__).resolve().parents[3] / "tests" / "data" / "own_survey"


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_report_codebook_gives_the_scale_reliability_on_the_report_data(tmp_path):
    instrument = OWN / "vet_it.yaml"
    inst = schemas.load_instrument(instrument)
    export = tmp_path / "export.csv"
    export.write_bytes(simulate_responses(inst, n=150, seed=5, error_rate=0.0).to_bytes())
    rd = reportdata.load_data(export, instrument=instrument, lang="en")
    ed = build._Edition(lang="en", rd=rd, prov={}, k=5, other=None)
    page = build._codebook_page(ed, rd.instrument)
    text = _text(page)
    # the same numbers as the codebook of the study with this data (unweighted: no design)
    expected = _text(schemas.codebook(rd.study, lang="en", fmt="html", reliability=reportdata.scale_numbers(
        rd, reportdata.weighting(rd).final)))
    alpha = re.search(r"Cronbach's alpha [−-]?\d\.\d\d \(95% CI [^)]*\)", text)
    assert alpha and alpha.group(0) in expected
    assert re.search(r"computed on \d+ respondents with every item \(unweighted\)", text)
    assert "when the codebook is built with data" not in text
    assert page.count('<a href="index.html">') == 1 and '<a href="methods.html">' in page
