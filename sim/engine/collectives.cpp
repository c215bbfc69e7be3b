// Collective algorithms and point-to-point transfers as mailbox steps, generated from the
// algorithms' phases (sim/cost/collective_algorithms.hpp; closed forms in collectives.hpp).
// Activities are created just in time by the calling actor; mailboxes are looked up once per
// call, never per step.
#include "sim/engine/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <simgrid/s4u.hpp>

#include "sim/engine/coarse_collectives.hpp"
#include "sim/engine/run_invariants.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {
namespace {


std::uint64_t to_bytes(double bytes) { return bytes > 0 ? static_cast<std::uint64_t>(std::llround(bytes)) : 0; }

// Appends (never prepends: GCC 12 warns falsely on "literal" + std::string).
std::string& append(std::string& s, std::int64_t v) { return s += std::to_string(v); }

std::string collective_prefix(const program::Collective& c) {
  std::string s = "c";
  append(s, c.group) += ".";
  return append(s, c.instance);
}

std::string mailbox_name(const std::string& prefix, int dst) {
  std::string s = prefix;
  s += ">";
  return append(s, dst);
}

std::string pair_mailbox_name(const std::string& prefix, int src, int dst) {
  std::string s = prefix;
  s += ".";
  append(s, src) += ">";
  return append(s, dst);
}

// `steps` ring steps on `rings` (each with this rank's position in it; one ring, or one per
// rail channel): in each step send `chunk` bytes to the successor on every ring while receiving
// from the predecessors, all in flight together. Each mailbox has one sender (the predecessor on
// its ring) and one receiver, so FIFO matching pairs step s with step s.
void ring_steps(CommContext& ctx, const std::vector<std::pair<const std::vector<int>*, int>>& rings, int steps,
                std::uint64_t chunk, const std::string& prefix) {
  if (steps <= 0) return;
  std::vector<sg4::Mailbox*> out, in;
  int self = -1;
  for (std::size_t c = 0; c < rings.size(); ++c) {
    const std::vector<int>& members = *rings[c].first;
    const int n = static_cast<int>(members.size());
    if (n < 2) continue;
    const int pos = rings[c].second;
    self = members[pos];
    // One ring keeps the plain mailbox names; channels get theirs.
    std::string box = prefix;
    if (rings.size() > 1) append(box += "#", static_cast<std::int64_t>(c));
    out.push_back(sg4::Mailbox::by_name(mailbox_name(box, members[(pos + 1) % n])));
    in.push_back(sg4::Mailbox::by_name(mailbox_name(box, self)));
  }
  if (out.empty()) return;
  std::vector<void*> slots(in.size(), nullptr);  // one landing slot per receive in flight
  std::vector<sg4::CommPtr> comms;
  comms.reserve(2 * out.size());
  for (int s = 0; s < steps; ++s) {
    comms.clear();
    for (std::size_t c = 0; c < out.size(); ++c) {
      comms.push_back(out[c]->put_async(invariants::carry(chunk), chunk));
      comms.push_back(in[c]->get_async<void>(&slots[c]));
      ++ctx.activities;
    }
    sg4::Comm::wait_all(comms);
    for (std::size_t c = 0; c < in.size(); ++c) check_landed(slots[c], chunk, in[c]->get_name(), self);
  }
}

// Chain broadcast from `root_pos`, `chunks` pipelined pieces of `chunk` bytes in `steps` steps.
// Member at chain index c sends chunk j in step c + j and receives chunk j in step c + j − 1.
void chain_broadcast(CommContext& ctx, const std::vector<int>& members, int pos, int root_pos, int chunks, int steps,
                     std::uint64_t chunk, const std::string& prefix) {
  const int n = static_cast<int>(members.size());
  const int k = chunks;
  const int c = (pos - root_pos + n) % n;
  const int self = members[pos];
  const int succ = members[(pos + 1) % n];
  sg4::Mailbox* out = c < n - 1 ? sg4::Mailbox::by_name(mailbox_name(prefix, succ)) : nullptr;
  sg4::Mailbox* in = c > 0 ? sg4::Mailbox::by_name(mailbox_name(prefix, self)) : nullptr;
  void*& slot = landing_slot(ctx);
  for (int t = 0; t < steps; ++t) {
    const int send_chunk = t - c;
    const int recv_chunk = t - c + 1;
    sg4::CommPtr send, recv;
    if (out != nullptr && send_chunk >= 0 && send_chunk < k) {
      send = out->put_async(invariants::carry(chunk), chunk);
      ++ctx.activities;
    }
    if (in != nullptr && recv_chunk >= 0 && recv_chunk < k) recv = in->get_async<void>(&slot);
    if (send) send->wait();
    if (recv) {
      recv->wait();
      check_landed(slot, chunk, in->get_name(), self);
    }
  }
}

// Pairwise exchange in `steps` steps of `chunk` bytes: step s sends to position p+s and
// receives from p−s. Mailboxes are per (source, destination) pair because several sources feed
// one destination.
void pairwise_all_to_all(CommContext& ctx, const std::vector<int>& members, int pos, int steps, std::uint64_t chunk,
                         const std::string& prefix) {
  const int n = static_cast<int>(members.size());
  const int self = members[pos];
  void*& slot = landing_slot(ctx);
  for (int s = 1; s <= steps; ++s) {
    const int dst = members[(pos + s) % n];
    const int src = members[(pos - s + n) % n];
    sg4::Mailbox* out = sg4::Mailbox::by_name(pair_mailbox_name(prefix, self, dst));
    sg4::Mailbox* in = sg4::Mailbox::by_name(pair_mailbox_name(prefix, src, self));
    sg4::CommPtr send = out->put_async(invariants::carry(chunk), chunk);
    sg4::CommPtr recv = in->get_async<void>(&slot);
    ++ctx.activities;
    send->wait();
    recv->wait();
    check_landed(slot, chunk, in->get_name(), self);
  }
}

// Tree phase (cost::Pattern::kTree) for the member at `pos`: on every tree through it, piece j
// goes to its parent in step D − d + j and comes from each child in step D − d − 1 + j (reduce),
// comes from its parent in step D + d − 1 + j and goes to each child in step D + d + j
// (broadcast); every transfer of a step is in flight together. Each edge has one mailbox per
// direction (one sender, one receiver), so FIFO matching pairs piece j with piece j.
void tree_steps(CommContext& ctx, const GroupLayout& g, int pos, const cost::Phase& ph, std::uint64_t piece,
                const std::string& prefix) {
  const int self = g.ranks[pos];
  const int v = g.node_slot[pos] * static_cast<int>(g.by_node.front().size()) + g.local_index[pos];
  struct Edge {
    sg4::Mailbox* box;
    int first;  ///< active in steps [first, first + pieces)
  };
  std::vector<Edge> sends, recvs;
  const int D = ph.height;
  const auto box_of = [&](std::size_t t, const char* dir, int child) {
    std::string box = prefix;
    append(box += "#", static_cast<std::int64_t>(t)) += dir;
    return sg4::Mailbox::by_name(append(box, child));
  };
  const std::vector<cost::Tree>& trees = trees_of(g);
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const cost::Tree& tree = trees[t];
    const int d = tree.depth[static_cast<std::size_t>(v)];
    if (tree.parent[static_cast<std::size_t>(v)] >= 0) {
      sends.push_back({box_of(t, "u", self), D - d});
      recvs.push_back({box_of(t, "d", self), D + d - 1});
    }
    for (const int child : tree.children[static_cast<std::size_t>(v)]) {
      const int rank = g.node_major[static_cast<std::size_t>(child)];
      recvs.push_back({box_of(t, "u", rank), D - d - 1});
      sends.push_back({box_of(t, "d", rank), D + d});
    }
  }
  std::vector<void*> slots(recvs.size(), nullptr);
  std::vector<sg4::CommPtr> comms;
  std::vector<std::size_t> landed;
  const auto active = [&](const Edge& e, int step) { return step >= e.first && step < e.first + ph.pieces; };
  for (int step = 0; step < ph.steps; ++step) {
    comms.clear();
    landed.clear();
    for (const Edge& e : sends)
      if (active(e, step)) {
        comms.push_back(e.box->put_async(invariants::carry(piece), piece));
        ++ctx.activities;
      }
    for (std::size_t r = 0; r < recvs.size(); ++r)
      if (active(recvs[r], step)) {
        comms.push_back(recvs[r].box->get_async<void>(&slots[r]));
        landed.push_back(r);
      }
    if (comms.empty()) continue;
    sg4::Comm::wait_all(comms);
    for (const std::size_t r : landed) check_landed(slots[r], piece, recvs[r].box->get_name(), self);
  }
}

