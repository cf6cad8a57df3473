## R survey 4.5: svyglm with quasi(link, variance) families and predict(total=, vcov=)
## (tests/analysis/test_glm_more.py). Run from tests/analysis/reference:
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_glm_more.R   -> extra_glm_more.json
suppressPackageStartupMessages(library(survey)); source("json_helpers.R"); data(api)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
g <- function(m) list(coef = as.numeric(coef(m)), se = as.numeric(SE(m)), dispersion = as.numeric(summary(m)$dispersion))
m1 <- svyglm(api00 ~ ell + meals, dstrat, family = quasi(link = "identity", variance = "mu"))
m2 <- svyglm(enroll ~ ell + meals, dstrat, family = quasi(link = "log", variance = "mu"))
m3 <- svyglm(api00 ~ api99, dstrat)
p <- predict(m3, newdata = data.frame(api99 = sum(apipop$api99)), total = nrow(apipop))
p2 <- predict(m1, newdata = apistrat[1:3, ], vcov = TRUE, type = "response")
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  quasi_identity_mu = g(m1), quasi_log_mu = g(m2),
  predict_total = list(N = nrow(apipop), api99_total = sum(apipop$api99), estimate = as.numeric(p), se = as.numeric(SE(p))),
  predict_vcov = list(estimate = as.numeric(p2), vcov = unname(attr(p2, "var"))))
writeLines(to_json(OUT), "extra_glm_more.json")
cat("wrote extra_glm_more.json\n")
