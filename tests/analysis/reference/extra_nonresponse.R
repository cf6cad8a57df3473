## Nonresponse adjustment on apiclus1 (a rule marks 'respondents': schools with snum %% 3 != 0, or
## with ell < 15): weighting classes by stype = postStratify of the respondents' design to the
## class totals of the whole sample's base weights; propensity weights = pw / p from a
## quasibinomial svyglm of response on ell + meals over the whole sample.
## Run from tests/analysis/reference:  Rscript extra_nonresponse.R -> extra_nonresponse.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
apiclus1$resp <- as.numeric(apiclus1$snum %% 3 != 0 | apiclus1$ell < 15)
dall <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dresp <- svydesign(id = ~dnum, weights = ~pw, data = subset(apiclus1, resp == 1), fpc = ~fpc)
tot <- aggregate(pw ~ stype, data = apiclus1, FUN = sum); names(tot)[2] <- "Freq"
dclass <- postStratify(dresp, ~stype, tot)
fit <- svyglm(resp ~ ell + meals, dall, family = quasibinomial)
p <- as.numeric(predict(fit, type = "response"))
rr <- subset(apiclus1, resp == 1); rr$wp <- rr$pw / p[apiclus1$resp == 1]
dprop <- svydesign(id = ~dnum, weights = ~wp, data = rr, fpc = ~fpc)
res <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
            n_resp = sum(apiclus1$resp),
            class_mean_api00 = res(svymean(~api00, dclass)), class_weights = I(as.numeric(weights(dclass))),
            propensity_mean_api00 = res(svymean(~api00, dprop)), propensity_weights = I(rr$wp),
            unadjusted_mean_api00 = res(svymean(~api00, dresp)))
writeLines(to_json(OUT), "extra_nonresponse.json")