std::string p2p_mailbox(int src, int dst, std::int64_t tag) {
  std::string s = "p";
  append(s, src) += ">";
  append(s, dst) += ".";
  return append(s, tag);
}

}  // namespace

void*& landing_slot(CommContext& ctx) { return ctx.landing[sg4::this_actor::get_pid()]; }

void check_landed(const void* slot, std::uint64_t expected, const std::string& box, int rank) {
  const std::uint64_t received = invariants::carried(slot);
  if (received != expected)  // the message is built only then: this runs on every step
    invariants::check_received(received, expected, "rank " + std::to_string(rank) + " on mailbox " + box);
}

std::vector<std::pair<const std::vector<int>*, int>> rings_through(const GroupLayout& g, cost::Rings rings, int pos) {
  switch (rings) {
    case cost::Rings::kNodeLocal: return {{&g.by_node[g.node_slot[pos]], g.local_index[pos]}};
    case cost::Rings::kCrossNode: return {{&g.by_local[g.local_index[pos]], g.node_slot[pos]}};
    case cost::Rings::kRails: {
      // Channel c lists each node's members from its c-th: local index l sits at (l − c) mod L.
      const int per_node = static_cast<int>(g.by_local.size());
      std::vector<std::pair<const std::vector<int>*, int>> out;
      for (std::size_t c = 0; c < g.by_channel.size(); ++c)
        out.emplace_back(&g.by_channel[c],
                         g.node_slot[pos] * per_node + (g.local_index[pos] - static_cast<int>(c) + per_node) % per_node);
      return out;
    }
    case cost::Rings::kMembers: break;
  }
  return {{&g.ranks, pos}};
}

