// The simulation's invariants (see run_invariants.hpp).
#include "sim/engine/run_invariants.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "sim/core/error.hpp"

namespace frugal::engine::invariants {
namespace {

std::string num(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

/// Absolute tolerance of a comparison of dates or amounts near `scale` (rounding, not physics).
double slack(double scale) { return 1e-12 * std::max(1.0, std::fabs(scale)); }

}  // namespace

void* carry(std::uint64_t bytes) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(bytes) + 1); }

std::uint64_t carried(const void* payload) { return reinterpret_cast<std::uintptr_t>(payload) - 1; }

void check_received(std::uint64_t received, std::uint64_t expected, const std::string& what) {
  if (received != expected)
    throw core::InternalError("invariant broken: " + what + " received " + std::to_string(received) +
                              " bytes where it expected " + std::to_string(expected) + " (bytes sent ≠ bytes received)");
}

bool op_times_hold(double previous_end_s, double start_s, double end_s) {
  return end_s >= start_s - slack(start_s) && start_s >= previous_end_s - slack(previous_end_s);
}

void op_times_broken(double previous_end_s, double start_s, double end_s, const std::string& op) {
  if (!(end_s >= start_s - slack(start_s)))
    throw core::InternalError("invariant broken: " + op + " ends at " + num(end_s) + " s, before it starts (" +
                              num(start_s) + " s)");
  throw core::InternalError("invariant broken: " + op + " starts at " + num(start_s) +
                            " s, before the previous op of its stream ended (" + num(previous_end_s) + " s)");
}

void check_memory_released(const program::MemoryLedger& ledger, const program::RankProgram& rank,
                           const std::string& who) {
  for (int l = 0; l < 3; ++l) {
    const auto where = static_cast<program::Location>(l);
    if (ledger.current_bytes(where) < -slack(ledger.peak_bytes(where)))
      throw core::InternalError("invariant broken: " + who + " holds " + num(ledger.current_bytes(where)) +
                                " bytes of " + program::to_string(where) + " memory (below zero)");
  }
  for (const auto& [buffer, memory] : ledger.live()) {
    bool resident = false;
    for (const program::Memory& m : rank.resident) resident = resident || m.buffer == buffer;
    if (resident) continue;
    std::string by = "no op";
    for (std::size_t i = 0; i < rank.ops.size(); ++i)
      if (rank.ops[i].kind == program::OpKind::kAlloc && rank.ops[i].memory().buffer == buffer)
        by = "op " + std::to_string(i) + " \"" + rank.ops[i].name + "\"";
    throw core::InternalError("invariant broken: " + who + " ends with buffer \"" + buffer + "\" (" +
                              num(memory.bytes) + " bytes, allocated by " + by + ") still live");
  }
}

void check_energy(double energy_j, double idle_power_w, double elapsed_s, const std::string& host) {
  const double floor_j = idle_power_w * elapsed_s;
  if (energy_j < floor_j - slack(floor_j) - 1e-9)
    throw core::InternalError("invariant broken: " + host + " consumed " + num(energy_j) + " J in " + num(elapsed_s) +
                              " s, less than its idle power (" + num(idle_power_w) + " W) over that time");
}

}  // namespace frugal::engine::invariants
