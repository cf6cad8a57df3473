"""The report end to end, from a user's own export, and in a real browser.

A survey simulated with another seed than the demo (as a user's export would come: CSV plus
strata.csv) gets one distinctive free-text answer planted. The report is built from it with the
committed notebooks, untouched. Checked: it builds; the notebooks in the repository do not change;
the planted text appears in no page and not even in the executed notebooks; provenance names the
export and its sha256; small cells are suppressed in the published tables.

Then headless Chromium opens every page: no console errors, uncaught exceptions or failed loads,
no request to anything but local files and data: URLs, and its tables and decoded figures are
there. A screenshot of the index is kept in tests/artifacts/report_index.png (git-ignored).

Chromium is driven over the DevTools protocol (websocket-client, which jupyter_server brings).
Without Chromium the browser tests are skipped with the reason, except under CI=true, where a
missing Chromium is a failure: .ci/run installs Debian's ``chromium`` package.
"""
from __future__ import annotations

import base64
import hashlib
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
AXE_SOURCE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"


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

    def open(self, url: str, width: int = 1280, axe: bool = False, screenshot: bool = True) -> dict:
        """Load ``url`` in a fresh tab ``width`` CSS pixels wide (a phone below 600: mobile
        emulation at device scale 2); returns what the page logged and what it contains, and
        with ``axe`` the axe-core violations."""
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
            phone = width < 600
            call("Emulation.setDeviceMetricsOverride", width=width, height=844 if phone else 900,
                 deviceScaleFactor=2 if phone else 1, mobile=phone)
            call("Page.navigate", url=url)
            deadline = time.monotonic() + PAGE_TIMEOUT_S
            while not any(e.get("method") == "Page.loadEventFired" for e in events):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not finish loading in {PAGE_TIMEOUT_S} s")
                events.append(json.loads(ws.recv()))
            content = call("Runtime.evaluate", returnByValue=True, awaitPromise=True, expression="""
                (async () => {
                  const W = """ + str(width) + """;  // the emulated width: a page wider overflows
                  await Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)));
                  return {
                    title: document.title,
                    tables: Array.from(document.querySelectorAll('table')).map(t => t.rows.length),
                    images: Array.from(document.images).map(i => ({complete: i.complete,
                              width: i.naturalWidth, height: i.naturalHeight,
                              src: i.getAttribute('src').slice(0, 22)})),
                    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
                    text: document.body.innerText,
                    lang: document.documentElement.lang,
                    // text in the page's own language: parts marked lang="xx" of another
                    // language (the link to the other edition) are left out
                    own_text: (() => {
                      const root = document.body.cloneNode(true);
                      root.querySelectorAll('[lang]').forEach(el => {
                        if (el.getAttribute('lang') !== document.documentElement.lang) el.remove(); });
                      root.querySelectorAll('style, script').forEach(el => el.remove());
                      return root.textContent;
                    })(),
                    alts: Array.from(document.images).map(i => i.getAttribute('alt')),
                    scroll_width: document.documentElement.scrollWidth,
                    inner_width: W,
                    wide: Array.from(document.querySelectorAll('body *')).filter(el => {
                      const r = el.getBoundingClientRect();
                      let p = el.parentElement, clipped = false;
                      while (p) { const o = getComputedStyle(p).overflowX;
                                  if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
                                  p = p.parentElement; }
                      return !clipped && r.width > 0 && r.right > W + 1;
                    }).slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)),
                  };
                })()""")["result"]["value"]
            if axe:
                call("Runtime.evaluate", expression=AXE_SOURCE.read_text(encoding="utf-8"))
                found = call("Runtime.evaluate", returnByValue=True, awaitPromise=True, expression="""
                    axe.run(document, {resultTypes: ['violations'], preload: false}).then(r => r.violations.map(v => ({
                      id: v.id, impact: v.impact, help: v.help,
                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""")
                content["axe"] = found["result"]["value"]
            shot = b""
            if screenshot == "full":  # the whole page (for looking at it, not for the tests)
                size = call("Page.getLayoutMetrics")["cssContentSize"]
                shot = base64.b64decode(call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                             clip={"x": 0, "y": 0, "width": size["width"],
                                                   "height": min(size["height"], 12000), "scale": 1})["data"])
            elif screenshot:
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


