"""Survey regression models with design-based standard errors.

svyglm            generalised linear models (R survey's svyglm)
svyolr            proportional-odds ordinal logit (R survey's svyolr)
compare_blocks    Wald tests, standardised effects and fit change for blocks of predictors
predictive_margins  average predicted outcome per factor level with design-based SEs
"""
from .blocks import compare_blocks, standardised_effects
from .glm import svyglm
from .margins import predictive_margins
from .modelwarnings import SurveyModelWarning
from .olr import SvyOLRResults, svyolr
from .results import SurveyModelResults, SvyGLMResults
from .wald import WaldTest

__all__ = [
    "SurveyModelResults",
    "SurveyModelWarning",
    "SvyGLMResults",
    "SvyOLRResults",
    "WaldTest",
    "compare_blocks",
    "predictive_margins",
    "standardised_effects",
    "svyglm",
    "svyolr",
]
