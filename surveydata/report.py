"""The publishable report: run the numbered notebooks on a dataset and write offline HTML.

``build_report(out)`` (and ``surveydata report --out DIR``) does, in order:

1. load the instrument and the data (default: the embedded demo survey), validate the data and
   drop every free-text answer (:func:`load_data`): what the notebooks receive is a prepared
   bundle in a temporary directory, so free text never reaches a notebook, let alone an output;
2. execute copies of ``notebooks/NN_*.ipynb`` with papermill (parameters ``data``,
   ``instrument``, ``lang``, ``k_min``, ``seed``), never touching the notebooks in the repository;
3. convert each executed notebook to one HTML page without code cells, images embedded as
   base64 PNG, no script or style loaded from anywhere (no CDN: the pages open offline);
4. write ``index.html`` and ``provenance.json`` (input sha256, instrument name and version,
   package and dependency versions, git commit, seeds), then check the pages: no free-text
   answer of the input and no remote resource may appear in them.

Notebooks call :func:`load_data` with their parameters, so a notebook opened in JupyterLab runs
on the demo (or on an export given as ``data``) exactly as the report runs it.

Example
-------
>>> index = build_report("report", lang="de")   # doctest: +SKIP
"""
from __future__ import annotations

import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

import pandas as pd

from surveydata import disclosure
from surveydata.errors import SurveyDataError
from surveydata.i18n import check_lang, t
from surveydata.reportdata import (
    ReportData,
    file_sha256,
    instrument_of,
    load_data,
    raw_input,
    save_bundle,
)

__all__ = [
    "ReportError",
    "build_report",
    "check_no_free_text",
    "check_offline",
    "execute_in_place",
    "find_notebooks",
    "load_data",
    "provenance",
]

#: Seed handed to every notebook (for anything random: replicate weights, bootstraps, jitter).
DEFAULT_SEED = 20261128
PACKAGE = "praxis-survey"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
# A free-text answer this long is distinctive enough that finding it in a page means a leak
# (shorter ones such as "nein" also occur in ordinary labels).
_LEAK_MIN_CHARS = 12
# Anything the browser would fetch on its own: src= of any element, <link href=>, CSS url() and
# @import, JavaScript import(). A plain <a href="https://..."> is a link the reader may follow,
# not a resource, and is allowed.
_REMOTE = re.compile(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//"""
                     r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
                     r"""|@import\s+(?:url\()?["']?\s*(?:https?:)?//"""
                     r"""|url\(\s*["']?\s*(?:https?:)?//"""
                     r"""|import\(\s*["'](?:https?:)?//""", re.IGNORECASE)


class ReportError(SurveyDataError):
    """The report could not be built; the message says which step, file and why."""


def repo_root() -> Path:
    """The directory that holds ``surveydata/`` (the repository root in a checkout)."""
    return Path(__file__).resolve().parents[1]


def default_notebooks_dir() -> Path:
    return repo_root() / "notebooks"


# ---------------------------------------------------------------------------------------------
# executing and converting notebooks

def find_notebooks(directory=None) -> list[Path]:
    """The report's notebooks: ``NN_name.ipynb`` in ``directory``, in number order."""
    directory = Path(directory) if directory is not None else default_notebooks_dir()
    found = sorted(directory.glob(NOTEBOOK_GLOB))
    if not found:
        raise ReportError(f"no notebooks named NN_*.ipynb in {directory}")
    return found


def _execute(source: str, target: str, parameters: dict, cwd: str) -> float:
    """Run one notebook copy with papermill (in a worker process); returns seconds taken.

    The kernel's own stderr (start-up notices, the interrupt at shutdown) goes to a log beside
    the notebook instead of the terminal; when the notebook fails, the log's end is part of the
    error (cell errors themselves come back through papermill).
    """
    import papermill

    log = Path(target).with_suffix(".kernel.log")
    start = time.perf_counter()
    saved = os.dup(2)
    with open(log, "wb") as sink:
        os.dup2(sink.fileno(), 2)  # the kernel process inherits this worker's stderr
        try:
            papermill.execute_notebook(source, target, parameters=parameters, cwd=cwd,
                                       progress_bar=False, kernel_name="python3", log_output=False)
        except Exception as err:  # re-raised with the kernel log attached
            tail = log.read_bytes()[-2000:].decode(errors="replace").strip()
            raise RuntimeError(f"{err}\n--- kernel log (end) ---\n{tail}" if tail else str(err)) from err
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return time.perf_counter() - start


