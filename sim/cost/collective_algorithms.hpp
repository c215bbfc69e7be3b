// Each collective algorithm described once, as its list of phases (which members talk to which,
// how many steps, bytes per step). The step-by-step engine generates its point-to-point steps
// from it, the aggregate engine its per-member volumes and latencies, calibration its closed
// form, and the policies a time estimate; choose_algorithm is the one selection rule. Pure
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

/// Shape of the group of `gpus` (global GPU indices, ring order) of `cluster`.
GroupShape group_shape(const platforms::Cluster& cluster, const std::vector<int>& gpus);

/// Who talks to whom in a phase.
enum class Pattern {
  kRing,      ///< every member sends each step to its successor on its ring, receives from its predecessor
  kChain,     ///< the member ring opened at the root: chain index c sends piece j in step c + j
  kPairwise,  ///< step s (0-based): position p sends to p + s + 1 and receives from p − s − 1
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
  int pieces = 1;  ///< kChain: pipelined pieces k (steps = n − 2 + k)
};

/// The phases of collective `kind` of `bytes` (program conventions: the whole buffer; for
/// all-to-all what each member sends in total) with `algorithm` over a group of `shape`:
/// - all-reduce, ring: {"ar", ring, members, 2(n−1) steps of S/n}; on a group with C =
///   shape.channels > 1: {"ar", ring, rails, 2(n−1) steps of S/(n·C)} (every member sends one
///   step of each channel at once), and likewise for reduce-scatter and all-gather.
/// - all-reduce, hierarchical (shape.two_level, else ring) with L per node on M nodes:
///   {"hrs", ring, node-local, L−1 steps of S/L}, {"har", ring, cross-node, 2(M−1) steps of
///   S/(L·M)}, {"hag", ring, node-local, L−1 steps of S/L}.
/// - reduce-scatter "rs" and all-gather "ag": ring, members, n−1 steps of S/n (hierarchical
///   falls back to ring).
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
/// Ring all-reduce on a uniform path: 2(n−1)·α + 2(n−1)/n · S/β (Thakur et al. 2005).
double collective_time_s(program::CollectiveKind kind, program::CollectiveAlgorithm algorithm, double bytes,
                         const GroupShape& shape, const Path& intra, const Path& inter, double overhead_s = 0);

/// The one algorithm selection rule (both parallelism policies): hierarchical for an all-reduce
/// whose group spans ≥ 2 nodes with the same number (≥ 2) of members on each (two_level), ring
/// otherwise. Independent of the size: on such groups the hierarchical all-reduce sends
/// 2(M−1)/M·S through each node's NICs instead of the ring's 2(n−1)/n·S and pays
/// 2(L−1) + 2(M−1) latencies instead of 2(n−1), at the price of two node-local phases that the
/// rule does not weigh. `gpus`: the group's global GPU indices.
/// (Both policies' earlier rules were this rule: data_parallel's on the group of all GPUs,
/// megatron's on the data-parallel group of tensor index 0 and stage 0.)
program::CollectiveAlgorithm choose_algorithm(const platforms::Cluster& cluster, const std::vector<int>& gpus,
                                              program::CollectiveKind kind);

/// A user's choice of algorithm: "auto" is choose_algorithm on the group `gpus` (called only
/// then: `gpus` may be empty otherwise), any other value the algorithm of that name
/// (program::to_string). Throws std::invalid_argument naming the valid choices for another value.
program::CollectiveAlgorithm resolve_algorithm(const std::string& choice, const platforms::Cluster& cluster,
                                               const std::function<std::vector<int>()>& gpus,
                                               program::CollectiveKind kind);

}  // namespace frugal::cost
