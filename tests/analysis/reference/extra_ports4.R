## More ports of R survey's tests/ (tests/analysis/test_r_survey_ports4.py), survey 4.5: rakecheck.R
## (raking with R's default control on Taylor and JK1 designs, as calibrate(calfun="raking"),
## and with a joint stype x sch.wide margin), svyby-strings.R.
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_ports4.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rclus1 <- as.svrepdesign(dclus1)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rclus1r <- rake(rclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
ff <- ~stype + sch.wide
poptotals <- colSums(model.matrix(ff, model.frame(ff, apipop)))
rclus1g <- calibrate(rclus1, ~stype + sch.wide, poptotals, calfun = "raking")
dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
dclus1g <- calibrate(dclus1, ~stype + sch.wide, poptotals, calfun = "raking")
pop.table <- xtabs(~stype + sch.wide, apipop)
pop.imp <- data.frame(comp.imp = c("No", "Yes"), Freq = c(1712, 4482))
dclus1r2 <- rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(pop.table, pop.imp))
OUT$rakecheck <- list(
  poptotals = as.list(poptotals), pop_table = as.data.frame(pop.table),
  rep_rake = list(mean_api00 = st(svymean(~api00, rclus1r)), total_enroll = st(svytotal(~enroll, rclus1r))),
  rep_calibrate = list(mean_api00 = st(svymean(~api00, rclus1g)), total_enroll = st(svytotal(~enroll, rclus1g))),
  taylor_rake = list(mean_api00 = st(svymean(~api00, dclus1r)), total_enroll = st(svytotal(~enroll, dclus1r))),
  taylor_calibrate = list(mean_api00 = st(svymean(~api00, dclus1g)), total_api00 = st(svytotal(~api00, dclus1g))),
  joint_rake = list(mean_api00 = st(svymean(~api00, dclus1r2))))
est0 <- svyby(design = dclus1, formula = ~cname, by = ~both, FUN = svymean, keep.var = TRUE)
OUT$svyby_strings <- list(dim = dim(est0), estimate = as.numeric(as.matrix(coef(est0))))
writeLines(to_json(OUT), "extra_ports4.json")
cat("wrote extra_ports4.json\n")
