"""Nonresponse adjustment of base weights: weighting classes and response propensities.

The input is the design of the whole sample, every invited unit with its base weight and a 0/1
response indicator (``surveydata export`` writes this frame for fieldwork data; the frame
variables are what is known of nonrespondents). The output is the design of the respondents with
adjusted weights.

* Weighting classes (``classes=``): in each class c the respondents' weights are multiplied by
  sum of base weights of the sampled units in c / sum of base weights of the respondents in c,
  so the respondents represent their class's share of the sample. This is post-stratification of
  the respondents' design to the class totals of the whole sample, and is computed exactly so
  (R: ``postStratify(respondents, ~class, totals)``): the variance uses the residuals of the
  adjustment, as for every calibration.
* Response propensities (``propensity="x + C(g)"``): a base-weighted logistic model of response
  on frame variables (``svyglm``) gives p_i for every sampled unit; by default the units are then
  grouped into ``n_classes`` classes of equal size by p_i and adjusted by class as above (the
  propensity-stratification of Little 1986, more stable than dividing by p_i), or with
  ``n_classes=None`` each respondent's weight is divided by its own p_i.

``NonresponseAdjustment.classes`` lists per class the units sampled and responding, the weighted
response rate and the adjustment factor.

>>> import numpy as np, pandas as pd
>>> from analysis import SurveyDesign
>>> df = pd.DataFrame({"g": list("aaaabbbb"), "r": [1, 1, 0, 0, 1, 1, 1, 0], "y": np.arange(8.0), "w": 2.0})
>>> adj = adjust_nonresponse(SurveyDesign(df, weights="w"), "r", classes="g")
>>> adj.classes["factor"].round(4).tolist()
[2.0, 1.3333]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import SurveyDesign
from .errors import AnalysisError

__all__ = ["NonresponseAdjustment", "NonresponseError", "adjust_nonresponse"]


class NonresponseError(AnalysisError):
    """The adjustment cannot be made (a class without respondents, a bad response column)."""


@dataclass
class NonresponseAdjustment:
    """``design``: the respondents with adjusted weights; ``classes``: one row per class;
    ``propensity``: the response model (None for plain weighting classes)."""

    design: object
    classes: pd.DataFrame
    propensity: object | None = None

    def __repr__(self) -> str:
        return (f"Nonresponse adjustment: {int(self.classes['responded'].sum())} of "
                f"{int(self.classes['sampled'].sum())} sampled units responded\n{self.classes.round(4)}")


def _respondent_design(design, keep: np.ndarray):
    """The design rebuilt on the respondents' rows (same weights, strata, clusters, fpc)."""
    spec = getattr(design, "_spec", None)
    if spec is None:
        raise NonresponseError("nonresponse adjustment needs a SurveyDesign of the whole sample "
                               "(a replicate design: adjust first, then replicate)")
    data = design.data[keep]
    return SurveyDesign(data, weights=spec["weights"], probs=spec["probs"], strata=spec["strata"],
                        psu=spec["psu"] or None, fpc=spec["fpc"] or None, nest=spec["nest"],
                        lonely_psu=design.lonely_psu)


def adjust_nonresponse(design, responded: str, classes=None, propensity: str | None = None,
                       n_classes: int | None = 5) -> NonresponseAdjustment:
    """Adjust the base weights of ``design`` (the whole sample) for nonresponse (see module doc).

    responded: column with 1/True for respondents, 0/False for nonrespondents.
    classes: column(s) of weighting classes; or propensity: right-hand side of the response model
    (frame variables), with ``n_classes`` propensity classes (None: divide by the propensity).
    """
    data = design.data
    if responded not in data.columns:
        raise NonresponseError(f"response column {responded!r} not in the design's data")
    r = data[responded]
    values = set(pd.unique(r.dropna()))
    if r.isna().any() or not values <= {0, 1}:   # True == 1 and False == 0 in a set
        raise NonresponseError(f"{responded} must be 0/1 (or boolean) for every sampled unit; found "
                               f"{sorted(map(str, values))[:5]}{' and missing values' if r.isna().any() else ''}")
    resp = r.astype(bool).to_numpy() & np.asarray(design.domain, dtype=bool)
    if (classes is None) == (propensity is None):
        raise NonresponseError("give either classes= (weighting classes) or propensity= (a response model)")
    w = np.asarray(design.weights, dtype=float)
    fit = None
    if propensity is not None:
        from .models import svyglm  # noqa: PLC0415 (lazy: statsmodels)

        d = design.assign(_responded=resp.astype(float))
        fit = svyglm(f"_responded ~ {propensity}", d, family="quasibinomial")
        p = fit.predict(d.data, type="response")["estimate"].to_numpy(dtype=float)
        if n_classes is None:
            if (p <= 0).any():
                raise NonresponseError("a response propensity is 0: use propensity classes")
            out = _respondent_design(design, resp)
            adjusted = out.weights / p[resp]
            table = pd.DataFrame({"sampled": [int(design.n)], "responded": [int(resp.sum())],
                                  "response_rate": [w[resp].sum() / w.sum()],
                                  "factor": [float(np.mean(1 / p[resp]))]}, index=["propensity"])
            return NonresponseAdjustment(out._with_weights(adjusted), table, fit)
        # classes of (about) equal size by propensity, as R's cut at quantiles
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_classes + 1)))
        cls = pd.Series(np.clip(np.searchsorted(edges, p, side="right"), 1, len(edges) - 1),
                        index=data.index).map(lambda c: f"class {c}")
        data = data.assign(_nr_class=cls)
        design = design.assign(_nr_class=cls)
        classes = "_nr_class"
    cols = [classes] if isinstance(classes, str) else list(classes)
    key = data[cols].astype(str).agg(" / ".join, axis=1) if len(cols) > 1 else data[cols[0]]
    sampled_w = pd.Series(w, index=data.index).groupby(key, observed=True).sum()
    resp_w = pd.Series(np.where(resp, w, 0.0), index=data.index).groupby(key, observed=True).sum()
    counts = pd.DataFrame({"sampled": pd.Series(np.asarray(design.domain), index=data.index).groupby(key, observed=True).sum(),
                           "responded": pd.Series(resp, index=data.index).groupby(key, observed=True).sum()})
    empty = counts.index[counts["responded"] == 0].tolist()
    if empty:
        raise NonresponseError(f"class(es) {empty} have no respondents: merge them with a neighbour")
    table = counts.assign(response_rate=resp_w / sampled_w, factor=sampled_w / resp_w)
    table.index.name = "class"
    out = _respondent_design(design, resp)
    if len(cols) > 1:
        out = out.assign(_nr_key=key[resp].to_numpy())
        adjusted = out.poststratify("_nr_key", sampled_w)
    else:
        adjusted = out.poststratify(cols[0], sampled_w)
    return NonresponseAdjustment(adjusted, table, fit)
