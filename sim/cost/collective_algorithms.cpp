// Collective algorithms as phases, their closed forms and the selection rule (see
// collective_algorithms.hpp). The expressions for step bytes are the engine's own (the engine
// rounds them to whole bytes), so every path sees the same numbers.
#include "sim/cost/collective_algorithms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include "sim/program/enum_names.hpp"

namespace frugal::cost {

int broadcast_chunks(double bytes) {
  const double k = std::ceil(bytes / kBroadcastChunkBytes);
  return static_cast<int>(std::clamp(k, 1.0, static_cast<double>(kMaxBroadcastChunks)));
}

bool two_level(const std::vector<int>& members_per_node) {
  if (members_per_node.size() < 2 || members_per_node.front() < 2) return false;
  return std::all_of(members_per_node.begin(), members_per_node.end(),
                     [&](int count) { return count == members_per_node.front(); });
}

int rail_channels(bool two_level, int per_node, int nics_per_node) {
  return two_level ? std::max(1, std::min(per_node, nics_per_node)) : 1;
}

GroupShape group_shape(const platforms::Cluster& cluster, const std::vector<int>& gpus) {
  std::unordered_map<std::int64_t, std::size_t> slot;
  std::vector<int> counts;
  int nics = 1 << 20;
  for (const int g : gpus) {
    nics = std::min(nics, cluster.type_of_gpu(g).nics_per_node);
    const auto [it, inserted] = slot.emplace(cluster.gpus.at(g).node.value, counts.size());
    if (inserted) counts.push_back(0);
    ++counts[it->second];
  }
  GroupShape shape;
  shape.members = static_cast<int>(gpus.size());
  shape.nodes = std::max<int>(1, static_cast<int>(counts.size()));
  shape.two_level = two_level(counts);
  shape.per_node = shape.two_level ? counts.front() : 0;
  shape.channels = rail_channels(shape.two_level, shape.per_node, nics);
  return shape;
}

namespace {

/// A phase of `steps` steps over the member ring(s): one ring of S/n per step, or the group's
/// rail channels of S/(n·C) each.
Phase member_ring(const char* name, int steps, double bytes, const GroupShape& shape) {
  const int channels = std::max(1, shape.channels);
  if (channels == 1) return {name, Pattern::kRing, Rings::kMembers, steps, bytes / shape.members, 1};
  return {name, Pattern::kRing, Rings::kRails, steps, bytes / (static_cast<double>(shape.members) * channels), 1};
}

}  // namespace

std::vector<Phase> phases(program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes,
                          const GroupShape& shape) {
  const int n = shape.members;
  if (n < 2 || !(bytes > 0)) return {};
  using K = program::CollectiveKind;
  switch (kind) {
    case K::kAllReduce:
      if (algorithm == program::CollectiveAlgorithm::kHierarchical && shape.two_level) {
        const int local = shape.per_node;
        const int nodes = shape.nodes;
        return {{"hrs", Pattern::kRing, Rings::kNodeLocal, local - 1, bytes / local, 1},
                {"har", Pattern::kRing, Rings::kCrossNode, 2 * (nodes - 1), bytes / (local * nodes), 1},
                {"hag", Pattern::kRing, Rings::kNodeLocal, local - 1, bytes / local, 1}};
      }
      return {member_ring("ar", 2 * (n - 1), bytes, shape)};
    case K::kReduceScatter:
      return {member_ring("rs", n - 1, bytes, shape)};
    case K::kAllGather:
      return {member_ring("ag", n - 1, bytes, shape)};
    case K::kBroadcast: {
      const int k = broadcast_chunks(bytes);
      return {{"bc", Pattern::kChain, Rings::kMembers, n - 2 + k, bytes / k, k}};
    }
    case K::kAllToAll:
      return {{"a2a", Pattern::kPairwise, Rings::kMembers, n - 1, bytes / n, 1}};
  }
  return {};
}

double phases_time_s(const std::vector<Phase>& phases, const std::function<double(double)>& step_s) {
  double total = 0;
  for (const Phase& ph : phases) total += ph.steps * step_s(ph.step_bytes);
  return total;
}

double collective_time_s(program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes,
                         const GroupShape& shape, const Path& intra, const Path& inter, double overhead_s) {
  const std::vector<Phase> list = phases(kind, algorithm, bytes, shape);
  if (list.empty()) return 0;
  double total = overhead_s;
  for (const Phase& ph : list) {
    if (ph.rings == Rings::kRails) {
      const double local_s = intra.latency_s + (shape.channels - 1) * ph.step_bytes / intra.bandwidth_bytes_per_s;
      total += ph.steps * std::max(local_s, inter.seconds(ph.step_bytes));
      continue;
    }
    const Path& path = ph.rings == Rings::kNodeLocal || shape.nodes < 2 ? intra : inter;
    total += ph.steps * path.seconds(ph.step_bytes);
  }
  return total;
}

program::CollectiveAlgorithm choose_algorithm(const platforms::Cluster& cluster, const std::vector<int>& gpus,
                                              program::CollectiveKind kind) {
  if (kind != program::CollectiveKind::kAllReduce) return program::CollectiveAlgorithm::kRing;
  return group_shape(cluster, gpus).two_level ? program::CollectiveAlgorithm::kHierarchical
                                              : program::CollectiveAlgorithm::kRing;
}

program::CollectiveAlgorithm resolve_algorithm(const std::string& choice, const platforms::Cluster& cluster,
                                               const std::function<std::vector<int>()>& gpus,
                                               program::CollectiveKind kind) {
  if (choice == "auto") return choose_algorithm(cluster, gpus(), kind);
  bool known = false;
  const auto algorithm = program::enum_from_string<program::CollectiveAlgorithm>(choice, &known);
  if (!known) {
    std::string valid = "auto";
    for (const auto a : program::all_collective_algorithms()) valid += ", " + program::to_string(a);
    throw std::invalid_argument("unknown algorithm \"" + choice + "\" (valid: " + valid + ")");
  }
  return algorithm;
}

}  // namespace frugal::cost
