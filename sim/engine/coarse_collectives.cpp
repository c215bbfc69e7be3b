// Aggregate collectives, collapsed groups and copies (contracts in coarse_collectives.hpp).
// Activities are created by actors only (SimGrid 3.32 scans the activities created without an
// actor at every completion): helpers that inject copies are short-lived actors.
#include "sim/engine/coarse_collectives.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <simgrid/s4u.hpp>

#include "sim/engine/coarse_replicas.hpp"
#include "sim/engine/helper_actor.hpp"
#include "sim/engine/platform_builder.hpp"
#include "sim/engine/run_invariants.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {

struct CoarseState {
  struct BarrierEntry {
    sg4::BarrierPtr barrier;
    int leaving = 0;  ///< members that have not passed the closing barrier yet
  };
  struct Posts {
    std::deque<int> send_ops;  ///< posted sends (their op index) not matched yet
    int recvs = 0;             ///< posted receives not matched yet
  };
  std::unordered_map<std::string, BarrierEntry> barriers;
  std::map<std::tuple<int, int, std::int64_t>, Posts> p2p;  ///< (source, destination, tag)
};

std::shared_ptr<CoarseState> make_coarse_state() { return std::make_shared<CoarseState>(); }

namespace {

std::uint64_t to_bytes(double bytes) { return bytes > 0 ? static_cast<std::uint64_t>(std::llround(bytes)) : 0; }

/// One phase of an algorithm (cost::Phase) on this group's rings, byte counts rounded as the
/// step-by-step engine rounds them.
struct Phase {
  enum class Shape { kRings, kChain, kPairwise, kTree, kSwitch };
  Shape shape = Shape::kRings;
  std::vector<const std::vector<int>*> rings;  ///< kRings: every ring; else the member list
  int steps = 0;
  std::uint64_t chunk_bytes = 0;
  int latency_slot = 0;  ///< GroupLayout::ring_latency_s index (= cost::Rings)
  int root_pos = 0;      ///< kChain: chain starts here
  int chunks = 1;        ///< kChain, kTree: pipelined pieces k
  int height = 0;        ///< kTree: the trees' height D
  const GroupLayout* group = nullptr;  ///< kTree, kSwitch: the group (its trees, its members)
};

std::vector<Phase> phases_of(const GroupLayout& g, const program::Collective& c) {
  std::vector<Phase> out;
  for (const cost::Phase& ph : cost::phases(c.kind, algorithm_of(g, c), c.bytes, g.shape)) {
    Phase p;
    switch (ph.pattern) {
      case cost::Pattern::kRing: p.shape = Phase::Shape::kRings; break;
      case cost::Pattern::kChain: p.shape = Phase::Shape::kChain; break;
      case cost::Pattern::kPairwise: p.shape = Phase::Shape::kPairwise; break;
      case cost::Pattern::kTree: p.shape = Phase::Shape::kTree; break;
      case cost::Pattern::kSwitch: p.shape = Phase::Shape::kSwitch; break;
    }
    p.rings = rings_of(g, ph.rings);
    p.steps = ph.steps;
    p.chunk_bytes = to_bytes(ph.step_bytes);
    p.latency_slot = static_cast<int>(ph.rings);
    p.chunks = ph.pieces;
    p.height = ph.height;
    p.group = &g;
    if (ph.pattern == cost::Pattern::kChain) {
      const auto root = g.position.find(static_cast<int>(c.root.value));
      p.root_pos = root == g.position.end() ? 0 : root->second;
    }
    out.push_back(std::move(p));
  }
  return out;
}

PathCost path(const CommContext& ctx, int from_rank, int to_rank) {
  const int a = ctx.rank_gpu_index[from_rank], b = ctx.rank_gpu_index[to_rank];
  if (a == b) return {0, 0};
  return gpu_path(*ctx.cluster, a, b);
}

/// Slowest-edge latency of a phase's rings, cached per group and ring kind.
double phase_latency_s(const CommContext& ctx, const GroupLayout& g, const Phase& ph) {
  double& cached = g.ring_latency_s[ph.latency_slot];
  if (cached >= 0) return cached;
  double worst = 0;
  for (const std::vector<int>* ring : ph.rings) {
    const std::size_t m = ring->size();
    if (m < 2) continue;
    for (std::size_t i = 0; i < m; ++i) worst = std::max(worst, path(ctx, (*ring)[i], (*ring)[(i + 1) % m]).latency_s);
  }
  return cached = worst;
}

/// Smallest bandwidth on the member ring (chain broadcast's pipeline fill).
double ring_bandwidth(const CommContext& ctx, const GroupLayout& g) {
  double& cached = g.ring_bandwidth_bytes_per_s;
  if (cached >= 0) return cached;
  double slowest = 0;
  const std::size_t m = g.ranks.size();
  for (std::size_t i = 0; i < m && m > 1; ++i) {
    const double bw = path(ctx, g.ranks[i], g.ranks[(i + 1) % m]).bandwidth_bytes_per_s;
    if (bw > 0) slowest = slowest == 0 ? bw : std::min(slowest, bw);
  }
  return cached = slowest;
}

/// Latency the aggregate model adds after a phase's transfers (see the header).
double aggregate_extra_s(const CommContext& ctx, const GroupLayout& g, const Phase& ph) {
  if (ph.shape == Phase::Shape::kSwitch) return 0;
  const double alpha = phase_latency_s(ctx, g, ph);
  if (ph.shape == Phase::Shape::kChain) {
    const int n = static_cast<int>(g.ranks.size());
    const double beta = ring_bandwidth(ctx, g);
    const double fill = n > 2 ? (n - 2) * (alpha + (beta > 0 ? static_cast<double>(ph.chunk_bytes) / beta : 0)) : 0;
    return fill + (ph.chunks - 1) * alpha;
  }
  return (ph.steps - 1) * alpha;
}

void sleep_for(CommContext& ctx, double seconds) {
  if (!(seconds > 0)) return;
  ++ctx.activities;
  sg4::this_actor::sleep_for(seconds);
}

/// Copies' transfers matter only where they share a link or NIC with modelled traffic
/// (watch_modelled_traffic), or everywhere behind a shared backbone.
bool copy_matters(const CommContext& ctx, int from_rank, int to_rank) {
  if (ctx.copies_everywhere) return true;
  const std::vector<char>& watched = ctx.rank_node[from_rank] == ctx.rank_node[to_rank] ? ctx.link_watched : ctx.nic_watched;
  return watched[from_rank] != 0 || watched[to_rank] != 0;
}

/// A host-to-host transfer to inject.
struct Flow {
  sg4::Host* from;
  sg4::Host* to;
  std::uint64_t bytes;
};
using Flows = std::vector<Flow>;

void add_flow(CommContext& ctx, Flows& flows, int from_rank, int to_rank, std::uint64_t bytes, bool copy = false) {
  if (bytes == 0 || from_rank == to_rank) return;
  if (copy && !copy_matters(ctx, from_rank, to_rank)) return;
  flows.push_back({ctx.rank_gpu[from_rank], ctx.rank_gpu[to_rank], bytes});
  ++ctx.activities;
}

/// Most transfers one actor starts: SimGrid 3.32 removes a finished activity from its actor's
/// list by a linear scan (std::list::remove in CommImpl::finish), so one actor waiting on n
/// transfers pays O(n²) as they finish. Larger batches are started by helper actors at the same
/// simulated date, so the transfers and their sharing are unchanged. 1 GiB ring all-reduce over
/// 16,384 GPUs with one representative, median of 4 runs on 2 shared cores: 7.8 s → 4.8 s wall.
constexpr std::size_t kFlowsPerActor = 256;

void start_and_wait(const Flows& flows, std::size_t begin, std::size_t end) {
  std::vector<sg4::CommPtr> comms;
  comms.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i)
    comms.push_back(sg4::Comm::sendto_async(flows[i].from, flows[i].to, flows[i].bytes));
  sg4::Comm::wait_all(comms);
}

