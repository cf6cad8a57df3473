"""Monte Carlo check of the design-based prevalence estimators, end to end, on the simulator's truth.

    python -m benchmarks.pipeline_coverage --reps 200     # writes benchmarks/pipeline_coverage.json (+ .md)

One finite population (``surveydata.simulate.simulate_population``, seed 20261128, 141,655
practices) and its census values (``population_truth``) are the targets. Each replicate r draws
the simulator's stratified sample (80 strata practice_type x federal_state, power allocation,
8,000 invited, at least 40 per stratum, response rate 25%, ~2,000 respondents) with the seed r,
under two nonresponse models:

- ``ignorable``: ``NonresponseModel.ignorable()``, response at random within strata and no item
  nonresponse, so the respondents are a stratified simple random sample (weights N_h/n_h, fpc N_h);
- ``informative``: the simulator's default ``NonresponseModel()``: aware, larger and incident
  practices respond more, plus item nonresponse (-9) that rises with low IT affinity.

Each sample is analysed three ways:

- ``naive``: unweighted respondent mean, iid SE s/sqrt(n) (what a spreadsheet gives);
- ``base``: ``SurveyDesign(weights="w", strata="stratum", fpc="N_h")``, w = N_h / n_h;
- ``raked``: the base design raked (``SurveyDesign.rake``) to the population margins of
  ``schemas.load_population_margins()``: practice_type x federal_state jointly (the strata) and
  practice_form with code 4 (Praxisgemeinschaft) collapsed into 1, as the margins file says.

Estimands (shares among the practices *asked* the item, "don't know" in the denominator, as
``population_truth``; an unanswered item (-9) is left out, i.e. treated as missing at random):
incident_12m yes, guideline_implementation fully, tm_backup_plan fully, training_12m all staff,
and the domain mean of tech_share by practice_type (5 domains). For each scenario x estimator x
estimand it records the bias against the census value, the Monte Carlo SD of the estimates, the
mean estimated SE and its ratio to the Monte Carlo SD, and the coverage of the 95% intervals
(normal, as the package's default ``mean`` CI; the naive ones est +/- 1.96 SE).

Monte Carlo error with R replicates: a single coverage of 0.95 has SE sqrt(.95 * .05 / R)
(1.5 points at R = 200, 0.97 at 500); an SE/SD ratio has relative SE about 1/sqrt(2(R - 1)) (5.0% at
200, 3.2% at 500). Both are written into the JSON, with the SE of each pooled coverage computed
from the per-replicate means (so the correlation between estimands is accounted for).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

OUT = Path(__file__).resolve().parent / "pipeline_coverage.json"
POPULATION_SEED = 20261128
N_INVITED = 8000
RESPONSE_RATE = 0.25
MIN_INVITED = 40       # per stratum, so a stratum is rarely left with under 2 respondents
# A stratum with a single respondent (P ~ 1.5e-4 per stratum at 40 invited x 25%; it happened in
# the recorded runs: "fewest_respondents_in_a_stratum" is 1) is centred on the mean of the whole
# sample, as R's survey.lonely.psu = "adjust". No stratum was ever left empty (raking to the
# strata margin would have failed; 0.75^40 ~ 1e-5 per stratum).
LONELY_PSU = "adjust"

NOT_ASKED, NO_ANSWER = -7, -9
#: estimand -> (item, code whose share is estimated)
PREVALENCES = {
    "incident_12m_yes": ("incident_12m", 1),
    "guideline_implementation_fully": ("guideline_implementation", 1),
    "tm_backup_plan_fully": ("tm_backup_plan", 1),
    "training_12m_all": ("training_12m", 1),
}
DOMAIN_VARIABLE, DOMAIN = "tech_share", "practice_type"
DOMAIN_LEVELS = (1, 2, 3, 4, 5)
ESTIMANDS = list(PREVALENCES) + [f"{DOMAIN_VARIABLE}_by_{DOMAIN}_{k}" for k in DOMAIN_LEVELS]
ESTIMATORS = ("naive", "base", "raked")
SCENARIOS = ("ignorable", "informative")
Z = float(stats.norm.ppf(0.975))


def nonresponse_model(scenario: str):
    """The simulator's nonresponse model for a scenario name."""
    from surveydata.simulate.sample import NonresponseModel

    if scenario == "ignorable":
        return NonresponseModel.ignorable()
    if scenario == "informative":
        return NonresponseModel()
    raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")


