"""The methods page (surveydata.report.methods) on a declared study and on an instrument alone:
where inline margins come from, what an unweighted report says about inference, the citation.

The page is built from a stand-in of the report data (only what the page reads), so each case is
a fraction of a second; the full page is checked in the demo report (test_report.py).
"""
from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

import schemas
from surveydata.report.html import Counter
from surveydata.report.methods import methods_body

ROOT = Path(__file__).resolve().parents[3]
STUDY = ROOT / "schemas" / "studies" / "pharmacy_staff.yaml"   # margins declared inline
PROV = {"software": {"python": "3.11.2", "package": {"praxis-survey": "1.0"},
                     "dependencies": {"pandas": "2.2.3"}},
        "git": {"commit": "0123456789abcdef"}}


def _rd(study, weighted: bool = True):
    failures = pd.DataFrame({"rule": pd.Series(dtype=str), "line": pd.Series(dtype=int)})
    return SimpleNamespace(study=study, source={"kind": "file"}, lang="en", weighted=weighted,
                           strata=pd.DataFrame({"n_valid": [10, 12]}), n_raw=25,
                           valid=pd.DataFrame(index=range(22)), quarantine=pd.DataFrame(index=range(3)),
                           failures=failures, label=lambda v: v)


def _text(page) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.body)))


def test_inline_margins_are_credited_to_the_study_with_their_declared_source_and_year():
    study = schemas.load_study(STUDY)
    assert study.population.name == "inline"          # the case the page must not quote
    text = _text(methods_body(_rd(study), PROV, "en", 5, Counter()))
    assert "margins from the study declaration (invented for the example (stand-in, not a " \
           "published count) 2025" in text
    assert "from inline" not in text and "population inline" not in text
    # the stratum sizes come from the margin role_x_pharmacy_size, declared in the study too
    assert "the margin role_x_pharmacy_size declared in the study (invented for the example " \
           "(stand-in, independent of any published table) 2025)" in text


def test_citation_has_no_dangling_dash_without_a_publisher():
    study = schemas.load_study(STUDY)
    text = _text(methods_body(_rd(study), PROV, "en", 5, Counter()))
    assert ("praxis-survey contributors (2025). Information security at work: staff of public "
            "pharmacies. praxis-survey. Report built with praxis-survey 1.0 (commit 0123456789).") in text
    meta = {k: v for k, v in study.meta.items() if k != "publisher"}
    bare = dataclasses.replace(study, meta=meta)
    text = _text(methods_body(_rd(bare), PROV, "de", 5, Counter()))
    cited = re.search(r"praxis-survey contributors \(2025\): .*?\(Commit 0123456789\)\.", text).group(0)
    assert "–." not in cited and ". . " not in cited
    assert "Apotheken. Bericht erstellt mit praxis-survey 1.0" in cited


def test_an_unweighted_report_claims_no_design_based_inference():
    study = schemas.load_study(STUDY)
    instrument_only = SimpleNamespace(meta={}, population=None, design=None, weighting=None,
                                      simulated=False, title=study.title, name="x")
    for lang, says, never in (("en", "Unweighted, descriptive analysis",
                               ("Taylor", "stratified design", "raked")),
                              ("de", "Ungewichtete, beschreibende Auswertung",
                               ("Taylor", "geschichtete", "gerakten"))):
        text = _text(methods_body(_rd(instrument_only, weighted=False), PROV, lang, 5, Counter()))
        assert says in text
        assert not [w for w in never if w in text], f"{lang}: describes a design it does not have"
    weighted = _text(methods_body(_rd(study), PROV, "en", 5, Counter()))
    assert "Taylor linearisation for the stratified design" in weighted
    assert "Unweighted, descriptive" not in weighted


def test_another_study_s_methods_page_has_no_practice_words_and_blames_no_strata_csv():
    """QA F4 and F11: the pharmacy study (stand-in margins, N_h from a margin, no strata file)."""
    study = schemas.load_study(STUDY)
    for lang, standin, invited in (
            ("en", "shares of the general population instead of counts of this population's units",
             ("The number invited per stratum is not known (the design takes N_h from the population "
              "margin role_x_pharmacy_size; a strata file beside the data with stratum, N_h and "
              "n_invited gives response rates)")),
            ("de", "Anteile an der Gesamtbevölkerung statt Zahlen der Einheiten dieser Grundgesamtheit",
             ("Die Zahl der Eingeladenen je Schicht ist nicht bekannt (das Design nimmt N_h aus der "
              "Randverteilung role_x_pharmacy_size;"))):
        text = _text(methods_body(SimpleNamespace(**{**vars(_rd(study)), "lang": lang}),
                                  PROV, lang, 5, Counter()))
        assert standin in text and invited in text
        assert "strata.csv" not in text
        words = text.replace("praxis-survey", "")
        assert not re.search(r"(?i)praxis|praxen|practice", words), lang
    # a strata file that was read but has no n_invited column is named
    rd = SimpleNamespace(**{**vars(_rd(study)), "source": {"kind": "file", "strata": "frame.csv"}})
    assert "(no n_invited column in frame.csv)" in _text(methods_body(rd, PROV, "en", 5, Counter()))
