// Error checks of CUDA, cuBLAS and NCCL calls: a failed call throws std::runtime_error naming
// the call, the file and line, and the library's own message. Header of the cuda/ folder only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

namespace frugal::real::cuda_detail {

[[noreturn]] inline void fail(const char* call, const char* file, int line, const std::string& what) {
  throw std::runtime_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " + what);
}

}  // namespace frugal::real::cuda_detail

#define FRUGAL_CUDA(call)                                                                              \
  do {                                                                                                 \
    const cudaError_t frugal_e = (call);                                                               \
    if (frugal_e != cudaSuccess)                                                                       \
      ::frugal::real::cuda_detail::fail(#call, __FILE__, __LINE__, cudaGetErrorString(frugal_e));      \
  } while (0)

#define FRUGAL_CUBLAS(call)                                                                            \
  do {                                                                                                 \
    const cublasStatus_t frugal_s = (call);                                                            \
    if (frugal_s != CUBLAS_STATUS_SUCCESS)                                                             \
      ::frugal::real::cuda_detail::fail(#call, __FILE__, __LINE__, cublasGetStatusString(frugal_s));   \
  } while (0)

#define FRUGAL_NCCL(call)                                                                              \
  do {                                                                                                 \
    const ncclResult_t frugal_r = (call);                                                              \
    if (frugal_r != ncclSuccess)                                                                       \
      ::frugal::real::cuda_detail::fail(#call, __FILE__, __LINE__, ncclGetErrorString(frugal_r));      \
  } while (0)
