// Each collective algorithm described once, as its list of phases (which members talk to which,
// how many steps, bytes per step). The step-by-step engine generates its point-to-point steps
// from it, the aggregate engine its per-member volumes and latencies, calibration its closed
// form, and the policies a time estimate; select_algorithm is the one selection rule. Pure
// functions; no SimGrid.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/cost/path.hpp"
#include "sim/program/program.hpp"

namespace frugal::cost {

/// Broadcast splits S into chunks of this size (at most kMaxBroadcastChunks) and pipelines them
/// down a chain.
inline constexpr double kBroadcastChunkBytes = 4.0 * 1024 * 1024;
inline constexpr int kMaxBroadcastChunks = 64;
/// Pipelined pieces of a broadcast of `bytes`: ceil(bytes / kBroadcastChunkBytes) in [1, 64].
int broadcast_chunks(double bytes);

/// What a group looks like to the algorithms: n members in ring order; for the two-level
/// (hierarchical) decomposition, `nodes` nodes with `per_node` members each.
struct GroupShape {
  int members = 0;
  int nodes = 1;
  int per_node = 0;   ///< members on each node when `two_level`, else 0
  bool two_level = false;
  /// Rings a member-ring phase runs at once (NCCL's channels, one per rail): rail_channels.
  int channels = 1;
  /// ≥ 2 nodes with the same number (≥ 1) of members on each (members / nodes): what the tree
  /// all-reduce needs (all_reduce_trees).
  bool balanced = false;
  /// Uncontended routes between two members on one node (`intra`) and on two nodes (`inter`;
  /// each the other when the group has only one kind), and of a member to its NVSwitch
  /// (nvls_path; bandwidth 0 unless the group lies inside one node that declares NVLS): what
  /// select_algorithm prices.
  Path intra, inter, nvls;
};

/// The two-level rule, one for every caller (engine layouts, algorithm selection): members spread
/// over ≥ 2 nodes with the same number (≥ 2) on each. `members_per_node`: one count per node.
bool two_level(const std::vector<int>& members_per_node);

/// Channels of the member rings of a group with `per_node` members on each of its nodes
/// (`two_level`) whose nodes have at least `nics_per_node` NICs each: min(per_node, nics) for a
/// two-level group, else 1. NCCL splits a ring collective over channels whose rings enter and
/// leave each node through different GPUs, so that every NIC (rail) carries one channel's
/// inter-node traffic; one ring would cross every node boundary through one NIC.
int rail_channels(bool two_level, int per_node, int nics_per_node);

/// Shape of the group of `gpus` (global GPU indices, ring order) of `cluster`, with its paths
/// (from its first member to the first on the same node and on another node).
GroupShape group_shape(const platforms::Cluster& cluster, const std::vector<int>& gpus);

/// One tree of the tree all-reduce over member indices in node-major order (node slot m in
/// order of first appearance, local index l: m·L + l, L = members / nodes).
struct Tree {
  std::vector<int> parent;                 ///< −1 at the root
  std::vector<std::vector<int>> children;  ///< in increasing index order
  std::vector<int> depth;                  ///< the root's is 0
  int height = 0;                          ///< the largest depth
};

/// NCCL's double binary tree over `nodes` nodes: node m's parent (−1: the root) in tree `t`
/// (0 or 1). Tree 0: node m > 0 whose lowest set bit is b hangs under (m ^ b) | 2b, or under m ^ b
/// when that is ≥ nodes; the root 0 has one child. Tree 1 is tree 0 mirrored (m ↔ nodes − 1 − m)
/// for an even count, shifted by one (m ↔ m − 1 mod nodes) for an odd count. Odd nodes are the
/// leaves of tree 0, so with an even count each node has children in at most one of the two trees:
/// every node sends and receives about the same bytes.
std::vector<int> binary_tree_parents(int nodes, int t);

/// The 2·C trees of the tree all-reduce over a balanced group (C = shape.channels): for channel c,
/// trees 2c and 2c + 1 link the nodes as binary_tree_parents(nodes, 0 or 1) through their
/// members of local index c (the heads, so channel c crosses nodes through NIC c) and chain each
/// node's members below its head in local order from c (c, c + 1, …, mod L). Empty unless
/// shape.balanced.
std::vector<Tree> all_reduce_trees(const GroupShape& shape);

/// Who talks to whom in a phase.
enum class Pattern {
  kRing,      ///< every member sends each step to its successor on its ring, receives from its predecessor
  kChain,     ///< the member ring opened at the root: chain index c sends piece j in step c + j
  kPairwise,  ///< step s (0-based): position p sends to p + s + 1 and receives from p − s − 1
  /// The trees of all_reduce_trees, each carrying its share in `pieces` pipelined pieces, with
  /// D = Phase::height: a member at depth d sends piece j to its parent in step D − d + j (after
  /// receiving it from its children in step D − d − 1 + j) and, once the root has the sum,
  /// receives piece j from its parent in step D + d − 1 + j and sends it to its children in step
  /// D + d + j: reduce and broadcast overlap, 2D + k − 1 steps.
  kTree,
  /// Each member sends the whole buffer to its node's NVSwitch and receives the reduced buffer
  /// from it, both at once, after every member has arrived (one step; NVLink SHARP).
  kSwitch,
};

/// Which rings a kRing phase runs (all rings of the kind at once).
enum class Rings {
  kMembers = 0,    ///< the member ring (all members in ring order)
  kNodeLocal = 1,  ///< one ring per node: its members in ring order
  kCrossNode = 2,  ///< one ring per local index l: the l-th member of every node, nodes in order
  /// One ring per channel c < GroupShape::channels, each through every member: the nodes in
  /// order, each node's members in ring order rotated to start at its c-th member, so channel c
  /// leaves a node from its (c − 1)-th member and enters the next at its c-th: the channels
  /// cross node boundaries through different GPUs, hence different NICs.
  kRails = 3,
};

/// One phase: every member runs `steps` steps; in a step it sends `step_bytes` to one peer while
/// receiving `step_bytes` from another (kChain: members at the chain's ends only send or only
/// receive, and a member is idle in the steps before its first piece and after its last).
struct Phase {
  std::string name;  ///< short tag, unique inside an algorithm ("ar", "hrs", "har", ...)
  Pattern pattern = Pattern::kRing;
  Rings rings = Rings::kMembers;
  int steps = 0;
  double step_bytes = 0;
  int pieces = 1;  ///< kChain, kTree: pipelined pieces k (steps = n − 2 + k, 2·height + k − 1)
  int height = 0;  ///< kTree: the largest depth D over the trees
};

/// The phases of collective `kind` of `bytes` (program conventions: the whole buffer; for
/// all-to-all what each member sends in total) with `algorithm` over a group of `shape`
/// (kAuto: select_algorithm's choice):
/// - all-reduce, ring: {"ar", ring, members, 2(n−1) steps of S/n}; on a group with C =
///   shape.channels > 1: {"ar", ring, rails, 2(n−1) steps of S/(n·C)} (every member sends one
///   step of each channel at once), and likewise for reduce-scatter and all-gather.
/// - all-reduce, hierarchical (shape.two_level, else ring) with L per node on M nodes:
///   {"hrs", ring, node-local, L−1 steps of S/L}, {"har", ring, cross-node, 2(M−1) steps of
///   S/(L·M)}, {"hag", ring, node-local, L−1 steps of S/L}.
/// - all-reduce, tree (shape.balanced, else ring): {"tree", tree, 2D + k − 1 steps of S/(2C·k)},
///   k = broadcast_chunks(S/(2C)), D the trees' height (all_reduce_trees).
/// - all-reduce, nvls (shape.nvls has a bandwidth, else ring): {"nvls", switch, 1 step of S}.
/// - reduce-scatter "rs" and all-gather "ag": ring, members, n−1 steps of S/n (any other
///   algorithm falls back to ring).
/// - broadcast: {"bc", chain, members, n−2+k steps of S/k, k = broadcast_chunks(S)}.
/// - all-to-all: {"a2a", pairwise, members, n−1 steps of S/n}.
/// Empty for fewer than 2 members or no bytes.
std::vector<Phase> phases(program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes,
                          const GroupShape& shape);

/// Closed-form time of `phases` when a step carrying `step_bytes` takes step_s(step_bytes) on
/// every edge and steps of a phase follow each other: Σ_phases steps · step_s(step_bytes).
/// (Without contention; kChain counts its pipeline fill as steps, as the engine does.)
double phases_time_s(const std::vector<Phase>& phases, const std::function<double(double)>& step_s);

/// Closed-form time of one collective over a group of `shape` whose node-local edges are
/// `intra` and whose other edges are `inter` (member rings, chains and pairwise exchanges of a
/// group spanning several nodes take `inter`, of a one-node group `intra`): per phase
/// steps · (α + step_bytes/β) of its path, plus the cluster's fixed `overhead_s`. Uncontended: the
/// L cross-node rings of the hierarchical all-reduce are taken not to share their NICs.
/// A rails phase of C channels: in each step a member sends C − 1 chunks b to node-local
/// successors through its GPU link (sharing it) and one through its NIC (its own), so a step
/// takes max(α_intra + (C − 1)·b/β_intra, α_inter + b/β_inter).
/// A tree phase: each step is paced by its most loaded link direction, a GPU link (chain edges,
/// `intra`) or a head's NIC (tree edges between nodes, `inter`), carrying u pieces b at once:
/// Σ_steps max(α + u·b/β) over the link directions busy in that step.
/// A switch phase: shape.nvls.seconds(S).
/// Ring all-reduce on a uniform path: 2(n−1)·α + 2(n−1)/n · S/β (Thakur et al. 2005).
double collective_time_s(program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes,
                         const GroupShape& shape, const Path& intra, const Path& inter, double overhead_s = 0);

/// The algorithms a group of `shape` allows for `kind`, in enum order: ring always; for an
/// all-reduce also hierarchical (shape.two_level), tree (shape.balanced) and nvls (shape.nvls).
std::vector<program::CollectiveAlgorithm> eligible_algorithms(program::CollectiveKind kind, const GroupShape& shape);

/// NCCL's tuning by size and scale, the one selection rule (kAuto): the eligible algorithm of
/// least collective_time_s on the group's own paths (shape.intra, shape.inter); a tie goes to the
/// earlier in enum order. Latency-bound sizes on many nodes go to the tree (2D + k − 1 steps
/// instead of the ring's 2(n − 1)), large ones to the ring, its rail channels or the
/// hierarchical all-reduce, and one-node all-reduces to NVLS where the switch has it.
program::CollectiveAlgorithm select_algorithm(program::CollectiveKind kind, double bytes, const GroupShape& shape);

/// The algorithm a collective of `kind` and `bytes` runs on a group of `shape` when `requested`:
/// select_algorithm's choice for kAuto; `requested` when the group allows it
/// (eligible_algorithms), else the ring (phases falls back to it likewise).
program::CollectiveAlgorithm effective_algorithm(program::CollectiveKind kind, program::CollectiveAlgorithm requested,
                                                 double bytes, const GroupShape& shape);

/// A user's choice of algorithm by name (program::to_string; "auto" is kAuto, resolved per
/// collective by select_algorithm). Throws std::invalid_argument naming the valid choices for
/// another value.
program::CollectiveAlgorithm parse_algorithm(const std::string& choice);

}  // namespace frugal::cost
