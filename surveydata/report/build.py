"""The publishable report: run the study's notebooks on a dataset and write offline HTML.

``build_report(out)`` (and ``surveydata report --out DIR``) does, in order, for each edition
(one language per edition; ``lang="both"`` builds ``out/de`` and ``out/en``, linked):

1. load the study and the data (default: the embedded demo survey), validate the data and
   drop every free-text answer (:func:`load_data`): what the notebooks receive is a prepared
   bundle in a temporary directory, so free text never reaches a notebook, let alone an output;
2. execute copies of the study's notebooks with papermill (parameters ``data``,
   ``instrument``, ``lang``, ``k_min``, ``seed``), never touching the notebooks in the repository;
3. render each executed notebook as a page (`surveydata.report.html`): text, numbered tables
   and figures with captions, generated alt text and downloads (CSV per table, PNG and data per
   figure, an .xlsx per page), no code and no code output; one shared ``report.css``; a banner
   on every page when the data are simulated; no script or remote resource (pages open offline);
4. write the methods page (`surveydata.report.methods`), ``index.html`` (executive summary,
   key facts, contents, downloads: all tables as .xlsx, every plotted estimate as a tidy CSV),
   the codebook and ``provenance.json`` (input sha256, instrument, versions, git commit, seeds);
5. check every page (no free-text answer of the input, no remote resource), and only then
   publish: ``out`` is written as one transaction (`surveydata.outputs`), so a run that fails
   leaves the previous report as it was, and files in ``out`` the report did not write stay.

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
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError
from schemas.codebooks import codebook
from surveydata._safe_csv import neutralise_frame
from surveydata.errors import SurveyDataError
from surveydata.outputs import OutputError, OutputFolder, _refuse_links
from surveydata.report import disclosure, disclosure_audit, findings
from surveydata.report import html as report_html
from surveydata.report.data import (
    ReportData,
    file_sha256,
    load_data,
    raw_input,
    save_bundle,
    scale_numbers,
    study_notebooks,
    study_of,
    weighting,
)
from surveydata.report.html import Counter, shell
from surveydata.report.i18n import LANGS, check_lang, t
from surveydata.report.methods import methods_body

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
    return Path(__file__).resolve().parents[2]


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
    import papermill  # noqa: PLC0415 - the notebook runner loads only for a build

    log = Path(target).with_suffix(".kernel.log")
    os.environ["SURVEYDATA_REPORT_BUILD"] = "1"  # plots.REPORT_BUILD_ENV: phone variants of figures
    # the kernel records every count table it publishes here, for the disclosure audit
    os.environ[disclosure.RECORD_ENV] = str(Path(target).with_suffix(".disclosure.jsonl"))
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
    surveydata.report.build.ReportError: page loads a remote resource: 'src="https://cdn.example/x.js"'
    """
    m = _REMOTE.search(page)
    if m:
        snippet = page[m.start(): m.end() + 30].split(">")[0]
        raise ReportError(f"{name} loads a remote resource: {snippet!r}")


def _free_text_values(data, rd) -> list[tuple[str, int, str]]:
    """(column, line, value) of every long free-text answer in the raw input."""
    raw, _, _ = raw_input(data, rd.study)
    out = []
    for col in disclosure.free_text_columns(rd.instrument, raw):
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


def editions(lang) -> tuple[str, ...]:
    """The report languages asked for: "de", "en", "de,en", "both" or a sequence.

    >>> editions("both"), editions("de"), editions(["en", "de"])
    (('de', 'en'), ('de',), ('en', 'de'))
    """
    if isinstance(lang, str):
        items = ["de", "en"] if lang == "both" else [x.strip() for x in lang.split(",") if x.strip()]
    else:
        items = list(lang)
    if not items:
        raise ValueError("no report language given; expected de, en, de,en or both")
    for x in items:
        check_lang(x)
    return tuple(dict.fromkeys(items))


def _short_commit(prov: dict) -> str:
    commit = str(prov["git"].get("commit", "unknown"))
    short = commit[:10] if re.fullmatch(r"[0-9a-f]{40}", commit) else commit
    return short + (" (+)" if prov["git"].get("dirty") else "")


