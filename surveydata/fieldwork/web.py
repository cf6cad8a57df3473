"""`surveydata serve`: the questionnaire as server-side rendered HTML (works without JavaScript).

An ASGI application on Starlette (small, maintained, no built-in ORM or template opinions; its
StaticFiles refuses paths outside its directory; the test client needs no server) served by
uvicorn. Templates are Jinja2 with autoescaping on, so every label and answer is text.

Routes
    GET  /              landing page: enter a token (or start, in anonymous mode)
    GET  /t/{token}     open the questionnaire of this token (resumes where it was left)
    POST /login         the same with the token typed into the landing page
    POST /start         anonymous mode only: a new response
    GET  /q[?p=N]       the current page (or an earlier page N: back)
    POST /q             submit a page (action=next|back); every form carries a CSRF token
    GET  /done          the closing page
    GET  /admin         fieldwork monitor (HTTP Basic, password hash from the environment)
    GET  /static/...    CSS and the optional script (viewport width for the device class)

Security: sessions are a signed cookie (HttpOnly, SameSite=Lax) naming the response pseudonym;
CSRF tokens are HMACs of the session; request bodies are capped; requests per token and per
response are rate limited (in memory, per worker), failed token look-ups and anonymous starts
are capped per minute globally (no IP address is kept to do it per client); headers: a CSP without inline script or style, X-Frame-Options DENY,
Referrer-Policy no-referrer, nosniff, no caching. No IP address and no user agent is stored.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from surveydata.fieldwork import monitor
from surveydata.fieldwork.form import CHOICE_TYPES, Questionnaire, message
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.tokens import token_hash

__all__ = ["ADMIN_HASH_ENV", "create_app", "hash_password", "verify_password"]

HERE = Path(__file__).parent
ADMIN_HASH_ENV = "SURVEYDATA_ADMIN_PASSWORD_HASH"
SESSION_COOKIE = "sd_session"
PRE_COOKIE = "sd_pre"
LANG_COOKIE = "sd_lang"
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

UI = {
    "en": {
        "next": "Next", "back": "Back", "submit": "Submit", "page": "Page {k} of {n}",
        "progress": "Progress", "errors_title": "Please check your answers",
        "token_label": "Your access code (from the invitation letter)", "open": "Open",
        "start": "Start the questionnaire", "no_token": "This access code is not valid.",
        "thanks": "Thank you! Your answers have been submitted.",
        "thanks_more": "You can close this window now.",
        "already": "This questionnaire has already been submitted. Thank you!",
        "expired": "Your session has ended. Please open the link from your invitation again.",
        "too_many": "Too many requests. Please wait a minute and try again.",
        "too_large": "The answers are too long.", "bad_form": "The form has expired. "
        "Please go back and submit it again.", "number_hint": "A whole number from {lo} to {hi}",
        "decimal_hint": "A number from {lo} to {hi}{unit} (decimals allowed, e.g. 12.5)",
        "date_hint": "A date", "datetime_hint": "A date and time",
        "choose_any": "Select all that apply.", "language": "Language",
        "skip": "Skip to the questionnaire", "optional": "optional",
    },
    "de": {
        "next": "Weiter", "back": "Zurück", "submit": "Absenden", "page": "Seite {k} von {n}",
        "progress": "Fortschritt", "errors_title": "Bitte prüfen Sie Ihre Angaben",
        "token_label": "Ihr Zugangscode (aus dem Einladungsschreiben)", "open": "Öffnen",
        "start": "Fragebogen beginnen", "no_token": "Dieser Zugangscode ist nicht gültig.",
        "thanks": "Vielen Dank! Ihre Antworten wurden übermittelt.",
        "thanks_more": "Sie können dieses Fenster jetzt schließen.",
        "already": "Dieser Fragebogen wurde bereits abgeschickt. Vielen Dank!",
        "expired": "Ihre Sitzung ist abgelaufen. Bitte öffnen Sie den Link aus Ihrer "
        "Einladung erneut.", "too_many": "Zu viele Anfragen. Bitte warten Sie eine Minute.",
        "too_large": "Die Antworten sind zu lang.", "bad_form": "Das Formular ist abgelaufen. "
        "Bitte gehen Sie zurück und senden Sie es erneut.",
        "number_hint": "Eine ganze Zahl von {lo} bis {hi}",
        "decimal_hint": "Eine Zahl von {lo} bis {hi}{unit} (mit Komma möglich, z. B. 12,5)",
        "date_hint": "Ein Datum", "datetime_hint": "Datum und Uhrzeit",
        "choose_any": "Mehrfachnennung möglich.", "language": "Sprache",
        "skip": "Zum Fragebogen springen", "optional": "freiwillig",
    },
}


# ------------------------------------------------------------------------------ passwords


def hash_password(password: str, iterations: int = 600_000) -> str:
    """A PBKDF2-SHA256 hash for SURVEYDATA_ADMIN_PASSWORD_HASH.

    >>> h = hash_password("s3cret", iterations=1000)
    >>> h.startswith("pbkdf2_sha256$1000$"), verify_password("s3cret", h), verify_password("x", h)
    (True, True, False)
    """
    salt = os.urandom(16).hex()
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${dk.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a `hash_password` string."""
    try:
        algo, iters, salt, want = stored.strip().split("$")
        if algo != "pbkdf2_sha256":
            return False
        dk = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iters))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk.hex(), want)


