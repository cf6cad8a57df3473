"""analysis: design-based survey statistics (generic: works on any survey, e.g. R's api data).

One design object flows through every estimator; one variance engine (like R's svyrecvar) serves
means, totals, domains, tables, calibrated designs and models alike.

>>> import analysis
>>> df = analysis.datasets.load("apistrat")
>>> d = analysis.SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
>>> d.mean("api00")
            estimate        se      ci_low     ci_high
variable
api00     662.287363  9.408941  643.846178  680.728548
[mean; 95% CI: normal; design df = 197]
>>> analysis.svyglm("api00 ~ ell + meals", d).params.round(3).tolist()
[823.858, -0.506, -3.111]
"""

from analysis.calibration import CalibrationError
from analysis.contrasts import nonlinear_contrast
from analysis.design import DesignError, ReplicateDesign, SurveyDesign
from analysis.diagnostics import kish_deff, kish_n_eff
from analysis.domains import DomainEstimates, contrast
from analysis.errors import AnalysisError, ModelError
from analysis.estimators import MissingValuesError
from analysis.hypothesis import HypothesisTest, svyranktest, svyttest
from analysis.pubtable import PublicationTable, model_table
from analysis.replicates import ReplicateError
from analysis.results import SurveyEstimate
from analysis.tableone import TableOne, table_one
from analysis.tables import AssociationTest, Crosstab
from analysis.twophase import TwoPhaseDesign, twophase
from analysis.variance import LonelyPSUError

# The models (statsmodels, and with it scipy.stats: about 100 MB resident) load on first use of
# one of these names (PEP 562), so designs, means and tables do not carry them. They are
# analysis.models.__all__, written out here (and again in __all__ below, which linters and
# IDEs read statically); tests/analysis/test_import_weight.py keeps the three lists equal.
_MODEL_NAMES = (
    "SurveyModelResults",
    "SurveyModelWarning",
    "SvyGLMResults",
    "SvyOLRResults",
    "WaldTest",
    "compare_blocks",
    "predictive_margins",
    "quasi",
    "standardised_effects",
    "svyglm",
    "svyolr",
)


# Further tools load on first use too (scipy.optimize for scales and planning): name -> module.
_LAZY = {
    "ImputedDesigns": "analysis.imputation",
    "adjust_nonresponse": "analysis.nonresponse",
    "combine": "analysis.imputation",
    "impute": "analysis.imputation",
    "pooled_wald_test": "analysis.imputation",
    "reliability": "analysis.scales",
    "with_imputations": "analysis.imputation",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415 (only on first lazy access)

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _MODEL_NAMES:
        from analysis import models  # noqa: PLC0415 (lazy: statsmodels)

        value = getattr(models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODEL_NAMES) | set(_LAZY))


__all__ = [
    "AnalysisError",
    "AssociationTest",
    "CalibrationError",
    "Crosstab",
    "DesignError",
    "DomainEstimates",
    "HypothesisTest",
    "ImputedDesigns",
    "LonelyPSUError",
    "MissingValuesError",
    "ModelError",
    "PublicationTable",
    "ReplicateDesign",
    "ReplicateError",
    "SurveyDesign",
    "SurveyEstimate",
    "SurveyModelResults",
    "SurveyModelWarning",
    "SvyGLMResults",
    "SvyOLRResults",
    "TableOne",
    "TwoPhaseDesign",
    "WaldTest",
    "adjust_nonresponse",
    "combine",
    "compare_blocks",
    "contrast",
    "impute",
    "kish_deff",
    "kish_n_eff",
    "model_table",
    "nonlinear_contrast",
    "pooled_wald_test",
    "predictive_margins",
    "quasi",
    "reliability",
    "standardised_effects",
    "svyglm",
    "svyolr",
    "svyranktest",
    "svyttest",
    "table_one",
    "twophase",
    "with_imputations",
]
