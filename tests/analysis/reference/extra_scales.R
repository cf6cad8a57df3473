## Scale reliability: Cronbach's alpha and item-rest correlations as psych::alpha (unweighted),
## the one-factor ML model as stats::factanal, and the design-based SE of weighted alpha and omega
## by the delta method on R survey's covariance of the weighted means of x_i and x_i x_j
## (gradient by central differences, as in analysis/scales.py; the statistics themselves written
## out here). Data: four rating items of the demo survey with its strata and weights
## (tests/analysis/reference/data/scale_demo.csv). Run from tests/analysis/reference: Rscript extra_scales.R
suppressPackageStartupMessages({library(survey); library(psych)})
options(survey.lonely.psu = "adjust")   # the demo has strata with one respondent (4.1-1 and 4.5 agree for means)
source("json_helpers.R")
d <- read.csv("data/scale_demo.csv", stringsAsFactors = FALSE)
items <- c("info_sufficient", "self_competence", "staff_phishing_competence", "feel_protected")
X <- as.matrix(d[, items])
pa <- psych::alpha(as.data.frame(X), warnings = FALSE)
fa <- factanal(covmat = cor(X), factors = 1, n.obs = nrow(X))
alpha_cov <- function(S) { k <- nrow(S); k / (k - 1) * (1 - sum(diag(S)) / sum(S)) }
omega_cov <- function(S) {
  f <- factanal(covmat = cov2cor(S), factors = 1, control = list(opt = list(maxit = 10000), lower = 0.005))
  l <- as.numeric(f$loadings); u <- as.numeric(f$uniquenesses); sum(l)^2 / (sum(l)^2 + sum(u))
}
k <- length(items)
pairs <- which(upper.tri(diag(k), diag = TRUE), arr.ind = TRUE)
pairs <- pairs[order(pairs[, 1], pairs[, 2]), , drop = FALSE]   # row-major upper triangle, as numpy's triu_indices
Z <- cbind(X, sapply(seq_len(nrow(pairs)), function(p) X[, pairs[p, 1]] * X[, pairs[p, 2]]))
colnames(Z) <- paste0("z", seq_len(ncol(Z)))
dz <- svydesign(id = ~1, strata = ~stratum, weights = ~w, fpc = ~N_h, data = cbind(d, Z))
mz <- svymean(as.formula(paste("~", paste(colnames(Z), collapse = "+"))), dz)
m <- as.numeric(coef(mz)); V <- vcov(mz)
cov_of <- function(m) {
  S2 <- matrix(0, k, k)
  for (p in seq_len(nrow(pairs))) { S2[pairs[p, 1], pairs[p, 2]] <- m[k + p]; S2[pairs[p, 2], pairs[p, 1]] <- m[k + p] }
  S2 - outer(m[1:k], m[1:k])
}
delta <- function(f) {
  g <- sapply(seq_along(m), function(j) { h <- 1e-5 * max(abs(m[j]), 1); u <- m; l <- m
    u[j] <- u[j] + h; l[j] <- l[j] - h; (f(cov_of(u)) - f(cov_of(l))) / (2 * h) })
  list(estimate = f(cov_of(m)), se = sqrt(as.numeric(t(g) %*% V %*% g)))
}
OUT <- list(meta = list(R_version = R.version.string, survey_version = as.character(packageVersion("survey")),
                        psych_version = as.character(packageVersion("psych"))),
            n = nrow(X),
            unweighted_raw_alpha = pa$total$raw_alpha,
            unweighted_r_drop = unname(pa$item.stats$r.drop),
            unweighted_alpha_if_dropped = unname(pa$alpha.drop$raw_alpha),
            factanal_loadings = as.numeric(fa$loadings), factanal_uniquenesses = as.numeric(fa$uniquenesses),
            weighted_alpha = delta(alpha_cov), weighted_omega = delta(omega_cov), degf = degf(dz))
writeLines(to_json(OUT), "extra_scales.json")
