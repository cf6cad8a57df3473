## R survey numbers for the untested branches that mutation testing found (issue 18, section 3;
## tests/analysis/test_mutation_gaps.py): JKn replicates under each lonely-PSU rule, and svyciprop's
## Wilson interval (new in survey 4.2, so survey 4.5 is the reference).
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_mutation.R   (4.1-1 has no "wilson")
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) { nm <- names(coef(x))
  list(estimate = setNames(as.numeric(coef(x)), nm), se = setNames(as.numeric(SE(x)), nm)) }

## 1. JKn replicates of the lonely-PSU design (one H school) under each rule
lon <- read.csv("data/apistrat_lonely.csv")
J <- list()
for (variant in c("nofpc", "fpc")) for (opt in c("adjust", "average", "remove", "certainty")) {
  options(survey.lonely.psu = opt)
  d <- if (variant == "fpc") svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = lon)
       else svydesign(id = ~1, strata = ~stype, weights = ~pw, data = lon)
  r <- as.svrepdesign(d, type = "JKn")
  J[[paste(variant, opt, sep = "_")]] <- list(
    n_replicates = ncol(r$repweights$weights), scale = r$scale, rscales = r$rscales,
    degf = degf(r),
    mean_api00 = st(svymean(~api00, r)), total_enroll = st(svytotal(~enroll, r)),
    ratio_api00_api99 = { x <- svyratio(~api00, ~api99, r)
      list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x))) })
}
options(survey.lonely.psu = "fail")
OUT$jkn_lonely <- J

## 2. Wilson intervals (survey >= 4.2): t quantile with the design df unless df is given
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
ci <- function(p) list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)),
                       ci = as.numeric(attr(p, "ci")), df = if (is.null(attr(p, "df"))) NULL else as.numeric(attr(p, "df")))
OUT$wilson <- list(
  dclus1_schwide = ci(svyciprop(~I(sch.wide == "Yes"), dclus1, method = "wilson")),
  dclus1_schwide_level90 = ci(svyciprop(~I(sch.wide == "Yes"), dclus1, method = "wilson", level = 0.9)),
  dclus1_schwide_dfInf = ci(svyciprop(~I(sch.wide == "Yes"), dclus1, method = "wilson", df = Inf)),
  dstrat_awards = ci(svyciprop(~I(awards == "Yes"), dstrat, method = "wilson")),
  dstrat_H_comp_imp = ci(svyciprop(~I(comp.imp == "Yes"), subset(dstrat, stype == "H"), method = "wilson")),
  dstrat_rare = ci(svyciprop(~I(api00 > 850), dstrat, method = "wilson")),
  jk1_schwide = ci(svyciprop(~I(sch.wide == "Yes"), as.svrepdesign(dclus1, type = "JK1"), method = "wilson"))
)
writeLines(to_json(OUT), "extra_mutation.json")
cat("wrote extra_mutation.json\n")
