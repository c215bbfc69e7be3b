// Executes a Program on a built platform: one SimGrid actor per (rank, stream with ops), op
// dependencies across streams, memory ledger, metrics and deadlock diagnosis. Used only by
// simulation.cpp, between platform building and Engine::run().
#pragma once

#include <memory>

#include "sim/engine/platform_builder.hpp"
#include "sim/engine/simulation.hpp"

namespace frugal::engine {

/// Contract: construct after build_platform() (the Engine exists), call start() before
/// Engine::run(), note_deadlock() from Engine::on_deadlock, and collect() after run() while the
/// Engine still exists. The Executor must outlive Engine::run().
///
/// Semantics: each rank's ops run `options.iterations` times. An op of iteration k starts when
/// the previous op of its stream is done and every dependency has completed iteration k; on a
/// GPU with serial_streams (a CPU core), one actor runs all the rank's ops in program order
/// (sends still complete in the background, as MPI's eager sends do).
/// Resident memory is allocated once, at time 0. Compute: one Exec on the rank's GPU host of
/// the amount sim/cost/compute_cost.hpp gives (GEMMs by size, memory-bound bytes at their bandwidth). Copy and checkpoint
/// write: a transfer GPU ↔ the node's CPU host over PCIe. Collectives and send/recv: see
/// collectives.hpp (and coarse_collectives.hpp for the aggregate model). Alloc/free:
/// instantaneous, applied to the rank's MemoryLedger.
///
/// Coarse options (EngineOptions): kAuto modes resolve here from the program's rank count. With
/// representatives (coarse_replicas.hpp), only representatives get actors, memory ledgers and
/// dependency checks (the others' ops are the same, by fingerprint); collect() copies each
/// representative's RankStats to the ranks it stands for.
class Executor {
 public:
  /// Throws std::invalid_argument for programs that cannot run at all (a rank on a GPU that
  /// does not exist, a dependency on a later or unknown op, an unknown group).
  Executor(const platforms::Cluster& cluster, const program::Program& program, const EngineOptions& options,
           const BuiltPlatform& platform);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Creates the actors (and allocates resident memory).
  void start();
  /// SimGrid found no actor able to progress; it is about to kill them all.
  void note_deadlock();
  /// Rethrows the first error raised inside an actor; throws core::InternalError naming the
  /// stuck ranks, streams and ops when some stream did not finish (deadlock); else the result.
  SimulationResult collect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace frugal::engine
