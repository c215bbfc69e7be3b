// CUDA device (contract in cuda_device.hpp). Operands are bf16 (training precision), GEMMs
// accumulate in fp32 (CUBLAS_COMPUTE_32F); the correctness check writes fp32 so it can be exact.
#include <cuda_bf16.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "real_backend/cuda/cuda_check.cuh"
#include "real_backend/cuda/cuda_device.hpp"
#include "sim/core/error.hpp"

namespace frugal::real {
namespace {

__global__ void fill_bf16(__nv_bfloat16* p, std::size_t n, unsigned seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    p[i] = __float2bfloat16(static_cast<float>(static_cast<int>((i * 2654435761u + seed) % 1024) - 512) / 65536.0f);
}

__global__ void empty_kernel() {}

int checked_int(std::int64_t v, const char* what) {
  if (v <= 0 || v > INT_MAX) throw core::InternalError(std::string("GEMM dimension ") + what + " out of range for cuBLAS");
  return static_cast<int>(v);
}

class CudaDevice final : public Device {
 public:
  CudaDevice(int local_rank, double capacity_bytes) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      throw DeviceUnavailable(std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e) + " (error " +
                              std::to_string(static_cast<int>(e)) + ")");
    }
    if (count == 0) throw DeviceUnavailable("no CUDA device");
    device_ = local_rank % count;
    FRUGAL_CUDA(cudaSetDevice(device_));
    int pools = 0;
    FRUGAL_CUDA(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device_));
    stream_ordered_ = pools != 0;
    for (auto& s : streams_) FRUGAL_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    FRUGAL_CUBLAS(cublasCreate(&blas_));
    std::size_t free_bytes = 0, total_bytes = 0;
    FRUGAL_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
    total_bytes_ = static_cast<double>(total_bytes);
    capacity_bytes_ = capacity_bytes > 0 ? std::min(capacity_bytes, total_bytes_) : total_bytes_;
  }

  ~CudaDevice() override {
    cudaDeviceSynchronize();
    for (cudaEvent_t ev : events_) cudaEventDestroy(ev);
    for (void* p : {a_, b_, c_, stream_src_, stream_dst_, copy_device_}) cudaFree(p);
    if (copy_host_ != nullptr) cudaFreeHost(copy_host_);
    std::free(pageable_);
    cublasDestroy(blas_);
    for (cudaStream_t s : streams_) cudaStreamDestroy(s);
  }

  std::string kind() const override { return "cuda"; }
  bool asynchronous() const override { return true; }

  core::Json describe() const override {
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, device_);
    auto attribute = [&](cudaDeviceAttr a) {
      int v = 0;
      cudaDeviceGetAttribute(&v, a, device_);
      return v;
    };
    int driver = 0, runtime = 0, blas = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    cublasGetVersion(blas_, &blas);
    char bus[32] = {};
    cudaDeviceGetPCIBusId(bus, sizeof(bus), device_);
    return core::Json{{"kind", "cuda"},
                      {"model", prop.name},
                      {"index", device_},
                      {"pci_bus_id", bus},
                      {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
                      {"multiprocessors", prop.multiProcessorCount},
                      {"clock_khz", attribute(cudaDevAttrClockRate)},  // CUDA 13: not in cudaDeviceProp
                      {"memory_clock_khz", attribute(cudaDevAttrMemoryClockRate)},
                      {"memory_bus_width_bits", attribute(cudaDevAttrGlobalMemoryBusWidth)},
                      {"memory_total_bytes", total_bytes_},
                      {"capacity_bytes", capacity_bytes_},
                      {"precision", "bf16 operands, fp32 accumulate"},
                      {"stream_ordered_allocations", stream_ordered_},
                      {"driver_version", driver},
                      {"runtime_version", runtime},
                      {"cublas_version", blas}};
  }

  double capacity_bytes() const override { return capacity_bytes_; }
  double in_use_bytes() const override {
    std::lock_guard lock(mutex_);
    return in_use_bytes_;
  }
  double peak_bytes() const override {
    std::lock_guard lock(mutex_);
    return peak_bytes_;
  }

  Buffer allocate(std::size_t bytes, Stream stream) override {
    std::lock_guard lock(mutex_);
    const double b = static_cast<double>(bytes);
    if (in_use_bytes_ + b > capacity_bytes_)
      throw OutOfMemory(b, in_use_bytes_, capacity_bytes_, "capacity set for the CUDA device exceeded");
    void* p = nullptr;
    const cudaError_t e = stream_ordered_ ? cudaMallocAsync(&p, std::max<std::size_t>(bytes, 1), native(stream))
                                          : cudaMalloc(&p, std::max<std::size_t>(bytes, 1));
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      throw OutOfMemory(b, in_use_bytes_, capacity_bytes_, "cudaMalloc: out of memory on the GPU");
    }
    FRUGAL_CUDA(e);
    in_use_bytes_ += b;
    peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
    return {p, bytes};
  }

  void release(Buffer buffer, Stream stream) override {
    if (buffer.data == nullptr) return;
    std::lock_guard lock(mutex_);
    if (stream_ordered_) FRUGAL_CUDA(cudaFreeAsync(buffer.data, native(stream)));
    else FRUGAL_CUDA(cudaFree(buffer.data));
    in_use_bytes_ -= static_cast<double>(buffer.bytes);
  }

  void upload(Buffer dst, const void* host, std::size_t bytes) override {
    FRUGAL_CUDA(cudaDeviceSynchronize());  // a stream-ordered allocation may still be pending
    FRUGAL_CUDA(cudaMemcpy(dst.data, host, bytes, cudaMemcpyHostToDevice));
  }
  void download(void* host, Buffer src, std::size_t bytes) override {
    FRUGAL_CUDA(cudaDeviceSynchronize());
    FRUGAL_CUDA(cudaMemcpy(host, src.data, bytes, cudaMemcpyDeviceToHost));
  }

  void reserve_workspace(const Workspace& w) override {
    FRUGAL_CUDA(cudaDeviceSynchronize());
    for (void** p : {&a_, &b_, &c_, &stream_src_, &stream_dst_, &copy_device_}) {
      cudaFree(*p);
      *p = nullptr;
    }
    if (copy_host_ != nullptr) cudaFreeHost(copy_host_);
    std::free(pageable_);
    a_elements_ = std::max<std::size_t>(w.gemm_a_elements, 1);
    b_elements_ = std::max<std::size_t>(w.gemm_b_elements, 1);
    c_elements_ = std::max<std::size_t>(w.gemm_c_elements, 1);
    stream_bytes_ = std::max<std::size_t>(w.stream_bytes, 1);
    copy_bytes_ = std::max<std::size_t>(w.copy_bytes, 1);
    const double total = 2.0 * static_cast<double>(a_elements_ + b_elements_ + c_elements_) +
                         2.0 * static_cast<double>(stream_bytes_) + static_cast<double>(copy_bytes_);
    if (total + in_use_bytes() > capacity_bytes_)
      throw OutOfMemory(total, in_use_bytes(), capacity_bytes_, "the workspace (GEMM operands, streaming and copy buffers) does not fit");
    auto alloc = [&](void** p, std::size_t bytes) {
      const cudaError_t e = cudaMalloc(p, bytes);
      if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        throw OutOfMemory(static_cast<double>(bytes), in_use_bytes(), capacity_bytes_, "workspace allocation failed");
      }
      FRUGAL_CUDA(e);
    };
    alloc(&a_, a_elements_ * 2);
    alloc(&b_, b_elements_ * 2);
    alloc(&c_, c_elements_ * 2);
    alloc(&stream_src_, stream_bytes_);
    alloc(&stream_dst_, stream_bytes_);
    alloc(&copy_device_, copy_bytes_);
    FRUGAL_CUDA(cudaMallocHost(&copy_host_, copy_bytes_));
    pageable_ = std::malloc(copy_bytes_);
    std::memset(pageable_, 0, copy_bytes_);
    std::memset(copy_host_, 0, copy_bytes_);
    fill_bf16<<<1024, 256>>>(static_cast<__nv_bfloat16*>(a_), a_elements_, 1);
    fill_bf16<<<1024, 256>>>(static_cast<__nv_bfloat16*>(b_), b_elements_, 2);
    FRUGAL_CUDA(cudaMemset(c_, 0, c_elements_ * 2));
    FRUGAL_CUDA(cudaMemset(stream_src_, 1, stream_bytes_));
    FRUGAL_CUDA(cudaGetLastError());
    FRUGAL_CUDA(cudaDeviceSynchronize());
  }

  void gemm(const program::Gemm& g, Stream stream) override {
    const int m = checked_int(g.m, "m"), n = checked_int(g.n, "n"), k = checked_int(g.k, "k");
    const std::size_t mk = static_cast<std::size_t>(m) * k, kn = static_cast<std::size_t>(k) * n,
                      mn = static_cast<std::size_t>(m) * n;
    if (mk > a_elements_ || kn > b_elements_ || mn > c_elements_)
      throw core::InternalError("GEMM operands larger than the reserved workspace");
    // Batches that do not all fit run as several strided-batched calls over the workspace.
    const auto fit = static_cast<std::int64_t>(std::min({a_elements_ / mk, b_elements_ / kn, c_elements_ / mn}));
    const float alpha = 1.0f, beta = 0.0f;
    std::lock_guard lock(blas_mutex_);
    FRUGAL_CUBLAS(cublasSetStream(blas_, native(stream)));
    for (std::int64_t done = 0; done < g.batch; done += fit) {
      const int count = static_cast<int>(std::min(fit, g.batch - done));
      if (count == 1)
        FRUGAL_CUBLAS(cublasGemmEx(blas_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, a_, CUDA_R_16BF, m, b_, CUDA_R_16BF, k,
                                   &beta, c_, CUDA_R_16BF, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      else
        FRUGAL_CUBLAS(cublasGemmStridedBatchedEx(
            blas_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, a_, CUDA_R_16BF, m, static_cast<long long>(mk), b_,
            CUDA_R_16BF, k, static_cast<long long>(kn), &beta, c_, CUDA_R_16BF, m, static_cast<long long>(mn), count,
            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }

  void stream_memory(double bytes, Stream stream) override {
    // A device-to-device copy of N bytes reads N and writes N: memory traffic 2N.
    for (auto left = static_cast<std::size_t>(std::max(0.0, bytes) / 2); left > 0;) {
      const std::size_t chunk = std::min(left, stream_bytes_);
      FRUGAL_CUDA(cudaMemcpyAsync(stream_dst_, stream_src_, chunk, cudaMemcpyDeviceToDevice, native(stream)));
      left -= chunk;
    }
  }

  void copy(program::CopyDirection direction, double bytes, Stream stream) override {
    transfer(direction, bytes, stream, copy_host_);
  }
  void copy_pageable(program::CopyDirection direction, double bytes, Stream stream) override {
    transfer(direction, bytes, stream, pageable_);
  }
  void* allocate_host(std::size_t bytes) override {
    void* p = nullptr;
    // Pinned: cudaMemcpyAsync from pageable memory would stage through a driver buffer and block.
    if (cudaMallocHost(&p, std::max<std::size_t>(bytes, 1)) != cudaSuccess) {
      cudaGetLastError();  // reset the error this failed call recorded
      throw OutOfMemory(static_cast<double>(bytes), 0, 0, "cudaMallocHost failed");
    }
    return p;
  }
  void release_host(void* data) override {
    if (data != nullptr) cudaFreeHost(data);
  }
  void copy_buffer(program::CopyDirection direction, Buffer device, void* host, std::size_t bytes,
                   Stream stream) override {
    const std::size_t n = std::min(bytes, device.bytes);
    if (n == 0) return;
    if (direction == program::CopyDirection::kDeviceToHost)
      FRUGAL_CUDA(cudaMemcpyAsync(host, device.data, n, cudaMemcpyDeviceToHost, native(stream)));
    else if (direction == program::CopyDirection::kHostToDevice)
      FRUGAL_CUDA(cudaMemcpyAsync(device.data, host, n, cudaMemcpyHostToDevice, native(stream)));
    else
      throw std::invalid_argument("copy_buffer: not a device/host direction");
  }
  void launch_empty(Stream stream) override { empty_kernel<<<1, 1, 0, native(stream)>>>(); }
  const void* copy_host_data() const override { return copy_host_; }

  std::vector<float> gemm_on_host_data(int m, int n, int k, const std::vector<float>& a,
                                       const std::vector<float>& b) override {
    std::vector<__nv_bfloat16> ha(a.size()), hb(b.size());
    std::transform(a.begin(), a.end(), ha.begin(), [](float v) { return __float2bfloat16(v); });
    std::transform(b.begin(), b.end(), hb.begin(), [](float v) { return __float2bfloat16(v); });
    void *da = nullptr, *db = nullptr, *dc = nullptr;
    const std::size_t c_elements = static_cast<std::size_t>(m) * n;
    FRUGAL_CUDA(cudaMalloc(&da, ha.size() * 2));
    FRUGAL_CUDA(cudaMalloc(&db, hb.size() * 2));
    FRUGAL_CUDA(cudaMalloc(&dc, c_elements * 4));
    FRUGAL_CUDA(cudaMemcpy(da, ha.data(), ha.size() * 2, cudaMemcpyHostToDevice));
    FRUGAL_CUDA(cudaMemcpy(db, hb.data(), hb.size() * 2, cudaMemcpyHostToDevice));
    const float alpha = 1.0f, beta = 0.0f;
    {
      std::lock_guard lock(blas_mutex_);
      FRUGAL_CUBLAS(cublasSetStream(blas_, native(Stream::kCompute)));
      FRUGAL_CUBLAS(cublasGemmEx(blas_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da, CUDA_R_16BF, m, db, CUDA_R_16BF, k,
                                 &beta, dc, CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
    FRUGAL_CUDA(cudaDeviceSynchronize());
    std::vector<float> c(c_elements);
    FRUGAL_CUDA(cudaMemcpy(c.data(), dc, c_elements * 4, cudaMemcpyDeviceToHost));
    cudaFree(da);
    cudaFree(db);
    cudaFree(dc);
    return c;
  }

  int mark(Stream stream) override {
    std::lock_guard lock(mutex_);
    if (used_events_ == events_.size()) {
      cudaEvent_t ev = nullptr;
      FRUGAL_CUDA(cudaEventCreate(&ev));
      events_.push_back(ev);
    }
    FRUGAL_CUDA(cudaEventRecord(events_[used_events_], native(stream)));
    return static_cast<int>(used_events_++);
  }
  void wait(Stream stream, int marker) override {
    std::lock_guard lock(mutex_);
    FRUGAL_CUDA(cudaStreamWaitEvent(native(stream), events_.at(static_cast<std::size_t>(marker)), 0));
  }
  void synchronise(Stream stream) override { FRUGAL_CUDA(cudaStreamSynchronize(native(stream))); }
  void synchronise() override { FRUGAL_CUDA(cudaDeviceSynchronize()); }
  double elapsed_s(int from, int to) override {
    std::lock_guard lock(mutex_);
    float ms = 0;
    FRUGAL_CUDA(cudaEventElapsedTime(&ms, events_.at(static_cast<std::size_t>(from)), events_.at(static_cast<std::size_t>(to))));
    return static_cast<double>(ms) * 1e-3;
  }
  void clear_markers() override {
    std::lock_guard lock(mutex_);
    used_events_ = 0;
  }
  void* native_stream(Stream stream) override { return native(stream); }

 private:
  cudaStream_t native(Stream s) const { return streams_[static_cast<std::size_t>(s)]; }

  void transfer(program::CopyDirection direction, double bytes, Stream stream, void* host) {
    const bool to_host = direction == program::CopyDirection::kDeviceToHost;
    for (auto left = static_cast<std::size_t>(std::max(0.0, bytes)); left > 0;) {
      const std::size_t chunk = std::min(left, copy_bytes_);
      if (to_host) FRUGAL_CUDA(cudaMemcpyAsync(host, copy_device_, chunk, cudaMemcpyDeviceToHost, native(stream)));
      else FRUGAL_CUDA(cudaMemcpyAsync(copy_device_, host, chunk, cudaMemcpyHostToDevice, native(stream)));
      left -= chunk;
    }
  }

  int device_ = 0;
  bool stream_ordered_ = true;
  std::array<cudaStream_t, kStreamCount> streams_{};
  cublasHandle_t blas_ = nullptr;
  std::mutex blas_mutex_;
  mutable std::mutex mutex_;  // allocator accounting and the event pool
  double total_bytes_ = 0, capacity_bytes_ = 0, in_use_bytes_ = 0, peak_bytes_ = 0;
  std::vector<cudaEvent_t> events_;
  std::size_t used_events_ = 0;
  void *a_ = nullptr, *b_ = nullptr, *c_ = nullptr, *stream_src_ = nullptr, *stream_dst_ = nullptr;
  void *copy_device_ = nullptr, *copy_host_ = nullptr, *pageable_ = nullptr;
  std::size_t a_elements_ = 1, b_elements_ = 1, c_elements_ = 1, stream_bytes_ = 1, copy_bytes_ = 1;
};

}  // namespace

std::unique_ptr<Device> make_cuda_device(int local_rank, double capacity_bytes) {
  return std::make_unique<CudaDevice>(local_rank, capacity_bytes);
}

}  // namespace frugal::real
