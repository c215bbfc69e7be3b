// Checkpoint formulas against shared/REFERENCE.md test vectors, Boost's Lambert W, a numeric
// minimisation, and a Monte Carlo run of the restart process behind the expected-time formula.
#include <gtest/gtest.h>

#include <boost/math/special_functions/lambert_w.hpp>
#include <cmath>

#include "platforms/availability/random.hpp"
#include "policies/resilience/checkpoint_math.hpp"

namespace frugal::policies {
namespace {

constexpr double kMin = 60.0;

TEST(CheckpointMath, YoungAndDalyReferenceVectors) {
  EXPECT_NEAR(young_interval_s(5 * kMin, 1440 * kMin) / kMin, 120.0, 1e-9);
  EXPECT_NEAR(daly_interval_s(5 * kMin, 1440 * kMin) / kMin, 116.69, 0.005);
  EXPECT_NEAR(daly_interval_s(5 * kMin, 360 * kMin) / kMin, 56.71, 0.005);
  EXPECT_NEAR(daly_interval_s(5 * kMin, 15 * kMin) / kMin, 9.14, 0.005);
  EXPECT_NEAR(exact_interval_s(5 * kMin, 15 * kMin) / kMin, 9.17, 0.005);
  EXPECT_DOUBLE_EQ(daly_interval_s(30, 10), 10);  // C ≥ 2M: τ = M
  EXPECT_TRUE(std::isinf(young_interval_s(60, INFINITY)));
  EXPECT_TRUE(std::isinf(daly_interval_s(60, INFINITY)));
  EXPECT_TRUE(std::isinf(exact_interval_s(60, INFINITY)));
}

TEST(CheckpointMath, LambertW0MatchesBoostAndItsDefinition) {
  EXPECT_DOUBLE_EQ(lambert_w0(0), 0);
  EXPECT_DOUBLE_EQ(lambert_w0(-std::exp(-1.0)), -1);
  EXPECT_NEAR(lambert_w0(std::exp(1.0)), 1, 1e-15);
  EXPECT_TRUE(std::isnan(lambert_w0(-0.5)));
  for (double x : {-0.367879, -0.36, -0.3, -0.2, -1e-6, 1e-8, 0.5, 1.0, 2.9, 3.1, 10.0, 1e3, 1e10, 1e300}) {
    const double w = lambert_w0(x);
    EXPECT_NEAR(w, boost::math::lambert_w0(x), 1e-13 * (1 + std::fabs(w))) << x;
    if (x > -0.3 && x < 1e300) {
      EXPECT_NEAR(w * std::exp(w), x, 1e-14 * std::fabs(x)) << x;
    }
  }
}

TEST(CheckpointMath, ExactIntervalIsTheLambertFormAndMinimisesTheCost) {
  for (double a : {1e-8, 1e-4, 0.01, 0.3, 1.0, 5.0}) {
    const double m = 3600, c = a * m;
    const double tau = exact_interval_s(c, m);
    if (a >= 1e-4) {
      EXPECT_NEAR(tau, m * (1 + lambert_w0(-std::exp(-(1 + a)))), 1e-9 * m) << a;
    }
    // Expected time per unit of work: E(τ)/τ with E from the completion-time formula.
    const auto cost = [&](double t) { return expected_completion_s(t, c, 0, 0, m) / t; };
    EXPECT_LE(cost(tau), cost(tau * 1.001)) << a;
    EXPECT_LE(cost(tau), cost(tau * 0.999)) << a;
  }
  // Small C/M: Young, Daly and exact agree to first order.
  EXPECT_NEAR(exact_interval_s(1, 1e6) / young_interval_s(1, 1e6), 1.0, 1e-3);
}

TEST(CheckpointMath, ExpectedCompletionMatchesMonteCarlo) {
  // The process behind E = e^{λR}(1/λ + D)(e^{λ(W+C)} − 1): attempt W + C; a failure loses the
  // attempt, costs D, then a restart R that failures may also interrupt (each costing D again).
  const double w = 3000, c = 120, r = 300, d = 60, m = 2000;
  platforms::Rng rng(2024);
  const int runs = 200000;
  double total = 0, total_sq = 0;
  for (int i = 0; i < runs; ++i) {
    double t = 0;
    for (;;) {
      const double x = rng.exponential(m);
      if (x >= w + c) {
        t += w + c;
        break;
      }
      t += x + d;
      for (;;) {  // restart, itself interruptible
        const double y = rng.exponential(m);
        if (y >= r) {
          t += r;
          break;
        }
        t += y + d;
      }
    }
    total += t;
    total_sq += t * t;
  }
  const double mean = total / runs;
  const double sem = std::sqrt((total_sq / runs - mean * mean) / runs);
  const double e = expected_completion_s(w, c, r, d, m);
  EXPECT_NEAR(mean, e, 3 * sem) << "formula " << e << ", Monte Carlo " << mean << " ± " << sem;
  EXPECT_DOUBLE_EQ(expected_completion_s(w, c, r, d, INFINITY), w + c);
}

TEST(CheckpointMath, FirstOrderWasteIsMinimalNearYoung) {
  const double c = 60, m = 86400, tau = young_interval_s(c, m);
  EXPECT_LT(first_order_waste(tau, c, 0, 0, m), first_order_waste(tau * 1.05, c, 0, 0, m));
  EXPECT_LT(first_order_waste(tau, c, 0, 0, m), first_order_waste(tau * 0.95, c, 0, 0, m));
  EXPECT_DOUBLE_EQ(first_order_waste(100, 10, 20, 30, 1000), 10.0 / 100 + (30 + 20 + 50) / 1000.0);
  EXPECT_DOUBLE_EQ(job_mtbf_s(50000 * 3600.0, 1000), 180000);
}

TEST(CheckpointMath, PosteriorMtbf) {
  EXPECT_DOUBLE_EQ(posterior_mtbf_s(1000, 1, 0, 0), 1000);      // prior alone
  EXPECT_DOUBLE_EQ(posterior_mtbf_s(1000, 1, 3, 5000), 1500);   // (1000 + 5000) / (1 + 3)
  EXPECT_DOUBLE_EQ(posterior_mtbf_s(INFINITY, 1, 4, 8000), 2000);  // no usable prior: T / n
  EXPECT_TRUE(std::isinf(posterior_mtbf_s(0, 0, 0, 100)));
}

}  // namespace
}  // namespace frugal::policies