std::vector<const std::vector<int>*> rings_of(const GroupLayout& g, cost::Rings rings) {
  std::vector<const std::vector<int>*> out;
  if (rings == cost::Rings::kMembers) {
    out.push_back(&g.ranks);
    return out;
  }
  const auto& list = rings == cost::Rings::kNodeLocal ? g.by_node : rings == cost::Rings::kCrossNode ? g.by_local : g.by_channel;
  for (const auto& r : list) out.push_back(&r);
  return out;
}

GroupLayout make_group_layout(int id, const program::Group& group, const platforms::Cluster& cluster,
                              const std::vector<int>& rank_gpu, const std::vector<int>& rank_node) {
  GroupLayout g;
  g.id = id;
  g.name = group.name;
  g.ranks.reserve(group.ranks.size());
  std::vector<int> gpus;
  gpus.reserve(group.ranks.size());
  for (const auto& r : group.ranks) {
    if (r.value < 0 || r.value >= static_cast<std::int64_t>(rank_node.size()))
      throw std::invalid_argument("group " + std::to_string(id) + " (\"" + group.name + "\"): rank " +
                                  std::to_string(r.value) + " out of range");
    const int rank = static_cast<int>(r.value);
    if (!g.position.emplace(rank, static_cast<int>(g.ranks.size())).second)
      throw std::invalid_argument("group " + std::to_string(id) + " (\"" + group.name + "\"): rank " +
                                  std::to_string(rank) + " listed twice");
    g.ranks.push_back(rank);
    gpus.push_back(rank_gpu[rank]);
  }
  g.shape = cost::group_shape(cluster, gpus);

  std::unordered_map<int, int> slot_of_node;
  std::vector<int> slot_of_pos(g.ranks.size()), local_of_pos(g.ranks.size());
  for (std::size_t p = 0; p < g.ranks.size(); ++p) {
    auto [it, inserted] = slot_of_node.emplace(rank_node[g.ranks[p]], static_cast<int>(g.by_node.size()));
    if (inserted) g.by_node.emplace_back();
    slot_of_pos[p] = it->second;
    local_of_pos[p] = static_cast<int>(g.by_node[it->second].size());
    g.by_node[it->second].push_back(g.ranks[p]);
  }
  g.nodes = static_cast<int>(g.by_node.size());
  const std::size_t per_node = g.by_node.empty() ? 0 : g.by_node.front().size();
  if (g.shape.two_level) {
    g.by_local.assign(per_node, {});
    for (std::size_t l = 0; l < per_node; ++l)
      for (const auto& members : g.by_node) g.by_local[l].push_back(members[l]);
    if (g.shape.channels > 1) {
      g.by_channel.assign(static_cast<std::size_t>(g.shape.channels), {});
      for (std::size_t c = 0; c < g.by_channel.size(); ++c)
        for (const auto& members : g.by_node)
          for (std::size_t i = 0; i < per_node; ++i) g.by_channel[c].push_back(members[(c + i) % per_node]);
    }
  }
  if (g.shape.balanced) {
    g.node_slot = std::move(slot_of_pos);
    g.local_index = std::move(local_of_pos);
    for (const auto& members : g.by_node) g.node_major.insert(g.node_major.end(), members.begin(), members.end());
  } else {
    g.by_node.clear();
  }
  return g;
}

