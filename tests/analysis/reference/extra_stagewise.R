## R survey 4.5 calibration within clusters (calibrate(stage = 1), Sarndal's case C):
## two-stage apiclus2 calibrated within each district to its api99 total (a ratio calibration,
## ~api99 - 1; a district with one sampled school allows no more) from apipop (tests/analysis/test_calibration_stagewise.py).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_stagewise.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
clusters <- unique(dclus2$cluster[, 1])
popclus <- lapply(clusters, function(k) {
  s <- apipop[apipop$dnum == k, ]
  c(api99 = sum(s$api99))
})
d <- calibrate(dclus2, ~api99 - 1, popclus, stage = 1)
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
            clusters = as.numeric(clusters),
            population = lapply(popclus, function(p) as.list(p)),
            weights = as.numeric(weights(d)),
            mean_api00 = st(svymean(~api00, d)), total_api00 = st(svytotal(~api00, d)),
            total_enroll = st(svytotal(~enroll, d, na.rm = TRUE)),
            uncalibrated_total_api00 = st(svytotal(~api00, dclus2)),
            by_stype_mean_api00 = st(svyby(~api00, ~stype, d, svymean)))
writeLines(to_json(OUT), "extra_stagewise.json")
cat("wrote extra_stagewise.json\n")
