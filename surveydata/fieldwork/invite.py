"""Invitations: one unguessable token per sampled unit, a mail-merge CSV and printable letters.

`invite(study, frame_path, out, db_url)` reads the frame of sampled units (CSV, one row per
unit, an id column - ``unit_id`` by default - and any frame variables; strata are the study's
design strata joined with "-" when the frame has them, else a ``stratum`` column), stores each
unit with the SHA-256 of a fresh token, and writes

``DIR/invitations.csv``  unit_id, token, url and the frame columns, for a mail merge. It is the
                         only place the tokens exist in clear (written with mode 0600).
``DIR/letters/<n>_<unit_id>.html``  a printable letter per unit (both languages).

Example:
    >>> import tempfile, pathlib
    >>> from surveydata.fieldwork.study import load
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "frame.csv").write_text("unit_id,region\\nA1,north\\nA2,south\\n")
    >>> res = invite(load(None), d / "frame.csv", d / "out", f"sqlite:///{d}/f.sqlite")
    >>> res.n, sorted(p.name for p in (d / "out" / "letters").iterdir())
    (2, ['0001_A1.html', '0002_A2.html'])
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from surveydata.errors import SurveyDataError
from surveydata.fieldwork import tokens
from surveydata.fieldwork.store import Store

__all__ = ["InviteError", "InviteResult", "invite", "read_frame"]


class InviteError(SurveyDataError):
    """A frame that cannot be used for invitations (names file, row, column and the fix)."""


@dataclass(frozen=True)
class InviteResult:
    n: int
    invitations: Path
    letters: Path


def read_frame(path: Path, id_column: str) -> tuple[list[str], list[dict]]:
    """The frame's header and rows (text), checked: id column present, ids unique and not
    empty."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InviteError(f"{path}: cannot read the frame ({err.strerror})") from None
    except UnicodeDecodeError:
        raise InviteError(f"{path}: not UTF-8 text; save the frame as CSV UTF-8") from None
    sample = text.split("\n", 1)[0]
    sep = max([",", ";", "\t"], key=sample.count)
    reader = csv.DictReader(text.splitlines(), delimiter=sep)
    header = [h.strip() for h in (reader.fieldnames or [])]
    if id_column not in header:
        raise InviteError(f"{path}: no column {id_column!r} (columns: {', '.join(header[:10])}); "
                          "name the unit id column with --id-column")
    rows, seen = [], {}
    for line, rec in enumerate(reader, start=2):
        rec = {k.strip(): (v or "").strip() for k, v in rec.items() if k is not None}
        uid = rec.get(id_column, "")
        if not uid:
            raise InviteError(f"{path}, line {line}, column {id_column}: empty unit id")
        if uid in seen:
            raise InviteError(f"{path}, line {line}, column {id_column}: unit id {uid!r} "
                              f"repeats line {seen[uid]}; each unit needs its own id")
        seen[uid] = line
        rows.append(rec)
    if not rows:
        raise InviteError(f"{path}: the frame has no units")
    return header, rows


def _stratum(rec: dict, strata: tuple[str, ...]) -> str | None:
    if strata and all(rec.get(s) for s in strata):
        return "-".join(rec[s] for s in strata)
    return rec.get("stratum") or None


def invite(study, frame_path, out, db_url: str, *, id_column: str = "unit_id",
           base_url: str = "http://127.0.0.1:8000", wave: int = 1) -> InviteResult:
    """Create tokens for every unit of the frame, store their hashes, write the files."""
    header, rows = read_frame(frame_path, id_column)
    out = Path(out)
    letters = out / "letters"
    letters.mkdir(parents=True, exist_ok=True)
    inv_path = out / "invitations.csv"
    if inv_path.exists():
        raise InviteError(f"{inv_path} exists: tokens are never overwritten; choose a new --out")
    base = base_url.rstrip("/")
    issued = [(rec, tokens.new_token()) for rec in rows]
    store = Store(db_url)
    try:
        store.add_units(study.name, [
            {"unit_key": rec[id_column], "token_hash": tokens.token_hash(tok),
             "stratum": _stratum(rec, study.strata),
             "frame": {k: v for k, v in rec.items() if k != id_column}}
            for rec, tok in issued], wave=wave)
    finally:
        store.dispose()
    fd = os.open(inv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        extra = [h for h in header if h != id_column]
        w.writerow(["unit_id", "token", "url", *extra])
        for rec, tok in issued:
            w.writerow([rec[id_column], tok, f"{base}/t/{tok}", *[rec.get(h, "") for h in extra]])
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    tpl = env.get_template("letter.html")
    for n, (rec, tok) in enumerate(issued, start=1):
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", rec[id_column])[:40]
        (letters / f"{n:04d}_{safe}.html").write_text(tpl.render(
            title_de=study.title("de"), title_en=study.title("en"), url=f"{base}/t/{tok}",
            home=f"{base}/", token=tok, unit=rec[id_column]), encoding="utf-8")
    return InviteResult(n=len(issued), invitations=inv_path, letters=letters)
