"""One simulated survey end to end: population -> sample -> export, with its truth, as files.

``simulate_dataset(seed, ...)`` runs the three stages with seeds spawned from one master seed
(``numpy.random.SeedSequence(seed).spawn(3)``) and computes the truth; ``write_dataset`` writes

- ``export.csv``: the platform export (semicolon, Windows-1252, decimal comma, planted errors);
- ``strata.csv``: stratum, N_h, n_invited, n_responded (UTF-8, comma);
- ``truth.json``: population values, census model coefficients, sample facts (unweighted and
  base-weighted estimates and their expected bias), the generating parameters, and
  ``planted_errors`` (response_id -> what was planted);
- ``README.md``: what the run is and how it was made.

No timestamps and no absolute paths go into the files: the same arguments give byte-identical files.

>>> ds = simulate_dataset(seed=5, n_invited=2000, response_rate=0.2, error_rate=0.05)
>>> sorted(ds.files)
['README.md', 'export.csv', 'strata.csv', 'truth.json']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .export import ERROR_SHARES, make_export
from .population import simulate_population
from .sample import draw_sample
from .truth import _truth_spec, analysis_variables, census_models, population_truth, round_floats


@dataclass
class Dataset:
    """The four files of a simulated survey (name -> bytes) and the objects they came from."""

    files: dict
    truth: dict
    export: object
    sample: object


def stage_seeds(seed: int) -> dict:
    """Independent seeds for the three stages, spawned from the master seed.

    >>> stage_seeds(1) == stage_seeds(1)
    True
    """
    children = np.random.SeedSequence(int(seed)).spawn(3)
    return {name: int(c.generate_state(1, dtype=np.uint32)[0])
            for name, c in zip(("population", "sample", "export"), children)}


def _respondent_values(d: pd.DataFrame, values, inst, weights=None) -> dict:
    """The declared sample values from respondents (not asked and no answer excluded from each
    share's denominator): ``{share: item, code: c}`` or ``{mean: column}``."""
    w = np.ones(len(d)) if weights is None else np.asarray(weights, dtype=float)

    def share(col, code):
        item = inst.item(col)
        ok = (d[col] != item.not_applicable) & (d[col] != item.no_answer)
        return float(np.sum(w * ok * (d[col] == code)) / np.sum(w * ok))

    return {name: share(q["var"], q["code"]) if q["kind"] == "share" else
            float(np.sum(w * d[q["formula"].text.strip()]) / np.sum(w)) for name, q in values.items()}


def simulate_dataset(seed: int, n_invited: int = 8000, response_rate: float = 0.2, error_rate: float = 0.05,
                     params=None, instrument=None, study=None) -> Dataset:
    """Run population, sample and export for one master seed and compute the truth.

    >>> ds = simulate_dataset(seed=5, n_invited=2000)
    >>> ds.truth["sample"]["n_invited"]
    2000
    """
    st, spec, t = _truth_spec(study)
    inst = instrument or st.instrument
    seeds = stage_seeds(seed)
    pop = simulate_population(seeds["population"], params, instrument=inst, study=study)
    sample = draw_sample(pop, seeds["sample"], n_invited=n_invited, response_rate=response_rate, instrument=inst,
                         study=study)
    export = make_export(sample, seeds["export"], error_rate=error_rate, instrument=inst)

    pop_vars = analysis_variables(pop, study)
    pop_truth = population_truth(pop, inst, variables=pop_vars, study=study)
    models = census_models(pop, variables=pop_vars, study=study)
    resp = analysis_variables(sample.respondents, study)
    values = t["sample"]["values"]
    id_col = spec.frame["id"]
    columns = [q["var"] if q["kind"] == "share" else q["formula"].text.strip() for q in values.values()]
    invited = sample.invited.merge(pop_vars[[id_col, *columns]], on=id_col, how="left", validate="one_to_one")
    key = tuple(values)
    texts = t["texts"]
    truth = {
        "about": texts["about"],
        "seed": int(seed),
        "stage_seeds": seeds,
        "instrument": {"name": inst.name, "version": inst.version},
        "population": pop_truth,
        "models": models,
        "sample": {
            "n_invited": int(sample.strata["n_invited"].sum()),
            "n_responded": len(sample.respondents),
            "response_rate": len(sample.respondents) / int(sample.strata["n_invited"].sum()),
            "n_strata": len(sample.strata),
            "truth": {k: pop_truth["prevalence"][k] for k in key},
            "unweighted": _respondent_values(resp, values, inst),
            "base_weighted": _respondent_values(resp, values, inst, resp["w"]),
            "expected_unweighted": _respondent_values(invited, values, inst, sample.invited["p_response"]),
            "bias_direction": dict(t["sample"]["bias_direction"]),
            "settings": sample.settings,
        },
        "export": {"n_rows": len(export.frame), "error_rate": float(error_rate),
                   "planted_by_kind": {k: sum(v["kind"] == k for v in export.planted.values()) for k in ERROR_SHARES},
                   "format": "semicolon-separated, Windows-1252, CRLF, decimal comma in duration_s"},
        "generating_model": {"population": pop.attrs["params"], "levels": pop.attrs["levels"]},
        "planted_errors": export.planted,
    }
    truth = round_floats(truth)
    files = {
        "export.csv": export.to_bytes(),
        "strata.csv": sample.strata.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "truth.json": (json.dumps(truth, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"),
        "README.md": _readme(truth, texts, "-".join(st.design.strata)).encode("utf-8"),
    }
    return Dataset(files=files, truth=truth, export=export, sample=sample)


def write_dataset(dataset: Dataset, out_dir) -> list[Path]:
    """Write the dataset's files into ``out_dir`` (created if needed); returns the paths.

    >>> import tempfile
    >>> paths = write_dataset(simulate_dataset(5, n_invited=2000), tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['README.md', 'export.csv', 'strata.csv', 'truth.json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in sorted(dataset.files):
        path = out / name
        path.write_bytes(dataset.files[name])
        paths.append(path)
    return paths


def _readme(t: dict, texts, strata: str) -> str:
    s = t["sample"]
    rows = "\n".join(
        f"| {k} | {s['truth'][k]:.4f} | {s['unweighted'][k]:.4f} | {s['base_weighted'][k]:.4f} | "
        f"{s['expected_unweighted'][k]:.4f} |" for k in s["truth"])
    kinds = "\n".join(f"| {k} | {v} |" for k, v in t["export"]["planted_by_kind"].items())
    return f"""# Simulated survey: {texts['title']} (seed {t['seed']})

Made by `surveydata simulate --seed {t['seed']} --n-invited {s['n_invited']} --response-rate \
{s['settings']['response_rate']} --error-rate {t['export']['error_rate']}` (instrument \
{t['instrument']['name']} {t['instrument']['version']}). The same arguments give byte-identical files.

Stage seeds (spawned from the master seed): population {t['stage_seeds']['population']}, \
sample {t['stage_seeds']['sample']}, export {t['stage_seeds']['export']}.

## Files

- `export.csv`: what a survey platform exports: {t['export']['format']}; {t['export']['n_rows']} rows.
- `strata.csv`: the design: stratum ({strata}), N_h, n_invited, n_responded.
- `truth.json`: population values (`population`), census model coefficients (`models`), sample
  facts (`sample`), the generating parameters (`generating_model`) and `planted_errors`
  (response_id -> kind, column, value written, original value, expected validator outcome).

## Design

Stratified random sample of {s['n_invited']} {texts['units']} in {s['n_strata']} strata ({texts['strata']}, power allocation n_h ~ N_h^{s['settings']['allocation_power']}, at least \
{s['settings']['min_invited']} per stratum), {s['n_responded']} responded \
({100 * s['response_rate']:.1f} %). Base weight w = N_h / n_responded_h.

{texts['nonresponse']}

| quantity | population truth | unweighted | base-weighted | expected unweighted |
|---|---:|---:|---:|---:|
{rows}

## Planted errors

| kind | rows |
|---|---:|
{kinds}

`speeder` rows must be flagged (not quarantined); every other kind must be quarantined. A
`duplicate_row` is an exact copy: the validator keeps one copy and quarantines the other.
"""
