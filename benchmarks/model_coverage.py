"""Monte Carlo check of svyglm's design-based inference on the simulator's known truth.

    python -m benchmarks.model_coverage --samples 300        # writes benchmarks/model_coverage.json

One finite population (surveydata.simulate, seed 20260301) and its census fit of the incident model
(surveydata.simulate.truth.census_models: incident ~ tech_index + org_index + n_info_sources +
C(kbv_size_class) + C(practice_type), logistic, all practices answering yes/no) give the target
coefficients. Each replicate draws the stratified sample of the simulator (power allocation over
the 80 strata, 8,000 invited, at least 40 per stratum) with nonresponse missing completely at random within strata
(response rate 25%, ~2,000 respondents; no item nonresponse: NonresponseModel.ignorable()), so the respondents are a stratified
simple random sample with weights N_h/n_h and fpc N_h: the design the analysis declares. (With the
simulator's informative nonresponse the base weights would be biased for some coefficients,
which is a weighting question, not a variance one.)

Per coefficient it records: coverage of the 95% t intervals (df = degf + 1 - p) of the census
value; mean design-based SE / Monte Carlo SD of the estimates; and the same for two naive
analyses: statsmodels' GLM with the raw weights as var_weights and its model-based SE (what one
gets without survey software), and the unweighted iid logistic fit.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from analysis.design import SurveyDesign
from analysis.models import svyglm

OUT = Path(__file__).resolve().parent / "model_coverage.json"
POPULATION_SEED = 20260301
MODEL = "incident_logit"
MIN_INVITED = 40     # per stratum, so that (almost) every stratum keeps two respondents


def mcar() -> object:
    """The simulator's ignorable nonresponse: at random within strata, no item nonresponse."""
    from surveydata.simulate import NonresponseModel
    return NonresponseModel.ignorable()


def one_sample(population, instrument, seed: int, formula: str, names: list[str], n_invited: int,
               response_rate: float) -> dict:
    from surveydata.simulate import draw_sample
    from surveydata.simulate.truth import analysis_variables

    sample = draw_sample(population, seed=seed, n_invited=n_invited, response_rate=response_rate,
                         min_invited=MIN_INVITED, model=mcar(), instrument=instrument)
    r = analysis_variables(sample.respondents)
    # a stratum left with one respondent (rare with 40 invited) is handled as R's "adjust"
    design = SurveyDesign(r, weights="w", strata="stratum", fpc="N_h", lonely_psu="adjust")
    fit = svyglm(formula, design, family="binomial")
    ci = fit.conf_int()
    sub = r[r["incident"].notna()]
    # statsmodels' formulas cannot read pandas' nullable Int64 (svyglm can); no value is missing
    sub = sub.astype({c: "int64" for c in ("tech_index", "org_index", "kbv_size_class")})
    raw = smf.glm(formula, sub, family=sm.families.Binomial(), var_weights=sub["w"]).fit()
    iid = smf.glm(formula, sub, family=sm.families.Binomial()).fit()
    return {"seed": seed, "n": fit.nobs, "df": fit.df_resid,
            "est": fit.params[names].to_numpy(), "se": fit.bse[names].to_numpy(),
            "lo": ci["ci_low"][names].to_numpy(), "hi": ci["ci_high"][names].to_numpy(),
            "raw_est": raw.params[names].to_numpy(), "raw_se": raw.bse[names].to_numpy(),
            "iid_est": iid.params[names].to_numpy(), "iid_se": iid.bse[names].to_numpy()}


def study(samples: int = 300, first_seed: int = 1, n_invited: int = 8000, response_rate: float = 0.25,
          progress: bool = False) -> dict:
    """Run the Monte Carlo study and return its summary (see the module docstring)."""
    from schemas import load_instrument
    from surveydata.simulate import simulate_population
    from surveydata.simulate.truth import MODELS, census_models

    t0 = time.perf_counter()
    population = simulate_population(POPULATION_SEED)
    census = census_models(population)[MODEL]
    formula = MODELS[MODEL]["formula"]
    names = list(census["params"])
    truth = np.array([census["params"][k] for k in names])
    instrument = load_instrument()
    runs = []
    for s in range(first_seed, first_seed + samples):
        runs.append(one_sample(population, instrument, s, formula, names, n_invited, response_rate))
        if progress and len(runs) % 25 == 0:
            print(f"{len(runs)} samples, {time.perf_counter() - t0:.0f} s", flush=True)
    stack = {k: np.vstack([r[k] for r in runs]) for k in ("est", "se", "lo", "hi", "raw_est", "raw_se",
                                                          "iid_est", "iid_se")}
    covered = (stack["lo"] <= truth) & (truth <= stack["hi"])
    mc_sd = stack["est"].std(axis=0, ddof=1)
    df = np.array([r["df"] for r in runs], dtype=float)
    q = stats.t.ppf(0.975, df)[:, None]
    raw_cov = np.abs(stack["raw_est"] - truth) <= 1.96 * stack["raw_se"]
    iid_cov = np.abs(stack["iid_est"] - truth) <= 1.96 * stack["iid_se"]
    per = pd.DataFrame({
        "census": truth,
        "mean_estimate": stack["est"].mean(axis=0),
        "relative_bias": (stack["est"].mean(axis=0) - truth) / mc_sd,
        "coverage_95": covered.mean(axis=0),
        "mc_sd": mc_sd,
        "mean_design_se": stack["se"].mean(axis=0),
        "design_se_over_mc_sd": stack["se"].mean(axis=0) / mc_sd,
        "naive_raw_weights_se_over_mc_sd": stack["raw_se"].mean(axis=0) / mc_sd,
        "naive_raw_weights_coverage": raw_cov.mean(axis=0),
        "iid_unweighted_se_over_its_mc_sd": stack["iid_se"].mean(axis=0) / stack["iid_est"].std(axis=0, ddof=1),
        "iid_unweighted_se_over_design_mc_sd": stack["iid_se"].mean(axis=0) / mc_sd,
        "iid_unweighted_coverage_of_census": iid_cov.mean(axis=0),
    }, index=names)
    return {
        "description": __doc__.strip().splitlines()[0],
        "population_seed": POPULATION_SEED, "model": MODEL, "formula": formula,
        "census_n": census["n"], "samples": samples, "sample_seeds": [first_seed, first_seed + samples - 1],
        "n_invited": n_invited, "min_invited": MIN_INVITED, "response_rate": response_rate,
        "lonely_psu": "adjust",
        "mean_respondents_in_model": float(np.mean([r["n"] for r in runs])),
        "mean_t_quantile": float(q.mean()),
        "pooled_coverage_95": float(covered.mean()),
        "mc_se_of_a_coverage": float(np.sqrt(0.95 * 0.05 / samples)),
        "mc_relative_se_of_an_sd": float(1 / np.sqrt(2 * (samples - 1))),
        "per_coefficient": json.loads(per.to_json(orient="index", double_precision=6)),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res = study(args.samples, args.first_seed, progress=True)
    res.pop("seconds")      # the recorded file is deterministic; the time goes to the terminal
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    per = pd.DataFrame(res["per_coefficient"]).T
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(per[["census", "coverage_95", "design_se_over_mc_sd", "naive_raw_weights_se_over_mc_sd",
                   "iid_unweighted_coverage_of_census"]].round(3))
    print(f"pooled coverage {res['pooled_coverage_95']:.3f} over {args.samples} samples -> {args.out}")


if __name__ == "__main__":
    main()