/// Starts every flow now and returns when all are delivered; clears `flows`.
void transfer(Flows& flows) {
  if (flows.size() <= kFlowsPerActor) {
    start_and_wait(flows, 0, flows.size());
  } else {
    std::vector<sg4::ActorPtr> helpers;
    for (std::size_t begin = 0; begin < flows.size(); begin += kFlowsPerActor) {
      const std::size_t end = std::min(flows.size(), begin + kFlowsPerActor);
      helpers.push_back(spawn_helper("flows", sg4::this_actor::get_host(),
                                           [&flows, begin, end]() { start_and_wait(flows, begin, end); }));
    }
    for (const sg4::ActorPtr& h : helpers) h->join();
  }
  flows.clear();
}

/// Flows of step `s` of phase `ph` (every member's), or of the whole phase when `whole`. Rings:
/// only the flows sent by `only_from` when it is a rank (see inject).
void phase_flows(CommContext& ctx, const Phase& ph, int s, bool whole, bool copy, Flows& flows, int only_from = -1) {
  switch (ph.shape) {
    case Phase::Shape::kRings:
      for (const std::vector<int>* ring : ph.rings) {
        const std::size_t m = ring->size();
        if (m < 2) continue;
        for (std::size_t i = 0; i < m; ++i)
          if (only_from < 0 || (*ring)[i] == only_from)
            add_flow(ctx, flows, (*ring)[i], (*ring)[(i + 1) % m], whole ? ph.chunk_bytes * ph.steps : ph.chunk_bytes, copy);
      }
      return;
    case Phase::Shape::kChain: {
      const std::vector<int>& members = *ph.rings.front();
      const int n = static_cast<int>(members.size());
      for (int c = 0; c + 1 < n; ++c) {
        const int piece = s - c;
        if (!whole && (piece < 0 || piece >= ph.chunks)) continue;
        add_flow(ctx, flows, members[(ph.root_pos + c) % n], members[(ph.root_pos + c + 1) % n],
                 whole ? ph.chunk_bytes * ph.chunks : ph.chunk_bytes, copy);
      }
      return;
    }
    case Phase::Shape::kPairwise: {
      const std::vector<int>& members = *ph.rings.front();
      const int n = static_cast<int>(members.size());
      for (int p = 0; p < n; ++p) add_flow(ctx, flows, members[p], members[(p + s + 1) % n], ph.chunk_bytes, copy);
      return;
    }
    case Phase::Shape::kTree: {
      // Step s only (trees are never aggregated): piece j goes up an edge from a child at depth d
      // in step D − d + j and down it in step D + d − 1 + j (cost::Pattern::kTree).
      const GroupLayout& g = *ph.group;
      const auto on = [&](int first) { return s >= first && s < first + ph.chunks; };
      const std::uint64_t bytes = ph.chunk_bytes;
      for (const cost::Tree& tree : trees_of(g))
        for (std::size_t v = 0; v < tree.parent.size(); ++v) {
          if (tree.parent[v] < 0) continue;
          const int child = g.node_major[v], parent = g.node_major[static_cast<std::size_t>(tree.parent[v])];
          const int d = tree.depth[v];
          if (on(ph.height - d)) add_flow(ctx, flows, child, parent, bytes, copy);
          if (on(ph.height + d - 1)) add_flow(ctx, flows, parent, child, bytes, copy);
        }
      return;
    }
    case Phase::Shape::kSwitch:
      for (const int r : ph.group->ranks) {
        if (ctx.rank_switch[r] == nullptr || (copy && !copy_matters(ctx, r, r))) continue;
        flows.push_back({ctx.rank_gpu[r], ctx.rank_switch[r], ph.chunk_bytes});
        flows.push_back({ctx.rank_switch[r], ctx.rank_gpu[r], ph.chunk_bytes});
        ctx.activities += 2;
      }
      return;
  }
}