_PAGE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{#- No script is loaded from anywhere: the page opens offline. require.js, MathJax and mermaid
    are not needed for tables and PNG figures. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{% block extra_css %}<style type="text/css">{{ resources.report_css }}</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
<nav class="report-nav">{{ resources.report_nav }}</nav>
{%- endblock body_header -%}
{% block body_footer %}
<footer class="report-footer">{{ resources.report_footer }}</footer>
{{ super() }}
{% endblock body_footer %}
"""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.report-nav, .report-footer { max-width: 1100px; margin: 0.5em auto; padding: 0.4em 1em;
  font-size: 0.9em; color: #333; }
.report-nav a { margin-right: 1.5em; }
.report-footer { border-top: 1px solid #ccc; color: #555; }
main { max-width: 1100px; margin: 0 auto; }
table { border-collapse: collapse; }
.report-index h1 { font-size: 1.6em; }
.report-index table.meta td { padding: 0.15em 1em 0.15em 0; vertical-align: top; }
.report-index li { margin: 0.5em 0; }
.report-index .summary { color: #444; }
"""


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        extra_loaders=[DictLoader({"report_page.html.j2": _PAGE_TEMPLATE})],
        template_file="report_page.html.j2",
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        embed_images=True,
        # belt and braces: blank every URL the template knows, should a block come back
        require_js_url="", mathjax_url="", mermaid_js_url="", mermaid_layout_elk_js_url="",
        jquery_url="", jupyter_widgets_base_url="", widget_renderer_url="",
    )


def _title(nb, lang: str, fallback: str) -> str:
    meta = nb.metadata.get("report", {})
    if meta.get(f"title_{lang}"):
        return str(meta[f"title_{lang}"])
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if m:
                return m.group(1).strip()
    return fallback


def _summary(nb, lang: str) -> str:
    return str(nb.metadata.get("report", {}).get(f"summary_{lang}", ""))


def _nav(pages: list[dict], i: int | None, lang: str) -> str:
    links = [f'<a href="index.html">{html.escape(t("back_to_index", lang))}</a>']
    if i is not None:
        if i > 0:
            links.append(f'<a href="{pages[i - 1]["file"]}">&larr; {html.escape(pages[i - 1]["title"])}</a>')
        if i + 1 < len(pages):
            links.append(f'<a href="{pages[i + 1]["file"]}">{html.escape(pages[i + 1]["title"])} &rarr;</a>')
    return " ".join(links)


def _footer(rd: ReportData, k: int, lang: str) -> str:
    return html.escape(t("suppressed_note", lang, k=k, marker=disclosure.MARKER))


def _index_html(pages, rd: ReportData, inst, prov: dict, k: int, lang: str) -> str:
    e = html.escape
    src = rd.source
    data_desc = t("demo_data", lang) if src.get("kind") == "demo" else f'{t("user_data", lang)}: {src.get("name")}'
    title = getattr(inst, "title", None)
    inst_title = title.get(lang) if hasattr(title, "get") else str(title or "")
    rows = [
        (t("data_source", lang), f"{data_desc} (sha256 {str(src.get('sha256'))[:12]}…)"),
        (t("instrument", lang), f"{inst_title} — {getattr(inst, 'name', '?')} {getattr(inst, 'version', '?')}"),
        (t("n_raw", lang), f"{rd.n_raw:,}"),
        (t("n_respondents", lang), f"{len(rd.valid):,}"),
        (t("n_quarantined", lang), f"{len(rd.quarantine):,}"),
        (t("git_commit", lang), str(prov["git"]["commit"])),
    ]
    meta = "\n".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td></tr>" for a, b in rows)
    items = "\n".join(
        f'<li><a href="{p["file"]}">{e(p["title"])}</a>'
        + (f'<div class="summary">{e(p["summary"])}</div>' if p["summary"] else "") + "</li>"
        for p in pages)
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{e(t("report_title", lang))}</title>
<style type="text/css">{_CSS}</style>
</head>
<body class="report-index">
<main>
<h1>{e(t("report_title", lang))}</h1>
<table class="meta">
{meta}
</table>
<h2>{e(t("contents", lang))}</h2>
<ol class="contents">
{items}
</ol>
<h2>{e(t("provenance", lang))}</h2>
<p>{e(t("provenance_note", lang))} <a href="provenance.json">provenance.json</a></p>
</main>
<footer class="report-footer">{_footer(rd, k, lang)}</footer>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# provenance

