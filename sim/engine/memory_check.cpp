// Static memory check (see memory_check.hpp).
#include "sim/engine/memory_check.hpp"

#include <cstdint>
#include <unordered_map>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/rank_classes.hpp"

namespace frugal::engine {
namespace {

std::vector<int> over_capacity(const std::vector<double>& peak, const std::vector<double>& capacity) {
  std::vector<int> out;
  for (std::size_t i = 0; i < peak.size(); ++i)
    if (peak[i] > capacity[i]) out.push_back(static_cast<int>(i));
  return out;
}

}  // namespace

bool MemoryCheck::fits() const {
  return overflowing_ranks().empty() && overflowing_host_nodes().empty() && overflowing_nvme_nodes().empty();
}

std::vector<int> MemoryCheck::overflowing_ranks() const { return over_capacity(peak_bytes, capacity_bytes); }
std::vector<int> MemoryCheck::overflowing_host_nodes() const { return over_capacity(host_peak_bytes, host_capacity_bytes); }
std::vector<int> MemoryCheck::overflowing_nvme_nodes() const { return over_capacity(nvme_peak_bytes, nvme_capacity_bytes); }

MemoryCheck check_memory(const program::Program& program, const platforms::Cluster& cluster) {
  MemoryCheck check;
  const auto n_nodes = static_cast<std::size_t>(cluster.node_count());
  check.host_peak_bytes.assign(n_nodes, 0.0);
  check.nvme_peak_bytes.assign(n_nodes, 0.0);
  for (std::size_t n = 0; n < n_nodes; ++n) {
    const auto& type = cluster.type_of_node(core::NodeId(static_cast<std::int64_t>(n)));
    check.host_capacity_bytes.push_back(type.host_memory_bytes);
    check.nvme_capacity_bytes.push_back(type.has_nvme() ? type.nvme.capacity_bytes : 0.0);
  }
  const program::ClassView view(program);
  // A compact program's ranks share their representative's profile.
  std::unordered_map<std::int64_t, program::MemoryLedger> ledgers;
  for (const auto& rp : program.ranks) {
    const auto rep = view.representative(rp.rank);
    auto it = ledgers.find(rep.value);
    if (it == ledgers.end()) it = ledgers.emplace(rep.value, program::static_memory_profile(view.lowered(rp.rank))).first;
    const auto& ledger = it->second;
    check.peak_bytes.push_back(ledger.peak_bytes());
    check.capacity_bytes.push_back(cluster.gpu_spec(rp.gpu).memory_bytes);
    check.breakdown.push_back(ledger.peak_breakdown_json());
    const auto node = static_cast<std::size_t>(cluster.gpus.at(static_cast<std::size_t>(rp.gpu)).node.value);
    check.host_peak_bytes[node] += ledger.peak_bytes(program::Location::kHost);
    check.nvme_peak_bytes[node] += ledger.peak_bytes(program::Location::kNvme);
  }
  return check;
}

}  // namespace frugal::engine
