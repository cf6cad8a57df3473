"""The n printed in the cells of a domain (by-group) table are published counts: for an item
that everybody answered, a group's n is the group's size. These tests plant that leak (a group
size suppressed in the first row while the cells still print it) and check that the page no
longer prints it, that the disclosure audit records the cells' n, and that the audit catches
the leak when a cell's n is published anyway."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import analysis
from surveydata.report import disclosure as dc
from surveydata.report import disclosure_audit as audit
from surveydata.report import pages


def _design():
    rng = np.random.default_rng(3)
    n = 203
    region = np.array(["north"] * 120 + ["south"] * 80 + ["island"] * 3)
    df = pd.DataFrame({"region": region, "w": rng.uniform(1, 2, n),
                       "yes_a": rng.integers(0, 2, n).astype(float),   # everybody answered a
                       "yes_b": rng.integers(0, 2, n).astype(float)})
    df.loc[:9, "yes_b"] = np.nan                       # 10 in the north did not answer b
    return analysis.SurveyDesign(df, weights="w")


RD = SimpleNamespace(lang="en", label=lambda v: {"yes_a": "Answer a", "yes_b": "Answer b",
                                                 "region": "Region"}.get(v, v),
                     outcomes=lambda kind: ["yes_a", "yes_b"] if kind == "share" else [],
                     domains=lambda: ["region"])


@pytest.fixture()
def page(monkeypatch, tmp_path):
    """The domain table as shown, and the tables recorded for the audit while it was made."""
    record = tmp_path / "p.disclosure.jsonl"
    monkeypatch.setenv(dc.RECORD_ENV, str(record))
    out = []
    monkeypatch.setattr(pages, "_display", lambda *objs: out.extend(o for o in objs if o is not None))
    _, by = pages.estimates(RD, _design())
    pages.domains_section(RD, by, 5)
    table = next(o for o in out if isinstance(o, pd.DataFrame))
    # the paragraph above the table says why a cell may lack its n
    assert any("A cell without its n leaves it out" in getattr(o, "data", "") and "(1 to 4)" in o.data
               for o in out)
    return table, audit.read_records(tmp_path)


def _n(cell: str):
    m = re.search(r"n = (\d+)\)", cell)
    return int(m.group(1)) if m else None


def test_a_cell_does_not_print_the_size_of_a_group_the_first_row_hides(page):
    table, _ = page
    first = table.iloc[0]
    assert (first["north"], first["south"], first["island"]) == ("120", "•", "•")
    # item a has no missing answer: south's n would be its size (80), and island = 203 - 120 - 80
    assert _n(table.loc["Answer a", "south"]) is None
    assert table.loc["Answer a", "south"].endswith(")")   # the estimate and CI stay
    assert table.loc["Answer a", "south"] != "•"
    # north's size is published anyway: its n may be printed
    assert _n(table.loc["Answer a", "north"]) == 120
    # b: north answered 110 of 120 (10 missing: not a small count); south+island answered 83 in
    # all, so south's n (80) would give island's 3 away
    assert _n(table.loc["Answer b", "north"]) == 110
    assert _n(table.loc["Answer b", "south"]) is None
    assert (table["island"].iloc[1:] == "•").all()


def test_the_audit_sees_every_printed_n_and_passes(page):
    table, records = page
    names = [r["table"] for r in records]
    assert names == ["group sizes region", "answered yes_a by region", "answered yes_b by region"]
    # what the page prints is exactly what the records call published
    for var, label in (("yes_a", "Answer a"), ("yes_b", "Answer b")):
        rec = next(r for r in records if r["table"] == f"answered {var} by region")
        published = {c["row"]: int(c["value"]) for c in rec["cells"]
                     if c["column"] == "answered" and not c["suppressed"] and c["row"] != dc.TOTAL}
        printed = {g: _n(table.loc[label, g]) for g in ("north", "south", "island")}
        assert published == {g: n for g, n in printed.items() if n is not None}
        # nobody's non-answer is ever published
        assert all(c["suppressed"] for c in rec["cells"]
                   if c["column"] == "not answered" and c["row"] != dc.TOTAL)
    result = audit.audit(records)
    assert result.passed, result.failures
    island = next(c for c in result.cells if c["table"] == "group sizes region"
                  and c["cell"][0] == "island")
    lo, hi = island["attacker_interval"]
    assert lo <= 3 - 2 and hi >= 3 + 2                     # k = 5: 2 respondents each way


def test_the_audit_catches_a_cell_n_that_gives_a_hidden_group_size_away(page):
    """Plant the leak as it was: the page printed south's n of item a (80)."""
    _, records = page
    leaky = json.loads(json.dumps(records))
    rec = next(r for r in leaky if r["table"] == "answered yes_a by region")
    cell = next(c for c in rec["cells"] if c["row"] == "south" and c["column"] == "answered")
    assert cell["suppressed"] and cell["value"] == 80
    cell["suppressed"] = False
    result = audit.audit(leaky)
    assert not result.passed
    failed = {(c["table"], c["cell"][0]) for c in result.failures}
    assert ("group sizes region", "island") in failed
    island = next(c for c in result.failures if c["cell"][0] == "island")
    assert island["attacker_interval"] == [3.0, 3.0]        # recovered exactly
    with pytest.raises(audit.DisclosureAuditError, match="island"):
        result.raise_if_failed()


def test_suppression_mask_never_publishes_a_hidden_cell():
    counts = pd.DataFrame({"a": [40, 30], "b": [20, 10]}, index=["x", "y"])
    hidden = pd.DataFrame(False, index=["x", "y", dc.TOTAL], columns=["a", "b", dc.TOTAL])
    hidden.loc["x", "b"] = True
    mask = dc.suppression_mask(counts, 5, hidden=hidden)
    assert mask.loc["x", "b"]
    # nothing is small: a hidden cell that is not sensitive needs no complement
    assert int(mask.to_numpy().sum()) == 1


def test_few_non_answers_of_one_group_are_protected_and_the_audit_passes(monkeypatch, tmp_path):
    """3 of the north's 120 did not answer c (all the item's non-answers): north's n (117) beside
    its published size would show them exactly; the item's non-answers in all (203 - 200) are
    public anyway and do not stop the table from being published."""
    df = _design().data.copy()
    df["yes_c"] = df["yes_a"]
    df.loc[:2, "yes_c"] = np.nan
    design = analysis.SurveyDesign(df, weights="w")
    rd = SimpleNamespace(**{**vars(RD), "outcomes": lambda kind: ["yes_a", "yes_c"] if kind == "share" else []})
    record = tmp_path / "p.disclosure.jsonl"
    monkeypatch.setenv(dc.RECORD_ENV, str(record))
    out = []
    monkeypatch.setattr(pages, "_display", lambda *objs: out.extend(o for o in objs if o is not None))
    _, by = pages.estimates(rd, design)
    assert by["region"].loc[("north", "yes_c"), "n"] == 117
    pages.domains_section(rd, by, 5)
    table = next(o for o in out if isinstance(o, pd.DataFrame))
    assert table.iloc[0]["north"] == "120"
    assert _n(table.loc["yes_c", "north"]) is None
    assert table.loc["yes_c", "north"] != "•"
    result = audit.audit(audit.read_records(tmp_path))
    assert result.passed, result.failures
    north = next(c for c in result.cells if c["table"] == "answered yes_c by region"
                 and c["cell"] == ["north", "not answered"])
    lo, hi = north["attacker_interval"]
    assert lo <= 1 and hi >= 5
