# One benchmark step with R survey, in a fresh R process.
#   Rscript benchmarks/peers/r_survey.R STEP DESIGN_CSV MARGINS_JSON OUT_JSON [SEED]
# STEP: mean6 | domain_means | rake | svyglm | bootstrap_svyglm
# Times the step only (design construction included; reading the CSV and loading the package are
# not), and its peak resident memory: the kernel's high-water mark (VmHWM) is reset just before the
# step (/proc/self/clear_refs, "5"), so the peak is that of the process while the step runs, with
# the data already in memory. Writes estimates and SEs at full precision as JSON.
suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
step <- args[[1]]
csv_path <- args[[2]]
margins_path <- args[[3]]
out_path <- args[[4]]
seed <- if (length(args) >= 5) as.integer(args[[5]]) else 20261128L

covariates <- paste0("x", 1:6)
mean_formula <- as.formula(paste("~", paste(covariates, collapse = " + ")))
glm_formula <- as.formula(paste("y ~", paste(covariates, collapse = " + ")))
# Tighter than glm's default (1e-8): svyglm's sandwich uses the working weights of the last IRLS
# pass, so with the default its SEs are off by about 1e-5 relative from the converged fit. This
# costs R one more IRLS iteration; every side then reports the converged fit.
glm_control <- glm.control(epsilon = 1e-10, maxit = 100)

df <- read.csv(csv_path, colClasses = c(
  stratum = "integer", psu = "integer", w = "numeric", y = "numeric",
  x1 = "numeric", x2 = "numeric", x3 = "numeric", x4 = "numeric", x5 = "numeric", x6 = "numeric",
  domain = "integer", m1 = "integer", m2 = "integer", m3 = "integer"))
margins <- fromJSON(margins_path)

vm_hwm_mb <- function() {
  line <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}
vm_rss_mb <- function() {
  line <- grep("^VmRSS:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}
reset_hwm <- function() {
  ok <- tryCatch({ cat("5", file = "/proc/self/clear_refs"); TRUE }, error = function(e) FALSE)
  ok
}

make_design <- function() {
  svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)
}

population_margins <- function() {
  lapply(names(margins), function(m) {
    lv <- margins[[m]]
    out <- data.frame(as.integer(names(lv)), as.numeric(unlist(lv)))
    names(out) <- c(m, "Freq")
    out
  })
}

run_step <- function() {
  if (step == "mean6") {
    d <- make_design()
    r <- svymean(mean_formula, d)
    list(names = names(coef(r)), estimate = unname(coef(r)), se = unname(SE(r)))
  } else if (step == "domain_means") {
    d <- make_design()
    r <- svyby(mean_formula, ~domain, d, svymean)
    est <- coef(r)  # names "<domain>:<variable>"
    list(names = paste0("domain=", names(est)), estimate = unname(est), se = unname(as.vector(as.matrix(SE(r)))))  # SE: domains x variables
  } else if (step == "rake") {
    d <- make_design()
    pops <- population_margins()
    dr <- rake(d, lapply(names(margins), function(m) as.formula(paste("~", m))), pops,
               control = list(maxit = 100, epsilon = 1e-10, verbose = FALSE))
    r <- svymean(mean_formula, dr)
    list(names = names(coef(r)), estimate = unname(coef(r)), se = unname(SE(r)))
  } else if (step == "svyglm") {
    d <- make_design()
    fit <- svyglm(glm_formula, d, family = quasibinomial(), control = glm_control)
    list(names = names(coef(fit)), estimate = unname(coef(fit)), se = unname(SE(fit)))
  } else if (step == "bootstrap_svyglm") {
    set.seed(seed)
    d <- make_design()
    rd <- as.svrepdesign(d, type = "bootstrap", replicates = 100)
    fit <- svyglm(glm_formula, rd, family = quasibinomial(), control = glm_control)
    list(names = names(coef(fit)), estimate = unname(coef(fit)), se = unname(SE(fit)))
  } else {
    stop("unknown step: ", step)
  }
}

invisible(gc())
hwm_reset <- reset_hwm()
rss_before <- vm_rss_mb()
t0 <- proc.time()
res <- run_step()
t1 <- proc.time()
seconds <- t1[["elapsed"]] - t0[["elapsed"]]
cpu_seconds <- (t1[["user.self"]] + t1[["sys.self"]]) - (t0[["user.self"]] + t0[["sys.self"]])
peak <- vm_hwm_mb()

res$names <- sub("^\\(Intercept\\)$", "Intercept", res$names)
# jsonlite keeps 15 significant digits at most: write 17 as strings, which read back bit-identical.
res$estimate <- sprintf("%.17g", res$estimate)
res$se <- sprintf("%.17g", res$se)
out <- c(list(side = "r", step = step, rows = nrow(df), seconds = seconds, cpu_seconds = cpu_seconds,
              step_peak_mb = peak, rss_before_mb = rss_before,
              hwm_reset = hwm_reset,
              version = paste0("R ", getRversion(), ", survey ", packageVersion("survey"))),
         res)
write_json(out, out_path, digits = NA, auto_unbox = TRUE)
