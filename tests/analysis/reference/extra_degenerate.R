## What R survey does with degenerate inputs (tests/analysis/test_degenerate_inputs.py): an empty data
## frame, and GLMs of constant outcomes. Run from tests/analysis/reference:
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_degenerate.R   -> extra_degenerate.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
catch <- function(expr) {
  warns <- character(0)
  val <- withCallingHandlers(tryCatch(expr, error = function(e) list(error = conditionMessage(e))),
                             warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  c(val, list(warnings = I(warns)))
}
OUT$empty_design <- list(
  strata = catch({ svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat[0, ]); list() }),
  no_strata = catch({ svydesign(id = ~1, weights = ~pw, data = apistrat[0, ]); list() }))
d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = transform(apistrat, one = 1, zero = 0))
fit <- function(f, fam) catch({ m <- svyglm(f, d, family = fam)
  list(coef = as.numeric(coef(m)), se = as.numeric(SE(m))) })
OUT$constant_outcome <- list(
  quasibinomial_one = fit(one ~ api00, quasibinomial()),
  quasibinomial_zero = fit(zero ~ api00, quasibinomial()),
  poisson_one = fit(one ~ api00, poisson()),
  poisson_zero = fit(zero ~ api00, poisson()),
  gaussian_one = fit(one ~ api00, gaussian()))
writeLines(to_json(OUT), "extra_degenerate.json")
cat("wrote extra_degenerate.json\n")
