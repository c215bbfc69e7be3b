// Classes of identical ranks and the soundness checks of simulating one representative per
// class (contract in coarse_replicas.hpp). Hashing, not pairwise comparison: O(ops) in all.
#include "sim/engine/coarse_replicas.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>

#include "sim/engine/platform_builder.hpp"
#include "sim/program/rank_classes.hpp"

namespace frugal::engine {
namespace {

using program::OpKind;

/// Two independent 64-bit multiply-xorshift streams: a 128-bit fingerprint, so that a collision
/// between two different programs is not a practical concern. One multiply per word and lane:
/// the scan of every op of every rank (10 M ops for GPT-3 on 1,024 GPUs) must stay cheap.
struct Fingerprint {
  std::uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0xc2b2ae3d27d4eb4fULL;

  void add(std::uint64_t v) {
    a = (a ^ v) * 0xbf58476d1ce4e5b9ULL;
    a ^= a >> 31;
    b = (b + v) * 0x94d049bb133111ebULL;
    b ^= b >> 29;
  }
  void add(double v) { add(std::bit_cast<std::uint64_t>(v)); }
  void add(std::int64_t v) { add(static_cast<std::uint64_t>(v)); }
  void add(int v) { add(static_cast<std::uint64_t>(static_cast<std::int64_t>(v))); }
  bool operator<(const Fingerprint& o) const { return std::tie(a, b) < std::tie(o.a, o.b); }
};

struct GroupShape {
  bool valid = true;
  std::uint64_t a = 0, b = 0;  ///< fingerprint of the shape
  int nodes = 0;
};

}  // namespace

Representatives find_representatives(const platforms::Cluster& cluster, const program::Program& program) {
  Representatives out;
  const int n_ranks = static_cast<int>(program.ranks.size());
  auto refuse = [&out](std::string why) {
    out = Representatives{};
    out.note = std::move(why);
    return out;
  };
  if (n_ranks == 0) return refuse("empty program");
  std::vector<int> rank_gpu(n_ranks), rank_node(n_ranks);
  for (int r = 0; r < n_ranks; ++r) {
    const int gpu = program.ranks[r].gpu;
    if (gpu < 0 || gpu >= cluster.gpu_count()) return refuse("rank " + std::to_string(r) + " on a missing GPU");
    rank_gpu[r] = gpu;
    rank_node[r] = static_cast<int>(cluster.gpus[gpu].node.value);
  }

  // Shape of each group: what the algorithms' costs depend on, without its identity.
  std::vector<GroupShape> shapes(program.groups.size());
  for (std::size_t g = 0; g < program.groups.size(); ++g) {
    const auto& ranks = program.groups[g].ranks;
    Fingerprint f;
    f.add(static_cast<std::int64_t>(ranks.size()));
    std::map<int, int> per_node;
    double worst_latency_s = 0, slowest_bytes_per_s = 0;
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      const std::int64_t r = ranks[i].value;
      if (r < 0 || r >= n_ranks) return refuse("group " + std::to_string(g) + " names a missing rank");
      ++per_node[rank_node[r]];
      f.add(cluster.gpus[rank_gpu[r]].node_type);
      const std::int64_t next = ranks[(i + 1) % ranks.size()].value;
      if (ranks.size() > 1 && next >= 0 && next < n_ranks && rank_gpu[next] != rank_gpu[r]) {
        const PathCost p = gpu_path(cluster, rank_gpu[r], rank_gpu[next]);
        worst_latency_s = std::max(worst_latency_s, p.latency_s);
        slowest_bytes_per_s = slowest_bytes_per_s == 0 ? p.bandwidth_bytes_per_s
                                                       : std::min(slowest_bytes_per_s, p.bandwidth_bytes_per_s);
      }
    }
    f.add(static_cast<std::int64_t>(per_node.size()));
    for (const auto& [node, count] : per_node) f.add(count);
    f.add(worst_latency_s);
    f.add(slowest_bytes_per_s);
    shapes[g] = {true, f.a, f.b, static_cast<int>(per_node.size())};
  }