SECRET = "Frau Dr. Quokka-Zebra, Praxis am Lindenweg 7, hatte 2025 einen Ransomware-Vorfall"
SIM_SEED = 7  # the demo uses 2023


@pytest.fixture(scope="module")
def user_export(tmp_path_factory):
    """A simulated survey as a user would export it, with one planted free-text answer."""
    from surveydata.simulate.dataset import simulate_dataset, write_dataset

    folder = tmp_path_factory.mktemp("user_survey")
    write_dataset(simulate_dataset(SIM_SEED, n_invited=3000), folder)
    export = folder / "export.csv"
    text = export.read_bytes().decode("cp1252")
    comments = [c for c in report.raw_input(export)[0]["comments"].dropna().unique() if len(c) > 20]
    assert comments, "the simulated export has comments to replace"
    export.write_bytes(text.replace(comments[0], SECRET, 1).encode("cp1252"))
    return export


@pytest.fixture(scope="module")
def built(tmp_path_factory, user_export):
    out = tmp_path_factory.mktemp("user_report")
    executed = tmp_path_factory.mktemp("executed")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    before = {p.name: p.read_bytes() for p in notebooks}
    report.build_report(out, data=user_export, lang="de", progress=False, keep_executed=executed)
    after = {p.name: p.read_bytes() for p in notebooks}
    return {"out": out, "executed": executed, "before": before, "after": after}


@pytest.fixture(scope="module")
def report_dir(built):
    return built["out"]


def test_report_from_a_user_export_without_touching_the_notebooks(built, user_export):
    assert built["before"] == built["after"]
    assert sorted(p.name for p in built["out"].glob("*.html")) == [
        "01_data_quality.html", "02_weighting.html", "03_prevalence.html", "04_models.html",
        "05_information_vs_equipment.html", "index.html"]
    prov = json.loads((built["out"] / "provenance.json").read_text())
    assert prov["input"]["kind"] == "export" and prov["input"]["name"] == "export.csv"
    assert prov["input"]["sha256"] == hashlib.sha256(user_export.read_bytes()).hexdigest()
    assert prov["input"]["strata"] == "strata.csv"
    assert prov["input"]["n_raw"] == prov["input"]["n_valid"] + prov["input"]["n_quarantined"]
    assert f"{prov['input']['n_raw']:,}" in (built["out"] / "index.html").read_text()


def test_planted_free_text_reaches_no_page_and_no_notebook(built, user_export):
    assert SECRET in user_export.read_bytes().decode("cp1252")
    for folder in (built["out"], built["executed"]):
        for path in folder.iterdir():
            text = path.read_text(encoding="utf-8")
            assert SECRET not in text and "Quokka" not in text, path.name


def test_small_cells_are_suppressed_in_the_published_tables(built):
    pages = "".join(p.read_text(encoding="utf-8") for p in built["out"].glob("0*.html"))
    assert re.search(r"<td>\s*•\s*</td>", pages), "a survey of this size has small cells to suppress"


def test_every_report_page_renders_tables_and_figures_without_errors(browser, report_dir):
    pages = sorted(report_dir.glob("[0-9][0-9]_*.html"))
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


def test_index_links_every_page_and_is_kept_as_a_screenshot(browser, report_dir):
    res = browser.open((report_dir / "index.html").as_uri())
    assert res["problems"] == []
    pages = sorted(p.name for p in report_dir.glob("[0-9][0-9]_*.html"))
    linked = [h for h in res["content"]["links"] if h.endswith(".html")]
    assert sorted(linked) == pages
    assert "provenance.json" in res["content"]["links"]
    assert "Inhalt" in res["content"]["text"]  # built in German
    assert "Export: export.csv" in res["content"]["text"]
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
