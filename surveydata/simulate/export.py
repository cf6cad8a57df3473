"""Stage 3: the file a survey platform would export, in German Excel conventions, with planted errors.

Format: semicolon-separated, Windows-1252, CRLF line ends, decimal comma in the duration, ISO
8601 submission time (the instrument's metadata of types number and datetime), codes as
integers, multi-choice columns ``<var>__<option>`` (0/1, -7, -9), empty cells for empty free
text. Rows are in order of submission.

Planted errors: ``round(error_rate * n_respondents)`` distinct respondents each get exactly one
error, split over the kinds in ``ERROR_SHARES``; every planted error is recorded (response_id ->
kind, column, value written, original value, what a validator must do with it):

``invalid_code``          a single/Likert item or a multi option gets a code outside its code list
``skip_logic``            an item answered although its filter excluded it, or -7 although asked
``bad_integer``           an integer item holds "2,5", "ca. 10", "10 Personen" or a value above its maximum
``duplicate_row``         an exact copy of the record is inserted (the validator keeps the first)
``duplicate_response_id`` a second, different record with the same response_id (both rejected)
``speeder``               a duration below a third of the median: flagged, not rejected

Clean durations are lognormal (median 900 s) truncated below at 450 s, so no clean respondent is
a speeder; planted speeders take 60-240 s.

>>> from surveydata.simulate import simulate_population, draw_sample
>>> e = make_export(draw_sample(simulate_population(1), seed=2), seed=3, error_rate=0.05)
>>> e.text.splitlines()[0].split(";")[:3]
['response_id', 'submitted_at', 'duration_s']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from schemas import load_instrument
from schemas.populations import largest_remainder

ERROR_SHARES = {"invalid_code": 0.25, "skip_logic": 0.20, "bad_integer": 0.15, "duplicate_row": 0.10,
                "duplicate_response_id": 0.10, "speeder": 0.20}
QUARANTINED = ("invalid_code", "skip_logic", "bad_integer", "duplicate_row", "duplicate_response_id")
FIELD_START = np.datetime64("2026-02-02T00:00:00")
FIELD_DAYS = 54
ENCODING = "cp1252"


@dataclass
class Export:
    """A simulated export: ``frame`` (every cell as text, in file order), ``planted`` errors."""

    frame: pd.DataFrame
    planted: dict
    seed: int
    error_rate: float

    @property
    def text(self) -> str:
        """The CSV text (semicolon, CRLF)."""
        return self.frame.to_csv(sep=";", index=False, lineterminator="\r\n")

    def to_bytes(self) -> bytes:
        """The file's bytes in Windows-1252 (raises if a character has no Windows-1252 code)."""
        return self.text.encode(ENCODING)

    def write(self, path) -> Path:
        """Write the export file; returns its path."""
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path


def make_export(sample, seed: int, error_rate: float = 0.05, instrument=None) -> Export:
    """Turn a `Sample` into the platform's export text and plant errors with known response_ids.

    >>> from surveydata.simulate import simulate_population, draw_sample
    >>> e = make_export(draw_sample(simulate_population(1), seed=2), seed=3, error_rate=0.0)
    >>> e.planted
    {}
    """
    if not 0.0 <= error_rate <= 0.5:
        raise ValueError(f"error_rate must be between 0 and 0.5, got {error_rate}")
    inst = instrument or load_instrument()
    rng = np.random.default_rng(seed)
    resp = sample.respondents
    n = len(resp)

    id_col, time_col, duration_col = _metadata(inst)
    ids = np.array([f"R{i:07d}" for i in rng.choice(10**7, size=n, replace=False)], dtype=object)
    seconds = rng.integers(0, FIELD_DAYS * 86400, size=n)
    submitted = FIELD_START + seconds.astype("timedelta64[s]")
    duration = np.maximum(450.0, np.exp(np.log(900.0) + 0.35 * rng.standard_normal(n)))
    columns = [c for c in inst.columns if c not in (id_col, time_col, duration_col)]
    text = {id_col: ids,
            time_col: np.datetime_as_string(submitted, unit="s"),
            duration_col: _decimal_comma(duration)}
    for c in columns:
        text[c] = _as_text(resp[c])
    frame = pd.DataFrame(text, columns=[id_col, time_col, duration_col, *columns])

    counts = largest_remainder(round(error_rate * n), np.array(list(ERROR_SHARES.values()))) if error_rate > 0 else \
        np.zeros(len(ERROR_SHARES), dtype=np.int64)
    rows = rng.permutation(n)
    planted, extra = {}, []
    pos = 0
    for kind, k in zip(ERROR_SHARES, counts):
        for r in rows[pos:pos + k]:
            rec = _PLANT[kind](frame, int(r), resp, inst, rng)
            if "row" in rec:
                extra.append(rec.pop("row"))
            rec["expected"] = "quarantine" if kind in QUARANTINED else "flag"
            planted[frame.at[int(r), id_col]] = {"kind": kind, **rec}
        pos += k
    if extra:
        frame = pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True)
    order = np.lexsort((frame[id_col].to_numpy().astype(str), frame[time_col].to_numpy().astype(str)))
    frame = frame.iloc[order].reset_index(drop=True)
    planted = dict(sorted(planted.items()))
    return Export(frame=frame, planted=planted, seed=int(seed), error_rate=float(error_rate))


