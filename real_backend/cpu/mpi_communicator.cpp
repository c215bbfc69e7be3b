// MPI communicator (contract in mpi_communicator.hpp). Counts above INT_MAX elements are split
// by the executor's buffer cap (256 MiB by default), so int counts suffice here.
#include "real_backend/cpu/mpi_communicator.hpp"

#include <climits>

#include "sim/core/error.hpp"
#include "sim/program/program.hpp"

namespace frugal::real {
namespace {

int to_count(std::size_t elements) {
  if (elements > static_cast<std::size_t>(INT_MAX)) throw core::InternalError("MPI count above INT_MAX");
  return static_cast<int>(elements);
}

int checked_bytes(std::size_t bytes) { return to_count(bytes); }

}  // namespace

MpiCommunicator::MpiCommunicator(const std::vector<program::Group>& groups) {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  int* ub = nullptr;
  int found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &found);
  if (found && ub != nullptr) tag_upper_bound_ = *ub;
  MPI_Comm_dup(MPI_COMM_WORLD, &p2p_);
  MPI_Comm_dup(MPI_COMM_WORLD, &control_);
  groups_.resize(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    GroupComms& gc = groups_[g];
    gc.size = static_cast<int>(groups[g].ranks.size());
    for (std::size_t i = 0; i < groups[g].ranks.size(); ++i)
      if (groups[g].ranks[i].value == rank_) gc.position = static_cast<int>(i);
    MPI_Comm base = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, gc.position >= 0 ? 0 : MPI_UNDEFINED, gc.position, &base);
    if (base == MPI_COMM_NULL) continue;
    for (int s = 0; s < kStreamCount; ++s) MPI_Comm_dup(base, &gc.comms[static_cast<std::size_t>(s)]);
    MPI_Comm_free(&base);
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  complete_sends();
  for (GroupComms& gc : groups_)
    for (MPI_Comm& c : gc.comms)
      if (c != MPI_COMM_NULL) MPI_Comm_free(&c);
  if (p2p_ != MPI_COMM_NULL) MPI_Comm_free(&p2p_);
  if (control_ != MPI_COMM_NULL) MPI_Comm_free(&control_);
}

core::Json MpiCommunicator::describe() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string lib(text, static_cast<std::size_t>(length));
  while (!lib.empty() && (lib.back() == '\n' || lib.back() == '\0')) lib.pop_back();
  return core::Json{{"kind", "mpi"}, {"library", lib}, {"reduction_type", "fp32"}, {"groups", groups_.size()}};
}

const MpiCommunicator::GroupComms& MpiCommunicator::group_at(int group) const {
  if (group < 0 || group >= static_cast<int>(groups_.size()))
    throw core::InternalError("collective on group " + std::to_string(group) + ", which does not exist");
  return groups_[static_cast<std::size_t>(group)];
}

int MpiCommunicator::group_rank(int group) const { return group_at(group).position; }
int MpiCommunicator::group_size(int group) const { return group_at(group).size; }

int MpiCommunicator::mpi_tag(std::int64_t tag) const {
  const std::int64_t modulus = static_cast<std::int64_t>(tag_upper_bound_) + 1;
  return static_cast<int>(((tag % modulus) + modulus) % modulus);
}

void MpiCommunicator::collective(program::CollectiveKind kind, int group, int root, Buffer send, Buffer recv,
                                 double bytes, DataType type, Stream stream) {
  const GroupComms& gc = group_at(group);
  if (gc.position < 0)
    throw core::InternalError("rank " + std::to_string(rank_) + " is not a member of group " + std::to_string(group));
  // MPI has no bf16 reduction: a bf16 request moves the same bytes as fp32 with half the count.
  const CollectiveShape shape = collective_shape(kind, bytes, gc.size, DataType::kFloat32);
  (void)type;
  if (send.bytes < shape.bytes || recv.bytes < shape.bytes)
    throw core::InternalError("collective buffers smaller than the collective");
  MPI_Comm comm = gc.comms[static_cast<std::size_t>(stream)];
  const int count = to_count(shape.elements);
  using K = program::CollectiveKind;
  switch (kind) {
    case K::kAllReduce:
      MPI_Allreduce(send.data, recv.data, count, MPI_FLOAT, MPI_SUM, comm);
      break;
    case K::kReduceScatter:
      MPI_Reduce_scatter_block(send.data, recv.data, count, MPI_FLOAT, MPI_SUM, comm);
      break;
    case K::kAllGather:
      MPI_Allgather(send.data, count, MPI_FLOAT, recv.data, count, MPI_FLOAT, comm);
      break;
    case K::kBroadcast:
      MPI_Bcast(send.data, count, MPI_FLOAT, root, comm);
      break;
    case K::kAllToAll:
      MPI_Alltoall(send.data, count, MPI_FLOAT, recv.data, count, MPI_FLOAT, comm);
      break;
  }
}

void MpiCommunicator::send(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream) {
  MPI_Send(buffer.data, checked_bytes(bytes), MPI_BYTE, peer, mpi_tag(tag), p2p_);
}

void MpiCommunicator::send_background(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream) {
  const int count = checked_bytes(bytes);
  const char* data = static_cast<const char*>(buffer.data);
  pending_data_.emplace_back(data, data + bytes);
  pending_.emplace_back();
  MPI_Isend(pending_data_.back().data(), count, MPI_BYTE, peer, mpi_tag(tag), p2p_, &pending_.back());
}

void MpiCommunicator::complete_sends() {
  if (pending_.empty()) return;
  MPI_Waitall(static_cast<int>(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
  pending_.clear();
  pending_data_.clear();
}

void MpiCommunicator::recv(int peer, std::int64_t tag, Buffer buffer, std::size_t bytes, Stream) {
  MPI_Recv(buffer.data, checked_bytes(bytes), MPI_BYTE, peer, mpi_tag(tag), p2p_, MPI_STATUS_IGNORE);
}

void MpiCommunicator::send_recv(int to, int from, Buffer send, Buffer recv, std::size_t bytes, Stream) {
  // A tag of its own (the top one) keeps benchmark exchanges apart from program traffic.
  MPI_Sendrecv(send.data, checked_bytes(bytes), MPI_BYTE, to, tag_upper_bound_, recv.data, checked_bytes(bytes),
               MPI_BYTE, from, tag_upper_bound_, p2p_, MPI_STATUS_IGNORE);
}

void MpiCommunicator::barrier() { MPI_Barrier(control_); }

}  // namespace frugal::real
