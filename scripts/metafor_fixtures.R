# Reference values for ivcdb.meta.rma from R's metafor (tests/test_meta.py reads them).
#
#   Rscript scripts/metafor_fixtures.R [OUT_DIR]     # default: tests/data/metafor
#
# For each example data set shipped with metafor (its metadat package) it writes OUT_DIR/NAME.json:
# the effect sizes (yi, vi) and, for REML, DL and PM with test "z" and "knha", every result of
# rma() and predict(): with the tight control the issue asks for (REML: threshold 1e-12,
# stepadj 0.5, maxiter 10000) and REML with metafor's default control. No R package beyond
# metafor is needed (the JSON is written by hand), so CI's r-cran-metafor is enough.

suppressPackageStartupMessages(library(metafor))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else file.path("tests", "data", "metafor")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

num <- function(x) {
  if (length(x) == 1 && (is.null(x) || is.na(x))) return("null")
  paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ", "), "]")
}
one <- function(x) if (is.null(x) || is.na(x)) "null" else sprintf("%.17g", x)
str <- function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\"")
obj <- function(fields) {
  paste0("{", paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", "), "}")
}

tight <- list(threshold = 1e-12, stepadj = 0.5, maxiter = 10000)

fit <- function(yi, vi, method, test, control_name) {
  control <- if (control_name == "tight") tight else list()
  res <- rma(yi, vi, method = method, test = test, control = control)
  pred <- predict(res)
  obj(list(
    method = str(method), test = str(test), control = str(control_name),
    estimate = one(res$beta[1]), se = one(res$se), stat = one(res$zval), p = one(res$pval),
    ci_low = one(res$ci.lb), ci_high = one(res$ci.ub),
    pi_low = one(pred$pi.lb), pi_high = one(pred$pi.ub),
    tau2 = one(res$tau2), se_tau2 = one(res$se.tau2), i2 = one(res$I2), h2 = one(res$H2),
    q = one(res$QE), q_p = one(res$QEp), weights = num(weights(res))
  ))
}

write_set <- function(name, dataset, measure, dat, inputs) {
  yi <- as.numeric(dat$yi)
  vi <- as.numeric(dat$vi)
  fits <- c()
  for (method in c("REML", "DL", "PM")) {
    for (test in c("z", "knha")) fits <- c(fits, fit(yi, vi, method, test, "tight"))
  }
  for (test in c("z", "knha")) fits <- c(fits, fit(yi, vi, "REML", test, "default"))
  inputs_json <- obj(lapply(inputs, num))
  text <- paste0(
    "{\n",
    "  \"dataset\": ", str(dataset), ",\n",
    "  \"measure\": ", str(measure), ",\n",
    "  \"metafor\": ", str(as.character(packageVersion("metafor"))), ",\n",
    "  \"inputs\": ", inputs_json, ",\n",
    "  \"yi\": ", num(yi), ",\n",
    "  \"vi\": ", num(vi), ",\n",
    "  \"fits\": [\n    ", paste(fits, collapse = ",\n    "), "\n  ]\n}\n")
  writeLines(text, file.path(out_dir, paste0(name, ".json")), sep = "")
}

# BCG vaccine trials: log risk ratios from 2x2 tables.
d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
write_set("bcg", "dat.bcg", "RR", d, list())

# Aneurysm surgery success: logit proportions, two studies with every event (1/2 added).
d <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
write_set("pritz1997", "dat.pritz1997", "PLO", d, list(xi = d$xi, ni = d$ni))

# Stroke care length of stay: raw mean differences.
d <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
            n2i = n2i, data = dat.normand1999)
write_set("normand1999", "dat.normand1999", "MD", d, list())

# Passive smoking and lung cancer: log odds ratios as published (with their CIs).
d <- dat.hackshaw1998
write_set("hackshaw1998", "dat.hackshaw1998", "OR", d,
          list(or = d$or, or_lb = d$or.lb, or_ub = d$or.ub))

# Conscientiousness and adherence: Fisher-z correlations.
d <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
write_set("molloy2014", "dat.molloy2014", "ZCOR", d, list())

# Thrombolytic therapy: risk differences with little heterogeneity (DL and PM truncate at 0).
d <- escalc(measure = "RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.hine1989)
write_set("hine1989", "dat.hine1989", "RD", d, list())
