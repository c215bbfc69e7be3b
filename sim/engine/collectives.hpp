// Collectives and point-to-point transfers as SimGrid mailbox communications, run from inside
// the calling rank's actor. Each algorithm is a sequence of steps; in a step a member posts its
// send and its receive together and waits for both (so α is paid once per step, and the step
// structure gives the textbook closed forms on uniform links). No global barrier: members only
// synchronize with the peers they exchange with, through the mailbox rendezvous.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/program/program.hpp"
#include "sim/program/rank_classes.hpp"

namespace simgrid::s4u {
class Host;
}

namespace frugal::engine {

/// One Program::Group as the algorithms need it, computed once per simulation (O(group size)).
struct GroupLayout {
  int id = 0;
  std::string name;
  std::vector<int> ranks;                  ///< ring order (Group::ranks)
  std::unordered_map<int, int> position;   ///< rank → index in `ranks`
  cost::GroupShape shape;                  ///< what the algorithms' phases need (cost::phases)
  /// Balanced groups (shape.balanced: ≥ 2 nodes with as many members each): node slot m → its
  /// members (local order), so member m·L + l of the node-major order is by_node[m][l].
  std::vector<std::vector<int>> by_node;
  /// shape.two_level (the hierarchical decomposition): local index l → the l-th member of every node
  std::vector<std::vector<int>> by_local;
  /// shape.channels > 1: channel c → its ring through every member (cost::Rings::kRails).
  std::vector<std::vector<int>> by_channel;
  std::vector<int> node_slot;              ///< balanced: index in `ranks` → node slot m
  std::vector<int> local_index;            ///< balanced: index in `ranks` → local index l
  /// Balanced: the tree all-reduce's trees (cost::all_reduce_trees) over node-major indices,
  /// built by trees_of when a tree all-reduce first runs on the group.
  mutable std::vector<cost::Tree> trees;
  std::vector<int> node_major;             ///< balanced: node-major index → rank
  int nodes = 0;                           ///< distinct nodes of the members
  /// Members that run as actors (all unless representatives stand for identical ranks); a group
  /// with one simulated member of several is "collapsed" (see coarse_collectives.hpp).
  int simulated_members = 0;
  /// Cached by the aggregate model (coarse_collectives.cpp): slowest-edge latency of the member
  /// ring [0], of the node-local rings [1], of the cross-node rings [2] and of the rail channels'
  /// rings [3]; < 0 until computed.
  mutable double ring_latency_s[4] = {-1, -1, -1, -1};
  mutable double ring_bandwidth_bytes_per_s = -1;  ///< smallest bandwidth on the member ring
  /// The algorithm each (kind, requested algorithm, bytes) runs (algorithm_of), once computed.
  mutable std::map<std::tuple<int, int, double>, program::CollectiveAlgorithm> chosen;
};

/// The group's trees (GroupLayout::trees), built on first use; empty unless shape.balanced.
const std::vector<cost::Tree>& trees_of(const GroupLayout& g);

/// The algorithm `c` runs on `g`: cost::effective_algorithm (kAuto: select_algorithm's choice;
/// an algorithm the group does not allow: the ring), cached per kind, requested algorithm and size.
program::CollectiveAlgorithm algorithm_of(const GroupLayout& g, const program::Collective& c);

/// `rank_gpu[r]` is rank r's global GPU index, `rank_node[r]` its node (the platform's).
GroupLayout make_group_layout(int id, const program::Group& group, const platforms::Cluster& cluster,
                              const std::vector<int>& rank_gpu, const std::vector<int>& rank_node);

/// The rings of kind `rings` (cost::Rings) that the member at `pos` (index in g.ranks) belongs
/// to, each with its position in it: one ring, or one per rail channel for kRails.
std::vector<std::pair<const std::vector<int>*, int>> rings_through(const GroupLayout& g, cost::Rings rings, int pos);
/// Every ring of kind `rings`, all of which run at once in a phase.
std::vector<const std::vector<int>*> rings_of(const GroupLayout& g, cost::Rings rings);

struct CoarseState;        // coarse_collectives.cpp: barriers and rendezvous bookkeeping
struct Representatives;    // coarse_replicas.hpp

/// What the algorithms read and update; owned by the executor, shared by all actors (SimGrid
/// runs actors one at a time, so plain fields are safe).
struct CommContext {
  std::vector<simgrid::s4u::Host*> rank_gpu;  ///< rank → its GPU host
  std::vector<simgrid::s4u::Host*> rank_cpu;  ///< rank → its node's CPU host
  std::vector<simgrid::s4u::Host*> rank_switch;  ///< rank → its node's NVSwitch host (nullptr: no NVLS)
  std::vector<GroupLayout> groups;            ///< Program::groups, same indices
  std::uint64_t activities = 0;               ///< executions, communications and sleeps started
  /// By actor id: where that actor's receives land their payload (invariants::carried). Never
  /// erased, so a reference stays valid (an unordered_map keeps its nodes in place).
  std::unordered_map<long, void*> landing;
  /// Collective model: false = step by step (the reference), true = aggregate.
  bool aggregate = false;
  const platforms::Cluster* cluster = nullptr;   ///< for route costs (gpu_path)
  std::vector<int> rank_gpu_index;               ///< rank → global GPU index
  std::vector<int> rank_node;                    ///< rank → node id
  const program::ClassView* view = nullptr;      ///< the ops of identical ranks (copies), renamed
  /// Non-null when representatives stand for identical ranks: peers are redirected to their
  /// representatives and the copies' traffic is injected (coarse_collectives.hpp).
  const Representatives* representatives = nullptr;
  /// With representatives: rank → 1 when its GPU's link (`link_watched`) or the NIC its GPU
  /// uses (`nic_watched`) carries modelled traffic: see watch_modelled_traffic
  /// (coarse_collectives.hpp). Copies' transfers are injected only where they cross such a link
  /// or NIC, or everywhere when `copies_everywhere` (a shared backbone carries every inter-node
  /// transfer).
  std::vector<char> link_watched;
  std::vector<char> nic_watched;
  bool copies_everywhere = false;
  std::shared_ptr<CoarseState> coarse;           ///< created by the executor
  /// Runs a job in a helper actor on `rank`'s GPU host, now (the executor's pools reuse them;
  /// unset: a new helper actor per job).
  std::function<void(int rank, std::function<void()> job)> start_helper;
};

/// Where the calling actor's receives land their payload (CommContext::landing); senders put
/// invariants::carry(bytes). check_landed: the receive just completed carried `expected` bytes
/// (else core::InternalError naming the rank and the mailbox).
void*& landing_slot(CommContext& ctx);
void check_landed(const void* slot, std::uint64_t expected, const std::string& box, int rank);

/// Broadcast splits S into chunks of kBroadcastChunkBytes (at most kMaxBroadcastChunks) and
/// pipelines them down a chain: T = (n − 2 + k)·(α + S/(k·β)) for k chunks on uniform links.
using cost::broadcast_chunks;
using cost::kBroadcastChunkBytes;
using cost::kMaxBroadcastChunks;

/// Runs `rank`'s part of collective `c` (program conventions: `bytes` is the whole buffer), step
/// by step from the algorithm's phases (cost::phases, sim/cost/collective_algorithms.hpp).
/// Algorithms, for n members, S = c.bytes, on links of latency α and bandwidth β:
/// - all-reduce, ring: reduce-scatter then all-gather, 2(n−1) steps of S/n:
///   T = 2(n−1)·α + 2(n−1)/n·S/β.
/// - all-reduce, hierarchical (when GroupLayout::shape.two_level, else ring): with L members on
///   each of M nodes: intra-node reduce-scatter ring (L−1 steps of S/L), inter-node all-reduce
///   ring among members of equal local index on S/L bytes (2(M−1) steps of S/(L·M)), intra-node
///   all-gather ring (L−1 steps of S/L). The L inter-node rings run at once and share the NICs.
/// - reduce-scatter (S in) and all-gather (S out), ring: n−1 steps of S/n:
///   T = (n−1)·α + (n−1)/n·S/β. (Hierarchical falls back to ring.)
/// - rings over a group spanning nodes with C > 1 rail channels (GroupShape::channels): the
///   same steps, each carrying S/(n·C) on every channel's ring at once.
///   T = steps · max(α_intra + (C − 1)·S/(n·C·β_intra), α_inter + S/(n·C·β_inter)) on uniform
///   links (cost::collective_time_s).
/// - all-reduce, tree (GroupLayout::trees, else ring): the 2C trees of cost::all_reduce_trees,
///   each carrying S/(2C) in k = broadcast_chunks(S/(2C)) pieces, reduce up and broadcast down
///   overlapping (cost::Pattern::kTree), 2D + k − 1 steps for trees of height D; on a uniform
///   network each step lasts α + u·b/β for the most loaded link direction u (cost::collective_time_s).
/// - all-reduce, nvls (a one-node group whose node has an NVSwitch host, else ring): once every
///   member has arrived, each sends S to the switch while receiving S from it, and leaves when
///   all have done so: T = 2·α_link + S/min(β_link, nvls_bandwidth).
/// - kAuto: the algorithm cost::select_algorithm picks for the size (algorithm_of).
/// - broadcast: chain from the root following ring order, S pipelined in broadcast_chunks(S).
/// - all-to-all: S is what each member sends in total (S/n to each peer, itself included, so
///   (n−1)/n·S leaves it); pairwise exchange in n−1 steps, step s sending S/n to position
///   p+s and receiving from p−s: T = (n−1)·α + (n−1)/n·S/β.
/// Zero bytes or a single member: returns at once. Otherwise each member first waits the
/// cluster's collective overhead for the kind (NetworkSpec::collective_overhead, 0 by default).
/// That is the step-by-step model. With CommContext::aggregate, or when representatives stand
/// for identical ranks, coarse_collectives.hpp runs it instead. `op_index` (the op in the
/// rank's program) finds the copies' ops; `iteration` tells the program's iterations apart.
/// A collective of a group spanning nodes, run by its representative alone (coarse mode), that
/// carries at most this many bytes takes its closed form (cost::collective_time_s) instead of
/// injecting its flows.
inline constexpr double kLatencyBoundBytes = 64 * 1024;
void run_collective(CommContext& ctx, int rank, const program::Collective& c, int op_index = -1, int iteration = 0);

/// Point-to-point: mailbox per (src, dst, tag); send and recv each return when the transfer is
/// done: T = α + S/β from the later of the two posts. Zero bytes: returns at once.
/// Both return the simulated time the transfer started (when send and recv matched; the call
/// time for zero bytes), so callers can tell waiting for the peer (a pipeline bubble) from data
/// in flight.
/// With representatives, the peer is redirected to its representative and the copies'
/// transfers start with the transfer (note_p2p_post); `op_index` is the op in the rank's program.
double run_send(CommContext& ctx, int rank, const program::PointToPoint& p, int op_index = -1);
double run_recv(CommContext& ctx, int rank, const program::PointToPoint& p, int op_index = -1);

/// Transfer between `from` and `to` hosts without a receiving actor (copies over PCIe,
/// checkpoint writes to the node's CPU). Zero bytes: returns at once.
void run_host_transfer(CommContext& ctx, simgrid::s4u::Host* from, simgrid::s4u::Host* to, double bytes);

}  // namespace frugal::engine