def _metadata(inst) -> tuple[str, str, str]:
    """The instrument's id, submission time and duration columns (metadata of type id, datetime
    and number): this export writes all three."""
    by_type = {}
    for m in inst.metadata:
        by_type.setdefault(m.type, m.var)
    missing = [t for t in ("id", "datetime", "number") if t not in by_type]
    if missing:
        raise ValueError(f"instrument {inst.name!r} declares no metadata of type {missing[0]}; this export "
                         "needs an id, a submission time and a duration (use generic.simulate_responses)")
    return by_type["id"], by_type["datetime"], by_type["number"]


def _decimal_comma(x: np.ndarray) -> np.ndarray:
    return np.char.replace(np.char.mod("%.1f", np.round(x, 1)), ".", ",").astype(object)


def _as_text(col: pd.Series) -> np.ndarray:
    if col.dtype.kind in "iu":
        return col.to_numpy().astype(str).astype(object)
    return col.astype(object).where(col.notna(), "").to_numpy().astype(str).astype(object)


# --------------------------------------------------------------------------- planted errors

def _coded_items(inst, types=("single", "likert5")):
    return [it for it in inst.items if it.type in types and not it.string_codes]


def _plant_invalid_code(frame, r, resp, inst, rng):
    candidates = [it for it in _coded_items(inst) if resp.at[r, it.var] != it.not_applicable]
    multi = [c for it in inst.items if it.type == "multi" for c in it.columns if resp.at[r, c] in (0, 1)]
    if rng.random() < 0.2 and multi:
        col = multi[rng.integers(len(multi))]
        value = "2"
    else:
        item = candidates[rng.integers(len(candidates))]
        col = item.var
        value = str(max(c for c in item.codes if isinstance(c, int)) + 1 + int(rng.integers(0, 3)))
    original = frame.at[r, col]
    frame.at[r, col] = value
    return {"column": col, "value": value, "original": original}


def _plant_skip_logic(frame, r, resp, inst, rng):
    candidates = [it for it in _coded_items(inst) if it.ask_if is not None]
    item = candidates[rng.integers(len(candidates))]
    original = frame.at[r, item.var]
    na = item.not_applicable
    if resp.at[r, item.var] == na:      # answered although the filter excluded it
        subs = item.substantive_codes
        value = str(subs[rng.integers(len(subs))])
        what = "answered although not asked"
    else:                               # marked not applicable although asked
        value = str(na)
        what = f"{na} although asked"
    frame.at[r, item.var] = value
    return {"column": item.var, "value": value, "original": original, "detail": what}


def _plant_bad_integer(frame, r, resp, inst, rng):
    items = [it for it in inst.items if it.type == "integer" and resp.at[r, it.var] > 0]
    item = items[rng.integers(len(items))]
    v = int(resp.at[r, item.var])
    variant = int(rng.integers(4))
    value = [f"{v},5", f"ca. {v}", f"{v} Personen", str(item.max + 1 + int(rng.integers(0, 50)))][variant]
    original = frame.at[r, item.var]
    frame.at[r, item.var] = value
    return {"column": item.var, "value": value, "original": original}


def _plant_duplicate_row(frame, r, _resp, _inst, _rng):   # one signature for every planter
    return {"column": None, "value": None, "original": None, "row": frame.iloc[r].tolist(),
            "detail": "exact copy of the record"}


def _plant_duplicate_response_id(frame, r, resp, inst, rng):
    copy = frame.iloc[r].copy()
    # another answer to a rating item (likert5 first; else any coded item), the next code in turn
    items = [it for it in inst.items if it.type == "likert5"] or _coded_items(inst, ("single", "scale", "likert5"))
    rated = [it for it in items if resp.at[r, it.var] in it.substantive_codes and len(it.substantive_codes) > 1]
    item = rated[rng.integers(len(rated))]
    col = item.var
    codes = list(item.substantive_codes)
    old = int(resp.at[r, col])
    new = codes[(codes.index(old) + 1) % len(codes)]
    copy[col] = str(new)
    _, time_col, _ = _metadata(inst)
    later = np.datetime64(frame.at[r, time_col]) + np.timedelta64(int(rng.integers(600, 86400)), "s")
    copy[time_col] = str(later)
    return {"column": col, "value": str(new), "original": str(old), "row": copy.tolist(),
            "detail": "second record with the same response_id and a different answer"}


def _plant_speeder(frame, r, _resp, inst, rng):
    value = _decimal_comma(np.array([rng.uniform(60.0, 240.0)]))[0]
    _, _, duration_col = _metadata(inst)
    original = frame.at[r, duration_col]
    frame.at[r, duration_col] = value
    return {"column": duration_col, "value": value, "original": original}


_PLANT = {"invalid_code": _plant_invalid_code, "skip_logic": _plant_skip_logic, "bad_integer": _plant_bad_integer,
          "duplicate_row": _plant_duplicate_row, "duplicate_response_id": _plant_duplicate_response_id,
          "speeder": _plant_speeder}