def census_values(truth: dict) -> np.ndarray:
    """The targets, in the order of ESTIMANDS, read from ``population_truth``."""
    prev = truth["prevalence"]
    values = [prev["incident_12m_yes"], prev["guideline_implementation_fully"],
              prev["tm_fully"]["tm_backup_plan"], prev["training_12m_all"]]
    values += [truth["by_practice_type"][str(k)][f"{DOMAIN_VARIABLE}_mean"] for k in DOMAIN_LEVELS]
    return np.array(values, dtype=float)


def raking_margins(margins: dict) -> dict:
    """Rake targets: the strata (type x state) jointly and the form with code 4 counted as 1."""
    return {("practice_type", "federal_state"): margins["practice_type_x_federal_state"],
            "form_for_raking": margins["practice_form"]}


def analysis_frame(respondents: pd.DataFrame, collapse: dict) -> pd.DataFrame:
    """Respondents with the 0/1 indicators (NaN where not asked or unanswered) and tech_share."""
    from surveydata.simulate.truth import analysis_variables

    r = analysis_variables(respondents)
    for name, (item, code) in PREVALENCES.items():
        x = r[item]
        r[name] = (x == code).astype(float).where(~x.isin([NOT_ASKED, NO_ANSWER]))
    r["form_for_raking"] = r["practice_form"].replace(collapse)
    return r


def naive_estimates(r: pd.DataFrame) -> np.ndarray:
    """Unweighted means and iid SEs: rows (estimand) x (estimate, se)."""
    out = []
    for name in PREVALENCES:
        y = r[name].dropna()
        out.append((y.mean(), y.std(ddof=1) / np.sqrt(len(y))))
    g = r.dropna(subset=[DOMAIN_VARIABLE]).groupby(DOMAIN)[DOMAIN_VARIABLE]
    stats_by = g.agg(["mean", "std", "count"]).reindex(list(DOMAIN_LEVELS))
    out += list(zip(stats_by["mean"], stats_by["std"] / np.sqrt(stats_by["count"])))
    return np.array(out)


def design_estimates(design) -> np.ndarray:
    """Design-based estimates, SEs and the package's 95% CI: rows (estimand) x (est, se, lo, hi)."""
    cols = ["estimate", "se", "ci_low", "ci_high"]
    # one variable at a time: na_rm on several variables would drop rows missing in any of them
    rows = [design.mean(name, na_rm=True)[cols].to_numpy()[0] for name in PREVALENCES]
    dom = design.by(DOMAIN).mean(DOMAIN_VARIABLE, na_rm=True)
    dom = dom.reset_index(level="variable", drop=True).reindex(list(DOMAIN_LEVELS))
    return np.vstack(rows + [dom[cols].to_numpy()])


def one_replicate(population, instrument, margins, scenario: str, seed: int) -> dict:
    """Draw one sample and analyse it three ways: (estimand, estimator, [est, se, lo, hi])."""
    from analysis import SurveyDesign
    from surveydata.simulate import draw_sample

    sample = draw_sample(population, seed=seed, n_invited=N_INVITED, response_rate=RESPONSE_RATE,
                         min_invited=MIN_INVITED, model=nonresponse_model(scenario),
                         instrument=instrument)
    r = analysis_frame(sample.respondents, margins["practice_form"].attrs["collapse_for_raking"])
    res = np.empty((len(ESTIMANDS), len(ESTIMATORS), 4))
    naive = naive_estimates(r)
    res[:, 0, :2] = naive
    res[:, 0, 2] = naive[:, 0] - Z * naive[:, 1]
    res[:, 0, 3] = naive[:, 0] + Z * naive[:, 1]
    base = SurveyDesign(r, weights="w", strata="stratum", fpc="N_h", lonely_psu=LONELY_PSU)
    res[:, 1] = design_estimates(base)
    res[:, 2] = design_estimates(base.rake(raking_margins(margins)))
    return {"seed": seed, "n": len(r), "min_stratum_n": int(sample.strata["n_responded"].min()),
            "results": res}


