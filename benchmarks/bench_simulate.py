"""Timing of the simulator: population (141,655 practices) + a sample of ~1,600 respondents.

    python -m benchmarks.bench_simulate [--repeats 5]

Each repetition runs, in this process after the imports and after loading the instrument once,
``simulate_population``, ``draw_sample`` (8,000 invited at a 20 % response rate, ~1,600
respondents), ``make_export`` (5 % planted errors) and the truth (``population_truth`` and
``census_models``), with a different seed per repetition. Wall and CPU seconds are recorded per
step (CPU time matters on a shared 2-core machine, where wall time mostly measures the other
processes); the target is population + sample under 5 s. Results go to the terminal and to
benchmarks/simulate_results.json (with the load average at the start, so a reader can judge
contention; no timestamps).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "simulate_results.json"
TARGET_S = 5.0


def _timed(fn, *args, **kwargs):
    w, c = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - w, time.process_time() - c


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd

    import schemas
    from surveydata.simulate import draw_sample, make_export, simulate_population
    from surveydata.simulate.truth import analysis_variables, census_models, population_truth

    inst = schemas.load_instrument()
    load_before = os.getloadavg()
    steps = {k: {"wall": [], "cpu": []} for k in ("population", "sample", "export", "truth", "population_plus_sample")}
    n_resp = []
    for r in range(args.repeats):
        pop, w1, c1 = _timed(simulate_population, 1000 + r, instrument=inst)
        sample, w2, c2 = _timed(draw_sample, pop, 2000 + r, n_invited=8000, response_rate=0.2, instrument=inst)
        _, w3, c3 = _timed(make_export, sample, 3000 + r, error_rate=0.05, instrument=inst)

        def truth(p=pop):
            v = analysis_variables(p)
            return population_truth(p, inst, v), census_models(p, v)

        _, w4, c4 = _timed(truth)
        for k, w, c in (("population", w1, c1), ("sample", w2, c2), ("export", w3, c3), ("truth", w4, c4),
                        ("population_plus_sample", w1 + w2, c1 + c2)):
            steps[k]["wall"].append(round(w, 3))
            steps[k]["cpu"].append(round(c, 3))
        n_resp.append(len(sample.respondents))
        print(f"run {r + 1}: population {w1:.2f} s (cpu {c1:.2f}), sample {w2:.2f} s (cpu {c2:.2f}), "
              f"export {w3:.2f} s, truth {w4:.2f} s; {len(sample.respondents)} respondents")
    summary = {
        k: {"wall_s_median": round(statistics.median(v["wall"]), 3), "cpu_s_median": round(statistics.median(v["cpu"]), 3),
            "wall_s_runs": v["wall"], "cpu_s_runs": v["cpu"]}
        for k, v in steps.items()
    }
    pps = summary["population_plus_sample"]
    result = {
        "what": "simulate_population (141,655 practices) + draw_sample (8,000 invited, 20 % response) "
                "+ make_export (5 % errors) + truth (population values and census models)",
        "repeats": args.repeats,
        "n_population": len(pop),
        "n_respondents": n_resp,
        "steps": summary,
        "target_population_plus_sample_s": TARGET_S,
        "meets_target_wall": pps["wall_s_median"] < TARGET_S,
        "meets_target_cpu": pps["cpu_s_median"] < TARGET_S,
        "load_average_at_start": [round(x, 2) for x in load_before],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"population + sample: median {pps['wall_s_median']:.2f} s wall, {pps['cpu_s_median']:.2f} s CPU "
          f"(target {TARGET_S} s); load average at start {result['load_average_at_start']}; -> {args.out}")
    return result


if __name__ == "__main__":
    main()
