## Extra R survey numbers for weighting and replicate designs (beyond reference.json f and g).
## Run from tests/analysis/reference:  Rscript extra_weighting.R   -> extra_weighting.json
## Same data and conventions as reference.R (R 4.2.2, survey 4.1-1, mse=FALSE, lonely.psu fail).
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
options(survey.lonely.psu = "fail")
options(survey.replicates.mse = FALSE)
data(api)

OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey")),
                        note = "weights are listed in apiclus1 row order (or apistrat for dstrat)"))
res <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
wts <- function(d) unname(as.numeric(weights(d, "sampling")))
num_out <- function(d) list(mean_api00 = res(svymean(~api00, d)),
                            total_enroll = res(svytotal(~enroll, d)),
                            weights = I(wts(d)))

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
pop.awards <- as.data.frame(table(awards = apipop$awards), responseName = "Freq")
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
pop.cross <- as.data.frame(table(stype = apipop$stype, sch.wide = apipop$sch.wide), responseName = "Freq")
tight <- list(maxit = 100, epsilon = 1e-10)

## ---- Taylor designs: further distances, bounds, cells, trimming, domains
T <- list()
T$calibrate_logit_0.5_2.5 <- num_out(calibrate(dclus1, ~stype + api99, pop.totals, calfun = "logit", bounds = c(0.5, 2.5)))
T$calibrate_linear_bounded_0.6_1.6 <- num_out(calibrate(dclus1, ~stype + api99, pop.totals, calfun = "linear", bounds = c(0.6, 1.6)))
T$calibrate_raking_bounded_0.6_1.9 <- num_out(calibrate(dclus1, ~stype + api99, pop.totals, calfun = "raking", bounds = c(0.6, 1.9)))
T$poststratify_stype_x_schwide <- num_out(postStratify(dclus1, ~stype + sch.wide, pop.cross))
dps <- postStratify(dclus1, ~stype, pop.types)
T$trim_ps_32_50 <- num_out(trimWeights(dps, lower = 32, upper = 50))
dcal <- calibrate(dclus1, ~stype + api99, pop.totals)
## trimming a calibrated design: R keeps the calibration record (with its weights) for the variance
T$trim_cal_20_45 <- num_out(trimWeights(dcal, lower = 20, upper = 45))
T$trim_cal_20_45_strict <- num_out(trimWeights(dcal, lower = 20, upper = 45, strict = TRUE))
draked3 <- rake(dstrat, list(~stype, ~sch.wide, ~awards), list(pop.types, pop.schwide, pop.awards), control = tight)
T$dstrat_rake3_tight <- num_out(draked3)
T$dstrat_poststratify_schwide <- num_out(postStratify(dstrat, ~sch.wide, pop.schwide))
T$dstrat_calibrate_linear <- num_out(calibrate(dstrat, ~stype + api99, pop.totals))
## two calibration steps in a row: post-stratify then rake (records applied in order)
T$ps_then_rake <- num_out(rake(dps, list(~sch.wide, ~awards), list(pop.schwide, pop.awards), control = tight))
## domain estimates after calibration
by <- svyby(~api00, ~awards, dcal, svymean)
T$calibrate_linear_by_awards <- list(levels = I(as.character(by$awards)), estimate = unname(coef(by)), se = unname(SE(by)))
## two-stage design: the residuals feed both stages of the variance
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
num_out2 <- function(d) list(mean_api00 = res(svymean(~api00, d)), total_meals = res(svytotal(~meals, d)),
                             weights = I(wts(d)))  # apiclus2's enroll has NAs
T$dclus2_rake_tight <- num_out2(rake(dclus2, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = tight))
T$dclus2_calibrate_raking <- num_out2(calibrate(dclus2, ~stype + api99, pop.totals, calfun = "raking", epsilon = 1e-10))
## a model on a calibrated design: svyglm's SEs use the calibration residuals too
fit <- svyglm(api00 ~ ell + meals, design = calibrate(dclus1, ~stype + api99, pop.totals))
T$svyglm_on_calibrate_linear <- list(coef = coef(fit), se = SE(fit))
fit2 <- svyglm(api00 ~ ell + meals, design = rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = tight))
T$svyglm_on_rake_tight <- list(coef = coef(fit2), se = SE(fit2))
## calibration to a model with an interaction (totals of stype x sch.wide cells and api99)
pop.interaction <- colSums(model.matrix(~stype * sch.wide + api99, apipop))
T$calibrate_interaction <- c(num_out(calibrate(dclus1, ~stype * sch.wide + api99, pop.interaction)),
                             list(totals = as.list(pop.interaction)))
