// Invariants every simulation holds, checked while it runs and when it ends (always on: each is
// a comparison per op or transfer). A violation is a bug of the engine, never bad input: it is
// a core::InternalError (exit 3) naming the rank, the op and what broke.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/program/memory_ledger.hpp"

namespace frugal::engine::invariants {

/// The payload pointer of a SimGrid transfer carries the byte count the sender put on the wire
/// (the simulator never dereferences it; never null, as SimGrid requires), so that the receiver
/// compares it with the count it expects.
void* carry(std::uint64_t bytes);
std::uint64_t carried(const void* payload);

/// Bytes sent = bytes received; `what` names the transfer (rank, collective step or p2p pair).
void check_received(std::uint64_t received, std::uint64_t expected, const std::string& what);

/// Time runs forward on a stream: an op ends no earlier than it starts, and starts no earlier
/// than the previous op of its stream ended (`previous_end_s`). `name()` describes the op; it
/// is called only on a violation.
template <class Name>
void check_op_times(double previous_end_s, double start_s, double end_s, Name&& name);
[[noreturn]] void op_times_broken(double previous_end_s, double start_s, double end_s, const std::string& op);
bool op_times_hold(double previous_end_s, double start_s, double end_s);

template <class Name>
void check_op_times(double previous_end_s, double start_s, double end_s, Name&& name) {
  if (!op_times_hold(previous_end_s, start_s, end_s)) op_times_broken(previous_end_s, start_s, end_s, name());
}

/// At the end of a run only the resident buffers are live (every iteration freed what it
/// allocated) and no location holds fewer than zero bytes. `rank` is the rank's program: a
/// leaked buffer is named with the op that allocated it.
void check_memory_released(const program::MemoryLedger& ledger, const program::RankProgram& rank,
                           const std::string& who);

/// A host draws at least its idle power while on: energy ≥ idle power × elapsed time.
void check_energy(double energy_j, double idle_power_w, double elapsed_s, const std::string& host);

}  // namespace frugal::engine::invariants