const std::vector<cost::Tree>& trees_of(const GroupLayout& g) {
  if (g.trees.empty() && g.shape.balanced) g.trees = cost::all_reduce_trees(g.shape);
  return g.trees;
}

program::CollectiveAlgorithm algorithm_of(const GroupLayout& g, const program::Collective& c) {
  const auto key = std::make_tuple(static_cast<int>(c.kind), static_cast<int>(c.algorithm), c.bytes);
  const auto found = g.chosen.find(key);
  if (found != g.chosen.end()) return found->second;
  return g.chosen[key] = cost::effective_algorithm(c.kind, c.algorithm, c.bytes, g.shape);
}

void run_collective(CommContext& ctx, int rank, const program::Collective& c, int op_index, int iteration) {
  if (c.group < 0 || c.group >= static_cast<int>(ctx.groups.size()))
    throw std::invalid_argument("collective on unknown group " + std::to_string(c.group));
  const GroupLayout& g = ctx.groups[c.group];
  const int n = static_cast<int>(g.ranks.size());
  if (n < 2 || !(c.bytes > 0)) return;
  const auto found = g.position.find(rank);
  if (found == g.position.end())
    throw std::invalid_argument("rank " + std::to_string(rank) + " is not a member of group " +
                                std::to_string(c.group) + " (\"" + g.name + "\")");
  const int pos = found->second;
  if (c.kind == program::CollectiveKind::kBroadcast && g.position.find(static_cast<int>(c.root.value)) == g.position.end())
    throw std::invalid_argument("broadcast root " + std::to_string(c.root.value) + " is not a member of group " +
                                std::to_string(c.group) + " (\"" + g.name + "\")");
  // A calibrated fixed cost per collective (launch, setup, synchronisation): each member pays
  // it before its first step, whatever the model below.
  if (const double overhead_s = ctx.cluster->network.collective_overhead(static_cast<int>(c.kind)); overhead_s > 0) {
    ++ctx.activities;
    sg4::this_actor::sleep_for(overhead_s);
  }
  const std::string prefix = collective_prefix(c);

  // Coarse paths (coarse_collectives.hpp): a collapsed group is run by its representative
  // alone; a group whose members are all simulated injects its copies from its first member.
  if (ctx.representatives != nullptr && g.simulated_members == 1) {
    inject_collective_copies(ctx, rank, op_index, g, c);
    if (g.nodes > 1 && c.bytes <= kLatencyBoundBytes) {
      // Latency-bound (fp8's amax reductions): its pieces load no link measurably, while a tree
      // over many nodes would inject thousands of flows per call. Its uncontended closed form.
      ++ctx.activities;
      sg4::this_actor::sleep_for(cost::collective_time_s(c.kind, algorithm_of(g, c), c.bytes, g.shape, g.shape.intra,
                                                         g.shape.inter));
      return;
    }
    run_collective_collapsed(ctx, rank, g, c);
    return;
  }
  const program::CollectiveAlgorithm algorithm = algorithm_of(g, c);
  // All-to-all and the tree all-reduce run step by step in both models: neither has an aggregate
  // form (the tree's pipeline of pieces loads its links unevenly over the steps, so one transfer
  // per edge would misplace contention); trees are chosen for latency-bound sizes, few pieces.
  const bool stepwise =
      c.kind == program::CollectiveKind::kAllToAll || algorithm == program::CollectiveAlgorithm::kTree;
  if (ctx.aggregate && !stepwise) {
    run_collective_aggregate(ctx, rank, g, c, prefix, iteration, op_index);  // injects copies after its barrier
    return;
  }
  if (leads_group(ctx, rank, g)) inject_collective_copies(ctx, rank, op_index, g, c);

  int root_pos = 0;
  if (c.kind == program::CollectiveKind::kBroadcast) root_pos = g.position.at(static_cast<int>(c.root.value));
  for (const cost::Phase& ph : cost::phases(c.kind, algorithm, c.bytes, g.shape)) {
    const std::string box = prefix + "." + ph.name;
    switch (ph.pattern) {
      case cost::Pattern::kRing:
        ring_steps(ctx, rings_through(g, ph.rings, pos), ph.steps, to_bytes(ph.step_bytes), box);
        break;
      case cost::Pattern::kChain:
        chain_broadcast(ctx, g.ranks, pos, root_pos, ph.pieces, ph.steps, to_bytes(ph.step_bytes), box);
        break;
      case cost::Pattern::kPairwise:
        pairwise_all_to_all(ctx, g.ranks, pos, ph.steps, to_bytes(ph.step_bytes), box);
        break;
      case cost::Pattern::kTree:
        tree_steps(ctx, g, pos, ph, to_bytes(ph.step_bytes), box);
        break;
      case cost::Pattern::kSwitch:
        run_switch_phase(ctx, rank, g, to_bytes(ph.step_bytes), box, iteration);
        break;
    }
  }
}

