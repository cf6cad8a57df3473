"""A format-2 questionnaire in Chromium (QA finding F16): the pharmacy staff instrument's number
(decimal comma), date and grid pages pass axe (no serious or critical violations) on a desktop
and a phone, the grid stays within the phone's width, and the answers given in the browser
arrive in an export that validates."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import schemas
from surveydata import read_export, validate
from surveydata.fieldwork import tokens
from surveydata.fieldwork.export import export_study
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.study import FieldStudy
from surveydata.fieldwork.web import create_app

from .cdp import Tab, require_chromium
from .test_fieldwork_browser import _Server

AXE = Path(__file__).resolve().parents[2] / "browser" / "node_modules" / "axe-core" / "axe.min.js"

# what the respondent does on each page, keyed by the page's first question
ACTIONS = {
    "role": [("pick", "role", "3")],
    "pharmacy_size": [("pick", "pharmacy_size", "2"), ("type", "weekly_hours", "32,5"),
                      ("pick_m", "years_in_pharmacy", "98")],
    "it_hours": [("type", "it_hours", "0,5"), ("pick", "shared_login", "1"),
                 ("pick", "devices_used", "counter_pc")],
    "climate_rules_clear": [("pick", "climate_rules_clear", "6"),
                            ("pick", "climate_report_easy", "98"),
                            ("pick", "climate_time_pressure", "2"),
                            ("pick", "climate_manager_cares", "7")],
    "trained": [("pick", "trained", "1")],
    "last_training": [("type", "last_training", "2025-11-03"), ("pick", "phishing_seen", "2")],
    "comments": [],
}
EXPECTED = {"role": "3", "pharmacy_size": "2", "weekly_hours": "32.5", "years_in_pharmacy": "98",
            "it_hours": "0.5", "shared_login": "1", "climate_rules_clear": "6",
            "climate_report_easy": "98", "climate_time_pressure": "2",
            "climate_manager_cares": "7", "trained": "1", "last_training": "2025-11-03",
            "phishing_seen": "2", "phishing_reported": "97", "phone_for_work_data": "97"}


def test_format2_pages_in_chromium_pass_axe_and_export_validates(tmp_path):
    if not AXE.exists():
        pytest.skip(f"axe-core not installed ({AXE}); run `npm ci` in tests/browser")
    axe_src = AXE.read_text(encoding="utf-8")
    inst = schemas.load_instrument("pharmacy_staff")
    study = FieldStudy(name="pharmacy_staff", instrument=inst, languages=("de", "en"))
    url = f"sqlite:///{tmp_path / 'fw.sqlite'}"
    store = Store(url)
    token = tokens.new_token()
    store.add_units(study.name, [{"unit_key": "u1", "token_hash": tokens.token_hash(token),
                                  "stratum": "all", "frame": {"size": 1}}])
    app = create_app(study, url, store=store, admin_hash="")
    violations: dict[str, list] = {}
    with _Server(app) as base:
        tab = Tab(require_chromium())
        try:
            tab.phone(390, 844)
            tab.goto(f"{base}/t/{token}")
            for _ in range(12):
                first = tab.js("document.querySelector('[name^=\"q:\"]').name.slice(2)")
                tab.js(axe_src)
                found = tab.js(
                    "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
                    ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                    ".map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target).join(' ')))")
                if found:
                    violations[first] = found
                assert tab.js("document.documentElement.scrollWidth") <= 390, first
                if first == "pharmacy_size":
                    assert tab.js("document.querySelector('[name=\"q:weekly_hours\"]')"
                                  ".inputMode") == "decimal"
                if first == "last_training":
                    assert tab.js("document.querySelector('[name=\"q:last_training\"]').type") \
                        == "date"
                for kind, var, value in ACTIONS[first]:
                    if kind == "type":
                        tab.js(f"document.querySelector('[name=\"q:{var}\"]').value = "
                               f"{json.dumps(value)}")
                    else:
                        field = "m" if kind == "pick_m" else "q"
                        tab.js(f"document.querySelector('input[name=\"{field}:{var}\"]"
                               f"[value=\"{value}\"]').click()")
                tab.submit_with("document.querySelector('button[value=next]').click()")
                if tab.js("location.pathname") == "/done":
                    break
                assert not tab.js("document.querySelector('.summary') !== null"), first
            else:
                pytest.fail("the questionnaire did not end")
            assert tab.problems() == []
        finally:
            tab.close()
    assert violations == {}
    out = export_study(study, store.url, tmp_path / "out")
    raw = read_export(out["export"], inst)
    res = validate(raw, inst)
    assert res.report["n_valid"] == 1 and res.report["n_quarantined"] == 0
    for var, want in EXPECTED.items():
        assert raw.iloc[0][var] == want, var
