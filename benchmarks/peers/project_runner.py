"""One benchmark step with this project's `analysis` package, in a fresh process.

    python -m benchmarks.peers.project_runner STEP DESIGN_PARQUET MARGINS_JSON OUT_JSON [SEED]

Measured like the peers: wall time of the step (design construction included; reading the file and
importing the package are not) and the process's resident high-water mark (VmHWM), reset just
before the step, so the peak is that of the process while the step runs with the data in memory.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from importlib.metadata import version

import pandas as pd
import pyarrow

from benchmarks.data import COVARIATES, OUTCOME, read_margins
from benchmarks.peers.memory import reset_hwm, vm_hwm_mb, vm_rss_mb

FORMULA = f"{OUTCOME} ~ " + " + ".join(COVARIATES)


MODEL_STEPS = ("svyglm", "bootstrap_svyglm")


def _api(step: str):
    """What the step uses from the public `analysis` namespace: SurveyDesign, and svyglm for the
    model steps only (the models load statsmodels on first use, as R loads survey's own code)."""
    import analysis

    return analysis.SurveyDesign, (analysis.svyglm if step in MODEL_STEPS else None)


def make_design(df: pd.DataFrame):
    import analysis

    return analysis.SurveyDesign(df, weights="w", strata="stratum", psu="psu")


def _flat(res: pd.DataFrame) -> dict:
    """estimate and se of a tidy result, one name per row ("x1", or "domain=3:x1" for domains)."""
    names = []
    for key in res.index:
        if isinstance(key, tuple):
            levels = dict(zip(res.index.names, key, strict=True))
            domain = levels.pop("domain")
            (var,) = [v for v in levels.values() if v in COVARIATES]
            names.append(f"domain={int(domain)}:{var}")
        else:
            names.append(str(key))
    return {"names": names, "estimate": res["estimate"].to_list(), "se": res["se"].to_list()}


def _fit(fit) -> dict:
    names = ["Intercept" if n in ("Intercept", "(Intercept)", "const") else n for n in fit.params.index]
    return {"names": names, "estimate": fit.params.to_list(), "se": fit.bse.to_list()}


def run_step(step: str, df: pd.DataFrame, margins: dict, seed: int) -> dict:
    svyglm = _api(step)[1]
    vars_ = list(COVARIATES)
    if step == "mean6":
        return _flat(make_design(df).mean(vars_))
    if step == "domain_means":
        return _flat(make_design(df).by("domain").mean(vars_))
    if step == "rake":
        population = {m: pd.Series(levels) for m, levels in margins.items()}
        return _flat(make_design(df).rake(population).mean(vars_))
    if step == "svyglm":
        return _fit(svyglm(FORMULA, make_design(df), family="binomial"))
    if step == "bootstrap_svyglm":
        boot = make_design(df).replicate("bootstrap", replicates=100, seed=seed)
        return _fit(svyglm(FORMULA, boot, family="binomial"))
    raise ValueError(f"unknown step: {step}")


def main(argv: list[str]) -> None:
    step, parquet, margins_path, out_path = argv[:4]
    seed = int(argv[4]) if len(argv) > 4 else 20261128
    df = pd.read_parquet(parquet)
    # pyarrow's allocator keeps the pages it read the file into (about 150 MB at 1,000,000 rows):
    # hand them back, so the step's peak is not inflated by how the benchmark loads its data.
    pyarrow.default_memory_pool().release_unused()
    margins = read_margins(margins_path)
    _api(step)  # imports what the step uses before the clock starts, as R loads survey first

    gc.collect()
    hwm_reset = reset_hwm()
    rss_before = vm_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_step(step, df, margins, seed)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    peak = vm_hwm_mb()
    out = {"side": "project", "step": step, "rows": len(df), "seconds": seconds,
           "cpu_seconds": cpu_seconds, "step_peak_mb": peak, "rss_before_mb": rss_before, "hwm_reset": hwm_reset,
           "version": f"praxis-survey {version('praxis-survey')}, pandas {pd.__version__}", **res}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1:])