# Work shared with forked workers (the population is simulated once and inherited, not pickled).
_SHARED: dict = {}


def _run(task: tuple[str, int]) -> dict:
    return one_replicate(_SHARED["population"], _SHARED["instrument"], _SHARED["margins"], *task)


def summarise(runs: list[dict], truth: np.ndarray) -> dict:
    """Bias, Monte Carlo SD, mean SE, SE/SD and coverage per estimator and estimand."""
    res = np.stack([r["results"] for r in runs])          # (reps, estimand, estimator, 4)
    est, se, lo, hi = (res[..., k] for k in range(4))
    t = truth[None, :, None]
    covered = (lo <= t) & (t <= hi)
    mc_sd = est.std(axis=0, ddof=1)
    reps = len(runs)
    out = {}
    for j, name in enumerate(ESTIMATORS):
        per = pd.DataFrame({
            "truth": truth,
            "mean_estimate": est[:, :, j].mean(axis=0),
            "bias": est[:, :, j].mean(axis=0) - truth,
            "bias_over_mc_sd": (est[:, :, j].mean(axis=0) - truth) / mc_sd[:, j],
            "mc_sd": mc_sd[:, j],
            "mean_se": se[:, :, j].mean(axis=0),
            "se_over_mc_sd": se[:, :, j].mean(axis=0) / mc_sd[:, j],
            "rmse": np.sqrt(((est[:, :, j] - truth) ** 2).mean(axis=0)),
            "coverage_95": covered[:, :, j].mean(axis=0),
        }, index=ESTIMANDS)
        per_rep = covered[:, :, j].mean(axis=1)   # share of estimands covered in each replicate
        out[name] = {
            "pooled_coverage_95": float(per_rep.mean()),
            "mc_se_of_pooled_coverage": float(per_rep.std(ddof=1) / np.sqrt(reps)),
            "mean_se_over_mc_sd": float(per["se_over_mc_sd"].mean()),
            "per_estimand": json.loads(per.to_json(orient="index", double_precision=15)),
        }
    return out


def study(reps: int = 200, first_seed: int = 1, scenarios=SCENARIOS, jobs: int = 1,
          progress: bool = False) -> dict:
    """Run the Monte Carlo study and return its summary (see the module docstring).

    >>> res = study(reps=2, scenarios=("ignorable",))        # doctest: +SKIP
    >>> res["scenarios"]["ignorable"]["base"]["pooled_coverage_95"]   # doctest: +SKIP
    """
    import schemas
    from surveydata.simulate import simulate_population
    from surveydata.simulate.truth import population_truth

    if reps < 2:
        raise ValueError(f"reps must be at least 2 (a Monte Carlo SD needs two samples), got {reps}")
    t0 = time.perf_counter()
    population = simulate_population(POPULATION_SEED)
    truth = census_values(population_truth(population))
    _SHARED.update(population=population, instrument=schemas.load_instrument(),
                   margins=schemas.load_population_margins())
    seeds = list(range(first_seed, first_seed + reps))
    tasks = [(sc, s) for sc in scenarios for s in seeds]
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            runs = list(pool.map(_run, tasks, chunksize=10))
    else:
        runs = [_run(task) for task in tasks]
    _SHARED.clear()
    if progress:
        print(f"{len(tasks)} samples in {time.perf_counter() - t0:.0f} s", flush=True)
    result = {
        "description": __doc__.strip().splitlines()[0],
        "population_seed": POPULATION_SEED, "population_size": len(population),
        "reps": reps, "sample_seeds": [seeds[0], seeds[-1]],
        "n_invited": N_INVITED, "min_invited": MIN_INVITED, "response_rate": RESPONSE_RATE,
        "lonely_psu": LONELY_PSU, "ci": "normal, 95%",
        "estimands": ESTIMANDS, "estimators": list(ESTIMATORS),
        "truth": dict(zip(ESTIMANDS, truth.tolist())),
        "mc_se_of_a_coverage": float(np.sqrt(0.95 * 0.05 / reps)),
        "mc_relative_se_of_an_sd": float(1 / np.sqrt(2 * (reps - 1))),
        "scenarios": {},
    }
    for sc in scenarios:
        mine = [r for (s, _), r in zip(tasks, runs) if s == sc]
        result["scenarios"][sc] = {
            "nonresponse_model": nonresponse_model(sc).to_dict(),
            "mean_respondents": float(np.mean([r["n"] for r in mine])),
            "fewest_respondents_in_a_stratum": min(r["min_stratum_n"] for r in mine),
            **summarise(mine, truth),
        }
    return round_floats(result)