/// Every member's traffic of collective `c` on each of `groups` (isomorphic groups run in
/// lockstep), from the calling actor; returns when all of it is delivered. `copies`: the groups
/// are copies, whose transfers are filtered by copy_matters.
///
/// `only_from` (a rank, or -1): aggregated ring phases inject only that member's flow. Used for a
/// collapsed group inside one node: its members are identical ranks on identical GPUs, each
/// sending the same volume at the same date over its own GPU link to the next, so every member's
/// link carries the same flows as the representative's; under max-min sharing the
/// representative's flows then get the rates they get with all members' flows present (its own
/// link is their bottleneck or is as loaded as any other), so its timing is the same with 1 flow
/// instead of n (GPT-3 175B on 1,024 GPUs: 705,467 → 189,371 activities, the same iteration time to 1e-6 s).
void inject(CommContext& ctx, const std::vector<const GroupLayout*>& groups, const program::Collective& c,
            bool copies, int only_from = -1) {
  if (groups.empty()) return;
  std::vector<std::vector<Phase>> phases;
  phases.reserve(groups.size());
  for (const GroupLayout* g : groups) {
    program::Collective mine = c;
    // A broadcast root is a position in the group: the copies' roots are at the same position.
    if (c.kind == program::CollectiveKind::kBroadcast && g != groups.front()) {
      const auto root = groups.front()->position.find(static_cast<int>(c.root.value));
      if (root != groups.front()->position.end()) mine.root = core::RankId(g->ranks[root->second]);
    }
    phases.push_back(phases_of(*g, mine));
  }
  Flows flows;
  for (std::size_t k = 0; k < phases.front().size(); ++k) {
    const Phase& ph = phases.front()[k];
    if (ctx.aggregate && ph.shape != Phase::Shape::kPairwise && ph.shape != Phase::Shape::kTree) {
      double extra_s = 0;
      for (std::size_t i = 0; i < groups.size(); ++i) {
        phase_flows(ctx, phases[i][k], 0, true, copies, flows, only_from);
        extra_s = std::max(extra_s, aggregate_extra_s(ctx, *groups[i], phases[i][k]));
      }
      transfer(flows);
      sleep_for(ctx, extra_s);
      continue;
    }
    for (int s = 0; s < ph.steps; ++s) {
      for (std::size_t i = 0; i < groups.size(); ++i) phase_flows(ctx, phases[i][k], s, false, copies, flows);
      transfer(flows);
    }
  }
}

