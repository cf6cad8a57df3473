## R survey numbers for the model layer beyond reference.json (svyglm, regTermTest, svyolr,
## predictions, predictive margins). Run from tests/analysis/reference:  Rscript extra_models.R
## -> extra_models.json. R 4.2.2, survey 4.1-1, MASS 7.3-58.2 (Debian bookworm packages).
##
## Why "tight" refits: R's glm.fit returns the working weights (hence cov.unscaled and the svyglm
## SEs) of the penultimate IRLS iterate, so even with epsilon=1e-12 the SEs carry an error of the
## size of the last IRLS step (measured: 4e-6 relative for qbin_dclus1). Refitting from the
## converged coefficients (start=coef(fit)) makes the working weights those of the estimate.
## svyolr maximises with optim(BFGS, reltol=1e-8) and takes the Hessian by finite differences
## with step ndeps=1e-3; the tight versions use reltol=1e-15 and ndeps=1e-5.
suppressPackageStartupMessages({ library(survey); library(MASS) })
source("json_helpers.R")
options(survey.lonely.psu = "fail")
data(api)

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
ctl <- glm.control(epsilon = 1e-12, maxit = 100)
ctl_tight <- glm.control(epsilon = 1e-13, maxit = 100)

named <- function(v, nm) { v <- as.numeric(v); names(v) <- nm; v }
tight <- function(fit, design, ...) {
  ## refit from the converged coefficients so the working weights are those of the estimate
  eval(bquote(svyglm(formula(.(fit)), design = .(design), family = .(fit$family), start = .(coef(fit)),
                     control = ctl_tight, ...)))
}
glm_out <- function(m, call) {
  s <- summary(m); ct <- s$coefficients; nm <- rownames(ct)
  ci <- confint(m)
  V <- vcov(m); dimnames(V) <- list(nm, nm)
  list(call = call, family = paste(m$family$family, m$family$link), coef = named(ct[, 1], nm),
       se = named(ct[, 2], nm), t_value = named(ct[, 3], nm), p_value = named(ct[, 4], nm),
       df_residual = m$df.residual, degf_design = degf(m$survey.design), n_obs = length(m$y),
       dispersion = as.numeric(s$dispersion), deviance = m$deviance, null_deviance = m$null.deviance,
       vcov = unclass(V), ci_lower = named(ci[, 1], nm), ci_upper = named(ci[, 2], nm))
}
rtt_out <- function(t) {
  r <- list(test_terms = t$test.terms, df = t$df, ddf = t$ddf, p = as.numeric(t$p))
  if (!is.null(t$Ftest)) r$Ftest <- as.numeric(t$Ftest)
  if (!is.null(t$chisq)) r$chisq <- as.numeric(t$chisq)
  r
}
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey")),
                        MASS_version = as.character(packageVersion("MASS")),
                        note = "see the header of extra_models.R for what 'tight' means"))

## ------------------------------------------------------------ tight versions of reference d / g
G <- list()
m <- svyglm(sch.wide ~ ell + meals + mobility, design = dstrat, family = quasibinomial(), control = ctl)
G$qbin_dstrat <- glm_out(tight(m, dstrat), "tight refit of reference d qbin_dstrat")
m <- svyglm(sch.wide ~ ell + meals + mobility, design = dclus1, family = quasibinomial(), control = ctl)
G$qbin_dclus1 <- glm_out(tight(m, dclus1), "tight refit of reference d qbin_dclus1")
m <- svyglm(api.stu ~ ell + meals + mobility, design = dclus2, family = quasipoisson(), control = ctl)
G$qpois_dclus2_api.stu <- glm_out(tight(m, dclus2), "tight refit of reference d qpois_dclus2_api.stu")
dclus2c <- update(dclus2, api00_100 = round(api00 / 100))
m <- svyglm(api00_100 ~ ell + meals + mobility, design = dclus2c, family = quasipoisson(), control = ctl)
G$qpois_dclus2_round_api00_100 <- glm_out(tight(m, dclus2c), "tight refit of reference d qpois_dclus2_round_api00_100")
OUT$tight <- G

