// Collective algorithms as phases, their closed forms and the selection rule (see
// collective_algorithms.hpp). The expressions for step bytes are the engine's own (the engine
// rounds them to whole bytes), so every path sees the same numbers.
#include "sim/cost/collective_algorithms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
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
  shape.balanced = counts.size() >= 2 && std::all_of(counts.begin(), counts.end(), [&](int c) { return c == counts.front(); });
  bool has_intra = false, has_inter = false;
  for (std::size_t i = 1; i < gpus.size() && !(has_intra && has_inter); ++i) {
    const bool same = cluster.gpus.at(gpus[0]).node == cluster.gpus.at(gpus[i]).node;
    if (same && !has_intra) shape.intra = gpu_path(cluster, gpus[0], gpus[i]), has_intra = true;
    if (!same && !has_inter) shape.inter = gpu_path(cluster, gpus[0], gpus[i]), has_inter = true;
  }
  if (!has_intra) shape.intra = shape.inter;
  if (!has_inter) shape.inter = shape.intra;
  if (counts.size() == 1 && !gpus.empty()) shape.nvls = nvls_path(cluster, gpus[0]);
  return shape;
}

std::vector<int> binary_tree_parents(int nodes, int t) {
  std::vector<int> tree0(static_cast<std::size_t>(std::max(0, nodes)), -1);
  for (int m = 1; m < nodes; ++m) {
    const int bit = m & -m;
    const int up = (m ^ bit) | (bit << 1);
    tree0[static_cast<std::size_t>(m)] = up < nodes ? up : m ^ bit;
  }
  if (t == 0 || nodes < 2) return tree0;
  // Tree 1 relabels tree 0: node m of tree 1 sits where node map(m) sits in tree 0.
  const auto to0 = [nodes](int m) { return nodes % 2 == 0 ? nodes - 1 - m : (m + nodes - 1) % nodes; };
  const auto from0 = [nodes](int m) { return nodes % 2 == 0 ? nodes - 1 - m : (m + 1) % nodes; };
  std::vector<int> tree1(tree0.size(), -1);
  for (int m = 0; m < nodes; ++m) {
    const int up = tree0[static_cast<std::size_t>(to0(m))];
    tree1[static_cast<std::size_t>(m)] = up < 0 ? -1 : from0(up);
  }
  return tree1;
}

namespace {

/// Depth of every node of a tree given by its parents (parents may come after their children).
std::vector<int> depths_of(const std::vector<int>& parent) {
  std::vector<int> depth(parent.size(), -1);
  std::vector<std::size_t> walk;
  for (std::size_t v = 0; v < parent.size(); ++v) {
    std::size_t u = v;
    walk.clear();
    while (depth[u] < 0 && parent[u] >= 0) {
      walk.push_back(u);
      u = static_cast<std::size_t>(parent[u]);
    }
    if (depth[u] < 0) depth[u] = 0;  // a root
    for (auto it = walk.rbegin(); it != walk.rend(); ++it) depth[*it] = depth[static_cast<std::size_t>(parent[*it])] + 1;
  }
  return depth;
}

}  // namespace

std::vector<Tree> all_reduce_trees(const GroupShape& shape) {
  if (!shape.balanced || shape.nodes < 2) return {};
  const int nodes = shape.nodes, local = shape.members / shape.nodes, channels = std::max(1, shape.channels);
  std::vector<Tree> trees;
  for (int c = 0; c < channels; ++c)
    for (int t = 0; t < 2; ++t) {
      const std::vector<int> up = binary_tree_parents(nodes, t);
      Tree tree;
      tree.parent.assign(static_cast<std::size_t>(shape.members), -1);
      for (int m = 0; m < nodes; ++m) {
        const int head = m * local + c % local;
        if (up[static_cast<std::size_t>(m)] >= 0) tree.parent[static_cast<std::size_t>(head)] = up[static_cast<std::size_t>(m)] * local + c % local;
        for (int i = 1; i < local; ++i)
          tree.parent[static_cast<std::size_t>(m * local + (c + i) % local)] = m * local + (c + i - 1) % local;
      }
      tree.children.assign(tree.parent.size(), {});
      for (std::size_t v = 0; v < tree.parent.size(); ++v)
        if (tree.parent[v] >= 0) tree.children[static_cast<std::size_t>(tree.parent[v])].push_back(static_cast<int>(v));
      tree.depth = depths_of(tree.parent);
      tree.height = *std::max_element(tree.depth.begin(), tree.depth.end());
      trees.push_back(std::move(tree));
    }
  return trees;
}

