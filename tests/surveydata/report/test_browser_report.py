"""The report end to end, from a user's own export, and in a real browser.

A survey simulated with another seed than the demo (as a user's export would come: CSV plus
strata.csv) gets one distinctive free-text answer planted. The report is built from it with the
committed notebooks, untouched. Checked: it builds; the notebooks in the repository do not change;
the planted text appears in no page and not even in the executed notebooks; provenance names the
export and its sha256; the cells the build suppressed (``disclosure.json``) are exactly the cells
shown suppressed in the rendered tables, and no true count of one is shown.

The report is built in both editions (``lang="both"``). Then headless Chromium opens every page
of both (index, notebook pages, methods, codebook) at 1366 and 390 px: no console errors,
uncaught exceptions or failed loads, no request to anything but local files and data: URLs, no
horizontal overflow, no image without a description (nbconvert's placeholder counts as none),
no word of the other language in the visible text, and no axe-core violation of any impact
(axe-core from npm: ``npm ci`` in tests/browser/). Screenshots of the indexes at phone width are
kept in tests/artifacts/ (git-ignored).

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

from surveydata.report import build as report
from surveydata.report import disclosure as dc
from surveydata.report import disclosure_audit
from surveydata.report.i18n import t

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]
PAGE_TIMEOUT_S = 30
AXE_SOURCE = Path(__file__).resolve().parents[2] / "browser" / "node_modules" / "axe-core" / "axe.min.js"


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

    def open(self, url: str, width: int = 1280, axe: bool = False, screenshot: bool = True,
             media: str = "", pdf: bool = False) -> dict:
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
            if media:
                call("Emulation.setEmulatedMedia", media=media)
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
                    // every table as rendered: rows of cells, header or data, with their text
                    cells: Array.from(document.querySelectorAll('table')).map(t => Array.from(t.rows).map(
                      r => Array.from(r.cells).map(c => ({tag: c.tagName.toLowerCase(),
                                                          text: c.innerText.trim()})))),
                    images: Array.from(document.images).map(i => ({complete: i.complete,
                              width: i.naturalWidth, height: i.naturalHeight,
                              src: i.getAttribute('src').slice(0, 22)})),
                    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
                    text: document.body.innerText,
                    lang: document.documentElement.lang,
                    nav_display: Array.from(document.querySelectorAll('nav.report-nav')).map(
                      n => getComputedStyle(n).display),
                    // text in the page's own language: parts marked lang="xx" of another
                    // language (the link to the other edition), code, and titles of sources
                    // quoted as they are (translate="no") are left out
                    own_text: (() => {
                      const root = document.body.cloneNode(true);
                      root.querySelectorAll('[lang]').forEach(el => {
                        if (el.getAttribute('lang') !== document.documentElement.lang) el.remove(); });
                      root.querySelectorAll('style, script, code, [translate="no"]').forEach(el => el.remove());
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
            if pdf:  # the page as printed, with the page size its stylesheet asks for
                content["pdf"] = base64.b64decode(call("Page.printToPDF", preferCSSPageSize=True)["data"])
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
            # close the tab: tabs left open keep running and slow every later page down
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{target['id']}",
                                        timeout=10):
                pass
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
    """The report built once for the module, with what the build's disclosure audit read: every
    published count table of each edition with its cells' true values and which it suppressed
    (kept from the builder's temporary folder, where they stay unpublished)."""
    out = tmp_path_factory.mktemp("user_report")
    executed = tmp_path_factory.mktemp("executed")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    before = {p.name: p.read_bytes() for p in notebooks}
    records = {}
    read_records = disclosure_audit.read_records

    def keep_records(directory, page_of=None):
        recs = read_records(directory, page_of)
        records[Path(directory).name.removeprefix("run-")] = recs  # run-de, run-en
        return recs

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(disclosure_audit, "read_records", keep_records)
        report.build_report(out, data=user_export, lang="both", progress=False,
                            keep_executed=executed)
    after = {p.name: p.read_bytes() for p in notebooks}
    return {"out": out, "executed": executed, "before": before, "after": after,
            "records": records}


@pytest.fixture(scope="module")
def report_dir(built):
    return built["out"]


def _report_pages(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("[0-9][0-9]_*.html"))


def test_report_from_a_user_export_without_touching_the_notebooks(built, user_export):
    from surveydata.report.data import study_notebooks

    assert built["before"] == built["after"]
    expected = sorted(p.with_suffix(".html").name for p in study_notebooks())
    for lang in ("de", "en"):
        assert _report_pages(built["out"] / lang) == expected
        prov = json.loads((built["out"] / lang / "provenance.json").read_text())
        assert prov["input"]["kind"] == "export" and prov["input"]["name"] == "export.csv"
        assert prov["input"]["sha256"] == hashlib.sha256(user_export.read_bytes()).hexdigest()
        assert prov["input"]["strata"] == "strata.csv"
        assert prov["input"]["n_raw"] == prov["input"]["n_valid"] + prov["input"]["n_quarantined"]
    n_raw = json.loads((built["out"] / "en" / "provenance.json").read_text())["input"]["n_raw"]
    assert f"{n_raw:,}" in (built["out"] / "en" / "index.html").read_text()
    assert f"{n_raw:,}".replace(",", ".") in (built["out"] / "de" / "index.html").read_text()


def test_planted_free_text_reaches_no_page_and_no_notebook(built, user_export):
    assert SECRET in user_export.read_bytes().decode("cp1252")
    for folder in (built["out"], built["executed"]):
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix not in (".png", ".xlsx"):
                text = path.read_text(encoding="utf-8-sig")
                assert SECRET not in text and "Quokka" not in text, path.name


def _body_rows(tables: list) -> list[tuple[int, str, list[str]]]:
    """(table number, row header, texts of the row's data cells) of every body row of the page's
    rendered tables (a row whose first cell is a header cell and which has data cells)."""
    out = []
    for n, table in enumerate(tables):
        for row in table:
            if row and row[0]["tag"] == "th" and any(c["tag"] == "td" for c in row):
                out.append((n, row[0]["text"], [c["text"] for c in row[1:]]))
    return out


def _locate(records: list, headers: set, total_labels: set) -> tuple[dict, dict, set, list]:
    """Where the recorded cells of one page are shown: a table laid out by rows (its row labels
    are row headers on the page: a cell is in the row of its label, a total in the page's total
    row), or one row per table (the per-item nonresponse tables, named "<prefix> <row header>":
    all its cells are in that row). Returns ({row: suppressed cells}, {row: published values},
    every row label the records use, what could not be located). Records `_by_columns` placed
    are left out."""
    suppressed: dict[str, set] = {}
    published: dict[str, set] = {}
    used, lost = set(), []
    for rec in records:
        if rec.get("_by_columns"):
            continue
        inner = {c["row"] for c in rec["cells"]} - total_labels - {dc.TOTAL}
        if inner & headers:
            def row_of(cell):
                if cell["row"] in headers:
                    return cell["row"]
                if cell["row"] in total_labels | {dc.TOTAL}:
                    return next(iter(total_labels & headers), None)
                return None
        else:
            item = max((h for h in headers if rec["table"].endswith(" " + h)), key=len, default=None)

            def row_of(cell, item=item):
                return item
        for cell in rec["cells"]:
            row = row_of(cell)
            if row is None:
                if cell["suppressed"]:
                    lost.append(f"{rec['table']!r} {cell['row']!r}/{cell['column']!r}")
                continue
            used.add(row)
            if cell["suppressed"]:
                suppressed.setdefault(row, set()).add((rec["table"], cell["row"], cell["column"],
                                                       cell["value"]))
            else:
                published.setdefault(row, set()).add(cell["value"])
    return suppressed, published, used, lost


def _by_columns(records: list, tables: list, lang: str) -> tuple[set, list]:
    """Records of counts whose groups are a rendered table's columns (the estimates by group:
    each cell of an indicator's row prints the group's answered count as "n = ..."): some row
    must show every published count of the record as its n and no n where the record's count
    is suppressed (there the cell is the marker or an estimate without its n). Returns the
    (table, row) pairs found and the records no row shows so; marks the records it placed."""
    found, problems = set(), []
    for rec in records:
        inner = list(dict.fromkeys(c["row"] for c in rec["cells"] if not c["total"]))
        for n, table in enumerate(tables):
            head = next((r for r in table if r and all(c["tag"] == "th" for c in r)), None)
            names = [c["text"] for c in head] if head else []
            if not inner or not set(inner) <= set(names):
                continue
            rec["_by_columns"] = True
            shown = next(c["column"] for c in rec["cells"] if not c["total"])  # printed: the first
            cells = {c["row"]: c for c in rec["cells"] if c["column"] == shown and not c["total"]}
            matched = []
            for row in table:
                texts = [c["text"] for c in row]
                if len(texts) != len(names) or row[0]["tag"] != "th" or row is head:
                    continue
                ok = True
                for level, cell in cells.items():
                    text = texts[names.index(level)]  # "est (ci; n = 236)", or a group size alone
                    ns = set(re.findall(r"n = ([\d.,]+)", text)) | ({text} - {dc.MARKER})
                    ns = {x for x in ns if re.fullmatch(r"[\d.,]+", x)}
                    if cell["suppressed"]:
                        ok = ok and not ns  # no count: the marker, or the estimate alone
                    else:
                        ok = ok and bool(ns & _count_texts(cell["value"], lang))
                if ok:
                    matched.append((n, texts[0]))
            if matched:
                found.update(matched)
            else:
                problems.append(f"no row of table {n + 1} shows the counts of {rec['table']!r} "
                                "(published ones as n = ..., suppressed ones without): "
                                f"{[(c['row'], c['value'], c['suppressed']) for c in cells.values()]} "
                                f"in {[[c['text'] for c in r] for r in table]}")
            break
    return found, problems


def _count_texts(value: float, lang: str) -> set[str]:
    """How a count is written in the edition (1234: "1,234" / "1.234", and "1234")."""
    v = round(value)
    grouped = f"{v:,}"
    return {str(v), grouped if lang == "en" else grouped.replace(",", ".")}


def _suppression_mismatches(records: list, tables: list, lang: str) -> list[str]:
    """The page's rendered tables against the cells the build suppressed on it: every row holding
    a suppressed cell shows at least as many markers as it has suppressed cells and none of their
    true counts (unless the same count is published in that row); every row with a marker in a
    table of recorded counts holds a suppressed cell."""
    records = [dict(r) for r in records]
    rows = _body_rows(tables)
    headers = {h for _, h, _ in rows}
    total_labels = {t("total", lang)}
    by_columns, problems = _by_columns(records, tables, lang)
    for n, h, cells in rows:
        if n in {m for m, _ in by_columns} and dc.MARKER in cells and (n, h) not in by_columns:
            problems.append(f"row {h!r} of table {n + 1} shows {dc.MARKER} but no recorded count "
                            "is shown in it")
    suppressed, published, used, lost = _locate(records, headers, total_labels)
    problems += [f"suppressed cell not found in any rendered table: {x}" for x in lost]
    count_tables = {n for n, h, _ in rows if h in used} - {m for m, _ in by_columns}
    marked = {h for n, h, cells in rows if n in count_tables and dc.MARKER in cells}
    for h in sorted(marked - set(suppressed)):
        problems.append(f"row {h!r} shows {dc.MARKER} but the build suppressed no cell of it")
    for h in sorted(set(suppressed) - marked):
        problems.append(f"row {h!r} holds suppressed cells but shows no {dc.MARKER}")
    for h, cells in suppressed.items():
        shown = [c for n, r, c in rows if r == h and n in count_tables]
        if shown and max(c.count(dc.MARKER) for c in shown) < len({x[1:3] for x in cells}):
            problems.append(f"row {h!r}: {len(cells)} suppressed cells, fewer markers: {shown}")
        allowed = set().union(*(_count_texts(v, lang) for v in published.get(h, ())))
        for table, row, column, value in cells:
            leaked = (_count_texts(value, lang) - allowed) & {x for c in shown for x in c}
            if leaked:
                problems.append(f"row {h!r}: the true count of suppressed cell {table!r} "
                                f"{row!r}/{column!r} is shown: {sorted(leaked)}")
    return problems


def test_the_suppressed_cells_are_exactly_the_cells_shown_suppressed(browser, built):
    """For both editions: ``disclosure.json`` lists the build's suppressed cells (those the audit
    read, with their true values); in each page's tables as the browser renders them, the rows
    showing the marker in a table of those counts are exactly the rows holding suppressed cells,
    each with at least as many markers as suppressed cells, and none shows a suppressed cell's
    true count. (The weighted-estimate tables suppress rows by their n; they are not count
    tables of the audit and are not compared here.)"""
    n_suppressed = 0
    for lang in ("de", "en"):
        records = built["records"][lang]
        published = json.loads((built["out"] / lang / disclosure_audit.REPORT_FILE).read_text())
        assert published["passed"] is True
        assert published["tables"] == [
            {"page": r["page"], "table": r["table"], "cells": len(r["cells"]),
             "suppressed": sum(c["suppressed"] for c in r["cells"])} for r in records]
        assert [(c["page"], c["table"], c["cell"]) for c in published["suppressed_cells"]] == [
            (r["page"], r["table"], [c["row"], c["column"]]) for r in records for c in r["cells"]
            if c["suppressed"] and c["sensitive"]]
        assert all("value" not in c for c in published["suppressed_cells"])  # no true value
        pages = sorted({r["page"] for r in records})
        assert set(pages) <= set(_report_pages(built["out"] / lang))
        found = {}
        for page in pages:
            res = browser.open((built["out"] / lang / page).as_uri(), width=WIDTHS[0],
                               screenshot=False)
            on_page = [r for r in records if r["page"] == page]
            n_suppressed += sum(c["suppressed"] for r in on_page for c in r["cells"])
            problems = _suppression_mismatches(on_page, res["content"]["cells"], lang)
            if problems:
                found[f"{lang}/{page}"] = problems
        assert not found, "\n".join(f"{page}: {p}" for page, ps in found.items() for p in ps)
    assert n_suppressed > 0, "a survey of this size has small cells to suppress"


def test_the_suppression_check_catches_a_shown_count_and_a_stray_marker():
    """The comparison above can fail: a suppressed count shown, a marker on a row the build did
    not suppress, and a suppressed cell without its marker are each named."""
    def cell(row, value, suppressed):
        return {"row": row, "column": "n", "value": value, "suppressed": suppressed,
                "total": row == "Total"}

    records = [{"table": "Reason", "cells": [cell("a", 3.0, True), cell("b", 40.0, True),
                                             cell("c", 1234.0, False), cell("Total", 1277.0, False)]}]

    def table(a, b, c):
        return [[[{"tag": "th", "text": "Reason"}, {"tag": "th", "text": "n"}],
                 *[[{"tag": "th", "text": h}, {"tag": "td", "text": v}]
                   for h, v in (("a", a), ("b", b), ("c", c), ("Total", "1,277"))]]]

    assert _suppression_mismatches(records, table(dc.MARKER, dc.MARKER, "1,234"), "en") == []
    assert _suppression_mismatches(records, table(dc.MARKER, dc.MARKER, "1.234"), "de") == []
    problems = _suppression_mismatches(records, table("3", dc.MARKER, dc.MARKER), "en")
    assert problems == [
        "row 'c' shows • but the build suppressed no cell of it",
        "row 'a' holds suppressed cells but shows no •",
        "row 'a': 1 suppressed cells, fewer markers: [['3']]",
        "row 'a': the true count of suppressed cell 'Reason' 'a'/'n' is shown: ['3']"]
    # a per-item table is shown as one row: its cells are found by the item in its name
    item = [{"table": "nonresponse Q1?", "cells": [cell("dont_know", 2.0, True),
                                                    cell("no_answer", 4.0, True),
                                                    cell("Total", 90.0, False)]}]
    row = [[{"tag": "th", "text": "Q1?"}, {"tag": "td", "text": "90"},
            {"tag": "td", "text": dc.MARKER}, {"tag": "td", "text": "4"}]]
    assert _suppression_mismatches(item, [row], "en") == [
        "row 'Q1?': 2 suppressed cells, fewer markers: [['90', '•', '4']]",
        ("row 'Q1?': the true count of suppressed cell 'nonresponse Q1?' 'no_answer'/'n' is "
         "shown: ['4']")]


#: Words of one language that must not appear in the visible text of the other edition.
ENGLISH = ("the", "and", "with", "of", "Table", "Figure", "Share", "Total", "weighted",
           "unweighted", "respondents", "practices", "Download", "Contents", "Methods", "Summary",
           "confidence", "interval", "Previous", "Next", "suppressed", "Term", "yes", "no")
GERMAN = ("und", "der", "die", "das", "mit", "nicht", "Anteil", "Tabelle", "Abbildung", "gewichtet",
          "ungewichtet", "Befragte", "Praxen", "Zusammenfassung", "Inhalt", "Gesamt", "gesperrt",
          "ja", "nein", "Herunterladen")
PLACEHOLDER_ALT = "No description has been provided"
WIDTHS = (1366, 390)


def _words_of_the_other_language(text: str, lang: str) -> list[str]:
    words = ENGLISH if lang == "de" else GERMAN
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


def _page_problems(res: dict, lang: str, width: int) -> list[str]:
    """Everything the report must not have, as readable problems (empty: the page is fine)."""
    c = res["content"]
    problems = list(res["problems"])
    if c["scroll_width"] > width:
        problems.append(f"{c['scroll_width']} px wide at {width} px: {c['wide']}")
    problems += [f"image without description: {a!r}" for a in c["alts"]
                 if not a or PLACEHOLDER_ALT in a]
    if c["lang"] != lang:
        problems.append(f'<html lang="{c["lang"]}"> in the {lang} edition')
    other = _words_of_the_other_language(c["own_text"], lang)
    if other:
        problems.append(f"words of the other language in the {lang} edition: {other}")
    problems += [f"axe {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in c.get("axe", [])]
    return problems


def test_every_page_of_both_editions_is_clean_at_desktop_and_phone_width(browser, report_dir):
    """No console error or failed load, no horizontal overflow at 1366 and 390 px, every image
    described (never nbconvert's placeholder), the edition's language only, and no axe-core
    violation of any impact, on every page of both editions (report, methods, codebook, index)."""
    if not AXE_SOURCE.is_file():
        pytest.fail(f"axe-core is not installed: run `npm ci` in {AXE_SOURCE.parents[2]}")
    found = {}
    n_figures = 0
    for lang in ("de", "en"):
        folder = report_dir / lang
        names = ["index.html", *_report_pages(folder), "methods.html", "codebook.html"]
        for name in names:
            for width in WIDTHS:
                res = browser.open((folder / name).as_uri(), width=width, axe=True, screenshot=False)
                problems = _page_problems(res, lang, width)
                if problems:
                    found[f"{lang}/{name} @ {width}px"] = problems
                if width == WIDTHS[0]:
                    c = res["content"]
                    for img in c["images"]:
                        assert img["complete"] and img["width"] > 0, f"{lang}/{name}: {img}"
                    if name[:2].isdigit():
                        assert "index.html" in c["links"], f"{name} has no way back to the index"
                        n_figures += len(c["images"])
    assert not found, "\n".join(f"{page}: {p}" for page, ps in found.items() for p in ps)
    assert n_figures > 0, "no figure anywhere in the report"


def test_index_links_every_page_and_is_kept_as_a_screenshot(browser, report_dir):
    for lang, heading in (("de", "Inhalt"), ("en", "Contents")):
        res = browser.open((report_dir / lang / "index.html").as_uri(), width=390)
        assert res["problems"] == []
        pages = _report_pages(report_dir / lang)
        linked = [h for h in res["content"]["links"] if h.endswith(".html") and "/" not in h]
        assert sorted(set(linked)) == sorted({*pages, "index.html", "methods.html", "codebook.html"})
        assert "provenance.json" in res["content"]["links"]
        assert heading in res["content"]["text"]
        assert "Export: export.csv" in res["content"]["text"]
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"report_index_{lang}_390.png").write_bytes(res["screenshot"])
        assert res["screenshot"][:8] == b"\x89PNG\r\n\x1a\n"


def test_the_browser_checks_catch_a_broken_page(browser, tmp_path):
    """The checks above can fail: a console error, a missing image, an image with the placeholder
    alt text, a page wider than a phone, English words in a German page and an axe violation
    (an image without alt, a table header without text) are all caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="de"><head><meta name="viewport" '
                   'content="width=device-width"></head><body><main><img src="missing.png">'
                   '<img src="data:image/png;base64,iVBORw0KGgo=" alt="No description has been provided '
                   'for this image"><div style="width:900px">Share of the practices</div>'
                   "<table><tr><th></th><th>n</th></tr><tr><td>a</td><td>1</td></tr></table>"
                   '<script>console.error("broken")</script></main></body></html>')
    res = browser.open(bad.as_uri(), width=390, axe=True)
    problems = _page_problems(res, "de", 390)
    assert any("console.error" in p for p in problems)
    assert any("ERR_FILE_NOT_FOUND" in p for p in problems)
    assert any("px wide at 390 px" in p for p in problems)
    assert any("image without description" in p for p in problems)
    assert any("words of the other language" in p and "the" in p for p in problems)
    assert any(p.startswith("axe image-alt") for p in problems)
    assert any(p.startswith("axe empty-table-header") for p in problems)


def test_print_is_a4_without_navigation(browser, report_dir):
    page = (report_dir / "en" / _report_pages(report_dir / "en")[0]).as_uri()
    res = browser.open(page, media="print", pdf=True, screenshot=False)
    assert res["content"]["nav_display"] == ["none"]  # no navigation on paper
    pdf = res["content"]["pdf"]
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "no page in the PDF"
    for w, h in boxes:  # A4 is 595.3 x 841.9 pt (Letter would be 612 x 792)
        assert abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5, (w, h)
    css = (report_dir / "en" / "report.css").read_text()
    assert "break-after: avoid" in css and "break-inside: avoid" in css  # headings kept with text


def test_the_suppression_check_finds_counts_printed_as_n_in_estimate_tables():
    """A record of answered counts by group is found as the estimates row that prints each
    published count as "n = ..." and no n where the count is suppressed."""
    def cell(row, column, value, suppressed, total=False):
        return {"row": row, "column": column, "value": value, "suppressed": suppressed,
                "total": total}

    records = [{"table": "answered x by g", "cells": [
        cell("A", "answered", 70.0, False), cell("A", "not answered", 3.0, True),
        cell("B", "answered", 4.0, True), cell("B", "not answered", 1.0, True),
        cell("Total", "answered", 74.0, False, True), cell("Total", "not answered", 4.0, True, True)]}]

    def table(b_of_x):
        head = [{"tag": "th", "text": ""}, {"tag": "th", "text": "A"}, {"tag": "th", "text": "B"}]
        rows = [("Share x", "37.5 (30.7–44.3; n = 70)", b_of_x),
                ("Share y", "50.0 (40.0–60.0; n = 70)", "12.0 (1.0–20.0; n = 9)")]
        return [[head, *[[{"tag": "th", "text": h}, {"tag": "td", "text": a},
                          {"tag": "td", "text": b}] for h, a, b in rows]]]

    assert _suppression_mismatches(records, table(dc.MARKER), "en") == []
    assert _suppression_mismatches(records, table("25.0 (1.0–60.0)"), "en") == []
    assert _suppression_mismatches(records, table("25.0 (1.0–60.0; n = 4)"), "en") == [
        ("no row of table 1 shows the counts of 'answered x by g' (published ones as n = ..., "
         "suppressed ones without): [('A', 70.0, False), ('B', 4.0, True)] in [['', 'A', 'B'], "
         "['Share x', '37.5 (30.7–44.3; n = 70)', '25.0 (1.0–60.0; n = 4)'], "
         "['Share y', '50.0 (40.0–60.0; n = 70)', '12.0 (1.0–20.0; n = 9)']]")]
