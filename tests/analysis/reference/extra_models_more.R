## R survey numbers for design effects of svyglm coefficients and the working likelihood ratio
## test of svyolr terms (tests/analysis/test_models_more.py). port: tests/svyolr.R (regTermTest LRT).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_models_more.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dfx <- function(m) as.list(deff(m))
OUT$deff <- list(
  gaussian_dclus1 = dfx(svyglm(api00 ~ ell + meals, dclus1, deff = TRUE)),
  quasibinomial_dstrat = dfx(suppressWarnings(svyglm(I(sch.wide == "Yes") ~ ell + meals, dstrat, family = quasibinomial, deff = TRUE))),
  binomial_dstrat = dfx(suppressWarnings(svyglm(I(sch.wide == "Yes") ~ ell + meals, dstrat, family = binomial, deff = TRUE))),
  poisson_dstrat = dfx(svyglm(api00 ~ ell + stype, dstrat, family = quasipoisson, deff = TRUE))
)
## port: tests/svyolr.R
dclus1 <- update(dclus1, mealcat = cut(meals, c(0, 25, 50, 75, 100)))
m <- svyolr(mealcat ~ avg.ed + mobility + stype, design = dclus1)
lrt <- function(t) list(chisq = as.numeric(t$chisq), df = t$df, ddf = as.numeric(t$ddf), p = as.numeric(t$p),
                        lambda = as.numeric(t$lambda))
OUT$svyolr <- list(coef = as.list(c(coef(m), m$zeta)), deviance = m$deviance,
                   lrt_avg_ed_stype = lrt(regTermTest(m, ~avg.ed + stype, method = "LRT")),
                   lrt_mobility = lrt(regTermTest(m, ~mobility, method = "LRT")),
                   wald_avg_ed_stype = { t <- regTermTest(m, ~avg.ed + stype)
                     list(F = as.numeric(t$Ftest), df = t$df, ddf = t$ddf, p = as.numeric(t$p)) })
## the same with optim converged tightly (R's default BFGS stops at reltol 1e-8: coefficients
## agree to about 1e-5 only)
mt <- svyolr(mealcat ~ avg.ed + mobility + stype, design = dclus1, control = list(reltol = 1e-14, maxit = 1000))
OUT$svyolr_tight <- list(coef = as.list(c(coef(mt), mt$zeta)), deviance = mt$deviance,
                         lrt_avg_ed_stype = lrt(regTermTest(mt, ~avg.ed + stype, method = "LRT")),
                         lrt_mobility = lrt(regTermTest(mt, ~mobility, method = "LRT")))
writeLines(to_json(OUT), "extra_models_more.json")
cat("wrote extra_models_more.json\n")
