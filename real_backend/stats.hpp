// Order statistics of repeated timings (the benchmark and measurement summaries).
#pragma once

#include <vector>

#include "sim/core/json_reader.hpp"

namespace frugal::real {

struct Summary {
  int count = 0;
  double min = 0, p10 = 0, median = 0, p90 = 0, max = 0, mean = 0;
};

/// Percentiles by linear interpolation between order statistics; all zero when `values` is empty.
Summary summarize(std::vector<double> values);
/// {"count", "min", "p10", "median", "p90", "max", "mean"}.
core::Json to_json(const Summary& s);

}  // namespace frugal::real
