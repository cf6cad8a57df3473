## svyciprop with a user-given df (tests/test_estimators_proportion_quantile.py): every method
## but "beta" uses df for its t quantile; "beta" adjusts the effective n with degf(design)
## whatever df is (R survey 4.1-1 source).
## Run from tests/reference:  Rscript extra_estimators.R   -> extra_estimators.json
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
writeLines(toJSON(OUT, digits = NA, auto_unbox = TRUE, pretty = TRUE), "extra_estimators.json")
