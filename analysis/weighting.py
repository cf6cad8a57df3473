"""Weighting methods of a design: poststratify, rake, calibrate, trim, diagnostics (and
replicate, from :mod:`analysis.replication`).

``WeightingMixin`` is inherited by the design base class. Each method returns a new design: the
full-sample weights are replaced through ``design._with_weights(new_weights, record)``, where
``record`` (from :mod:`analysis.calibration`) tells the variance engine how to residualise
influence values (R's svyrecvar). On a replicate design every replicate column is weighted the
same way (R's ``postStratify``/``rake``/``calibrate`` methods for svyrep designs), so replicate
variances include the weighting.

Example
-------
>>> pop = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
>>> d.poststratify("stype", pop).mean("api00")
            estimate        se      ci_low     ci_high
variable
api00     662.287364  9.408941  643.846178  680.728549
[mean; 95% CI: normal; design df = 197]
>>> d.rake({"stype": pop, "sch.wide": pd.Series({"No": 1072.0, "Yes": 5122.0})}).mean("api00")
           estimate        se      ci_low    ci_high
variable
api00     662.21165  9.272915  644.037071  680.38623
[mean; 95% CI: normal; design df = 197]
>>> d.calibrate({"stype": pop, "api99": 3914069.0}).mean("api00")
          estimate        se      ci_low     ci_high
variable
api00     664.6302  1.899919  660.906428  668.353972
[mean; 95% CI: normal; design df = 197]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis import calibration as cal
from analysis.calibration import within_clusters as cal_within
from analysis.calibration.bounds import calibration_bounds
from analysis.calibration.totals import model_matrix, numeric_column, population_totals
from analysis.diagnostics import WeightDiagnostics, weight_diagnostics
from analysis.replication import ReplicationMixin

__all__ = ["WeightingMixin", "model_matrix"]

#: R's ``rake`` control defaults (stop when no cell total moves by 1 or more; at most 10 sweeps)
R_RAKE_CONTROL = {"epsilon": 1.0, "maxit": 10}



def _rake_control(control: Mapping | str) -> tuple[float, int]:
    """(epsilon, maxit) from R's rake ``control`` (a dict, or "R" for R's defaults)."""
    ctrl = dict(R_RAKE_CONTROL) if isinstance(control, str) else dict(control)
    if isinstance(control, str) and control.upper() != "R":
        raise cal.CalibrationError(f"control must be 'R' or a dict; got {control!r}")
    unknown = set(ctrl) - {"epsilon", "maxit", "verbose"}
    if unknown:
        raise cal.CalibrationError(f"unknown rake control setting(s) {sorted(unknown)}")
    return ctrl.get("epsilon", R_RAKE_CONTROL["epsilon"]), ctrl.get("maxit", R_RAKE_CONTROL["maxit"])


def _plain(value):
    """A numpy scalar label as the Python value it holds (messages print 1, not np.int64(1))."""
    return value.item() if isinstance(value, np.generic) else value


def _calibrate_within_clusters(design, totals, formula, stage, method, bounds, variance):
    """R's regcalibrate(stage = s): linear calibration inside every unit of stage s to
    that unit's totals (see :mod:`analysis.calibration.within_clusters`)."""
    stages = getattr(design, "stages", None)
    n_stages = 0 if stages is None else len(stages)
    unit = "PSU" if stage == 1 else f"stage-{stage} unit"
    if not isinstance(stage, (int, np.integer)) or stage < 1:
        raise cal.CalibrationError(f"stage={stage!r}: give 0 (population totals) or the "
                                   "stage whose sampling units are calibrated (1 = the PSUs)")
    if stages is None:
        raise cal.CalibrationError(f"stage={stage}: calibration within clusters needs a "
                                   "multistage Taylor design; a replicate design has no stages "
                                   "(R's calibrate for replicate designs has no stage)")
    if n_stages <= stage:
        # R accepts stage = the number of stages (no later stage: no effect on the
        # variance) and stops with "This design does not have stage" beyond it
        words = {1: "two", 2: "three", 3: "four"}
        raise cal.CalibrationError(
            f"stage={stage} calibrates within the {unit}s: it needs a design with "
            f"{words.get(stage, stage + 1)} or more stages of sampling (this one has "
            f"{n_stages})")
    if formula is None or not isinstance(totals, Mapping):
        raise cal.CalibrationError(f"stage={stage} needs formula= and totals as a dict "
                                   f"{{{unit} label: {{model-matrix name: total}}}}")
    if method != "linear" or not all(np.all(np.isinf(b)) for b in bounds):
        raise cal.CalibrationError(f"stage={stage} calibration is linear and unbounded, "
                                   "as R's")
    X, names = model_matrix(design.data, formula)
    n = X.shape[0]
    w = np.asarray(design.weights, dtype=np.float64)
    stage_w = _stage_weights(design, stage, w)
    if variance is None:
        s2 = None
    elif isinstance(variance, str):
        s2 = numeric_column(design.data, variance)
    else:
        v = np.asarray(variance, dtype=np.float64)
        s2 = v if v.shape == (n,) else X @ v
    cols = design._spec["psu"][:stage]
    labels = [design.data[c].to_numpy() for c in cols]
    codes = stages[stage - 1].psu
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    # a unit is keyed by its own label (or its text) when that label names one unit of
    # the stage; where labels repeat across the units of the stage above (1, 2, ... in
    # every PSU), only by the labels of every stage down to it
    own_label = pd.unique(labels[-1]).shape[0] == len(starts)
    if not own_label and stage == 1:
        raise cal.CalibrationError(f"PSU labels of {cols[0]!r} repeat across strata: give "
                                   "every PSU its own label to key its totals")
    units = []
    for rows in np.split(order, starts[1:]):
        path = tuple(_plain(lab[rows[0]]) for lab in labels)
        label = path[-1]
        keys = ([label, str(label)] if own_label else []) + [path, tuple(map(str, path))]
        t = cal_within.unit_totals(totals, keys, names, f"{unit} {cols[-1]}={label!r}")
        units.append((label if stage == 1 else path, rows, t))
    new_w, record = cal_within.calibrate_within_clusters(
        w, stage_w, X, names, units, stage=stage, sigma2=s2, codes=codes)
    return design._apply(new_w, record, record.replay)


