## Extra R survey numbers for the design engine (tests/analysis/test_design_extra_reference.py).
## Run from tests/analysis/reference:  Rscript extra_design.R   -> extra_design.json
## Uses R's own api data (identical to data/*.csv) and survey 4.1-1.
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
options(survey.lonely.psu = "fail")
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x, design) {
  cf <- coef(x); nm <- names(cf)
  r <- list(estimate = setNames(as.numeric(cf), nm), se = setNames(as.numeric(SE(x)), nm),
            degf = degf(design))
  V <- as.matrix(vcov(x)); if (length(nm) > 1) { dimnames(V) <- list(nm, nm); r$vcov <- V }
  d <- attr(x, "deff"); if (!is.null(d)) r$deff <- setNames(as.numeric(diag(as.matrix(d))), nm)
  r
}
err <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

## 1. two-stage design with first-stage strata (nest=TRUE) and fpc at both stages:
##    districts with a single sampled school of several are lonely at stage 2
apiclus2$stype_chr <- as.character(apiclus2$stype)
S <- list(spec = "svydesign(id=~dnum+snum, strata=~stype, fpc=~fpc1+fpc2, nest=TRUE, data=apiclus2)")
for (opt in c("fail", "adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = opt)
  S[[opt]] <- err({
    d <- svydesign(id = ~dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2, nest = TRUE, data = apiclus2)
    list(svymean_api00 = st(svymean(~api00, d), d),
         svytotal_enroll = st(svytotal(~enroll, d, na.rm = TRUE), d))
  })
}
options(survey.lonely.psu = "fail")
OUT$strat_two_stage <- S

## 2. the same two-stage design without strata but sampling fractions instead of sizes
apiclus2$f1 <- 40 / apiclus2$fpc1
apiclus2$n2 <- ave(apiclus2$snum, apiclus2$dnum, FUN = length)
apiclus2$f2 <- apiclus2$n2 / apiclus2$fpc2
dfr <- svydesign(id = ~dnum + snum, fpc = ~f1 + f2, data = apiclus2)
OUT$fractions_two_stage <- list(spec = "svydesign(id=~dnum+snum, fpc=~f1+f2, data=apiclus2) with f1=40/fpc1, f2=n2/fpc2",
                                svymean_api00 = st(svymean(~api00, dfr), dfr),
                                svymean_api00_ell_meals = st(svymean(~api00 + ell + meals, dfr), dfr))

## 3. domains on the two-stage design: svyby mean/total/ratio with covmat, subset degf
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
by_res <- function(x) {
  nm <- names(coef(x))
  r <- list(groups = nm, estimate = setNames(as.numeric(coef(x)), nm), se = setNames(as.numeric(SE(x)), nm))
  V <- vcov(x); dimnames(V) <- list(nm, nm); r$vcov <- V
  r
}
OUT$dclus2_domains <- list(
  svyby_mean_api00_stype = by_res(svyby(~api00, ~stype, dclus2, svymean, covmat = TRUE)),
  svyby_total_ell_stype = by_res(svyby(~ell, ~stype, dclus2, svytotal, covmat = TRUE)),
  svyby_ratio_api00_api99_stype = by_res(svyby(~api00, ~stype, dclus2, svyratio, denominator = ~api99,
                                              covmat = TRUE)),
  subset_H = { dH <- subset(dclus2, stype == "H"); c(st(svymean(~api00, dH, deff = TRUE), dH), n = nrow(dH)) },
  svyquantile_enroll_narm = {
    q <- svyquantile(~enroll, dclus2, c(0.1, 0.5, 0.9), na.rm = TRUE)$enroll
    list(quantile = as.numeric(q[, "quantile"]), ci_lower = as.numeric(q[, "ci.2.5"]),
         ci_upper = as.numeric(q[, "ci.97.5"]), se = as.numeric(q[, "se"]))
  },
  svyciprop_beta_subsetE = {
    dE <- subset(dclus2, stype == "E")
    p <- svyciprop(~I(sch.wide == "Yes"), dE, method = "beta")
    list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)), ci = as.numeric(attr(p, "ci")),
         df = degf(dE), n = nrow(dE))
  }
)

