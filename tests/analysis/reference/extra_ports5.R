## More ports of R survey's tests/ (tests/analysis/test_r_survey_ports5.py), survey 4.5: caleg.R
## (calibration within first-stage clusters; the ratio estimator as a calibration),
## newquantile.R (equal weights: qrule hfN = quantile(type = N)), by_covmat_nodrop.R (second
## part: domain contrasts after calibrating to the strata), check.R (design specifications).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_ports5.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api); data(fpc)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
## caleg.R
clusters <- table(apiclus2$dnum)
clusters <- clusters[clusters > 1 & names(clusters) != "639"]
apiclus2a <- subset(apiclus2, dnum %in% as.numeric(names(clusters)))
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2a)
popclusters <- subset(apipop, dnum %in% as.numeric(names(clusters)))
pop <- lapply(as.numeric(names(clusters)), function(cluster) {
  colSums(model.matrix(~api99, model.frame(~api99, subset(popclusters, dnum %in% cluster))))})
names(pop) <- names(clusters)
dclus2g <- calibrate(dclus2, ~api99, pop, stage = 1)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
common <- svyratio(~api.stu, ~enroll, dstrat, separate = FALSE)
total.enroll <- sum(apipop$enroll, na.rm = TRUE)
pr <- predict(common, total = total.enroll)
dstratg <- calibrate(dstrat, ~enroll - 1, total.enroll, variance = 1)
OUT$caleg <- list(dnums = as.numeric(names(clusters)), pop = lapply(pop, as.list),
                  mean_api99 = st(svymean(~api99, dclus2)), mean_api99_cal = st(svymean(~api99, dclus2g)),
                  by_dnum_cal = st(svyby(~api99, ~dnum, design = dclus2g, svymean)),
                  ratio_total = list(estimate = as.numeric(pr$total), se = as.numeric(pr$se)),
                  ratio_calibrated = st(svytotal(~api.stu, dstratg)), total_enroll = total.enroll)
## newquantile.R
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
OUT$newquantile <- lapply(1:9, function(i) list(
  survey = as.numeric(coef(svyquantile(~ell, dclus1, c(0.2, 0.5, 0.9), qrule = paste0("hf", i)))),
  stats = as.numeric(quantile(apiclus1$ell, c(0.2, 0.5, 0.9), type = i))))
## by_covmat_nodrop.R (api part)
calstrat <- calibrate(dstrat, ~stype + 0, pop = c(4421, 755, 1018))
a <- svyby(~enroll, ~comp.imp, FUN = svytotal, covmat = TRUE, deff = TRUE, dstrat)
b <- svyby(~enroll, ~comp.imp, FUN = svytotal, covmat = TRUE, deff = TRUE, calstrat)
OUT$by_covmat <- list(a = st(svycontrast(a, c(1, -1))), b = st(svycontrast(b, c(1, -1))),
                      deff_a = as.numeric(deff(a)), deff_b = as.numeric(deff(b)))
## check.R
specs <- list(
  weights_psu_strata = svydesign(weights = ~weight, ids = ~psuid, strata = ~stratid, variables = ~x, data = fpc, nest = TRUE),
  weights_rows_strata = svydesign(weights = ~weight, ids = ~0, strata = ~stratid, variables = ~x, data = fpc, nest = TRUE),
  prob_rows_strata = svydesign(ids = ~0, strata = ~stratid, prob = ~I(1 / weight), variables = ~x, data = fpc, nest = TRUE),
  weights_psu = svydesign(ids = ~psuid, weights = ~weight, variables = ~x, data = fpc, nest = TRUE),
  weights_two_stage = svydesign(ids = ~stratid + psuid, weights = ~weight, variables = ~x, data = fpc))
OUT$check <- lapply(specs, function(d) st(svymean(~x, d)))
OUT$check$unweighted_rows_strata <- st(suppressWarnings(svymean(~x, svydesign(ids = ~0, strata = ~stratid, variables = ~x, data = fpc, nest = TRUE))))
writeLines(to_json(OUT), "extra_ports5.json")
cat("wrote extra_ports5.json\n")