def _stage_weights(design, stage: int, w: np.ndarray) -> np.ndarray:
    """Product of the stage weights N/n of stages 1..stage (R's 1 / allprob[, 1:stage])."""
    spec_given = design._spec["weights"] is not None or design._spec["probs"] is not None
    stages = design.stages[:stage]
    if stage == 1 and (spec_given or stages[0].stratum_popsize is None):
        # R: weights given as one column are the stage-1 weights too (1 / allprob): the
        # weights as given, before any calibration of this design
        cals = design.calibrations
        first = cals[0].old_weights if cals else None
        return w if first is None else np.asarray(first, dtype=np.float64)
    missing = [i + 1 for i, st in enumerate(stages) if st.stratum_popsize is None]
    if spec_given or missing:
        # R: allprob has one column when weights/probs are given ("undefined columns
        # selected")
        raise cal.CalibrationError(
            f"stage={stage} needs the sampling fraction of every stage 1..{stage}: build "
            "the design from fpc= (population sizes of each stage) without weights= or "
            "probs=" + (f" (no fpc for stage(s) {missing})" if missing else ""))
    out = np.ones(w.shape[0])
    for st in stages:
        out *= (st.stratum_popsize / st.stratum_n)[st.psu_stratum][st.psu]
    return out


def _calibrate_aggregated(design, aggregate_stage, X, t, names, force, kw):
    """R's calibrate(aggregate.stage=): X, weights (and a per-row variance) replaced by
    their cluster means; the g-weights multiply the design's own weights."""
    if isinstance(aggregate_stage, str):
        if aggregate_stage not in design.data.columns:
            raise cal.CalibrationError(f"aggregate_stage column {aggregate_stage!r} not found")
        codes = pd.factorize(design.data[aggregate_stage])[0]
        if (codes < 0).any():
            raise cal.CalibrationError(f"aggregate_stage column {aggregate_stage!r} has "
                                       "missing values")
    else:
        stages = getattr(design, "stages", None)
        if stages is None or not 1 <= int(aggregate_stage) <= len(stages):
            raise cal.CalibrationError(
                f"aggregate_stage={aggregate_stage!r}: give a stage 1..{len(stages or ())} of "
                "this design, or a column naming the clusters")
        codes = stages[int(aggregate_stage) - 1].psu
    Xa = cal.cluster_means(X, codes)
    Wa = cal.cluster_means(design.weights, codes)
    var = kw.get("variance")
    if var is not None and np.ndim(var) == 1 and np.shape(var)[0] == X.shape[0]:
        kw = {**kw, "variance": cal.cluster_means(var, codes)}
    wa, record = cal.calibrate_weights(Wa, Xa, t, force=force, names=names, **kw)
    G = np.divide(wa, Wa, out=np.ones_like(wa), where=Wa != 0)
    record = dataclasses.replace(record, aggregate=codes,
                                 old_weights=cal._frozen(design.weights))
    return design._apply(design.weights * G, record, record.replay)


