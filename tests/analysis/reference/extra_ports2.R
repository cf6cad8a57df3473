## More cases ported from R survey's tests/ folder (tests/analysis/test_r_survey_ports2.py), survey 4.5:
## lonely.psu.R, deff.R, domain.R, confintrep.R. Writes data/fpc.csv (R's fpc data).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_ports2.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api); data(fpc)
write.csv(fpc, "data/fpc.csv", row.names = FALSE)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
err <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

## lonely.psu.R
L <- list()
fpc413 <- ifelse(apiclus1$dnum == 413, 1, 1000)
for (variant in c("nofpc", "fpc")) for (opt in c("fail", "remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  ds <- if (variant == "fpc") svydesign(id = ~1, weights = ~pw, strata = ~dnum, data = apiclus1, fpc = fpc413)
        else svydesign(id = ~1, weights = ~pw, strata = ~dnum, data = apiclus1)
  L[[paste(variant, opt, sep = "_")]] <- list(taylor = err(st(svymean(~api00, ds))),
                                              jkn = err(st(svymean(~api00, as.svrepdesign(ds)))))
}
options(survey.lonely.psu = "adjust")
ds <- svydesign(id = ~1, weights = ~pw, strata = ~dnum, data = apiclus1, fpc = fpc413)
rs <- as.svrepdesign(ds)
L$fpc_replicate_total <- st(svytotal(~api00, rs))
L$fpc_replicate_total_413_se <- as.numeric(SE(svytotal(~api00, subset(rs, dnum == 413))))
sub <- subset(apiclus1, dnum != 413)
for (opt in c("fail", "remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  ds <- svydesign(id = ~1, weights = ~pw, strata = ~dnum, data = sub)
  L[[paste0("subset_", opt)]] <- err(st(svymean(~api00, ds[-31, ])))
}
singleton <- data.frame(Stratum = c(1, 1, 2, 2, 3), PSU = c(1, 2, 3, 4, 5),
                        Design_Weight = c(10.5, 10.5, 20, 20, 15), Age = c(30.5, 40.5, 35, 52, 44))
for (opt in c("remove", "certainty", "adjust")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(data = singleton, ids = ~PSU, strata = ~Stratum, weights = ~Design_Weight)
  L[[paste0("singleton_total_var_", opt)]] <- as.numeric(vcov(svytotal(~Age, d)))
}
options(survey.lonely.psu = "fail")
OUT$lonely <- L

## deff.R
kigyo <- data.frame(obs = 1:10, uriage = c(15, 143, 21, 51, 337, 50, 274, 145, 15, 86),
                    srs.w = 100, pps.w = c(20, 200, 11, 25, 550, 30, 250, 100, 10, 55))
des.srs <- svydesign(ids = ~1, weights = ~srs.w, data = kigyo)
des.pps <- svydesign(ids = ~1, weights = ~pps.w, data = kigyo)
dd <- function(x) c(st(x), list(deff = as.numeric(deff(x))))
OUT$deff <- list(mean_srs = dd(svymean(~uriage, des.srs, deff = TRUE)),
                 total_srs = dd(svytotal(~uriage, des.srs, deff = TRUE)),
                 mean_pps = dd(svymean(~uriage, des.pps, deff = "replace")),
                 total_pps = dd(svytotal(~uriage, des.pps, deff = "replace")))

## domain.R
dfpc <- svydesign(id = ~psuid, strat = ~stratid, weight = ~weight, data = fpc, nest = TRUE)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018)
dclus1g3 <- calibrate(dclus1, ~stype + api99, c(pop.totals, api99 = 3914069))
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
OUT$domain <- list(
  fpc_subset = st(svymean(~x, subset(dfpc, x > 4))),
  fpc_by = st(svyby(~x, ~I(x > 4), design = dfpc, svymean, keep.var = TRUE)),
  strat_subset = st(svymean(~enroll, subset(dstrat, comp.imp == "Yes"))),
  calibrated_subset = st(svymean(~api00, subset(dclus1g3, comp.imp == "Yes"))),
  raked_subset = st(svymean(~api00, subset(dclus1r, comp.imp == "Yes"))))

## confintrep.R
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
rclus2 <- as.svrepdesign(dclus2)
apiclus2$ci <- as.numeric(apiclus2$comp.imp == "Yes")
dclus2b <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
m <- svyglm(ci ~ 1, design = dclus2b, family = quasibinomial)
repstats <- withReplicates(rclus2, function(weights, data) {
  tot <- sum(data[["meals"]] * weights); c(tot, log(tot)) })
OUT$confintrep <- list(profile = as.numeric(confint(m, method = "likelihood")),
                       with_replicates = st(repstats),
                       with_replicates_ci = as.numeric(confint(repstats, level = 0.95)))
writeLines(to_json(OUT), "extra_ports2.json")
cat("wrote extra_ports2.json\n")
