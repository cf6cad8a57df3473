"""Replicate weights from a Taylor design (R's ``as.svrepdesign``): JK1, JKn, BRR/Fay,
bootstrap (Canty-Davison) and the Rao-Wu rescaled bootstrap, formed from the first-stage PSUs and
strata. A calibrated design has every weighting step redone on every replicate, starting from the
weights before the first step, so replicate variances include the weighting.

Example
-------
>>> dclus1.replicate("jk1").mean("api00")
            estimate         se    ci_low     ci_high
variable
api00     644.169399  26.329361  592.5648  695.773997
[mean; 95% CI: normal; design df = 14]
"""

from __future__ import annotations

import warnings

import numpy as np

from analysis import replicates as rep

__all__ = ["ReplicationMixin"]

_TYPES = {
    "jk1": "JK1",
    "jkn": "JKn",
    "brr": "BRR",
    "fay": "Fay",
    "bootstrap": "bootstrap",
    "rao-wu": "bootstrap",
}


def _replicate_factors(design, key: str, replicates: int, *, seed, fay_rho: float,
                       hadamard_matrix) -> rep.ReplicateWeightMatrix:
    """Per-PSU replicate multipliers of a Taylor design's first stage (R's as.svrepdesign:
    jk1weights, jknweights, brrweights, bootweights), with its first-stage fpc where the
    method uses one."""
    stage = design.stages[0]
    psu = stage.psu
    strata = stage.psu_stratum[psu]
    popsize = None
    if stage.stratum_popsize is not None:
        popsize = stage.stratum_popsize[strata]
        if len(design.stages) > 1 and any(s.stratum_popsize is not None for s in design.stages[1:]):
            warnings.warn(
                "finite population corrections after the first stage are dropped in the "
                "replicate design (as R's as.svrepdesign)",
                stacklevel=3,
            )
    if key == "jk1":
        if design.has_strata:
            raise rep.ReplicateError("JK1 is for unstratified designs: use 'jkn'")
        return rep.jk1_weights(psu, popsize=popsize)
    if key == "jkn":
        if not design.has_strata:
            raise rep.ReplicateError("JKn needs strata: use 'jk1' or 'bootstrap'")
        return rep.jkn_weights(strata, psu, popsize=popsize, lonely_psu=design.lonely_psu)
    if key in ("brr", "fay"):
        if not design.has_strata:
            raise rep.ReplicateError("BRR/Fay need strata with 2 PSUs each")
        if popsize is not None:
            warnings.warn(
                "finite population correction dropped in the conversion to BRR/Fay "
                "replicates (as R)",
                stacklevel=3,
            )
        rho = 0.0 if key == "brr" else fay_rho
        # R numbers the strata by their labels sorted as text: pass the labels
        labels = np.asarray(stage.stratum_labels, dtype=str)[strata]
        return rep.brr_weights(labels, psu, fay_rho=rho, hadamard_matrix=hadamard_matrix)
    method = "rao-wu" if key == "rao-wu" else "canty-davison"
    return rep.bootstrap_weights(strata, psu, replicates, seed=seed, popsize=popsize, method=method)


def _replicate_analysis_weights(rw: rep.ReplicateWeightMatrix, weights: np.ndarray,
                                cals: tuple, key: str):
    """Replicate analysis weights: multipliers times the design weights, kept per PSU (P x R);
    for a calibrated design every weighting step is redone on an (n, R) matrix, starting from
    the weights before the first step."""
    if not cals:
        return rw.analysis_weights(weights)
    rep.check_matrix_memory(len(weights), rw.n_replicates,
                            f"{key} replicates of a calibrated design")
    base = cals[0].old_weights
    if base is None:
        raise rep.ReplicateError("cannot replicate: a calibration step lacks its starting weights")
    W = rw.multipliers
    np.multiply(W, base[:, None], out=W)
    for record in cals:
        W = record.replay(W)
    return W


class ReplicationMixin:
    """``replicate()`` of a Taylor design (needs ``stages``, ``weights``, ``domain``,
    ``calibrations``, ``has_strata``, ``lonely_psu`` and ``_replicate_design``)."""

    def replicate(
        self,
        type: str = "jk1",
        replicates: int = 50,
        *,
        seed=None,
        fay_rho: float = 0.5,
        mse: bool = False,
        hadamard_matrix=None,
    ):
        """Replicate-weight version of this design (R: as.svrepdesign).

        ``type``: ``"jk1"`` (unstratified), ``"jkn"`` (stratified), ``"brr"`` / ``"fay"``
        (2 PSUs per stratum; ``fay_rho``), ``"bootstrap"`` (Canty-Davison as R, ``replicates``
        draws, seeded by ``seed``) or ``"rao-wu"`` (rescaled bootstrap). Replicates are formed
        from the first-stage PSUs and strata; the first-stage fpc enters JK1/JKn/bootstrap as in
        R (dropped with a warning for BRR/Fay). If the design was calibrated, every weighting
        step is re-done on every replicate (R's as.svrepdesign would not).

        >>> r = dclus1.replicate("jk1")
        >>> r.mean("api00")
                    estimate         se    ci_low     ci_high
        variable
        api00     644.169399  26.329361  592.5648  695.773997
        [mean; 95% CI: normal; design df = 14]
        """
        if self.is_replicate:
            raise rep.ReplicateError("this is already a replicate design")
        if not np.all(self.domain):
            raise rep.ReplicateError(
                "replicate the full design and take the subset (domain) of the replicate design: "
                "the replicates must be formed from every sampled PSU"
            )
        if getattr(self, "_pps", None) is not None:
            raise rep.ReplicateError(f"replicate weights for a pps={self._pps!r} design are not "
                                     "supported: build the design without pps= to replicate it")
        key = type.lower()
        if key not in _TYPES:
            raise rep.ReplicateError(f"type must be one of {sorted(_TYPES)}; got {type!r}")
        rw = _replicate_factors(self, key, replicates, seed=seed, fay_rho=fay_rho,
                                hadamard_matrix=hadamard_matrix)
        # degrees of freedom as R: rank of the replicate weights - 1; multipliers are constant
        # within PSUs, so the rank of the (PSU x R) table is the rank of the (n x R) matrix
        live = np.zeros(rw.factors.shape[0], dtype=bool)
        live[rw.psu[self.weights != 0]] = True              # PSUs with a weighted row
        degf = int(np.linalg.matrix_rank(rw.factors[live])) - 1
        cals = tuple(self.calibrations)
        rd = self._replicate_design(
            repweights=_replicate_analysis_weights(rw, self.weights, cals, key),
            type=_TYPES[key], scale=rw.scale, rscales=rw.rscales,
            rho=rw.rho if rw.type == "Fay" else None, mse=mse, degf=degf,
        )
        for record in cals:
            rd = rd._with_weights(rd.weights, record)
        return rd
