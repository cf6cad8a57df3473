## R survey's saddlepoint tail of a weighted sum of chi-square(1) variables (survey:::saddle) and
## pchisqsum(method="saddlepoint"), for tests/analysis/test_distributions.py.
## Run from tests/analysis/reference:  Rscript extra_distributions.R   -> extra_distributions.json
suppressPackageStartupMessages(library(survey))
library(jsonlite)
cases <- list(
  list(x = 7.5, lam = c(2, 1, 0.5)),
  list(x = 1.2, lam = c(2, 1, 0.5)),          # below the mean: lmin = -n/(2x)
  list(x = 20, lam = c(3.1, 0.4, 0.4, 0.2)),  # far tail
  list(x = 0, lam = c(1.7, 0.6, -0.25, -0.25, -0.25, -0.25)),  # pFsum form: negative weights
  list(x = 3, lam = c(1, 1, 1))               # equal weights: chi2_3
)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))),
            saddle = lapply(cases, function(cs) {
              s <- survey:::saddle(cs$x, cs$lam)
              list(x = cs$x, lam = cs$lam, upper = if (is.na(s)) NULL else s,
                   pchisqsum_upper = if (all(cs$lam > 0))
                     pchisqsum(cs$x, rep(1, length(cs$lam)), cs$lam, lower.tail = FALSE,
                               method = "saddlepoint") else NULL)
            }))
writeLines(toJSON(OUT, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           "extra_distributions.json")
