## R survey 4.5 with missing values and na.rm = FALSE (tests/analysis/test_missing_propagate.py):
## the project's na_rm="propagate". apiclus1 with api00 missing in the first high school and
## sch.wide missing in the first middle school. R gives NA for every statistic of a variable
## with a missing value and estimates the other variables from all rows (svymean of two
## variables; on JK1 replicates R fails instead: "All replicates contained NAs"); svyby(svyvar)
## gives NA for the domain with the missing value; svyquantile fails; svyciprop leaves the row
## out (its svyglm drops NA rows).
## Run from this folder:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_missing_propagate.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
a <- apiclus1
a$api00[which(a$stype == "H")[1]] <- NA
a$sw <- a$sch.wide
a$sw[which(a$stype == "M")[1]] <- NA
d <- svydesign(id = ~dnum, weights = ~pw, data = a, fpc = ~fpc)
r <- as.svrepdesign(d, type = "JK1")
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
err <- function(expr) tryCatch({ force(expr); "no error" }, error = function(e) conditionMessage(e))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  rows = list(api00_na = which(is.na(a$api00)), sw_na = which(is.na(a$sw))),
  mean_api00_enroll = st(svymean(~api00 + enroll, d)),
  mean_api00_enroll_deff = as.numeric(deff(svymean(~api00 + enroll, d, deff = TRUE))),
  total_sw = st(svytotal(~sw, d)),
  ratio = { x <- svyratio(~api00 + enroll, ~api99, d); list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x))) },
  var_api00_enroll = list(estimate = as.numeric(diag(as.matrix(svyvar(~api00 + enroll, d)))),
                          se = as.numeric(SE(svyvar(~api00 + enroll, d)))),
  jk1_mean_error = err(svymean(~api00 + enroll, r)),
  jk1_mean_enroll = st(svymean(~enroll, r)),
  by_stype_var_api00 = st(svyby(~api00, ~stype, d, svyvar)),
  by_stype_mean_sw = { b <- svyby(~sw, ~stype, d, svymean)     # level-major: No E, H, M, Yes E, H, M
                       list(estimate = as.numeric(as.matrix(b[, c("swNo", "swYes")])),
                            se = as.numeric(as.matrix(b[, c("se.swNo", "se.swYes")]))) },
  quantile_error = err(svyquantile(~api00, d, 0.5)),
  ciprop_overall = { p <- svyciprop(~I(sw == "Yes"), d); list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p))) },
  ciprop_narm = { p <- svyciprop(~I(sw == "Yes"), subset(d, !is.na(sw))); list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p))) })
writeLines(to_json(OUT), "extra_missing_propagate.json")
cat("wrote extra_missing_propagate.json\n")
