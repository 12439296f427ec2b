#!/usr/bin/env Rscript
# Reference values from R/bayesmeta for evtreport.bayes (tests/test_bayes.py).
#
# Usage (from the repository root):
#   Rscript tests/reference/bayes/bayesmeta_reference.R tests/reference/bayes
#
# Reads   <dir>/datasets.csv   dataset, measure, study, events_t, total_t, events_c, total_c
#                              (crins* = Crins et al. 2014 as in Röver 2020, JSS 93(6), Table 3)
# Writes  <dir>/ref_bayes.csv  one row per (fit, quantity): central quantiles, means,
#                              probabilities and shrunken trial quantiles
#         <dir>/versions.csv   R, metafor and bayesmeta versions, DIRECT tuning
#
# Needs metafor and bayesmeta. bayesmeta is on CRAN but not packaged by Debian (nor is its
# dependency forestplot), so `make test` does not install it and the test that re-runs this
# script skips without it. bayesmeta() itself needs neither forestplot nor mvtnorm: with
# BAYESMETA_R=<path to bayesmeta's R/bayesmeta.R> the script sources that file instead of
# loading the package (BAYESMETA_VERSION names its version); the committed values were made
# that way from bayesmeta 3.4 (its R/bayesmeta.R from CRAN's GitHub mirror cran/bayesmeta; 16 CPU
# minutes).
#
# bayesmeta approximates the effect's marginal by a normal mixture (DIRECT algorithm, Röver &
# Friede 2017); DELTA and EPSILON below are 10^4 times tighter than its defaults (0.01, 1e-4),
# which brings its mixture error to about 4e-7 for mu and 1.3e-6 for the trials' shrunken
# effects (tolerances in tests/test_bayes.py). tau quantities are
# integrated directly (integrate(), rel.tol ~ 1.5e-11). All numbers with 15 significant digits.

suppressPackageStartupMessages(library(metafor))
src <- Sys.getenv("BAYESMETA_R")
if (nzchar(src)) {
  source(src)
  bm_version <- Sys.getenv("BAYESMETA_VERSION", "source")
} else {
  suppressPackageStartupMessages(library(bayesmeta))
  bm_version <- as.character(packageVersion("bayesmeta"))
}

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/bayes"
DELTA <- 1e-6
EPSILON <- 1e-8
P <- c(q025 = 0.025, q50 = 0.5, q975 = 0.975)
num <- function(x) sprintf("%.15g", x)
halfnormal <- function(scale) function(t) ifelse(t < 0, 0, 2 * dnorm(t, sd = scale))

d <- read.csv(file.path(outdir, "datasets.csv"), stringsAsFactors = FALSE, check.names = FALSE)

# Fits: every dataset with half-normal scales 0.5 and 1.0 and the uniform effect prior, except
# the risk-difference set (scales 0.5 and 1.0 times p(1-p) at its pooled control risk, see
# evtreport.bayes.rd_tau_scale); plus the JSS example (crins6, normal(0, 4^2) effect prior).
fits <- list()
for (ds in unique(d$dataset)) {
  x <- d[d$dataset == ds, ]
  pc <- sum(x$events_c) / sum(x$total_c)
  scales <- if (x$measure[1] == "RD") c(0.5, 1.0) * pc * (1 - pc) else c(0.5, 1.0)
  for (s in scales) fits[[length(fits) + 1]] <- list(ds = ds, scale = s, mu_sd = NA)
}
fits[[length(fits) + 1]] <- list(ds = "crins6", scale = 0.5, mu_sd = 4)

rows <- list()
for (f in fits) {
  x <- d[d$dataset == f$ds, ]
  es <- escalc(x$measure[1], ai = x$events_t, n1i = x$total_t, ci = x$events_c, n2i = x$total_c)
  ma <- bayesmeta(y = c(es$yi), sigma = sqrt(c(es$vi)), labels = x$study,
                  tau.prior = halfnormal(f$scale),
                  mu.prior.mean = if (is.na(f$mu_sd)) NA else 0, mu.prior.sd = f$mu_sd,
                  interval.type = "central", delta = DELTA, epsilon = EPSILON)
  q <- list(
    tau = ma$qposterior(tau.p = P), mu = ma$qposterior(mu.p = P),
    pred = ma$qposterior(mu.p = P, predict = TRUE))
  val <- c(setNames(q$tau, paste0("tau_", names(P))), setNames(q$mu, paste0("mu_", names(P))),
           setNames(q$pred, paste0("pred_", names(P))),
           tau_mean = ma$summary["mean", "tau"], mu_mean = ma$summary["mean", "mu"],
           mu_sd = ma$summary["sd", "mu"],
           p_mu_below_0 = ma$pposterior(mu = 0), p_mu_below_log08 = ma$pposterior(mu = log(0.8)),
           p_mu_above_log125 = 1 - ma$pposterior(mu = log(1.25)),
           p_tau_below_05 = ma$pposterior(tau = 0.5))
  for (i in seq_len(nrow(x))) {
    qi <- ma$qposterior(theta.p = P, individual = i)
    val <- c(val, setNames(qi, paste0("theta", i, "_", names(P))))
  }
  rows[[length(rows) + 1]] <- data.frame(
    dataset = f$ds, measure = x$measure[1], tau_scale = num(f$scale),
    mu_prior_sd = ifelse(is.na(f$mu_sd), "NA", num(f$mu_sd)), quantity = names(val), value = num(val))
}
write.csv(do.call(rbind, rows), file.path(outdir, "ref_bayes.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(software = c("R", "metafor", "bayesmeta", "delta", "epsilon"),
                     version = c(paste(R.version$major, R.version$minor, sep = "."),
                                 as.character(packageVersion("metafor")), bm_version,
                                 num(DELTA), num(EPSILON))),
          file.path(outdir, "versions.csv"), row.names = FALSE, quote = FALSE)
