"""The form and the validator agree: the same checks, so what the form accepts validates, and
what it rejects names the same rule (a property test over random answer sets)."""
from __future__ import annotations

import random
import string

import pytest

import schemas
from surveydata import read_export, validate
from surveydata.fieldwork.export import write_csv
from surveydata.fieldwork.form import Questionnaire


@pytest.fixture(scope="module")
def q():
    return Questionnaire(schemas.load_instrument())


def _post(rng, item, noise):
    """Random form fields for one shown item: valid answers, offered missing codes, blanks,
    and (with probability `noise`) values the instrument forbids."""
    bad = rng.random() < noise
    if item.type in ("single", "likert5"):
        choices = [str(c) for c in item.codes] + [str(m) for m in item.missing]
        wrong = ["XX"] if item.string_codes else ["7", "99", "-8", "0"]
        return {f"q:{item.var}": [rng.choice(wrong + [""]) if bad else rng.choice(choices)]}
    if item.type == "integer":
        kind = rng.choice(["n"] * 6 + ["blank", "missing"])
        if kind == "n":
            lo, hi = (item.min - 1, item.max + 1) if bad else (item.min, item.max)
            return {f"q:{item.var}": [str(rng.randint(lo, min(hi, 25)))]}
        if kind == "missing":
            return {f"m:{item.var}": [str(rng.choice([*item.missing, -8]))]}
        return {f"q:{item.var}": [""]}
    if item.type == "multi":
        opts = [o.code for o in item.options]
        ticked = rng.sample(opts, rng.choice([1, 1, 2, 2, 3, 4] if bad else [0, 1, 1, 2]))
        if bad and rng.random() < 0.3:
            ticked.append("-9")
        return {f"q:{item.var}": ticked}
    text = "".join(rng.choice(string.ascii_letters + " äöü<>&\"'") for _ in range(rng.randint(0, 30)))
    if bad:
        text = "x" * ((item.max_length or 100) + 1)
    return {f"q:{item.var}": [text]}


def _drive(q, rng, noise):
    """Go through the pages as a respondent would, keeping every page even when it has errors;
    return the final raw row and the check names the form reported on any page."""
    latest, reported = {}, set()
    for page in q.pages:
        before, _, _ = q.assemble(latest, upto=page.index)
        shown = q.asked(page, before)
        if not shown:
            continue
        form = {}
        for item in shown:
            form.update(_post(rng, item, noise))
        answers, problems = q.parse(page, shown, form)
        assert problems == {}, problems
        for names in q.errors({**before, **answers}, page).values():
            reported.update(names)
        latest[page.index] = answers
    row, _, todo = q.assemble(latest)
    assert todo == []
    return row, reported


def _validator_names(q, row, tmp_path):
    path = tmp_path / "export.csv"
    write_csv([q.export_row(row, "r1", 0.0, 60.0)], q.inst.columns, path)
    res = validate(read_export(path, q.inst), q.inst)
    names = set()
    for _, f in res.failures.iterrows():
        names.add(f"not_nullable:{f['column']}" if f["rule"] == "not_nullable" else f["rule"])
    return names, res


def test_form_and_validator_report_the_same_checks(q, tmp_path):
    """60 random answer sets (seeded): per answer set, the checks the form reported on its
    pages are exactly the validator's failures of the exported row; accepted <=> valid."""
    rng = random.Random(20261204)
    rows, reported = [], []
    for _ in range(60):
        row, names = _drive(q, rng, rng.choice([0.0, 0.0, 0.02, 0.2]))
        rows.append(row)
        reported.append(names)
    path = tmp_path / "export.csv"
    write_csv([q.export_row(r, f"r{k}", 0.0, 60.0) for k, r in enumerate(rows)],
              q.inst.columns, path)
    res = validate(read_export(path, q.inst), q.inst)
    found = [set() for _ in rows]
    for _, f in res.failures.iterrows():
        k = int(f["response_id"][1:])
        found[k].add(f"not_nullable:{f['column']}" if f["rule"] == "not_nullable" else f["rule"])
    for k in range(len(rows)):
        assert reported[k] == found[k], k
        assert set().union(*q.errors(rows[k]).values()) == found[k]
    accepted = sum(1 for r in reported if not r)
    assert res.report["n_valid"] == accepted
    assert 3 <= accepted <= 55, "the generator must produce both outcomes"
    kinds = {n.split(":")[0] for r in reported for n in r}
    assert {"codes", "range", "exclusive", "multi_no_answer", "max_select", "rule",
            "max_length", "not_nullable"} <= kinds, kinds


