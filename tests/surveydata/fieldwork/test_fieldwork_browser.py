"""Must show: in headless Chromium a respondent with a token completes the practice
questionnaire - skip logic taken both ways, a "don't know", a multi-choice with an exclusive
option, a hard rule violated and corrected, the first answers given with the keyboard only -
leaves, resumes on a 390 px phone viewport and submits. The export validates with 0 quarantined
and holds exactly the answers given. axe-core (tests/browser/node_modules, `npm ci` there) runs
on every page: no serious or critical violation. The form runs under its CSP (no inline script).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from surveydata import read_export, validate
from surveydata.fieldwork import tokens
from surveydata.fieldwork.export import export_study
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.study import load
from surveydata.fieldwork.web import create_app

from .cdp import Tab, require_chromium

AXE = Path(__file__).resolve().parents[2] / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def _axe_source() -> str:
    if AXE.exists():
        return AXE.read_text(encoding="utf-8")
    import os

    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{AXE} missing: .ci/run must run `npm ci` in tests/browser")
    pytest.skip(f"axe-core not installed ({AXE}); run `npm ci` in tests/browser")


class _Server:
    """uvicorn serving the app in a thread on a free loopback port."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def _shown(tab):
    return tab.js("Array.from(document.querySelectorAll('fieldset.item')).map(f => f.id.slice(2))")


def _pick(tab, var, value):
    tab.js(f"document.querySelector('input[name=\"q:{var}\"][value=\"{value}\"]').click()")


def _type(tab, var, text, field="input"):
    tab.js(f"document.querySelector('{field}[name=\"q:{var}\"]').value = {json.dumps(text)}")


def _next(tab):
    tab.submit_with("document.querySelector('button[value=next]').click()")


def _default(inst, var):
    item = inst.item(var)
    if item.type == "multi":
        return [item.options[0].code]
    if item.type == "integer":
        return ["2"]
    if item.type == "text":
        return ["Keine weiteren Anmerkungen <b>danke</b>"]
    return [str(item.substantive_codes[0])]


def _fill(tab, inst, given, overrides=None):
    for var in _shown(tab):
        values = (overrides or {}).get(var) or _default(inst, var)
        item = inst.item(var)
        if item.type == "integer":
            _type(tab, var, values[0])
        elif item.type == "text":
            _type(tab, var, values[0], field="textarea")
        else:
            for v in values:
                _pick(tab, var, v)
        given[var] = values


@pytest.fixture
def served(tmp_path):
    study = load(None)
    url = f"sqlite:///{tmp_path / 'fw.sqlite'}"
    store = Store(url)
    token = tokens.new_token()
    store.add_units(study.name, [{"unit_key": "P1", "token_hash": tokens.token_hash(token),
                                  "stratum": "2-BY", "frame": {"practice_type": "2"}}])
    app = create_app(study, url, store=store, admin_hash="")
    with _Server(app) as base:
        yield study, store, base, token


