#!/usr/bin/env Rscript
# Reference values from R/metafor for evtreport.meta (tests/test_meta.py).
#
# Usage (from the repository root):
#   Rscript tests/reference/metafor_reference.R tests/reference
#
# Reads   <dir>/datasets.csv         (single-arm: dataset, study, group, events, total)
#         <dir>/datasets_twoarm.csv  (two-arm: dataset, study, group, events_t, total_t, events_c, total_c)
# Writes  <dir>/datasets_simulated.csv, <dir>/datasets_twoarm_simulated.csv (fixed-seed simulations)
#         <dir>/ref_pooled.csv    pooled results, every dataset x effect x model x tau2 x ci
#         <dir>/ref_studies.csv   per-study yi, vi and back-transformed estimate and z CI
#         <dir>/ref_weights.csv   per-study weights (%) of every fit in ref_pooled.csv
#         <dir>/ref_loo.csv       leave-one-out refits
#         <dir>/ref_subgroup.csv  per-subgroup fits and the test for subgroup differences
#         <dir>/versions.csv      R and metafor versions
# All numbers are written with 15 significant digits.

suppressPackageStartupMessages(library(metafor))

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference"

# Precise estimation: Fisher scoring (REML) stops when the change in tau2 is < threshold;
# uniroot (PM) uses tol. metafor's defaults (1e-5, ~1.2e-4) are too loose for 1e-6 checks.
CTRL <- list(tol = 1e-12, threshold = 1e-12, maxiter = 1000, tau2.max = 1e4)
ALPHA <- 0.05

TRANSFORMS <- c(logit = "PLO", ft = "PFT", raw = "PR")
MEASURES <- c("RD", "RR", "OR")
MODELS <- c("fixed", "random")
TAU2 <- c("DL", "REML", "PM")
CIS <- c(z = "z", hksj = "knha", "hksj-adhoc" = "adhoc")

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
write_ref <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(outdir, name), row.names = FALSE, quote = FALSE)
}

# ---------------------------------------------------------------- input datasets
single <- read.csv(file.path(outdir, "datasets.csv"), stringsAsFactors = FALSE, na.strings = "")
two <- read.csv(file.path(outdir, "datasets_twoarm.csv"), stringsAsFactors = FALSE, na.strings = "")

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240611)
k <- 200  # large k, log-uniform sizes 10..3000, true logit proportions N(logit 0.25, 0.6^2)
ni <- round(exp(runif(k, log(10), log(3000))))
xi <- rbinom(k, ni, plogis(rnorm(k, qlogis(0.25), 0.6)))
sim1 <- data.frame(dataset = "large200", study = sprintf("S%03d", 1:k), group = NA,
                   events = xi, total = ni)
k <- 100  # two-arm, log-OR N(0.4, 0.3^2), control risk U(0.05, 0.5)
n1 <- round(exp(runif(k, log(20), log(800))))
n2 <- round(n1 * runif(k, 0.8, 1.25))
pc <- runif(k, 0.05, 0.5)
pt <- plogis(qlogis(pc) + rnorm(k, 0.4, 0.3))
sim2 <- data.frame(dataset = "large100t", study = sprintf("S%03d", 1:k), group = NA,
                   events_t = rbinom(k, n1, pt), total_t = n1,
                   events_c = rbinom(k, n2, pc), total_c = n2)
write.csv(sim1, file.path(outdir, "datasets_simulated.csv"), row.names = FALSE, quote = FALSE, na = "")
write.csv(sim2, file.path(outdir, "datasets_twoarm_simulated.csv"), row.names = FALSE, quote = FALSE, na = "")
single <- rbind(single, sim1)
two <- rbind(two, sim2)

# ---------------------------------------------------------------- helpers
# Per-study effects with escalc defaults (add = 1/2, to = "only0"; add = 0 for PFT).
effects <- function(d, effect) {
  if (effect %in% names(TRANSFORMS)) {
    escalc(TRANSFORMS[[effect]], xi = d$events, ni = d$total)
  } else {
    escalc(effect, ai = d$events_t, n1i = d$total_t, ci = d$events_c, n2i = d$total_c)
  }
}

# Back-transformation of pooled values (ni: all study sizes, for transf.ipft.hm).
back_pooled <- function(x, effect, ni) {
  switch(effect,
         logit = transf.ilogit(x),
         ft = transf.ipft.hm(x, targs = list(ni = ni)),
         raw = x, RD = x, RR = exp(x), OR = exp(x))
}

# Back-transformation of each study's own values (FT with the study's own size).
back_study <- function(x, effect, ni) {
  if (effect == "ft") transf.ipft(x, ni) else back_pooled(x, effect, ni)
}

