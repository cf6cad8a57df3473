## R survey numbers for the four fixes of issue 13 (tests/analysis/test_fixes_issue13.py).
## Run from tests/analysis/reference with survey 4.5 (the reference where 4.1-1 differs):
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_fixes.R     -> extra_fixes.json
## (../shared/reference/r-survey-4.5/install.sh builds 4.5 into $HOME/.R-survey-4.5.)
## Every number that differs between 4.1-1 and 4.5 is marked in the test that reads it.
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
options(survey.lonely.psu = "fail")
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
err <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
st <- function(x) { nm <- names(coef(x))
  list(estimate = setNames(as.numeric(coef(x)), nm), se = setNames(as.numeric(SE(x)), nm)) }

## 1. a certainty stratum with a single PSU (fpc = n = 1): the H school with the smallest snum
##    of apistrat moved to its own stratum "C" with N = 1 and weight 1
cert <- apistrat
cert$h <- as.character(cert$stype); cert$N <- cert$fpc; cert$w <- cert$pw
i <- which(cert$stype == "H" & cert$snum == min(cert$snum[cert$stype == "H"]))
cert$h[i] <- "C"; cert$N[i] <- 1; cert$w[i] <- 1
C <- list(construction = "apistrat; the H school with the smallest snum in stratum 'C' with N = 1, w = 1")
for (opt in c("fail", "adjust")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(id = ~1, strata = ~h, fpc = ~N, weights = ~w, data = cert)
  r <- as.svrepdesign(d, type = "JKn")
  C[[opt]] <- list(taylor_mean_api00 = st(svymean(~api00, d)), taylor_total_enroll = st(svytotal(~enroll, d)),
                   jkn_mean_api00 = st(svymean(~api00, r)), jkn_total_enroll = st(svytotal(~enroll, r)),
                   jkn_n_replicates = ncol(r$repweights$weights), jkn_degf = degf(r))
}
options(survey.lonely.psu = "fail")
OUT$certainty_stratum <- C

## 2. lonely PSU "adjust" for totals: survey 4.5 centres a singleton PSU at the grand mean of
##    all PSU totals (4.1-1: at zero)
lon <- read.csv("data/apistrat_lonely.csv")
A <- list()
options(survey.lonely.psu = "adjust")
for (variant in c("nofpc", "fpc")) {
  d <- if (variant == "fpc") svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = lon)
       else svydesign(id = ~1, strata = ~stype, weights = ~pw, data = lon)
  A[[variant]] <- list(total_enroll = st(svytotal(~enroll, d)),
                       total_enroll_api00 = st(svytotal(~enroll + api00, d)),
                       mean_api00 = st(svymean(~api00, d)),
                       total_enroll_subsetM = st(svytotal(~enroll, subset(d, stype != "E"))))
}
d2 <- svydesign(id = ~dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2, nest = TRUE, data = apiclus2)
A$two_stage <- list(spec = "svydesign(id=~dnum+snum, strata=~stype, fpc=~fpc1+fpc2, nest=TRUE, data=apiclus2)",
                    total_enroll = st(svytotal(~enroll, d2, na.rm = TRUE)),
                    mean_api00 = st(svymean(~api00, d2)))
options(survey.lonely.psu = "fail")
OUT$adjust_totals <- A
## 2b. domains (svyby): each domain is its own subset, so the lonely H stratum counts only
##     for the domains that have rows in it (sch.wide = "Yes" has none)
B <- list()
for (opt in c("adjust", "average")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = lon)
  B[[opt]] <- list(total_enroll_by_schwide = as.numeric(SE(svyby(~enroll, ~sch.wide, d, svytotal))),
                   total_enroll_by_awards = as.numeric(SE(svyby(~enroll, ~awards, d, svytotal))),
                   mean_api00_by_schwide = as.numeric(SE(svyby(~api00, ~sch.wide, d, svymean))))
}
options(survey.lonely.psu = "fail")
OUT$lonely_by_domain_se <- B

## 3. crosstab after post-stratifying on both variables: the cell proportions are fixed, so the
##    design effect matrix is zero and the tests are degenerate
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
pop <- as.data.frame(svytable(~stype + sch.wide, dstrat))
dps <- postStratify(dstrat, ~stype + sch.wide, pop)
ht <- function(h) list(statistic = as.numeric(h$statistic), parameter = as.numeric(h$parameter),
                       p_value = as.numeric(h$p.value))
tab <- svytable(~stype + sch.wide, dps)
OUT$poststratified_crosstab <- list(
  spec = "postStratify(dstrat, ~stype + sch.wide, as.data.frame(svytable(~stype + sch.wide, dstrat)))",
  table = as.numeric(tab),
  counts = st(svytotal(~interaction(stype, sch.wide), dps)),
  tests = sapply(c("F", "Chisq", "Wald", "adjWald", "saddlepoint"),
                 function(s) err(ht(svychisq(~stype + sch.wide, dps, statistic = s))), simplify = FALSE))

## 4. svrepdesign with degf larger than the number of replicates
w <- NULL
rw <- matrix(c(2, 0, 2, 0, 0, 2, 0, 2, 2, 2, 0, 0, 0, 0, 2, 2), 4, 4, byrow = TRUE)
df4 <- data.frame(y = c(1, 2, 3, 4), w = 1)
msgs <- character(0)
withCallingHandlers(
  rd <- svrepdesign(data = df4, repweights = rw, weights = ~w, type = "BRR", degf = 10),
  warning = function(wn) { msgs <<- c(msgs, conditionMessage(wn)); invokeRestart("muffleWarning") })
msgs1 <- character(0)
withCallingHandlers(
  rd1 <- svrepdesign(data = df4, repweights = rw, weights = ~w, type = "BRR", degf = 1),
  warning = function(wn) { msgs1 <<- c(msgs1, conditionMessage(wn)); invokeRestart("muffleWarning") })
OUT$degf_warning <- list(repweights = rw, degf10_warnings = I(msgs), degf10 = degf(rd),
                         degf1_warnings = I(msgs1), mean_y_degf10 = st(svymean(~y, rd)))

writeLines(to_json(OUT), "extra_fixes.json")
cat("wrote extra_fixes.json\n")
