// Closed forms of checkpoint/restart under exponential failures (shared/REFERENCE.md, "Failures
// and checkpointing"): optimal intervals (Young 1974, Daly 2006, exact Lambert-W optimum),
// expected completion time, first-order waste, and the MTBF estimate of the adaptive policy.
// Notation: C checkpoint cost, R restart (reload) cost, D downtime, M job MTBF, λ = 1/M; all s.
#pragma once

namespace frugal::policies {

/// Principal branch W₀ of the Lambert W function (w·e^w = x, w ≥ −1) for x ≥ −1/e, by Halley
/// iteration from a branch-point series (x near −1/e) or a logarithmic guess; |rel. error| ~ 1e-15.
/// Returns NaN for x < −1/e (beyond rounding).
double lambert_w0(double x);

/// Young (1974): τ = √(2·C·M). C ≥ 0, M > 0 (M = ∞ → ∞).
double young_interval_s(double checkpoint_s, double mtbf_s);

/// Daly (2006), higher order: τ = √(2CM)·[1 + (1/3)√(C/(2M)) + (1/9)(C/(2M))] − C for C < 2M,
/// else τ = M. Test vectors (C = 5 min): M = 1440 min → 116.69 min, 360 → 56.71, 15 → 9.14.
double daly_interval_s(double checkpoint_s, double mtbf_s);

/// Exact optimum of the same expected cost (minimising (e^{(τ+C)/M} − 1)/τ exactly):
/// τ* = M·[1 + W₀(−e^{−(1 + C/M)})]; C = 5 min, M = 15 min → 9.17 min. Computed as M·y with
/// y the root of ln(1 − y) + y = −C/M (the same equation, without the cancellation of 1 + W₀
/// near the branch point when C ≪ M).
double exact_interval_s(double checkpoint_s, double mtbf_s);

/// Expected wall time to finish `work_s` of work followed by one checkpoint, with exponential
/// failures of mean M, a restart cost R and downtime D after each failure (Hérault & Robert,
/// "Fault-Tolerance Techniques for HPC", 2015; Daly 2006 for D = 0):
/// E = e^{λR}·(1/λ + D)·(e^{λ(W+C)} − 1). M = ∞ → W + C.
double expected_completion_s(double work_s, double checkpoint_s, double restart_s, double downtime_s, double mtbf_s);

/// First-order waste fraction of periodic checkpointing with period T: C/T + (D + R + T/2)/M.
double first_order_waste(double interval_s, double checkpoint_s, double restart_s, double downtime_s, double mtbf_s);

/// Job MTBF of `components` independent components of MTBF `component_mtbf_s`: μ/N.
double job_mtbf_s(double component_mtbf_s, double components);

/// MTBF estimate after observing `failures` interruptions in `exposure_s` seconds, with a prior
/// worth `prior_weight` pseudo-failures at mean `prior_mtbf_s` (conjugate Gamma prior on the
/// rate λ; the posterior-mean rate gives M̂ = (w·M₀ + T)/(w + n), which tends to the maximum
/// likelihood estimate T/n as failures accumulate). Without a usable prior (w ≤ 0 or M₀ not
/// finite): T/n, or ∞ while n = 0.
double posterior_mtbf_s(double prior_mtbf_s, double prior_weight, double failures, double exposure_s);

}  // namespace frugal::policies