## ------------------------------------------------------------ more svyglm cases
S <- list()
## factors, interaction, releveled reference category
m_fac <- svyglm(api00 ~ ell * meals + stype, design = dstrat)
S$gauss_dstrat_interaction <- glm_out(m_fac, "svyglm(api00 ~ ell * meals + stype, design=dstrat)")
apiclus1_H <- apiclus1; apiclus1_H$stype <- relevel(apiclus1_H$stype, ref = "H")
dclus1_H <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1_H, fpc = ~fpc)
m <- svyglm(sch.wide ~ ell + stype, design = dclus1_H, family = quasibinomial(), control = ctl)
S$qbin_dclus1_stype_refH <- glm_out(tight(m, dclus1_H), "svyglm(sch.wide ~ ell + relevel(stype, 'H'), design=dclus1, family=quasibinomial()) [tight]")
## gamma (inverse link = R's default) and gamma with log link
m <- svyglm(api00 ~ ell + meals, design = dclus1, family = Gamma(), control = ctl)
S$gamma_inverse_dclus1 <- glm_out(tight(m, dclus1), "svyglm(api00 ~ ell + meals, design=dclus1, family=Gamma()) [tight]")
m <- svyglm(api00 ~ ell + meals, design = dclus1, family = Gamma(link = "log"), control = ctl)
S$gamma_log_dclus1 <- glm_out(tight(m, dclus1), "svyglm(api00 ~ ell + meals, design=dclus1, family=Gamma(link='log')) [tight]")
## offset, with missing values in the offset variable (apiclus2$enroll has NAs)
m <- svyglm(api.stu ~ ell + meals + offset(log(enroll)), design = dclus2, family = quasipoisson(), control = ctl)
S$qpois_offset_dclus2 <- glm_out(tight(m, dclus2), "svyglm(api.stu ~ ell + meals + offset(log(enroll)), design=dclus2, family=quasipoisson()) [tight]")
S$qpois_offset_dclus2$n_missing_enroll <- sum(is.na(apiclus2$enroll))
## missing values covering a whole PSU: ell set to NA in the district with the smallest dnum
apiclus1_na <- apiclus1; d0 <- min(apiclus1$dnum); apiclus1_na$ell[apiclus1_na$dnum == d0] <- NA
dclus1_na <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1_na, fpc = ~fpc)
S$gauss_dclus1_na_psu <- glm_out(svyglm(api00 ~ ell + meals, design = dclus1_na),
  sprintf("svyglm(api00 ~ ell + meals, design=dclus1 with ell=NA where dnum==%d)", d0))
S$gauss_dclus1_na_psu$dnum_na <- d0
## subset argument
S$gauss_dstrat_subset <- glm_out(svyglm(api00 ~ ell + meals, design = dstrat, subset = stype != "H"),
  "svyglm(api00 ~ ell + meals, design=dstrat, subset=stype != 'H')")
## replicate design, non-gaussian: replicate refits by glm.fit (epsilon 1e-12)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
m <- svyglm(sch.wide ~ ell + meals + mobility, design = jk1, family = quasibinomial(), control = ctl)
S$qbin_jk1_dclus1 <- glm_out(m, "svyglm(sch.wide ~ ell + meals + mobility, design=as.svrepdesign(dclus1, 'JK1'), family=quasibinomial(), control=glm.control(epsilon=1e-12))")
## calibrated and post-stratified designs (the variance uses the calibration residuals)
pop.totals <- c(`(Intercept)` = nrow(apipop), stypeH = sum(apipop$stype == "H"), stypeM = sum(apipop$stype == "M"),
                api99 = sum(apipop$api99))
dcal <- calibrate(dclus1, ~stype + api99, pop.totals)
S$gauss_calibrated_dclus1 <- glm_out(svyglm(api00 ~ ell + meals, design = dcal),
  "svyglm(api00 ~ ell + meals, design=calibrate(dclus1, ~stype+api99, pop.totals))  # linear (GREG)")
pop.types <- as.data.frame(table(stype = apipop$stype), responseName = "Freq")
dps <- postStratify(dclus1, ~stype, pop.types)
m <- svyglm(sch.wide ~ ell + meals, design = dps, family = quasibinomial(), control = ctl)
S$qbin_poststratified_dclus1 <- glm_out(tight(m, dps),
  "svyglm(sch.wide ~ ell + meals, design=postStratify(dclus1, ~stype, pop.types), family=quasibinomial()) [tight]")
OUT$svyglm <- S

## ------------------------------------------------------------ regTermTest
R <- list()
R$interaction_stype <- rtt_out(regTermTest(m_fac, ~stype))
R$interaction_ell_meals <- rtt_out(regTermTest(m_fac, ~ell:meals))
R$interaction_stype_and_ell_meals <- rtt_out(regTermTest(m_fac, ~stype + ell:meals))
m_q <- svyglm(sch.wide ~ ell + meals + mobility, design = dstrat, family = quasibinomial(), control = ctl)
R$qbin_dstrat_ell_meals_chisq <- rtt_out(regTermTest(m_q, ~ell + meals, df = Inf))
R$note <- "model for interaction_*: svyglm(api00 ~ ell * meals + stype, design=dstrat); chisq: regTermTest(qbin_dstrat, ~ell+meals, df=Inf)"
OUT$regTermTest <- R

