"""Export collected responses into the pipeline: the export the validator reads, and the frame.

`export_study(study, db_url, out)` writes into `out`:

``export.csv``
    one row per completed response, the instrument's columns in order (metadata first), raw
    codes, UTF-8, comma separated - exactly what `surveydata validate` reads. ``response_id`` is
    the response's random pseudonym; with ``pseudonymous=True`` (default) nothing in the export
    links it to a unit or token.
``frame.csv``
    one row per invited unit (its frame variables and stratum) with ``status`` (completed /
    broken_off / not_started), ``responded`` (1/0) and ``last_page`` (where a broken-off
    respondent stopped). With ``pseudonymous=False`` it also carries ``started_at``,
    ``completed_at``, ``device_class`` and ``response_id``, linking a unit to its answers; by
    default that link is cut (and nothing that could be joined to re-make it is written).
    Anonymous responses (no unit) are not in it.
``strata.csv``
    stratum, N_h, n_invited, n_responded (the layout of the design's strata file), when the
    units carry strata and the frame a column ``N_h`` (stratum population size).
``paradata.csv``
    one row per page submission: response_id, seq, page, submitted_at, page_seconds,
    device_class (never an IP address or a user agent).

Free-text answers are written verbatim (the export is data for the validator, not a
spreadsheet report; the validator's own outputs are neutralised against formula injection).

Example:
    >>> import tempfile, pathlib
    >>> from surveydata.fieldwork.study import load
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> sorted(export_study(load(None), f"sqlite:///{d}/x.sqlite", d / "out"))
    ['export', 'paradata']
"""
from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from surveydata.fieldwork.form import Questionnaire
from surveydata.fieldwork.store import Store

__all__ = ["completed_rows", "export_study", "write_csv"]


def _iso(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def write_csv(rows: list[dict], columns, path: Path) -> None:
    """Rows of dicts as UTF-8 CSV (None -> empty cell)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])


def completed_rows(store: Store, study_name: str, q: Questionnaire) -> list[dict]:
    """Export records of the completed responses, in order of completion."""
    by_response: dict[int, dict[int, dict]] = {}
    for s in store.submissions(study=study_name):
        by_response.setdefault(s["response_id"], {})[s["page"]] = s["answers"]
    rows = []
    done = sorted((r for r in store.responses(study_name) if r.completed_at is not None),
                  key=lambda r: (r.completed_at, r.id))
    for r in done:
        row, _, _ = q.assemble(by_response.get(r.id, {}))
        rows.append(q.export_row(row, r.response_key, r.started_at, r.completed_at))
    return rows


def export_study(study, db_url: str, out, pseudonymous: bool = True,
                 questionnaire: Questionnaire | None = None) -> dict[str, Path]:
    """Write export.csv, frame.csv (when units were invited), strata.csv (when they carry
    strata) and paradata.csv into `out`; returns {name: path}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = Store(db_url)
    try:
        q = questionnaire or Questionnaire(study.instrument)
        written = {}
        path = out / "export.csv"
        write_csv(completed_rows(store, study.name, q), q.inst.columns, path)
        written["export"] = path

        responses = store.responses(study.name)
        by_unit = {r.unit_id: r for r in responses if r.unit_id is not None}
        units = store.units(study.name)
        if units:
            frame_cols: list[str] = []
            for u in units:
                frame_cols += [c for c in u.frame if c not in frame_cols]
            rows = []
            for u in units:
                r = by_unit.get(u.id)
                status = ("not_started" if r is None else
                          "completed" if r.completed_at is not None else "broken_off")
                row = {"unit_id": u.unit_key, **u.frame, "stratum": u.stratum or "",
                       "wave": u.wave, "status": status,
                       "responded": int(status == "completed"),
                       "started_at": _iso(r.started_at) if r else "",
                       "completed_at": _iso(r.completed_at) if r else "",
                       "last_page": "" if r is None or r.last_page is None else
                       q.pages[r.last_page].name,
                       "device_class": r.device_class if r else ""}
                if not pseudonymous:
                    row["response_id"] = r.response_key if r else ""
                rows.append(row)
            # pseudonymous: no times or device in the frame, which could be joined with the
            # export's submitted_at / the paradata to re-link units and answers
            linking = [] if pseudonymous else ["started_at", "completed_at", "device_class",
                                               "response_id"]
            cols = ["unit_id", *[c for c in frame_cols if c not in ("unit_id", "stratum")],
                    "stratum", "wave", "status", "responded", "last_page", *linking]
            path = out / "frame.csv"
            write_csv(rows, cols, path)
            written["frame"] = path
            if any(u.stratum for u in units) and all("N_h" in u.frame for u in units):
                strata: dict[str, dict] = {}
                for row, u in zip(rows, units):
                    s = strata.setdefault(u.stratum or "", {"stratum": u.stratum or "",
                                                           "N_h": u.frame["N_h"],
                                                           "n_invited": 0, "n_responded": 0})
                    s["n_invited"] += 1
                    s["n_responded"] += row["responded"]
                cols = ["stratum", "N_h", "n_invited", "n_responded"]
                path = out / "strata.csv"
                write_csv([strata[k] for k in sorted(strata)], cols, path)
                written["strata"] = path
        keys = {r.id: r.response_key for r in responses}
        para = [{**s, "response_id": keys[s["response_id"]], "page": q.pages[s["page"]].name,
                 "submitted_at": _iso(s["submitted_at"]),
                 "page_seconds": round(s["page_seconds"] or 0.0, 2)}
                for s in store.submissions(study=study.name)]
        path = out / "paradata.csv"
        write_csv(para, ["response_id", "seq", "page", "submitted_at", "page_seconds",
                         "device_class"], path)
        written["paradata"] = path
        return written
    finally:
        store.dispose()