# ------------------------------------------------------------------------------ helpers


class RateLimiter:
    """At most `limit` events per `window` seconds per key (in memory, per worker)."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def full(self, key: str) -> bool:
        """Whether `key` has used up its events (without recording one)."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.get(key)
            while q and q[0] <= now - self.window:
                q.popleft()
            return bool(q) and len(q) >= self.limit

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            if len(self._hits) > 100_000:  # forget idle keys
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True


class _TooLarge(Exception):
    pass


async def _read_form(request: Request, limit: int) -> dict[str, list[str]]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    form: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=1000)
    except ValueError as err:
        raise _TooLarge from err
    for k, v in pairs:
        form.setdefault(k, []).append(v)
    return form


def _device_class(request: Request, form: dict | None = None) -> str:
    """phone / tablet / desktop from the viewport width the optional script posts, else from
    the coarse client hint Sec-CH-UA-Mobile; never from the user agent string."""
    vw = (form or {}).get("vw", [""])[0]
    if vw.isdigit():
        w = int(vw)
        return "phone" if w < 600 else "tablet" if w < 1024 else "desktop"
    hint = request.headers.get("sec-ch-ua-mobile")
    if hint == "?1":
        return "phone"
    if hint == "?0":
        return "desktop"
    return "unknown"


class _SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every response (static files stay cacheable)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    if not (static and k == "Cache-Control"):
                        headers[k] = v
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ------------------------------------------------------------------------------ the app


