// Device interface of the real backend: the work a Program's ops become (GEMMs, memory-bound
// streaming, host<->device copies, allocations) and the stream markers the executor times them
// with. Implementations: cpu/cpu_device (OpenBLAS, synchronous) and cuda/cuda_device (cuBLAS,
// asynchronous streams). A device never talks to other ranks: that is the Communicator's job.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"
#include "sim/program/program.hpp"

namespace frugal::real {

using program::Stream;
using program::kStreamCount;

/// A real allocation failed, or would exceed the device's capacity. An out-of-memory is a
/// result of a run (reported in measurements.json), not a crash.
class OutOfMemory : public std::runtime_error {
 public:
  OutOfMemory(double requested_bytes, double in_use_bytes, double capacity_bytes, const std::string& detail)
      : std::runtime_error("out of memory: " + detail), requested_bytes(requested_bytes),
        in_use_bytes(in_use_bytes), capacity_bytes(capacity_bytes) {}
  double requested_bytes;
  double in_use_bytes;
  double capacity_bytes;
};

/// The requested device does not exist or cannot be used here (no GPU, no driver). The CLI
/// exits with code 77 on it, the "skipped" code of ctest.
class DeviceUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Memory of a device: `data` is a device pointer (a host pointer on the CPU device).
struct Buffer {
  void* data = nullptr;
  std::size_t bytes = 0;
};

/// Sizes of the operands a device owns, in elements (GEMM) or bytes (the rest). The executor
/// derives them from the program, capped so that one op never needs more than a few buffers.
struct Workspace {
  std::size_t gemm_a_elements = 0;  ///< A operands, ≥ m·k of every GEMM (batches wrap around)
  std::size_t gemm_b_elements = 0;
  std::size_t gemm_c_elements = 0;
  std::size_t stream_bytes = 0;     ///< source and destination of memory-bound streaming
  std::size_t copy_bytes = 0;       ///< device and host ends of a copy (pinned on CUDA)
};

class Device {
 public:
  virtual ~Device() = default;

  virtual std::string kind() const = 0;  ///< "cpu" or "cuda"
  /// True when work is enqueued and runs later (CUDA streams, so streams overlap); false when
  /// every call returns after its work is done.
  virtual bool asynchronous() const = 0;
  /// Manifest entry: model, memory, library versions.
  virtual core::Json describe() const = 0;

  // Memory. Allocations are stream-ordered on an asynchronous device. Thread-safe.
  virtual double capacity_bytes() const = 0;
  virtual double in_use_bytes() const = 0;
  virtual double peak_bytes() const = 0;
  /// Throws OutOfMemory (and allocates nothing) when `bytes` does not fit.
  virtual Buffer allocate(std::size_t bytes, Stream stream) = 0;
  virtual void release(Buffer buffer, Stream stream) = 0;
  /// Host memory for the program's host buffers (pinned on CUDA, so that copies are
  /// asynchronous). Not device memory: counted in neither in_use_bytes() nor peak_bytes().
  /// Throws OutOfMemory when the host cannot give it.
  virtual void* allocate_host(std::size_t bytes) = 0;
  virtual void release_host(void* data) = 0;
  /// Synchronous transfers for set-up and checks (never timed).
  virtual void upload(Buffer dst, const void* host, std::size_t bytes) = 0;
  virtual void download(void* host, Buffer src, std::size_t bytes) = 0;

  // Work on device-owned operands. reserve_workspace() first (not timed; may throw OutOfMemory).
  virtual void reserve_workspace(const Workspace& workspace) = 0;
  /// C[m×n] = A[m×k]·B[k×n], `batch` times: fp32 on the CPU, bf16 with fp32 accumulate on CUDA.
  virtual void gemm(const program::Gemm& g, Stream stream) = 0;
  /// A memory-bound kernel whose memory traffic (reads + writes) is `bytes`.
  virtual void stream_memory(double bytes, Stream stream) = 0;
  /// Copies `bytes` between the device and (pinned) host memory.
  virtual void copy(program::CopyDirection direction, double bytes, Stream stream) = 0;
  /// Copies `bytes` between the device buffer `device` and host memory `host` (from
  /// allocate_host) in `direction` (device_to_host or host_to_device), on `stream`.
  virtual void copy_buffer(program::CopyDirection direction, Buffer device, void* host, std::size_t bytes,
                           Stream stream) = 0;
  /// The same from pageable host memory (benchmarks: what an unpinned framework copy costs).
  virtual void copy_pageable(program::CopyDirection direction, double bytes, Stream stream) = 0;
  /// The smallest unit of work the device can launch (an empty kernel on CUDA, nothing on the
  /// CPU): the launch-latency benchmark.
  virtual void launch_empty(Stream stream) = 0;
  /// Host address of the copy buffer's host end (checkpoint writes read it after a copy).
  virtual const void* copy_host_data() const = 0;

  /// Correctness check: C = A·B on host data (column-major, fp32 in and out, computed at the
  /// device's precision). Synchronous.
  virtual std::vector<float> gemm_on_host_data(int m, int n, int k, const std::vector<float>& a,
                                               const std::vector<float>& b) = 0;

  // Timing. A marker is the point of `stream` after all work enqueued on it so far.
  /// Thread-safe; returns a marker id.
  virtual int mark(Stream stream) = 0;
  /// Makes `stream` wait for `marker` (a no-op on a synchronous device).
  virtual void wait(Stream stream, int marker) = 0;
  virtual void synchronise(Stream stream) = 0;
  virtual void synchronise() = 0;
  /// Seconds from marker `from` to marker `to`; valid once both are reached (after synchronise()).
  virtual double elapsed_s(int from, int to) = 0;
  /// Drops every marker (ids restart at 0). Call only when no marker is pending.
  virtual void clear_markers() = 0;

  /// The native stream behind `stream` (cudaStream_t on CUDA) for the communicator; null on CPU.
  virtual void* native_stream(Stream stream) { return nullptr; }
};

}  // namespace frugal::real