def _simulated(rd) -> bool:
    """Simulated data: the study says so, or the data are the embedded demo survey."""
    study = getattr(rd, "study", None)
    return bool(getattr(study, "simulated", False)) or rd.source.get("kind") == "demo"


def fieldwork_text(period, lang: str) -> str:
    """The fieldwork period of a study's meta (``{start, end, mode}`` or a text) as a phrase.

    >>> fieldwork_text({"start": "2023-03-01", "end": "2023-05-31", "mode": "online"}, "de")
    '2023-03-01 bis 2023-05-31 (online)'
    """
    if hasattr(period, "get") and not isinstance(period, str):
        start, end, mode = period.get("start"), period.get("end"), period.get("mode")
        if not start:
            return ""
        text = f"{start} {'bis' if lang == 'de' else 'to'} {end or '?'}"
        return text + (f" ({_localised(mode, lang)})" if mode else "")
    return _localised(period, lang)


def _localised(value, lang: str) -> str:
    """A declaration value that may be given per language ({de: ..., en: ...})."""
    if hasattr(value, "get") and not isinstance(value, str):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _study_title(rd, lang: str) -> str:
    title = getattr(rd, "title", None)
    try:
        text = title() if callable(title) else title
    except Exception:  # noqa: BLE001 - the report's generic title will do
        text = None
    return str(text) if text else t("report_title", lang)


@dataclass
class _Edition:
    """What the pages of one language edition share."""

    lang: str
    rd: object
    prov: dict
    k: int
    other: str | None  # the other edition's folder ("../en/") when both are built
    pages: list = field(default_factory=list)  # report_html.Page, in order

    @property
    def simulated(self) -> bool:
        return _simulated(self.rd)


def _nav(ed: _Edition, current: str) -> str:
    e = html.escape
    lang = ed.lang
    names = [p.file for p in ed.pages]
    links = []

    def link(href, text, rel=""):
        here = ' aria-current="page"' if href == current else ""
        extra = f' rel="{rel}"' if rel else ""
        links.append(f'<a href="{e(href)}"{here}{extra}>{text}</a>')

    link("index.html", e(t("contents", lang)))
    if current in names:
        i = names.index(current)
        if i > 0:
            link(names[i - 1], "&larr; " + e(t("previous_page", lang)), "prev")
        if i + 1 < len(names):
            link(names[i + 1], e(t("next_page", lang)) + " &rarr;", "next")
    link("methods.html", e(t("methods", lang)))
    link("codebook.html", e(t("codebook", lang)))
    if ed.other:
        other_lang = "en" if lang == "de" else "de"
        links.append(f'<a href="{e(ed.other + current)}" hreflang="{other_lang}" lang="{other_lang}">'
                     f'{e(t("other_edition", lang))}</a>')
    return "\n".join(links)


def _footer(ed: _Edition) -> str:
    e = html.escape
    lang, rd = ed.lang, ed.rd
    src = rd.source
    data_desc = (t("demo_data", lang) if src.get("kind") == "demo"
                 else f'{t("user_data", lang)}: {src.get("name")}')
    version = ed.prov["software"]["package"].get(PACKAGE, "?")
    return (f"<p>{e(t('data_source', lang))}: {e(data_desc)}. "
            f"{e(t('n_respondents', lang))}: {e(_int(len(rd.valid), lang))}.</p>"
            f"<p>{e(t('suppressed_note', lang, k=ed.k, marker=disclosure.MARKER))}</p>"
            f"<p>{e(t('generated_with', lang, package=PACKAGE, version=version))} "
            f'<span class="commit">{e(_short_commit(ed.prov))}</span></p>')


def _int(n, lang: str) -> str:
    text = f"{int(n):,}"
    return text.replace(",", ".") if lang == "de" else text


def _pct(x: float, lang: str) -> str:
    text = f"{100 * x:.1f}"
    return (text.replace(".", ",") + " %") if lang == "de" else text + "%"


