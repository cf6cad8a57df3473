"""The web questionnaire end to end through Starlette's test client: tokens, resume, submit
once, export -> validate, and each security property (CSRF, size bound, rate limit, escaping,
headers, static files, admin password)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

import schemas
from surveydata import read_export, validate
from surveydata.fieldwork import tokens
from surveydata.fieldwork.export import export_study
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.study import FieldStudy
from surveydata.fieldwork.web import create_app, hash_password

from .fw_helpers import answer as _answer
from .fw_helpers import fields as _fields
from .fw_helpers import post as _post


def _invite(store, study, n=1, frame=None, first=0):
    out = []
    for k in range(first, first + n):
        t = tokens.new_token()
        store.add_units(study.name, [{"unit_key": f"u{k}", "token_hash": tokens.token_hash(t),
                                      "stratum": "1-BY", "frame": frame or {"practice_type": 1}}])
        out.append(t)
    return out


@pytest.fixture
def app_env(db_url, study):
    store = Store(db_url)
    app = create_app(study, db_url, store=store, admin_hash="")
    return app, store


def test_token_questionnaire_resume_submit_once_and_export_validates(app_env, study, tmp_path):
    app, store = app_env
    inst = study.instrument
    (token,) = _invite(store, study)
    given = {}
    with TestClient(app) as c:
        r = c.get(f"/t/{token}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/q"
        html = c.get("/q").text
        page, csrf, names = _fields(html)
        assert page == 0 and "practice_type" in names
        # a required question left empty: an error tied to the question
        r = _post(c, csrf, 0, {})
        assert r.status_code == 422
        assert 'aria-describedby="e-practice_type"' in r.text and 'id="e-practice_type"' in r.text
        for _ in range(3):  # answer three pages, then leave
            answers = {f"q:{v}": _answer(inst, v) for v in names}
            r = _post(c, csrf, page, answers)
            assert r.status_code == 303, r.text[:3000]
            given.update(answers)
            page, csrf, names = _fields(c.get(r.headers["location"]).text)
    with TestClient(app) as c2:  # another device: the token resumes where it was left
        r = c2.get(f"/t/{token}")
        page2, csrf, names = _fields(r.text)
        assert page2 == page
        while True:
            answers = {f"q:{v}": _answer(inst, v) for v in names}
            r = _post(c2, csrf, page2, answers)
            assert r.status_code == 303, r.text[:3000]
            given.update(answers)
            if r.headers["location"] == "/done":
                break
            page2, csrf, names = _fields(c2.get(r.headers["location"]).text)
        assert "Danke" in c2.get("/done").text or "Thank" in c2.get("/done").text
        # submits once: the token now only says so, and no page is accepted any more
        assert "bereits" in c2.get(f"/t/{token}").text or "already" in c2.get(f"/t/{token}").text
        assert _post(c2, csrf, 0, answers).headers["location"] == "/done"
    out = export_study(study, store.url, tmp_path / "out")
    res = validate(read_export(out["export"], inst), inst)
    assert res.report["n_valid"] == 1 and res.report["n_quarantined"] == 0
    raw = read_export(out["export"], inst).iloc[0]
    for field, values in given.items():
        var = field[2:]
        item = inst.item(var)
        if item.type == "multi":
            for o in item.options:
                assert raw[f"{var}__{o.code}"] == ("1" if o.code in values else "0")
        else:
            assert raw[var] == values[0], var
    frame = (tmp_path / "out" / "frame.csv").read_text().splitlines()
    assert frame[0].startswith("unit_id,practice_type,stratum") and ",completed,1," in frame[1]
    assert token not in "".join(p.read_text() for p in (tmp_path / "out").iterdir())


def test_anonymous_mode_and_device_class_without_ip_or_user_agent(db_url, study):
    store = Store(db_url)
    app = create_app(study, db_url, store=store, anonymous=True, admin_hash="")
    with TestClient(app) as c:
        html = c.get("/").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
        r = c.post("/start", data={"csrf": csrf, "vw": "390"}, follow_redirects=False,
                   headers={"user-agent": "Mozilla/5.0 (iPhone) UNIQUE-AGENT-1234"})
        assert r.status_code == 303
        assert c.post("/start", data={"csrf": "0" * 40}).status_code == 403
    (resp,) = store.responses(study.name)
    assert resp.unit_id is None and resp.device_class == "phone"
    flood = create_app(study, db_url, store=store, anonymous=True, rate_limit=(1, 60.0),
                       admin_hash="")
    with TestClient(flood) as c:  # anonymous starts are capped per minute (10 x the limit)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', c.get("/").text).group(1)
        codes = [c.post("/start", data={"csrf": csrf}, follow_redirects=False).status_code
                 for _ in range(12)]
        assert codes == [303] * 10 + [429, 429]
    with store.engine.connect() as conn:
        dump = str([list(conn.execute(sa.text(f"SELECT * FROM {t}")))
                    for t in ("responses", "submissions", "units")])
    assert "UNIQUE-AGENT" not in dump and "testclient" not in dump


def test_tokens_mode_refuses_anonymous_start_and_unknown_tokens(app_env):
    app, _ = app_env
    with TestClient(app) as c:
        assert c.get("/t/" + tokens.new_token()).status_code == 404
        assert c.get("/q").status_code == 403  # no session
        assert c.post("/start", data={}).status_code == 404


def test_csrf_size_bound_and_rate_limit(db_url, study):
    store = Store(db_url)
    app = create_app(study, db_url, store=store, rate_limit=(8, 60.0), max_body=2048,
                     admin_hash="")
    (token,) = _invite(store, study)
    with TestClient(app) as c:
        c.get(f"/t/{token}", follow_redirects=False)
        page, csrf, _ = _fields(c.get("/q").text)
        assert _post(c, "f" * 40, page, {"q:practice_type": ["1"]}).status_code == 403
        assert _post(c, csrf, page, {"q:comments": ["x" * 5000]}).status_code == 413
        codes = [c.get("/q").status_code for _ in range(10)]
        assert codes.count(429) >= 3 and set(codes) <= {200, 429}
    assert store.submissions(store.responses(study.name)[0].id) == []
    with TestClient(app) as c:  # the token itself is rate limited too
        codes = [c.get(f"/t/{token}", follow_redirects=False).status_code for _ in range(12)]
        assert 429 in codes
    other = create_app(study, db_url, store=store, rate_limit=(2, 60.0), admin_hash="")
    (token2,) = _invite(store, study, n=1, frame={"practice_type": 2}, first=1)
    with TestClient(other) as c:  # guessing tokens: 10 x limit failures a minute, then 429
        codes = [c.get(f"/t/{tokens.new_token()}").status_code for _ in range(22)]
        assert codes[:20] == [404] * 20 and codes[20:] == [429, 429]
        assert c.get(f"/t/{token2}").status_code == 429  # also for a valid one, for a while


def test_security_headers_and_static_files(app_env):
    app, _ = app_env
    with TestClient(app) as c:
        r = c.get("/")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in r.text and " style=" not in r.text and "onclick" not in r.text
        assert c.get("/static/form.css").status_code == 200
        for path in ("/static/../web.py", "/static/%2e%2e/web.py", "/static/..%2fweb.py",
                     "/static/%2e%2e%2f%2e%2e%2fstore.py", "/static//etc/passwd"):
            r = c.get(path)
            assert r.status_code == 404, path
            assert "import" not in r.text and "root:" not in r.text


def test_labels_are_escaped(tmp_path, db_url):
    text = Path(schemas.load_instrument().source).read_text(encoding="utf-8")
    evil = '<script>alert("x")</script>'
    text = text.replace('"Which area of care best describes your practice?"', f"'{evil}'", 1)
    text = text.replace('{label_de: "Hausärztlich"', '{label_de: "<img src=x onerror=alert(1)>"')
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    inst = schemas.load_instrument(path)
    study = FieldStudy(name="evil", instrument=inst, languages=("en", "de"))
    store = Store(db_url)
    app = create_app(study, db_url, store=store, admin_hash="")
    (token,) = _invite(store, study)
    with TestClient(app) as c:
        c.get(f"/t/{token}", follow_redirects=False)
        html_en = c.get("/q?lang=en").text
        html_de = c.get("/q?lang=de").text
    assert evil not in html_en and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html_en
    assert "<img" not in html_de and "&lt;img src=x onerror=alert(1)&gt;" in html_de


def test_admin_page_needs_the_password_hash(db_url, study, monkeypatch):
    from surveydata.fieldwork.web import ADMIN_HASH_ENV

    monkeypatch.delenv(ADMIN_HASH_ENV, raising=False)
    store = Store(db_url)
    with TestClient(create_app(study, db_url, store=store)) as c:
        assert c.get("/admin").status_code == 503
    monkeypatch.setenv(ADMIN_HASH_ENV, hash_password("correct horse", iterations=1000))
    _invite(store, study, n=3)
    with TestClient(create_app(study, db_url, store=store)) as c:
        assert c.get("/admin").status_code == 401

        def auth(pw):
            return {"authorization": "Basic " + base64.b64encode(f"admin:{pw}".encode()).decode()}

        assert c.get("/admin", headers=auth("wrong")).status_code == 401
        r = c.get("/admin", headers=auth("correct horse"))
        assert r.status_code == 200 and "<td>3</td>" in r.text


def test_skip_logic_back_and_language(app_env, study):
    app, store = app_env
    inst = study.instrument
    (token,) = _invite(store, study)
    with TestClient(app) as c:
        c.get(f"/t/{token}", follow_redirects=False)
        page, csrf, names = _fields(c.get("/q?lang=en").text)
        answers = {f"q:{v}": _answer(inst, v) for v in names}
        answers["q:practice_type"] = ["3"]  # psychotherapy: large_devices is skipped
        r = _post(c, csrf, page, answers)
        html = c.get(r.headers["location"]).text
        assert "large_devices" not in html and "networked_med_devices" in html
        assert 'lang="en"' in html and "Page 2 of" in html
        r = _post(c, csrf, 1, {"q:networked_med_devices": ["1"]}, action="back")
        html = c.get(r.headers["location"]).text
        assert 'value="3" checked' in html  # the earlier answer is shown again
        assert " checked" not in c.get("/q?p=1").text  # a half-answered page is not kept
        full = {"q:networked_med_devices": ["1"], "q:uses_mobile_devices": ["2"]}
        _post(c, csrf, 1, full, action="back")  # a fully answered page is kept on "back"
        kept = c.get("/q?p=1").text
        assert 'id="i-networked_med_devices-1" value="1" checked' in kept
        assert 'id="i-uses_mobile_devices-2" value="2" checked' in kept
        answers["q:practice_type"] = ["2"]
        r = _post(c, csrf, 0, answers)
        assert "large_devices" in c.get(r.headers["location"]).text
        de = c.get("/q?p=0&lang=de").text
        assert 'lang="de"' in de and "Welcher Versorgungsbereich" in de


def test_dont_know_and_no_answer_offered_exactly_where_the_instrument_allows(app_env, study):
    """Every page, every shown question: the choices offered are the item's codes plus its
    permitted missing codes (-8 don't know, -9 no answer), never -7 and nothing else."""
    app, store = app_env
    inst = study.instrument
    (token,) = _invite(store, study)
    seen = set()
    with TestClient(app) as c:
        r = c.get(f"/t/{token}")
        while "/done" not in str(r.url):
            html = r.text
            page, csrf, names = _fields(html)
            for var in names:
                item = inst.item(var)
                offered = set(re.findall(rf'name="q:{var}"[^>]*value="([^"]*)"', html))
                offered |= set(re.findall(rf'name="m:{var}"[^>]*value="([^"]*)"', html))
                if item.type == "multi":
                    want = {o.code for o in item.options} | {str(m) for m in item.missing}
                elif item.type in ("single", "likert5"):
                    want = {str(code) for code in item.codes} | {str(m) for m in item.missing}
                else:
                    want = {str(m) for m in item.missing} | ({""} if item.type == "integer"
                                                             else set())
                    offered = {v for v in offered if v != "" or item.type == "integer"}
                assert offered == want, (var, offered, want)
                assert "-7" not in offered
                seen.add(var)
            answers = {f"q:{v}": _answer(inst, v) for v in names}
            r = _post(c, csrf, page, answers)
            r = c.get(r.headers["location"])
    assert "municipality_size" in seen and "info_needs" in seen and "n_physicians" in seen
    assert len(seen) > 40


def test_token_form_needs_its_csrf_token(app_env, study):
    app, store = app_env
    (token,) = _invite(store, study)
    with TestClient(app) as c:
        html = c.get("/").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
        assert c.post("/login", data={"token": token, "csrf": "0" * 40},
                      follow_redirects=False).status_code == 403
        r = c.post("/login", data={"token": token, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/q"

