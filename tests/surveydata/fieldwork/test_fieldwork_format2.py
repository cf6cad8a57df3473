"""The web questionnaire of a format-2 instrument (the packaged pharmacy staff questionnaire:
decimals, a 7-point grid with "don't know", a date, missing codes 97/98/99) is answered through
typed inputs and radio rows, and its export validates with the answers given (QA finding F16)."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from starlette.testclient import TestClient

import schemas
from surveydata import read_export, validate
from surveydata.fieldwork import tokens
from surveydata.fieldwork.export import export_study
from surveydata.fieldwork.form import Questionnaire
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.study import FieldStudy
from surveydata.fieldwork.web import create_app

from .fw_helpers import fields, post


@pytest.fixture
def pharmacy(tmp_path):
    inst = schemas.load_instrument("pharmacy_staff")
    study = FieldStudy(name="pharmacy_staff", instrument=inst, languages=("en", "de"))
    url = f"sqlite:///{tmp_path / 'fw.sqlite'}"
    store = Store(url)
    token = tokens.new_token()
    store.add_units(study.name, [{"unit_key": "u0", "token_hash": tokens.token_hash(token),
                                  "stratum": "all", "frame": {"size": 1}}])
    return study, store, create_app(study, url, store=store, admin_hash=""), token


# the answers of every page, keyed by the first question it shows (skip logic decides which)
ANSWERS = {
    "role": {"q:role": ["2"]},
    "pharmacy_size": {"q:pharmacy_size": ["3"], "q:weekly_hours": ["32,5"],
                      "m:years_in_pharmacy": ["98"]},
    "it_hours": {"q:it_hours": ["1,5"], "q:shared_login": ["98"],
                 "q:devices_used": ["counter_pc"]},
    "climate_rules_clear": {"q:climate_rules_clear": ["7"], "q:climate_report_easy": ["98"],
                            "q:climate_time_pressure": ["1"], "q:climate_manager_cares": ["4"]},
    "trained": {"q:trained": ["1"]},
    "last_training": {"q:last_training": ["2024-03-15"], "q:phishing_seen": ["2"]},
    "comments": {"q:comments": ["-"]},
}
EXPECTED = {"role": "2", "pharmacy_size": "3", "weekly_hours": "32.5",
            "years_in_pharmacy": "98", "it_hours": "1.5", "shared_login": "98",
            "climate_rules_clear": "7", "climate_report_easy": "98",
            "climate_time_pressure": "1", "climate_manager_cares": "4", "trained": "1",
            "last_training": "2024-03-15", "phishing_seen": "2", "role_other": "",
            "phone_for_work_data": "97", "phishing_reported": "97", "devices_used__own_phone": "0"}


def test_format2_inputs_errors_and_export_validates(pharmacy, tmp_path):
    study, store, app, token = pharmacy
    inst = study.instrument
    seen = {}
    with TestClient(app) as c:
        html = c.get(f"/t/{token}").text
        for _ in range(12):
            page, csrf, names = fields(html)
            first = names[0]
            seen[first] = html
            if first == "pharmacy_size":
                # a value no parser reads, a range error and too many decimals: one-line errors
                for typed, msg in (("zweiunddreißig", "Please enter a number"),
                                   ("70", "Please enter a number from 1 to 60."),
                                   ("32,55", "at most 1 decimal place")):
                    r = post(c, csrf, page, {**ANSWERS[first], "q:weekly_hours": [typed]})
                    assert r.status_code == 422, (typed, r.text[:500])
                    err = re.search(r'<p class="error" id="e-weekly_hours">([^<]*)</p>', r.text)
                    assert err and msg in err.group(1), (typed, err)
            if first == "last_training":
                r = post(c, csrf, page, {**ANSWERS[first], "q:last_training": ["31.02.2024"]})
                assert r.status_code == 422 and 'id="e-last_training"' in r.text
            r = post(c, csrf, page, ANSWERS[first])
            assert r.status_code == 303, r.text[:3000]
            if r.headers["location"] == "/done":
                break
            html = c.get(r.headers["location"]).text
        else:
            pytest.fail("the questionnaire did not end")
    # typed inputs and radio rows, not text boxes
    a2 = seen["pharmacy_size"]
    assert re.search(r'<input class="number" type="text" inputmode="decimal"[^>]*name="q:weekly_hours"',
                     a2)
    assert 'name="m:years_in_pharmacy"' in a2 and "Don&#39;t know" in a2
    assert "<textarea" not in a2.split('name="q:pharmacy_size"')[1]
    grid = seen["climate_rules_clear"]
    assert "<table>" in grid and "<textarea" not in grid
    assert grid.count('<th scope="col"') == 9  # 7 points, don't know, no answer
    assert grid.count('<th scope="row"') == 4
    assert len(re.findall(r'type="radio" name="q:climate_rules_clear"', grid)) == 9
    assert 'aria-labelledby="r-climate_rules_clear c-climate-8"' in grid
    assert re.search(r'type="date" min="2000-01-01" max="2026-12-31"[^>]*name="q:last_training"',
                     seen["last_training"])
    out = export_study(study, store.url, tmp_path / "out")
    res = validate(read_export(out["export"], inst), inst)
    assert res.report["n_valid"] == 1 and res.report["n_quarantined"] == 0
    raw = read_export(out["export"], inst).iloc[0]
    for col, want in EXPECTED.items():
        assert (raw[col] if not pd.isna(raw[col]) else "") == want, col


def test_format2_parse_uses_the_validators_parser_and_codes():
    q = Questionnaire(schemas.load_instrument("pharmacy_staff"))
    page = q.pages[1]
    answers, problems = q.parse(page, list(page.items), {
        "q:pharmacy_size": ["2"], "q:weekly_hours": [" 38,5 "], "m:years_in_pharmacy": ["98"]})
    assert problems == {}
    assert answers == {"role_other": None, "pharmacy_size": 2, "weekly_hours": 38.5,
                       "years_in_pharmacy": 98}
    # a missing code typed into the box is not "no answer"; a code the item does not offer fails
    _, problems = q.parse(page, list(page.items), {"q:weekly_hours": ["99"],
                                                   "m:years_in_pharmacy": ["97"]})
    assert problems == {"weekly_hours": ["range:weekly_hours"],
                        "years_in_pharmacy": ["codes:years_in_pharmacy"]}
    # not shown: the instrument's own not-applicable code (97), and back into form fields
    answers, _ = q.parse(page, [], {})
    assert answers["weekly_hours"] == 97 and answers["role_other"] is None
    assert q.to_form(page, {"weekly_hours": 38.5, "years_in_pharmacy": 98}) == {
        "q:weekly_hours": ["38.5"], "m:years_in_pharmacy": ["98"]}
