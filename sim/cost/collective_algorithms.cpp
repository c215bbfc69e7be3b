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

GroupShape group_shape(const platforms::Cluster& cluster, const std::vector<int>& gpus) {
  std::unordered_map<std::int64_t, std::size_t> slot;
  std::vector<int> counts;
  for (const int g : gpus) {
    const auto [it, inserted] = slot.emplace(cluster.gpus.at(g).node.value, counts.size());
    if (inserted) counts.push_back(0);
    ++counts[it->second];
  }
  GroupShape shape;
  shape.members = static_cast<int>(gpus.size());
  shape.nodes = std::max<int>(1, static_cast<int>(counts.size()));
  shape.two_level = two_level(counts);
  shape.per_node = shape.two_level ? counts.front() : 0;
  return shape;
}

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
      return {{"ar", Pattern::kRing, Rings::kMembers, 2 * (n - 1), bytes / n, 1}};
    case K::kReduceScatter:
      return {{"rs", Pattern::kRing, Rings::kMembers, n - 1, bytes / n, 1}};
    case K::kAllGather:
      return {{"ag", Pattern::kRing, Rings::kMembers, n - 1, bytes / n, 1}};
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
