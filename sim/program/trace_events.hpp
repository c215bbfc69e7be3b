// Chrome trace-event JSON (the timeline schema) shared by the simulator's timeline.json and the
// real backend's measurements.json: times on an exact grid, complete events that never overlap
// on their track, memory as counter tracks. Pure data: no SimGrid, no device.
#pragma once

#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/program/program.hpp"

namespace frugal::program {

/// Trace times are whole multiples of this many microseconds (125 ns): such numbers are exact
/// both in decimal and in binary floating point, so a slice's ts + dur equals the next slice's
/// ts in any viewer's arithmetic (JavaScript doubles, integer nanoseconds).
inline constexpr double kTraceTickUs = 0.125;

/// `time_s` in ticks (nearest; the same rounding for every start and end keeps their order).
long long trace_ticks(double time_s);

/// Name of the counter of the bytes a rank holds in `where`: "device memory", "host memory",
/// "nvme memory".
std::string memory_counter_name(Location where);

/// Collects named processes and tracks, slices, instants and counters, and writes them as trace
/// events. Slices of one track are laid out so that none overlaps the next: a slice that starts
/// before the previous one on its lane ends goes to the track's first free extra lane
/// (tid + 100·n, named "<track> (n+1)"); background slices (e.g. sends that complete while the
/// stream moves on) get lanes of their own (tid + 1000 + 100·n, "<track>: background").
class TraceBuilder {
 public:
  /// process_name and process_sort_index metadata of `pid`.
  void process(int pid, const std::string& name, int sort_index);
  /// thread_name and thread_sort_index (= tid) metadata of track (pid, tid).
  void track(int pid, int tid, const std::string& name);
  /// The tracks of `rp`'s streams on process `pid` (tid = the stream's value): compute, comm,
  /// copy, data_comm, and host only where the rank uses it.
  void stream_tracks(int pid, const RankProgram& rp);
  /// A complete event ("ph": "X") on track (pid, tid), declared with track().
  void slice(int pid, int tid, std::string name, std::string category, double start_s, double end_s, core::Json args,
             bool background = false);
  /// An instant event ("ph": "i") with scope `scope` ("t" thread, "p" process, "g" global).
  void instant(int pid, int tid, std::string name, std::string category, double time_s, core::Json args,
               const std::string& scope = "t");
  /// A sample of counter `name` of process `pid` ("ph": "C", args {series: value}); samples of one
  /// counter at the same tick keep the last one given.
  void counter(int pid, const std::string& name, const std::string& series, double time_s, double value);

  /// Metadata first, then each track's events in time order, then each counter's samples.
  core::Json events() const;

 private:
  struct Slice {
    int pid, tid;
    std::string name, category;
    long long start, end;  // ticks
    core::Json args;
    bool background;
  };
  struct Instant {
    int pid, tid;
    std::string name, category, scope;
    long long at;
    core::Json args;
  };
  struct Sample {
    int pid;
    std::string name, series;
    long long at;
    double value;
  };
  struct Named {
    int pid, tid;
    std::string name;
    int sort_index;
  };
  std::vector<Named> processes_, tracks_;
  std::vector<Slice> slices_;
  std::vector<Instant> instants_;
  std::vector<Sample> samples_;
};

/// {"traceEvents": events, "displayTimeUnit": "ms", "otherData": other_data + time unit and tick}.
core::Json trace_document(core::Json events, core::Json other_data);

}  // namespace frugal::program
