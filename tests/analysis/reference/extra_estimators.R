## svyciprop with a user-given df (tests/analysis/test_estimators_proportion_quantile.py): every method
## but "beta" uses df for its t quantile; "beta" adjusts the effective n with degf(design)
## whatever df is (R survey 4.1-1 source).
## Run from tests/analysis/reference:  Rscript extra_estimators.R   -> extra_estimators.json
suppressPackageStartupMessages(library(survey))
library(jsonlite)
data(api)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))),
            svyciprop_df10 = list())
for (meth in c("logit", "beta", "asin", "mean", "xlogit")) {
  p <- svyciprop(~I(sch.wide == "Yes"), dstrat, method = meth, df = 10)
  ci <- attr(p, "ci")
  OUT$svyciprop_df10[[meth]] <- list(
    call = sprintf("svyciprop(~I(sch.wide=='Yes'), dstrat, method='%s', df=10)", meth),
    estimate = as.numeric(coef(p)), ci_lower = as.numeric(ci[1]), ci_upper = as.numeric(ci[2]))
}
## qrule_math when the smallest value alone carries more than p of the weight: R's qs() falls
## back to pos = 1 (survey:::last of all FALSE) and returns the SECOND smallest value
OUT$qrule_math_first_heavy <- list(x = c(1, 2, 3), w = c(5, 1, 1), p = c(0.1, 0.5, 0.72, 0.9),
  r = sapply(c(0.1, 0.5, 0.72, 0.9), function(p) survey:::qrule_math(c(1, 2, 3), c(5, 1, 1), p)))
writeLines(toJSON(OUT, digits = NA, auto_unbox = TRUE, pretty = TRUE), "extra_estimators.json")
