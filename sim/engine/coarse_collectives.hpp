// Coarse collective models: the aggregate model (one transfer per member per phase instead of
// one per step) and the injection of the traffic of ranks that are not simulated (collapsed
// groups and copies, when representatives stand for identical ranks). Called from
// run_collective / run_send / run_recv (collectives.cpp) inside the calling rank's actor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine/collectives.hpp"

namespace frugal::engine {

/// With representatives, marks where modelled traffic flows (CommContext::link_watched,
/// nic_watched): a simulated rank's GPU link and NIC; the GPU links of every member of a group
/// with a simulated member (a collapsed group's representative injects its members' flows), and
/// their NICs when the group spans nodes. Every link and NIC so marked carries all of its
/// traffic, the copies' included, so modelled transfers see the contention of the full program;
/// elsewhere copies would only load links whose flows are not simulated or are injected copies
/// themselves, which under the symmetry of identical ranks finish no later than the modelled
/// ones. Node uplinks need no mark: each has the total bandwidth of its node's NICs and every
/// flow through it crosses one of them, so it never binds (platform_builder.hpp).
void watch_modelled_traffic(CommContext& ctx);

/// Barrier and rendezvous bookkeeping of the coarse models, one per simulation.
std::shared_ptr<CoarseState> make_coarse_state();

/// Aggregate model of ring-based algorithms (ring all-reduce, reduce-scatter, all-gather,
/// hierarchical all-reduce), of the chain broadcast and of the NVLS all-reduce, all members
/// simulated. A *phase* is a
/// set of rings that run at once (the member ring; or the node-local rings, then the cross-node
/// rings, then the node-local rings again for hierarchical all-reduce), with k steps of chunk c.
/// Per phase every member sends ONE transfer of k·c bytes to its ring successor while receiving
/// one from its predecessor, all members concurrently, so SimGrid's max-min sharing sees the same
/// links loaded by the same flows as in any step, and then sleeps (k − 1)·α, α being the
/// slowest latency of the phase's ring edges (route latencies, cached per group). On a ring whose
/// edges all have latency α and bandwidth β, alone or with equally loaded shared links:
///   T = α + k·c/β + (k − 1)·α = k·(α + c/β),
/// exactly the step-by-step time (and the α-β closed forms of collectives.hpp). Members
/// synchronize by a barrier when all have arrived (the ring's step dependencies make the
/// step-by-step members wait for every other member too) and by a barrier at the end (a ring runs
/// at the pace of its slowest edge). Approximations: with unequal edges the pace is taken as
/// max over edges of (α_e + k·c/β_e), whereas steps pay max_e(α_e + c/β_e) each; flows that share
/// a link with traffic of varying intensity see its average instead of its step-by-step profile.
/// Chain broadcast: every chain member sends S to its successor at once, then sleeps the
/// pipeline fill (n − 2)·(α + S/(k·β)) + (k − 1)·α of the closed form (uncontended β).
/// NVLS: as step by step (run_switch_phase), its one step being its whole. The tree all-reduce,
/// like all-to-all, is not aggregated (run_collective runs it step by step; copies and collapsed
/// groups inject its flows step by step).
/// All-to-all stays pairwise (n − 1 steps; no coarse model). `prefix` names the collective's
/// mailboxes and barrier (unique per group and instance), `iteration` tells apart the program's
/// iterations, which reuse instances.
void run_collective_aggregate(CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c,
                              const std::string& prefix, int iteration, int op_index);

/// NVLS phase (cost::Pattern::kSwitch) of `rank` in group `g`, all members simulated, step by
/// step or aggregated alike: once every member has arrived (a barrier named by `prefix` and
/// `iteration`), it sends `bytes` from its GPU to its node's NVSwitch host while receiving
/// `bytes` from it, then waits for every member to finish (the sum needs every contribution).
void run_switch_phase(CommContext& ctx, int rank, const GroupLayout& g, std::uint64_t bytes, const std::string& prefix,
                      int iteration);

/// Collapsed group: `rank` is its only simulated member and every member is identical, so the
/// representative alone produces the traffic of all members: host-to-host transfers (no
/// receiving actor), step by step (n flows per step, the same flows the members would post) or
/// aggregated as above; it returns when its group's transfers are done.
void run_collective_collapsed(CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c);

/// Time that run_collective_collapsed takes under the aggregate model for `rank`'s collective
/// `c` on its collapsed group `g` inside one node, in closed form, when its GPU links are quiet
/// (quiet_links.hpp): per ring phase, the one flow it injects alone on its path,
/// α + k·c/β, plus the (k − 1)·α the model adds. Negative when that form does not apply (a
/// phase that is not rings: broadcast chains, all-to-all; a member on the same GPU). Excludes
/// the collective overhead (collectives.hpp).
double collapsed_closed_form_s(const CommContext& ctx, int rank, const GroupLayout& g, const program::Collective& c);

/// Copies: when representatives are used, the other ranks of `rank`'s class run collective
/// `op_index` on their own groups. When those groups span nodes (their flows can meet simulated
/// flows on NICs, node uplinks or the backbone), a helper actor injects their traffic now, as
/// above, without holding up `rank`. Groups inside one node touch only their own GPUs' links
/// (platform_builder.hpp) and are not injected. Does nothing without representatives.
void inject_collective_copies(CommContext& ctx, int rank, int op_index, const GroupLayout& g,
                              const program::Collective& c);

/// `rank`, the first simulated member of `g` in ring order? (it injects the copies of a group
/// whose members are all simulated)
bool leads_group(const CommContext& ctx, int rank, const GroupLayout& g);

/// Point-to-point copies: a representative posted its half (`is_send`) of op `op_index`. When
/// the other half is already posted, the transfer starts now, and so do the copies' transfers
/// between different nodes (helper actor); same-node copies touch only their own GPU links.
void note_p2p_post(CommContext& ctx, int rank, int op_index, const program::PointToPoint& p, bool is_send);

/// The rank that is simulated in place of `rank` (itself without representatives).
int simulated_rank(const CommContext& ctx, int rank);

}  // namespace frugal::engine
