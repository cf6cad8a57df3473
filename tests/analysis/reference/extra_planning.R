## Planning numbers: sample sizes and allocations from the formulas of Valliant, Dever & Kreuter
## (2018, ch. 3; the book's PracTools functions nProp, nPropMoe, nCont, nContMoe, strAlloc,
## written out here in base R since PracTools is not in Debian), and power from R's own
## power.prop.test. Run from tests/analysis/reference:  Rscript extra_planning.R -> extra_planning.json
source("json_helpers.R")
z <- function(alpha) qnorm(1 - alpha / 2)
nprop_moe <- function(e, p, N = Inf, alpha = 0.05, relative = FALSE) {
  a <- if (is.infinite(N)) 1 else N / (N - 1)
  s <- if (relative) (1 - p) / p else p * (1 - p)
  a * z(alpha)^2 * s / (e^2 + z(alpha)^2 * s / (N - 1))
}
nprop_var <- function(V0, p, N = Inf) {
  a <- if (is.infinite(N)) 1 else N / (N - 1)
  a * p * (1 - p) / (V0 + p * (1 - p) / (N - 1))
}
ncont_cv <- function(CV0, CVpop, N = Inf) CVpop^2 / (CV0^2 + CVpop^2 / N)
ncont_moe <- function(e, S2, N = Inf, alpha = 0.05) z(alpha)^2 * S2 / (e^2 + z(alpha)^2 * S2 / N)
Nh <- c(34692, 36311, 28042, 37423, 5187)           # practices by type (schemas/populations)
Sh <- c(0.48, 0.50, 0.40, 0.45, 0.49)
ch <- c(1, 1.2, 0.8, 1, 2)
W <- Nh / sum(Nh)
OUT <- list(
  meta = list(R_version = R.version.string),
  nprop_moe_03_p30_N = nprop_moe(0.03, 0.3, N = 141655),
  nprop_moe_03_p30_inf = nprop_moe(0.03, 0.3),
  nprop_relmoe_10_p10 = nprop_moe(0.10, 0.10, N = 141655, relative = TRUE),
  nprop_cv_05_p33 = nprop_var((0.05 * 0.33)^2, 0.33, N = 141655),
  ncont_cv_05_cvpop_12 = ncont_cv(0.05, 1.2, N = 141655),
  ncont_moe_2_S2_100 = ncont_moe(2, 100, N = 5000, alpha = 0.1),
  alloc_prop_1500 = 1500 * W,
  alloc_neyman_1500 = 1500 * W * Sh / sum(W * Sh),
  alloc_cost_30000 = 30000 * sum(W * Sh / sqrt(ch)) / sum(W * Sh * sqrt(ch)) * (W * Sh / sqrt(ch)) / sum(W * Sh / sqrt(ch)),
  alloc_var_1e4 = (sum(W * Sh / sqrt(ch)) * sum(W * Sh * sqrt(ch)) / (1e-4 + sum(W * Sh^2) / sum(Nh))) *
                  (W * Sh / sqrt(ch)) / sum(W * Sh / sqrt(ch)),
  power_p30_p36_n500 = power.prop.test(n = 500, p1 = 0.30, p2 = 0.36)$power,
  power_p30_p36_n500_one = power.prop.test(n = 500, p1 = 0.30, p2 = 0.36, alternative = "one.sided")$power,
  n_p30_p36_power80 = power.prop.test(p1 = 0.30, p2 = 0.36, power = 0.8, tol = 1e-12)$n
)
writeLines(to_json(OUT), "extra_planning.json")
