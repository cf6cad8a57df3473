"""Stage 2: a stratified sample of the population, unit nonresponse and item nonresponse.

Design. Strata are the study design's strata (the population's ``stratum`` column, N_h known
from the frame). ``n_invited`` units are allocated by *power allocation* n_h ~ N_h^power (power
0.5 by default: small strata are oversampled, large ones undersampled; power 1 is
proportional), at least ``min_invited`` per stratum and never more than N_h, and drawn by simple
random sampling without replacement.

Unit nonresponse. Each invited unit responds with probability ``expit(r0 + propensity)``, the
``propensity`` formula and its parameters declared in the study's ``simulation.response``
(`NonresponseModel` holds the default study's parameters); r0 is solved so that the expected
response rate among the invited equals ``response_rate``. In the practice study aware, larger
and incident-reporting units respond more, so unweighted estimates of those outcomes are biased
upwards and the base weights remove only part of it (the study YAML says why).

Item nonresponse (``simulation.response.item_nonresponse``). Every asked, non-required item is
left unanswered (-9, in every option column of a multi-choice item) with probability
``expit(c + lp)``, c set so the mean rate is ``rate`` (times ``sensitive_factor`` for the
``sensitive`` items); ``unanswered_when`` leaves an item unanswered where a condition on the
answers holds (e.g. a follow-up of a skipped question). Skip logic is then re-applied: an item
whose filter question was left unanswered is not shown (-7) when its condition is false, and
unanswered (-9) when the condition still holds.

Don't-know answers are part of each unit's potential answer (drawn in the population stage), so
the census truth includes them; the sample reveals them.

>>> from surveydata.simulate import simulate_population
>>> s = draw_sample(simulate_population(1), seed=2, n_invited=8000, response_rate=0.2)
>>> s.strata[["N_h", "n_invited"]].sum().tolist()
[141655, 8000]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from schemas.populations import largest_remainder

from ._draw import solve_intercept
from .engine import Evaluator, response_class
from .population import simulation_of


def nonresponse_model(study=None):
    """The response parameter class of a study's simulation (a frozen dataclass with
    ``to_dict`` and ``ignorable()``: response at random within strata and no item nonresponse,
    so the respondents are a stratified simple random sample and base-weighted estimates are
    design-unbiased, what a coverage study of the estimators needs)."""
    st, spec = simulation_of(study)
    if spec.response is None:
        raise ValueError(f"study {st.name!r} declares no simulation.response; add one to draw samples")
    return response_class(spec)


def __getattr__(name):
    # NonresponseModel, the default study's response parameters (``NonresponseModel.ignorable()``:
    # ignorable response), is made on first use
    if name == "NonresponseModel":
        globals()["NonresponseModel"] = nonresponse_model()
        return globals()["NonresponseModel"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class Sample:
    """What `draw_sample` returns.

    respondents  one row per responding unit: the population's answers after item
                 nonresponse, plus the frame's id, stratum, N_h, n_h (respondents in the stratum)
                 and the base weight ``w = N_h / n_h``
    invited      every invited unit: the frame's id, stratum, p_response, responded
    strata       stratum, N_h, n_invited, n_responded (one row per stratum)
    """

    respondents: pd.DataFrame
    invited: pd.DataFrame
    strata: pd.DataFrame
    seed: int
    settings: dict


def allocate(N_h: pd.Series, n_invited: int, power: float = 0.5, min_invited: int = 20) -> pd.Series:
    """Power allocation n_h ~ N_h^power, at least min(min_invited, N_h), at most N_h, summing to n_invited.

    Strata that hit a bound are fixed and the rest re-allocated until no bound is violated.

    >>> allocate(pd.Series({"a": 1000, "b": 100, "c": 10}), 60, power=0.5, min_invited=5).tolist()
    [42, 13, 5]
    """
    N = N_h.to_numpy(dtype=np.int64)
    if not 0 < n_invited <= N.sum():
        raise ValueError(f"n_invited must be between 1 and the population size {N.sum()}, got {n_invited}")
    lower = np.minimum(min_invited, N)
    if lower.sum() > n_invited:
        raise ValueError(f"n_invited={n_invited} is below the minimum allocation {lower.sum()} "
                         f"({min_invited} per stratum)")
    n = np.zeros(len(N), dtype=np.int64)
    free = np.ones(len(N), dtype=bool)
    for _ in range(len(N) + 1):
        budget = n_invited - n[~free].sum()
        share = np.where(free, N.astype(float) ** power, 0.0)
        n_free = largest_remainder(budget, share[free])
        n[free] = n_free
        low, high = free & (n < lower), free & (n > N)
        if not (low.any() or high.any()):
            break
        n[low], n[high] = lower[low], N[high]
        free &= ~(low | high)
    return pd.Series(n, index=N_h.index, name="n_invited")


def draw_sample(population: pd.DataFrame, seed: int, n_invited: int = 8000, response_rate: float = 0.2,
                allocation_power: float = 0.5, min_invited: int = 20, model=None,
                instrument=None, study=None) -> Sample:
    """Draw the stratified sample, its unit nonresponse and its item nonresponse.

    >>> from surveydata.simulate import simulate_population
    >>> s = draw_sample(simulate_population(1), seed=3, n_invited=4000, response_rate=0.25)
    >>> bool((s.respondents["w"] * 1).groupby(s.respondents["stratum"]).sum().round().eq(s.strata.set_index("stratum")["N_h"]).all())
    True
    """
    if not 0.0 < response_rate < 1.0:
        raise ValueError(f"response_rate must be strictly between 0 and 1, got {response_rate}")
    st, spec = simulation_of(study)
    m = model or (__getattr__("NonresponseModel")() if study is None else response_class(spec)())
    inst = instrument or st.instrument
    rng = np.random.default_rng(seed)

    stratum = population["stratum"].to_numpy()
    labels, code = np.unique(stratum, return_inverse=True)
    N_h = pd.Series(np.bincount(code), index=pd.Index(labels, name="stratum"), name="N_h")
    n_h = allocate(N_h, n_invited, allocation_power, min_invited)

    # SRSWOR within strata: sort by (stratum, random key) and take the first n_h of each stratum
    order = np.lexsort((rng.random(len(population)), code))
    start = np.concatenate([[0], np.cumsum(N_h.to_numpy())[:-1]])
    position = np.empty(len(population), dtype=np.int64)
    position[order] = np.arange(len(population)) - start[code[order]]
    chosen = np.flatnonzero(position < n_h.to_numpy()[code])

    pop = population.iloc[chosen]
    absent = sorted(set(spec.response["propensity"].names) - set(pop.columns) - set(m.to_dict()))
    if absent:
        raise ValueError(f"the population has no column {absent[0]!r}, which the response model of study "
                         f"{st.name!r} reads; pass study= the study that simulated it")
    lp = _evaluate(spec.response["propensity"], pop, m)
    r0 = solve_intercept(lp, response_rate)
    p_resp = expit(r0 + lp)
    responded = rng.random(len(pop)) < p_resp
    id_col = spec.frame["id"]
    invited = pd.DataFrame({id_col: pop[id_col].to_numpy(), "stratum": pop["stratum"].to_numpy(),
                            "p_response": p_resp, "responded": responded})

    resp = pop[responded].reset_index(drop=True)
    resp = _item_nonresponse(resp, inst, m, rng, spec.response.get("item_nonresponse"))
    n_resp = resp.groupby("stratum").size().reindex(N_h.index, fill_value=0)
    strata = pd.DataFrame({"stratum": N_h.index, "N_h": N_h.to_numpy(), "n_invited": n_h.to_numpy(),
                           "n_responded": n_resp.to_numpy()})
    resp["N_h"] = N_h.reindex(resp["stratum"]).to_numpy()
    resp["n_h"] = n_resp.reindex(resp["stratum"]).to_numpy()
    resp["w"] = resp["N_h"] / resp["n_h"]
    settings = {"n_invited": int(n_invited), "response_rate": float(response_rate),
                "allocation_power": float(allocation_power), "min_invited": int(min_invited),
                "response_intercept": float(r0), "nonresponse_model": m.to_dict()}
    return Sample(respondents=resp, invited=invited, strata=strata, seed=int(seed), settings=settings)


def _evaluate(formula, frame: pd.DataFrame, m, full=True):
    """A response formula over the columns of `frame` and the parameters of `m`."""
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in m.to_dict().items()}
    values.update({c: frame[c].to_numpy() for c in formula.names if c in frame.columns and c not in values})
    return Evaluator(values, None, len(frame))(formula, full=full)


def _item_nonresponse(resp: pd.DataFrame, inst, m, rng, spec) -> pd.DataFrame:
    """Set -9 on asked, non-required items at random (the declared logit), then re-apply skips."""
    resp = resp.copy()
    if spec is None:
        return apply_skip_logic(resp, inst)
    n = len(resp)
    base_lp = _evaluate(spec["lp"], resp, m)
    base_rate = _evaluate(spec["rate"], resp, m, full=False)
    for item in inst.items:
        if item.required or item.type == "text" or item.no_answer not in item.missing:
            continue
        rate = base_rate * (spec["sensitive_factor"] if item.var in spec["sensitive"] else 1.0)
        if rate == 0.0:
            continue
        c = solve_intercept(base_lp, rate)
        hit = rng.random(n) < expit(c + base_lp)
        cols = list(item.columns)
        asked = (resp[cols[0]] != item.not_applicable).to_numpy()
        rows = hit & asked
        for col in cols:
            values = resp[col].to_numpy().copy()
            values[rows] = item.no_answer
            resp[col] = values
    for var, condition in spec["unanswered_when"].items():   # e.g. a follow-up of a skipped question
        hit = np.asarray(_evaluate(condition, resp, m), dtype=bool)
        resp.loc[hit, var] = inst.item(var).no_answer
    return apply_skip_logic(resp, inst)


def apply_skip_logic(frame: pd.DataFrame, inst) -> pd.DataFrame:
    """Re-apply the filters in questionnaire order (so they cascade): an item whose ask_if is
    false becomes -7 (not shown); an item shown but holding -7 becomes -9 (shown, not answered:
    its filter question was left unanswered and the condition does not exclude it).

    >>> import schemas
    >>> inst = schemas.load_instrument("pharmacy_staff")      # not applicable: 97, no answer: 99
    >>> f = pd.DataFrame({"phishing_seen": [2, 1], "phishing_reported": [1, 97]})
    >>> apply_skip_logic(f, inst)["phishing_reported"].tolist()
    [97, 99]
    """
    frame = frame.copy()
    for item in inst.items:
        if item.ask_if is None or not set(item.columns) <= set(frame.columns):
            continue
        asked = item.ask_if.evaluate(frame).to_numpy()
        if item.type == "text":             # free text not asked is empty, not a code
            frame[item.var] = frame[item.var].where(asked)
            continue
        na = item.not_applicable
        for col in item.columns:
            values = frame[col].to_numpy().copy()
            values[~asked] = na
            values[asked & (values == na)] = item.no_answer
            frame[col] = values
    return frame
