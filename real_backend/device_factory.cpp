// Device and communicator selection (contract in device_factory.hpp).
#include "real_backend/device_factory.hpp"

#include <stdexcept>

#include "real_backend/cpu/cpu_device.hpp"
#include "real_backend/cpu/mpi_communicator.hpp"
#ifdef FRUGAL_HAVE_CUDA
#include "real_backend/cuda/cuda_device.hpp"
#endif

namespace frugal::real {

bool cuda_built() {
#ifdef FRUGAL_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Device> make_device(const DeviceOptions& options, const Launch& launch) {
  if (options.clock != "wall" && options.clock != "thread-cpu")
    throw std::invalid_argument("--clock " + options.clock + " (valid: wall, thread-cpu)");
  if (options.clock == "thread-cpu" && options.kind != "cpu")
    throw std::invalid_argument("--clock thread-cpu is for the CPU device only (a GPU's work is timed with its events)");
  if (options.kind == "cpu") {
    CpuDevice::Options o;
    o.capacity_bytes = options.capacity_bytes;
    o.threads = options.threads;
    o.local_size = launch.local_size;
    o.thread_cpu_clock = options.clock == "thread-cpu";
    return std::make_unique<CpuDevice>(o);
  }
  if (options.kind == "cuda") {
#ifdef FRUGAL_HAVE_CUDA
    return make_cuda_device(launch.local_rank, options.capacity_bytes);
#else
    throw std::invalid_argument("this build of frugal-real has no CUDA device (CMake found no CUDA compiler or NCCL)");
#endif
  }
  throw std::invalid_argument("unknown device \"" + options.kind + "\" (valid: cpu, cuda)");
}

std::unique_ptr<Communicator> make_communicator(Device& device, const std::vector<program::Group>& groups) {
#ifdef FRUGAL_HAVE_CUDA
  if (device.kind() == "cuda") return make_nccl_communicator(device, groups);
#endif
  return std::make_unique<MpiCommunicator>(groups);
}

}  // namespace frugal::real