namespace {

/// Largest depth of the node trees (binary_tree_parents) plus the chain below each head.
int tree_height(const GroupShape& shape) {
  int height = 0;
  for (int t = 0; t < 2; ++t) {
    const std::vector<int> d = depths_of(binary_tree_parents(shape.nodes, t));
    height = std::max(height, *std::max_element(d.begin(), d.end()));
  }
  return height + shape.members / shape.nodes - 1;
}

/// Tree phase time (see collective_time_s): per step, the most loaded link direction. Nodes with
/// the same role in both node trees (depth, children, parent) load their links alike, so only
/// one node per role is counted.
double tree_phase_time_s(const Phase& ph, const GroupShape& shape, const Path& intra, const Path& inter) {
  struct Role {
    int depth[2], children[2];
    bool has_parent[2];
    bool operator<(const Role& o) const {
      return std::tie(depth[0], depth[1], children[0], children[1], has_parent[0], has_parent[1]) <
             std::tie(o.depth[0], o.depth[1], o.children[0], o.children[1], o.has_parent[0], o.has_parent[1]);
    }
  };
  const int nodes = shape.nodes, local = shape.members / shape.nodes, channels = std::max(1, shape.channels);
  std::vector<Role> roles(static_cast<std::size_t>(nodes));
  for (int t = 0; t < 2; ++t) {
    const std::vector<int> up = binary_tree_parents(nodes, t);
    const std::vector<int> depth = depths_of(up);
    for (int m = 0; m < nodes; ++m) {
      Role& r = roles[static_cast<std::size_t>(m)];
      r.depth[t] = depth[static_cast<std::size_t>(m)];
      r.has_parent[t] = up[static_cast<std::size_t>(m)] >= 0;
      r.children[t] = 0;
    }
    for (int m = 0; m < nodes; ++m)
      if (up[static_cast<std::size_t>(m)] >= 0) ++roles[static_cast<std::size_t>(up[static_cast<std::size_t>(m)])].children[t];
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end(), [](const Role& a, const Role& b) { return !(a < b) && !(b < a); }),
              roles.end());
  const int D = ph.height, k = ph.pieces;
  const auto on = [k](int step, int first) { return step >= first && step < first + k ? 1 : 0; };
  const double b = ph.step_bytes;
  double total = 0;
  for (int step = 0; step < ph.steps; ++step) {
    double slowest = 0;
    for (const Role& r : roles) {
      // A head's NIC carries the two trees of its channel between nodes.
      int out = 0, in = 0;
      for (int t = 0; t < 2; ++t) {
        const int d = r.depth[t];
        out += (r.has_parent[t] ? on(step, D - d) : 0) + r.children[t] * on(step, D + d);
        in += r.children[t] * on(step, D - d - 1) + (r.has_parent[t] ? on(step, D + d - 1) : 0);
      }
      if (const int load = std::max(out, in); load > 0) slowest = std::max(slowest, inter.latency_s + load * b / inter.bandwidth_bytes_per_s);
      // Each member's GPU link carries the chain edges of every tree through it.
      for (int l = 0; l < local && local > 1; ++l) {
        int up_load = 0, down_load = 0;
        for (int c = 0; c < channels; ++c)
          for (int t = 0; t < 2; ++t) {
            const int i = (l - c % local + local) % local;  // position in the chain below the head
            const int d = r.depth[t] + i;
            up_load += (i >= 1 ? on(step, D - d) : 0) + (i < local - 1 ? on(step, D + d) : 0);
            down_load += (i < local - 1 ? on(step, D - d - 1) : 0) + (i >= 1 ? on(step, D + d - 1) : 0);
          }
        if (const int load = std::max(up_load, down_load); load > 0)
          slowest = std::max(slowest, intra.latency_s + load * b / intra.bandwidth_bytes_per_s);
      }
    }
    total += slowest;
  }
  return total;
}

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
  using A = program::CollectiveAlgorithm;
  algorithm = effective_algorithm(kind, algorithm, bytes, shape);  // the one fallback rule
  switch (kind) {
    case K::kAllReduce:
      if (algorithm == A::kTree) {
        const int channels = std::max(1, shape.channels);
        const double share = bytes / (2.0 * channels);
        const int k = broadcast_chunks(share);
        const int height = tree_height(shape);
        Phase tree{"tree", Pattern::kTree, Rings::kMembers, 2 * height + k - 1, share / k, k};
        tree.height = height;
        return {tree};
      }
      if (algorithm == A::kNvls) return {{"nvls", Pattern::kSwitch, Rings::kMembers, 1, bytes, 1}};
      if (algorithm == A::kHierarchical) {
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
    if (ph.pattern == Pattern::kTree) {
      total += tree_phase_time_s(ph, shape, intra, inter);
      continue;
    }
    if (ph.pattern == Pattern::kSwitch) {
      total += shape.nvls.seconds(ph.step_bytes);
      continue;
    }
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

std::vector<program::CollectiveAlgorithm> eligible_algorithms(program::CollectiveKind kind, const GroupShape& shape) {
  using A = program::CollectiveAlgorithm;
  std::vector<A> out = {A::kRing};
  if (kind != program::CollectiveKind::kAllReduce) return out;
  if (shape.two_level) out.push_back(A::kHierarchical);
  if (shape.balanced) out.push_back(A::kTree);
  if (shape.nvls.bandwidth_bytes_per_s > 0) out.push_back(A::kNvls);
  return out;
}

program::CollectiveAlgorithm select_algorithm(program::CollectiveKind kind, double bytes, const GroupShape& shape) {
  program::CollectiveAlgorithm best = program::CollectiveAlgorithm::kRing;
  double best_s = -1;
  for (const auto a : eligible_algorithms(kind, shape)) {
    const double s = collective_time_s(kind, a, bytes, shape, shape.intra, shape.inter);
    if (best_s < 0 || s < best_s) best = a, best_s = s;
  }
  return best;
}

program::CollectiveAlgorithm effective_algorithm(program::CollectiveKind kind, program::CollectiveAlgorithm requested,
                                                 double bytes, const GroupShape& shape) {
  if (requested == program::CollectiveAlgorithm::kAuto) return select_algorithm(kind, bytes, shape);
  const auto allowed = eligible_algorithms(kind, shape);
  return std::find(allowed.begin(), allowed.end(), requested) != allowed.end() ? requested
                                                                               : program::CollectiveAlgorithm::kRing;
}

program::CollectiveAlgorithm parse_algorithm(const std::string& choice) {
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