def _page(ed: _Edition, file: str, title: str, body: str, body_class: str = "") -> str:
    banner = html.escape(t("simulated_banner", ed.lang)) if ed.simulated else ""
    return shell(f"{title} – {_study_title(ed.rd, ed.lang)}", body, ed.lang, _nav(ed, file),
                 _footer(ed), banner=banner, body_class=body_class)


def _summary_sentences(rd, k: int) -> list[str]:
    """The executive summary from surveydata.report.findings (H7a's sentences from the estimates)."""
    fn = getattr(findings, "executive_summary", None) or getattr(findings, "study_summary", None)
    if fn is None:
        return []

    try:
        result = fn(rd, k=k)
    except AnalysisError as err:
        # a statistical limitation of the data (a singular model on a small export, a design
        # that cannot be estimated): the index says so in a sentence, the other pages stand
        return [t("summary_failed", rd.lang, reason=" ".join(str(err).split()))]
    except Exception as err:  # anything else is a bug or a broken input: the report fails
        raise ReportError(f"the executive summary could not be written: {err}") from err
    if isinstance(result, str):
        return [result]
    return [getattr(f, "text", str(f)) for f in result]


def _index_html(ed: _Edition, downloads: dict[str, str]) -> str:
    e = html.escape
    lang, rd = ed.lang, ed.rd
    src = rd.source
    data_desc = (t("demo_data", lang) if src.get("kind") == "demo"
                 else f'{t("user_data", lang)}: {src.get("name")}')
    inst = rd.instrument
    title = getattr(inst, "title", None)
    inst_title = title.get(lang) if hasattr(title, "get") else str(title or "")
    facts = [
        (t("data_source", lang), f"{data_desc} (sha256 {str(src.get('sha256'))[:12]}…)"),
        (t("instrument", lang), f"{inst_title} — {getattr(inst, 'name', '?')} {getattr(inst, 'version', '?')}"),
        (t("n_raw", lang), _int(rd.n_raw, lang)),
        (t("n_respondents", lang), _int(len(rd.valid), lang)),
        (t("n_quarantined", lang), _int(len(rd.quarantine), lang)),
    ]
    rate = _response_rate(rd)
    if rate is not None:
        facts.append((t("response_rate_total", lang), _pct(rate, lang)))
    period = fieldwork_text(_meta(rd, "fieldwork"), lang)
    if period:
        facts.append((t("m_fieldwork", lang), period))
    facts_html = "\n".join(f"<dt>{e(a)}</dt><dd>{e(b)}</dd>" for a, b in facts)
    facts_html += (f'\n<dt>{e(t("git_commit", lang))}</dt>'
                   f'<dd class="commit">{e(_short_commit(ed.prov))}</dd>')
    summary = _summary_sentences(rd, ed.k)
    summary_html = ""
    if summary:
        summary_html = (f'<h2 id="summary">{e(t("executive_summary", lang))}</h2>\n<ul class="findings">'
                        + "".join(f"<li>{e(x)}</li>" for x in summary) + "</ul>")
    items = []
    for p in ed.pages:
        items.append(f'<li><a href="{e(p.file)}">{e(p.title)}</a>'
                     + (f'<div class="summary">{e(p.summary)}</div>' if getattr(p, "summary", "") else "")
                     + "</li>")
    items.append(f'<li><a href="methods.html">{e(t("methods", lang))}</a></li>')
    items.append(f'<li><a href="codebook.html">{e(t("codebook", lang))}</a></li>')
    dl = "".join(f'<li><a href="{e(href)}" download>{e(text)}</a></li>' for href, text in downloads.items())
    body = f"""<h1>{e(_study_title(rd, lang))}</h1>
{summary_html}
<h2 id="key-facts">{e(t("key_facts", lang))}</h2>
<dl class="facts">
{facts_html}
</dl>
<h2 id="contents">{e(t("contents", lang))}</h2>
<ol class="contents">
{"".join(items)}
</ol>
<h2 id="downloads">{e(t("downloads", lang))}</h2>
<ul>{dl}</ul>
<h2 id="provenance">{e(t("provenance", lang))}</h2>
<p>{e(t("provenance_note", lang))} <a href="provenance.json">provenance.json</a></p>"""
    return _page(ed, "index.html", t("contents", lang), body, body_class="report-index")


