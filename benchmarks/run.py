"""Side-by-side benchmark: this project vs R survey vs svy, on the same synthetic data.

    python -m benchmarks.run --rows 200000 1000000

For every size and step, each side runs three times, alternating (the order rotates between
repetitions so that drift in the machine's load does not favour one side), each time in a fresh
process that reads the same file written once by `benchmarks.data`. Each child reports the wall
time of the step (design construction included; interpreter start, imports and reading the data
are not) and its peak resident memory during the step; the parent also records each child's
whole-process peak (ru_maxrss from wait4). Per step: median seconds, peak MB (largest of the three
runs), ratios R/project and svy/project, and the largest relative difference of estimates and SEs
from R's. Results go to the terminal and to benchmarks/results.json.

A peer that cannot run (no Rscript, no R survey package, svy not importable) is reported with
null times and a "missing" note; a side whose run fails is reported with its error. Nothing is
skipped silently.

svy is looked up in this order: $SVY_PYTHON (an interpreter with svy installed), the repository's
`.venv-bench/bin/python`, then the current interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import DATA_DIR, ensure_data

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results.json"
SEED = 20261128
VALIDATION_ROWS = 1_000_000
CHILD_TIMEOUT_S = 3600

# (key, label). Estimation steps run on every size; validation once per invocation.
STEPS = [
    ("mean6", "design + mean of 6 variables"),
    ("domain_means", "design + domain means (16 domains x 6 variables)"),
    ("rake", "design + rake to 3 margins + 6 means"),
    ("svyglm", "design + logistic svyglm (6 covariates)"),
    ("bootstrap_svyglm", "design + bootstrap(100) + svyglm"),
    ("validation", "validate instrument responses"),
]
STEP_LABELS = dict(STEPS)
ESTIMATION_STEPS = [k for k, _ in STEPS if k != "validation"]
SIDES = ("project", "r", "svy")
# Steps whose SEs depend on random replicate weights: each side draws its own bootstrap, so SEs
# agree only up to Monte Carlo error (about 1/sqrt(2*100) = 7% relative); estimates must agree.
MONTE_CARLO_SE_STEPS = {"bootstrap_svyglm"}


# --------------------------------------------------------------------------- peers
@dataclass
class Side:
    name: str
    command: list[str] | None  # argv prefix; None when missing
    missing: str | None = None
    version: str | None = None


def find_r() -> Side:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return Side("r", None, missing="missing: Rscript not found on PATH")
    probe = subprocess.run(
        [rscript, "-e", ('cat(as.character(packageVersion("survey")), '
                         'requireNamespace("jsonlite", quietly=TRUE))')],
        capture_output=True, text=True, check=False,
    )
    if probe.returncode != 0:
        return Side("r", None, missing="missing: R package 'survey' not installed "
                    f"({probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else 'no output'})")
    survey_version, jsonlite_ok = probe.stdout.split()
    if jsonlite_ok != "TRUE":
        return Side("r", None, missing="missing: R package 'jsonlite' not installed")
    return Side("r", [rscript, str(BENCH / "peers" / "r_survey.R")],
                version=f"survey {survey_version}")


def svy_python_candidates() -> list[tuple[str, str]]:
    out = []
    if os.environ.get("SVY_PYTHON"):
        out.append((os.environ["SVY_PYTHON"], "$SVY_PYTHON"))
    out.append((str(ROOT / ".venv-bench" / "bin" / "python"), ".venv-bench"))
    out.append((sys.executable, "current interpreter"))
    return out


def find_svy() -> Side:
    tried = []
    for python, origin in svy_python_candidates():
        if Path(python).exists():
            probe = subprocess.run(
                [python, "-c", ("from importlib.metadata import version; import svy, polars; "
                                "print(version('svy'))")],
                capture_output=True, text=True, check=False,
            )
            if probe.returncode == 0:
                return Side("svy", [python, str(BENCH / "peers" / "svy_runner.py")],
                            version=f"svy {probe.stdout.strip()} ({origin})")
            tried.append(f"{origin} ({python}) cannot import svy")
        else:
            tried.append(f"{origin} ({python}) does not exist")
        if origin == "$SVY_PYTHON":
            break  # an explicit choice that fails is reported, not replaced by a guess
    return Side("svy", None, missing="missing: svy not importable: " + "; ".join(tried)
                + " (set SVY_PYTHON or create .venv-bench with `pip install svy`)")


def project_side() -> Side:
    return Side("project", [sys.executable, "-m", "benchmarks.peers.project_runner"])


# --------------------------------------------------------------------------- child runs
@dataclass
class Run:
    side: str
    seconds: float | None = None
    cpu_seconds: float | None = None
    step_peak_mb: float | None = None
    step_added_mb: float | None = None
    process_peak_mb: float | None = None
    result: dict | None = None
    error: str | None = None


def run_child(argv: list[str], out_json: Path, side: str, env: dict | None = None) -> Run:
    """Run one child; its rusage (wait4) gives the whole-process peak RSS."""
    out_json.unlink(missing_ok=True)
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errf, env=env)
        start = time.monotonic()
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > CHILD_TIMEOUT_S:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        stderr = errf.read().decode(errors="replace")
    run = Run(side, process_peak_mb=usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
    if proc.returncode != 0 or not out_json.exists():
        lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
        run.error = f"exit code {proc.returncode}: {lines[-1] if lines else 'no stderr'}"
        return run
    res = json.loads(out_json.read_text())
    run.seconds = float(res["seconds"])
    run.cpu_seconds = float(res["cpu_seconds"]) if res.get("cpu_seconds") is not None else None
    run.step_peak_mb = float(res["step_peak_mb"]) if res.get("hwm_reset") else run.process_peak_mb
    if res.get("hwm_reset") and res.get("rss_before_mb") is not None:
        run.step_added_mb = run.step_peak_mb - float(res["rss_before_mb"])
    run.result = res
    return run


def step_argv(side: Side, step: str, paths, out_json: Path) -> list[str]:
    data = paths.csv if side.name == "r" else paths.parquet
    return [*side.command, step, str(data), str(paths.margins), str(out_json), str(SEED)]


# --------------------------------------------------------------------------- comparison
def _values(res: dict, key: str) -> dict[str, float]:
    return {n: float(v) for n, v in zip(res["names"], res[key], strict=True)}


def rel_diff(res: dict, ref: dict, key: str) -> float:
    """Largest |a - b| / |b| over the named values of `key` ("estimate" or "se")."""
    a, b = _values(res, key), _values(ref, key)
    if set(a) != set(b):
        raise ValueError(f"names differ: only in one side: {sorted(set(a) ^ set(b))[:6]}")
    return max(abs(a[n] - b[n]) / abs(b[n]) if b[n] != 0 else abs(a[n]) for n in b)


def compare(res: dict | None, ref: dict | None, step: str) -> dict:
    """Relative differences of `res` from R's `ref`; max_rel_diff is over estimates and SEs,
    except for bootstrap steps, whose SEs differ by Monte Carlo error and are reported apart."""
    if res is None or ref is None:
        return {"max_rel_diff": None, "rel_diff_estimate": None, "rel_diff_se": None}
    try:
        d_est, d_se = rel_diff(res, ref, "estimate"), rel_diff(res, ref, "se")
    except ValueError as e:
        return {"max_rel_diff": None, "rel_diff_estimate": None, "rel_diff_se": None,
                "compare_error": str(e)}
    worst = d_est if step in MONTE_CARLO_SE_STEPS else max(d_est, d_se)
    return {"max_rel_diff": worst, "rel_diff_estimate": d_est, "rel_diff_se": d_se}


# --------------------------------------------------------------------------- orchestration
@dataclass
class StepResult:
    step: str
    rows: int
    runs: dict[str, list[Run]] = field(default_factory=dict)


def median_s(runs: list[Run]) -> float | None:
    ok = [r.seconds for r in runs if r.seconds is not None]
    return statistics.median(ok) if ok and len(ok) == len(runs) else None


def peak(runs: list[Run], attr: str) -> float | None:
    ok = [getattr(r, attr) for r in runs if r.error is None and getattr(r, attr) is not None]
    return max(ok) if ok and len(ok) == len(runs) else None


def ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def side_note(side: Side, runs: list[Run]) -> str | None:
    if side.command is None:
        return side.missing
    errors = [r.error for r in runs if r.error]
    return f"failed in {len(errors)} of {len(runs)} runs: {errors[0]}" if errors else None


def summarise(sr: StepResult, sides: dict[str, Side], load: float, notes: list[str]) -> dict:
    p, r, s = (sr.runs.get(k, []) for k in SIDES)
    first_ok = {k: next((x.result for x in v if x.result), None) for k, v in sr.runs.items()}
    entry = {
        "step": sr.step,
        "label": STEP_LABELS[sr.step],
        "rows": sr.rows,
        "project_s": median_s(p),
        "r_s": median_s(r),
        "svy_s": median_s(s),
    }
    entry["ratio"] = ratio(entry["r_s"], entry["project_s"])
    entry["svy_ratio"] = ratio(entry["svy_s"], entry["project_s"])
    for k, runs in (("project", p), ("r", r), ("svy", s)):
        entry[f"{k}_peak_mb"] = peak(runs, "step_peak_mb")
    cmp_project = compare(first_ok.get("project"), first_ok.get("r"), sr.step)
    entry.update(cmp_project)
    entry["svy_max_rel_diff"] = compare(first_ok.get("svy"), first_ok.get("r"), sr.step)["max_rel_diff"]
    for k, runs in (("project", p), ("r", r), ("svy", s)):
        entry[f"{k}_step_added_mb"] = peak(runs, "step_added_mb")
        entry[f"{k}_process_peak_mb"] = peak(runs, "process_peak_mb")
        entry[f"{k}_runs_s"] = [x.seconds for x in runs]
        cpu = [x.cpu_seconds for x in runs if x.cpu_seconds is not None]
        entry[f"{k}_cpu_s"] = statistics.median(cpu) if cpu and len(cpu) == len(runs) else None
    missing = {k: side_note(sides[k], sr.runs.get(k, [])) for k in SIDES}
    entry["missing"] = {k: v for k, v in missing.items() if v}
    if sr.step in MONTE_CARLO_SE_STEPS:
        notes = [*notes, ("SEs come from each side's own random bootstrap replicates: they agree "
                          "with R only up to Monte Carlo error (rel_diff_se), so max_rel_diff "
                          "covers the coefficients only")]
    entry["load_avg_1min"] = round(load, 2)
    entry["notes"] = notes
    return entry


def run_estimation_step(step: str, rows: int, paths, sides: dict[str, Side], reps: int,
                        workdir: Path, log) -> StepResult:
    sr = StepResult(step, rows, {k: [] for k in SIDES})
    order = list(SIDES)
    for rep in range(reps):
        rotated = order[rep % len(order):] + order[:rep % len(order)]
        for name in rotated:
            side = sides[name]
            if side.command is None:
                continue
            out_json = workdir / f"{name}_{step}_{rows}_{rep}.json"
            run = run_child(step_argv(side, step, paths, out_json), out_json, name)
            sr.runs[name].append(run)
            shown = f"{run.seconds:8.3f} s {run.step_peak_mb:8.0f} MB" if run.error is None \
                else f"ERROR {run.error[:200]}"
            log(f"  {step:<17} rows={rows:<8} rep={rep + 1} {name:<8} {shown}")
    return sr


def run_validation(rows: int, reps: int, workdir: Path, log) -> dict:
    """Validation of `rows` instrument responses: project vs the same checks as pandas masks.

    Delegates to benchmarks/bench_validation.py (owned by the validation engineer) when present."""
    entry = {"step": "validation", "label": f"{STEP_LABELS['validation']} (project vs plain "
             "pandas masks)", "rows": rows, "project_s": None, "r_s": None, "svy_s": None,
             "ratio": None, "svy_ratio": None, "project_peak_mb": None, "r_peak_mb": None,
             "svy_peak_mb": None, "max_rel_diff": None,
             "missing": {"r": "not applicable: R survey has no instrument validation",
                         "svy": "not applicable: svy has no instrument validation"},
             "notes": [("baseline is the same checks written as plain pandas masks "
                        "(pandas_s, pandas_ratio = pandas/project)")]}
    if not (BENCH / "bench_validation.py").exists():
        entry["missing"]["project"] = "missing: benchmarks/bench_validation.py not written yet"
        return entry
    sides = {"project": "project", "pandas": "pandas"}
    runs: dict[str, list[Run]] = {k: [] for k in sides}
    for rep in range(reps):
        for name in (list(sides) if rep % 2 == 0 else list(sides)[::-1]):
            out_json = workdir / f"validation_{name}_{rows}_{rep}.json"
            argv = [sys.executable, "-m", "benchmarks.peers.validation_runner", name, str(rows),
                    str(out_json)]
            run = run_child(argv, out_json, name)
            runs[name].append(run)
            shown = f"{run.seconds:8.3f} s {run.step_peak_mb:8.0f} MB" if run.error is None \
                else f"ERROR {run.error[:200]}"
            log(f"  validation        rows={rows:<8} rep={rep + 1} {name:<8} {shown}")
    entry["project_s"] = median_s(runs["project"])
    entry["project_peak_mb"] = peak(runs["project"], "step_peak_mb")
    entry["pandas_s"] = median_s(runs["pandas"])
    entry["pandas_peak_mb"] = peak(runs["pandas"], "step_peak_mb")
    for name, rs in runs.items():
        entry[f"{name}_step_added_mb"] = peak(rs, "step_added_mb")
    entry["pandas_ratio"] = ratio(entry["pandas_s"], entry["project_s"])
    for name, rs in runs.items():
        entry[f"{name}_runs_s"] = [x.seconds for x in rs]
        cpu = [x.cpu_seconds for x in rs if x.cpu_seconds is not None]
        entry[f"{name}_cpu_s"] = statistics.median(cpu) if cpu and len(cpu) == len(rs) else None
    for name, rs in runs.items():
        note = side_note(Side(name, ["x"]), rs)
        if note:
            entry["missing"][name] = note
    # Both sides must flag the same number of rows (bench_validation.py checks the rows match).
    flagged = {name: sorted({r.result["n_bad_rows"] for r in rs if r.result}) for name, rs in runs.items()}
    entry["rows_flagged"] = flagged
    entry["same_count_flagged"] = (len(flagged["project"]) == 1
                                   and flagged["project"] == flagged["pandas"])
    return entry


# --------------------------------------------------------------------------- output
def fmt(v, spec: str, missing: str = "--") -> str:
    return missing if v is None else format(v, spec)


def table(entries: list[dict]) -> str:
    head = (f"{'step':<34} {'rows':>9} {'project s':>10} {'R s':>9} {'svy s':>9} {'R/proj':>7} "
            f"{'svy/proj':>8} {'proj MB':>8} {'R MB':>7} {'svy MB':>7} {'max rel diff':>12}")
    lines = [head, "-" * len(head)]
    for e in entries:
        label = STEP_LABELS[e["step"]].replace("design + ", "")
        lines.append(
            f"{label[:34]:<34} {e['rows']:>9,} {fmt(e['project_s'], '10.3f'):>10} "
            f"{fmt(e['r_s'], '9.2f'):>9} {fmt(e['svy_s'], '9.3f'):>9} "
            f"{fmt(e['ratio'], '7.1f'):>7} {fmt(e['svy_ratio'], '8.1f'):>8} "
            f"{fmt(e['project_peak_mb'], '8.0f'):>8} {fmt(e['r_peak_mb'], '7.0f'):>7} "
            f"{fmt(e['svy_peak_mb'], '7.0f'):>7} {fmt(e['max_rel_diff'], '12.1e'):>12}")
        if e["step"] == "validation" and e.get("pandas_s") is not None:
            lines.append(f"{'  (plain pandas masks)':<34} {'':>9} {fmt(e['pandas_s'], '10.3f'):>10}"
                         f"  pandas/project = {fmt(e.get('pandas_ratio'), '.2f')}, "
                         f"{fmt(e.get('pandas_peak_mb'), '.0f')} MB")
    notes = sorted({f"{side}: {msg}" for e in entries for side, msg in e["missing"].items()})
    if notes:
        lines.append("")
        lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def markdown_table(entries: list[dict]) -> str:
    """The table for benchmarks/README.md: medians of 3, peak MB while the step runs."""
    def t(v, spec):
        return "--" if v is None else format(v, spec)

    lines = [("| step | rows | project s | R survey s | svy s | R / project | svy / project "
              "| project MB | R MB | svy MB | max rel. diff vs R |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in entries:
        label = STEP_LABELS[e["step"]]
        r_s, svy_s = e["r_s"], e["svy_s"]
        if e["step"] == "validation":
            label += " (vs plain pandas masks: " + (
                f"{e['pandas_s']:.2f} s, pandas/project {e['pandas_ratio']:.2f})"
                if e.get("pandas_s") is not None and e.get("pandas_ratio") is not None
                else "missing)")
            r_s_txt = svy_s_txt = "n/a"
        else:
            r_s_txt, svy_s_txt = t(r_s, ".2f"), t(svy_s, ".2f")
        lines.append(
            f"| {label} | {e['rows']:,} | {t(e['project_s'], '.3f')} | {r_s_txt} | {svy_s_txt} "
            f"| {t(e['ratio'], '.1f')} | {t(e['svy_ratio'], '.1f')} "
            f"| {t(e['project_peak_mb'], '.0f')} | {t(e['r_peak_mb'], '.0f')} "
            f"| {t(e['svy_peak_mb'], '.0f')} | {t(e['max_rel_diff'], '.1e')} |")
    notes = sorted({f"{side}: {msg}" for e in entries for side, msg in e["missing"].items()})
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def machine() -> dict:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def merge_results(path: Path, new: list[dict]) -> list[dict]:
    """Entries for the (step, rows) just measured replace older ones; others are kept."""
    old = json.loads(path.read_text()) if path.exists() else []
    keys = {(e["step"], e["rows"]) for e in new}
    kept = [e for e in old if (e["step"], e["rows"]) not in keys]
    order = {k: i for i, (k, _) in enumerate(STEPS)}
    return sorted(kept + new, key=lambda e: (e["rows"] if e["step"] != "validation" else 10**12,
                                             order[e["step"]]))


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", nargs="+", choices=[k for k, _ in STEPS],
                    default=[k for k, _ in STEPS])
    ap.add_argument("--validation-rows", type=int, default=VALIDATION_ROWS)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--no-merge", action="store_true", help="overwrite --out instead of merging")
    ap.add_argument("--note", action="append", default=[],
                    help="a note stored with every entry (e.g. that the machine was busy)")
    ap.add_argument("--show", action="store_true",
                    help="run nothing: print the tables (terminal and markdown) of --out")
    args = ap.parse_args(argv)
    if args.show:
        entries = json.loads(args.out.read_text())
        print(table(entries) + "\n\n" + markdown_table(entries))
        return entries

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    sides = {"project": project_side(), "r": find_r(), "svy": find_svy()}
    for s in sides.values():
        log(f"{s.name:<8} {s.version or ''} {s.missing or ''}".rstrip())
    log(f"machine: {machine()}")

    entries: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_") as tmp:
        workdir = Path(tmp)
        for rows in args.rows:
            paths = ensure_data(rows, args.data_dir)
            for step in [s for s in ESTIMATION_STEPS if s in args.steps]:
                load = os.getloadavg()[0]
                sr = run_estimation_step(step, rows, paths, sides, args.reps, workdir, log)
                entries.append(summarise(sr, sides, load, list(args.note)))
        if "validation" in args.steps:
            load = os.getloadavg()[0]
            entry = run_validation(args.validation_rows, args.reps, workdir, log)
            entry["load_avg_1min"] = round(load, 2)
            entry["notes"] += list(args.note)
            entries.append(entry)

    print(table(entries))
    print(f"\nmachine: {machine()['cpu']}, {machine()['cores']} cores, "
          f"{machine()['memory_gb']} GB; peers: " +
          ", ".join(f"{k} {v.version or v.missing}" for k, v in sides.items() if k != "project"))
    merged = entries if args.no_merge else merge_results(args.out, entries)
    args.out.write_text(json.dumps(merged, indent=1) + "\n")
    print(f"wrote {args.out}")
    return entries


if __name__ == "__main__":
    main()