double run_send(CommContext& ctx, int rank, const program::PointToPoint& p, int op_index) {
  if (!(p.bytes > 0)) return sg4::Engine::get_clock();
  const int peer = simulated_rank(ctx, static_cast<int>(p.peer.value));
  sg4::Mailbox* box = sg4::Mailbox::by_name(p2p_mailbox(rank, peer, p.tag));
  sg4::CommPtr send = box->put_async(invariants::carry(to_bytes(p.bytes)), to_bytes(p.bytes));
  ++ctx.activities;
  note_p2p_post(ctx, rank, op_index, p, true);
  send->wait();
  return send->get_start_time();
}

double run_recv(CommContext& ctx, int rank, const program::PointToPoint& p, int op_index) {
  if (!(p.bytes > 0)) return sg4::Engine::get_clock();
  const int peer = simulated_rank(ctx, static_cast<int>(p.peer.value));
  sg4::Mailbox* box = sg4::Mailbox::by_name(p2p_mailbox(peer, rank, p.tag));
  void*& slot = landing_slot(ctx);
  sg4::CommPtr recv = box->get_async<void>(&slot);
  note_p2p_post(ctx, rank, op_index, p, false);
  recv->wait();
  check_landed(slot, to_bytes(p.bytes), box->get_name(), rank);
  return recv->get_start_time();
}

void run_host_transfer(CommContext& ctx, sg4::Host* from, sg4::Host* to, double bytes) {
  if (!(bytes > 0)) return;
  sg4::CommPtr comm = sg4::Comm::sendto_async(from, to, to_bytes(bytes));
  ++ctx.activities;
  comm->wait();
}

}  // namespace frugal::engine
