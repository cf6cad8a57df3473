## Rubin's rules for models fitted on each completed data set, as R's mitools: svyglm
## (quasibinomial) and svyolr on 5 completed copies of the api stratified sample with item
## nonresponse in the outcomes and predictors, imputed jointly by analysis.impute
## (extra_imputation_models_data.py writes data/mi_models_apistrat_*.csv; 12 rows "not asked"
## keep ell missing and drop out of every fit, as a subset of the design).
## Pooled joint Wald tests (D1) as R's mitml testConstraints on the same fits.
## Run from tests/analysis/reference:  Rscript extra_imputation_models.R -> extra_imputation_models.json
suppressPackageStartupMessages({library(survey); library(mitools); library(mitml)})
source("json_helpers.R")
files <- sprintf("data/mi_models_apistrat_%d.csv", 1:5)
dfs <- lapply(files, function(f) {
  d <- read.csv(f, stringsAsFactors = TRUE)
  d$band <- factor(d$band, ordered = TRUE)
  d
})
des <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = imputationList(dfs))
out1 <- function(r) list(estimate = as.numeric(coef(r)), names = names(coef(r)),
                         variance = unname(vcov(r)), df = as.numeric(r$df),
                         missinfo = as.numeric(r$missinfo))
# R stops IRLS at a deviance change of 1e-8, which leaves ~5e-6 in the
# between-imputation part of the covariances (B comes from small differences of coefficients)
glms <- with(des, svyglm(high ~ stype + ell + meals, family = quasibinomial(),
                         control = glm.control(epsilon = 1e-14, maxit = 100)))
# svyglm's df.residual: degf of the rows used + 1 - p (the complete-data df of its t tests)
glm_dfc <- glms[[1]]$df.residual
# optim's defaults leave ~1e-4 in the estimates: fit tightly as extra_models.R does
olrs <- with(des, svyolr(band ~ ell + meals, control = list(reltol = 1e-15, maxit = 10000,
                                                           ndeps = rep(1e-5, 4))))
# svyolr's df.residual: degf of the rows used - number of slopes
olr_dfc <- olrs[[1]]$df.residual
d1 <- function(constraints, df.com = NULL) {
  tc <- testConstraints(qhat = lapply(glms, coef), uhat = lapply(glms, vcov),
                        constraints = constraints, method = "D1", df.com = df.com)
  as.list(setNames(as.numeric(tc$test), c("F", "df1", "df2", "p", "riv")))
}
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey")),
                        mitools_version = as.character(packageVersion("mitools")),
                        mitml_version = as.character(packageVersion("mitml"))),
            glm_df_complete = glm_dfc, olr_df_complete = olr_dfc,
            nobs = sum(!is.na(dfs[[1]]$ell)),
            glm = out1(MIcombine(glms, df.complete = glm_dfc)),
            glm_inf = out1(MIcombine(glms)),
            olr = out1(MIcombine(olrs, df.complete = olr_dfc)),
            per_imputation_glm = unname(t(sapply(glms, coef))),
            d1_stype = d1(c("stypeH", "stypeM")), d1_stype_dfc = d1(c("stypeH", "stypeM"), glm_dfc),
            d1_ell_meals_dfc = d1(c("ell", "meals"), glm_dfc), d1_ell = d1("ell"))
writeLines(to_json(OUT), "extra_imputation_models.json")