def _meta(rd, key: str):
    meta = getattr(getattr(rd, "study", None), "meta", None) or {}
    try:
        return meta.get(key)
    except AttributeError:
        return None


def _response_rate(rd) -> float | None:
    strata = getattr(rd, "strata", None)
    if strata is None or "n_invited" not in strata or "n_valid" not in strata:
        return None
    invited = float(strata["n_invited"].sum())
    return float(strata["n_valid"].sum()) / invited if invited > 0 else None


def _run_notebooks(notebooks: list[Path], params: dict, run_dir: Path, jobs: int, progress) -> list[Path]:
    targets = [run_dir / p.name for p in notebooks]
    for p, target in zip(notebooks, targets):
        shutil.copyfile(p, target)  # papermill reads the copy: the repository stays untouched
    _log(progress, f"executing {len(notebooks)} notebooks ({jobs} at a time, {params['lang']}) ...")
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
    return targets


def _plain_title(title: str) -> str:
    """A page title without a leading number (the index numbers the pages)."""
    return re.sub(r"^\s*\d+[.)]?\s+", "", title).strip() or title


def _edition_files(ed: _Edition, executed: list, counter, inst) -> dict[str, bytes]:
    """Every file of one edition: pages, methods, index, codebook, stylesheet, downloads."""

    lang = ed.lang
    files: dict[str, bytes] = {}
    for path, nb in executed:
        title = _plain_title(_title(nb, lang, path.stem))
        page = report_html.render_notebook(nb, path.with_suffix(".html").name, title, lang, counter)
        page.summary = _summary(nb, lang)
        ed.pages.append(page)
    methods = methods_body(ed.rd, ed.prov, lang, ed.k, counter)
    all_tables, estimates = [], []
    for page in ed.pages + [methods]:
        stem = Path(page.file).stem
        for tab in page.tables:
            files[tab.csv_name] = tab.csv_bytes(lang)
            all_tables.append(tab)
        for fig in page.figures:
            files.update(fig.files())
            if fig.csv_name:
                files[fig.csv_name] = report_html.figure_csv(fig)
            estimates += [{"page": page.file, "figure": fig.number, "caption": fig.caption, **rec}
                          for rec in fig.data]
        body = page.body
        if page.tables:
            name = f"downloads/{stem}-tables.xlsx"
            files[name] = report_html.xlsx_bytes(page.tables, lang)
            body += (f'\n<p class="downloads">{html.escape(t("download", lang))}: '
                     f'<a href="{name}" download>{html.escape(t("page_tables_xlsx", lang))}</a></p>')
        files[page.file] = _page(ed, page.file, page.title, body).encode("utf-8")
    downloads = {}
    if all_tables:
        files["downloads/tables.xlsx"] = report_html.xlsx_bytes(all_tables, lang)
        downloads["downloads/tables.xlsx"] = t("all_tables_xlsx", lang)
    if estimates:
        cols = ["page", "figure", "caption", "series", "row", "estimate", "ci_low", "ci_high", "unit"]
        frame = pd.DataFrame(estimates, columns=cols)

        files["downloads/estimates.csv"] = neutralise_frame(frame).to_csv(
            index=False, lineterminator="\r\n").encode("utf-8")
        downloads["downloads/estimates.csv"] = t("estimates_csv", lang)
    files["index.html"] = _index_html(ed, downloads).encode("utf-8")
    files["report.css"] = report_html.stylesheet().encode("utf-8")
    files["codebook.html"] = _codebook_page(ed, inst).encode("utf-8")
    return files


