"""Stage 1: a finite population with known characteristics and outcomes, from the study's declaration.

Every unit carries the answer it *would* give to every item of the instrument (raw codes: -7
where the item's ``ask_if`` is false, -8 where the respondent would say "don't know"), so a census
of the population is the truth an estimator targets. Latent columns (the declaration's
``latent:``) document how the answers were generated; they never reach an export.

The generating model is the ``simulation:`` section of the study (for the packaged default, the
practice study: schemas/studies/practice_security.yaml, whose comments describe its causal
model); `surveydata.simulate.engine` executes it. `TrueModel` holds the declared parameters of
the default study (a frozen dataclass: override any of them by name, ``TrueModel(**{name: value})``);
`parameters(study)` gives the class of another study.

>>> pop = simulate_population(seed=1)
>>> len(pop)
141655
>>> int(pop["stratum"].str.startswith("3-").sum())
28042
"""

from __future__ import annotations

import functools

import schemas
from schemas.populations import load_population_margins

from .engine import jsonable_levels, parameters_class, run_population, stratum_key


@functools.cache
def _default_study():
    return schemas.load_study()


def simulation_of(study=None):
    """(study, its simulation declaration); a one-line error when the study declares none."""
    st = study if isinstance(study, schemas.Study) else _default_study() if study is None else schemas.load_study(study)
    if st.simulation is None:
        raise schemas.StudyError(f"study {st.name!r} declares no simulation: section; add one "
                                 "(see surveydata.simulate.engine) or use `surveydata simulate --instrument`")
    return st, st.simulation


def parameters(study=None):
    """The parameter class (a frozen dataclass with ``to_dict``) of a study's simulation."""
    return parameters_class(simulation_of(study)[1])


def __getattr__(name):
    # TrueModel, the default study's generating parameters (a frozen dataclass; fields as
    # declared), is made on first use: importing surveydata does not read the study
    if name == "TrueModel":
        globals()["TrueModel"] = parameters()
        return globals()["TrueModel"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def simulate_population(seed: int = 20260301, params=None, instrument=None, study=None):
    """Draw the finite population of the study (default: the packaged practice study).

    Parameters
    ----------
    seed : the numpy Generator seed; the same seed gives the same population.
    params : the generating parameters (`TrueModel` or `parameters(study)`); default as declared.
    instrument : a ``schemas.Instrument``; default the study's instrument.
    study : a ``schemas.Study``, a study name or path; default the packaged practice study.

    Returns a DataFrame with the frame's id, ``stratum`` (the design's strata codes joined with
    "-"), every instrument column (raw codes of the answer each unit would give) and the latent
    columns. ``attrs`` holds the seed, the parameters and the solved intercepts/thresholds
    ("levels").

    >>> pop = simulate_population(seed=7)
    >>> len(pop.columns) > 100
    True
    """
    st, spec = simulation_of(study)
    p = params or (__getattr__("TrueModel")() if study is None else parameters_class(spec)())
    inst = instrument or st.instrument
    margins_name = p.to_dict().get("margins")
    margins = load_population_margins(margins_name) if margins_name else dict(st.population.margins)
    pop, values, levels = run_population(spec, inst, margins, seed, p)
    strata = st.design.strata if st.design else ()
    if strata:
        pop.insert(1, "stratum", stratum_key(values, strata))
    for c in spec.latent:
        pop[c] = values[c]
    pop.attrs.update(seed=int(seed), params=p.to_dict(), levels=jsonable_levels(levels), instrument=inst.name)
    return pop
