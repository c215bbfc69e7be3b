// Identical ranks: finds the classes of ranks whose programs are the same up to the renaming of
// groups and peers (data-parallel replicas, tensor-parallel peers) and checks that simulating one
// representative per class is sound. Plain data, no SimGrid: the executor decides from it which
// ranks get actors and which traffic is injected on behalf of the others.
#pragma once

#include <string>
#include <vector>

#include "platforms/cluster_spec.hpp"
#include "sim/program/program.hpp"

namespace frugal::engine {

/// Representatives of a Program (see find_representatives).
struct Representatives {
  bool applied = false;          ///< false: simulate every rank (`note` says why)
  std::string note;
  std::vector<int> class_of;     ///< rank → class index
  std::vector<std::vector<int>> members;  ///< class → its ranks, ascending; members[c][0] represents c
  std::vector<int> representative;        ///< rank → members[class_of[rank]][0]
  std::vector<char> simulated;            ///< rank → 1 when it is a representative

  bool is_simulated(int rank) const { return simulated.empty() || simulated[rank] != 0; }
  int representative_of(int rank) const { return representative.empty() ? rank : representative[rank]; }
  int class_size(int rank) const { return representative.empty() ? 1 : static_cast<int>(members[class_of[rank]].size()); }
};

/// Classes: two ranks are identical when their GPUs are of the same node type, their resident
/// memory is the same (tags, sizes, locations) and, op by op, kind, stream, dependencies and
/// payload sizes (and locations: copy directions, where buffers are allocated) are equal, with
/// groups compared by shape (size, nodes spanned, members per node, slowest ring edge α and β)
/// and peers by route (same node or not, α, β). Names (ops, buffers, layers) are ignored. The
/// comparison is by two independent 64-bit hashes of that content.
///
/// Representatives: the lowest rank of each class. Applied only when the representatives form a
/// closed program on their own:
/// - every send of a representative, redirected to the representative of its peer's class,
///   matches a receive of that representative (same tag), and no representative sends to itself;
/// - every collective group used by a representative either has all its members simulated, or
///   exactly one (then every member is of the representative's class: the group is "collapsed"
///   and its traffic is injected by the representative), and the peers of the representative's
///   class run their op on groups without any simulated member ("copies").
/// Otherwise `applied` is false and `note` names the first obstacle. Cost O(ops + group sizes).
Representatives find_representatives(const platforms::Cluster& cluster, const program::Program& program);

}  // namespace frugal::engine
