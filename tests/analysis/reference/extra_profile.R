## R survey 4.5 profile-likelihood confidence intervals of svyglm coefficients
## (confint(fit, method = "likelihood"); tests/analysis/test_glm_profile.py).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_profile.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
apiclus1$yes <- as.numeric(apiclus1$sch.wide == "Yes")   # R's profiling refits need a numeric y
apistrat$yes <- as.numeric(apistrat$sch.wide == "Yes")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
ci <- function(m) tryCatch({ r <- suppressMessages(confint(m, method = "likelihood"))
  list(names = I(rownames(r)), lower = as.numeric(r[, 1]), upper = as.numeric(r[, 2])) },
  error = function(e) list(error = conditionMessage(e)))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  quasibinomial_dstrat = ci(svyglm(yes ~ ell + meals, dstrat, family = quasibinomial)),
  binomial_dclus1 = ci(suppressWarnings(svyglm(yes ~ ell + mobility, dclus1, family = binomial))),
  gaussian_dclus1 = ci(svyglm(api00 ~ ell + meals, dclus1)),
  quasipoisson_dstrat = ci(svyglm(enroll ~ ell + meals, dstrat, family = quasipoisson)))
writeLines(to_json(OUT), "extra_profile.json")
cat("wrote extra_profile.json\n")
