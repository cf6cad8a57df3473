## R survey 4.5 quantile rules hf1-hf9, school, shahvaish with Woodruff intervals
## (tests/analysis/test_quantile_rules.py). port: tests/qrule-swiss.R (monotone hf1 on 1:10).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_quantiles.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
rules <- c("math", "school", "shahvaish", paste0("hf", 1:9))
probs5 <- c(0.1, 0.25, 0.5, 0.75, 0.9)
qq <- function(formula, design, rule, probs = probs5) {
  r <- svyquantile(formula, design, probs, qrule = rule, ci = TRUE)[[1]]
  ## by position: R names hf4's first column "quantile.15" (a names() leak)
  list(quantile = as.numeric(r[, 1]), ci_low = as.numeric(r[, 2]),
       ci_high = as.numeric(r[, 3]), se = as.numeric(r[, 4]))
}
OUT$dclus1_api00 <- sapply(rules, function(r) qq(~api00, dclus1, r), simplify = FALSE)
OUT$dstrat_ell <- sapply(rules, function(r) qq(~ell, dstrat, r), simplify = FALSE)   # many ties
## port: tests/qrule-swiss.R
sw <- data.frame(x = 1:10, id = 1:10, fpc = 10, probs = 1)
dsw <- svydesign(id = ~id, probs = ~probs, data = sw, fpc = ~fpc)
probs_sw <- c(0.01, 0.05, 0.1, 0.15, seq(21, 81, 10) * 0.01, 0.85, 0.9, 0.95, 0.99)
OUT$swiss_probs <- probs_sw
OUT$swiss <- sapply(rules, function(r) as.numeric(svyquantile(~x, dsw, probs_sw, qrule = r, ci = TRUE)[[1]][, 1]), simplify = FALSE)
writeLines(to_json(OUT), "extra_quantiles.json")
cat("wrote extra_quantiles.json\n")