def _codebook_page(ed: _Edition, inst) -> str:
    """The edition's codebook: the study's (its analysis variables and scales, with alpha and
    omega computed on the report's data and final weights), else the instrument's."""

    lang = ed.lang
    study = getattr(ed.rd, "study", None)
    if study is not None and hasattr(study, "instrument"):
        page = codebook(study, lang=lang, fmt="html",
                        reliability=scale_numbers(ed.rd, weighting(ed.rd).final))
    else:
        page = codebook(inst, lang=lang, fmt="html")
    back = (f'<nav aria-label="{html.escape(t("report_navigation", lang))}" style="margin:0 0 1rem">'
            f'<a href="index.html">{html.escape(t("contents", lang))}</a> · '
            f'<a href="methods.html">{html.escape(t("methods", lang))}</a></nav>')
    return page.replace("<body>", "<body>" + back, 1)


def _chooser(langs: tuple[str, ...], title_by_lang: dict[str, str]) -> str:
    """The folder's own index when several editions are built: one link per edition."""
    e = html.escape
    names = {"de": "Deutsch", "en": "English"}
    items = "".join(f'<li><a href="{lg}/index.html" hreflang="{lg}" lang="{lg}">'
                    f'{e(names[lg])}: {e(title_by_lang[lg])}</a></li>' for lg in langs)
    return f"""<!DOCTYPE html>
<html lang="{langs[0]}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title_by_lang[langs[0]])}</title><link rel="stylesheet" href="{langs[0]}/report.css"></head>
<body><main id="main"><h1>{e(title_by_lang[langs[0]])}</h1><ul>{items}</ul></main></body>
</html>
"""


def _study_languages(study) -> tuple[str, ...]:
    """The report languages a study declares (those the report has texts for), in its order."""

    declared = [x for x in (getattr(study, "languages", None) or ()) if x in LANGS]
    return tuple(declared) or ("en",)


def _check_out(out: Path) -> None:
    """The checks `surveydata.outputs.OutputFolder` makes on entering, made before any work:
    ``out`` is no symbolic link and holds none (outputs are never written through links)."""

    if out.is_symlink():
        raise OutputError(out, f"is a symbolic link (to {os.readlink(out)}); outputs are never "
                          "written through links: pass the folder it points to")
    if out.exists() and not out.is_dir():
        raise OutputError(out, "exists and is not a folder: choose another --out")
    if out.is_dir():
        _refuse_links(out)


