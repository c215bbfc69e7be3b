// MPI communicator: one MPI_Comm_split per program group (ring order = key), duplicated per
// stream so that the streams schedule may run collectives of different streams at once.
// Collectives reduce fp32 (MPI has no bf16 sum); point-to-point uses a world duplicate.
#pragma once

#include <mpi.h>

#include <array>
#include <deque>
#include <vector>

#include "real_backend/communicator.hpp"

namespace frugal::real {

class MpiCommunicator final : public Communicator {
 public:
  /// Collective over MPI_COMM_WORLD: every rank must construct it with the same groups.
  explicit MpiCommunicator(const std::vector<program::Group>& groups);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  std::string kind() const override { return "mpi"; }
  core::Json describe() const override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int group_rank(int group) const override;
  int group_size(int group) const override;
  DataType preferred_type() const override { return DataType::kFloat32; }

  void collective(program::CollectiveKind kind, int group, int root, Buffer send, Buffer recv, double bytes,
                  DataType type, Stream stream) override;
  void send(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) override;
  /// MPI_Isend from a copy of the bytes (an eager send's copy), freed when it completes.
  void send_background(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) override;
  void complete_sends() override;
  void recv(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream stream) override;
  void send_recv(int to, int from, Buffer send, Buffer recv, std::size_t bytes, Stream stream) override;
  void barrier() override;

 private:
  static std::array<MPI_Comm, kStreamCount> null_comms() {
    std::array<MPI_Comm, kStreamCount> comms;
    comms.fill(MPI_COMM_NULL);
    return comms;
  }
  struct GroupComms {
    int position = -1;
    int size = 0;
    std::array<MPI_Comm, kStreamCount> comms = null_comms();
  };
  const GroupComms& group_at(int group) const;
  int mpi_tag(std::int64_t tag) const;

  int rank_ = 0;
  int size_ = 1;
  int tag_upper_bound_ = 32767;
  std::vector<GroupComms> groups_;
  MPI_Comm p2p_ = MPI_COMM_NULL;
  /// Background sends in flight: requests and the copies they send from (deque: stable).
  std::vector<MPI_Request> pending_;
  std::deque<std::vector<char>> pending_data_;
  MPI_Comm control_ = MPI_COMM_NULL;
};

}  // namespace frugal::real
