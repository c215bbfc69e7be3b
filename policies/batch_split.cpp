// Proportional batch split with largest-remainder rounding; micro-batches of a replica's share.
#include "policies/batch_split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "sim/core/error.hpp"

namespace frugal::policies {

std::vector<std::int64_t> split_proportional(std::int64_t total, const std::vector<double>& speeds,
                                             std::int64_t min_samples) {
  const auto n = static_cast<std::int64_t>(speeds.size());
  if (n == 0) throw std::invalid_argument("no replicas to split the batch over");
  if (total < min_samples * n)
    throw std::invalid_argument("global batch (" + std::to_string(total) + ") < " + std::to_string(n) +
                                " replicas × " + std::to_string(min_samples) + " sample(s)");
  double sum = 0;
  for (double s : speeds) {
    if (!(s > 0)) throw std::invalid_argument("replica speeds must be positive");
    sum += s;
  }
  // Give each replica its minimum, then share the rest by speed.
  const std::int64_t rest = total - min_samples * n;
  std::vector<std::int64_t> out(speeds.size(), min_samples);
  std::vector<double> remainder(speeds.size());
  std::int64_t given = 0;
  for (std::size_t i = 0; i < speeds.size(); ++i) {
    const double exact = static_cast<double>(total) * speeds[i] / sum - static_cast<double>(min_samples);
    const double share = std::clamp(exact, 0.0, static_cast<double>(rest));
    const auto whole = static_cast<std::int64_t>(std::floor(share));
    out[i] += whole;
    given += whole;
    remainder[i] = share - static_cast<double>(whole);
  }
  // Hand out what is left (can be negative when clamping over-assigned) by remainder order.
  std::vector<std::size_t> order(speeds.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  std::int64_t left = rest - given;
  for (std::size_t k = 0; left > 0; k = (k + 1) % order.size(), --left) ++out[order[k]];
  for (std::size_t k = order.size(); left < 0;) {
    k = (k == 0 ? order.size() : k) - 1;
    if (out[order[k]] > min_samples) { --out[order[k]]; ++left; }
  }
  return out;
}

std::vector<std::int64_t> micro_batches_of(std::int64_t samples, std::int64_t micro_batch_size) {
  if (micro_batch_size <= 0) throw std::invalid_argument("micro-batch size must be positive");
  std::vector<std::int64_t> out;
  for (std::int64_t left = samples; left > 0; left -= micro_batch_size)
    out.push_back(std::min(left, micro_batch_size));
  return out;
}

std::vector<std::int64_t> split_by_speed(std::int64_t global_batch_size, std::int64_t micro_batch_size,
                                         const std::vector<double>& speeds, const std::string& replicas_note) {
  const auto replicas = static_cast<std::int64_t>(speeds.size());
  if (global_batch_size < micro_batch_size * replicas)
    throw core::ConfigError(
        "", "/training/micro_batch_size",
        "micro_batch_size (" + std::to_string(micro_batch_size) + ") × data-parallel size (" + std::to_string(replicas) +
            ")" + replicas_note + " = " + std::to_string(micro_batch_size * replicas) + " > global_batch_size (" +
            std::to_string(global_batch_size) + "): every replica needs at least one full micro-batch");
  return split_proportional(global_batch_size, speeds, micro_batch_size);
}

void check_schedule_size(const std::vector<std::int64_t>& samples, std::int64_t micro_batch_size,
                         std::int64_t ranks_per_replica, std::int64_t chain_layers) {
  if (micro_batch_size <= 0) throw std::invalid_argument("micro-batch size must be positive");
  std::int64_t most = 0, listed = 0;  // samples ≤ 2^24, ranks ≤ 2^20: no overflow
  for (const std::int64_t s : samples) {
    const std::int64_t m = (s + micro_batch_size - 1) / micro_batch_size;
    most = std::max(most, m);
    listed += m * ranks_per_replica;
  }
  const std::string advice = ": use a larger micro_batch_size, or more data-parallel replicas";
  if (most * chain_layers > kMaxLayerPasses)
    throw core::ConfigError("", "/training/global_batch_size",
                            std::to_string(most) + " micro-batches per replica through " + std::to_string(chain_layers) +
                                " layers = " + std::to_string(most * chain_layers) + " layer passes, more than the " +
                                std::to_string(kMaxLayerPasses) + " one simulation lowers" + advice);
  if (listed > kMaxPlannedMicroBatches)
    throw core::ConfigError("", "/training/global_batch_size",
                            std::to_string(listed) + " micro-batches over all ranks, more than the " +
                                std::to_string(kMaxPlannedMicroBatches) + " one simulation plans" + advice);
}

}  // namespace frugal::policies
