// Which simulated ranks have quiet GPU links (contract in quiet_links.hpp).
#include "sim/engine/quiet_links.hpp"

#include <cstdint>
#include <unordered_map>

namespace frugal::engine {

std::vector<char> quiet_gpu_links(const CommContext& ctx, const std::vector<SimulatedRank>& simulated) {
  std::vector<char> quiet(ctx.rank_node.size(), 0);
  if (!ctx.aggregate || ctx.representatives == nullptr) return quiet;
  const auto nodes = static_cast<std::size_t>(ctx.cluster->node_count());
  const auto n_ranks = static_cast<std::int64_t>(ctx.rank_node.size());
  std::vector<int> simulated_on(nodes, 0);
  for (const SimulatedRank& s : simulated) ++simulated_on[static_cast<std::size_t>(ctx.rank_node[s.rank])];
  // Nodes that a group spanning several nodes enters with two members or more.
  std::vector<char> crossed(nodes, 0);
  std::unordered_map<int, int> per_node;
  for (const GroupLayout& g : ctx.groups) {
    if (g.nodes < 2) continue;
    per_node.clear();
    for (const int r : g.ranks)
      if (++per_node[ctx.rank_node[r]] == 2) crossed[static_cast<std::size_t>(ctx.rank_node[r])] = 1;
  }
  for (const SimulatedRank& s : simulated) {
    const int node = ctx.rank_node[s.rank];
    if (simulated_on[static_cast<std::size_t>(node)] != 1 || crossed[static_cast<std::size_t>(node)]) continue;
    bool ok = true;
    int local_stream = -1;  // the actor that runs its collectives inside the node
    for (const program::Op& op : s.program->ops) {
      if (op.kind == program::OpKind::kSend || op.kind == program::OpKind::kRecv) {
        const std::int64_t peer = op.p2p().peer.value;
        ok = peer >= 0 && peer < n_ranks && ctx.rank_node[static_cast<std::size_t>(peer)] != node;
      } else if (op.kind == program::OpKind::kCollective) {
        const int group = op.collective().group;
        if (group < 0 || group >= static_cast<int>(ctx.groups.size())) {
          ok = false;  // the executor reports it
          break;
        }
        const GroupLayout& g = ctx.groups[static_cast<std::size_t>(group)];
        if (g.nodes != 1 || g.ranks.size() < 2) continue;
        const int stream = s.serial ? 0 : static_cast<int>(op.stream);
        ok = local_stream < 0 || local_stream == stream;
        local_stream = stream;
      }
      if (!ok) break;
    }
    quiet[static_cast<std::size_t>(s.rank)] = ok ? 1 : 0;
  }
  return quiet;
}

}  // namespace frugal::engine