def _git(root: Path) -> dict:
    try:
        inside = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                                capture_output=True, text=True, check=False)
    except OSError as err:  # git itself is not installed
        return {"commit": "unknown", "reason": f"git is not available ({err.strerror})"}
    if inside.returncode != 0 or Path(inside.stdout.strip()).resolve() != root.resolve():
        return {"commit": "unknown", "reason": f"{root} is not a git checkout (an installed package?)"}
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return {"commit": "unknown", "reason": f"git rev-parse HEAD failed: {head.stderr.strip()}"}
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                            capture_output=True, text=True, check=False)
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _versions() -> dict:
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    deps = {}
    try:
        requires = metadata.distribution(PACKAGE).requires or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s<>=!~\[;(]", req.strip(), maxsplit=1)[0]
        deps[name] = version(name)
    for name in ("ipykernel", "nbclient", "jupyter_client", "jinja2"):  # what runs the notebooks
        deps.setdefault(name, version(name))
    return {"package": {PACKAGE: version(PACKAGE)},
            "python": platform.python_version(),
            "dependencies": dict(sorted(deps.items(), key=lambda kv: kv[0].lower()))}


def provenance(rd: ReportData, inst, notebooks: list[Path], lang: str, k: int, seed: int) -> dict:
    """The provenance record of a report (JSON-serialisable, no timestamps)."""
    inst_source = getattr(inst, "source", None)
    inst_file = Path(inst_source) if inst_source else None
    return {
        "input": {**rd.source, "n_raw": rd.n_raw, "n_valid": len(rd.valid),
                  "n_quarantined": len(rd.quarantine)},
        "instrument": {"name": getattr(inst, "name", None), "version": getattr(inst, "version", None),
                       "file": inst_file.name if inst_file else None,
                       "sha256": file_sha256(inst_file) if inst_file and inst_file.is_file() else None},
        "git": _git(repo_root()),
        "software": _versions(),
        "seeds": {"report": seed, "demo": rd.source.get("seed")},
        "report": {"lang": lang, "disclosure_threshold_k": k,
                   "notebooks": [{"name": p.name, "sha256": file_sha256(p)} for p in notebooks]},
    }


# ---------------------------------------------------------------------------------------------
# checks on the finished pages

def check_offline(page: str, name: str = "page") -> None:
    """Fail if a page loads anything (script, style, image, font) from a remote address.

    >>> check_offline('<img src="data:image/png;base64,AAAA">')
    >>> check_offline('<script src="https://cdn.example/x.js"></script>')
    Traceback (most recent call last):
    ...
    surveydata.report.ReportError: page loads a remote resource: 'src="https://cdn.example/x.js"'
    """
    m = _REMOTE.search(page)
    if m:
        snippet = page[m.start(): m.end() + 30].split(">")[0]
        raise ReportError(f"{name} loads a remote resource: {snippet!r}")


def _free_text_values(data, inst) -> list[tuple[str, int, str]]:
    """(column, line, value) of every long free-text answer in the raw input."""
    raw, _, _ = raw_input(data, inst)
    out = []
    for col in disclosure.free_text_columns(inst, raw):
        values = raw[col].fillna("").astype(str).str.strip()
        long = values.str.len() >= _LEAK_MIN_CHARS
        lines = raw["line"] if "line" in raw else pd.Series(range(len(raw)))
        out += [(col, int(ln), v) for ln, v in zip(lines[long], values[long])]
    return out


def check_no_free_text(pages: dict[str, str], values) -> None:
    """Fail if any free-text answer appears in a page; the message never repeats the text."""
    for name, page in pages.items():
        text = html.unescape(page)
        for col, line, value in values:
            if value in text or html.escape(value) in page:
                raise ReportError(f"{name}: the free-text answer in column {col!r} of input line "
                                  f"{line} appears in the page; the report was not published")


# ---------------------------------------------------------------------------------------------
# the builder

def _log(progress, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def build_report(out, data=None, instrument=None, lang: str = "en", k: int = disclosure.DEFAULT_K,
                 seed: int = DEFAULT_SEED, notebooks_dir=None, jobs: int | None = None,
                 progress: bool = True, keep_executed=None) -> Path:
    """Build the report into ``out``; returns the path of ``index.html``.

    ``data``: a survey export (None: the demo); ``instrument``: its instrument (None: the
    packaged default); ``lang``: "de" or "en"; ``k``: disclosure threshold; ``jobs``: notebooks
    run at once (default: up to 2, one per core); ``keep_executed``: a directory to keep the
    executed notebooks in (they carry timestamps in their metadata, so not in ``out``).

    >>> build_report("report", lang="en")                  # doctest: +SKIP
    PosixPath('report/index.html')
    """
    import nbformat

    check_lang(lang)
    disclosure._check_k(k)
    out = Path(out)
    notebooks = find_notebooks(notebooks_dir)
    inst = instrument_of(instrument)
    # What the notebooks get: a file path (absolute: they run elsewhere), a packaged name, or None.
    if isinstance(instrument, (str, os.PathLike)) and Path(instrument).is_file():
        instrument_param = str(Path(instrument).resolve())
    elif isinstance(instrument, (str, os.PathLike)):
        instrument_param = str(instrument)
    elif instrument is not None:
        instrument_param = str(getattr(inst, "source", "")) or None
    else:
        instrument_param = None
    started = time.perf_counter()
    what = "the demo survey" if data is None else str(data)
    _log(progress, f"surveydata report: validating {what} against {inst.name} {inst.version} ...")
    rd = load_data(data, inst, lang)
    _log(progress, f"  {rd.n_raw} rows: {len(rd.valid)} valid, {len(rd.quarantine)} quarantined; "
                   f"free-text columns withheld: {', '.join(disclosure.free_text_columns(inst)) or 'none'}")
    if len(rd.valid) == 0:
        raise ReportError(f"{what}: no valid rows; see `surveydata validate` for the reasons")

    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("[0-9][0-9]_*.html"):
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="surveydata-report-") as tmp:
        tmp = Path(tmp)
        bundle = save_bundle(rd, tmp / "input")
        params = {"data": str(bundle), "instrument": instrument_param,
                  "lang": lang, "k_min": int(k), "seed": int(seed)}
        run_dir = tmp / "run"
        run_dir.mkdir()
        jobs = jobs or max(1, min(2, os.cpu_count() or 1, len(notebooks)))
        targets = [run_dir / p.name for p in notebooks]
        for p, target in zip(notebooks, targets):
            shutil.copyfile(p, target)  # papermill reads the copy: the repository stays untouched
        _log(progress, f"executing {len(notebooks)} notebooks ({jobs} at a time) ...")
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_execute, str(tg), str(tg), params, str(run_dir)): tg for tg in targets}
            for i, target in enumerate(targets, start=1):
                fut = next(f for f, tg in futures.items() if tg == target)
                try:
                    seconds = fut.result()
                except Exception as err:  # papermill's PapermillExecutionError and kernel deaths
                    for f in futures:
                        f.cancel()
                    raise ReportError(f"notebook {target.name} failed: {err}") from err
                _log(progress, f"  [{i}/{len(targets)}] {target.name} done in {seconds:.1f} s")
        if keep_executed is not None:
            keep = Path(keep_executed)
            keep.mkdir(parents=True, exist_ok=True)
            for target in targets:
                shutil.copyfile(target, keep / target.name)

        exporter = _exporter()
        executed = [nbformat.read(tg, as_version=4) for tg in targets]
        pages = [{"file": tg.with_suffix(".html").name, "title": _title(nb, lang, tg.stem),
                  "summary": _summary(nb, lang)} for tg, nb in zip(targets, executed)]
        written = {}
        for i, (nb, page) in enumerate(zip(executed, pages)):
            nb.metadata["title"] = page["title"]
            for cell in nb.cells:  # papermill gives its cell a random id: pages must not vary
                if "injected-parameters" in cell.metadata.get("tags", []):
                    cell["id"] = "injected-parameters"
            body, _ = exporter.from_notebook_node(nb, resources={
                "report_css": _CSS, "report_nav": _nav(pages, i, lang),
                "report_footer": _footer(rd, k, lang), "language_code": lang})
            written[page["file"]] = body

    prov = provenance(rd, inst, notebooks, lang, k, seed)
    written["index.html"] = _index_html(pages, rd, inst, prov, k, lang)
    for name, page in written.items():
        check_offline(page, name)
    check_no_free_text(written, _free_text_values(data, inst))
    for name, page in written.items():
        (out / name).write_text(page, encoding="utf-8")
    (out / "provenance.json").write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    _log(progress, f"report written to {out}/index.html ({len(pages)} pages) in "
                   f"{time.perf_counter() - started:.0f} s")
    return out / "index.html"


def execute_in_place(path, timeout: int = 600) -> Path:
    """Execute a notebook and store its outputs in the file itself (for committing).

    Runs with the notebook's default parameters in the notebook's own directory, records no
    execution timings (no timestamps in the file), and fails naming the cell that raised. This is
    how the committed notebooks get the outputs that nbval compares.

    >>> execute_in_place("notebooks/03_prevalence.ipynb")   # doctest: +SKIP
    PosixPath('notebooks/03_prevalence.ipynb')
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    try:
        client.execute()
    except CellExecutionError as err:
        raise ReportError(f"{path}: a cell failed: {err}") from err
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    nbformat.write(nb, path)
    return path