def build_report(out, data=None, instrument=None, lang=None, k: int = disclosure.DEFAULT_K,
                 seed: int = DEFAULT_SEED, notebooks_dir=None, jobs: int | None = None,
                 progress: bool = True, keep_executed=None, study=None) -> Path:
    """Build the report into ``out``; returns the path of ``index.html``.

    ``data``: a survey export (None: the demo); ``study``: its study declaration (None: the
    packaged default), or ``instrument`` alone; ``lang``: "de", "en", or both ("both",
    "de,en": one folder per edition, ``out/de/`` and ``out/en/``, linked to each other, and a
    chooser ``out/index.html``); None (default): every language the study declares (the
    packaged study: both editions); ``k``: disclosure threshold; ``jobs``: notebooks run at once
    (default: up to 2, one per core); ``keep_executed``: a directory to keep the executed
    notebooks in (they carry timestamps in their metadata, so not in ``out``).

    ``out`` is written as one transaction (`surveydata.outputs`): everything is built in a
    sibling folder first and swapped into place; a run that fails leaves the previous report
    as it was, and files in ``out`` that the report did not write are kept.

    >>> build_report("report", lang="en")                  # doctest: +SKIP
    PosixPath('report/index.html')
    """
    import nbformat  # noqa: PLC0415 - the notebook stack loads only where notebooks are read


    declared = study_of(study, instrument)  # loaded once: a declaration takes seconds to read
    langs = editions(lang if lang is not None else _study_languages(declared))
    disclosure._check_k(k)
    out = Path(out)
    _check_out(out)  # a folder the report cannot be written to fails now, not after the notebooks

    # the generic pages the study has something for, plus its extra pages; notebooks given
    # explicitly (``notebooks_dir``) are the report's pages as they are
    notebooks = (find_notebooks(notebooks_dir) if notebooks_dir is not None
                 else study_notebooks(declared) or find_notebooks())
    started = time.perf_counter()
    what = "the demo survey" if data is None else str(data)
    loaded = {}
    for lg in langs:
        loaded[lg] = load_data(data, study=study, lang=lg, instrument=instrument)
    rd0 = loaded[langs[0]]
    inst = rd0.instrument
    _log(progress, f"surveydata report: {what}: {rd0.n_raw} rows: {len(rd0.valid)} valid, "
                   f"{len(rd0.quarantine)} quarantined; free-text columns withheld: "
                   f"{', '.join(disclosure.free_text_columns(inst)) or 'none'}")
    if len(rd0.valid) == 0:
        raise ReportError(f"{what}: no valid rows; see `surveydata validate` for the reasons")
    study_param = str(Path(study).resolve()) if isinstance(study, (str, os.PathLike)) else None
    if isinstance(instrument, (str, os.PathLike)) and Path(instrument).is_file():
        instrument_param = str(Path(instrument).resolve())
    elif isinstance(instrument, (str, os.PathLike)):
        instrument_param = str(instrument)
    else:
        instrument_param = None
    files: dict[str, bytes] = {}
    titles = {}

    with tempfile.TemporaryDirectory(prefix="surveydata-report-") as tmp:
        tmp = Path(tmp)
        for lg in langs:
            rd = loaded[lg]
            bundle = save_bundle(rd, tmp / f"input-{lg}")
            params = {"data": str(bundle), "instrument": instrument_param, "lang": lg,
                      "k_min": int(k), "seed": int(seed)}
            if study_param:
                params["study"] = study_param
            run_dir = tmp / f"run-{lg}"
            run_dir.mkdir()
            n_jobs = jobs or max(1, min(2, os.cpu_count() or 1, len(notebooks)))
            targets = _run_notebooks(notebooks, params, run_dir, n_jobs, progress)
            if keep_executed is not None:
                keep = Path(keep_executed) / lg if len(langs) > 1 else Path(keep_executed)
                keep.mkdir(parents=True, exist_ok=True)
                for target in targets:
                    shutil.copyfile(target, keep / target.name)
            executed = [(tg, nbformat.read(tg, as_version=4)) for tg in targets]
            # every published count table of this edition, attacked together; refuses the
            # report (nothing is swapped into place) if a suppressed cell is not protected
            policy = disclosure.DisclosurePolicy.from_any(getattr(declared, "disclosure", None), k=k)
            audit = disclosure_audit.audit_directory(run_dir, policy)
            audit.raise_if_failed()
            prov = provenance(rd, inst, notebooks, lg, k, seed)
            other = None
            if len(langs) > 1:
                other = f"../{next(x for x in langs if x != lg)}/"
            ed = _Edition(lang=lg, rd=rd, prov=prov, k=k, other=other)
            prefix = f"{lg}/" if len(langs) > 1 else ""
            for name, data_bytes in _edition_files(ed, executed, Counter(), inst).items():
                files[prefix + name] = data_bytes
            files[prefix + "provenance.json"] = (json.dumps(prov, indent=2, ensure_ascii=False)
                                                 + "\n").encode("utf-8")
            files[prefix + disclosure_audit.REPORT_FILE] = audit.to_json().encode("utf-8")
            titles[lg] = _study_title(rd, lg)
    if len(langs) > 1:
        files["index.html"] = _chooser(langs, titles).encode("utf-8")

    pages = {name: b.decode("utf-8") for name, b in files.items() if name.endswith(".html")}
    for name, page in pages.items():
        check_offline(page, name)
    check_no_free_text(pages, _free_text_values(data, rd0))
    with OutputFolder(out, command="report", remove_stale=True) as tx:
        for name, data_bytes in sorted(files.items()):
            tx.write_bytes(name, data_bytes)
    _log(progress, f"report written to {out}/index.html ({len(langs)} edition(s), "
                   f"{sum(n.endswith('.html') for n in files)} pages) in "
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
    import nbformat  # noqa: PLC0415 - the notebook stack loads only where notebooks are read
    from nbclient import NotebookClient  # noqa: PLC0415 - the notebook stack loads only for a build
    from nbclient.exceptions import CellExecutionError  # noqa: PLC0415 - likewise

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
