"""One validation run in a fresh process: the project's `surveydata.validate` or the same checks as
plain pandas masks, on the text responses that benchmarks/bench_validation.py builds.

    python -m benchmarks.peers.validation_runner project|pandas ROWS OUT_JSON

Building the responses is not timed; the check is, with the peak resident memory while it runs
(VmHWM reset just before). Both sides report how many rows they flag, so the harness can check
that they flag the same rows' count.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from benchmarks.peers.memory import reset_hwm, vm_hwm_mb, vm_rss_mb


def main(argv: list[str]) -> None:
    side, rows, out_path = argv[0], int(argv[1]), argv[2]
    if side not in ("project", "pandas"):
        raise ValueError(f"side must be 'project' or 'pandas'; got {side!r}")
    import schemas
    from benchmarks import bench_validation as bv
    from surveydata import validate

    inst = schemas.load_instrument()
    raw, n_planted = bv.make_raw(inst, rows)
    gc.collect()
    hwm_reset = reset_hwm()
    rss_before = vm_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    if side == "project":
        res = validate(raw, inst)
        n_bad = int(res.report["n_quarantined"])
    else:
        n_bad = int(bv.masks(raw, inst).sum())
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    peak = vm_hwm_mb()
    out = {"side": side, "step": "validation", "rows": len(raw), "seconds": seconds,
           "cpu_seconds": cpu_seconds, "step_peak_mb": peak, "rss_before_mb": rss_before, "hwm_reset": hwm_reset,
           "n_bad_rows": n_bad, "bad_rows_planted": int(n_planted), "columns": int(raw.shape[1])}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1:])
