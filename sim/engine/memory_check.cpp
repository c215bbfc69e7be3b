// Static memory check (see memory_check.hpp).
#include "sim/engine/memory_check.hpp"

#include "sim/program/memory_ledger.hpp"

namespace frugal::engine {

bool MemoryCheck::fits() const { return overflowing_ranks().empty(); }

std::vector<int> MemoryCheck::overflowing_ranks() const {
  std::vector<int> out;
  for (std::size_t r = 0; r < peak_bytes.size(); ++r)
    if (peak_bytes[r] > capacity_bytes[r]) out.push_back(static_cast<int>(r));
  return out;
}

MemoryCheck check_memory(const program::Program& program, const platforms::Cluster& cluster) {
  MemoryCheck check;
  for (const auto& rp : program.ranks) {
    const auto ledger = program::static_memory_profile(rp);
    check.peak_bytes.push_back(ledger.peak_bytes());
    check.capacity_bytes.push_back(cluster.gpu_spec(rp.gpu).memory_bytes);
    check.breakdown.push_back(ledger.peak_breakdown_json());
  }
  return check;
}

}  // namespace frugal::engine