def test_an_accepted_answer_set_validates_and_round_trips(q, tmp_path):
    row = {}
    latest = {}
    for page in q.pages:
        before, _, _ = q.assemble(latest, upto=page.index)
        shown = q.asked(page, before)
        form = {}
        for item in shown:
            if item.type == "multi":
                form[f"q:{item.var}"] = [item.options[0].code]
            elif item.type == "integer":
                form[f"q:{item.var}"] = ["3"]
            elif item.type == "text":
                form[f"q:{item.var}"] = ["<script>alert(1)</script> ok"]
            else:
                form[f"q:{item.var}"] = [str(item.substantive_codes[0])]
        answers, problems = q.parse(page, shown, form)
        assert problems == {} and q.errors({**before, **answers}, page) == {}
        latest[page.index] = answers
    row, _, _ = q.assemble(latest)
    names, res = _validator_names(q, row, tmp_path)
    assert names == set() and res.report["n_valid"] == 1
    assert res.valid["comments"].iloc[0] == "<script>alert(1)</script> ok"


def test_pages_split_where_skip_logic_refers_to_the_same_page(q):
    for page in q.pages:
        on_page = {i.var for i in page.items}
        for item in page.items:
            if item.ask_if is not None:
                refs = {q.inst.column_item(v).var for v in item.ask_if.variables}
                assert not refs & on_page, (page.name, item.var)
    assert [i.var for p in q.pages for i in p.items] == list(q.inst.variables)


def test_skip_logic_both_ways_and_blank_answers(q):
    a2 = q.pages[1]
    assert q.asked(a2, {"practice_type": 2})[0].var == "large_devices"
    assert "large_devices" not in [i.var for i in q.asked(a2, {"practice_type": 3})]
    answers, _ = q.parse(a2, q.asked(a2, {"practice_type": 3}), {})
    assert answers["large_devices"] == -7 and answers["networked_med_devices"] == -9
    page0 = q.pages[0]
    answers, _ = q.parse(page0, list(page0.items), {})
    assert answers["practice_type"] is None and answers["n_physicians"] == -9
    assert "not_nullable:practice_type" in q.errors(answers, page0)["practice_type"]


def test_multi_choice_exclusive_and_no_answer(q):
    page = q.pages[9]  # E: info_sources
    item = page.items[0]
    ans, _ = q.parse(page, [item], {"q:info_sources": ["bsi", "none"]})
    assert q.errors(ans, page) == {"info_sources": ["exclusive:info_sources"]}
    ans, _ = q.parse(page, [item], {"q:info_sources": ["bsi", "-9"]})
    assert q.errors(ans, page) == {"info_sources": ["multi_no_answer:info_sources"]}
    ans, _ = q.parse(page, [item], {"q:info_sources": ["-9"]})
    assert set(ans.values()) == {-9} and q.errors(ans, page) == {}
    ans, problems = q.parse(page, [item], {"q:info_sources": ["../etc"]})
    assert problems == {"info_sources": ["binary"]}
    _, problems = q.parse(q.pages[4], list(q.pages[4].items), {"q:tm_antivirus": ["-7"]})
    assert problems == {"tm_antivirus": ["codes:tm_antivirus"]}


def test_every_valid_simulated_response_can_be_given_through_the_form(q):
    """The other direction: each valid row of the embedded (simulated) survey, replayed page by
    page through the form's fields, is accepted without a message and stored as the same codes."""
    from surveydata.demo import DEMO_DIR

    raw = read_export(DEMO_DIR / "export.csv", q.inst)
    res = validate(raw, q.inst)
    bad_lines = set(res.quarantine["line"])
    rows = raw[~raw["line"].isin(bad_lines)].head(40)
    dtypes = q.dtypes
    replayed = 0
    for _, rec in rows.iterrows():
        want = {}
        for col in q.page_of:
            text = str(rec[col]).strip() if rec[col] is not None else ""
            if dtypes[col] == "Int64":
                want[col] = int(text)
            else:
                want[col] = text or None
        latest = {}
        for page in q.pages:
            before, _, _ = q.assemble(latest, upto=page.index)
            shown = q.asked(page, before)
            answers, problems = q.parse(page, shown, q.to_form(page, want))
            assert problems == {} and q.errors({**before, **answers}, page) == {}, rec["line"]
            latest[page.index] = answers
        row, _, todo = q.assemble(latest)
        assert todo == [] and row == want, rec["line"]
        replayed += 1
    assert replayed == 40
