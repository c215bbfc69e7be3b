// Static memory check (see memory_check.hpp).
#include "sim/engine/memory_check.hpp"

#include <cstdint>
#include <unordered_map>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/rank_classes.hpp"

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
  }
  return check;
}

}  // namespace frugal::engine
