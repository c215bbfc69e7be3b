// frugalsim calibrate | validate: fit a platform to real-backend measurements, and report the
// simulator's error against measured runs.
#pragma once

#include <string>
#include <vector>

namespace frugal::app {

/// calibrate BENCH.json... --platform P.json -o P_CAL.json [--node-type T] [--precision p]
int cmd_calibrate(const std::vector<std::string>& args);

/// validate --platform P.json --program PROGRAM.json --measurements M.json [-o REPORT.json]
/// Simulates the program (one simulation: one process) and compares it with the measurements.
int cmd_validate(const std::vector<std::string>& args);

}  // namespace frugal::app
