"""analysis: design-based survey statistics (generic: works on any survey, e.g. R's api data).

One design object flows through every estimator; one variance engine (like R's svyrecvar) serves
means, totals, domains, tables, calibrated designs and models alike.

>>> import analysis
>>> d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")   # doctest: +SKIP
>>> d.mean("api00")                                                          # doctest: +SKIP
>>> analysis.svyglm("sch_wide ~ ell + meals", d, family="quasibinomial")    # doctest: +SKIP
"""

from analysis.calibration import CalibrationError
from analysis.design import DesignError, ReplicateDesign, SurveyDesign
from analysis.diagnostics import kish_deff, kish_n_eff
from analysis.domains import DomainEstimates, contrast
from analysis.models import (
    SurveyModelResults,
    SurveyModelWarning,
    SvyGLMResults,
    SvyOLRResults,
    WaldTest,
    compare_blocks,
    predictive_margins,
    standardised_effects,
    svyglm,
    svyolr,
)
from analysis.replicates import ReplicateError
from analysis.results import SurveyEstimate
from analysis.tables import AssociationTest, Crosstab
from analysis.variance import LonelyPSUError

__all__ = [
    "AssociationTest",
    "Crosstab",
    "DomainEstimates",
    "LonelyPSUError",
    "CalibrationError",
    "DesignError",
    "ReplicateDesign",
    "ReplicateError",
    "SurveyDesign",
    "SurveyEstimate",
    "SurveyModelResults",
    "SurveyModelWarning",
    "SvyGLMResults",
    "SvyOLRResults",
    "WaldTest",
    "compare_blocks",
    "contrast",
    "kish_deff",
    "kish_n_eff",
    "predictive_margins",
    "standardised_effects",
    "svyglm",
    "svyolr",
]
