## Cases ported from R survey's own tests/ folder (tests/analysis/test_r_survey_ports.py), run with
## survey 4.5. Each block names the file it ports. Writes data/scd.csv and data/nhanes.csv (R's
## scd and nhanes data). Run from tests/analysis/reference:
##   R_LIBS=$HOME/.R-survey-4.5 Rscript extra_ports.R   -> extra_ports.json
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api); data(scd); data(nhanes)
write.csv(scd, "data/scd.csv", row.names = FALSE)
write.csv(nhanes, "data/nhanes.csv", row.names = FALSE)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) list(estimate = as.numeric(unlist(coef(x))), se = as.numeric(unlist(SE(x))))
warned <- function(expr) tryCatch({ expr; FALSE }, warning = function(w) TRUE)

## degf-svrepdesign.R and degf-subset.R
repweights <- 2 * cbind(c(1,0,1,0,1,0), c(1,0,0,1,0,1), c(0,1,1,0,0,1), c(0,1,0,1,1,0))
r3 <- svrepdesign(data = scd, type = "BRR", repweights = repweights)
r2 <- svrepdesign(data = scd, type = "BRR", repweights = repweights, combined.weights = FALSE, degf = 2)
OUT$degf <- list(repweights = repweights, default = degf(r3),
                 given4 = degf(svrepdesign(data = scd, type = "BRR", repweights = repweights, degf = 4)),
                 warns10 = warned(svrepdesign(data = scd, type = "BRR", weights = ~I(1000 + 0 * ESA), repweights = repweights, combined.weights = FALSE, degf = 10)),
                 subset_keeps_user_degf = degf(subset(r2, arrests >= 200)),
                 mean_arrests_default = st(svymean(~arrests, r3)))

## svyby_bug.R (apiclus1 with 5 api99 values missing; R's set.seed(123) sample)
set.seed(123)
a <- apiclus1
miss <- sample.int(nrow(a), 5)
a$api99[miss] <- NA
dna <- svydesign(id = ~dnum, weights = ~pw, data = a, fpc = ~fpc)
OUT$svyby_bug <- list(missing_rows = miss,
  mean_nona = st(svyby(~api99, ~stype, dna, svymean)),
  mean_narm = st(svyby(~api99, ~stype, dna, svymean, na.rm = TRUE)),
  mean_narm_covmat = { b <- svyby(~api99, ~stype, dna, svymean, na.rm = TRUE, covmat = TRUE); c(st(b), list(vcov = unname(vcov(b)))) },
  total_narm = st(svyby(~api99, ~stype, dna, svytotal, na.rm = TRUE, covmat = TRUE)),
  ratio_narm = st(svyby(~api99, ~stype, dna, svyratio, na.rm = TRUE, denominator = ~api00, covmat = TRUE)),
  subset_means = lapply(c("E", "H", "M"), function(s) st(svymean(~api99, subset(dna, stype == s), na.rm = TRUE))))

## svyby_se.R
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
OUT$svyby_se <- st(svyby(~enroll, ~stype, design = dstrat, svytotal, vartype = c("ci", "se")))

## testthat/test-svyciprop.R (asymmetric intervals on mtcars$am)
dm <- svydesign(ids = ~0, weights = NULL, data = mtcars)
OUT$svyciprop_mtcars <- sapply(c("logit", "likelihood", "asin", "beta", "xlogit", "wilson", "mean"),
  function(m) { p <- svyciprop(~am, dm, method = m); list(estimate = as.numeric(p), ci = as.numeric(confint(p))) },
  simplify = FALSE)

## svyolr-rake-subset.R
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1 <- update(dclus1, mealcat = cut(meals, c(0, 25, 50, 75, 100)))
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = list(maxit = 100, epsilon = 1e-12))
ctl <- list(reltol = 1e-14, maxit = 1000)
olr <- function(m) list(coef = as.numeric(c(coef(m), m$zeta)), se = as.numeric(SE(m)))
OUT$svyolr_rake <- list(raked = olr(svyolr(mealcat ~ avg.ed + mobility + stype, design = dclus1r, control = ctl)),
                        raked_subset = olr(svyolr(mealcat ~ avg.ed + mobility + stype, design = subset(dclus1r, !is.na(avg.ed)), control = ctl)))

## regTermTest-missing.R
dn <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
ma <- svyglm(I(race == 1) ~ HI_CHOL + agecat + RIAGENDR, design = subset(dn, !is.na(HI_CHOL)), family = quasibinomial)
mb <- svyglm(I(race == 1) ~ HI_CHOL + agecat + RIAGENDR, design = dn, family = quasibinomial)
ta <- regTermTest(ma, ~HI_CHOL); tb <- regTermTest(mb, ~HI_CHOL)
OUT$regtermtest_missing <- list(chisq_a = as.numeric(ta$chisq), chisq_b = as.numeric(tb$chisq),
                                F = as.numeric(tb$Ftest), ddf = tb$ddf, p = as.numeric(tb$p),
                                coef = as.numeric(coef(mb)), se = as.numeric(SE(mb)))

## svycontrast.R (a linear contrast of svyglm coefficients on JK1 replicates)
dclus2 <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
rclus2 <- as.svrepdesign(dclus2)
model <- svyglm(api00 ~ ell + meals + mobility, design = rclus2)
model2 <- svyglm(api00 ~ ell + meals + mobility, design = rclus2, return.replicates = TRUE)
nl_with <- svycontrast(model2, quote(exp(ell / 10)))
OUT$svycontrast_glm <- list(contrast = st(svycontrast(model, c(ell = 1, meals = 0))),
                            coef = as.numeric(coef(model)), se = as.numeric(SE(model)),
                            with_replicates_linear = { a <- svycontrast(model2, c(ell = 1, meals = 0))$contrast
                              list(estimate = as.numeric(a), se = sqrt(as.numeric(attr(a, "var")))) },
                            nl_without = st(svycontrast(model, quote(exp(ell / 10)))),
                            nl_with = list(estimate = as.numeric(nl_with$nlcon), se = sqrt(as.numeric(attr(nl_with$nlcon, "var")))),
                            replicate_ell = as.numeric(model2$replicates[, 2]))
writeLines(to_json(OUT), "extra_ports.json")
cat("wrote extra_ports.json\n")
