// Strict checks of the files `frugalsim calibrate` and `validate` read (frugal-real bench and
// measurement files): every field the fits and comparisons use, with its type and range, so a
// hand-edited or truncated file is bad input (exit 2, file and JSON pointer), never a library
// exception deep in a fit.
#pragma once

#include <string>

#include "sim/core/json_reader.hpp"

namespace frugal::calibration {

/// A `frugal-real bench` file: "format", "manifest"/"device", and in each row of "gemm"
/// (flops > 0, flops_per_s > 0, batch ≥ 1 if present), "collectives" (collective, group_size ≥ 1,
/// bytes ≥ 0, time_s/median ≥ 0) and "memory" (bytes > 0, bandwidth_bytes_per_s > 0).
/// Throws core::ConfigError at the first field that is missing, mistyped or out of range.
void check_bench_file(const core::Json& bench, const std::string& file);

/// A `frugal-real run` measurements file: "format", "iterations"/"median_s" > 0, and in each row
/// of "ops": rank ≥ 0, name, time_s/median ≥ 0, kind (a string) and op (an integer) if present.
void check_measurements_file(const core::Json& measurements, const std::string& file);

}  // namespace frugal::calibration