# One meta-analysis; i2_q is the Q-based I² (what metafor reports for method = "FE").
# k = 1: the study itself (common-effect fit of one study = yi, sqrt(vi),
# z CI); heterogeneity undefined.
fit <- function(es, ni, effect, model, tau2, ci) {
  k <- nrow(es)
  if (k == 1) {
    res <- rma(yi, vi, data = es, method = "FE")
    pr <- predict(res, transf = function(x) back_pooled(x, effect, ni))
    return(list(pooled = data.frame(
      k = 1, estimate = pr$pred, ci_low = pr$ci.lb, ci_high = pr$ci.ub, pi_low = NA, pi_high = NA,
      mu = c(res$beta), se = res$se, pval = res$pval, tau2 = 0, i2 = NA, i2_q = NA, h2 = NA,
      q = NA, q_df = 0, q_p = NA), weight = 100))
  }
  method <- if (model == "fixed") "FE" else tau2
  res <- suppressWarnings(rma(yi, vi, data = es, method = method, test = CIS[[ci]], control = CTRL))
  pr <- predict(res)
  bt <- function(x) back_pooled(x, effect, ni)
  # Prediction interval of Higgins et al. (2009) / Riley et al. (2011): t with k-2 df on
  # metafor's own estimate, SE and tau2 (metafor 3.8's predict() uses z or t(k-1)); none for k < 3.
  pi_low <- pi_high <- NA
  if (model == "random" && k >= 3) {
    half <- qt(1 - ALPHA / 2, k - 2) * sqrt(res$tau2 + res$se^2)
    pi_low <- bt(c(res$beta) - half)
    pi_high <- bt(c(res$beta) + half)
  }
  list(pooled = data.frame(
    k = k, estimate = bt(pr$pred), ci_low = bt(pr$ci.lb), ci_high = bt(pr$ci.ub),
    pi_low = pi_low, pi_high = pi_high, mu = c(res$beta), se = res$se, pval = res$pval,
    tau2 = res$tau2, i2 = res$I2, i2_q = max(0, 100 * (res$QE - (k - 1)) / res$QE), h2 = res$H2, q = res$QE, q_df = k - 1,
    q_p = res$QEp), weight = unname(weights(res)))
}

combos <- expand.grid(ci = names(CIS), tau2 = TAU2, model = MODELS, stringsAsFactors = FALSE)

pooled <- list(); studies <- list(); weights <- list(); loo <- list(); subgroup <- list()
run <- function(data, effects_list) {
  for (ds in unique(data$dataset)) {
    d <- data[data$dataset == ds, ]
    ni <- if ("total" %in% names(d)) d$total else d$total_t + d$total_c
    has_groups <- any(!is.na(d$group))
    for (effect in effects_list) {
      es <- effects(d, effect)
      ses <- summary(es)
      studies[[length(studies) + 1]] <<- data.frame(
        dataset = ds, effect = effect, study = d$study, yi = c(es$yi), vi = c(es$vi),
        estimate = back_study(c(es$yi), effect, ni), ci_low = back_study(ses$ci.lb, effect, ni),
        ci_high = back_study(ses$ci.ub, effect, ni))
      for (j in seq_len(nrow(combos))) {
        cb <- combos[j, ]
        key <- data.frame(dataset = ds, effect = effect, model = cb$model, tau2_method = cb$tau2,
                          ci = cb$ci)
        f <- fit(es, ni, effect, cb$model, cb$tau2, cb$ci)
        pooled[[length(pooled) + 1]] <<- cbind(key, f$pooled)
        weights[[length(weights) + 1]] <<- cbind(key, study = d$study, weight = f$weight)
        if (ds %in% c("icass", "zeros", "dmvo", "rct", "zeros2")) {
          for (i in seq_len(nrow(d))) {
            fi <- fit(es[-i, ], ni[-i], effect, cb$model, cb$tau2, cb$ci)$pooled
            loo[[length(loo) + 1]] <<- cbind(key, omitted = d$study[i],
              fi[, c("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                     "i2_q", "q", "q_p")])
          }
        }
        if (has_groups) {
          groups <- unique(d$group)
          mu <- se <- numeric(0)
          for (g in groups) {
            sel <- d$group == g
            fg <- fit(es[sel, ], ni[sel], effect, cb$model, cb$tau2, cb$ci)$pooled
            mu <- c(mu, fg$mu); se <- c(se, fg$se)
            subgroup[[length(subgroup) + 1]] <<- cbind(key, group = g,
              fg[, c("k", "estimate", "ci_low", "ci_high", "mu", "se", "tau2", "i2")],
              q_between = NA, q_between_df = NA, q_between_p = NA)
          }
          # Test for subgroup differences: common-effect Q across the subgroup estimates.
          tb <- rma(yi = mu, sei = se, method = "FE")
          subgroup[[length(subgroup) + 1]] <<- cbind(key, group = "(between)",
            data.frame(k = nrow(d), estimate = NA, ci_low = NA, ci_high = NA, mu = NA, se = NA,
                       tau2 = NA, i2 = NA, q_between = tb$QE, q_between_df = length(groups) - 1,
                       q_between_p = tb$QEp))
        }
      }
    }
  }
}
run(single, names(TRANSFORMS))
run(two, MEASURES)

write_ref(do.call(rbind, pooled), "ref_pooled.csv")
write_ref(do.call(rbind, studies), "ref_studies.csv")
write_ref(do.call(rbind, weights), "ref_weights.csv")
write_ref(do.call(rbind, loo), "ref_loo.csv")
write_ref(do.call(rbind, subgroup), "ref_subgroup.csv")
write.csv(data.frame(software = c("R", "metafor"),
                     version = c(paste(R.version$major, R.version$minor, sep = "."),
                                 as.character(packageVersion("metafor")))),
          file.path(outdir, "versions.csv"), row.names = FALSE, quote = FALSE)
