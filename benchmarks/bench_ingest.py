"""Ingestion at scale: ``surveydata validate EXPORT --out DIR`` on 250 MB and 1 GB exports.

Each export is a CSV of the practice_security instrument (104 columns, ~270 bytes a record):
a block of 5,000 valid responses (tests/export_factory.py) tiled with unique ids, with 0.1 %
planted problems (a code out of range, text in an integer item, an exact duplicate record, a
shared response_id with different content, both far apart in the file so that duplicates
cross the pieces). The command runs in a fresh process (reading in pieces, three passes over
the file: ids, duplicate candidates, validation) and is measured from outside:

* seconds (wall), rows/s, and the process's peak resident memory (``ru_maxrss`` of ``wait4``:
  the whole process, imports and reading included);
* the in-memory size of the input: the all-text frame ``read_export`` gives, measured on the
  first 100,000 records and scaled (the whole frame is what the old, unstreamed code held).

Results go to benchmarks/ingest_results.json (one entry per size; a run replaces its size).

Run: ``.venv/bin/python -m benchmarks.bench_ingest --mb 250 1024 [--keep DIR]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.export_factory

RESULTS = ROOT / "benchmarks" / "ingest_results.json"
BAD_EVERY = 1000


def write_export(path: Path, target_mb: float, seed: int = 2026) -> dict:
    """A CSV export of about ``target_mb`` MB; returns rows and planted problems."""
    import io

    import schemas
    from tests.export_factory import to_csv_bytes, to_text, valid_coded

    inst = schemas.load_instrument()
    block = to_text(valid_coded(inst, 5000, seed=seed))
    assert block.columns[0] == "response_id"
    text = to_csv_bytes(block).decode()
    header, *lines = text.split("\n")[:-1]
    rests = [line.split(",", 1)[1] for line in lines]
    cols = header.split(",")
    k_form = cols.index("practice_form") - 1
    k_phys = cols.index("n_physicians") - 1

    def bad(rest: str, col: int, value: str) -> str:
        cells = rest.split(",")
        if cells[col].startswith('"'):
            return rest
        cells[col] = value
        return ",".join(cells)

    target = int(target_mb * 1024 * 1024)
    planted = {"code_out_of_range": 0, "text_in_integer": 0, "exact_duplicate": 0,
               "shared_id": 0}
    written, i = 0, 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        buf = io.StringIO()
        while written < target:
            rest = rests[i % len(rests)]
            rid = f"r{i:08d}"
            kind = (i // BAD_EVERY) % 4 if i % BAD_EVERY == 7 else None
            if kind == 0:
                rest = bad(rest, k_form, "7")
                planted["code_out_of_range"] += 1
            elif kind == 1:
                rest = bad(rest, k_phys, "\"3,5\"")
                planted["text_in_integer"] += 1
            elif kind == 2 and i > 200_000:  # an exact copy of a record far above
                rid, rest = f"r{i - 200_000:08d}", rests[(i - 200_000) % len(rests)]
                planted["exact_duplicate"] += 1
            elif kind == 3 and i > 200_000:  # the id of a record far above, other answers
                rid = f"r{i - 150_000:08d}"
                planted["shared_id"] += 1
            line = f"{rid},{rest}\n"
            buf.write(line)
            written += len(line)
            i += 1
            if i % 100_000 == 0:
                f.write(buf.getvalue())
                buf = io.StringIO()
        f.write(buf.getvalue())
    return {"rows": i, "bytes": path.stat().st_size, "planted": planted}


def input_frame_mb(path: Path, rows: int) -> float:
    """The in-memory size of read_export's frame for the whole file, from its first 100,000
    records (the frame grows linearly in the records)."""
    import schemas
    from surveydata import read_export

    sample = path.with_suffix(".head.csv")
    with open(path, encoding="utf-8") as src, open(sample, "w", encoding="utf-8") as dst:
        for k, line in enumerate(src):
            if k > 100_000:
                break
            dst.write(line)
    raw = read_export(sample, schemas.load_instrument())
    mb = raw.memory_usage(deep=True).sum() / 2**20 * rows / len(raw)
    sample.unlink()
    return round(mb, 1)


def run_validate(path: Path, out: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "surveydata", "validate", str(path), "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"validate failed ({status}): {stderr.decode()[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    return {"seconds": round(seconds, 1), "peak_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "n_raw": report["n_raw"], "n_valid": report["n_valid"],
            "n_quarantined": report["n_quarantined"],
            "n_records_by_line_count": report["n_records_by_line_count"],
            "failures_by_rule": report["failures_by_rule"],
            "summary": stdout.decode().splitlines()[0]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[250, 1024])
    ap.add_argument("--keep", default=None, help="folder for the exports (default: temporary)")
    args = ap.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for mb in args.mb:
            path = work / f"export_{int(mb)}mb.csv"
            made = write_export(path, mb)
            frame_mb = input_frame_mb(path, made["rows"])
            out = work / f"out_{int(mb)}mb"
            r = run_validate(path, out)
            shutil.rmtree(out, ignore_errors=True)
            entry = {**made, "file_mb": round(made["bytes"] / 2**20, 1),
                     "input_frame_mb": frame_mb, **r,
                     "rows_per_s": round(made["rows"] / r["seconds"]),
                     "peak_over_file": round(r["peak_mb"] / (made["bytes"] / 2**20), 2),
                     "peak_over_input_frame": round(r["peak_mb"] / frame_mb, 2),
                     "load_average_1_5_15min_at_end": [round(x, 2) for x in os.getloadavg()],
                     "cpu_count": os.cpu_count(), "python": platform.python_version()}
            results[f"{int(mb)}mb"] = entry
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
            print(json.dumps({k: entry[k] for k in ("rows", "file_mb", "seconds", "rows_per_s",
                                                   "peak_mb", "input_frame_mb", "n_quarantined")}),
                  flush=True)
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
