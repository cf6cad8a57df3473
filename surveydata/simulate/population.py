"""Stage 1: a finite population of German practices with known characteristics and outcomes.

Every practice carries the answer it *would* give to every item of the instrument (raw codes:
-7 where the item's ``ask_if`` is false, -8 where the respondent would say "don't know"), so a
census of the population is the truth an estimator targets. Latent columns (``awareness``,
``competence``, ``equipment``, ``incident_true``, ``incident_detected``) document how the answers
were generated; they never reach an export.

The generating model, in causal order (all slopes are fields of `TrueModel`; all *levels* -
intercepts and ordinal thresholds - are solved so that the population shares equal the
instrument's priors, see `_draw`):

1. Frame. practice_type x practice_form x federal_state counts from the population margins
   (``schemas.populations``), so those margins hold exactly. ``share_praxisgemeinschaft`` of all
   practices are single practices that answer form code 4 (not counted separately by KBV/KZBV).
2. Structure. n_physicians by form; n_persons_data = physicians + staff (lognormal per
   physician, almost none in psychotherapy); n_workstations ~ persons; large devices
   (specialist/mixed, more in BAG/MVZ); networked devices (never in psychotherapy); IT support
   model (psychotherapists self-manage more, large practices use providers).
3. Information/organisation. A latent security awareness
   ``awareness = size + type + respondent IT affinity + age + noise`` (standardised) drives
   guideline_awareness, training_12m, it_security_responsible, emergency_plan, info_sources,
   info_sufficient, self_competence, guideline_understandable, cyber_insurance.
4. Technical measures. Each tm_* is an ordinal logit (fully > partly > no) on the *observed*
   organisation variables (training, responsible person, guideline known, emergency plan, number
   of information sources), size, the IT support model and a latent equipment level shared by
   all measures (correlated with awareness). "Don't know" is more likely with low IT competence
   and an external provider. The count of measures fully in place (tech_index) is the count outcome.
5. guideline_implementation (ordinal, asked when the guideline is known) rises with tech_share,
   a responsible person, guideline knowledge, training, understandability and a certified provider.
6. Incidents. The true 12-month incident is a logit in tech_index, the organisation variables,
   information sources, size (H2: larger practices have more incidents per practice),
   unsupported operating systems and type. An incident is *reported* only if detected, and aware
   practices detect more (``detection_awareness``): this detection bias is why the census
   coefficients of the reported outcome are weaker than the true effects (H1's documented threat).
   The level is solved so the reported "yes" share equals the prior (8 %).
7. Self-assessments (Likert): feel_protected rises with measures and a responsible person and
   falls after an incident; own_risk_high rises after an incident and falls with
   too_small_target (optimism bias, H5); staff_phishing_competence rises with training.

Defaults follow the brief's priors and its H1 claim: information/organisation effects are larger
than equipment effects (per standard deviation), on incidents and on implementation.

>>> pop = simulate_population(seed=1)
>>> len(pop)
141655
>>> int((pop["practice_type"] == 3).sum())
28042
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from schemas import load_instrument
from schemas.populations import load_population_margins

from ._draw import draw_binary, draw_categorical, draw_ordinal, solve_intercept, standardize

NA, DK = -7, -8
TM_ITEMS = (
    "tm_antivirus", "tm_patching", "tm_backup_plan", "tm_backup_offline", "tm_restore_test",
    "tm_firewall", "tm_disk_encryption", "tm_individual_accounts", "tm_mfa",
    "tm_network_segmentation", "tm_admin_rights_restricted", "tm_mobile_lockcode",
)
COMMENTS = (  # free text in German with characters that Windows-1252 must carry (ä ö ü ß – ;)
    "Wir wünschen uns mehr Unterstützung durch die KV.",
    "Die Richtlinie ist für kleine Praxen zu umfangreich.",
    "Unser IT-Dienstleister kümmert sich um alles – wir haben keinen Überblick.",
    "Fragebogen zu lang; bitte kürzer fassen.",
    "Datenschutz ist uns wichtig, aber es fehlt die Zeit für Schulungen.",
    "Größere Förderung für IT-Sicherheit wäre nötig.",
)


@dataclass(frozen=True)
class TrueModel:
    """Effect sizes of the generating model (logit scale unless stated). Levels come from priors.

    Size enters as ``log(n_persons_data / 6)``; "per SD" slopes act on standardised latents.
    """

    margins: str = "de_practices"
    share_praxisgemeinschaft: float = 0.06        # of all practices, taken from the single practices
    # practice structure
    staff_per_physician_median: tuple = (4.0, 4.5, 0.0, 4.5, 4.0)   # by practice_type 1..5
    staff_sd_log: float = 0.55
    psychotherapy_staff_mean: float = 0.3
    # latent awareness (information/organisation disposition), before standardising
    awareness_log_size: float = 0.30
    awareness_it_affinity: float = 0.25            # per Likert point of resp_it_affinity
    awareness_age: float = -0.10                   # per age group (older: less aware)
    awareness_type: tuple = (0.0, 0.0, -0.3, 0.15, 0.3)
    # loadings of the information/organisation items on awareness (per SD)
    load_guideline_awareness: float = 1.6
    load_training: float = 1.2
    load_responsible: float = 1.3
    load_emergency_plan: float = 1.0
    load_info_sources: float = 0.6                 # per option, logit of ticking it
    load_info_sufficient: float = 1.0
    load_self_competence: float = 0.8
    load_understandable: float = 0.6
    log_size_org: float = 0.35                     # size effect on training, responsible, plan
    # IT competence (drives "don't know")
    competence_awareness: float = 0.6
    competence_it_affinity: float = 0.35           # per Likert point
    dont_know_competence: float = -0.8             # per SD of competence
    dont_know_external_it: float = 0.4             # tm_* don't know when a provider runs the IT
    # technical measures: slopes on the observed organisation variables (H1: information first)
    tm_training_all: float = 0.45
    tm_responsible: float = 0.45
    tm_guideline_known: float = 0.40
    tm_emergency_plan: float = 0.30
    tm_info_source: float = 0.06                   # per information source ticked
    tm_log_size: float = 0.30
    tm_it_support: tuple = (0.5, 0.3, 0.2, -0.2, -0.4, -0.8)    # by it_support_model 1..6
    equipment_sd: float = 0.8                      # shared latent equipment level (per practice)
    equipment_awareness: float = 0.3               # correlation of equipment with awareness
    # guideline implementation (ordinal, higher = better)
    impl_tech_share: float = 1.5                   # per unit of tech_share (0..1)
    impl_responsible: float = 0.6
    impl_guideline_known: float = 0.9
    impl_training_all: float = 0.5
    impl_understandable: float = 0.3               # per Likert point
    impl_certified: float = 0.4
    # incidents in the last 12 months (true event)
    incident_tech_measure: float = -0.06           # per measure fully in place (tech_index)
    incident_training_all: float = -0.50
    incident_guideline_known: float = -0.40
    incident_responsible: float = -0.30
    incident_info_source: float = -0.08            # per information source ticked
    incident_log_size: float = 0.35                # H2: more staff, more exposure
    incident_unsupported_os: float = 0.30
    incident_internet_service: float = 0.05        # per internet service used
    incident_type: tuple = (0.0, 0.0, -0.5, 0.0, 0.1)
    detection_rate: float = 0.75                   # P(noticed | incident), averaged over all practices
    detection_awareness: float = 0.8               # per SD of awareness: the detection bias
    # self-assessments
    protected_tech_measure: float = 0.15
    protected_responsible: float = 0.4
    protected_incident: float = -0.8
    protected_awareness: float = 0.2
    own_risk_incident_ever: float = 0.9
    own_risk_too_small: float = -0.35              # per Likert point of too_small_target
    general_risk_awareness: float = 0.5
    too_small_log_size: float = -0.5
    too_small_awareness: float = -0.4
    phishing_training_all: float = 0.8
    phishing_awareness: float = 0.4
    share_comment: float = 0.05

    def to_dict(self) -> dict:
        """Plain dict (tuples as lists) for JSON."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class _Builder:
    """Holds the columns drawn so far and draws instrument items from their priors and ask_if."""

    inst: object
    rng: np.random.Generator
    n: int
    params: TrueModel
    col: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)

    def frame(self, names) -> pd.DataFrame:
        return pd.DataFrame({c: self.col[c] for c in names})

    def asked(self, var: str) -> np.ndarray:
        cond = self.inst.item(var).ask_if
        if cond is None:
            return np.ones(self.n, dtype=bool)
        return cond.evaluate(self.frame(cond.variables)).to_numpy()

    def prior(self, var: str):
        """(substantive codes, their shares renormalised, {missing code: share}) from the prior."""
        prior = self.inst.item(var).prior
        subs = [c for c in prior if not (isinstance(c, int) and c < 0)]
        miss = {c: prior[c] / 100.0 for c in prior if isinstance(c, int) and c < 0}
        w = np.array([prior[c] for c in subs], dtype=float)
        return subs, w / w.sum(), miss

    def _missing(self, var, mask, competence_lp):
        """Draw 'don't know' (and a labelled -9) among the asked rows; returns the codes or 0."""
        out = np.zeros(self.n, dtype=np.int64)
        _, _, miss = self.prior(var)
        free = mask.copy()
        for code, share in miss.items():
            lp = competence_lp[free] if code == DK else np.zeros(free.sum())
            hit, c = draw_binary(self.rng, lp, share * mask.sum() / free.sum())
            self.levels[f"{var}:{code}"] = c
            rows = np.flatnonzero(free)[hit]
            out[rows] = code
            free[rows] = False
        return out, free

    def ordinal(self, var, lp, high_first=True, competence_lp=None, mask=None):
        """Ordered item: codes ordered by the latent (`high_first`: the first code is the highest)."""
        mask = self.asked(var) if mask is None else mask
        competence_lp = np.zeros(self.n) if competence_lp is None else competence_lp
        out, free = self._missing(var, mask, competence_lp)
        subs, w, _ = self.prior(var)
        order = list(range(len(subs)))[::-1] if high_first else list(range(len(subs)))
        codes, theta = draw_ordinal(self.rng, np.asarray(lp, float)[free], [subs[i] for i in order], w[order])
        self.levels[var] = theta.tolist()
        out[free] = codes
        out[~mask] = NA
        self.col[var] = out
        return out

    def categorical(self, var, lp=None, competence_lp=None):
        mask = self.asked(var)
        competence_lp = np.zeros(self.n) if competence_lp is None else competence_lp
        out, free = self._missing(var, mask, competence_lp)
        subs, w, _ = self.prior(var)
        lp = np.zeros((self.n, len(subs))) if lp is None else lp
        if isinstance(subs[0], str):
            out = out.astype(object)
        codes, alpha = draw_categorical(self.rng, lp[free], subs, w)
        self.levels[var] = alpha.tolist()
        out[free] = codes
        out[~mask] = NA
        self.col[var] = out
        return out

    def multi(self, var, lp=None):
        """Multi-choice item among the asked rows, with every option's share equal to its prior.

        Mechanism: the exclusive option (if any) is ticked alone with P = expit(a_x + lp_x);
        otherwise each option is ticked with P = expit(a_o + lp_o); an empty answer ticks the
        exclusive option (or, without one, the option closest to being ticked); over
        `max_select`, the options closest to being ticked are kept. The intercepts a are solved
        by fixed-point iteration on common random numbers, so the realised shares equal the
        priors (up to 2e-4) while the slopes `lp` keep their meaning.
        """
        item = self.inst.item(var)
        mask = self.asked(var)
        opts = [o.code for o in item.options]
        excl = [j for j, o in enumerate(item.options) if o.exclusive]
        lp = {} if lp is None else lp
        lps = np.column_stack([np.asarray(lp.get(o, np.zeros(self.n)), float)[mask] for o in opts])
        target = np.array([item.prior[o] / 100.0 for o in opts])
        uni = self.rng.random(lps.shape)
        a = np.log(target / (1 - target))
        for _ in range(40):
            ticks = _multi_ticks(a, lps, uni, excl, item.max_select)
            share = np.clip(ticks.mean(axis=0), 1e-9, 1 - 1e-9)
            step = np.log(target / (1 - target)) - np.log(share / (1 - share))
            a += step
            if np.abs(share - target).max() < 2e-4:  # a tenth of the sampling sd at N = 141,655
                break
        self.levels[var] = a.tolist()
        for j, o in enumerate(opts):
            c = np.full(self.n, NA, dtype=np.int64)
            c[mask] = ticks[:, j]
            self.col[f"{var}__{o}"] = c
        return {o: self.col[f"{var}__{o}"] for o in opts}


