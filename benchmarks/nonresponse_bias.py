"""Monte Carlo check of nonresponse adjustment on the simulator's truth.

    python -m benchmarks.nonresponse_bias --samples 100    # writes benchmarks/nonresponse_bias.json

One finite population (surveydata.simulate, seed 20260301). Each replicate invites the simulator's
stratified sample (8,000 practices, power allocation over type x state) and lets practices respond
with a propensity that depends on their size only: expit(r0 + 1.0 log(persons / 6)), 25 % on
average (NonresponseModel with every other slope 0), so larger practices are over-represented
among respondents and base weights N_h / n_invited_h leave the bias in anything related to size.
The targets are population means of tech_share and of guideline_full (implemented fully).

Adjustments compared, each by analysis.adjust_nonresponse on the design of all invited practices:
* frame classes: weighting classes practice_form x n_physicians (1, 2-3, 4+), what the KBV/KZBV
  registers know of every practice (the propensity depends on staff size, which they do not hold:
  a realistic, partial correction);
* size classes: classes of the KBV size class (persons processing data), the variable the
  propensity depends on (a frame that knows it: the correction is expected to remove the bias);
* propensity classes: five classes of a response model on the frame variables.
Recorded per target and analysis: bias, bias / Monte Carlo SD, and the share of the base-weighted
bias removed.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.design import SurveyDesign
from analysis.nonresponse import adjust_nonresponse

OUT = Path(__file__).resolve().parent / "nonresponse_bias.json"
POPULATION_SEED = 20260301
TARGETS = ("tech_share", "guideline_full")


def _phys_class(n):
    return np.where(n <= 1, "1", np.where(n <= 3, "2-3", "4+"))


def one_sample(population, frame, values, instrument, seed: int) -> dict:
    from surveydata.simulate import NonresponseModel, draw_sample

    model = NonresponseModel(r_awareness=0.0, r_log_size=1.0, r_type=(0.0,) * 5, r_incident=0.0,
                             item_nonresponse=0.0)
    s = draw_sample(population, seed=seed, n_invited=8000, response_rate=0.25, min_invited=40,
                    model=model, instrument=instrument)
    inv = s.invited.merge(s.strata[["stratum", "N_h", "n_invited"]], on="stratum")
    inv["w0"] = inv["N_h"] / inv["n_invited"]
    inv = inv.merge(frame, on="practice_id").merge(values, on="practice_id")
    inv["responded"] = inv["responded"].astype(int)
    for t in TARGETS:                      # answers exist for respondents only
        inv[t] = inv[t].where(inv["responded"] == 1)
    d = SurveyDesign(inv, weights="w0", strata="stratum", fpc="N_h", lonely_psu="adjust")
    base = SurveyDesign(inv[inv["responded"] == 1], weights="w0", strata="stratum", fpc="N_h",
                        lonely_psu="adjust")
    designs = {"base_weights": base,
               "frame_classes": adjust_nonresponse(d, "responded", classes=["practice_form", "phys_class"]).design,
               "size_classes": adjust_nonresponse(d, "responded", classes="size_class").design,
               "propensity_classes": adjust_nonresponse(
                   d, "responded", propensity="C(practice_form) + C(phys_class) + C(practice_type)").design}
    return {name: {t: float(des.mean(t, na_rm=True)["estimate"].iloc[0]) for t in TARGETS}
            for name, des in designs.items()}


def study(samples: int = 100, first_seed: int = 1, progress: bool = False) -> dict:
    from schemas import load_instrument
    from surveydata.simulate import simulate_population
    from surveydata.simulate.truth import analysis_variables

    t0 = time.perf_counter()
    population = simulate_population(POPULATION_SEED)
    av = analysis_variables(population)
    values = pd.DataFrame({"practice_id": population["practice_id"].to_numpy(),
                           "tech_share": av["tech_share"].astype(float).to_numpy(),
                           "guideline_full": (population["guideline_implementation"] == 1).astype(float).to_numpy()})
    frame = pd.DataFrame({"practice_id": population["practice_id"].to_numpy(),
                          "practice_form": population["practice_form"].astype(str).to_numpy(),
                          "practice_type": population["practice_type"].astype(str).to_numpy(),
                          "phys_class": _phys_class(population["n_physicians"].to_numpy()),
                          "size_class": av["kbv_size_class"].astype(str).to_numpy()})
    truth = {t: float(values[t].mean()) for t in TARGETS}
    instrument = load_instrument()
    runs = []
    for s in range(first_seed, first_seed + samples):
        runs.append(one_sample(population, frame, values, instrument, s))
        if progress and len(runs) % 10 == 0:
            print(f"{len(runs)} samples, {time.perf_counter() - t0:.0f} s", flush=True)
    out = {}
    for t in TARGETS:
        base_bias = np.mean([r["base_weights"][t] for r in runs]) - truth[t]
        rows = {}
        for name in runs[0]:
            est = np.array([r[name][t] for r in runs])
            bias = est.mean() - truth[t]
            rows[name] = {"mean_estimate": round(float(est.mean()), 6), "bias": round(float(bias), 6),
                          "bias_over_mc_sd": round(float(bias / est.std(ddof=1)), 3),
                          "share_of_base_bias_removed": round(float(1 - bias / base_bias), 3)}
        out[t] = {"population_value": round(truth[t], 6), "analyses": rows}
    return {"description": __doc__.strip().splitlines()[0], "population_seed": POPULATION_SEED,
            "samples": samples, "targets": out, "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res = study(args.samples, progress=True)
    seconds = res.pop("seconds")
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    for t, v in res["targets"].items():
        print(t, v["population_value"])
        print(pd.DataFrame(v["analyses"]).T)
    print(f"{args.samples} samples in {seconds} s -> {args.out}")


if __name__ == "__main__":
    main()
