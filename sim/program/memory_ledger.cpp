// Memory ledger: current and peak per location, by-tag breakdown at each location's peak.
#include "sim/program/memory_ledger.hpp"

#include <algorithm>

namespace frugal::program {

void MemoryLedger::alloc(const Memory& m) {
  if (!live_.emplace(m.buffer, m).second)
    throw core::InternalError("memory ledger: buffer \"" + m.buffer + "\" allocated twice");
  const auto where = static_cast<std::size_t>(m.location);
  current_by_location_[where] += m.bytes;
  by_tag_[where][m.tag] += m.bytes;
  if (current_by_location_[where] > peak_by_location_[where]) {
    peak_by_location_[where] = current_by_location_[where];
    peak_breakdown_[where] = by_tag_[where];
  }
  if (m.location != Location::kDevice) return;
  current_bytes_ += m.bytes;
  peak_bytes_ = std::max(peak_bytes_, current_bytes_);
}

void MemoryLedger::free(const Memory& m) {
  auto it = live_.find(m.buffer);
  if (it == live_.end()) throw core::InternalError("memory ledger: free of unknown buffer \"" + m.buffer + "\"");
  const auto where = static_cast<std::size_t>(it->second.location);
  current_by_location_[where] -= it->second.bytes;
  by_tag_[where][it->second.tag] -= it->second.bytes;
  if (it->second.location == Location::kDevice) current_bytes_ -= it->second.bytes;
  live_.erase(it);
}

core::Json MemoryLedger::peak_breakdown_json() const {
  core::Json out = core::Json::object();
  for (const auto& [tag, bytes] : peak_breakdown()) out[to_string(tag)] = bytes;
  return out;
}

MemoryLedger static_memory_profile(const RankProgram& rank) {
  MemoryLedger ledger;
  for (const Memory& m : rank.resident) ledger.alloc(m);
  for (const Op& op : rank.ops) {
    if (op.kind == OpKind::kAlloc) ledger.alloc(op.memory());
    else if (op.kind == OpKind::kFree) ledger.free(op.memory());
  }
  return ledger;
}

}  // namespace frugal::program
