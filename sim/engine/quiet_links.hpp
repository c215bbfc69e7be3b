// Nodes whose GPU links carry nothing but one simulated rank's collapsed collectives, one at a
// time. There the aggregate model's transfers never share a link with another flow, so their
// time is the α-β closed form and the executor may price them without SimGrid transfers (and
// run consecutive ones as one sleep) with the same result. Plain data, no SimGrid.
#pragma once

#include <vector>

#include "sim/engine/collectives.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

/// A simulated rank's program as the executor runs it.
struct SimulatedRank {
  int rank = 0;
  const program::RankProgram* program = nullptr;
  bool serial = false;  ///< serial_streams: one actor runs every op in program order
};

/// rank → 1 when `rank`'s GPU links are quiet: the aggregate model and representatives are on
/// (`ctx.aggregate`, `ctx.representatives`), and
/// - it is the only simulated rank on its node (no other actor's flow enters the node's GPU
///   links: the copies' collectives inside one node and their same-node transfers are not
///   injected, coarse_collectives.hpp);
/// - every group with members on its node has either all of them there or only one (a group
///   spanning nodes reaches a node through its NICs only, never through two of its GPU links);
/// - none of its sends or receives has a peer on its node;
/// - its collectives on groups inside the node all run on one actor (one stream, or a serial
///   device), so they never overlap each other.
/// Pure function of its inputs; O(ops of the simulated ranks + group sizes).
std::vector<char> quiet_gpu_links(const CommContext& ctx, const std::vector<SimulatedRank>& simulated);

}  // namespace frugal::engine
