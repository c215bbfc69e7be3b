// measurements.json: what a real run measured, in the simulator's timeline schema (Chrome trace
// events through sim/program/trace_events: pid = rank, tid = stream, µs on the 0.125 µs grid,
// args {iteration, op, flops | bytes}; memory counters per location, allocations also as slices
// since they take time), so Perfetto shows simulated and measured runs side by side; plus the
// manifest, per-iteration and per-op statistics, memory (out-of-memory events) and the checks.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "real_backend/executor.hpp"

namespace frugal::real {

inline constexpr const char* kMeasurementsFormat = "frugal-real-measurements";
inline constexpr int kMeasurementsVersion = 1;

/// Lossless JSON of one rank's run (sent to rank 0, which assembles the file).
core::Json to_json(const RankRun& run);
RankRun rank_run_from_json(const core::Json& value);

struct RunDescription {
  std::string program_file;
  std::string device;
  ExecutorOptions options;
};

/// Iteration k of a rank ends at the latest end among its ops of iteration k; its time is that
/// end minus the previous iteration's end (the epoch for k = 0). The job's iteration time is the
/// latest end over ranks minus the previous latest end.
std::vector<double> iteration_times_s(const std::vector<RankRun>& runs, int iterations);

/// The whole file. `runs` holds every rank, in rank order.
core::Json make_measurements(const program::Program& program, const std::vector<RankRun>& runs,
                             const RunDescription& description, const core::Json& manifest, const core::Json& checks);

/// Writes `value` to `path` through a temporary file renamed into place, so that a failed run
/// never leaves a partial file (core::write_atomically). Throws core::OutputError when the file
/// cannot be written.
void write_json_file(const core::Json& value, const std::filesystem::path& path);

}  // namespace frugal::real
