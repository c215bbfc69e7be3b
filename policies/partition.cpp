// Balanced pipeline partitioning by dynamic programming, and a brute-force reference.
#include "policies/partition.hpp"

#include <algorithm>
#include <functional>
#include <limits>

namespace frugal::policies {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double stage_memory(const PartitionProblem& p, int s, int a, int b) {
  double m = 0;
  for (int l = a; l < b; ++l) m += p.layer_memory_bytes[static_cast<std::size_t>(s)][static_cast<std::size_t>(l)];
  return m;
}

}  // namespace

double stage_time_s(const PartitionProblem& p, int s, int a, int b) {
  double t = 0;
  for (int l = a; l < b; ++l) t += p.layer_time_s[static_cast<std::size_t>(s)][static_cast<std::size_t>(l)];
  const int stages = static_cast<int>(p.layer_time_s.size());
  if (s < stages - 1 && b > 0) t += p.boundary_time_s[static_cast<std::size_t>(b - 1)];
  return t;
}

Partition evaluate_partition(const PartitionProblem& p, const std::vector<int>& first) {
  Partition out;
  out.first = first;
  const int stages = static_cast<int>(p.layer_time_s.size());
  const int layers = stages ? static_cast<int>(p.layer_time_s[0].size()) : 0;
  out.feasible = static_cast<int>(first.size()) == stages && stages > 0;
  for (int s = 0; out.feasible && s < stages; ++s) {
    const int a = first[static_cast<std::size_t>(s)];
    const int b = s + 1 < stages ? first[static_cast<std::size_t>(s + 1)] : layers;
    if (a >= b || stage_memory(p, s, a, b) > p.capacity_bytes[static_cast<std::size_t>(s)]) out.feasible = false;
    out.bottleneck_s = std::max(out.bottleneck_s, stage_time_s(p, s, a, b));
  }
  if (!out.feasible) out.bottleneck_s = kInf;
  return out;
}

Partition partition_balanced(const PartitionProblem& p) {
  const int stages = static_cast<int>(p.layer_time_s.size());
  const int layers = stages ? static_cast<int>(p.layer_time_s[0].size()) : 0;
  Partition out;
  if (stages == 0 || layers < stages) return out;
  // best[s][j]: smallest bottleneck placing layers [0, j) on stages [0, s); cut[s][j] its last cut.
  std::vector<std::vector<double>> best(static_cast<std::size_t>(stages + 1), std::vector<double>(static_cast<std::size_t>(layers + 1), kInf));
  std::vector<std::vector<int>> cut(best.size(), std::vector<int>(static_cast<std::size_t>(layers + 1), -1));
  best[0][0] = 0;
  for (int s = 1; s <= stages; ++s) {
    for (int j = s; j <= layers - (stages - s); ++j) {
      double mem = 0, time = 0;
      // Grow stage s-1 backwards from layer j-1: [i, j).
      for (int i = j - 1; i >= s - 1; --i) {
        mem += p.layer_memory_bytes[static_cast<std::size_t>(s - 1)][static_cast<std::size_t>(i)];
        time += p.layer_time_s[static_cast<std::size_t>(s - 1)][static_cast<std::size_t>(i)];
        if (mem > p.capacity_bytes[static_cast<std::size_t>(s - 1)]) break;
        const double boundary = s < stages ? p.boundary_time_s[static_cast<std::size_t>(j - 1)] : 0.0;
        const double candidate = std::max(best[static_cast<std::size_t>(s - 1)][static_cast<std::size_t>(i)], time + boundary);
        if (candidate < best[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)]) {
          best[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)] = candidate;
          cut[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)] = i;
        }
      }
    }
  }
  if (best[static_cast<std::size_t>(stages)][static_cast<std::size_t>(layers)] == kInf) return out;
  out.first.assign(static_cast<std::size_t>(stages), 0);
  for (int s = stages, j = layers; s > 0; --s) {
    j = cut[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)];
    out.first[static_cast<std::size_t>(s - 1)] = j;
  }
  return evaluate_partition(p, out.first);
}

Partition partition_brute_force(const PartitionProblem& p) {
  const int stages = static_cast<int>(p.layer_time_s.size());
  const int layers = stages ? static_cast<int>(p.layer_time_s[0].size()) : 0;
  Partition best;
  best.bottleneck_s = kInf;
  std::vector<int> first(static_cast<std::size_t>(stages), 0);
  std::function<void(int, int)> place = [&](int s, int start) {
    if (s == stages) {
      const Partition candidate = evaluate_partition(p, first);
      if (candidate.feasible && candidate.bottleneck_s < best.bottleneck_s) best = candidate;
      return;
    }
    for (int a = start; a <= layers - (stages - s); ++a) {
      first[static_cast<std::size_t>(s)] = a;
      if (s == 0 && a != 0) return;
      place(s + 1, a + 1);
    }
  };
  if (stages > 0 && layers >= stages) place(0, 0);
  return best;
}

}  // namespace frugal::policies
