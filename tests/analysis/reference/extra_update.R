## R's update() on designs: new variables in a calibrated (and a replicate) design keep the
## calibration for the variance. Run from tests/analysis/reference:  Rscript extra_update.R -> extra_update.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
options(survey.lonely.psu = "fail")
data(api)
res <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
dcal <- calibrate(dclus1, ~stype + api99, pop.totals)
dcal2 <- update(dcal, apidiff = api00 - api99, high = as.numeric(api00 > 700))
dps <- postStratify(dclus1, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
dps2 <- update(dps, apidiff = api00 - api99)
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
rclus2 <- update(rclus1, apidiff = api00 - api99)
OUT <- list(
  meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  calibrated_mean_apidiff = res(svymean(~apidiff, dcal2)),
  calibrated_mean_high = res(svymean(~high, dcal2)),
  calibrated_total_apidiff = res(svytotal(~apidiff, dcal2)),
  uncalibrated_mean_apidiff = res(svymean(~apidiff, update(dclus1, apidiff = api00 - api99))),
  poststratified_mean_apidiff = res(svymean(~apidiff, dps2)),
  jk1_mean_apidiff = res(svymean(~apidiff, rclus2))
)
writeLines(to_json(OUT), "extra_update.json")
