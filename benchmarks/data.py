"""The synthetic survey every side of the benchmark reads.

A stratified two-level sample as the reference README describes it: 100 strata x 20 PSUs (PSU ids
are unique across strata), lognormal weights that vary between strata, six covariates (one with a
PSU effect, so the design matters), a binary outcome from a logistic model with a PSU random
effect, 16 domains and three categorical raking margins whose population totals differ from the
weighted sample totals.

It is written ONCE per size under ``benchmarks/data/`` (gitignored):

- ``design_<rows>.parquet``  read by the project and by svy (polars)
- ``design_<rows>.csv``      read by R (Debian has no arrow package for R); floats are written with
  the shortest round-trip decimal, so R reads bit-identical doubles
- ``margins_<rows>.json``    population totals of the three raking margins, by level
- ``meta_<rows>.json``       generator version, seed and sha256 of the two data files

Example
-------
>>> from benchmarks.data import paths_for
>>> paths_for(4000).parquet.name        # ensure_data(4000) writes these files once
'design_4000.parquet'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
GENERATOR_VERSION = 1
SEED = 20261128

N_STRATA = 100
PSUS_PER_STRATUM = 20
N_DOMAINS = 16
COVARIATES = ("x1", "x2", "x3", "x4", "x5", "x6")
MEAN_VARS = COVARIATES  # the "mean of 6 variables" and domain-mean steps use the covariates
OUTCOME = "y"
# True logistic coefficients (intercept first); the fit must recover roughly these.
BETA = np.array([-1.0, 0.5, -0.3, 0.8, 0.6, -0.1, 0.2])
# Raking margins: levels 1..k; `sample` shares are how the sample falls, `population` shares what
# the population totals say, so raking has real work to do.
MARGINS = {
    "m1": {"sample": [0.30, 0.30, 0.20, 0.20], "population": [0.25, 0.25, 0.25, 0.25]},
    "m2": {"sample": [0.50, 0.30, 0.20], "population": [0.40, 0.35, 0.25]},
    "m3": {"sample": [0.10, 0.15, 0.20, 0.25, 0.30], "population": [0.20, 0.20, 0.20, 0.20, 0.20]},
}
# Population size relative to the sum of the sample weights (raking also rescales).
POPULATION_INFLATION = 1.05


@dataclass(frozen=True)
class DataPaths:
    rows: int
    parquet: Path
    csv: Path
    margins: Path
    meta: Path


def paths_for(rows: int, data_dir: Path = DATA_DIR) -> DataPaths:
    return DataPaths(
        rows=rows,
        parquet=data_dir / f"design_{rows}.parquet",
        csv=data_dir / f"design_{rows}.csv",
        margins=data_dir / f"margins_{rows}.json",
        meta=data_dir / f"meta_{rows}.json",
    )


def make_design(rows: int, seed: int = SEED) -> tuple[pd.DataFrame, dict[str, dict[int, float]]]:
    """Draw the synthetic sample and the population totals of its raking margins.

    Rows are spread as evenly as possible over the 2,000 PSUs (at least 2 per PSU).

    >>> df, margins = make_design(4000)
    >>> df.shape, df["stratum"].nunique(), df["psu"].nunique(), sorted(margins)
    ((4000, 14), 100, 2000, ['m1', 'm2', 'm3'])
    """
    n_psu = N_STRATA * PSUS_PER_STRATUM
    if rows < 2 * n_psu:
        raise ValueError(f"rows={rows}: need at least {2 * n_psu} rows (2 per PSU)")
    rng = np.random.default_rng(seed)

    # Row -> PSU (1..2000, unique across strata) -> stratum (1..100).
    psu = (np.arange(rows) * n_psu // rows).astype(np.int32)  # 0-based, sorted, near-equal sizes
    stratum = psu // PSUS_PER_STRATUM
    stratum_effect = rng.normal(0.0, 0.4, N_STRATA)
    psu_effect = rng.normal(0.0, 0.5, n_psu)

    # Lognormal weights: stratum level plus row noise (mean weight about 50).
    w = np.exp(3.8 + stratum_effect[stratum] + rng.normal(0.0, 0.5, rows))

    x1 = rng.normal(0.0, 1.0, rows) + psu_effect[psu]          # clustered covariate
    x2 = rng.normal(0.0, 1.0, rows)
    x3 = rng.uniform(0.0, 1.0, rows)
    x4 = (rng.uniform(0.0, 1.0, rows) < 0.2 + 0.2 * (stratum % 3 == 0)).astype(np.float64)
    x5 = rng.poisson(2.0, rows).astype(np.float64)
    x6 = 0.5 * x1 + rng.normal(0.0, 1.0, rows)
    X = np.column_stack([np.ones(rows), x1, x2, x3, x4, x5, x6])
    eta = X @ BETA + rng.normal(0.0, 0.3, n_psu)[psu]
    y = (rng.uniform(0.0, 1.0, rows) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)

    domain_p = np.linspace(1.0, 2.5, N_DOMAINS)
    domain = rng.choice(np.arange(1, N_DOMAINS + 1), size=rows, p=domain_p / domain_p.sum())

    df = pd.DataFrame(
        {
            "stratum": (stratum + 1).astype(np.int32),
            "psu": (psu + 1).astype(np.int32),
            "w": w,
            OUTCOME: y,
            "x1": x1, "x2": x2, "x3": x3, "x4": x4, "x5": x5, "x6": x6,
            "domain": domain.astype(np.int32),
        }
    )
    for name, spec in MARGINS.items():
        levels = np.arange(1, len(spec["sample"]) + 1)
        df[name] = rng.choice(levels, size=rows, p=spec["sample"]).astype(np.int32)

    population = POPULATION_INFLATION * float(w.sum())
    margins = {
        name: {int(level): population * share for level, share in enumerate(spec["population"], 1)}
        for name, spec in MARGINS.items()
    }
    return df, margins


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ensure_data(rows: int, data_dir: Path = DATA_DIR) -> DataPaths:
    """Write the design files for `rows` once; reuse them while the generator is unchanged."""
    paths = paths_for(rows, data_dir)
    if paths.meta.exists():
        meta = json.loads(paths.meta.read_text())
        files_ok = paths.parquet.exists() and paths.csv.exists() and paths.margins.exists()
        if files_ok and meta.get("generator_version") == GENERATOR_VERSION and meta.get("seed") == SEED:
            return paths
    data_dir.mkdir(parents=True, exist_ok=True)
    df, margins = make_design(rows)
    df.to_parquet(paths.parquet, index=False)
    df.to_csv(paths.csv, index=False)  # float repr is the shortest round-trip string
    paths.margins.write_text(json.dumps(margins, indent=1))
    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "rows": rows,
        "sha256": {p.name: _sha256(p) for p in (paths.parquet, paths.csv, paths.margins)},
    }
    paths.meta.write_text(json.dumps(meta, indent=1))
    return paths


def read_margins(path: Path) -> dict[str, dict[int, float]]:
    """Population totals by margin and level, as written by `ensure_data`."""
    raw = json.loads(Path(path).read_text())
    return {name: {int(k): float(v) for k, v in levels.items()} for name, levels in raw.items()}
