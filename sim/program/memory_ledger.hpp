// Memory accounting of one GPU: applies alloc/free in execution order, keeps the current use,
// the peak and what filled memory at the peak (by tag). Used by the engine op by op and by
// policies to check a plan statically. Pure data.
#pragma once

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

  double current_bytes() const { return current_bytes_; }
  double peak_bytes() const { return peak_bytes_; }
  /// Bytes per tag at the moment of the peak.
  const std::map<MemoryTag, double>& peak_breakdown() const { return peak_breakdown_; }
  core::Json peak_breakdown_json() const;

 private:
  std::map<std::string, Memory> live_;
  std::map<MemoryTag, double> by_tag_;
  std::map<MemoryTag, double> peak_breakdown_;
  double current_bytes_ = 0;
  double peak_bytes_ = 0;
};

/// Static peak of one rank executing its ops in program order (resident + one iteration).
MemoryLedger static_memory_profile(const RankProgram& rank);

}  // namespace frugal::program