/// Runs `job` in a helper actor on `rank`'s GPU (CommContext::start_helper).
void start_helper(CommContext& ctx, int rank, std::function<void()> job) {
  if (ctx.start_helper) ctx.start_helper(rank, std::move(job));
  else spawn_helper("copies", ctx.rank_gpu[rank], std::move(job));
}

std::string& append(std::string& s, std::int64_t v) { return s += std::to_string(v); }

}  // namespace

void watch_modelled_traffic(CommContext& ctx) {
  const std::size_t n = ctx.rank_node.size();
  const platforms::Cluster& cluster = *ctx.cluster;
  // A NIC by (node, its index there): GPU j of a node uses NIC j mod nics_per_node.
  const auto nic_of = [&](int rank) {
    const platforms::GpuSlot& slot = cluster.gpus[static_cast<std::size_t>(ctx.rank_gpu_index[rank])];
    const int nics = std::max(1, cluster.type_of_gpu(ctx.rank_gpu_index[rank]).nics_per_node);
    return std::make_pair(slot.node.value, slot.local_index % nics);
  };
  std::set<std::pair<std::int64_t, int>> nics;
  ctx.link_watched.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r)
    if (ctx.representatives->is_simulated(static_cast<int>(r))) {
      ctx.link_watched[r] = 1;
      nics.insert(nic_of(static_cast<int>(r)));
    }
  for (const GroupLayout& g : ctx.groups) {
    if (g.simulated_members == 0) continue;
    for (const int r : g.ranks) {
      ctx.link_watched[static_cast<std::size_t>(r)] = 1;
      if (g.nodes >= 2) nics.insert(nic_of(r));
    }
  }
  ctx.nic_watched.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r) ctx.nic_watched[r] = nics.count(nic_of(static_cast<int>(r))) != 0 ? 1 : 0;
}

int simulated_rank(const CommContext& ctx, int rank) {
  return ctx.representatives != nullptr ? ctx.representatives->representative_of(rank) : rank;
}

bool leads_group(const CommContext& ctx, int rank, const GroupLayout& g) {
  if (ctx.representatives == nullptr) return false;
  for (const int r : g.ranks)
    if (ctx.representatives->is_simulated(r)) return r == rank;
  return false;
}

namespace {

/// The barrier of the members of one collective instance (`key`), created by the first to arrive.
CoarseState::BarrierEntry& barrier_of(CommContext& ctx, const std::string& key, int members) {
  CoarseState::BarrierEntry& entry = ctx.coarse->barriers[key];
  if (!entry.barrier) {
    entry.barrier = sg4::Barrier::create(static_cast<unsigned>(members));
    entry.leaving = members;
  }
  return entry;
}

/// The closing barrier: the last member to pass it forgets the entry.
void leave(CommContext& ctx, const std::string& key, CoarseState::BarrierEntry& entry, const sg4::BarrierPtr& barrier) {
  barrier->wait();
  if (--entry.leaving == 0) ctx.coarse->barriers.erase(key);
}

/// This member's NVLS transfers: S to its node's switch and S back, at once.
void switch_transfers(CommContext& ctx, int rank, std::uint64_t bytes) {
  sg4::Host* nvswitch = ctx.rank_switch[static_cast<std::size_t>(rank)];
  if (nvswitch == nullptr || bytes == 0) return;
  std::vector<sg4::CommPtr> comms = {sg4::Comm::sendto_async(ctx.rank_gpu[rank], nvswitch, bytes),
                                     sg4::Comm::sendto_async(nvswitch, ctx.rank_gpu[rank], bytes)};
  ctx.activities += 2;
  sg4::Comm::wait_all(comms);
}

}  // namespace

