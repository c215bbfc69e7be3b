// Parsers for availability traces (formats in shared/REFERENCE.md): SimGrid state and speed
// profiles, event CSV `t_ms,add|remove,node`, count-per-tick JSON and Failure Trace Archive-
// style interval tables. They check syntax, signs and order; every error is a
// core::ConfigError naming the file and "line N" (count JSON: the JSON pointer "/data/i").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace frugal::platforms {

enum class TraceFormat {
  kStateProfile,  ///< SimGrid: "date value" lines, value 0 = off, else on; optional LOOPAFTER d
  kSpeedProfile,  ///< SimGrid: "date ratio" lines (ratio > 0 of nominal speed); optional LOOPAFTER d
  kEventCsv,      ///< "t_ms,add|remove,node" lines (public spot traces); optional header line
  kCountJson,     ///< {"metadata": {"gap_seconds": N}, "data": [n0, n1, ...]} available nodes per tick
  kFta,           ///< Failure Trace Archive style: "node start_s end_s" unavailability intervals
};

/// "state_profile", "speed_profile", "event_csv", "count_json", "fta".
std::string to_string(TraceFormat format);
/// Names accepted by the trace model's "format" parameter, in the order above.
const std::vector<std::string>& trace_format_names();
TraceFormat trace_format_from_name(const std::string& name);  ///< throws std::invalid_argument

/// One dated record, in file order.
struct TraceRecord {
  double time_s = 0;  ///< after the time shift; ≥ 0
  std::string node;   ///< node name or id as written; empty for profiles and count ticks
  /// state profile: 0 (off) or 1 (on); speed profile: ratio; event CSV / FTA: 0 (remove, or
  /// interval start) or 1 (add, or interval end); count JSON: available nodes at this tick.
  double value = 0;
  int line = 0;       ///< 1-based line of the file (count JSON: index into "data")
};

struct Trace {
  std::string file;
  TraceFormat format = TraceFormat::kStateProfile;
  std::vector<TraceRecord> records;  ///< time-ordered (FTA: ordered per node by interval start)
  double loop_after_s = 0;           ///< profiles: > 0 → the profile repeats with period last date + this
  double gap_s = 0;                  ///< count JSON: seconds between ticks
};

/// Parses `text` read from `file` (used in errors). `time_shift_s` is added to every time
/// (e.g. minus the epoch of an FTA table); a time that is then negative is an error.
/// Contract on success: records sorted as stated above; FTA intervals of a node do not overlap.
Trace parse_trace(const std::string& text, TraceFormat format, const std::string& file, double time_shift_s = 0);

/// Reads and parses a file; a missing file is ConfigError(file, "", "cannot open ...").
Trace load_trace(const std::filesystem::path& path, TraceFormat format, double time_shift_s = 0);

}  // namespace frugal::platforms
