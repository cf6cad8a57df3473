"""The attacker's audit of all published tables together (surveydata.report.disclosure_audit).

The tables here are laid out by hand, suppression patterns included (not chosen by the code
under test), and every attacker interval asserted was worked out by hand in the comments.
"""
import json

import pandas as pd
import pytest

from surveydata.report import disclosure as dc
from surveydata.report import disclosure_audit as da

POLICY = dc.DisclosurePolicy()  # k = 5; 2 respondents below (or down to 0) and above


def crosstab():
    """type x incident: GP 2 yes / 9 no, PT 10 yes / 11 no; totals 11, 21; 12, 20; 32."""
    t = pd.DataFrame({"yes": [2, 10], "no": [9, 11]}, index=pd.Index(["GP", "PT"], name="type"))
    t.columns.name = "incident"
    return dc.with_totals(t)


def hide(full, cells):
    mask = full.map(lambda _: False)
    for r, c in cells:
        mask.loc[r, c] = True
    return mask


def record(full, cells, page, row_totals=True, col_totals=True):
    return dict(da.table_record(full, hide(full, cells), row_totals, col_totals, POLICY), page=page)


INTERIOR = [("GP", "yes"), ("GP", "no"), ("PT", "yes"), ("PT", "no")]


def domain_yes(cells_hidden, with_total):
    """The incident = yes column published again as a one-way table by type (a domain subset)."""
    t = pd.DataFrame({"n": [2, 10]}, index=pd.Index(["GP", "PT"], name="type"))
    full = dc.with_totals(t, row_totals=False, col_totals=with_total)
    full.attrs["given"] = {"incident": "yes"}
    return dict(da.table_record(full, hide(full, cells_hidden), False, with_total, POLICY),
                page="03_estimates.html")


def sensitive(result):
    return [(c["page"], c["cell"], c["attacker_interval"], c["pass"]) for c in result.cells]


def test_one_table_interval_by_hand():
    # all four interior cells hidden, totals published: GP-yes = t, GP-no = 11 - t,
    # PT-yes = 12 - t, PT-no = 9 + t, all >= 0: t in [0, 11]; needs <= 0 and >= 4
    result = da.audit([record(crosstab(), INTERIOR, "01.html")])
    assert sensitive(result) == [("01.html", ["GP", "yes"], [0.0, 11.0], True)]
    assert result.passed


def test_rectangle_too_narrow_for_the_upper_level_fails():
    # hide GP-yes, GP-no and the yes total: column "no" still shows PT-no 11 and its total 20,
    # so GP-no = 9, and the GP row total 11 gives GP-yes = 11 - 9 = 2 exactly: pinned
    result = da.audit([record(crosstab(), [("GP", "yes"), ("GP", "no"), ("Total", "yes")], "01.html")])
    assert sensitive(result) == [("01.html", ["GP", "yes"], [2.0, 2.0], False)]
    with pytest.raises(da.DisclosureAuditError, match=r"01.html, table 'type x incident', cell \['GP', 'yes'\]"):
        result.raise_if_failed()


def test_upper_level_counts_not_just_exact_recovery():
    # GP row [2, 9 | 11] and PT row [3, 40 | 43] with yes/no totals; hide GP-yes, GP-no,
    # PT-yes, PT-no (a rectangle): t = GP-yes, PT-yes = 5 - t >= 0 so t in [0, 5]: the 2 can rise
    # by 3 (>= 2) and fall to 0: passes; the 3 (PT-yes) = 5 - t is in [0, 5]: passes too.
    t = pd.DataFrame({"yes": [2, 3], "no": [9, 40]}, index=pd.Index(["GP", "PT"], name="type"))
    t.columns.name = "incident"
    full = dc.with_totals(t)
    result = da.audit([record(full, INTERIOR, "01.html")])
    assert sensitive(result) == [("01.html", ["GP", "yes"], [0.0, 5.0], True),
                                 ("01.html", ["PT", "yes"], [0.0, 5.0], True)]
    # with an upper level of 4, [0, 5] no longer reaches 2 + 4 = 6 above the 2: fails though
    # nothing is recovered exactly (the old rank test would have passed it)
    strict = da.audit([record(full, INTERIOR, "01.html")], policy={"protection": {"lower": 2, "upper": 4}})
    assert [c["pass"] for c in strict.cells] == [False, False]