def create_app(study, db_url: str, *, anonymous: bool = False, admin_hash: str | None = None,
               rate_limit: tuple[int, float] = (120, 60.0), max_body: int = 64 * 1024,
               secure_cookies: bool = False, store: Store | None = None) -> Starlette:
    """The questionnaire application of `study` on the database `db_url`.

    `admin_hash` defaults to the environment variable SURVEYDATA_ADMIN_PASSWORD_HASH; without
    it the admin page refuses (503)."""
    store = store or Store(db_url)
    secret = store.secret()
    q = Questionnaire(study.instrument)
    inst = study.instrument
    langs = tuple(x for x in study.languages if x in ("de", "en")) or ("de", "en")
    limiter = RateLimiter(*rate_limit)
    admin_limiter = RateLimiter(10, 60.0)
    # no IP addresses are kept, so these two are global: failed token look-ups (guessing) and
    # anonymous starts (flooding) per minute
    failed_limiter = RateLimiter(10 * rate_limit[0], 60.0)
    start_limiter = RateLimiter(10 * rate_limit[0], 60.0)
    admin_hash = admin_hash if admin_hash is not None else os.environ.get(ADMIN_HASH_ENV)
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))

    def sign(purpose: str, value: str) -> str:
        return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:40]

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return lang if lang in langs else langs[0]

    def render(request, template: str, status: int = 200, **ctx) -> HTMLResponse:
        lang = ctx.pop("lang", None) or lang_of(request)
        html = env.get_template(template).render(
            lang=lang, t=UI[lang], title=study.title(lang), langs=langs, **ctx)
        resp = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in langs:
            resp.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="lax",
                            secure=secure_cookies)
        return resp

    def message_page(request, key: str, status: int) -> HTMLResponse:
        return render(request, "message.html", status=status, text=UI[lang_of(request)][key])

    def session(request: Request):
        raw = request.cookies.get(SESSION_COOKIE, "")
        key, _, sig = raw.partition(".")
        if not key or not hmac.compare_digest(sign("session", key), sig):
            return None
        return store.response_by_key(key)

    def start_session(resp: Response, response_key: str) -> None:
        resp.set_cookie(SESSION_COOKIE, f"{response_key}.{sign('session', response_key)}",
                        httponly=True, samesite="lax", secure=secure_cookies)

    def pre_token(request: Request, resp_holder: dict) -> str:
        pre = request.cookies.get(PRE_COOKIE)
        if not pre or len(pre) > 64:
            pre = os.urandom(16).hex()
            resp_holder["set_pre"] = pre
        return sign("pre", pre)

    # -------------------------------------------------------------- pages
    def item_view(item, lang: str, values: dict, errors: dict) -> dict:
        """What the template needs of one question."""
        var = item.var
        errs = [message(name, item, inst, lang) for name in errors.get(var, [])]
        errs = list(dict.fromkeys(errs))
        chosen = values.get(f"q:{var}", [])
        missing_chosen = values.get(f"m:{var}", [])
        view = {"var": var, "type": item.type, "text": item.text.get(lang), "errors": errs,
                "id": f"i-{var}", "error_id": f"e-{var}", "options": [], "missing": [],
                "value": chosen[0] if chosen else ""}

        def opt(value, label, checked, exclusive=False):
            return {"value": str(value), "label": label, "checked": checked,
                    "id": f"i-{var}-{str(value).replace('-', 'm')}", "exclusive": exclusive}

        extra_missing = [m for m in item.missing if m not in item.codes]
        if item.type in CHOICE_TYPES:
            for code, label in item.codes.items():
                view["options"].append(opt(code, label.get(lang), str(code) in chosen))
            for m in extra_missing:
                view["options"].append(opt(m, inst.missing_codes[m].label.get(lang),
                                           str(m) in chosen))
        elif item.type == "multi":
            for o in item.options:
                view["options"].append(opt(o.code, o.label.get(lang), o.code in chosen,
                                           o.exclusive))
            for m in item.missing:
                view["options"].append(opt(m, inst.missing_codes[m].label.get(lang),
                                           str(m) in chosen, True))
            view["hint"] = UI[lang]["choose_any"]
        else:  # every missing code the item offers (format 2 lists don't know among codes)
            for m in item.missing:
                view["missing"].append(opt(m, inst.missing_codes[m].label.get(lang),
                                           str(m) in missing_chosen))
                view["missing"][-1]["id"] = f"i-{var}-m{abs(m)}"
            if item.type == "integer":
                view["min"], view["max"] = item.min, item.max
                view["hint"] = UI[lang]["number_hint"].format(lo=item.min, hi=item.max)
            elif item.type == "number":
                lo, hi = item.min, item.max
                if lang == "de":
                    lo, hi = (str(v).replace(".", ",") for v in (lo, hi))
                unit = f" ({item.unit.get(lang)})" if item.unit is not None else ""
                view["hint"] = UI[lang]["decimal_hint"].format(lo=lo, hi=hi, unit=unit)
                if lang == "de" and view["value"]:
                    view["value"] = view["value"].replace(".", ",")
            elif item.type in ("date", "datetime"):
                view["hint"] = UI[lang][f"{item.type}_hint"]
                view["min"], view["max"] = item.min, item.max
                if item.type == "datetime":
                    view["min"], view["max"] = f"{item.min}T00:00", f"{item.max}T23:59"
            else:
                view["maxlength"] = item.max_length
                view["optional"] = True
        return view

    def page_response(request, response, page, lang, values, errors, status=200, latest=None):
        if latest is None:
            latest = store.latest_answers(response.id)
        before, _, _ = q.assemble(latest, upto=page.index)
        shown = q.asked(page, before)
        _, asked_all, _ = q.assemble(latest)
        k = sum(1 for p in q.pages if p.index < page.index and p.index in asked_all) + 1
        n = max(len(asked_all), k)
        later = [i for i in asked_all if i > page.index]
        views = [item_view(i, lang, values, errors) for i in shown]
        summary = [{"id": v["id"] if v["type"] not in (*CHOICE_TYPES, "multi")
                    else v["options"][0]["id"], "text": v["text"], "msg": m}
                   for v in views for m in v["errors"]]
        views = _grids(views, shown, lang)
        section = inst.sections[page.section].title.get(lang)
        return render(request, "page.html", status=status, lang=lang, page=page,
                      section=section, items=views, summary=summary, k=k, n=n,
                      percent=int(100 * (k - 1) / n), last=not later, first=k == 1,
                      csrf=sign("csrf", response.response_key))

    def _grids(views, shown, lang):
        """Consecutive scale items of one grid become one table view (rows share the scale)."""
        out = []
        for view, item in zip(views, shown):
            if item.type != "scale" or item.grid is None:
                out.append(view)
                continue
            last = out[-1] if out else None
            if last is None or last["type"] != "grid" or last["var"] != item.grid:
                stem = item.stem.get(lang) if item.stem is not None else ""
                last = {"type": "grid", "var": item.grid, "text": stem, "rows": [],
                        "columns": [o["label"] for o in view["options"]], "errors": [],
                        "error_id": f"e-{item.grid}"}
                out.append(last)
            view["row_id"] = f"r-{item.var}"
            last["rows"].append(view)
        return out

    # -------------------------------------------------------------- endpoints
    async def landing(request: Request):
        holder: dict = {}
        csrf = pre_token(request, holder)
        resp = render(request, "landing.html", csrf=csrf, anonymous=anonymous)
        if "set_pre" in holder:
            resp.set_cookie(PRE_COOKIE, holder["set_pre"], httponly=True, samesite="lax",
                            secure=secure_cookies)
        return resp

    def _open_token(request: Request, token: str):
        if not limiter.allow("t:" + token_hash(token or "")) or failed_limiter.full("failed"):
            return message_page(request, "too_many", 429)
        unit = store.unit_by_token(study.name, token)
        if unit is None:
            failed_limiter.allow("failed")
            return message_page(request, "no_token", 404)
        lang = lang_of(request)
        response = store.start_response(study.name, unit.id, lang=lang,
                                        device_class=_device_class(request))
        if response.completed_at is not None:
            return message_page(request, "already", 200)
        resp = RedirectResponse("/q", status_code=303)
        start_session(resp, response.response_key)
        return resp

    async def open_token(request: Request):
        return await run_in_threadpool(_open_token, request, request.path_params["token"])

    def _check_pre(request: Request, form: dict) -> bool:
        pre = request.cookies.get(PRE_COOKIE, "")
        given = form.get("csrf", [""])[0]
        return bool(pre) and hmac.compare_digest(sign("pre", pre), given)

    async def login(request: Request):
        try:
            form = await _read_form(request, 4096)
        except _TooLarge:
            return message_page(request, "too_large", 413)
        if not _check_pre(request, form):
            return message_page(request, "bad_form", 403)
        return await run_in_threadpool(_open_token, request, form.get("token", [""])[0].strip())

    async def start(request: Request):
        if not anonymous:
            return message_page(request, "no_token", 404)
        try:
            form = await _read_form(request, 4096)
        except _TooLarge:
            return message_page(request, "too_large", 413)
        if not _check_pre(request, form):
            return message_page(request, "bad_form", 403)
        if not start_limiter.allow("start"):
            return message_page(request, "too_many", 429)
        response = await run_in_threadpool(store.start_response, study.name, None,
                                           lang=lang_of(request),
                                           device_class=_device_class(request, form))
        resp = RedirectResponse("/q", status_code=303)
        start_session(resp, response.response_key)
        return resp

    def _show(request: Request):
        response = session(request)
        if response is None:
            return message_page(request, "expired", 403)
        if response.completed_at is not None:
            return RedirectResponse("/done", status_code=303)
        if not limiter.allow("r:" + response.response_key):
            return message_page(request, "too_many", 429)
        lang = lang_of(request)
        latest = store.latest_answers(response.id)
        _, asked, todo = q.assemble(latest)
        target = todo[0] if todo else (asked[-1] if asked else 0)
        p = request.query_params.get("p", "")
        if p.isdigit() and int(p) < len(q.pages) and int(p) <= target:
            # a page without a question for this respondent shows the next one that has one
            target = next((i for i in asked if int(p) <= i <= target), target)
        page = q.pages[target]
        store.touch(response.id, lang=lang, device_class=_device_class(request))
        return page_response(request, response, page, lang,
                             q.to_form(page, latest.get(page.index, {})), {}, latest=latest)

    async def show(request: Request):
        return await run_in_threadpool(_show, request)

    def _submit(request: Request, form: dict):
        response = session(request)
        if response is None:
            return message_page(request, "expired", 403)
        if response.completed_at is not None:
            return RedirectResponse("/done", status_code=303)
        if not limiter.allow("r:" + response.response_key):
            return message_page(request, "too_many", 429)
        if not hmac.compare_digest(sign("csrf", response.response_key),
                                   form.get("csrf", [""])[0]):
            return message_page(request, "bad_form", 403)
        lang = lang_of(request)
        p = form.get("page", [""])[0]
        latest = store.latest_answers(response.id)
        _, asked, todo = q.assemble(latest)
        reachable = todo[0] if todo else len(q.pages) - 1
        if not p.isdigit() or int(p) >= len(q.pages) or int(p) > reachable:
            return message_page(request, "bad_form", 400)
        page = q.pages[int(p)]
        before, _, _ = q.assemble(latest, upto=page.index)
        shown = q.asked(page, before)
        answers, problems = q.parse(page, shown, form)
        errors = q.errors({**before, **answers}, page)
        for var, names in problems.items():
            errors.setdefault(var, []).extend(names)
        if form.get("action", ["next"])[0] == "back":
            # going back keeps this page's answers when every question on it was answered
            # explicitly and they pass (it never blocks going back, and never turns an
            # untouched question into "no answer")
            explicit = all(any(v.strip() for v in form.get(f"q:{i.var}", []) +
                               form.get(f"m:{i.var}", [])) for i in shown if i.type != "text")
            if explicit and not errors and latest.get(page.index) != answers:
                store.append_submission(response.id, page.index, answers,
                                        _device_class(request, form))
            prev = [i for i in asked if i < page.index]
            return RedirectResponse(f"/q?p={prev[-1] if prev else page.index}", status_code=303)
        if errors:
            return page_response(request, response, page, lang, form, errors, status=422,
                                 latest=latest)
        device = _device_class(request, form)
        store.append_submission(response.id, page.index, answers, device)
        latest[page.index] = answers
        row, asked, todo = q.assemble(latest)
        later = [i for i in asked if i > page.index]
        if todo:
            nxt = min([i for i in todo if i > page.index] or todo)
            return RedirectResponse(f"/q?p={nxt}", status_code=303)
        if later:
            return RedirectResponse(f"/q?p={later[0]}", status_code=303)
        problems_all = q.errors(row)
        if problems_all:  # an earlier answer changed since: back to the first page concerned
            first = min(q.page_of[c] for var in problems_all for c in inst.item(var).columns)
            return RedirectResponse(f"/q?p={first}", status_code=303)
        store.complete(response.id)
        return RedirectResponse("/done", status_code=303)

    async def submit(request: Request):
        try:
            form = await _read_form(request, max_body)
        except _TooLarge:
            return message_page(request, "too_large", 413)
        return await run_in_threadpool(_submit, request, form)

    async def done(request: Request):
        return render(request, "done.html")

    def _admin(request: Request):
        if not admin_hash:
            return PlainTextResponse(f"admin page disabled: set {ADMIN_HASH_ENV} (make one with "
                                     "`surveydata fieldwork --hash-password`)", status_code=503)
        auth = request.headers.get("authorization", "")
        ok = False
        if auth.startswith("Basic ") and admin_limiter.allow("admin"):
            try:
                _user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                ok = verify_password(pw, admin_hash)
            except (binascii.Error, UnicodeDecodeError):
                ok = False
        if not ok:
            return PlainTextResponse("authentication required", status_code=401,
                                     headers={"WWW-Authenticate": 'Basic realm="fieldwork"'})
        st = monitor.status(store, study, q)
        return render(request, "admin.html", st=st)

    async def admin(request: Request):
        return await run_in_threadpool(_admin, request)

    routes = [
        Route("/", landing),
        Route("/t/{token}", open_token),
        Route("/login", login, methods=["POST"]),
        Route("/start", start, methods=["POST"]),
        Route("/q", show, methods=["GET"]),
        Route("/q", submit, methods=["POST"]),
        Route("/done", done),
        Route("/admin", admin),
        Route("/favicon.ico", lambda _request: Response(status_code=204)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders)])

    app.state.store = store
    app.state.questionnaire = q
    return app
