## R survey 4.5 two-phase designs beyond method = "full" (tests/analysis/test_twophase_methods.py):
## method = "approx" / "simple" (the two are the same: survey's 3.14 variance, phase 1 by
## svyrecvar.phase1 plus phase 2 by svyrecvar), calibration of a two-phase design at phase 2
## (calibrate(phase = 2), to the phase-1 totals by default) for both methods, and what R refuses.
## Designs: (a) apisrs with a stratified phase-2 subsample (even snum, strata stype; phase-1 fpc);
## (b) survival's nwtco case-cohort (phase 1 iid, phase 2 stratified by relapse); (c) nwtco
## two-phase case-control (phase 2 = relapses, institution 2 and every 8th seqno; strata rel x
## instit), calibrated to the phase-1 counts of rel x stage x instit as in ?twophase, and with
## estimated phase-2 probabilities (calfun = "rrz", estWeights);
## (d) mu284 clusters at phase 1, units within them at phase 2 (?twophase); (e) apisrs again with
## weights = list(~pw, ~w2) in place of probabilities (method = "approx" only); (f) apistrat as a
## stratified first phase with phase-2 strata across it.
## Run from the reference folder:  R_LIBS=$HOME/.R-survey-4.5 Rscript extra_twophase_methods.R
suppressPackageStartupMessages({library(survey); library(survival)})
source("json_helpers.R")
data(api); data(nwtco); data(mu284)
st <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
fit <- function(m) list(coef = as.numeric(coef(m)), se = as.numeric(SE(m)), names = names(coef(m)))
err <- function(expr) tryCatch({ force(expr); "no error" }, error = function(e) conditionMessage(e))

srs <- apisrs
srs$in2 <- srs$snum %% 2 == 0
api_design <- function(method) twophase(id = list(~1, ~1), strata = list(NULL, ~stype),
    fpc = list(~fpc, NULL), subset = ~in2, data = srs, method = method)
api_numbers <- function(d) list(
    weights = as.numeric(weights(d)), degf = degf(d),
    mean_api00 = st(svymean(~api00, d)), total_enroll = st(svytotal(~enroll, d)),
    ratio = st(svyratio(~api00, ~api99, d)),
    mean_awards = st(svymean(~awards, d)),
    by_stype_mean_api00 = st(svyby(~api00, ~stype, d, svymean)),
    by_awards_mean_api00 = st(svyby(~api00, ~awards, d, svymean)),
    by_awards_total_enroll = st(svyby(~enroll, ~awards, d, svytotal)),
    subset_yes_mean_api00 = st(svymean(~api00, subset(d, awards == "Yes"))),
    ciprop_yes = { p <- svyciprop(~I(awards == "Yes"), d, method = "logit")
                   list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)),
                        ci = as.numeric(attr(p, "ci"))) },
    quantile_api00 = { q <- svyquantile(~api00, d, 0.5)$api00
                       list(estimate = q[1, 1], ci = as.numeric(q[1, 2:3]), se = q[1, 4]) },
    chisq = lapply(c(F = "F", Chisq = "Chisq", Wald = "Wald"), function(s) {
        t <- svychisq(~sch.wide + awards, d, statistic = s)
        list(statistic = as.numeric(t$statistic), p = as.numeric(t$p.value),
             parameter = as.numeric(t$parameter)) }),
    glm = fit(svyglm(api00 ~ ell + stype, d)))
api_full <- api_design("full")
api_approx <- api_design("approx")
api_simple <- api_design("simple")
phases <- attr(vcov(svytotal(~enroll, api_approx)), "phases")
## weights in place of probabilities (method = "approx" only): phase-1 weights pw, phase-2
## weights N2/n2 times 1, 1.1 or 1.2 by snum %% 3 (the phase-2 fpc still from the counts)
srs$w2 <- with(srs, ave(as.numeric(in2), stype, FUN = function(z) length(z) / sum(z))) *
    (1 + (srs$snum %% 3) / 10)
api_weighted <- twophase(id = list(~1, ~1), strata = list(NULL, ~stype), fpc = list(~fpc, NULL),
    weights = list(~pw, ~w2), subset = ~in2, data = srs, method = "approx")

## calibration at phase 2 to the phase-1 totals (default population) and to given totals
cal_api <- function(d) list(
    linear = { c2 <- calibrate(d, phase = 2, formula = ~api99)
               list(weights = as.numeric(weights(c2)), mean_api00 = st(svymean(~api00, c2)),
                    total_enroll = st(svytotal(~enroll, c2)),
                    by_stype_mean_api00 = st(svyby(~api00, ~stype, c2, svymean)),
                    subset_yes_mean_api00 = st(svymean(~api00, subset(c2, awards == "Yes")))) },
    logit_bounded = { c2 <- calibrate(d, phase = 2, formula = ~api99 + stype, calfun = "logit",
                                      bounds = c(0.5, 2))
                      list(weights = as.numeric(weights(c2)), mean_api00 = st(svymean(~api00, c2))) },
    raking_given = { c2 <- calibrate(d, phase = 2, formula = ~api99 + awards,
                                     population = c(200, 125000, 130), calfun = "raking")
                     list(weights = as.numeric(weights(c2)), mean_api00 = st(svymean(~api00, c2)),
                          glm = fit(svyglm(api00 ~ ell, c2))) })