## ------------------------------------------------------------ predict with SEs
P <- list()
nd <- apistrat[c(1, 51, 101, 151, 200), c("ell", "meals", "mobility")]
for (type in c("link", "response")) {
  p <- predict(m_q, newdata = nd, type = type)
  P[[type]] <- list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)))
}
P$rows <- c(1, 51, 101, 151, 200)
P$note <- "predict(svyglm(sch.wide ~ ell+meals+mobility, dstrat, quasibinomial()), newdata=apistrat[rows, ], type=...) with tight=no (control epsilon 1e-12)"
OUT$predict <- P

## ------------------------------------------------------------ predictive margins (hand derivation)
## m_k = sum_i w_i mu_i^(k) / sum_i w_i with stype set to level k in every row. Linearisation:
## infl_ki = [w_i (mu_ki - m_k) + G_k' U_i] / sum(w),  G_k = sum_i w_i dmu/deta(eta_ki) x_ki,
## U = weighted estfun %*% A^-1 (what svyglm(influence=TRUE) returns). Variance: svytotal of infl/w (R's engine).
margins <- function(fit, design, factor) {
  fit_i <- eval(bquote(svyglm(formula(.(fit)), design = .(design), family = .(fit$family),
                              start = .(coef(fit)), control = ctl_tight)))
  ## svyglm(influence=TRUE) has a typo in survey 4.1-1 ('estfun < ...'), so U is built as it would:
  U <- (model.matrix(fit_i) * resid(fit_i, "working") * fit_i$weights) %*% fit_i$naive.cov
  beta <- coef(fit_i)
  dat <- model.frame(design); w <- weights(design); N <- sum(w)
  levs <- levels(dat[[factor]]); est <- numeric(length(levs)); infl <- matrix(0, nrow(dat), length(levs))
  tt <- delete.response(terms(fit_i))
  for (k in seq_along(levs)) {
    nd <- dat; nd[[factor]] <- factor(levs[k], levels = levs)
    X <- model.matrix(tt, model.frame(tt, nd), contrasts.arg = fit_i$contrasts)
    eta <- drop(X %*% beta); mu <- fit_i$family$linkinv(eta); d <- fit_i$family$mu.eta(eta)
    est[k] <- sum(w * mu) / N
    G <- colSums(w * d * X)
    infl[, k] <- (w * (mu - est[k]) + drop(U %*% G)) / N
  }
  des2 <- design
  for (k in seq_along(levs)) des2$variables[[paste0("m", k)]] <- infl[, k] / w
  tot <- svytotal(make.formula(paste0("m", seq_along(levs))), des2)
  V <- unclass(vcov(tot)); dimnames(V) <- list(levs, levs)
  list(levels = levs, estimate = named(est, levs), se = named(sqrt(diag(V)), levs), vcov = V,
       df = degf(design))
}
M <- list()
fq <- svyglm(sch.wide ~ ell + meals + stype, design = dstrat, family = quasibinomial(), control = ctl)
M$qbin_dstrat_stype <- c(list(call = "svyglm(sch.wide ~ ell + meals + stype, design=dstrat, family=quasibinomial()); margins over stype"),
                         margins(fq, dstrat, "stype"))
fg <- svyglm(api00 ~ ell + meals + stype, design = dclus1)
M$gauss_dclus1_stype <- c(list(call = "svyglm(api00 ~ ell + meals + stype, design=dclus1); margins over stype"),
                          margins(fg, dclus1, "stype"))
## replicate design: the margins recomputed with every replicate's refit (withReplicates)
jk_margins <- withReplicates(jk1, function(w, data) {
  f <- glm(sch.wide ~ ell + meals + stype, data = data, weights = w / mean(w), family = quasibinomial(),
           control = ctl_tight)
  sapply(levels(data$stype), function(k) {
    nd <- data; nd$stype <- factor(k, levels = levels(data$stype))
    sum(w * predict(f, newdata = nd, type = "response")) / sum(w)
  })
})
M$qbin_jk1_stype <- list(call = "withReplicates(as.svrepdesign(dclus1,'JK1'), margins of glm(sch.wide ~ ell+meals+stype, quasibinomial) over stype)",
                         estimate = named(coef(jk_margins), levels(apiclus1$stype)),
                         se = named(SE(jk_margins), levels(apiclus1$stype)))
OUT$margins <- M

