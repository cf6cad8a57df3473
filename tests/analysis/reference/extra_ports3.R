## More ports of R survey's tests/ (tests/analysis/test_r_survey_ports3.py), survey 4.5: twophase.R (pbc
## two-phase SRS; Tsuchiya's stratified example with phase variances), poisson.R (Poisson
## sampling from apipop, R's seeded draw: row numbers saved), bycovmat.R.
## Writes data/pbc.csv (survival's pbc: id, trt, bili).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_ports3.R
suppressPackageStartupMessages({library(survey); library(survival)})
source("json_helpers.R")
data(api)
data(pbc, package = "survival")
pbc$id <- 1:nrow(pbc)
write.csv(pbc[, c("id", "trt", "bili")], "data/pbc.csv", row.names = FALSE)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
## twophase.R: two-phase simple random sampling
## (R's test uses subset = ~I(trt == -9); the current survival::pbc codes those as NA)
d2pbc <- twophase(id = list(~id, ~id), data = pbc, subset = ~I(is.na(trt)))
OUT$pbc <- st(svymean(~bili, d2pbc))
## twophase.R: Tsuchiya's example
rei <- data.frame(id = 1:20, N = 300, h = rep(c(1, 2), c(12, 8)),
                  sub = c(rep(TRUE, 5), rep(FALSE, 7), rep(TRUE, 3), rep(FALSE, 5)),
                  y = c(1:5, rep(NA, 7), 6:8, rep(NA, 5)))
des.rei <- twophase(id = list(~id, ~id), strata = list(NULL, ~h), fpc = list(~N, NULL), subset = ~sub, data = rei)
tot <- svytotal(~y, des.rei)
OUT$rei <- list(data = rei, total = st(tot), phases = lapply(attr(vcov(tot), "phases"), as.numeric))
## twophase.R: two-stage sampling written as two phases (mu284; clusters at phase 1)
data(mu284)
ii <- with(mu284, c(1:15, rep(1:5, n2[1:5] - 3)))
mu284.1 <- mu284[ii, ]
mu284.1$id <- 1:nrow(mu284.1)
mu284.1$sub <- rep(c(TRUE, FALSE), c(15, 34 - 15))
dmu284 <- svydesign(id = ~id1 + id2, fpc = ~n1 + n2, data = mu284)
d2mu284 <- twophase(id = list(~id1, ~id), strata = list(NULL, ~id1), fpc = list(~n1, NULL),
                    data = mu284.1, subset = ~sub)
OUT$mu284 <- list(data = mu284.1, twostage_total = st(svytotal(~y1, dmu284)),
                  twophase_total = st(svytotal(~y1, d2mu284)), twophase_mean = st(svymean(~y1, d2mu284)))
## poisson.R
set.seed(2021-7-15)
apipop$prob <- apipop$api00 / 1000
insample <- rbinom(nrow(apipop), 1, apipop$prob)
apipois <- apipop[insample == 1, ]
des <- svydesign(id = ~1, prob = ~prob, pps = poisson_sampling(apipois$prob), data = apipois)
OUT$poisson <- list(rows = which(insample == 1), total_api00 = st(svytotal(~api00, des)))
## bycovmat.R
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rclus1 <- as.svrepdesign(dclus1)
b <- svyby(~api00 + api99, ~comp.imp + sch.wide, design = rclus1, svymean, covmat = TRUE, drop.empty.groups = TRUE)
OUT$bycovmat <- list(names = I(names(coef(b))), estimate = as.numeric(coef(b)), se = as.numeric(as.matrix(SE(b))), vcov = unname(vcov(b)))
writeLines(to_json(OUT), "extra_ports3.json")
cat("wrote extra_ports3.json\n")