def test_a_respondent_completes_leaves_resumes_on_a_phone_and_submits(served, tmp_path):
    study, store, base, token = served
    inst = study.instrument
    axe_src = _axe_source()
    tab = Tab(require_chromium())
    violations: dict[str, list] = {}
    audited: list[str] = []
    given: dict[str, list[str]] = {}

    def audit(name):
        tab.js(axe_src)
        assert tab.js("typeof axe.run") == "function"
        audited.append(name)
        found = tab.js("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
                       ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                       ".map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target).join(' ')))")
        if found:
            violations[name] = found

    try:
        tab.goto(f"{base}/?lang=en")
        audit("landing")
        tab.goto(f"{base}/t/{token}")
        assert tab.js("location.pathname") == "/q"
        assert tab.js("document.querySelector('h1').textContent") == "Practice characteristics"
        assert "Page 1 of" in tab.js("document.querySelector('.progress label').textContent")
        audit("A")
        # keyboard only: Tab past the skip link and the language link to the first radio,
        # ArrowDown chooses the next answer ("Specialist")
        for _ in range(3):
            tab.key("Tab", "Tab", 9)
        assert tab.js("document.activeElement.id") == "i-practice_type-1"
        tab.key("ArrowDown", "ArrowDown", 40)
        assert tab.js("document.activeElement.id") == "i-practice_type-2"
        assert tab.js("document.getElementById('i-practice_type-2').checked")
        given["practice_type"] = ["2"]
        _fill(tab, inst, given, {"practice_type": ["2"], "federal_state": ["BY"],
                                 "municipality_size": ["-8"],  # don't know
                                 "n_physicians": ["3"], "n_persons_data": ["2"]})
        _next(tab)  # hard rule: more physicians than persons processing data
        assert tab.js("location.pathname") == "/q"
        err = tab.js("document.getElementById('e-n_physicians').textContent")
        assert "More physicians" in err
        assert tab.js("document.getElementById('f-n_physicians')"
                      ".getAttribute('aria-describedby')") == "e-n_physicians"
        assert tab.js("document.querySelector('.summary') !== null")
        audit("A with an error")
        _type(tab, "n_persons_data", "5")
        given["n_persons_data"] = ["5"]
        tab.js("document.querySelector('input[name=\"q:n_persons_data\"]').focus()")
        tab.js("window.__sd_old = true")
        tab.key("Enter", "Enter", 13, "\r")  # submit with the keyboard
        tab._wait_new_document()
        # A2: large_devices is asked for a specialist practice (skip logic: asked)
        assert "large_devices" in _shown(tab)
        audit("A2")
        _fill(tab, inst, given, {"large_devices": ["2"], "uses_mobile_devices": ["2"]})
        _next(tab)
        _fill(tab, inst, given, {"it_support_model": ["4"]})  # owner: no provider question
        _next(tab)
        assert "provider_kbv_certified" not in _shown(tab)  # skip logic: not asked
        audit("B2")
        _fill(tab, inst, given, {"internet_services": ["website", "none"]})
        _next(tab)  # the exclusive option "None of these" combined with another
        assert "cannot be combined" in tab.js(
            "document.getElementById('e-internet_services').textContent")
        _pick(tab, "internet_services", "website")  # untick it
        given["internet_services"] = ["none"]
        _next(tab)
        assert tab.js("document.querySelector('h1').textContent").startswith("Technical")

        # leave; come back later on a phone (no cookies: only the token link)
        tab.call("Network.clearBrowserCookies")
        tab.phone(390, 844)
        tab.goto(f"{base}/t/{token}")
        assert tab.js("document.querySelector('h1').textContent").startswith("Technical")
        assert tab.js("document.documentElement.scrollWidth") <= 390
        audit("C (phone)")
        _fill(tab, inst, given, {"tm_backup_plan": ["3"]})
        _next(tab)
        shown = _shown(tab)
        assert "tm_backup_offline" not in shown and "tm_mobile_lockcode" not in shown
        pages = 0
        while tab.js("location.pathname") == "/q":
            audit(tab.js("document.querySelector('h1').textContent") + f" {pages}")
            _fill(tab, inst, given, {"incident_12m": ["2"]})
            _next(tab)
            pages += 1
            assert pages < 20
        assert tab.js("location.pathname") == "/done"
        audit("done")
        # a page with errors is sent as 422 (Unprocessable Content), which Chromium logs
        problems = [p for p in tab.problems() if "status of 422" not in p]
        assert problems == []
    finally:
        tab.close()
    assert violations == {} and len(audited) >= 15, audited

    out = export_study(study, store.url, tmp_path / "export")
    raw = read_export(out["export"], inst)
    res = validate(raw, inst)
    assert res.report["n_valid"] == 1 and res.report["n_quarantined"] == 0
    row = raw.iloc[0]
    for var, values in given.items():
        item = inst.item(var)
        if item.type == "multi":
            assert {o.code for o in item.options if row[f"{var}__{o.code}"] == "1"} == set(values)
        else:
            assert row[var] == values[0], var
    for var in ("provider_kbv_certified", "tm_backup_offline", "tm_restore_test",
                "tm_mobile_lockcode", "incident_downtime"):
        assert row[var] == "-7", var  # skipped
    assert row["municipality_size"] == "-8" and row["large_devices"] == "2"
    para = store.submissions(study=study.name)
    assert para[-1]["device_class"] == "phone" and para[0]["device_class"] != "phone"
