// Memory ledger: current and peak per location, by-tag breakdown at the device peak.
#include "sim/program/memory_ledger.hpp"

#include <algorithm>

namespace frugal::program {

void MemoryLedger::alloc(const Memory& m) {
  if (!live_.emplace(m.buffer, m).second)
    throw core::InternalError("memory ledger: buffer \"" + m.buffer + "\" allocated twice");
  const auto where = static_cast<std::size_t>(m.location);
  current_by_location_[where] += m.bytes;
  peak_by_location_[where] = std::max(peak_by_location_[where], current_by_location_[where]);
  if (m.location != Location::kDevice) return;
  current_bytes_ += m.bytes;
  by_tag_[m.tag] += m.bytes;
  if (current_bytes_ > peak_bytes_) {
    peak_bytes_ = current_bytes_;
    peak_breakdown_ = by_tag_;
  }
}

void MemoryLedger::free(const Memory& m) {
  auto it = live_.find(m.buffer);
  if (it == live_.end()) throw core::InternalError("memory ledger: free of unknown buffer \"" + m.buffer + "\"");
  current_by_location_[static_cast<std::size_t>(it->second.location)] -= it->second.bytes;
  if (it->second.location == Location::kDevice) {
    current_bytes_ -= it->second.bytes;
    by_tag_[it->second.tag] -= it->second.bytes;
  }
  live_.erase(it);
}

core::Json MemoryLedger::peak_breakdown_json() const {
  core::Json out = core::Json::object();
  for (const auto& [tag, bytes] : peak_breakdown_) out[to_string(tag)] = bytes;
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
