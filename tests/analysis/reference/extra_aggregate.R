## R survey 4.5 calibration with aggregate.stage (tests/analysis/test_calibration_aggregate.py): the
## calibration variables and weights averaged within the first-stage clusters.
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_aggregate.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
pop <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
res <- function(d) list(weights = as.numeric(weights(d)),
                        mean_api00 = list(estimate = as.numeric(coef(svymean(~api00, d))), se = as.numeric(SE(svymean(~api00, d)))),
                        total_enroll = list(estimate = as.numeric(coef(svytotal(~enroll, d, na.rm = TRUE))), se = as.numeric(SE(svytotal(~enroll, d, na.rm = TRUE)))))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  dclus1_linear = res(calibrate(dclus1, ~stype + api99, pop, aggregate.stage = 1)),
  dclus1_raking = res(calibrate(dclus1, ~stype + api99, pop, aggregate.stage = 1, calfun = "raking", epsilon = 1e-10)),
  dclus2_linear = res(calibrate(dclus2, ~stype + api99, pop, aggregate.stage = 1)))
writeLines(to_json(OUT), "extra_aggregate.json")
cat("wrote extra_aggregate.json\n")