void run_switch_phase(CommContext& ctx, int rank, const GroupLayout& g, std::uint64_t bytes, const std::string& prefix,
                      int iteration) {
  std::string key = prefix;
  key += "@";
  append(key, iteration);
  CoarseState::BarrierEntry& entry = barrier_of(ctx, key, static_cast<int>(g.ranks.size()));
  const sg4::BarrierPtr barrier = entry.barrier;  // the entry may be erased while we wait
  barrier->wait();
  switch_transfers(ctx, rank, bytes);
  leave(ctx, key, entry, barrier);
}

void run_collective_aggregate(CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c,
                              const std::string& prefix, int iteration, int op_index) {
  const int n = static_cast<int>(g.ranks.size());
  const int pos = g.position.at(rank);
  std::string key = prefix;
  key += "@";
  append(key, iteration);
  CoarseState::BarrierEntry& entry = barrier_of(ctx, key, n);
  const sg4::BarrierPtr barrier = entry.barrier;  // the entry may be erased while we wait
  barrier->wait();
  if (leads_group(ctx, rank, g)) inject_collective_copies(ctx, rank, op_index, g, c);

  const std::vector<Phase> phases = phases_of(g, c);
  struct Receive {
    sg4::CommPtr comm;
    std::size_t ring;  ///< its landing slot
    std::string box;
  };
  for (std::size_t k = 0; k < phases.size(); ++k) {
    const Phase& ph = phases[k];
    // All-to-all and trees are never aggregated (collectives.cpp).
    if (ph.shape == Phase::Shape::kPairwise || ph.shape == Phase::Shape::kTree || ph.steps <= 0) continue;
    if (ph.shape == Phase::Shape::kSwitch) {
      switch_transfers(ctx, rank, ph.chunk_bytes);
      continue;
    }
    // This member's rings (one, or one per rail channel) and its position in each.
    const auto rings = rings_through(g, static_cast<cost::Rings>(ph.latency_slot), pos);
    std::vector<sg4::CommPtr> sends;
    std::vector<Receive> recvs;
    std::vector<void*> slots(rings.size(), nullptr);  // one landing slot per ring
    std::uint64_t bytes = ph.chunk_bytes * ph.steps;
    for (std::size_t r = 0; r < rings.size(); ++r) {
      const auto [ring, at] = rings[r];
      const int m = static_cast<int>(ring->size());
      if (m < 2) continue;
      std::string box = prefix;
      box += ".a";
      append(box, static_cast<std::int64_t>(k));
      if (rings.size() > 1) append(box += "#", static_cast<std::int64_t>(r));
      box += ">";
      const std::size_t stem = box.size();
      bool sends_here = true, receives_here = true;
      if (ph.shape == Phase::Shape::kChain) {
        const int chain_index = (at - ph.root_pos + m) % m;
        sends_here = chain_index < m - 1;
        receives_here = chain_index > 0;
        bytes = ph.chunk_bytes * ph.chunks;
      }
      if (sends_here) {
        append(box, (*ring)[(at + 1) % m]);
        sends.push_back(sg4::Mailbox::by_name(box)->put_async(invariants::carry(bytes), bytes));
        ++ctx.activities;
      }
      if (receives_here) {
        box.resize(stem);
        append(box, (*ring)[at]);
        recvs.push_back({sg4::Mailbox::by_name(box)->get_async<void>(&slots[r]), r, box});
      }
    }
    if (sends.empty() && recvs.empty()) continue;
    for (const sg4::CommPtr& send : sends) send->wait();
    for (const Receive& recv : recvs) {
      recv.comm->wait();
      check_landed(slots[recv.ring], bytes, recv.box, rank);
    }
    sleep_for(ctx, aggregate_extra_s(ctx, g, ph));
  }

  leave(ctx, key, entry, barrier);
}

void run_collective_collapsed(CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c) {
  // Aggregated, a collapsed group inside one node needs only the representative's own flows.
  inject(ctx, {&g}, c, false, ctx.aggregate && g.nodes == 1 ? rank : -1);
}

