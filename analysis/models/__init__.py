"""Survey regression models with design-based standard errors.

svyglm              generalised linear models (R survey's svyglm); results have params, bse,
                    pvalues, conf_int(), summary(), tidy(), odds_ratios(), predict(),
                    wald_test() (R's regTermTest, Wald) and lrt_test() (regTermTest, LRT)
svyolr              proportional-odds ordinal logit (R survey's svyolr), with a Brant-type
                    design-based check of proportional odds
compare_blocks      Wald tests, standardised effects and fit change for blocks of predictors
predictive_margins  average predicted outcome per factor level with design-based SEs

Every number is checked against R survey 4.1-1 (tests/analysis/reference/reference.json and
extra_models.json). svyglm's point estimate is the maximiser of statsmodels' GLM weighted
pseudo-likelihood with the design weights as ``var_weights`` (the estimate of
``sm.GLM(y, X, family, var_weights=w).fit()``), found by our own normal-equation IRLS (irls.py)
iterated to a relative change below 1e-10; statsmodels' own fit runs only as a fallback when that
fails (separation, saturated means), and statsmodels supplies the family and link objects. Nothing
here imports ``statsmodels.api`` (only ``statsmodels.genmod.families``): its GLM is loaded with
the fallback.
"""
from .blocks import compare_blocks, standardised_effects
from .glm import quasi, svyglm
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
    "quasi",
    "standardised_effects",
    "svyglm",
    "svyolr",
]
