## R survey 4.5: svyby with missing values in one domain (NA for that domain, the others
## estimated) and svydesign(na_weights = "allow") (tests/analysis/test_missing_domains.py).
## port: tests/na_weights.R. Run from tests/analysis/reference:
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_missing.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
by_res <- function(x) list(names = I(names(coef(x))), estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
a <- apiclus1
a$api00[a$stype == "H"][1] <- NA       # the first H school
d <- svydesign(id = ~dnum, weights = ~pw, data = a, fpc = ~fpc)
OUT$svyby_na <- list(
  mean_api00 = by_res(svyby(~api00, ~stype, d, svymean)),
  total_api00_enroll = by_res(svyby(~api00 + enroll, ~stype, d, svytotal)),
  ratio_api00_api99 = by_res(svyby(~api00, ~stype, d, svyratio, denominator = ~api99)),
  mean_api00_narm = by_res(svyby(~api00, ~stype, d, svymean, na.rm = TRUE)))
## port: tests/na_weights.R
dsrs <- svydesign(id = ~1, weights = ~pw, data = apisrs)
apisrs_0 <- apisrs; apisrs_0$pw <- NA
dsrs2 <- svydesign(id = ~1, weights = ~pw, data = rbind(apisrs, apisrs_0), na_weights = "allow")
OUT$na_weights <- list(total_enroll = by_res(svytotal(~enroll, dsrs2)),
                       same = coef(svytotal(~enroll, dsrs)) == coef(svytotal(~enroll, dsrs2)) &&
                              SE(svytotal(~enroll, dsrs)) == SE(svytotal(~enroll, dsrs2)))
writeLines(to_json(OUT), "extra_missing.json")
cat("wrote extra_missing.json\n")