T$calibrate_numeric_interaction_raking <- c(
  num_out(calibrate(dclus1, ~stype + api99 + stype:api99,
                    colSums(model.matrix(~stype + api99 + stype:api99, apipop[!is.na(apipop$api99), ])) * 6194 / sum(!is.na(apipop$api99)),
                    calfun = "raking", epsilon = 1e-10)),
  list(totals = as.list(colSums(model.matrix(~stype + api99 + stype:api99, apipop[!is.na(apipop$api99), ])) * 6194 / sum(!is.na(apipop$api99)))))
## heteroscedastic calibration (variance=): the ratio estimator (linear, regcalibrate's path) and
## a bounded-free raking with sigma2 per row (grake's path)
T$calibrate_variance_ratio <- num_out(calibrate(dclus1, ~api99 - 1, c(api99 = 3914069), variance = apiclus1$api99))
T$calibrate_variance_coef <- num_out(calibrate(dclus1, ~stype + api99, pop.totals, variance = c(1, 1, 1, 0.001)))
enroll500 <- apiclus1$enroll; enroll500[is.na(enroll500)] <- 500
T$calibrate_variance_raking <- num_out(calibrate(dclus1, ~stype + api99, pop.totals, calfun = "raking",
                                                 variance = enroll500 / 500, epsilon = 1e-10))
OUT$taylor <- T
OUT$population <- list(awards = setNames(pop.awards$Freq, as.character(pop.awards$awards)),
                       stype_x_schwide = list(stype = I(as.character(pop.cross$stype)),
                                              sch.wide = I(as.character(pop.cross$sch.wide)),
                                              Freq = I(pop.cross$Freq)))

## ---- replicate designs: weighting applied to every replicate
rep_out <- function(d) list(mean_api00 = res(svymean(~api00, d)),
                            total_enroll = res(svytotal(~enroll, d)),
                            weights = I(wts(d)),
                            repweights_col1 = I(unname(as.numeric(weights(d, "analysis")[, 1]))),
                            repweights_col7 = I(unname(as.numeric(weights(d, "analysis")[, 7]))))
jk1 <- as.svrepdesign(dclus1, type = "JK1")
R <- list()
R$JK1_poststratify_stype <- rep_out(postStratify(jk1, ~stype, pop.types))
R$JK1_rake_tight <- rep_out(rake(jk1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = tight))
R$JK1_rake_Rdefault <- rep_out(suppressWarnings(rake(jk1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))))
R$JK1_calibrate_linear <- rep_out(calibrate(jk1, ~stype + api99, pop.totals))
R$JK1_calibrate_raking <- rep_out(calibrate(jk1, ~stype + api99, pop.totals, calfun = "raking"))
R$JK1_mse_mean_api00 <- res(svymean(~api00, as.svrepdesign(dclus1, type = "JK1", mse = TRUE)))
jk1cal <- calibrate(jk1, ~stype + api99, pop.totals)
byr <- svyby(~api00, ~awards, jk1cal, svymean)
R$JK1_calibrate_linear_by_awards <- list(levels = I(as.character(byr$awards)), estimate = unname(coef(byr)), se = unname(SE(byr)))
## user-supplied (combined) bootstrap replicate weights, then post-stratified
bw <- read.csv("data/repweights_bootstrap200_dclus1.csv")
bdes <- svrepdesign(data = apiclus1, repweights = as.matrix(bw[, grep("^rep", names(bw))]), weights = bw$full_sample_weight,
                    type = "bootstrap", combined.weights = TRUE, scale = 0.005384063173007897, rscales = rep(1, 200))
R$bootstrap_csv_poststratify_stype <- rep_out(postStratify(bdes, ~stype, pop.types))
## JKn on the stratified design with fpc (rscales (n_h - 1)/n_h * (1 - f_h))
jkn <- as.svrepdesign(dstrat, type = "JKn")
R$JKn_dstrat <- list(mean_api00 = res(svymean(~api00, jkn)), scale = jkn$scale,
                     rscales_unique = I(sort(unique(jkn$rscales))), n_replicates = ncol(jkn$repweights$weights))
## the scd example of ?svrepdesign (6 rows): data for as.svrepdesign(scdnofpc, type = "BRR")
data(scd)
R$scd_data <- lapply(as.list(scd), function(v) I(v))
scdnofpc <- svydesign(data = scd, prob = ~1, id = ~ambulance, strata = ~ESA, nest = TRUE)
scdbrr <- as.svrepdesign(scdnofpc, type = "BRR")
r <- svyratio(~alive, ~arrests, scdbrr)
R$scd_asBRR_ratio <- list(estimate = as.numeric(coef(r)), se = as.numeric(SE(r)), degf = degf(scdbrr),
                          n_replicates = ncol(scdbrr$repweights$weights))
R$note <- "weights(d,'analysis') columns 1 and 7 listed to compare replicate calibration column by column"
OUT$replicate <- R

writeLines(to_json(OUT), "extra_weighting.json")
