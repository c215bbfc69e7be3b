// NCCL communicator (contract in cuda_device.hpp). One NCCL communicator per group the rank
// belongs to (collectives of one group from different streams share it: NCCL runs them in issue
// order) and one over all ranks for send/recv. Unique ids travel over MPI.
#include <mpi.h>

#include <climits>
#include <vector>

#include "real_backend/cuda/cuda_check.cuh"
#include "real_backend/cuda/cuda_device.hpp"
#include "sim/core/error.hpp"

namespace frugal::real {
namespace {

ncclComm_t init_over(MPI_Comm mpi) {
  int rank = 0, size = 0;
  MPI_Comm_rank(mpi, &rank);
  MPI_Comm_size(mpi, &size);
  ncclUniqueId id{};
  if (rank == 0) FRUGAL_NCCL(ncclGetUniqueId(&id));
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, mpi);
  ncclComm_t comm = nullptr;
  FRUGAL_NCCL(ncclCommInitRank(&comm, size, id, rank));
  return comm;
}

ncclDataType_t nccl_type(DataType t) { return t == DataType::kFloat32 ? ncclFloat32 : ncclBfloat16; }

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Device& device, const std::vector<program::Group>& groups) : device_(device) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm_dup(MPI_COMM_WORLD, &control_);
    world_ = init_over(MPI_COMM_WORLD);
    groups_.resize(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      Group& gr = groups_[g];
      gr.size = static_cast<int>(groups[g].ranks.size());
      for (std::size_t i = 0; i < groups[g].ranks.size(); ++i)
        if (groups[g].ranks[i].value == rank_) gr.position = static_cast<int>(i);
      MPI_Comm split = MPI_COMM_NULL;
      MPI_Comm_split(MPI_COMM_WORLD, gr.position >= 0 ? 0 : MPI_UNDEFINED, gr.position, &split);
      if (split == MPI_COMM_NULL) continue;
      gr.comm = init_over(split);
      MPI_Comm_free(&split);
    }
  }

  ~NcclCommunicator() override {
    cudaDeviceSynchronize();
    for (Group& g : groups_)
      if (g.comm != nullptr) ncclCommDestroy(g.comm);
    if (world_ != nullptr) ncclCommDestroy(world_);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&control_);
  }

  std::string kind() const override { return "nccl"; }
  core::Json describe() const override {
    int version = 0;
    ncclGetVersion(&version);
    return core::Json{{"kind", "nccl"}, {"version_code", version}, {"header_version",
                      std::to_string(NCCL_MAJOR) + "." + std::to_string(NCCL_MINOR) + "." + std::to_string(NCCL_PATCH)},
                      {"reduction_type", "bf16"}, {"groups", groups_.size()}};
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int group_rank(int group) const override { return at(group).position; }
  int group_size(int group) const override { return at(group).size; }
  DataType preferred_type() const override { return DataType::kBfloat16; }

  void collective(program::CollectiveKind kind, int group, int root, Buffer send, Buffer recv, double bytes,
                  DataType type, Stream stream) override {
    const Group& g = at(group);
    if (g.comm == nullptr)
      throw core::InternalError("rank " + std::to_string(rank_) + " is not a member of group " + std::to_string(group));
    const CollectiveShape shape = collective_shape(kind, bytes, g.size, type);
    if (send.bytes < shape.bytes || recv.bytes < shape.bytes)
      throw core::InternalError("collective buffers smaller than the collective");
    const auto s = static_cast<cudaStream_t>(device_.native_stream(stream));
    const ncclDataType_t t = nccl_type(type);
    using K = program::CollectiveKind;
    switch (kind) {
      case K::kAllReduce: FRUGAL_NCCL(ncclAllReduce(send.data, recv.data, shape.elements, t, ncclSum, g.comm, s)); break;
      case K::kReduceScatter:
        FRUGAL_NCCL(ncclReduceScatter(send.data, recv.data, shape.elements, t, ncclSum, g.comm, s));
        break;
      case K::kAllGather: FRUGAL_NCCL(ncclAllGather(send.data, recv.data, shape.elements, t, g.comm, s)); break;
      case K::kBroadcast: FRUGAL_NCCL(ncclBroadcast(send.data, send.data, shape.elements, t, root, g.comm, s)); break;
      case K::kAllToAll: {
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 28, 0)
        FRUGAL_NCCL(ncclAlltoAll(send.data, recv.data, shape.elements, t, g.comm, s));
#else
        const std::size_t block = shape.elements * element_bytes(type);
        FRUGAL_NCCL(ncclGroupStart());
        for (int peer = 0; peer < g.size; ++peer) {
          FRUGAL_NCCL(ncclSend(static_cast<char*>(send.data) + peer * block, shape.elements, t, peer, g.comm, s));
          FRUGAL_NCCL(ncclRecv(static_cast<char*>(recv.data) + peer * block, shape.elements, t, peer, g.comm, s));
        }
        FRUGAL_NCCL(ncclGroupEnd());
#endif
        break;
      }
    }
  }

  void send(int peer, std::int64_t, Buffer buffer, std::size_t bytes, Stream stream) override {
    // NCCL has no tags: transfers between two ranks match in issue order, as the program's do.
    FRUGAL_NCCL(ncclSend(buffer.data, bytes, ncclUint8, peer, world_, static_cast<cudaStream_t>(device_.native_stream(stream))));
  }
  void recv(int peer, std::int64_t, Buffer buffer, std::size_t bytes, Stream stream) override {
    FRUGAL_NCCL(ncclRecv(buffer.data, bytes, ncclUint8, peer, world_, static_cast<cudaStream_t>(device_.native_stream(stream))));
  }
  void send_recv(int to, int from, Buffer send, Buffer recv, std::size_t bytes, Stream stream) override {
    const auto s = static_cast<cudaStream_t>(device_.native_stream(stream));
    FRUGAL_NCCL(ncclGroupStart());
    FRUGAL_NCCL(ncclSend(send.data, bytes, ncclUint8, to, world_, s));
    FRUGAL_NCCL(ncclRecv(recv.data, bytes, ncclUint8, from, world_, s));
    FRUGAL_NCCL(ncclGroupEnd());
  }
  void barrier() override {
    device_.synchronise();
    MPI_Barrier(control_);
  }

 private:
  struct Group {
    int position = -1;
    int size = 0;
    ncclComm_t comm = nullptr;
  };
  const Group& at(int group) const {
    if (group < 0 || group >= static_cast<int>(groups_.size()))
      throw core::InternalError("collective on group " + std::to_string(group) + ", which does not exist");
    return groups_[static_cast<std::size_t>(group)];
  }

  Device& device_;
  int rank_ = 0, size_ = 1;
  MPI_Comm control_ = MPI_COMM_NULL;
  ncclComm_t world_ = nullptr;
  std::vector<Group> groups_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Device& device, const std::vector<program::Group>& groups) {
  return std::make_unique<NcclCommunicator>(device, groups);
}

}  // namespace frugal::real