def test_linked_tables_across_pages_that_agree_pass():
    # page 2 repeats the type margin (11, 21, 32), page 3 the yes column by type with both cells
    # hidden and its total 12 shown: nothing new, GP-yes stays in [0, 11] everywhere
    margin = dc.with_totals(pd.DataFrame({"n": [11, 21]}, index=pd.Index(["GP", "PT"], name="type")),
                            row_totals=False)
    recs = [record(crosstab(), INTERIOR, "01.html"), record(margin, [], "02.html", False, True),
            domain_yes([("GP", "n"), ("PT", "n")], with_total=True)]
    result = da.audit(recs)
    assert sensitive(result) == [("01.html", ["GP", "yes"], [0.0, 11.0], True),
                                 ("03_estimates.html", ["GP", "n"], [0.0, 11.0], True)]
    assert result.passed
    assert [(t["page"], t["table"]) for t in result.tables] == [
        ("01.html", "type x incident"), ("02.html", "type"), ("03_estimates.html", "type")]


def test_planted_linked_table_leak_is_refused(tmp_path):
    # page 3 publishes PT-yes = 10 (GP-yes hidden, no total: safe on its own page), but page 1
    # publishes the yes total 12: GP-yes = 12 - 10 = 2 exactly
    run = tmp_path / "run"
    run.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (run / "01_overview.disclosure.jsonl").write_text(
        json.dumps(record(crosstab(), INTERIOR, "x")) + "\n", encoding="utf-8")
    (run / "03_estimates.disclosure.jsonl").write_text(
        json.dumps(domain_yes([("GP", "n")], with_total=False)) + "\n", encoding="utf-8")
    alone = da.audit([domain_yes([("GP", "n")], with_total=False)])
    assert alone.passed and alone.cells[0]["attacker_interval"] == [0.0, float("inf")]
    result = da.audit_directory(run)
    assert sensitive(result) == [("01_overview.html", ["GP", "yes"], [2.0, 2.0], False),
                                 ("03_estimates.html", ["GP", "n"], [2.0, 2.0], False)]
    with pytest.raises(da.DisclosureAuditError, match="not published.*03_estimates.html"):
        da.publish_audit(run, out, POLICY)
    assert list(out.iterdir()) == []  # nothing written: not even disclosure.json


def test_passing_audit_writes_disclosure_json_without_values(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "01_overview.disclosure.jsonl").write_text(
        json.dumps(record(crosstab(), INTERIOR, "x")) + "\n", encoding="utf-8")
    path = da.publish_audit(run, tmp_path, POLICY)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["passed"] is True
    assert doc["policy"]["protection_respondents"] == {"lower": 2, "upper": 2}
    assert doc["suppressed_cells"] == [{"page": "01_overview.html", "table": "type x incident",
                                        "cell": ["GP", "yes"], "sensitive": "small",
                                        "required": {"below": 2, "above": 2, "or_down_to": 0},
                                        "pass": True, "attacker_interval": [0.0, 11.0]}]
    assert '"value"' not in path.read_text(encoding="utf-8")


def test_a_published_cell_below_k_fails_and_exactly_k_passes():
    t = pd.DataFrame({"n": [4, 30]}, index=pd.Index(["GP", "PT"], name="type"))
    full = dc.with_totals(t, row_totals=False, col_totals=False)
    result = da.audit([record(full, [], "01.html", False, False)])
    assert [c["cell"] for c in result.published_small] == [["GP", "n"]]
    with pytest.raises(da.DisclosureAuditError, match="fewer than 5 respondents"):
        result.raise_if_failed()
    t5 = dc.with_totals(pd.DataFrame({"n": [5, 30]}, index=pd.Index(["GP", "PT"], name="type")),
                        row_totals=False, col_totals=False)
    assert da.audit([record(t5, [], "01.html", False, False)]).passed


