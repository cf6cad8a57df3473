## R survey numbers for nonlinear contrasts, withReplicates, svyvar, svyttest and svyranktest
## (tests/analysis/test_statistics_extra.py). Cases from R survey's own tests are marked "port:".
## Run from tests/analysis/reference:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_statistics.R
suppressPackageStartupMessages(library(survey))
source("json_helpers.R")
data(api)
OUT <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey"))))
st <- function(x) { cf <- coef(x); nm <- names(cf)
  V <- as.matrix(vcov(x)); dimnames(V) <- NULL
  list(names = I(if (is.null(nm)) "" else nm), estimate = as.numeric(cf), se = as.numeric(sqrt(diag(V))), vcov = V) }
ht <- function(h) list(statistic = as.numeric(h$statistic), parameter = as.numeric(h$parameter),
                       p_value = as.numeric(h$p.value), estimate = as.numeric(h$estimate),
                       conf_int = if (is.null(h$conf.int)) NULL else as.numeric(h$conf.int),
                       ddf = if (is.null(h$ddf)) NULL else as.numeric(h$ddf), method = h$method)

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
rclus1 <- as.svrepdesign(dclus1)   # JK1
apiclus1$log_enroll <- log(apiclus1$enroll)
dclus1l <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rclus1l <- as.svrepdesign(dclus1l)

## 1. nonlinear contrasts
by_logs <- svyby(~log_enroll, ~stype, svymean, design = dclus1l, covmat = TRUE)
by_api <- svyby(~api00, ~stype, svymean, design = dclus1, covmat = TRUE)
m2 <- svymean(~api00 + api99, dclus1)
fit <- svyglm(api00 ~ ell + meals, dclus1)
## port: contrast-replicates.R (svyby with and without return.replicates on JK1 replicates)
rep_without <- svyby(~log_enroll, ~stype, svymean, design = rclus1l, covmat = TRUE)
rep_with <- svyby(~log_enroll, ~stype, svymean, design = rclus1l, covmat = TRUE, return.replicates = TRUE)
c_with <- svycontrast(rep_with, quote(exp(E - H)))
OUT$contrasts <- list(
  taylor_exp_E_minus_H = st(svycontrast(by_logs, quote(exp(E - H)))),
  taylor_ratio_E_over_H = st(svycontrast(by_api, quote(E / H))),
  taylor_two = st(svycontrast(by_api, list(ratio = quote(E / M), logdiff = quote(log(E) - log(H))))),
  taylor_add = st(svycontrast(by_api, list(ratio = quote(E / M)), add = TRUE)),
  mean_ratio_api00_api99 = st(svycontrast(m2, quote(api00 / api99))),
  power_and_minus = st(svycontrast(m2, quote(-api00^2 / 1000 + sqrt(api99)))),
  glm_exp_ell = st(svycontrast(fit, quote(exp(ell * 10)))),
  jk1_without_replicates = st(svycontrast(rep_without, quote(exp(E - H)))),
  jk1_with_replicates = list(estimate = as.numeric(c_with$nlcon), se = sqrt(as.numeric(attr(c_with$nlcon, "var")))),
  jk1_with_replicates_values = as.numeric(c_with$replicates)
)

## 2. withReplicates (a ratio of means, and a vector-valued statistic)
wr <- withReplicates(rclus1, function(w, data) sum(w * data$api00) / sum(w * data$api99))
wr2 <- withReplicates(rclus1, function(w, data) c(sum(w * data$api00) / sum(w), sum(w * (data$api00 - data$api99)) / sum(w)))
rwr <- withReplicates(rclus1, function(w, data) sum(w * data$enroll), return.replicates = TRUE)
OUT$with_replicates <- list(ratio = list(estimate = as.numeric(coef(wr)), se = as.numeric(SE(wr))),
                            vector = list(estimate = as.numeric(coef(wr2)), vcov = unname(as.matrix(vcov(wr2)))),
                            total_replicates = as.numeric(rwr$replicates),
                            total = list(estimate = as.numeric(rwr$theta), se = sqrt(as.numeric(attr(rwr$theta, "var")))))

## 3. svyvar and the SD
v1 <- svyvar(~api00, dstrat)
OUT$svyvar <- list(
  dstrat_api00 = st(v1),
  dstrat_api00_sd = st(svycontrast(v1, quote(sqrt(api00)))),
  dclus1_api00 = st(svyvar(~api00, dclus1)),
  dclus1_enroll_narm = st(svyvar(~enroll, svydesign(id = ~dnum, weights = ~pw, data = transform(apiclus1, enroll = ifelse(seq_along(enroll) %% 9 == 0, NA, enroll)), fpc = ~fpc), na.rm = TRUE)),
  jk1_api00 = st(svyvar(~api00, rclus1)),
  by_stype_dclus1 = st(svyby(~api00, ~stype, dclus1, svyvar)),
  subset_H = st(svyvar(~api00, subset(dstrat, stype == "H")))
)
## port: mtcars-var.R (a domain of one row gives NA, not an error; na.rm equals the subset)
input <- mtcars; input$carb <- factor(input$carb)
dm <- svydesign(ids = ~0, weights = NULL, data = input)
bym <- svyby(~mpg, ~carb, dm, svyvar)
input$mpg[1] <- NA
dm2 <- svydesign(ids = ~0, weights = NULL, data = input)
OUT$mtcars <- list(data = mtcars, by_carb = list(estimate = as.numeric(coef(bym)), se = as.numeric(SE(bym))),
                   narm = st(svyvar(~mpg, dm2, na.rm = TRUE)))

## 4. svyttest
OUT$svyttest <- list(
  dclus1_api00_compimp = ht(svyttest(api00 ~ comp.imp, dclus1)),
  dstrat_enroll_schwide = ht(svyttest(enroll ~ sch.wide, dstrat)),
  dclus1_one_sample = ht(svyttest(I(api00 - 650) ~ 0, dclus1)),
  jk1_api00_compimp = ht(svyttest(api00 ~ comp.imp, rclus1)),
  dstrat_numeric_group = ht(svyttest(api00 ~ I(as.numeric(sch.wide == "Yes")), dstrat))
)

## 5. svyranktest (R's examples)
OUT$svyranktest <- list(
  wilcoxon = ht(svyranktest(ell ~ comp.imp, dclus1)),
  vanderWaerden = ht(svyranktest(ell ~ comp.imp, dclus1, test = "vanderWaerden")),
  median = ht(svyranktest(ell ~ comp.imp, dclus1, test = "median")),
  dstrat_wilcoxon = ht(svyranktest(api00 ~ sch.wide, dstrat)),
  kruskal_stype = { h <- svyranktest(ell ~ stype, dclus1)
    list(chisq = as.numeric(h$parameter), ndf = as.numeric(h$statistic), ddf = as.numeric(h$ddf), p_value = as.numeric(h$p.value)) },
  jk1_wilcoxon = ht(svyranktest(ell ~ comp.imp, rclus1))
)
writeLines(to_json(OUT), "extra_statistics.json")
cat("wrote extra_statistics.json\n")
