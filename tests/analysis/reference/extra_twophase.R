## R survey 4.5 two-phase designs (twophase(method = "full"), element sampling at both phases)
## (tests/analysis/test_twophase.py): (a) phase 1 = apisrs, a simple random sample of 200 of 6194 schools
## (fpc), phase 2 = the schools with even snum, stratified by stype (phase-2 fpc from the phase-1
## counts); (b) a case-cohort design on survival's nwtco (phase 1 iid, phase 2 stratified by
## relapse: the subcohort plus all cases), nwtco exported to data/nwtco.csv.
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_twophase.R
suppressPackageStartupMessages({library(survey); library(survival)})
source("json_helpers.R")
data(api); data(nwtco)
write.csv(nwtco, "data/nwtco.csv", row.names = FALSE)
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
srs <- apisrs
srs$in2 <- srs$snum %% 2 == 0
d_a <- twophase(id = list(~1, ~1), strata = list(NULL, ~stype), fpc = list(~fpc, NULL),
                subset = ~in2, data = srs)
d_b <- twophase(id = list(~seqno, ~seqno), strata = list(NULL, ~rel),
                subset = ~I(in.subcohort | rel), data = nwtco)
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  api = list(weights = as.numeric(weights(d_a)), degf = degf(d_a),
             mean_api00 = st(svymean(~api00, d_a)), total_enroll = st(svytotal(~enroll, d_a)),
             ratio = st(svyratio(~api00, ~api99, d_a)),
             by_stype_mean_api00 = st(svyby(~api00, ~stype, d_a, svymean)),
             phases_total_enroll = lapply(attr(vcov(svytotal(~enroll, d_a)), "phases"), as.numeric)),
  nwtco = list(weights = as.numeric(weights(d_b)),
               mean_age = st(svymean(~age, d_b)), total_histol = st(svytotal(~I(histol == 2), d_b)),
               glm = { m <- svyglm(rel ~ factor(stage) + age, d_b, family = quasibinomial)
                       list(coef = as.numeric(coef(m)), se = as.numeric(SE(m))) }))
writeLines(to_json(OUT), "extra_twophase.json")
cat("wrote extra_twophase.json\n")