## ------------------------------------------------------------ block comparison
## blocks "demog" = ell + meals, "school" = mobility + stype, control api99; dclus1, quasibinomial
B <- list()
m_full <- svyglm(sch.wide ~ api99 + ell + meals + mobility + stype, design = dclus1, family = quasibinomial(), control = ctl)
m_full <- tight(m_full, dclus1)
m_no_demog <- tight(svyglm(sch.wide ~ api99 + mobility + stype, design = dclus1, family = quasibinomial(), control = ctl), dclus1)
m_no_school <- tight(svyglm(sch.wide ~ api99 + ell + meals, design = dclus1, family = quasibinomial(), control = ctl), dclus1)
w1 <- weights(dclus1)
wsd <- function(x) sqrt(sum(w1 * (x - weighted.mean(x, w1))^2) / sum(w1))
X <- model.matrix(m_full)[, -1]
sdx <- apply(X, 2, wsd)
B$full <- glm_out(m_full, "svyglm(sch.wide ~ api99 + ell + meals + mobility + stype, design=dclus1, family=quasibinomial()) [tight]")
B$wald_demog <- rtt_out(regTermTest(m_full, ~ell + meals))
B$wald_school <- rtt_out(regTermTest(m_full, ~mobility + stype))
B$d2_full <- 1 - m_full$deviance / m_full$null.deviance
B$d2_without_demog <- 1 - m_no_demog$deviance / m_no_demog$null.deviance
B$d2_without_school <- 1 - m_no_school$deviance / m_no_school$null.deviance
B$sd_x <- named(sdx, colnames(X))
B$std_effect <- named(coef(m_full)[-1] * sdx, colnames(X))
B$note <- "sd_x: sqrt(sum w (x - weighted.mean(x, w))^2 / sum w) of each model-matrix column; D2 = 1 - deviance/null.deviance"
OUT$blocks <- B

## ------------------------------------------------------------ svyolr
apistrat_olr <- apistrat
apistrat_olr$api_cat <- cut(apistrat$api00, breaks = c(-Inf, 600, 750, Inf), labels = c("low", "mid", "high"), ordered_result = TRUE)
dstrat_olr <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat_olr, fpc = ~fpc)
apiclus1_olr <- apiclus1
apiclus1_olr$api_cat <- cut(apiclus1$api00, breaks = c(-Inf, 600, 750, Inf), labels = c("low", "mid", "high"), ordered_result = TRUE)
dclus1_olr <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1_olr, fpc = ~fpc)
olr_out <- function(m, call) {
  V <- vcov(m); nm <- names(coef(m)); dimnames(V) <- list(nm, nm)   # coef(svyolr) = c(beta, zeta)
  list(call = call, coef = named(m$coefficients, names(m$coefficients)), zeta = named(m$zeta, names(m$zeta)),
       se = named(sqrt(diag(V)), nm), vcov = unclass(V), df_residual = m$df.residual,
       deviance = m$deviance)
}
tight_olr <- list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, 4))
O <- list()
O$dstrat_tight <- olr_out(svyolr(api_cat ~ ell + meals, design = dstrat_olr, control = tight_olr),
                          "svyolr(api_cat ~ ell + meals, design=dstrat_olr, control=list(reltol=1e-15, ndeps=1e-5))")
O$dclus1 <- olr_out(svyolr(api_cat ~ ell + meals, design = dclus1_olr),
                    "svyolr(api_cat ~ ell + meals, design=dclus1_olr)")
O$dclus1_tight <- olr_out(svyolr(api_cat ~ ell + meals, design = dclus1_olr, control = tight_olr),
                          "svyolr(api_cat ~ ell + meals, design=dclus1_olr, control=list(reltol=1e-15, ndeps=1e-5))")
O$dclus1_stype_tight <- olr_out(svyolr(api_cat ~ ell + meals + stype, design = dclus1_olr,
                                       control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, 6))),
                                "svyolr(api_cat ~ ell + meals + stype, design=dclus1_olr, control=list(reltol=1e-15, ndeps=1e-5))")
apistrat_cut3 <- apistrat; apistrat_cut3$api_cut3 <- cut(apistrat$api00, 3)
dstrat_cut3 <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat_cut3, fpc = ~fpc)
O$cut3_tight <- olr_out(svyolr(api_cut3 ~ ell + meals, design = dstrat_cut3, control = tight_olr),
                        "svyolr(cut(api00, 3) ~ ell + meals, design=dstrat, control=list(reltol=1e-15, ndeps=1e-5))")
jk1_olr <- as.svrepdesign(dclus1_olr, type = "JK1")
O$jk1_dclus1 <- olr_out(svyolr(api_cat ~ ell + meals, design = jk1_olr),
                        "svyolr(api_cat ~ ell + meals, design=as.svrepdesign(dclus1_olr, 'JK1'))  # replicate fits by MASS::polr (BFGS, reltol 1e-8)")
O$outcome_definition <- "api_cat = cut(api00, breaks=c(-Inf,600,750,Inf), labels=c('low','mid','high'), ordered_result=TRUE)"
OUT$svyolr <- O

writeLines(to_json(OUT), "extra_models.json")
cat("wrote extra_models.json\n")