double collapsed_closed_form_s(const CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c) {
  double total_s = 0;
  for (const Phase& ph : phases_of(g, c)) {
    if (ph.shape != Phase::Shape::kRings) return -1;
    const auto rings = rings_through(g, static_cast<cost::Rings>(ph.latency_slot), g.position.at(rank));
    if (rings.size() != 1) return -1;  // rail channels: only groups spanning nodes have them
    const auto [ring, at] = rings.front();
    const int m = static_cast<int>(ring->size());
    if (m < 2 || ph.steps <= 0) continue;
    // As inject(): the flow of this member (none for zero bytes), then the model's latencies.
    if (const std::uint64_t bytes = ph.chunk_bytes * static_cast<std::uint64_t>(ph.steps); bytes > 0) {
      const PathCost p = path(ctx, rank, (*ring)[(at + 1) % m]);
      if (!(p.bandwidth_bytes_per_s > 0)) return -1;
      total_s += p.latency_s + static_cast<double>(bytes) / p.bandwidth_bytes_per_s;
    }
    if (const double extra_s = aggregate_extra_s(ctx, g, ph); extra_s > 0) total_s += extra_s;
  }
  return total_s;
}

void inject_collective_copies(CommContext& ctx, int rank, int op_index, const GroupLayout& g,
                              const program::Collective& c) {
  if (ctx.representatives == nullptr || op_index < 0 || g.nodes < 2) return;
  const Representatives& reps = *ctx.representatives;
  const std::vector<int>& members = reps.members[reps.class_of[rank]];
  if (members.size() < 2) return;
  std::vector<const GroupLayout*> copies;
  std::unordered_set<int> seen = {c.group};
  for (const int s : members) {
    if (s == rank) continue;
    const int copy = ctx.view->group_at(core::RankId(s), static_cast<std::size_t>(op_index));
    if (!seen.insert(copy).second || ctx.groups[copy].nodes < 2) continue;
    const auto& ranks = ctx.groups[copy].ranks;
    if (ctx.copies_everywhere ||
        std::any_of(ranks.begin(), ranks.end(), [&ctx](int r) { return ctx.link_watched[r] || ctx.nic_watched[r]; }))
      copies.push_back(&ctx.groups[copy]);
  }
  if (copies.empty()) return;
  program::Collective like = c;
  like.group = copies.front()->id;
  if (c.kind == program::CollectiveKind::kBroadcast) {
    const auto root = g.position.find(static_cast<int>(c.root.value));
    if (root != g.position.end()) like.root = core::RankId(copies.front()->ranks[root->second]);
  }
  start_helper(ctx, rank, [&ctx, copies = std::move(copies), like]() { inject(ctx, copies, like, true); });
}

void note_p2p_post(CommContext& ctx, int rank, int op_index, const program::PointToPoint& p, bool is_send) {
  if (ctx.representatives == nullptr || !(p.bytes > 0) || op_index < 0) return;
  const Representatives& reps = *ctx.representatives;
  const int peer = reps.representative_of(static_cast<int>(p.peer.value));
  const auto key = is_send ? std::make_tuple(rank, peer, p.tag) : std::make_tuple(peer, rank, p.tag);
  const auto it = ctx.coarse->p2p.try_emplace(key).first;
  CoarseState::Posts& posts = it->second;
  int send_op = -1;
  if (is_send) {
    if (posts.recvs > 0) {
      --posts.recvs;
      send_op = op_index;
    } else {
      posts.send_ops.push_back(op_index);
    }
  } else if (!posts.send_ops.empty()) {
    send_op = posts.send_ops.front();
    posts.send_ops.pop_front();
  } else {
    ++posts.recvs;
  }
  if (posts.recvs == 0 && posts.send_ops.empty()) ctx.coarse->p2p.erase(it);
  if (send_op < 0) return;  // the transfer starts when the other half is posted

  // The transfer starts now: so do the copies' transfers that leave their node.
  const int source = std::get<0>(key);
  std::vector<std::pair<int, int>> pairs;
  for (const int s : reps.members[reps.class_of[source]]) {
    if (s == source) continue;
    const int to = static_cast<int>(ctx.view->peer_at(core::RankId(s), static_cast<std::size_t>(send_op)).value);
    if (ctx.rank_node[s] != ctx.rank_node[to] && copy_matters(ctx, s, to)) pairs.emplace_back(s, to);
  }
  if (pairs.empty()) return;
  const std::uint64_t bytes = to_bytes(p.bytes);
  start_helper(ctx, rank, [&ctx, pairs = std::move(pairs), bytes]() {
    Flows flows;
    flows.reserve(pairs.size());
    for (const auto& [from, to] : pairs) add_flow(ctx, flows, from, to, bytes);
    transfer(flows);
  });
}

}  // namespace frugal::engine
