## R survey 4.5 PPS designs without replacement: Brewer, Overton, Hartley-Rao (sample estimate)
## and Poisson sampling (tests/analysis/test_pps.py). port: tests/pps.R (election_pps, Brewer, subsets,
## two-stage Brewer equal to the fpc design). Writes data/election_pps.csv (R's election_pps).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_pps.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(election)
data(api)
ep <- election_pps[, c("County", "TotPrecincts", "Bush", "Kerry", "Nader", "votes", "p", "wt")]
write.csv(ep, "data/election_pps.csv", row.names = FALSE)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
designs <- list(
  brewer = svydesign(id = ~1, weights = ~wt, fpc = ~p, data = ep, pps = "brewer"),
  overton = svydesign(id = ~1, fpc = ~p, data = ep, pps = "overton"),
  hartley_rao = svydesign(id = ~1, fpc = ~p, data = ep, pps = HR()),
  poisson = svydesign(id = ~1, probs = ~p, data = ep, pps = poisson_sampling(ep$p)),
  with_replacement = svydesign(id = ~1, weights = ~wt, data = ep))
OUT$election <- lapply(designs, function(d) list(
  total = st(svytotal(~Bush + Kerry + Nader, d)),
  mean = st(svymean(~Bush + Kerry + Nader, d)),
  ratio = st(svyratio(~Bush, ~votes, d)),
  subset_total = st(svytotal(~Bush + Kerry + Nader, subset(d, Nader > 0)))))
## port: tests/pps.R two-stage Brewer with sampling fractions agrees with the fpc design
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
apiclus2$f1 <- 40 / apiclus2$fpc1
apiclus2$f2 <- pmin(1, 5 / apiclus2$fpc2)
dclus2pps <- svydesign(id = ~dnum + snum, fpc = ~f1 + f2, data = apiclus2, pps = "brewer")
OUT$two_stage <- list(total_enroll = st(svytotal(~enroll, dclus2pps, na.rm = TRUE)),
                      mean_api00 = st(svymean(~api00, dclus2pps)),
                      fpc_design_total_enroll = st(svytotal(~enroll, dclus2, na.rm = TRUE)))
## joint inclusion probabilities (ppsmat, R's election_jointprob exported to
## data/election_jointprob.csv) and the Yates-Grundy variance
write.csv(election_jointprob, "data/election_jointprob.csv", row.names = FALSE)
OUT$joint <- list(
  ht = st(svytotal(~Bush + Kerry, svydesign(id = ~1, fpc = ~p, data = ep, pps = ppsmat(election_jointprob)))),
  yg = st(svytotal(~Bush + Kerry, svydesign(id = ~1, fpc = ~p, data = ep, pps = ppsmat(election_jointprob), variance = "YG"))),
  overton_yg = st(svytotal(~Bush + Kerry, svydesign(id = ~1, fpc = ~p, data = ep, pps = "overton", variance = "YG"))))
writeLines(to_json(OUT), "extra_pps.json")
cat("wrote extra_pps.json\n")
