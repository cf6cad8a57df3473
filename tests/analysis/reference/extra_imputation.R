## Rubin's rules as R's mitools: MIcombine over svymean and svyglm on 5 completed copies of the api
## stratified sample (api00 made missing at random given ell, imputed by analysis.impute; the
## completed data are tests/analysis/reference/data/mi_apistrat_*.csv).
## Run from tests/analysis/reference:  Rscript extra_imputation.R -> extra_imputation.json
suppressPackageStartupMessages({library(survey); library(mitools)})
source("json_helpers.R")
files <- sprintf("data/mi_apistrat_%d.csv", 1:5)
dfs <- lapply(files, function(f) read.csv(f, stringsAsFactors = TRUE))
des <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = imputationList(dfs))
out1 <- function(r) list(estimate = as.numeric(coef(r)), variance = unname(vcov(r)),
                         df = as.numeric(r$df), missinfo = as.numeric(r$missinfo))
mean_inf <- MIcombine(with(des, svymean(~api00)))
mean_197 <- MIcombine(with(des, svymean(~api00)), df.complete = 197)
glm_inf <- MIcombine(with(des, svyglm(api00 ~ ell + meals)))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey")),
                        mitools_version = as.character(packageVersion("mitools"))),
            mean_api00 = out1(mean_inf), mean_api00_dfc197 = out1(mean_197), glm = out1(glm_inf),
            per_imputation_mean = unname(sapply(with(des, svymean(~api00)), coef)))
writeLines(to_json(OUT), "extra_imputation.json")
