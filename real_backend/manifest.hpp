// The manifest of a real run or benchmark: what ran where, with which libraries and arguments,
// so that a measurement can be traced back and reproduced.
#pragma once

#include <string>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"
#include "real_backend/launch.hpp"

namespace frugal::real {

/// OpenBLAS as linked: openblas_get_config(), core name, threads.
core::Json openblas_info();

/// Tool version and git revision, argv, UTC start time, launch (source, world size), every
/// rank's host (`hosts`, gathered), the device and communicator descriptions, MPI library and
/// standard versions, BLAS configuration and the environment variables that change timings.
core::Json make_manifest(const Launch& launch, const Device& device, const Communicator* communicator,
                         const std::vector<std::string>& argv, const std::vector<std::string>& hosts);

}  // namespace frugal::real
