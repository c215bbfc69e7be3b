// nccl-tests' text output (all_reduce_perf, all_gather_perf, reduce_scatter_perf, broadcast_perf,
// alltoall_perf, sendrecv_perf) read as a bench document, so that `frugalsim calibrate` fits a
// node's link from the nccl-tests runs users already have.
#pragma once

#include <string>

#include "sim/core/json_reader.hpp"

namespace frugal::calibration {

/// Whether `text` is nccl-tests output: it has the column header (size ... redop ... busbw).
bool is_nccl_tests_output(const std::string& text);

/// The out-of-place rows of one nccl-tests run as a bench document (format frugal-real-bench,
/// "collectives" rows: collective, group_size, bytes, elements, type, time_s/median), the way
/// check_bench_file and fit_benches read them. The collective comes from the "# Collective test
/// starting: X_perf" line, else from the file name (all_reduce_perf.txt, allgather.log, ...);
/// the group size from the "#  Rank" lines, which must all be on one host (the fit is of the
/// intra-node link). Throws core::ConfigError(file, "line N", ...) for what it cannot read.
core::Json read_nccl_tests(const std::string& text, const std::string& file);

}  // namespace frugal::calibration
