## "Table 1" numbers (weighted characteristics by group, as gtsummary's tbl_svysummary) on the
## api stratified sample: proportions with logit CIs (svyciprop), means with t(degf) CIs, the
## Rao-Scott F test per categorical row and the Wald F test (regTermTest) per numeric row.
## Run from tests/analysis/reference:  Rscript extra_tableone.R -> extra_tableone.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
ciprop <- function(d) {
  r <- svyciprop(~I(sch.wide == "Yes"), d, method = "logit")
  list(estimate = as.numeric(coef(r)), se = as.numeric(SE(r)), ci = as.numeric(confint(r)))
}
mean_ci <- function(d) {
  m <- svymean(~api00, d)
  list(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)),
       ci = as.numeric(confint(m, df = degf(d))))
}
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))))
OUT$overall <- list(sch_wide_yes = ciprop(dstrat), api00 = mean_ci(dstrat))
for (s in c("E", "H", "M")) {
  sub <- subset(dstrat, stype == s)
  OUT[[paste0("stype_", s)]] <- list(sch_wide_yes = ciprop(sub), api00 = mean_ci(sub))
}
chi <- svychisq(~sch.wide + stype, dstrat)     # default statistic "F" (Rao-Scott)
OUT$chisq_sch_wide_by_stype <- list(F = as.numeric(chi$statistic), ndf = as.numeric(chi$parameter[1]),
                                   ddf = as.numeric(chi$parameter[2]), p = as.numeric(chi$p.value))
wt <- regTermTest(svyglm(api00 ~ stype, dstrat), ~stype)
OUT$wald_api00_by_stype <- list(F = as.numeric(wt$Ftest), df = as.numeric(wt$df),
                               ddf = as.numeric(wt$ddf), p = as.numeric(wt$p))
writeLines(to_json(OUT), "extra_tableone.json")
