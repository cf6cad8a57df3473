## R survey 4.5: svyglm with an aliased (collinear) column keeps its coefficient NA
## (tests/analysis/test_glm_aliased.py). Run from tests/analysis/reference:
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_aliased.R   -> extra_aliased.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
apistrat$ell2 <- 2 * apistrat$ell
apistrat$both <- apistrat$ell + apistrat$meals
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
g <- function(m) list(coef = as.numeric(coef(m)), se = as.numeric(SE(m)), df_resid = m$df.residual,
                      vcov = unname(vcov(m)))
m1 <- svyglm(api00 ~ ell + ell2 + meals, dstrat)
m2 <- svyglm(I(sch.wide == "Yes") ~ ell + meals + both, dstrat, family = quasibinomial)
wt <- regTermTest(m1, ~ell + ell2)
p <- predict(m1, newdata = apistrat[1:2, ])
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
            gaussian = g(m1), quasibinomial = g(m2),
            wald_ell_ell2 = list(F = as.numeric(wt$Ftest), df = wt$df, ddf = wt$ddf, p = as.numeric(wt$p)),
            predict = list(estimate = as.numeric(p), se = as.numeric(SE(p))))
writeLines(to_json(OUT), "extra_aliased.json")
cat("wrote extra_aliased.json\n")
