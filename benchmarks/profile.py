"""Profile one project step of the benchmark (cProfile), on the benchmark's own data.

    .venv/bin/python -m benchmarks.profile rake --rows 200000 [--top 20]

Prints the CPU and wall time of the step and the functions of the project's packages with the
most time spent in them (own time, and cumulative time including callees), with file:line.
For line-level sampling, py-spy (not a project dependency) gives the same picture:
``py-spy record -f raw -o out.txt -- .venv/bin/python -m benchmarks.profile rake --rows 200000``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import pandas as pd

from benchmarks.data import ensure_data, read_margins
from benchmarks.peers import project_runner
from benchmarks.run import ESTIMATION_STEPS, SEED

OURS = r"(analysis|surveydata|schemas)/"


def main(argv: list[str] | None = None) -> pstats.Stats:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=ESTIMATION_STEPS)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args(argv)

    paths = ensure_data(args.rows)
    df = pd.read_parquet(paths.parquet)
    margins = read_margins(paths.margins)
    project_runner._api(args.step)  # imports outside the profile
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.enable()
    project_runner.run_step(args.step, df, margins, SEED)
    prof.disable()
    print(f"{args.step} at {args.rows:,} rows: {time.perf_counter() - t0:.3f} s wall, "
          f"{time.process_time() - c0:.3f} s CPU (under the profiler)")
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(OURS, args.top)
    stats.sort_stats("cumulative").print_stats(OURS, args.top)
    print(out.getvalue())
    return stats


if __name__ == "__main__":
    main()
