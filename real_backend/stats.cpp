// Order statistics (contract in stats.hpp).
#include "real_backend/stats.hpp"

#include <algorithm>
#include <numeric>

namespace frugal::real {
namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

Summary summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.count = static_cast<int>(values.size());
  s.min = values.front();
  s.max = values.back();
  s.p10 = percentile(values, 0.1);
  s.median = percentile(values, 0.5);
  s.p90 = percentile(values, 0.9);
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return s;
}

core::Json to_json(const Summary& s) {
  return core::Json{{"count", s.count}, {"min", s.min}, {"p10", s.p10}, {"median", s.median},
                    {"p90", s.p90},     {"max", s.max}, {"mean", s.mean}};
}

}  // namespace frugal::real