def _multi_ticks(a, lps, uni, excl, max_select):
    """Ticks (0/1, rows x options) of the multi-choice mechanism described in `_Builder.multi`."""
    margin = expit(a + lps) - uni            # > 0: ticked; larger: more decidedly ticked
    ticks = margin > 0
    if excl:
        alone = ticks[:, excl[0]].copy()
        ticks[:, excl[0]] = False
        ticks[alone] = False
        empty = ~ticks.any(axis=1)
        ticks[:, excl[0]] = empty              # alone or nothing else ticked
    else:
        empty = ~ticks.any(axis=1)
        ticks[np.flatnonzero(empty), np.argmax(margin[empty], axis=1)] = True
    if max_select:
        over = ticks.sum(axis=1) > max_select
        if over.any():
            m = np.where(ticks[over], margin[over], -np.inf)
            keep = np.argsort(-m, axis=1, kind="stable")[:, :max_select]
            sub = np.zeros(m.shape, dtype=bool)
            np.put_along_axis(sub, keep, True, axis=1)
            ticks[over] = sub
    return ticks.astype(np.int64)


def simulate_population(seed: int = 20260301, params: TrueModel | None = None, instrument=None) -> pd.DataFrame:
    """Draw the finite population of practices (one row per practice, ~141,700 rows).

    Parameters
    ----------
    seed : the numpy Generator seed; the same seed gives the same population.
    params : effect sizes (`TrueModel`); defaults follow the brief's priors.
    instrument : a ``schemas.Instrument``; default the packaged practice_security instrument.

    Returns a DataFrame with ``practice_id``, ``stratum`` ("<practice_type>-<federal_state>"),
    every instrument column (raw codes of the answer each practice would give) and latent columns.
    ``attrs`` holds the seed, the parameters and the solved intercepts/thresholds ("levels").

    >>> pop = simulate_population(seed=7)
    >>> sorted(pop["practice_form"].unique().tolist())
    [1, 2, 3, 4]
    """
    p = params or TrueModel()
    inst = instrument or load_instrument()
    rng = np.random.default_rng(seed)
    cells = load_population_margins(p.margins)["practice_type_x_form_x_federal_state"]
    n = int(cells.sum())
    b = _Builder(inst, rng, n, p)
    col = b.col

    # 1. frame ---------------------------------------------------------------------------------
    keys = cells.index.to_frame(index=False)
    rep = np.repeat(np.arange(len(cells)), cells.to_numpy())
    ptype = keys["practice_type"].to_numpy()[rep].astype(np.int64)
    form = keys["practice_form"].to_numpy()[rep].astype(np.int64)
    state = keys["federal_state"].to_numpy()[rep].astype(object)
    singles = np.flatnonzero(form == 1)
    form[rng.choice(singles, round(p.share_praxisgemeinschaft * n), replace=False)] = 4
    col.update(practice_type=ptype, practice_form=form, federal_state=state)
    is_pt = ptype == 3

    # respondent (drawn early: the respondent's disposition shapes awareness and don't-knows)
    b.categorical("resp_age_group")
    b.categorical("resp_gender")
    b.ordinal("resp_it_affinity", np.zeros(n), high_first=False)

    # 2. structure -----------------------------------------------------------------------------
    city = np.isin(state, ["BE", "HB", "HH"])
    subs, w, miss = b.prior("municipality_size")
    target = w * (1 - sum(miss.values()))
    muni = np.full(n, 4, dtype=np.int64)
    t_rest = (target * n - np.where(np.array(subs) == 4, city.sum(), 0)) / (~city).sum()
    muni[~city], _ = draw_categorical(rng, np.zeros(((~city).sum(), len(subs))), subs, t_rest / t_rest.sum())
    dk_muni = rng.random(n) < miss.get(DK, 0.0)
    muni[dk_muni] = DK
    col["municipality_size"] = muni

    u = rng.random(n)
    phys = np.ones(n, dtype=np.int64)
    single_like = np.isin(form, [1, 4])
    phys[single_like & ~is_pt] = 1 + (u[single_like & ~is_pt] > 0.86) + (u[single_like & ~is_pt] > 0.97)
    phys[single_like & is_pt] = 1 + (u[single_like & is_pt] > 0.97)
    bag = form == 2
    phys[bag] = 2 + np.where(is_pt[bag], rng.poisson(0.3, bag.sum()), rng.negative_binomial(1.5, 0.6, bag.sum()))
    mvz = form == 3
    phys[mvz] = 2 + rng.negative_binomial(1.2, 1.2 / 6.2, mvz.sum())
    phys = np.minimum(phys, 200)
    col["n_physicians"] = phys

    med = np.array(p.staff_per_physician_median)[ptype - 1]
    staff = np.where(
        is_pt,
        rng.poisson(p.psychotherapy_staff_mean * phys),
        np.rint(np.exp(np.log(np.maximum(med, 1e-9)) + 0.9 * np.log(phys) + p.staff_sd_log * rng.standard_normal(n))),
    ).astype(np.int64)
    persons = np.minimum(phys + staff, 1000)
    col["n_persons_data"] = persons
    log_size = np.log(persons / 6.0)

    b.ordinal("large_devices", 1.2 * np.isin(form, [2, 3]) + 0.5 * log_size, high_first=True)
    # networked devices: never in psychotherapy (answer "no"), otherwise by type and size; the
    # level is solved so that the share of "yes" among all practices is the prior
    subs, w, miss = b.prior("networked_med_devices")
    dk_net = rng.random(n) < miss[DK]
    sel = (~is_pt) & ~dk_net
    yes_target = w[subs.index(1)] * (1 - miss[DK]) * n / sel.sum()
    type_lp = np.array([0.0, 0.3, 0.0, 0.6, 0.6])[ptype - 1]
    yes, _ = draw_binary(rng, (type_lp + 0.3 * log_size)[sel], min(yes_target, 0.98))
    net = np.full(n, 2, dtype=np.int64)
    net[np.flatnonzero(sel)[yes]] = 1
    net[dk_net] = DK
    col["networked_med_devices"] = net

    affinity = col["resp_it_affinity"].astype(float)
    b.ordinal("uses_mobile_devices", 0.4 * log_size + 0.2 * (affinity - 3), high_first=True)
    ws = np.maximum(1, np.rint(persons ** 0.95 * np.exp(-0.15 + 0.4 * rng.standard_normal(n)))).astype(np.int64)
    ws = np.where(is_pt & (persons <= 2), np.minimum(ws, 2), ws)
    col["n_workstations"] = np.minimum(ws, 2000)
    sup_lp = np.zeros((n, 6))
    sup_lp[:, 0] += 0.5 * log_size
    sup_lp[:, 2] += 0.8 * log_size
    sup_lp[:, 3] += 1.0 * is_pt
    sup_lp[:, 4] += 0.8 * is_pt
    sup_lp[:, 5] += 0.5 * is_pt - 0.3 * log_size
    sup = b.categorical("it_support_model", sup_lp)
    external_it = np.isin(sup, [1, 2])

    # 3. information/organisation --------------------------------------------------------------
    age = col["resp_age_group"].astype(float)
    awareness = standardize(
        p.awareness_log_size * log_size + p.awareness_it_affinity * (affinity - 3)
        + p.awareness_age * (age - 2.5) + np.array(p.awareness_type)[ptype - 1] + rng.standard_normal(n)
    )
    competence = standardize(p.competence_awareness * awareness + p.competence_it_affinity * (affinity - 3)
                             + 0.7 * rng.standard_normal(n))
    dk_lp = p.dont_know_competence * competence
    col["awareness"], col["competence"] = awareness, competence

    b.categorical("provider_kbv_certified", np.column_stack([0.3 * awareness, np.zeros(n)]), competence_lp=dk_lp)
    ti_lp = np.zeros((n, 4))
    ti_lp[:, 3] += 1.0 * is_pt
    ti_lp[:, 2] += 0.2 * log_size
    b.categorical("ti_connection_mode", ti_lp, competence_lp=dk_lp)
    services = b.multi("internet_services", {k: 0.3 * log_size for k in ("online_booking", "cloud_storage", "remote_work")})

    org_size = p.log_size_org * log_size
    # it_security_responsible: "none" vs named is ordinal on awareness; internal vs external by provider
    subs, w, miss = b.prior("it_security_responsible")
    out, free = b._missing("it_security_responsible", np.ones(n, bool), dk_lp)
    named, c_named = draw_binary(rng, (p.load_responsible * awareness + org_size)[free], float(w[0] + w[1]))
    ext_share = w[1] / (w[0] + w[1])
    ext, c_ext = draw_binary(rng, (1.2 * external_it)[free][named], float(ext_share))
    codes = np.full(free.sum(), 3, dtype=np.int64)
    idx_named = np.flatnonzero(named)
    codes[idx_named] = np.where(ext, 2, 1)
    out[free] = codes
    col["it_security_responsible"] = out
    b.levels["it_security_responsible"] = [c_named, c_ext]
    responsible = np.isin(out, [1, 2])

    b.ordinal("training_12m", p.load_training * awareness + org_size, competence_lp=dk_lp)
    b.multi("training_format")
    b.ordinal("emergency_plan", p.load_emergency_plan * awareness + org_size, competence_lp=dk_lp)
    b.ordinal("guideline_awareness", p.load_guideline_awareness * awareness + 0.2 * log_size)
    b.categorical("cyber_insurance", np.column_stack([0.4 * awareness + 0.3 * log_size, np.zeros(n)]), competence_lp=dk_lp)
    src = b.multi("info_sources", {
        **{o.code: p.load_info_sources * awareness for o in inst.item("info_sources").options if not o.exclusive},
        "none": -1.5 * awareness,
    })
    n_sources = sum(np.maximum(v, 0) for k, v in src.items() if k != "none")
    # main source: one of the ticked sources, in proportion to the prior of info_source_main
    main_item = inst.item("info_source_main")
    main_opts = {1: ["kbv_kv"], 2: ["it_provider"], 3: ["pvs_vendor"], 4: ["bsi"], 5: ["chambers_assoc"],
                 6: ["trade_press"], 7: ["colleagues"], 8: ["insurer", "internet_general"]}
    main_codes = list(main_item.prior)
    ticked = np.column_stack([np.maximum.reduce([src[o] == 1 for o in main_opts[c]]) for c in main_codes])
    asked_main = b.asked("info_source_main")
    target = np.array([main_item.prior[c] / 100.0 for c in main_codes])
    u_main = rng.random(n)[asked_main]
    wts = target.copy()
    for _ in range(200):  # weights solved so that the shares of the main source are the prior
        weight = ticked[asked_main] * wts
        cum = weight.cumsum(axis=1)
        pick = (cum < (u_main * cum[:, -1])[:, None]).sum(axis=1)
        share = np.bincount(pick, minlength=len(main_codes)) / len(pick)
        if np.abs(share - target).max() < 1e-4:
            break
        wts *= (target / np.maximum(share, 1e-9)) ** 0.7
    main = np.full(n, NA, dtype=np.int64)
    main[asked_main] = np.array(main_codes)[pick]
    b.levels["info_source_main"] = wts.tolist()
    col["info_source_main"] = main
    b.multi("info_needs")
    b.ordinal("info_sufficient", p.load_info_sufficient * awareness, high_first=False)
    b.ordinal("self_competence", p.load_self_competence * awareness + 0.5 * competence, high_first=False)

    training_all = col["training_12m"] == 1
    known = col["guideline_awareness"] == 1
    plan = col["emergency_plan"] == 1

    # 4. technical measures --------------------------------------------------------------------
    equipment = p.equipment_awareness * awareness + p.equipment_sd * rng.standard_normal(n)
    col["equipment"] = equipment
    tm_lp = (p.tm_training_all * training_all + p.tm_responsible * responsible + p.tm_guideline_known * known
             + p.tm_emergency_plan * plan + p.tm_info_source * n_sources + p.tm_log_size * log_size
             + np.array(p.tm_it_support)[sup - 1] + equipment)
    tm_dk = dk_lp + p.dont_know_external_it * external_it
    for var in TM_ITEMS:  # in questionnaire order: the backup sub-items need tm_backup_plan
        b.ordinal(var, tm_lp, high_first=True, competence_lp=tm_dk)
    tm = np.column_stack([col[v] for v in TM_ITEMS])
    tech_index = (tm == 1).sum(axis=1)
    n_applicable = (tm != NA).sum(axis=1)
    b.ordinal("unsupported_os", -0.5 * equipment - 0.3 * (col["tm_patching"] == 1), high_first=True, competence_lp=dk_lp)
    unsupported = col["unsupported_os"] == 1

    # 5. guideline understandability and implementation ---------------------------------------
    b.ordinal("guideline_understandable", p.load_understandable * awareness, high_first=False)
    underst = np.where(col["guideline_understandable"] > 0, col["guideline_understandable"], 3)
    impl_lp = (p.impl_tech_share * tech_index / np.maximum(n_applicable, 1) + p.impl_responsible * responsible
               + p.impl_guideline_known * known + p.impl_training_all * training_all
               + p.impl_understandable * (underst - 3) + p.impl_certified * (col["provider_kbv_certified"] == 1))
    b.ordinal("guideline_implementation", impl_lp, high_first=True, competence_lp=dk_lp)

    # 6. incidents ----------------------------------------------------------------------------
    n_services = sum(np.maximum(v, 0) for k, v in services.items() if k != "none")
    inc_lp = (p.incident_tech_measure * tech_index + p.incident_training_all * training_all
              + p.incident_guideline_known * known + p.incident_responsible * responsible
              + p.incident_info_source * n_sources + p.incident_log_size * log_size
              + p.incident_unsupported_os * unsupported + p.incident_internet_service * n_services
              + np.array(p.incident_type)[ptype - 1])
    det_lp = p.detection_awareness * awareness
    c_det = solve_intercept(det_lp, p.detection_rate)
    p_det = expit(c_det + det_lp)
    _, _, miss = b.prior("incident_12m")
    subs, w, _ = b.prior("incident_12m")
    dk_inc, c_dk = draw_binary(rng, dk_lp, miss[DK])
    yes_target = w[subs.index(1)] * (1 - miss[DK])  # share answering "yes" among all practices
    # solve the incident level so that E[incident * detected * not don't-know] = yes_target
    w_obs = p_det * (1 - expit(c_dk + dk_lp))
    c_inc = _solve_weighted(inc_lp, w_obs, yes_target)
    incident_true = rng.random(n) < expit(c_inc + inc_lp)
    detected = incident_true & (rng.random(n) < p_det)
    inc = np.where(detected, 1, 2)
    inc[dk_inc] = DK
    col.update(incident_12m=inc, incident_true=incident_true, incident_detected=detected)
    b.levels.update(incident_true=c_inc, incident_detection=c_det, incident_dont_know=c_dk)
    types = b.multi("incident_types", {"ransomware": np.zeros(n)})
    downtime_lp = 1.5 * (types["ransomware"] == 1) - 0.5 * (col["tm_backup_offline"] == 1) - 0.4 * (col["tm_restore_test"] == 1)
    b.ordinal("incident_downtime", downtime_lp, high_first=False)
    b.multi("incident_reported_to")
    # incident_ever: "yes" whenever a 12-month incident is reported; otherwise drawn so the total
    # share of "yes" is the prior (past incidents more likely in larger, exposed practices)
    subs, w, miss = b.prior("incident_ever")
    ever = np.full(n, 2, dtype=np.int64)
    rest = inc != 1
    dk_ever, _ = draw_binary(rng, (dk_lp + 2.0 * (inc == DK))[rest], miss[DK] * n / rest.sum())
    ev = np.full(rest.sum(), DK, dtype=np.int64)
    yes_rest = (w[subs.index(1)] * (1 - miss[DK]) * n - (inc == 1).sum()) / (~dk_ever).sum()
    ever_yes, _ = draw_binary(rng, (0.3 * log_size + 1.0 * (incident_true & ~detected))[rest][~dk_ever], yes_rest)
    ev[~dk_ever] = np.where(ever_yes, 1, 2)
    ever[rest] = ev
    ever[inc == 1] = 1
    col["incident_ever"] = ever

    # 7. self-assessments ---------------------------------------------------------------------
    b.ordinal("too_small_target", p.too_small_log_size * log_size + p.too_small_awareness * awareness, high_first=False)
    b.ordinal("own_risk_high", p.own_risk_incident_ever * (ever == 1) + p.own_risk_too_small * (col["too_small_target"] - 3),
              high_first=False)
    b.ordinal("general_risk_high", p.general_risk_awareness * awareness + 0.3 * (ever == 1), high_first=False)
    b.ordinal("feel_protected", p.protected_tech_measure * (tech_index - tech_index.mean()) + p.protected_responsible * responsible
              + p.protected_incident * (inc == 1) + p.protected_awareness * awareness, high_first=False)
    b.ordinal("staff_phishing_competence", p.phishing_training_all * training_all + p.phishing_awareness * awareness,
              high_first=False)
    role_lp = np.zeros((n, 6))
    role_lp[:, 2] += 0.8 * log_size
    role_lp[:, 4] += 0.8 * log_size
    b.categorical("resp_role", role_lp)
    has_comment = rng.random(n) < p.share_comment
    comments = np.full(n, None, dtype=object)
    comments[has_comment] = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), has_comment.sum())]
    col["comments"] = comments

    # assemble in questionnaire order, then the design and latent columns ---------------------
    answers = {c: col[c] for c in inst.columns if c in col}
    missing = [c for c in inst.columns if c not in col and c not in {m.var for m in inst.metadata}]
    if missing:
        raise RuntimeError(f"simulate_population did not generate instrument columns {missing}")
    pop = pd.DataFrame({"practice_id": np.arange(1, n + 1), **answers})
    pop["federal_state"] = pop["federal_state"].astype("str")
    pop["comments"] = pd.Series(comments, dtype="str").where(has_comment)
    pop.insert(1, "stratum", pd.Series(ptype.astype(str), dtype="str") + "-" + pop["federal_state"])
    for c in ("awareness", "competence", "equipment", "incident_true", "incident_detected"):
        pop[c] = col[c]
    pop["p_detect"] = p_det
    pop.attrs.update(seed=int(seed), params=p.to_dict(), levels=_jsonable(b.levels), instrument=inst.name)
    return pop


def _solve_weighted(lp, w, target):
    """The c with mean(w * expit(c + lp)) == target (Newton)."""
    c = 0.0
    for _ in range(60):
        q = expit(c + lp)
        f = (w * q).mean() - target
        if abs(f) < 1e-12:
            return c
        c -= f / max((w * q * (1 - q)).mean(), 1e-12)
    raise RuntimeError(f"incident level did not converge (gap {f:.3g})")


def _jsonable(levels: dict) -> dict:
    return {k: (float(v) if np.isscalar(v) else [float(x) for x in v]) for k, v in levels.items()}
