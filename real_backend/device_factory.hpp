// Chooses the device and communicator of a run: "cpu" (OpenBLAS + MPI, always built) or "cuda"
// (cuBLAS + NCCL, only when CMake found CUDA and NCCL).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"
#include "real_backend/launch.hpp"

namespace frugal::real {

struct DeviceOptions {
  std::string kind = "cpu";   ///< "cpu" or "cuda"
  double capacity_bytes = 0;  ///< 0: the device's own (see CpuDevice::Options; all free GPU memory)
  int threads = 0;            ///< CPU: OpenBLAS threads (0: OPENBLAS_NUM_THREADS or cores / local ranks)
  /// What op timings measure: "wall" (the host's steady clock; CUDA: events) or, on the CPU
  /// device only, "thread-cpu" (the executing thread's CPU time: independent of other load on
  /// the machine, blind to waits; see CpuDevice::Options::thread_cpu_clock).
  std::string clock = "wall";
};

/// True when this build has the CUDA device.
bool cuda_built();
/// Throws std::invalid_argument for an unknown kind or "cuda" in a build without CUDA, and
/// DeviceUnavailable when the device cannot be used here (no GPU, no driver).
std::unique_ptr<Device> make_device(const DeviceOptions& options, const Launch& launch);
/// Collective over all ranks: MPI for the CPU device, NCCL for CUDA.
std::unique_ptr<Communicator> make_communicator(Device& device, const std::vector<program::Group>& groups);

}  // namespace frugal::real