  const program::ClassView view(program);
  std::vector<Fingerprint> prints(n_ranks);
  if (program.compact()) {
    // Ranks of a class of the compact program run the same ops; they stay identical when they
    // also sit alike: node type, the shapes of their (renamed) groups, routes to their peers.
    std::map<std::int64_t, std::pair<std::vector<int>, std::vector<core::RankId>>> used;  // representative → groups, peers
    for (int r = 0; r < n_ranks; ++r) {
      const core::RankId rep = view.representative(core::RankId(r));
      auto [it, fresh] = used.try_emplace(rep.value);
      if (fresh) {
        std::set<int> groups;
        std::set<core::RankId> peers;
        for (const program::Op& op : view.lowered(rep).ops) {
          if (op.kind == OpKind::kCollective) groups.insert(op.collective().group);
          if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) peers.insert(op.p2p().peer);
        }
        it->second = {std::vector<int>(groups.begin(), groups.end()), std::vector<core::RankId>(peers.begin(), peers.end())};
      }
      Fingerprint& f = prints[r];
      f.add(rep.value);
      f.add(cluster.gpus[rank_gpu[r]].node_type);
      for (const int g : it->second.first) {
        const int own = view.rename_group(core::RankId(r), g);
        if (own < 0 || own >= static_cast<int>(shapes.size())) return refuse("rank " + std::to_string(r) + " uses a missing group");
        f.add(shapes[own].a);
        f.add(shapes[own].b);
      }
      for (const core::RankId y : it->second.second) {
        const std::int64_t peer = view.rename_peer(core::RankId(r), y).value;
        if (peer < 0 || peer >= n_ranks) return refuse("rank " + std::to_string(r) + " talks to a missing rank");
        f.add(static_cast<int>(rank_node[peer] == rank_node[r]));
        if (rank_gpu[peer] != rank_gpu[r]) {
          const PathCost path = gpu_path(cluster, rank_gpu[r], rank_gpu[peer]);
          f.add(path.latency_s);
          f.add(path.bandwidth_bytes_per_s);
        }
      }
    }
  }
  // Fingerprint of each rank's program.
  for (int r = 0; r < n_ranks && !program.compact(); ++r) {
    const program::RankProgram& rp = program.ranks[r];
    Fingerprint& f = prints[r];
    f.add(cluster.gpus[rank_gpu[r]].node_type);
    f.add(static_cast<std::int64_t>(rp.resident.size()));
    for (const program::Memory& m : rp.resident) {
      f.add(static_cast<int>(m.tag) * 4 + static_cast<int>(m.location));
      f.add(m.bytes);
    }
    f.add(static_cast<std::int64_t>(rp.ops.size()));
    for (const program::Op& op : rp.ops) {
      f.add(static_cast<int>(op.kind) * 8 + static_cast<int>(op.stream));
      f.add(static_cast<std::int64_t>(op.deps.size()));
      for (const auto& d : op.deps) f.add(d.value);
      switch (op.kind) {
        case OpKind::kCompute:
          f.add(static_cast<int>(op.compute().phase));
          f.add(op.compute().flops);
          f.add(op.compute().memory_bytes);
          // Compute costs may depend on GEMM shapes and layer (calibration by shape).
          f.add(static_cast<std::uint64_t>(std::hash<std::string>{}(op.compute().layer)));
          for (const program::Gemm& gemm : op.compute().gemms) {
            f.add(gemm.m);
            f.add(gemm.n);
            f.add(gemm.k);
            f.add(gemm.batch);
          }
          break;
        case OpKind::kCollective: {
          const program::Collective& c = op.collective();
          if (c.group < 0 || c.group >= static_cast<int>(shapes.size()))
            return refuse("rank " + std::to_string(r) + " uses a missing group");
          f.add(static_cast<int>(c.kind) * 4 + static_cast<int>(c.algorithm));
          f.add(c.instance);
          f.add(c.bytes);
          f.add(shapes[c.group].a);
          f.add(shapes[c.group].b);
          if (c.kind == program::CollectiveKind::kBroadcast) {
            const auto& ranks = program.groups[c.group].ranks;
            f.add(static_cast<std::int64_t>(std::find(ranks.begin(), ranks.end(), c.root) - ranks.begin()));
          }
          break;
        }
        case OpKind::kSend:
        case OpKind::kRecv: {
          const program::PointToPoint& p = op.p2p();
          const std::int64_t peer = p.peer.value;
          if (peer < 0 || peer >= n_ranks) return refuse("rank " + std::to_string(r) + " talks to a missing rank");
          f.add(p.tag);
          f.add(p.bytes);
          f.add(static_cast<int>(rank_node[peer] == rank_node[r]));
          if (rank_gpu[peer] != rank_gpu[r]) {
            const PathCost path = gpu_path(cluster, rank_gpu[r], rank_gpu[peer]);
            f.add(path.latency_s);
            f.add(path.bandwidth_bytes_per_s);
          }
          break;
        }
        case OpKind::kCopy:
          f.add(static_cast<int>(op.copy().direction));
          f.add(op.copy().bytes);
          break;
        case OpKind::kAlloc:
        case OpKind::kFree:
          f.add(static_cast<int>(op.memory().tag) * 4 + static_cast<int>(op.memory().location));
          f.add(op.memory().bytes);
          break;
        case OpKind::kCheckpointWrite:
          f.add(op.checkpoint().bytes);
          break;
      }
    }
  }

  // Classes in order of their lowest rank.
  std::map<Fingerprint, int> class_index;
  out.class_of.resize(n_ranks);
  for (int r = 0; r < n_ranks; ++r) {
    auto [it, inserted] = class_index.emplace(prints[r], static_cast<int>(out.members.size()));
    if (inserted) out.members.emplace_back();
    out.class_of[r] = it->second;
    out.members[it->second].push_back(r);
  }
  if (out.members.size() == static_cast<std::size_t>(n_ranks)) return refuse("no two ranks run identical programs");
  out.representative.resize(n_ranks);
  out.simulated.assign(n_ranks, 0);
  for (int r = 0; r < n_ranks; ++r) out.representative[r] = out.members[out.class_of[r]][0];
  for (const auto& m : out.members) out.simulated[m[0]] = 1;

  // Group → number of simulated members.
  std::vector<int> simulated_in_group(program.groups.size(), 0);
  for (std::size_t g = 0; g < program.groups.size(); ++g)
    for (const auto& r : program.groups[g].ranks) simulated_in_group[g] += out.simulated[r.value];

  // Point-to-point among representatives: sends and receives, redirected, must pair up.
  std::map<std::tuple<int, int, std::int64_t>, std::int64_t> balance;  // (src, dst, tag) → sends − recvs
  for (const auto& m : out.members) {
    const int r = m[0];
    const auto& ops = view.lowered(core::RankId(r)).ops;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const program::Op& op = ops[i];
      if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
        const int peer = out.representative[view.peer_at(core::RankId(r), i).value];
        if (peer == r)
          return refuse("rank " + std::to_string(r) + " exchanges with a rank of its own class (op " + std::to_string(i) +
                        " \"" + op.name + "\")");
        if (op.kind == OpKind::kSend) ++balance[{r, peer, op.p2p().tag}];
        else --balance[{peer, r, op.p2p().tag}];
        continue;
      }
      if (op.kind != OpKind::kCollective) continue;
      const int g = view.group_at(core::RankId(r), i);
      const auto& group = program.groups[g].ranks;
      const int sim = simulated_in_group[g];
      if (sim == 1) {
        for (const auto& member : group)
          if (out.class_of[member.value] != out.class_of[r])
            return refuse("group \"" + program.groups[g].name + "\" mixes classes but only rank " + std::to_string(r) +
                          " of it would be simulated");
      } else if (sim != static_cast<int>(group.size())) {
        return refuse("group \"" + program.groups[g].name + "\" would be simulated in part (" + std::to_string(sim) +
                      " of " + std::to_string(group.size()) + " members)");
      }
      // The class's other ranks: on this group (same collective) or on copies of it without any
      // simulated member (their traffic is injected).
      for (std::size_t k = 1; k < m.size(); ++k) {
        const int tg = view.group_at(core::RankId(m[k]), i);
        if (tg == g) continue;
        if (simulated_in_group[tg] != 0)
          return refuse("group \"" + program.groups[tg].name + "\" of rank " + std::to_string(m[k]) +
                        " holds a simulated rank but is not its representative's group");
      }
    }
  }
  for (const auto& [key, count] : balance)
    if (count != 0)
      return refuse("sends from rank " + std::to_string(std::get<0>(key)) + " to rank " +
                    std::to_string(std::get<1>(key)) + " (tag " + std::to_string(std::get<2>(key)) +
                    ") do not pair up among representatives");
  out.applied = true;
  return out;
}

}  // namespace frugal::engine
