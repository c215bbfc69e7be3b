// frugalsim sweep: many runs of one base study, each with some of its values replaced through
// JSON pointers (a full grid, "zip" groups that vary together, seeds). Every point runs in its
// own child process (SimGrid's engine is one per process), N at a time; the table of results
// (sweep.csv, sweep.jsonl) is ordered by point and does not depend on N. On a cluster, the points
// are cut into shards (`--shard K/N`, one task of a Slurm job array each, see slurm.hpp) and the
// table is collected from their folders (`--collect`): the same bytes as a local run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/core/progress.hpp"

namespace frugal::app {

/// One swept value: where it goes in the study and the values it takes.
struct SweepParameter {
  std::string name;              ///< column name (default: the pointer)
  std::string pointer;           ///< JSON pointer into the base study
  std::vector<core::Json> values;
};

/// One axis of the grid: a single parameter, or a "zip" group whose parameters take their i-th
/// values together (all of the same length).
struct SweepAxis {
  std::vector<SweepParameter> parameters;
  std::size_t size() const { return parameters.front().values.size(); }
};

struct Sweep {
  std::filesystem::path file;            ///< the sweep file
  std::string name;
  std::filesystem::path study;           ///< the base study (relative paths: from the sweep's folder)
  core::Json base_study;                 ///< its document, as read
  std::vector<SweepAxis> axes;           ///< first axis varies slowest
  std::vector<std::uint64_t> seeds;      ///< innermost axis ("/seed"); empty: the study's own seed
  std::vector<std::pair<std::string, core::Json>> fixed;  ///< "set": the same for every point
  bool point_timelines = false;          ///< write timeline.json for every point
  bool point_events = false;             ///< keep events.json (campaigns) of every point
};

/// One run of the sweep: its index (row order), column values and the overrides that make it.
struct SweepPoint {
  std::size_t index = 0;
  std::vector<std::pair<std::string, core::Json>> columns;     ///< parameter name → value (+ "seed")
  std::vector<std::pair<std::string, core::Json>> overrides;   ///< pointer → value, applied in order
};

/// Strict reading of a sweep file. Throws core::ConfigError naming the sweep file and the JSON
/// pointer at fault (unknown keys, empty value lists, zip members of different lengths, pointers
/// that are malformed, repeated, overlapping or whose parent is not in the base study).
Sweep load_sweep(const std::filesystem::path& path);
Sweep read_sweep(const core::Json& document, const std::string& file, const std::filesystem::path& base_dir);

/// The points, in row order: the first axis varies slowest, seeds fastest.
std::vector<SweepPoint> expand(const Sweep& sweep);

/// Every scalar of a summary (numbers, strings, booleans, nulls), nested objects flattened with
/// "." ("campaign.checkpoints"); arrays are left out.
core::Json flatten_scalars(const core::Json& summary);

struct SweepOptions {
  std::filesystem::path sweep;
  std::filesystem::path output_dir;   ///< default: <sweep folder>/out
  int jobs = 1;                       ///< points run at once
  bool quiet = false;                 ///< no line per finished point
  /// Points done of all, elapsed time and ETA (on stderr for `frugalsim sweep`); null: none.
  core::Progress* progress = nullptr;
  /// Reuse the points of an earlier run into the same folder whose key is unchanged (see
  /// point_key) and whose reply was a result; rerun the others (never finished, invalid, failed,
  /// or made from another study, overrides or build).
  bool resume = false;
  /// Run only the points whose index is shard_index modulo shard_count (`--shard K/N`, 0 ≤ K < N:
  /// one task of a job array): their folders are written, the table is not (`collect` makes it).
  /// {0, 1}: every point, and the table.
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
  /// Run nothing: make the table from the points' folders (written by the shards, or by an earlier
  /// run), each taken when its stored key is the point's current key. Points without one are
  /// counted in SweepReport::missing and no table is written.
  bool collect = false;
  /// No point starts after it: the points left are rows with status "skipped" (a search's time
  /// budget). None: every point runs.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct SweepReport {
  std::size_t points = 0;
  std::size_t results = 0;  ///< status ok, out_of_memory or infeasible: a row of results
  std::size_t invalid = 0;  ///< the point's study is invalid (ConfigError: file, pointer, message)
  std::size_t failed = 0;   ///< internal error or a child that died
  std::size_t reused = 0;   ///< points taken from an earlier run (resume)
  std::size_t skipped = 0;  ///< not started: the deadline had passed
  std::size_t missing = 0;  ///< collect: points with no finished run of their current key
  std::vector<std::size_t> missing_points;  ///< their indices, in order
  /// Per point (row order): its status ("ok", "out_of_memory", "infeasible", "invalid", "error",
  /// "skipped"; "" for a point outside the shard or without a finished run).
  std::vector<std::string> statuses;
};

/// What makes a point's outputs: frugalsim's version and git revision, the executable's size and
/// modification time, whether events.json is kept, the base study document, the point's
/// overrides, and every file the point's study reads (models, clusters, the GPU catalogue,
/// traces) with its content fingerprint. Stored with the point's reply in
/// points/<index>/point.json once the point has finished. `fingerprints` (path → fingerprint),
/// when given, is filled and reused: one sweep reads each file once.
core::Json point_key(const Sweep& sweep, const SweepPoint& point,
                     std::map<std::string, std::string>* fingerprints = nullptr);

/// A value as one CSV field: strings as they are, other JSON as its text, null as nothing; quoted
/// (quotes doubled) when it holds a comma, a quote or a line break.
std::string csv_field(const core::Json& value);

/// The folder of point `index` of `count` under points/: its index, zero-padded to 4 digits (more
/// for 10,000 points and above).
std::string point_dir_name(std::size_t index, std::size_t count);

/// The folder of the sweep's outputs: options.output_dir, or <sweep folder>/out.
std::filesystem::path sweep_output_dir(const SweepOptions& options);

/// Runs every point of the shard (each in a forked child running app::run_study into
/// <output>/points/<index>/) and, unless the sweep is sharded, writes <output>/sweep.csv and
/// <output>/sweep.jsonl; with options.collect runs nothing and writes the table when every point
/// has a finished run. The sweep file is read completely before anything runs or is written.
/// Contract: the calling process has not created a SimGrid engine (children are forked from it).
SweepReport run_sweep(const SweepOptions& options);

/// Runs `points` (made by the caller, e.g. the layout search's finalists, with the overrides of
/// `sweep`'s base study each) as run_sweep runs a sweep file's, into sweep_output_dir(options),
/// and writes the table (options.sweep, shards and collect are not used). Same contract.
SweepReport run_sweep_points(const Sweep& sweep, const std::vector<SweepPoint>& points, const SweepOptions& options);

/// `frugalsim sweep SWEEP.json [-o DIR] [-j N] [--resume] [--quiet] [--shard K/N | --collect |
/// --slurm [--submit] ...]` (arguments after "sweep"): returns 0 when every point gave a result,
/// 2 when some point's study is invalid, 3 when some point failed or (collect) has no result yet;
/// throws boost::program_options::error (usage) and core::ConfigError (bad sweep file), which
/// run_main maps to exit codes 1 and 2.
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace frugal::app