## 4. ratio design effects and a stratified svychisq
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
r <- svyratio(~api.stu, ~enroll, dstrat, deff = TRUE)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
r1 <- svyratio(~api.stu, ~enroll, dclus1, deff = "replace")
ht <- function(h) list(statistic = as.numeric(h$statistic), parameter = as.numeric(h$parameter),
                       p_value = as.numeric(h$p.value))
OUT$misc <- list(
  svyratio_dstrat_deff = list(estimate = as.numeric(coef(r)), se = as.numeric(SE(r)), deff = as.numeric(attr(r, "deff"))),
  svyratio_dclus1_deff_replace = list(estimate = as.numeric(coef(r1)), se = as.numeric(SE(r1)), deff = as.numeric(attr(r1, "deff"))),
  svychisq_dstrat_schwide_awards_F = ht(svychisq(~sch.wide + awards, dstrat)),
  svychisq_dstrat_stype_awards_F = ht(svychisq(~stype + awards, dstrat)),
  svychisq_dclus2_stype_awards_F = ht(svychisq(~stype + awards, dclus2)),
  svychisq_dclus2_stype_awards_Wald = ht(svychisq(~stype + awards, dclus2, statistic = "Wald")),
  svymean_stype_dclus2 = st(svymean(~stype, dclus2), dclus2),
  svytotal_stype_dclus2_deff = st(svytotal(~stype, dclus2, deff = TRUE), dclus2)
)
## 5. domains of a post-stratified design (calibration residuals inside the domain variance)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(dclus1, ~stype, pop.types)
OUT$calibrated_domains <- list(
  spec = "postStratify(dclus1, ~stype, pop.types) with E/H/M = 4421/755/1018",
  svyby_mean_api00_schwide = by_res(svyby(~api00, ~sch.wide, dps, svymean)),  # covmat=TRUE errors in survey 4.1 on calibrated designs
  subset_yes_svytotal_enroll = { dy <- subset(dps, sch.wide == "Yes"); st(svytotal(~enroll, dy), dy) },
  ## a subset of a calibrated design keeps every row with weight 0 (R's [.survey.design2), so
  ## svychisq counts all rows (N) and all clusters and strata (ddf) of the design, unlike degf()
  subset_enroll400_svychisq = {
    dsub <- subset(dps, enroll > 400)
    sapply(c("F", "Chisq", "Wald", "adjWald", "saddlepoint"),
           function(s) ht(svychisq(~sch.wide + comp.imp, dsub, statistic = s)), simplify = FALSE)
  },
  subset_enroll400_svychisq_stype_F = ht(svychisq(~sch.wide + stype, subset(dps, enroll > 400)))
)
## 5b. svyby with missing values in the by variable: R leaves those rows out of every domain
a_na <- apiclus1; a_na$grp <- as.character(a_na$stype); a_na$grp[seq(1, nrow(a_na), by = 7)] <- NA
OUT$svyby_na_grp_mean_api00 <- by_res(svyby(~api00, ~grp, svydesign(id = ~dnum, weights = ~pw, data = a_na, fpc = ~fpc), svymean))
## 6. a replicate design (JK1 on dclus1, as data/repweights_JK1_dclus1.csv): tables and domains
rjk <- as.svrepdesign(dclus1, type = "JK1")
rst <- function(x) { nm <- names(coef(x)); list(estimate = setNames(as.numeric(coef(x)), nm),
                                                 se = setNames(as.numeric(SE(x)), nm)) }
OUT$replicate_jk1 <- list(
  svychisq_F = ht(svychisq(~sch.wide + stype, rjk)),
  svychisq_Wald = ht(svychisq(~sch.wide + stype, rjk, statistic = "Wald")),
  svyby_mean_api00_stype = by_res(svyby(~api00, ~stype, rjk, svymean, covmat = TRUE)),
  svytotal_enroll_deff = c(rst(svytotal(~enroll, rjk, deff = TRUE)), list(deff = as.numeric(deff(svytotal(~enroll, rjk, deff = TRUE))))),
  svymean_api00_deff_replace = c(rst(svymean(~api00, rjk, deff = "replace")), list(deff = as.numeric(deff(svymean(~api00, rjk, deff = "replace"))))),
  subset_H_svymean_api00 = rst(svymean(~api00, subset(rjk, stype == "H")))
)
writeLines(to_json(OUT), "extra_design.json")
cat("wrote extra_design.json\n")
