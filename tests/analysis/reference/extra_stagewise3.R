## R survey 4.5 calibration within the clusters of a later stage (calibrate(stage = 2); Sarndal's
## case C one stage down): a three-stage sample drawn here from apipop (counties, districts within
## counties, schools within districts; districts spanning two counties and districts with fewer
## than 3 schools left out of the frame), calibrated within each sampled district to the
## district's own totals; the residuals act on the third-stage variance only. Also stage = 1 on
## the same design, both stages one after the other, a heteroscedastic stage-2 calibration, a
## design with strata at the first stage, a subset, stage = 1 after a population calibration, and
## what R refuses (tests/analysis/test_calibration_stagewise3.py).
## Writes data/stagewise3.csv (the sample) and extra_stagewise3.json. Run from this folder:
##  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_stagewise3.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
span <- tapply(apipop$cnum, apipop$dnum, function(x) length(unique(x)))
frame <- apipop[apipop$dnum %in% as.numeric(names(span)[span == 1]), ]
size <- table(frame$dnum)
frame <- frame[frame$dnum %in% as.numeric(names(size)[size >= 3]), ]
ndist <- tapply(frame$dnum, frame$cnum, function(x) length(unique(x)))
frame <- frame[frame$cnum %in% as.numeric(names(ndist)[ndist >= 2]), ]
frame <- frame[order(frame$cnum, frame$dnum, frame$snum), ]

set.seed(20261205)
counties <- sort(unique(frame$cnum))
N1 <- length(counties)
s1 <- sort(sample(counties, 8))
rows <- list()
for (k in s1) {
  dists <- sort(unique(frame$dnum[frame$cnum == k]))
  s2 <- sort(sample(dists, 2))
  for (j in s2) {
    schools <- frame[frame$dnum == j, ]
    take <- schools[sort(sample(nrow(schools), 3)), ]
    take$fpc1 <- N1
    take$fpc2 <- length(dists)
    take$fpc3 <- nrow(schools)
    rows[[length(rows) + 1]] <- take
  }
}
samp <- do.call(rbind, rows)
samp <- samp[, c("cnum", "dnum", "snum", "stype", "api00", "api99", "meals", "fpc1", "fpc2", "fpc3")]
samp$stype <- as.character(samp$stype)
rownames(samp) <- NULL
write.csv(samp, "data/stagewise3.csv", row.names = FALSE)

d3 <- svydesign(id = ~cnum + dnum + snum, fpc = ~fpc1 + fpc2 + fpc3, data = samp)
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
stats <- function(d) list(weights = as.numeric(weights(d)),
                          mean_api00 = st(svymean(~api00, d)), total_api00 = st(svytotal(~api00, d)),
                          total_meals = st(svytotal(~meals, d)),
                          by_stype_mean_api00 = st(svyby(~api00, ~stype, d, svymean)))
## R labels the later-stage units by pasting the earlier stages ("10.521"): read the district
## and county numbers of each unit in that order
dists <- samp$dnum[!duplicated(d3$cluster[, 2])]
pop_ratio <- lapply(dists, function(j) c(api99 = sum(frame$api99[frame$dnum == j])))
pop_greg <- lapply(dists, function(j) c(`(Intercept)` = sum(frame$dnum == j),
                                         api99 = sum(frame$api99[frame$dnum == j])))
ctys <- samp$cnum[!duplicated(d3$cluster[, 1])]
pop_cty <- lapply(ctys, function(k) c(api99 = sum(frame$api99[frame$cnum == k])))

ratio2 <- calibrate(d3, ~api99 - 1, pop_ratio, stage = 2)
greg2 <- calibrate(d3, ~api99, pop_greg, stage = 2)
ratio1 <- calibrate(d3, ~api99 - 1, pop_cty, stage = 1)
both <- calibrate(ratio1, ~api99, pop_greg, stage = 2)
hetero2 <- calibrate(d3, ~api99, pop_greg, stage = 2, variance = samp$api99)
## counties in two strata (county number below 30 or not), the same sample and stage-2 totals
d3s <- svydesign(id = ~cnum + dnum + snum, strata = ~I(cnum < 30), fpc = ~fpc1 + fpc2 + fpc3,
                 data = samp)
strat2 <- calibrate(d3s, ~api99, pop_greg, stage = 2)
## stage = 1 after a calibration to population totals, on a design given weights: R's stage
## weights are 1 / allprob (the weights as given), not the calibrated weights (apiclus2)
dw2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, weights = ~pw, data = apiclus2)
pop_dist2 <- lapply(apiclus2$dnum[!duplicated(dw2$cluster[, 1])],
                    function(k) c(api99 = sum(apipop$api99[apipop$dnum == k])))
after_pop <- calibrate(calibrate(dw2, ~stype, c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018)),
                       ~api99 - 1, pop_dist2, stage = 1)
## stage = 2 calibration of a subset (rows outside it keep weight 0 and no influence)
sub2 <- calibrate(subset(d3, stype != "H"), ~api99 - 1, pop_ratio, stage = 2)
refuse <- function(expr) tryCatch({ force(expr); "no error" }, error = function(e) conditionMessage(e))
dw <- svydesign(id = ~cnum + dnum + snum, weights = ~I(fpc1 / 8 * fpc2 / 2 * fpc3 / 3), data = samp)
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
            districts = as.numeric(dists), counties = as.numeric(ctys),
            stage2_labels = as.character(unique(d3$cluster[, 2])),
            pop_ratio = lapply(pop_ratio, as.list), pop_greg = lapply(pop_greg, as.list),
            pop_county = lapply(pop_cty, as.list),
            uncalibrated = stats(d3),
            ratio2 = stats(ratio2), greg2 = stats(greg2), ratio1 = stats(ratio1),
            both = stats(both), hetero2 = stats(hetero2), strat2 = stats(strat2),
            subset2 = list(mean_api00 = st(svymean(~api00, sub2)),
                           total_api00 = st(svytotal(~api00, sub2))),
            after_pop = list(districts = as.numeric(apiclus2$dnum[!duplicated(dw2$cluster[, 1])]),
                             population = lapply(pop_dist2, as.list),
                             weights = as.numeric(weights(after_pop)),
                             mean_api00 = st(svymean(~api00, after_pop)),
                             total_api00 = st(svytotal(~api00, after_pop))),
            refuses = list(
              stage4 = refuse(calibrate(d3, ~api99 - 1, pop_ratio, stage = 4)),
              weights_only_stage2 = refuse(calibrate(dw, ~api99 - 1, pop_ratio, stage = 2)),
              bounded_stage2 = refuse(calibrate(d3, ~api99 - 1, pop_ratio, stage = 2, bounds = c(0.5, 2))),
              raking_stage2 = refuse(calibrate(d3, ~api99 - 1, pop_ratio, stage = 2, calfun = "raking")),
              aggregate_stage2 = refuse(calibrate(d3, ~api99 - 1, pop_ratio, stage = 2, aggregate.stage = 2)),
              replicate_stage2 = refuse(as.svrepdesign(ratio2))))
writeLines(to_json(OUT), "extra_stagewise3.json")
cat("wrote extra_stagewise3.json\n")
