"""One benchmark step with svy (the Rust-backed Python peer), in a fresh process.

    <python with svy> benchmarks/peers/svy_runner.py STEP DESIGN_PARQUET MARGINS_JSON OUT_JSON [SEED]

Standalone on purpose: it runs under whatever interpreter has svy installed (the `.venv-bench`
venv that `make bench` creates, or $SVY_PYTHON), which need not have this project installed, so it
imports nothing of ours. Timing and peak memory are measured as in the other runners: wall time of
the step (design construction included; reading the file and importing svy are not), and the
process's resident high-water mark (VmHWM) reset just before the step.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from importlib.metadata import version

import polars as pl
import svy

# run as a script from benchmarks/peers (svy's own venv has none of our packages): the sibling
# module is on sys.path
from memory import reset_hwm, vm_hwm_mb, vm_rss_mb

COVARIATES = ["x1", "x2", "x3", "x4", "x5", "x6"]


def make_sample(df: pl.DataFrame) -> svy.Sample:
    return svy.Sample(df, svy.Design(stratum="stratum", psu="psu", wgt="w"))


def means(estimates) -> dict:
    # A list of variables gives one result per variable, in the order asked for.
    names, est, se = [], [], []
    for var, e in zip(COVARIATES, estimates, strict=True):
        row = e.to_polars().row(0, named=True)
        names.append(var)
        est.append(row["est"])
        se.append(row["se"])
    return {"names": names, "estimate": est, "se": se}


def glm_result(glm) -> dict:
    tidy = glm.to_polars()
    names = [("Intercept" if t.lower().strip("_") in ("intercept", "const") else t)
             for t in tidy["term"].to_list()]
    return {"names": names, "estimate": tidy["estimate"].to_list(), "se": tidy["std_err"].to_list()}


def run_step(step: str, df: pl.DataFrame, margins: dict, seed: int) -> dict:
    if step == "mean6":
        return means(make_sample(df).estimation.mean(COVARIATES))
    if step == "domain_means":
        names, est, se = [], [], []
        by_var = make_sample(df).estimation.mean(COVARIATES, by="domain")
        for var, e in zip(COVARIATES, by_var, strict=True):
            for row in e.to_polars().iter_rows(named=True):
                names.append(f"domain={row['domain']}:{var}")
                est.append(row["est"])
                se.append(row["se"])
        return {"names": names, "estimate": est, "se": se}
    if step == "rake":
        controls = {m: {int(k): float(v) for k, v in levels.items()} for m, levels in margins.items()}
        raked = make_sample(df).weighting.rake(controls=controls, tol=1e-10, max_iter=100)
        return means(raked.estimation.mean(COVARIATES))
    if step == "svyglm":
        glm = make_sample(df).glm.fit("y", x=COVARIATES, family="binomial")
        return glm_result(glm)
    if step == "bootstrap_svyglm":
        boot = make_sample(df).weighting.create_bs_wgts(100, rstate=seed)
        glm = boot.glm.fit("y", x=COVARIATES, family="binomial", method="replication")
        return glm_result(glm)
    raise ValueError(f"unknown step: {step}")


def main(argv: list[str]) -> None:
    step, parquet, margins_path, out_path = argv[:4]
    seed = int(argv[4]) if len(argv) > 4 else 20261128
    df = pl.read_parquet(parquet)
    with open(margins_path) as f:
        margins = json.load(f)
    gc.collect()
    hwm_reset = reset_hwm()
    rss_before = vm_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_step(step, df, margins, seed)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    peak = vm_hwm_mb()
    out = {"side": "svy", "step": step, "rows": df.height, "seconds": seconds,
           "cpu_seconds": cpu_seconds, "step_peak_mb": peak, "rss_before_mb": rss_before, "hwm_reset": hwm_reset,
           "version": f"svy {version('svy')}, polars {version('polars')}", **res}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1:])