def round_floats(obj):
    """Floats to 8 significant digits (far below Monte Carlo error): a stable, diffable JSON."""
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v) for v in obj]
    if isinstance(obj, float):
        return float(f"{obj:.8g}")
    return obj


def summary_table(result: dict, scenario: str) -> pd.DataFrame:
    """One row per estimand, columns bias / coverage / SE:SD for each estimator."""
    sc = result["scenarios"][scenario]
    parts = {}
    for est in result["estimators"]:
        per = pd.DataFrame(sc[est]["per_estimand"]).T
        parts[est] = per[["bias", "coverage_95", "se_over_mc_sd"]].rename(
            columns={"coverage_95": "cover", "se_over_mc_sd": "se/sd"})
    table = pd.concat(parts, axis=1)
    table.insert(0, ("", "truth"), pd.Series(result["truth"]))
    return table


def markdown(result: dict) -> str:
    lines = [f"# {result['description']}", "",
             (f"Generated by `python -m benchmarks.pipeline_coverage --reps {result['reps']}` "
             f"(population seed {result['population_seed']}, sample seeds "
             f"{result['sample_seeds'][0]}-{result['sample_seeds'][1]}). Monte Carlo SE of one "
             f"coverage: {100 * result['mc_se_of_a_coverage']:.1f} points; relative SE of one "
             f"SE/SD ratio: {100 * result['mc_relative_se_of_an_sd']:.1f}%."), "",
             ("naive: unweighted mean, iid SE; base: weights N_h/n_h, strata, fpc; raked: base "
             "raked to practice_type x federal_state and practice_form (code 4 as 1). bias = mean "
             "estimate - census value; cover = share of 95% intervals containing the census value; "
             "se/sd = mean estimated SE / Monte Carlo SD of the estimates. Under *ignorable* "
             "nonresponse the respondents are a stratified SRS; under *informative* nonresponse "
             "response rises with awareness, size and incidents, which no weighting margin carries."),
             ""]
    for sc, body in result["scenarios"].items():
        lines += [f"## {sc} nonresponse ({body['mean_respondents']:.0f} respondents on average)", ""]
        pooled = ", ".join(f"{e} {100 * body[e]['pooled_coverage_95']:.1f}% "
                           f"(+/- {100 * body[e]['mc_se_of_pooled_coverage']:.1f})"
                           for e in result["estimators"])
        lines += [f"Pooled coverage of the 95% intervals: {pooled}.", ""]
        t = summary_table(result, sc)
        head = "| estimand | truth | " + " | ".join(f"{e} {c}" for e, c in t.columns[1:]) + " |"
        lines += [head, "|" + "---|" * (len(t.columns) + 1)]
        for name, row in t.iterrows():
            cells = [f"{row.iloc[0]:.4f}"]
            for (e, c), v in zip(t.columns[1:], row.iloc[1:]):
                cells.append(f"{v:+.4f}" if c == "bias" else f"{v:.3f}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help="JSON file; a .md summary goes beside it")
    args = ap.parse_args(argv)
    res = study(args.reps, args.first_seed, tuple(args.scenarios), jobs=args.jobs, progress=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(res) + "\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.4f}".format):
        for sc in res["scenarios"]:
            body = res["scenarios"][sc]
            print(f"\n{sc} nonresponse, {args.reps} samples; pooled coverage " + ", ".join(
                f"{e} {body[e]['pooled_coverage_95']:.3f}" for e in res["estimators"]))
            print(summary_table(res, sc))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
