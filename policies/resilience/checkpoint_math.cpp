// Checkpoint interval formulas and cost model (see checkpoint_math.hpp for the equations).
#include "policies/resilience/checkpoint_math.hpp"

#include <cmath>
#include <limits>

namespace frugal::policies {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kE = 2.718281828459045235360287;

}  // namespace

double lambert_w0(double x) {
  const double branch = -1.0 / kE;
  if (std::isnan(x) || x < branch - 1e-15) return std::nan("");
  if (x <= branch) return -1.0;
  if (x == 0) return 0;
  if (std::isinf(x)) return kInf;
  double w;
  if (x < -0.25) {
    // Series at the branch point (Corless, Gonnet, Hare, Jeffrey, Knuth, "On the Lambert W function", 1996): p = √(2(e·x + 1)).
    const double p = std::sqrt(2.0 * (kE * x + 1.0));
    w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p * p * p;
  } else if (x < 3) {
    w = std::log1p(x);  // W(x) ≈ x near 0, below log(1 + x) elsewhere on this range
  } else {
    const double l = std::log(x);
    w = l - std::log(l);  // asymptotic expansion for large x
  }
  // Halley's iteration on f(w) = w·e^w − x (cubic convergence).
  for (int i = 0; i < 64; ++i) {
    const double ew = std::exp(w);
    const double f = w * ew - x;
    const double wp1 = w + 1.0;
    if (wp1 == 0) break;
    const double step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1));
    w -= step;
    if (std::fabs(step) <= 4 * std::numeric_limits<double>::epsilon() * (1.0 + std::fabs(w))) break;
  }
  return w;
}

double young_interval_s(double c, double m) {
  if (!std::isfinite(m)) return kInf;
  return std::sqrt(2.0 * c * m);
}

double daly_interval_s(double c, double m) {
  if (!std::isfinite(m)) return kInf;
  if (c >= 2.0 * m) return m;
  const double r = c / (2.0 * m);
  return std::sqrt(2.0 * c * m) * (1.0 + std::sqrt(r) / 3.0 + r / 9.0) - c;
}

double exact_interval_s(double c, double m) {
  if (!std::isfinite(m)) return kInf;
  if (c <= 0) return 0;
  const double a = c / m;
  // y = 1 + W₀(−e^{−1−a}) solves g(y) = ln(1 − y) + y + a = 0 on (0, 1). Start from the
  // branch-point series with p = √(2(1 − e^{−a})) (= √(2(e·x + 1)) for x = −e^{−1−a}).
  const double p = std::sqrt(-2.0 * std::expm1(-a));
  double y = p - p * p / 3.0 + 11.0 / 72.0 * p * p * p;
  if (!(y > 0 && y < 1)) y = 1.0 - std::exp(-1.0 - a);  // large a: y → 1
  // Halley on g: g' = −y/(1 − y), g'' = −1/(1 − y)².
  for (int i = 0; i < 64; ++i) {
    const double g = std::log1p(-y) + y + a;
    const double g1 = -y / (1.0 - y);
    const double g2 = -1.0 / ((1.0 - y) * (1.0 - y));
    double step = 2.0 * g * g1 / (2.0 * g1 * g1 - g * g2);
    double next = y - step;
    if (!(next > 0 && next < 1)) next = next <= 0 ? y / 2 : (1.0 + y) / 2;  // stay inside (0, 1)
    step = y - next;
    y = next;
    if (std::fabs(step) <= 4 * std::numeric_limits<double>::epsilon() * y) break;
  }
  return m * y;
}

double expected_completion_s(double w, double c, double r, double d, double m) {
  if (!std::isfinite(m)) return w + c;
  const double lambda = 1.0 / m;
  return std::exp(lambda * r) * (m + d) * std::expm1(lambda * (w + c));
}

double first_order_waste(double t, double c, double r, double d, double m) {
  return c / t + (d + r + t / 2.0) / m;
}

double job_mtbf_s(double component_mtbf_s, double components) { return component_mtbf_s / components; }

double posterior_mtbf_s(double prior_mtbf_s, double prior_weight, double failures, double exposure_s) {
  if (prior_weight > 0 && std::isfinite(prior_mtbf_s) && prior_mtbf_s > 0)
    return (prior_weight * prior_mtbf_s + exposure_s) / (prior_weight + failures);
  return failures > 0 ? exposure_s / failures : kInf;
}

}  // namespace frugal::policies
