"""The embedded demo survey: a simulated SiRiPrax-sized survey (about 1,600 responding practices).

The files under ``surveydata/demo/`` were written by ``surveydata simulate`` with the settings in
`DEMO_SETTINGS` (a test regenerates them byte for byte):

- ``export.csv``: the raw platform export (German Excel CSV, with planted data errors);
- ``strata.csv``: stratum, N_h, n_invited, n_responded;
- ``truth.json``: the population truth, census model coefficients and the planted errors;
- ``README.md``: how it was made.

``load_demo()`` reads and validates the export against the default study (`schemas.load_study()`,
whose declaration names the strata) and adds the design columns, ready for
``analysis.SurveyDesign(df, weights="w", strata="stratum", fpc="N_h")``:

- ``stratum``: the codes of the default study's strata variables joined with "-" (e.g. "3-BY"),
  the sampling stratum;
- ``N_h``: practices in the stratum (population frame);
- ``n_h``: valid responses in the stratum;
- ``w``: base weight N_h / n_h (respondents treated as a simple random sample of their stratum,
  so the weights of each stratum add up to N_h).

>>> df = load_demo()
>>> {"stratum", "N_h", "w"} <= set(df.columns)
True
>>> bool(abs(df["w"].sum() - 141655) < 1e-6)
True
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

import schemas
from surveydata.io import read_export
from surveydata.languages import check_lang
from surveydata.strata import attach_design
from surveydata.validate import validate

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_SETTINGS = {"seed": 2023, "n_invited": 8000, "response_rate": 0.2, "error_rate": 0.03}
DESIGN_COLUMNS = ("stratum", "N_h", "n_h", "w")


def demo_path(name: str = "export.csv") -> Path:
    """Path of a demo file (export.csv, strata.csv, truth.json, README.md).

    >>> demo_path().name
    'export.csv'
    """
    path = DEMO_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"demo file {path} is missing: regenerate it with "
                                f"surveydata simulate --seed {DEMO_SETTINGS['seed']} --out {DEMO_DIR}")
    return path


def load_demo_truth() -> dict:
    """The demo's truth.json (population values, census models, planted errors).

    >>> {"population", "planted_errors"} <= set(load_demo_truth())
    True
    """
    return json.loads(demo_path("truth.json").read_text(encoding="utf-8"))


def load_demo(raw: bool = False, lang: str = "de") -> pd.DataFrame:
    """The demo survey: validated with design columns (default), or the raw export (``raw=True``).

    The validated frame holds the valid rows only, its categories labelled in ``lang`` ("de" or
    "en", as the report editions); ``load_demo(raw=True)`` returns every record of the export as
    text, exactly as ``surveydata.read_export`` reads it. Each call returns a fresh copy.

    >>> raw = load_demo(raw=True)
    >>> len(raw) > len(load_demo())
    True
    >>> de, en = load_demo(), load_demo(lang="en")
    >>> col = next(c for c in de.columns if de[c].dtype == "category")
    >>> list(de[col].cat.categories) == list(en[col].cat.categories)
    False
    """
    if raw:
        return _raw().copy()
    return _validated(lang).copy()


@lru_cache(maxsize=1)
def _study():
    return schemas.load_study(None)


def demo_study_name() -> str:
    """Name of the study the demo belongs to: the packaged default study.

    >>> isinstance(demo_study_name(), str)
    True
    """
    return _study().name


def _instrument():
    return _study().instrument


@lru_cache(maxsize=1)
def _raw() -> pd.DataFrame:
    return read_export(demo_path("export.csv"), _instrument())


@lru_cache(maxsize=2)
def _validated(lang: str = "de") -> pd.DataFrame:
    check_lang(lang)
    raw = _raw()
    valid = validate(raw, _instrument(), lang=lang).valid
    strata = pd.read_csv(demo_path("strata.csv"), dtype={"stratum": "str"}).set_index("stratum")
    try:
        df = attach_design(valid, raw, strata, _study().design.strata)
    except ValueError as err:
        raise ValueError(f"{demo_path('export.csv')} against {demo_path('strata.csv')}: {err}") from err
    df.attrs["source"] = {"export": str(demo_path("export.csv")), "settings": dict(DEMO_SETTINGS),
                          "sha256": raw.attrs.get("export", {}).get("sha256")}
    return df
