"""Validation speed: `surveydata.validate` against the same checks as plain pandas masks.

1,000,000 responses of the practice_security instrument as text (what `read_export` returns),
with 0.1 % bad rows of several kinds (invalid code, text in an integer item, skip-logic breach,
hard cross-item rule, exact duplicate, shared response_id). Both sides start from the same text
frame and parse it the same way (`surveydata.validate._parse`); then

* ``validate``: pandera lazy validation of the instrument's schema, failure cases mapped to
  per-row reasons, duplicates, quarantine, flags and report: the complete failure report;
* ``masks``: `schemas.response.check_masks` (every hard check and not-null as a boolean
  mask), duplicate detection by ``duplicated``, and the rows failing any mask.

Median of 3 runs each (alternating). Parsing the text (shared by both sides) is also timed
once, to give the ratio of the checks alone. Writes benchmarks/validation_results.json.

Run: ``.venv/bin/python -m benchmarks.bench_validation [--rows 1000000]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.export_factory

import schemas
from schemas.response import check_masks
from surveydata import validate
from surveydata.validate import _parse
from tests.export_factory import to_text, valid_coded

BAD_SHARE = 0.001


def make_raw(inst, n: int, seed: int = 2026) -> tuple[pd.DataFrame, int]:
    """n text rows: a valid block of 5,000 tiled, unique ids, then a known set of bad rows."""
    block = to_text(valid_coded(inst, 5000, seed=seed))
    reps = -(-n // len(block))
    raw = pd.concat([block] * reps, ignore_index=True).iloc[:n].reset_index(drop=True)
    raw["response_id"] = pd.array([f"r{i:07d}" for i in range(n)], dtype="str")
    rng = np.random.default_rng(seed)
    n_bad = int(n * BAD_SHARE)
    rows = rng.choice(n - 1, size=n_bad, replace=False)
    kinds = np.arange(n_bad) % 6
    col = {c: raw[c].to_numpy(dtype=object).copy() for c in
           ("practice_form", "n_physicians", "large_devices", "practice_type", "n_persons_data",
            "response_id")}
    col["practice_form"][rows[kinds == 0]] = "7"
    col["n_physicians"][rows[kinds == 1]] = "3,5"
    r2 = rows[kinds == 2]
    col["practice_type"][r2], col["large_devices"][r2] = "1", "1"
    r3 = rows[kinds == 3]
    col["n_physicians"][r3], col["n_persons_data"][r3] = "9", "2"
    r5 = rows[kinds == 5]
    col["response_id"][r5] = col["response_id"][r5 + 1]  # same id, different content
    for c, v in col.items():
        raw[c] = pd.array(v, dtype="str")
    r4 = rows[kinds == 4]  # exact copies of earlier rows (after the other edits)
    raw.iloc[r4] = raw.iloc[np.maximum(r4 - 1, 0)].to_numpy()
    raw.insert(0, "line", np.arange(2, n + 2, dtype=np.int64))
    return raw, n_bad


def masks(raw: pd.DataFrame, inst) -> np.ndarray:
    """The same checks as plain pandas masks: rows that fail anything."""
    coded, parse_fails = _parse(raw, inst)
    bad = np.zeros(len(raw), dtype=bool)
    for f in parse_fails:
        bad[f["row"].to_numpy()] = True
    for ok in check_masks(coded, inst).values():
        bad |= ~ok.to_numpy(dtype=bool)
    # duplicates as validate finds them, in plain pandas: exact copies share the response_id,
    # so only records with a repeated id are compared on every column; the remaining records
    # that still share an id are all rejected
    data = [c for c in raw.columns if c != "line"]
    shared = raw["response_id"].duplicated(keep=False).to_numpy()
    copy = np.zeros(len(raw), dtype=bool)
    copy[shared] = raw.loc[shared, data].duplicated(keep="first").to_numpy()
    conflict = np.zeros(len(raw), dtype=bool)
    conflict[~copy] = raw["response_id"].str.strip()[~copy].duplicated(keep=False).to_numpy()
    bad |= copy | conflict
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "validation_results.json"))
    ap.add_argument("--read", action="store_true",
                    help="also time read_export of the rows written as a semicolon CSV "
                         "(benchmarks/data/, git-ignored)")
    args = ap.parse_args(argv)
    inst = schemas.load_instrument()
    t0 = time.perf_counter()
    raw, n_bad = make_raw(inst, args.rows)
    print(f"built {len(raw):,} rows x {raw.shape[1]} columns in {time.perf_counter() - t0:.1f} s")
    t_val, t_mask = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = validate(raw, inst)
        t_val.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bad = masks(raw, inst)
        t_mask.append(time.perf_counter() - t0)
        print(f"validate {t_val[-1]:.2f} s   masks {t_mask[-1]:.2f} s")
    t0 = time.perf_counter()
    _parse(raw, inst)
    t_parse = time.perf_counter() - t0  # shared by both sides: text -> coded frame
    t_read = None
    if args.read:
        from surveydata import read_export
        from tests.export_factory import to_csv_bytes

        path = ROOT / "benchmarks" / "data" / f"validation_{len(raw)}.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(to_csv_bytes(raw.drop(columns="line"), sep=";"))
        t0 = time.perf_counter()
        back = read_export(path, inst)
        t_read = round(time.perf_counter() - t0, 3)
        assert len(back) == len(raw)
        print(f"read_export {t_read:.2f} s ({path.stat().st_size / 1e6:.0f} MB)")
    r = res.report
    assert r["n_raw"] == r["n_valid"] + r["n_quarantined"] == len(raw)
    assert r["n_quarantined"] == int(bad.sum()), (r["n_quarantined"], int(bad.sum()))
    result = {
        "rows": len(raw), "columns": int(raw.shape[1] - 1), "bad_rows_planted": n_bad,
        "n_quarantined": r["n_quarantined"], "n_failures": r["n_failures"],
        "failures_by_rule": r["failures_by_rule"],
        "validate_s_median": round(statistics.median(t_val), 3),
        "masks_s_median": round(statistics.median(t_mask), 3),
        "ratio": round(statistics.median(t_val) / statistics.median(t_mask), 2),
        "parse_s_once": round(t_parse, 3),
        "ratio_without_shared_parse": round(
            (statistics.median(t_val) - t_parse) / (statistics.median(t_mask) - t_parse), 2),
        "validate_s_runs": [round(t, 3) for t in t_val],
        "masks_s_runs": [round(t, 3) for t in t_mask],
        "read_export_s": t_read,
        "load_average_1_5_15min_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(), "pandas": pd.__version__,
        "pandera": __import__("pandera").__version__, "machine": platform.machine(),
    }
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