nw <- nwtco
nw$in2 <- with(nw, in.subcohort | rel == 1)
nw$incc2 <- with(nw, rel == 1 | instit == 2 | seqno %% 8 == 0)
nw$cell <- with(nw, interaction(rel, stage, instit))
cohort <- function(method) twophase(id = list(~seqno, ~seqno), strata = list(NULL, ~rel),
    subset = ~in2, data = nw, method = method)
cc <- function(method) twophase(id = list(~seqno, ~seqno), strata = list(NULL, ~interaction(rel, instit)),
    subset = ~incc2, data = nw, method = method)
nw_numbers <- function(d) list(
    weights = as.numeric(weights(d)), mean_age = st(svymean(~age, d)),
    total_histol2 = st(svytotal(~I(histol == 2), d)),
    by_stage_mean_age = st(svyby(~age, ~stage, d, svymean)),
    glm = fit(svyglm(rel ~ factor(stage) + age, d, family = quasibinomial)))
cc_numbers <- function(d) list(
    mean_age = st(svymean(~age, d)),
    glm = fit(svyglm(rel ~ factor(stage) * factor(histol), d, family = quasibinomial)),
    cal = { g <- calibrate(d, phase = 2, formula = ~cell)
            list(weights = as.numeric(weights(g)), mean_age = st(svymean(~age, g)),
                 glm = fit(svyglm(rel ~ factor(stage) * factor(histol), g, family = quasibinomial))) },
    rrz = { g <- calibrate(d, phase = 2, formula = ~cell, calfun = "rrz")
            list(weights = as.numeric(weights(g)), mean_age = st(svymean(~age, g)),
                 glm = fit(svyglm(rel ~ factor(stage) * factor(histol), g, family = quasibinomial))) },
    rrz_age_stage = { g <- calibrate(d, phase = 2, formula = ~age + factor(stage), calfun = "rrz")
                      list(weights = as.numeric(weights(g)), mean_age = st(svymean(~age, g)),
                           by_stage_mean_age = st(svyby(~age, ~stage, g, svymean))) },
    cal_age_raking = { g <- calibrate(d, phase = 2, formula = ~age + factor(stage), calfun = "raking")
                       list(weights = as.numeric(weights(g)), mean_age = st(svymean(~age, g)),
                            total_histol2 = st(svytotal(~I(histol == 2), g))) })

ii <- with(mu284, c(1:15, rep(1:5, n2[1:5] - 3)))
mu <- mu284[ii, ]
mu$id <- seq_len(nrow(mu))
mu$sub <- rep(c(TRUE, FALSE), c(15, 34 - 15))
dmu <- twophase(id = list(~id1, ~id), strata = list(NULL, ~id1), fpc = list(~n1, NULL),
                data = mu, subset = ~sub, method = "approx")

## (f) a stratified first phase (apistrat: strata stype, fpc) and phase-2 strata that cut across
## it (awards), with the fpc or with probabilities only (with replacement at phase 1)
strat <- apistrat
strat$in2 <- strat$snum %% 3 != 0
strat$p1 <- 1 / strat$pw
strat_numbers <- function(method, fpc) {
    d <- if (fpc) twophase(id = list(~1, ~1), strata = list(~stype, ~awards), fpc = list(~fpc, NULL),
                           subset = ~in2, data = strat, method = method)
         else twophase(id = list(~1, ~1), strata = list(~stype, ~awards), probs = list(~p1, NULL),
                       subset = ~in2, data = strat, method = method)
    list(weights = as.numeric(weights(d)), mean_api00 = st(svymean(~api00, d)),
         total_enroll = st(svytotal(~enroll, d)), by_stype_total_enroll = st(svyby(~enroll, ~stype, d, svytotal)))
}

OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey"))),
  api = list(full = api_numbers(api_full), approx = api_numbers(api_approx),
             simple = api_numbers(api_simple),
             phases_total_enroll = lapply(phases, as.numeric),
             weighted = list(weights = as.numeric(weights(api_weighted)),
                             mean_api00 = st(svymean(~api00, api_weighted)),
                             total_enroll = st(svytotal(~enroll, api_weighted)),
                             by_awards_total_enroll = st(svyby(~enroll, ~awards, api_weighted, svytotal)),
                             full_error = err(twophase(id = list(~1, ~1), strata = list(NULL, ~stype),
                                 weights = list(~pw, NULL), subset = ~in2, data = srs))),
             cal_full = cal_api(api_full), cal_approx = cal_api(api_approx),
             errors = list(phase1 = err(calibrate(api_full, phase = 1, formula = ~api99,
                                                   population = c(6194, 3914069))),
                           poststratify = err(postStratify(api_full, ~stype,
                               data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))),
                           poststratify_approx = err(postStratify(api_approx, ~stype,
                               data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))),
                           rake = err(rake(api_full, list(~stype),
                               list(data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))))))),
  nwtco = list(simple = nw_numbers(cohort("simple")), full = nw_numbers(cohort("full"))),
  cc = list(data = list(incc2 = nw$incc2), simple = cc_numbers(cc("simple")), full = cc_numbers(cc("full"))),
  strat = list(full_fpc = strat_numbers("full", TRUE), approx_fpc = strat_numbers("approx", TRUE),
               full_probs = strat_numbers("full", FALSE), approx_probs = strat_numbers("approx", FALSE)),
  mu284 = list(data = mu, total_y1 = st(svytotal(~y1, dmu)), mean_y1 = st(svymean(~y1, dmu))))
writeLines(to_json(OUT), "extra_twophase_methods.json")
cat("wrote extra_twophase_methods.json\n")