class WeightingMixin(ReplicationMixin):
    """Weighting methods shared by SurveyDesign and ReplicateDesign (needs ``data``,
    ``weights``, ``calibrations`` and ``_with_weights``; replicate designs also ``repweights``);
    ``replicate()`` comes from :class:`~analysis.replication.ReplicationMixin`."""

    # ------------------------------------------------------------------ plumbing
    def _apply(self, new_weights: np.ndarray, record, replay_on_replicates):
        """New design with the weights (and each replicate column weighted the same way)."""
        if getattr(self, "_pps", None) == "twophase":
            raise cal.CalibrationError(
                "weighting a two-phase design is not supported (R calibrates its phases "
                "separately): weight the phase-1 data before building the two-phase design")
        if self.is_replicate:
            new_rw = replay_on_replicates(self.repweights)
            return self._with_weights(new_weights, record, repweights=new_rw)
        return self._with_weights(new_weights, record)

    # ------------------------------------------------------------------ post-stratification
    def poststratify(self, cols: str | Sequence[str], population, *, partial: bool = False):
        """Post-stratify to population cell counts (R: postStratify).

        ``cols``: a column or list of columns defining the cells; ``population``: Series of
        totals indexed by the cells (MultiIndex for several columns), a dict, or a frame with
        the cell columns and one column of totals. A level present in only one of sample and
        population is an error naming it (``partial=True`` ignores populated cells missing from
        the sample, with a warning).

        >>> d2 = d.poststratify("stype", pd.Series({"E": 4421, "H": 755, "M": 1018}))
        """
        cells = cal.cell_codes(self.data, cols, population, weights=self.weights, partial=partial)
        w, record = cal.poststratify_weights(self.weights, cells)
        return self._apply(w, record, lambda W: cal.poststratify_weights(W, cells)[0])

    # ------------------------------------------------------------------ raking
    def rake(
        self,
        margins: Mapping,
        *,
        epsilon: float = 1e-10,
        maxit: int = 100,
        control: Mapping | str | None = None,
        partial: bool = False,
    ):
        """Rake to population margins by iterative proportional fitting (R: rake).

        ``margins``: dict column -> Series of population totals by level (a tuple of columns ->
        Series with a MultiIndex for a joint margin). Iterates until no cell total of the joint
        table moves by more than ``epsilon * sum(weights)`` (``epsilon < 1``; an absolute amount
        for ``epsilon >= 1``), at most ``maxit`` sweeps. ``control="R"`` (or R's
        ``{"epsilon": 1, "maxit": 10}``) reproduces R's defaults, which stop early.

        >>> pop_types = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
        >>> pop_schwide = pd.Series({"No": 1072.0, "Yes": 5122.0})
        >>> d.rake({"stype": pop_types, "sch.wide": pop_schwide}).mean("api00")
                   estimate        se      ci_low    ci_high
        variable
        api00     662.21165  9.272915  644.037071  680.38623
        [mean; 95% CI: normal; design df = 197]
        """
        if control is not None:
            epsilon, maxit = _rake_control(control)
        if not isinstance(margins, Mapping) or not margins:
            raise cal.CalibrationError("margins must be a non-empty dict: column -> population totals")
        cells = [
            cal.cell_codes(self.data, key, pop, weights=self.weights, partial=partial)
            for key, pop in margins.items()
        ]
        w, record = cal.rake_weights(self.weights, cells, epsilon=epsilon, maxit=maxit)
        # replicates get as many sweeps as the full sample needed (R's rake on svyrep designs)
        return self._apply(w, record, record.replay)

    # ------------------------------------------------------------------ GREG calibration
    def calibrate(
        self,
        totals,
        formula: str | Sequence[str] | None = None,
        *,
        method: str = "linear",
        bounds: tuple[float, float] = (-np.inf, np.inf),
        epsilon: float = 1e-10,
        maxit: int = 50,
        force: bool = False,
        variance=None,
        bounds_const: bool = False,
        aggregate_stage=None,
        stage: int = 0,
    ):
        """Calibrate to population totals (R: calibrate), linear (GREG), raking or logit distance.

        Two ways to give the totals:

        * ``totals`` a dict column -> number (total of a numeric column) or Series of level
          totals (a categorical column); ``"(Intercept)"`` -> population size is allowed;
        * R's way: ``formula="~ stype + api99"`` and ``totals`` keyed by R's model-matrix
          names (``{"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069}``);
          interactions as R writes them (``"~ stype * sch.wide"`` needs the cell totals
          ``"stypeH:sch.wideYes"``, ...; see :func:`model_matrix`).

        ``bounds=(L, U)`` bound the ratios new/old weight (needed for ``"logit"``); L and U may
        be numbers, or one value per row (arrays or column names: R's
        ``bounds = list(lower = ..., upper = ...)``). ``bounds_const=True`` reads the bounds as
        bounds on the new weights themselves (R's bounds.const: divided by each row's weight).
        ``stage=s`` (R's calibrate(stage = s), Sarndal's case C): ``totals`` is a dict
        {unit label: {model-matrix name: total}} of each sampled unit of stage s (``stage=1``:
        the PSUs) with its own population totals (``formula`` required, linear unbounded
        distance, as R); the rows of every unit are calibrated with their conditional weights
        (weight / product of the stage weights N/n of stages 1..s), which reduces the variance
        of the stages after s only. A unit is found by its label in the stage-s column, or by
        the tuple of its labels at stages 1..s where labels repeat. ``stage >= 2`` needs the
        design built from ``fpc=`` alone (R needs every stage's sampling probability too).
        ``aggregate_stage`` (R's aggregate.stage): calibrate with the calibration variables and
        weights averaged within the sampling units of that stage (an int, 1 = the PSUs, of a
        SurveyDesign; or a column naming the clusters), so every unit of a cluster gets the
        same g-weight. R's epsilon
        is 1e-7; ours is tighter. Not converging raises unless ``force=True``.
        ``variance``: heteroscedastic calibration as R's ``calibrate(variance=)``: a column name
        or an array with one sigma2 per row, or one coefficient per calibration total
        (sigma2 = model matrix @ variance); e.g. the ratio estimator is
        ``calibrate({"api99": t}, variance="api99", formula="~ api99 - 1")``.

        >>> pop_types = pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})
        >>> d.calibrate({"stype": pop_types, "api99": 3914069.0}).mean("api00")
                  estimate        se      ci_low     ci_high
        variable
        api00     664.6302  1.899919  660.906428  668.353972
        [mean; 95% CI: normal; design df = 197]
        >>> pop_totals = pd.Series({"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0,
        ...                         "api99": 3914069.0})
        >>> d.calibrate(pop_totals, "~stype+api99", method="raking").mean("api00")
                   estimate        se      ci_low     ci_high
        variable
        api00     664.62917  1.899864  660.905504  668.352836
        [mean; 95% CI: normal; design df = 197]
        """
        pps = getattr(self, "_pps", None)
        if pps not in (None, "twophase") and (stage or aggregate_stage is not None):
            # R's calibrate.pps: "'stage'(>0) not supported", "'aggregate.stage' not supported"
            raise cal.CalibrationError(f"stage= and aggregate_stage= are not supported for a "
                                       f"pps={pps!r} design (as in R): calibrate to population "
                                       "totals")
        if stage:
            if aggregate_stage is not None:
                # as R: "aggregate= not implemented for calibration within clusters"
                raise cal.CalibrationError("aggregate_stage cannot be combined with stage= "
                                           "(calibration within clusters), as in R")
            return _calibrate_within_clusters(self, totals, formula, stage, method, bounds,
                                                   variance)
        X, t, names = population_totals(self.data, totals, formula)
        if isinstance(variance, str):
            variance = numeric_column(self.data, variance)
        bounds = calibration_bounds(self.data, self.weights, bounds, bounds_const)
        kw = {"method": method, "bounds": bounds, "epsilon": epsilon, "maxit": maxit,
              "variance": variance}
        if aggregate_stage is not None:
            return _calibrate_aggregated(self, aggregate_stage, X, t, names, force, kw)
        w, record = cal.calibrate_weights(self.weights, X, t, force=force, names=names, **kw)
        # replicates that do not converge only warn, as R's calibrate for svyrep designs
        return self._apply(w, record, lambda W: cal.calibrate_weights(W, X, t, force=True, **kw)[0])

    # ------------------------------------------------------------------ trimming
    def trim(self, lower: float = -np.inf, upper: float = np.inf, *, strict: bool = False):
        """Trim weights to [lower, upper], sharing the excess equally (R: trimWeights).

        The total weight is kept; ``strict=True`` repeats until no weight is outside. As R, the
        variance treats the trimmed weights as given (earlier calibration records stay).

        >>> d.trim(upper=60)
        Stratified Independent Sampling design
        SurveyDesign(weights='pw', strata='stype', fpc=['fpc'])
        n = 200, strata = 3, PSUs = 200, degf = 197
        Calibrated: 1 step(s)
        """
        w, record = cal.trim_weights(self.weights, lower=lower, upper=upper, strict=strict)
        return self._apply(
            w,
            record,
            lambda W: cal.trim_weights(W, lower=lower, upper=upper, strict=strict)[0],
        )

    # ------------------------------------------------------------------ diagnostics
    def weight_diagnostics(self) -> WeightDiagnostics:
        """Kish effective n and design effect, min/max/ratio, quantiles of the weights, counts of
        negative and zero weights (zeros among the design's rows; rows outside a subset are not
        counted), and achieved against target totals of every calibration step.

        >>> raked = d.rake({"stype": pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0})})
        >>> raked.weight_diagnostics().summary["n_eff"].round(2)
        np.float64(168.58)
        """
        return weight_diagnostics(
            self.weights,
            self.calibrations,
            repweights=self.repweights if self.is_replicate else None,
            domain=self.domain,
        )
