// Communicator interface of the real backend: the Program's groups as real communicators
// (MPI on the CPU device, NCCL on CUDA) and the collectives and point-to-point transfers of its
// ops, on device buffers. Byte counts follow nccl-tests: `bytes` is the whole buffer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "real_backend/device.hpp"

namespace frugal::real {

enum class DataType { kFloat32, kBfloat16 };
inline std::size_t element_bytes(DataType t) { return t == DataType::kFloat32 ? 4 : 2; }

/// Element counts of one collective of `bytes` (whole buffer) over `n` ranks, as the library
/// calls take them. `elements` is the per-call count (per-rank share for reduce-scatter,
/// all-gather and all-to-all); `bytes` is what actually moves, ≥ one element per rank.
struct CollectiveShape {
  std::size_t elements = 0;
  std::size_t bytes = 0;
};
inline CollectiveShape collective_shape(program::CollectiveKind kind, double bytes, int n, DataType t) {
  const double es = static_cast<double>(element_bytes(t));
  const bool whole = kind == program::CollectiveKind::kAllReduce || kind == program::CollectiveKind::kBroadcast;
  const double share = whole ? bytes / es : bytes / es / std::max(1, n);
  const auto elements = static_cast<std::size_t>(std::max(1.0, std::round(share)));
  const std::size_t total = whole ? elements : elements * static_cast<std::size_t>(std::max(1, n));
  return {elements, total * element_bytes(t)};
}

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual std::string kind() const = 0;  ///< "mpi" or "nccl"
  virtual core::Json describe() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Position of this rank in `group` (ring order), −1 when not a member; and its size.
  virtual int group_rank(int group) const = 0;
  virtual int group_size(int group) const = 0;
  /// The data type collectives use by default (training precision where the library has it).
  virtual DataType preferred_type() const = 0;

  /// One collective over `group`; `root` is a group position (broadcast only). `send` and
  /// `recv` each hold collective_shape(kind, bytes, group_size, type).bytes. Blocking with a
  /// synchronous device; enqueued on `stream` otherwise. Calls on one (group, stream) must be
  /// made in the same order on every member, as in MPI and NCCL.
  virtual void collective(program::CollectiveKind kind, int group, int root, Buffer send, Buffer recv,
                          double bytes, DataType type, Stream stream) = 0;
  /// Blocking send / receive (completes when the data has left / arrived), matched by
  /// (peer, tag) in order. Ranks are world ranks.
  virtual void send(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) = 0;
  virtual void recv(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) = 0;
  /// A send that returns once the data is copied out of `buffer` and completes in the background,
  /// as an eager send does whatever its size (a one-thread schedule would otherwise wait for the
  /// receiver while the receiver waits for its own send: 1F1B pipelines). Sends in flight end by
  /// complete_sends(). Default: the blocking send.
  virtual void send_background(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) {
    send(peer, tag, buffer, bytes, stream);
  }
  /// Waits for every send_background in flight (each rank's receives are posted in its own
  /// program order, so this ends once the receivers reach them).
  virtual void complete_sends() {}
  /// Sends to `to` while receiving from `from` (never deadlocks in a ring; benchmarks).
  virtual void send_recv(int to, int from, Buffer send, Buffer recv, std::size_t bytes, Stream stream) = 0;
  /// Host-side barrier over all ranks.
  virtual void barrier() = 0;
};

}  // namespace frugal::real
