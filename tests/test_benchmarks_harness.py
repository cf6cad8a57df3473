"""The benchmark harness on a tiny design: it runs every step in fresh processes, writes the JSON
with the required keys, reports a missing peer plainly, and the project's numbers agree with R's
(when Rscript with survey is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from benchmarks import run as bench
from benchmarks.data import MARGINS, N_STRATA, PSUS_PER_STRATUM, make_design

TINY = 4000  # 2 rows per PSU: the smallest design the generator makes
REQUIRED = {"step", "rows", "project_s", "r_s", "svy_s", "ratio", "svy_ratio", "project_peak_mb",
            "r_peak_mb", "svy_peak_mb", "max_rel_diff"}


def r_with_survey() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(survey); library(jsonlite)"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def test_design_has_the_documented_shape():
    df, margins = make_design(TINY)
    assert df["stratum"].nunique() == N_STRATA
    assert df["psu"].nunique() == N_STRATA * PSUS_PER_STRATUM
    # PSU ids are unique across strata: each PSU lies in exactly one stratum.
    assert (df.groupby("psu")["stratum"].nunique() == 1).all()
    assert df["domain"].nunique() == 16
    assert (df["w"] > 0).all()
    assert set(np.unique(df["y"])) == {0.0, 1.0}
    # Raking margins: every level is in the sample and every margin has the same population total.
    totals = [sum(levels.values()) for levels in margins.values()]
    assert np.allclose(totals, totals[0], rtol=1e-12)
    for name, spec in MARGINS.items():
        assert sorted(df[name].unique()) == list(range(1, len(spec["sample"]) + 1))
    # Deterministic: a second draw is identical.
    again, _ = make_design(TINY)
    assert again.equals(df)


def test_relative_difference_names_must_match():
    a = {"names": ["x1", "x2"], "estimate": [1.0, 2.0], "se": [0.1, 0.2]}
    b = {"names": ["x1", "x2"], "estimate": [1.0, 2.0 * (1 + 1e-9)], "se": [0.1 * (1 - 2e-9), 0.2]}
    out = bench.compare(a, b, "mean6")
    assert out["rel_diff_estimate"] == pytest.approx(1e-9, rel=1e-3)
    assert out["max_rel_diff"] == pytest.approx(2e-9, rel=1e-3)
    # Bootstrap SEs differ by Monte Carlo error: max_rel_diff covers the estimates only.
    assert bench.compare(a, b, "bootstrap_svyglm")["max_rel_diff"] == out["rel_diff_estimate"]
    c = {"names": ["x1", "x3"], "estimate": [1.0, 2.0], "se": [0.1, 0.2]}
    assert "names differ" in bench.compare(c, b, "mean6")["compare_error"]


def test_harness_runs_end_to_end_and_reports_missing_peer(tmp_path, monkeypatch, capsys):
    # svy is made unavailable on purpose: the harness must say so, not skip it silently.
    monkeypatch.setenv("SVY_PYTHON", str(tmp_path / "no-such-python"))
    out = tmp_path / "results.json"
    steps = ["mean6", "domain_means", "rake", "svyglm", "bootstrap_svyglm"]
    bench.main(["--rows", str(TINY), "--reps", "1", "--out", str(out), "--data-dir",
                str(tmp_path / "data"), "--steps", *steps])
    printed = capsys.readouterr().out
    entries = json.loads(out.read_text())

    assert [e["step"] for e in entries] == steps
    have_r = r_with_survey()
    for e in entries:
        assert REQUIRED <= set(e), e["step"]
        assert e["rows"] == TINY
        assert e["project_s"] is not None and e["project_s"] > 0, e.get("missing")
        assert e["project_peak_mb"] > 0
        assert e["svy_s"] is None and e["svy_ratio"] is None and e["svy_peak_mb"] is None
        assert "svy not importable" in e["missing"]["svy"]
        if have_r:
            assert e["r_s"] > 0 and e["ratio"] == pytest.approx(e["r_s"] / e["project_s"])
            # Closed forms to 1e-8; the logistic fits (iterative) to 1e-6. Bootstrap: the
            # coefficients (SEs depend on each side's own random replicates).
            tol = 1e-6 if "svyglm" in e["step"] else 1e-8
            assert e["max_rel_diff"] < tol, (e["step"], e["max_rel_diff"])
        else:
            assert e["r_s"] is None and e["ratio"] is None
            assert e["missing"]["r"].startswith("missing:")
    # The bootstrap SEs agree with R's up to Monte Carlo error of 100 replicates: an SE from B
    # replicates has a relative standard deviation of about 1/sqrt(2B) = 0.071, the difference
    # of two independent ones about 0.1, so the largest of the 7 coefficients' differences
    # exceeds 0.35 (3.5 sd) with probability about 7 * 4.7e-4 = 0.3 %. Both sides are seeded,
    # so the run is deterministic (measured: 0.157): a failure is a wrong bootstrap, not bad luck.
    if have_r:
        boot = entries[-1]
        assert boot["rel_diff_se"] < 0.35, boot["rel_diff_se"]
    assert "svy not importable" in printed


def test_svy_runner_reads_svy_results_in_rs_order(tmp_path):
    """The svy runner's names line up with R's (same estimates to 1e-8, fits to 1e-6), so the
    svy columns of the table compare like with like."""
    svy = bench.find_svy()
    if svy.command is None or not r_with_survey():
        pytest.skip(f"needs svy and R survey: {svy.missing or 'R survey not installed'}")
    from benchmarks.data import ensure_data

    paths = ensure_data(TINY, tmp_path)
    r_side = bench.find_r()
    for step, tol in (("mean6", 1e-8), ("domain_means", 1e-8), ("svyglm", 1e-6)):
        runs = {}
        for side in (svy, r_side):
            out = tmp_path / f"{side.name}_{step}.json"
            runs[side.name] = bench.run_child(bench.step_argv(side, step, paths, out), out, side.name)
            assert runs[side.name].error is None, runs[side.name].error
        diff = bench.compare(runs["svy"].result, runs["r"].result, step)
        assert diff["max_rel_diff"] < tol, (step, diff)
