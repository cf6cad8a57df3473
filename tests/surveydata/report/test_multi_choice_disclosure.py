"""A multiple-choice item's options are separate yes/no counts of the item's respondents (QA
finding F3): primary suppression per option, of its ticks and of its non-ticks, and no
secondary suppression across options; the disclosure audit models each option as ticked +
not ticked = respondents and passes."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from surveydata.report import disclosure as dc
from surveydata.report import disclosure_audit as audit
from surveydata.report import findings

R = 183
TICKS = {"Walk": 60, "Bus": 100, "Driven by car": 44, "Home-schooled": 4, "Has a phone": 180,
         "Rides a horse": 0}


def _freq():
    n = pd.Series(TICKS, dtype="int64")
    return pd.DataFrame({"n": n, "share": n / R}).rename_axis("transport")


@pytest.fixture()
def shown(monkeypatch, tmp_path):
    monkeypatch.setenv(dc.RECORD_ENV, str(tmp_path / "p.disclosure.jsonl"))
    table = findings.multi_table(_freq(), R, "en", 5, name="frequencies transport")
    return table, audit.read_records(tmp_path)


def test_each_option_is_suppressed_on_its_own(shown):
    table, _ = shown
    n = table["n"].to_dict()
    # 4 ticked: small; 180 ticked: 3 did not (the n would show them); 0 ticked is no one
    assert n == {"Walk": "60", "Bus": "100", "Driven by car": "44", "Home-schooled": "•",
                 "Has a phone": "•", "Rides a horse": "0"}
    assert table.iloc[2, 1] == "24.0"          # 44 / 183, not hidden as secondary
    assert table.iloc[3, 1] == "•" and table.iloc[4, 1] == "•"


def test_the_audit_models_ticked_plus_not_ticked_and_passes(shown):
    _, records = shown
    assert len(records) == len(TICKS)
    for rec in records:
        (total, parts), = rec["relations"]
        cells = rec["cells"]
        assert cells[total]["value"] == R and not cells[total]["suppressed"]
        assert sorted(cells[p]["column"] for p in parts) == ["not ticked", "ticked"]
        assert all(c["suppressed"] for c in cells if c["column"] == "not ticked")
    result = audit.audit(records)
    assert result.passed, result.failures
    phone = next(c for c in result.cells if c["table"] == "frequencies transport: Has a phone"
                 and c["cell"][1] == "not ticked")
    assert phone["attacker_interval"] == [0.0, 183.0]


def test_a_published_count_of_almost_everyone_fails_the_audit(shown):
    """Plant the leak: 180 of 183 ticked published, so 3 who did not follow."""
    _, records = shown
    leaky = json.loads(json.dumps(records))
    rec = next(r for r in leaky if r["table"].endswith("Has a phone"))
    next(c for c in rec["cells"] if c["column"] == "ticked")["suppressed"] = False
    result = audit.audit(leaky)
    assert [(c["table"], c["cell"]) for c in result.failures] == [
        ("frequencies transport: Has a phone", ["Has a phone", "not ticked"])]


def test_an_item_with_fewer_than_k_respondents_shows_no_count():
    freq = pd.DataFrame({"n": [3, 0], "share": [1.0, 0.0]}, index=pd.Index(["a", "b"], name="x"))
    table = findings.multi_table(freq, 3, "en", 5)
    assert table["n"].tolist() == ["•", "•"]
