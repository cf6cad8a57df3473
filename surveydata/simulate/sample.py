"""Stage 2: a stratified sample of the population, unit nonresponse and item nonresponse.

Design. Strata are practice_type x federal_state (80 strata, N_h known from the frame).
``n_invited`` practices are allocated by *power allocation* n_h ~ N_h^power (power 0.5 by
default: small strata such as mixed practices in Bremen are oversampled, large ones such as GPs
in North Rhine-Westphalia undersampled; power 1 is proportional), at least ``min_invited`` per
stratum and never more than N_h, and drawn by simple random sampling without replacement.

Unit nonresponse. Each invited practice responds with probability
``expit(r0 + r_awareness * awareness + r_log_size * log(persons / 6) + r_type[type]
+ r_incident * reported_incident)``, r0 solved so that the expected response rate among the
invited equals ``response_rate``. Security-aware practices, larger practices and practices that
had an incident (topic salience) respond more. Consequence, by construction and checked in the
tests: the *unweighted* respondent mean of guideline implementation ("fully") and of reported
incidents (incident_12m == 1) are both ABOVE the population values, and only part of that bias
is removed by the base weights (awareness and incidents are not design variables).

Item nonresponse. Every asked, non-required item is left unanswered (-9, in every option column
of a multi-choice item) with probability ``expit(c + 0.3 * (3 - resp_it_affinity))``, c set so
the mean rate is ``item_nonresponse`` (doubled for the sensitive incident, insurance and
respondent items). Skip logic is then re-applied: an item whose filter question was left
unanswered is not shown (-7) when its condition is false, and unanswered (-9) when the condition
still holds (e.g. ``info_sources__none != 1`` with info_sources skipped).

Don't-know answers are part of each practice's potential answer (drawn in the population stage,
more often with low IT competence), so the census truth includes them; the sample reveals them.

>>> from surveydata.simulate import simulate_population
>>> s = draw_sample(simulate_population(1), seed=2, n_invited=8000, response_rate=0.2)
>>> s.strata[["N_h", "n_invited"]].sum().tolist()
[141655, 8000]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from schemas import load_instrument
from schemas.populations import largest_remainder

from ._draw import solve_intercept

NA, NO_ANSWER = -7, -9
SENSITIVE = ("incident_12m", "incident_types", "incident_downtime", "incident_reported_to", "incident_ever",
             "cyber_insurance", "resp_age_group", "resp_gender")


@dataclass(frozen=True)
class NonresponseModel:
    """Response propensity slopes (logit) and item nonresponse rates."""

    r_awareness: float = 0.5            # per SD of latent security awareness
    r_log_size: float = 0.25
    r_type: tuple = (-0.2, -0.1, 0.2, 0.0, 0.1)   # by practice_type 1..5
    r_incident: float = 0.6             # practices that had an incident find the topic salient
    item_nonresponse: float = 0.015     # mean rate of -9 on an asked item
    item_affinity: float = 0.3          # per Likert point of low IT affinity

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def ignorable(cls) -> NonresponseModel:
        """Response at random within strata and no item nonresponse: the respondents are then a
        stratified simple random sample, and base-weighted estimates are design-unbiased (what a
        coverage study of the estimators needs).

        >>> NonresponseModel.ignorable().r_incident
        0.0
        """
        return cls(r_awareness=0.0, r_log_size=0.0, r_type=(0.0,) * 5, r_incident=0.0, item_nonresponse=0.0)


@dataclass
class Sample:
    """What `draw_sample` returns.

    respondents  one row per responding practice: the population's answers after item
                 nonresponse, plus practice_id, stratum, N_h, n_h (respondents in the stratum)
                 and the base weight ``w = N_h / n_h``
    invited      every invited practice: practice_id, stratum, p_response, responded
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
                allocation_power: float = 0.5, min_invited: int = 20, model: NonresponseModel | None = None,
                instrument=None) -> Sample:
    """Draw the stratified sample, its unit nonresponse and its item nonresponse.

    >>> from surveydata.simulate import simulate_population
    >>> s = draw_sample(simulate_population(1), seed=3, n_invited=4000, response_rate=0.25)
    >>> bool((s.respondents["w"] * 1).groupby(s.respondents["stratum"]).sum().round().eq(s.strata.set_index("stratum")["N_h"]).all())
    True
    """
    if not 0.0 < response_rate < 1.0:
        raise ValueError(f"response_rate must be strictly between 0 and 1, got {response_rate}")
    m = model or NonresponseModel()
    inst = instrument or load_instrument()
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
    lp = (m.r_awareness * pop["awareness"].to_numpy()
          + m.r_log_size * np.log(pop["n_persons_data"].to_numpy() / 6.0)
          + np.array(m.r_type)[pop["practice_type"].to_numpy() - 1]
          + m.r_incident * (pop["incident_12m"].to_numpy() == 1))
    r0 = solve_intercept(lp, response_rate)
    p_resp = expit(r0 + lp)
    responded = rng.random(len(pop)) < p_resp
    invited = pd.DataFrame({"practice_id": pop["practice_id"].to_numpy(), "stratum": pop["stratum"].to_numpy(),
                            "p_response": p_resp, "responded": responded})

    resp = pop[responded].reset_index(drop=True)
    resp = _item_nonresponse(resp, inst, m, rng)
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


def _item_nonresponse(resp: pd.DataFrame, inst, m: NonresponseModel, rng) -> pd.DataFrame:
    """Set -9 on asked, non-required items at random (more with low IT affinity), then re-apply skips."""
    resp = resp.copy()
    n = len(resp)
    affinity = resp["resp_it_affinity"].to_numpy(dtype=float)
    base_lp = m.item_affinity * (3 - np.where(affinity > 0, affinity, 3))
    for item in inst.items:
        if item.required or item.type == "text" or NO_ANSWER not in item.missing:
            continue
        rate = m.item_nonresponse * (2.0 if item.var in SENSITIVE else 1.0)
        if rate == 0.0:
            continue
        c = solve_intercept(base_lp, rate)
        hit = rng.random(n) < expit(c + base_lp)
        cols = list(item.columns)
        asked = (resp[cols[0]] != NA).to_numpy()
        rows = hit & asked
        for col in cols:
            values = resp[col].to_numpy().copy()
            values[rows] = NO_ANSWER
            resp[col] = values
    # A main source cannot be named when the sources question was skipped (rule info_source_main_ticked).
    if "info_sources__none" in resp and "info_source_main" in resp:
        skipped = resp["info_sources__none"] == NO_ANSWER
        resp.loc[skipped, "info_source_main"] = NO_ANSWER
    return apply_skip_logic(resp, inst)


def apply_skip_logic(frame: pd.DataFrame, inst) -> pd.DataFrame:
    """Re-apply the filters in questionnaire order (so they cascade): an item whose ask_if is
    false becomes -7 (not shown); an item shown but holding -7 becomes -9 (shown, not answered:
    its filter question was left unanswered and the condition does not exclude it).

    >>> import schemas
    >>> inst = schemas.load_instrument()
    >>> f = pd.DataFrame({"incident_12m": [-9], "incident_downtime": [2]})
    >>> apply_skip_logic(f, inst)["incident_downtime"].tolist()
    [-7]
    """
    frame = frame.copy()
    for item in inst.items:
        if item.ask_if is None or not set(item.columns) <= set(frame.columns):
            continue
        asked = item.ask_if.evaluate(frame).to_numpy()
        for col in item.columns:
            values = frame[col].to_numpy().copy()
            values[~asked] = NA
            values[asked & (values == NA)] = NO_ANSWER
            frame[col] = values
    return frame
