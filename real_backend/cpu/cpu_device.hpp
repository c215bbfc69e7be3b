// The CPU device: GEMMs through OpenBLAS (fp32), memory-bound work as real memcpy streams,
// copies as memcpy between two host buffers, allocations as real (touched) host memory with a
// caching allocator, like a framework's. Synchronous: every call returns when its work is done.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "real_backend/device.hpp"

namespace frugal::real {

class CpuDevice final : public Device {
 public:
  struct Options {
    double capacity_bytes = 0;  ///< memory this rank may allocate; 0: 80 % of MemAvailable / local ranks
    int threads = 0;            ///< OpenBLAS threads; 0: OPENBLAS_NUM_THREADS, else cores / local ranks
    int local_size = 1;
    /// What markers read: the host's steady clock (wall time), or the CPU time of the calling
    /// thread (thread_cpu), which other processes of a busy machine do not inflate. With
    /// thread_cpu, time spent waiting (blocked in MPI, descheduled) does not count and BLAS must
    /// run in the caller: the constructor throws std::invalid_argument unless BLAS has one
    /// thread, and markers of different threads must not be compared.
    bool thread_cpu_clock = false;
  };
  explicit CpuDevice(const Options& options);
  ~CpuDevice() override;

  std::string kind() const override { return "cpu"; }
  bool asynchronous() const override { return false; }
  core::Json describe() const override;

  double capacity_bytes() const override { return capacity_bytes_; }
  double in_use_bytes() const override;
  double peak_bytes() const override;
  Buffer allocate(std::size_t bytes, Stream stream) override;
  void release(Buffer buffer, Stream stream) override;
  void* allocate_host(std::size_t bytes) override;
  void release_host(void* data) override;
  void upload(Buffer dst, const void* host, std::size_t bytes) override;
  void download(void* host, Buffer src, std::size_t bytes) override;

  void reserve_workspace(const Workspace& workspace) override;
  void gemm(const program::Gemm& g, Stream stream) override;
  void stream_memory(double bytes, Stream stream) override;
  void copy(program::CopyDirection direction, double bytes, Stream stream) override;
  void copy_buffer(program::CopyDirection direction, Buffer device, void* host, std::size_t bytes,
                   Stream stream) override;
  void copy_pageable(program::CopyDirection direction, double bytes, Stream stream) override {
    copy(direction, bytes, stream);  // host memory is host memory
  }
  void launch_empty(Stream) override {}
  const void* copy_host_data() const override { return copy_host_.data(); }
  std::vector<float> gemm_on_host_data(int m, int n, int k, const std::vector<float>& a,
                                       const std::vector<float>& b) override;

  int mark(Stream stream) override;
  void wait(Stream, int) override {}
  void synchronise(Stream) override {}
  void synchronise() override {}
  double elapsed_s(int from, int to) override;
  void clear_markers() override;

  int blas_threads() const;

 private:
  double now_s() const;  ///< the marker clock (see Options::thread_cpu_clock)

  bool thread_cpu_clock_ = false;
  double capacity_bytes_ = 0;
  mutable std::mutex mutex_;  // allocator and markers (the streams schedule calls from threads)
  std::mutex gemm_mutex_;     // one GEMM at a time: the host stream's and the compute stream's share operands
  std::vector<double> marks_;  // seconds on the marker clock
  std::multimap<std::size_t, void*> cache_;  // freed blocks kept for reuse, by size
  double in_use_bytes_ = 0;
  double cached_bytes_ = 0;
  double peak_bytes_ = 0;
  std::vector<float> a_, b_, c_;
  std::vector<char> stream_src_, stream_dst_, copy_device_, copy_host_;
};

}  // namespace frugal::real
