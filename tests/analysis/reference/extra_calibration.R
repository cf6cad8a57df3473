## R survey 4.5 calibration with per-unit bounds (bounds = list(lower = ..., upper = ...)) and
## bounds.const = TRUE (tests/analysis/test_calibration_bounds.py); iterative fits with epsilon = 1e-10 as ours.
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_calibration.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
pop <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
lo <- ifelse(apiclus1$stype == "E", 0.6, 0.5)
up <- ifelse(apiclus1$stype == "H", 1.7, 3)
res <- function(d) list(weights = as.numeric(weights(d)),
                        mean_api00 = list(estimate = as.numeric(coef(svymean(~api00, d))), se = as.numeric(SE(svymean(~api00, d)))),
                        total_enroll = list(estimate = as.numeric(coef(svytotal(~enroll, d))), se = as.numeric(SE(svytotal(~enroll, d)))))
OUT$per_unit <- list(
  lower = lo, upper = up,
  linear = res(calibrate(dclus1, ~stype + api99, pop, bounds = list(lower = lo, upper = up), calfun = "linear")),
  raking = res(calibrate(dclus1, ~stype + api99, pop, bounds = list(lower = lo, upper = up), calfun = "raking", epsilon = 1e-10)),
  logit = res(calibrate(dclus1, ~stype + api99, pop, bounds = list(lower = lo, upper = up), calfun = "logit", epsilon = 1e-10))
)
OUT$bounds_const <- list(
  linear = res(calibrate(dstrat, ~stype + api99, pop, bounds = c(15, 45), bounds.const = TRUE, calfun = "linear")),
  raking = res(calibrate(dstrat, ~stype + api99, pop, bounds = c(15, 45), bounds.const = TRUE, calfun = "raking", epsilon = 1e-10))
)
writeLines(to_json(OUT), "extra_calibration.json")
cat("wrote extra_calibration.json\n")
