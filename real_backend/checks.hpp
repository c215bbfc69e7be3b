// Start-up correctness checks of the real backend: a device whose GEMM or a communicator whose
// all-reduce returns garbage must stop the run before anything is measured.
#pragma once

#include <string>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"

namespace frugal::real {

struct CheckResult {
  bool ok = true;
  std::string message;  ///< what went wrong (empty when ok)
  core::Json report;    ///< what was checked, for measurements.json
};

/// C = A·B in double precision, column-major (the reference of the GEMM check).
std::vector<double> reference_gemm(int m, int n, int k, const std::vector<float>& a, const std::vector<float>& b);
/// Largest |c − reference| relative to the largest |reference| (0 when both are 0).
double relative_error(const std::vector<float>& c, const std::vector<double>& reference);

/// Small shapes (odd sizes included) on inputs that bf16 represents exactly and whose products
/// sum exactly in fp32, so any correct device matches the reference exactly (fp32 output).
CheckResult check_gemm(Device& device);

/// All-reduce of a small buffer of each rank's world rank over every group in `groups` (all
/// ranks must call it, with the same groups): the result must be the sum of the members' ranks.
CheckResult check_all_reduce(Device& device, Communicator& comm, const std::vector<program::Group>& groups);

}  // namespace frugal::real
