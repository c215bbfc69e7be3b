// Memory accounting of one rank: applies alloc/free in execution order, keeps the current use and
// the peak of each location (device, host, NVMe) and what filled each location at its peak (by
// tag). Used by the engine op by op and by policies to check a plan statically. Pure data.
#pragma once

#include <array>
#include <map>
#include <string>

#include "sim/program/program.hpp"

namespace frugal::program {

class MemoryLedger {
 public:
  /// Throws core::InternalError when `m.buffer` is already allocated.
  void alloc(const Memory& m);
  /// Throws core::InternalError when `m.buffer` is not allocated.
  void free(const Memory& m);

  /// Device (GPU memory) figures.
  double current_bytes() const { return current_bytes_; }
  double peak_bytes() const { return peak_bytes_; }
  /// Figures of one location; each location peaks on its own.
  double current_bytes(Location where) const { return current_by_location_[static_cast<int>(where)]; }
  double peak_bytes(Location where) const { return peak_by_location_[static_cast<int>(where)]; }
  /// Device bytes per tag at the moment of the device peak.
  const std::map<MemoryTag, double>& peak_breakdown() const { return peak_breakdown(Location::kDevice); }
  /// Bytes per tag in `where` at the moment of that location's peak.
  const std::map<MemoryTag, double>& peak_breakdown(Location where) const {
    return peak_breakdown_[static_cast<std::size_t>(where)];
  }
  core::Json peak_breakdown_json() const;
  /// The buffers allocated and not freed, by name.
  const std::map<std::string, Memory>& live() const { return live_; }

 private:
  std::map<std::string, Memory> live_;
  std::array<std::map<MemoryTag, double>, 3> by_tag_;           ///< per location, now
  std::array<std::map<MemoryTag, double>, 3> peak_breakdown_;   ///< per location, at its peak
  double current_bytes_ = 0;
  double peak_bytes_ = 0;
  std::array<double, 3> current_by_location_{};
  std::array<double, 3> peak_by_location_{};
};

/// Static peak of one rank executing its ops in program order (resident + one iteration).
MemoryLedger static_memory_profile(const RankProgram& rank);

}  // namespace frugal::program