def test_same_key_with_different_values_is_not_linked():
    # two one-way tables of type over different respondents (valid vs quarantined): GP 11 vs 7;
    # linking them would contradict; they are separate quantities
    a = dc.with_totals(pd.DataFrame({"n": [11, 21]}, index=pd.Index(["GP", "PT"], name="type")),
                       row_totals=False)
    b = dc.with_totals(pd.DataFrame({"n": [7, 30]}, index=pd.Index(["GP", "PT"], name="type")),
                       row_totals=False)
    assert da.audit([record(a, [], "1.html", False, True), record(b, [], "2.html", False, True)]).passed


def test_tables_are_recorded_while_the_report_runs(tmp_path, monkeypatch):
    path = tmp_path / "02_sample.disclosure.jsonl"
    monkeypatch.setenv(dc.RECORD_ENV, str(path))
    counts = pd.DataFrame({"yes": [2, 10], "no": [9, 11]}, index=pd.Index(["GP", "PT"], name="type"))
    counts.columns.name = "incident"
    dc.protect_counts(counts)
    dc.protect_counts(counts.iloc[:, :1], row_totals=False, name="yes by type")
    recs = da.read_records(tmp_path)
    assert [(r["page"], r["table"], r["number"]) for r in recs] == [
        ("02_sample.html", "type x incident", 1), ("02_sample.html", "yes by type", 2)]
    assert da.audit(recs).passed
    monkeypatch.delenv(dc.RECORD_ENV)
    dc.protect_counts(counts)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2  # not recorded outside a report


def test_lower_level_fails_when_the_attacker_can_rule_out_zero():
    # GP [2, 9 | 11], PT [10, 1 | 11], yes 12, no 10, all 32; interior hidden. By hand:
    # GP-yes = t, GP-no = 11 - t, PT-yes = 12 - t, PT-no = t - 1 >= 0: t in [1, 11]. The 2 can
    # rise by 9 but not fall to 0 (lower level 2 asks for 0): fails though far from exact.
    # PT-no = t - 1 in [0, 10]: the 1 needs only min(2, 1) = 1 below, i.e. 0: passes.
    t = pd.DataFrame({"yes": [2, 10], "no": [9, 1]}, index=pd.Index(["GP", "PT"], name="type"))
    t.columns.name = "incident"
    result = da.audit([record(dc.with_totals(t), INTERIOR, "01.html")])
    assert sensitive(result) == [("01.html", ["GP", "yes"], [1.0, 11.0], False),
                                 ("01.html", ["PT", "no"], [0.0, 10.0], True)]
    # the suppression program never publishes such a pattern: it hides more
    mask = dc.suppression_mask(t.rename_axis(index="type", columns="incident"))
    rec = da.table_record(dc.with_totals(t), mask, True, True, POLICY)
    assert da.audit([dict(rec, page="01.html")]).passed


def test_published_cells_are_judged_by_the_reports_min_cell():
    # a table protected with k = 5 shows a 30; a report built with --min-cell 60 must refuse it
    t = dc.with_totals(pd.DataFrame({"n": [30, 90]}, index=pd.Index(["GP", "PT"], name="type")),
                       row_totals=False, col_totals=False)
    recs = [record(t, [], "01.html", False, False)]
    assert da.audit(recs).passed
    strict = da.audit(recs, policy={"min_cell": 60})
    assert [c["cell"] for c in strict.published_small] == [["GP", "n"]]
    with pytest.raises(da.DisclosureAuditError, match="fewer than 60 respondents"):
        strict.raise_if_failed()
