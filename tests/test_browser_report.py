"""The report in a real browser: headless Chromium opens every page of the demo report.

Each page must load without console errors, uncaught exceptions or failed loads, fetch nothing
but local files and data: URLs, and show its tables and decoded figures. A screenshot of the
index is kept in tests/artifacts/report_index.png (git-ignored).

Chromium is driven over the DevTools protocol (websocket-client, which jupyter_server brings).
Without Chromium the test is skipped with the reason, except under CI=true, where a missing
Chromium is a failure: .ci/run installs Debian's ``chromium`` package.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from surveydata import report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]
PAGE_TIMEOUT_S = 30


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _require_chromium() -> str:
    path = _chromium()
    if path:
        return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("CI is set but no Chromium is installed: .ci/run must `apt-get install -y chromium`")
    pytest.skip("headless Chromium is not installed (apt-get install -y chromium); "
                "CI installs it and runs this test")


class Browser:
    """Just enough of the DevTools protocol: open a page, collect errors, evaluate, screenshot."""

    def __init__(self, executable: str):
        import websocket  # websocket-client

        self._ws_module = websocket
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                self.close()
                raise RuntimeError(f"Chromium did not open its DevTools port: {err}")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])
        self._id = 0

    def open(self, url: str) -> dict:
        """Load ``url`` in a fresh tab; returns what the page logged and what it contains."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(req, timeout=10) as resp:
            target = json.load(resp)
        ws = self._ws_module.create_connection(target["webSocketDebuggerUrl"], timeout=PAGE_TIMEOUT_S)
        events: list[dict] = []
        try:
            def call(method, **params):
                self._id += 1
                ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv())
                    if msg.get("id") == self._id:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return msg["result"]
                    events.append(msg)

            for domain in ("Runtime", "Log", "Page", "Network"):
                call(f"{domain}.enable")
            call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                 mobile=False)
            call("Page.navigate", url=url)
            deadline = time.monotonic() + PAGE_TIMEOUT_S
            while not any(e.get("method") == "Page.loadEventFired" for e in events):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not finish loading in {PAGE_TIMEOUT_S} s")
                events.append(json.loads(ws.recv()))
            content = call("Runtime.evaluate", returnByValue=True, awaitPromise=True, expression="""
                (async () => {
                  await Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)));
                  return {
                    title: document.title,
                    tables: Array.from(document.querySelectorAll('table')).map(t => t.rows.length),
                    images: Array.from(document.images).map(i => ({complete: i.complete,
                              width: i.naturalWidth, height: i.naturalHeight,
                              src: i.getAttribute('src').slice(0, 22)})),
                    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
                    text: document.body.innerText,
                  };
                })()""")["result"]["value"]
            shot = base64.b64decode(call("Page.captureScreenshot", format="png")["data"])
        finally:
            ws.close()
        problems = []
        for e in events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                problems.append(f"exception: {p['exceptionDetails'].get('text')} "
                                f"{p['exceptionDetails'].get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                problems.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                problems.append(f"log: {p['entry']['text']} {p['entry'].get('url', '')}")
            elif m == "Network.requestWillBeSent":
                req_url = p["request"]["url"]
                if not req_url.startswith(("file://", "data:", "about:")):
                    problems.append(f"network request to {req_url}")
            elif m == "Network.loadingFailed":
                problems.append(f"failed load: {p.get('errorText')}")
        return {"problems": problems, "content": content, "screenshot": shot}

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    b = Browser(_require_chromium())
    yield b
    b.close()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    _require_chromium()  # skip before spending a minute on the report
    out = tmp_path_factory.mktemp("browser_report")
    report.build_report(out, lang="de", progress=False)
    return out


def test_every_report_page_renders_tables_and_figures_without_errors(browser, demo_report):
    pages = sorted(demo_report.glob("[0-9][0-9]_*.html"))
    assert pages, "the report has no notebook pages"
    n_figures = 0
    for page in pages:
        res = browser.open(page.as_uri())
        assert res["problems"] == [], f"{page.name}: {res['problems']}"
        c = res["content"]
        assert c["tables"] or c["images"], f"{page.name} shows neither a table nor a figure"
        assert not c["tables"] or max(c["tables"]) >= 2, f"{page.name}: tables without body rows"
        for img in c["images"]:
            assert img["src"].startswith("data:image/png;base64"), f"{page.name}: {img['src']}"
            assert img["complete"] and img["width"] > 0 and img["height"] > 0, f"{page.name}: {img}"
        # every figure output of the page source made it to the screen
        source = page.read_text(encoding="utf-8")
        assert len(c["images"]) == len(re.findall(r'<img[^>]+src="data:image/png;base64', source))
        assert "index.html" in c["links"], f"{page.name} has no way back to the index"
        n_figures += len(c["images"])
    assert n_figures > 0, "no figure anywhere in the report"


def test_index_links_every_page_and_is_kept_as_a_screenshot(browser, demo_report):
    res = browser.open((demo_report / "index.html").as_uri())
    assert res["problems"] == []
    pages = sorted(p.name for p in demo_report.glob("[0-9][0-9]_*.html"))
    linked = [h for h in res["content"]["links"] if h.endswith(".html")]
    assert sorted(linked) == pages
    assert "provenance.json" in res["content"]["links"]
    assert "Inhalt" in res["content"]["text"]  # built in German
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report_index.png").write_bytes(res["screenshot"])
    assert res["screenshot"][:8] == b"\x89PNG\r\n\x1a\n"


def test_the_browser_check_catches_a_broken_page(browser, tmp_path):
    """The checks above can fail: a page with a console error and a missing image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="missing.png">'
                   '<script>console.error("broken")</script></body></html>')
    res = browser.open(bad.as_uri())
    assert any("console.error" in p for p in res["problems"])
    assert any("ERR_FILE_NOT_FOUND" in p for p in res["problems"])
