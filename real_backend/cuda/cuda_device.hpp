// The CUDA device and the NCCL communicator, behind the generic interfaces: this header has no
// CUDA include, so the CPU-only code (device_factory.cpp) can name them. Built only when CMake
// found a CUDA compiler and NCCL (FRUGAL_HAVE_CUDA).
#pragma once

#include <memory>
#include <vector>

#include "real_backend/communicator.hpp"
#include "real_backend/device.hpp"

namespace frugal::real {

/// GPU `local_rank % device count`: cuBLAS bf16 GEMMs with fp32 accumulate, device-to-device
/// copies for memory-bound work, cudaMemcpyAsync with pinned host memory on the copy stream,
/// stream-ordered allocations (cudaMallocAsync; a real out-of-memory becomes OutOfMemory),
/// cudaEvent markers. `capacity_bytes` > 0 caps allocations below the GPU's memory.
/// Throws DeviceUnavailable when there is no usable GPU (e.g. cudaErrorInsufficientDriver).
std::unique_ptr<Device> make_cuda_device(int local_rank, double capacity_bytes);

/// NCCL communicators per group (unique ids broadcast over MPI) plus one over all ranks for
/// send/recv; operations are enqueued on the device's streams. Collective over MPI_COMM_WORLD.
std::unique_ptr<Communicator> make_nccl_communicator(Device& device, const std::vector<program::Group>& groups);

}  // namespace frugal::real
