// The Program IR: for every rank, the ops of one training iteration with their dependencies.
// It is the contract between policies (which lower to it), the simulator and the real backend
// (which both execute it). Plain data, backend-neutral; no SimGrid, no CUDA.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "sim/core/ids.hpp"
#include "sim/core/json_reader.hpp"

namespace frugal::program {

using core::OpId;
using core::RankId;

enum class OpKind { kCompute, kCollective, kSend, kRecv, kCopy, kAlloc, kFree, kCheckpointWrite };
enum class Phase { kForward, kBackward, kRecompute, kOptimizer, kOther };
enum class CollectiveKind { kAllReduce, kReduceScatter, kAllGather, kBroadcast, kAllToAll };
/// kAuto: the engine picks per collective, by its size and group, as NCCL does at run time
/// (cost::select_algorithm); the real backend leaves the choice to NCCL or MPI.
enum class CollectiveAlgorithm { kRing, kHierarchical, kTree, kNvls, kAuto };
/// Where a buffer lives: the GPU's memory (HBM), the node's host memory (shared by the node's
/// ranks) or the node's NVMe drive (only on nodes that declare one).
enum class Location { kDevice, kHost, kNvme };
/// A copy's source and destination locations (copy_source, copy_destination).
enum class CopyDirection { kDeviceToHost, kHostToDevice, kHostToNvme, kNvmeToHost };
enum class MemoryTag { kParameters, kGradients, kOptimizer, kActivations, kBuffers, kWorkspace, kReserved };

/// Streams: ops of one stream run in program order; ops of different streams overlap.
/// `kComm` carries the tensor-, sequence- and context-parallel collectives and pipeline sends;
/// `kDataComm` the data-parallel communicators' work (gradient reduction, ZeRO/FSDP gathers, the
/// tied-embedding all-reduce): NCCL runs each communicator on a stream of its own, so gradient
/// reduction never queues ahead of a pipeline send. `kHost` is the node CPU's stream: its
/// compute ops run on the CPU (host compute, e.g. a CPU Adam step), overlapping the GPU's
/// streams; it holds compute, alloc and free ops only.
enum class Stream { kCompute, kComm, kCopy, kHost, kDataComm };
/// How many streams there are (arrays indexed by Stream).
inline constexpr int kStreamCount = static_cast<int>(Stream::kDataComm) + 1;

std::string to_string(OpKind);
std::string to_string(Phase);
std::string to_string(CollectiveKind);
std::string to_string(CollectiveAlgorithm);
std::string to_string(CopyDirection);
std::string to_string(Location);
std::string to_string(MemoryTag);
std::string to_string(Stream);

/// One line on what a collective algorithm does (`frugalsim list`, docs/reference.md).
std::string describe(CollectiveAlgorithm);
/// Every collective algorithm but kAuto, in enum order.
std::vector<CollectiveAlgorithm> all_collective_algorithms();

/// nccl-tests' bus bandwidth factor for `kind` over n ranks: 2(n−1)/n all-reduce, (n−1)/n
/// reduce-scatter, all-gather and all-to-all, 1 broadcast (and send/recv). busbw = algbw × it.
double busbw_factor(CollectiveKind kind, int n);

/// One GEMM of a compute op: C[m×n] = A[m×k]·B[k×n], `batch` times.
struct Gemm {
  std::int64_t m = 0, n = 0, k = 0, batch = 1;
  /// Runs in 16 bits (bf16) in an fp8 job: Transformer Engine casts only the linear layers' GEMMs
  /// to fp8 and keeps the attention core and the output (logits) layer in bf16. No effect in
  /// other precisions.
  bool keeps_16bit = false;
  /// 2·m·n·k of one matrix product (the FLOPs a table by GEMM size is indexed by).
  double matrix_flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
  /// 2·m·n·k·batch: every product of the batch.
  double flops() const { return matrix_flops() * static_cast<double>(batch); }
  bool operator==(const Gemm&) const = default;
};

struct Compute {
  Phase phase = Phase::kOther;
  std::string layer;         ///< layer name, for traces and calibration by shape
  double flops = 0;          ///< total FLOPs (GEMMs and the rest)
  double memory_bytes = 0;   ///< HBM traffic of memory-bound work (runs at HBM bandwidth)
  std::vector<Gemm> gemms;   ///< the GEMMs behind `flops` (the real backend runs these)
  /// Kernels the op launches (GEMMs, fused or elementwise kernels); each costs the GPU's
  /// kernel_launch_s on top of its work. 0: a bare amount of work with no fixed cost.
  int kernels = 0;
  bool operator==(const Compute&) const = default;
};

/// `bytes` is the whole buffer (nccl-tests convention): all-reduce of S bytes, reduce-scatter
/// of S bytes in (S/n out), all-gather of S bytes out (S/n in).
struct Collective {
  CollectiveKind kind = CollectiveKind::kAllReduce;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::kRing;
  int group = 0;              ///< index into Program::groups
  std::int64_t instance = 0;  ///< same value on every member rank: matches the calls
  double bytes = 0;
  RankId root;                ///< broadcast only
  bool operator==(const Collective&) const = default;
};

/// Payload of kSend and kRecv. A send is posted when its stream reaches it and completes in the
/// background while its stream moves on (isend). A receive blocks its stream until the data has
/// arrived, unless `posted_ahead`: then it is posted when its stream reaches it (irecv), its
/// stream moves on, and the ops that depend on it wait for the data (Megatron-Core's
/// overlap_p2p_comm: the transfer overlaps the compute in between).
struct PointToPoint {
  RankId peer;
  std::int64_t tag = 0;  ///< a send matches the recv at `peer` with the same tag
  double bytes = 0;
  bool posted_ahead = false;  ///< receives only
  bool operator==(const PointToPoint&) const = default;
};

Location copy_source(CopyDirection direction);
Location copy_destination(CopyDirection direction);

/// Moves `bytes` from `copy_source(direction)` to `copy_destination(direction)`, on the copy
/// stream. Contract when it names buffers (`src` and `dst`, both or neither):
/// - both are allocated when the copy comes in program order (resident, or an earlier alloc not
///   yet freed), `src` at the direction's source location and `dst` at its destination;
/// - `src.bytes == dst.bytes == bytes`, and `src != dst`;
/// - the copy allocates and frees nothing: the program allocates `dst` before it and frees
///   `src` after it (with a dependency on the copy) when it wants the space back.
/// A copy naming neither buffer is an anonymous transfer of `bytes` (memory is not tracked).
struct Copy {
  CopyDirection direction = CopyDirection::kDeviceToHost;
  double bytes = 0;
  std::string src{};  ///< source buffer ("": anonymous copy)
  std::string dst{};  ///< destination buffer ("": anonymous copy)
  bool operator==(const Copy&) const = default;
};

struct Memory {  ///< payload of kAlloc and kFree, and a resident buffer
  MemoryTag tag = MemoryTag::kBuffers;
  std::string buffer;  ///< a free names the buffer of an earlier alloc
  double bytes = 0;
  Location location = Location::kDevice;  ///< a free's location is that of its alloc
  bool operator==(const Memory&) const = default;
};

struct CheckpointWrite {
  double bytes = 0;
  bool operator==(const CheckpointWrite&) const = default;
};

struct Op {
  OpId id;
  OpKind kind = OpKind::kCompute;
  Stream stream = Stream::kCompute;
  std::string name;
  std::vector<OpId> deps;  ///< ops of the same rank that must finish first; all precede `id`
  std::variant<Compute, Collective, PointToPoint, Copy, Memory, CheckpointWrite> payload;

  const Compute& compute() const { return std::get<Compute>(payload); }
  const Collective& collective() const { return std::get<Collective>(payload); }
  const PointToPoint& p2p() const { return std::get<PointToPoint>(payload); }
  const Copy& copy() const { return std::get<Copy>(payload); }
  const Memory& memory() const { return std::get<Memory>(payload); }
  const CheckpointWrite& checkpoint() const { return std::get<CheckpointWrite>(payload); }
  /// Completes in the background while its stream moves on: a send, a receive posted ahead.
  bool runs_detached() const {
    return kind == OpKind::kSend || (kind == OpKind::kRecv && std::get<PointToPoint>(payload).posted_ahead);
  }
  bool operator==(const Op&) const = default;
};

struct Group {
  std::string name;            ///< e.g. "dp", "node0"
  std::vector<RankId> ranks;   ///< ring order
  bool operator==(const Group&) const = default;
};

struct RankProgram {
  RankId rank;
  int gpu = 0;                     ///< global GPU index in the cluster (node-major)
  std::vector<Memory> resident;    ///< allocated before the first iteration, kept throughout
  std::vector<Op> ops;             ///< one iteration; frees everything it allocates
  /// Compact programs: the lowered rank whose ops this rank runs, renamed (its RankClass);
  /// then `resident` and `ops` are empty. Invalid: the rank's own ops are here.
  RankId represented_by;
  bool operator==(const RankProgram&) const = default;
};

/// Ranks that run the same ops as a lowered representative up to the renaming of groups and
/// peers (rank_classes.hpp): data-parallel replicas, tensor-parallel peers.
struct RankClass {
  RankId representative;
  struct Member {
    RankId rank;
    std::vector<std::pair<int, int>> groups;         ///< representative's group → this rank's group
    std::vector<std::pair<RankId, RankId>> peers;    ///< representative's peer → this rank's peer
    bool operator==(const Member&) const = default;
  };
  std::vector<Member> members;  ///< the other ranks of the class, ascending
  bool operator==(const RankClass&) const = default;
};

struct Program {
  static constexpr int kFormatVersion = 1;
  core::Json metadata = core::Json::object();  ///< model, precision, tokens/samples per iteration...
  std::vector<Group> groups;
  std::vector<RankProgram> ranks;  ///< ranks[i].rank == i
  /// Empty: every rank's ops are in `ranks` ("expanded"). Else "compact": only each class's
  /// representative has ops; program::expand() (rank_classes.hpp) gives the expanded form.
  std::vector<RankClass> classes;
  bool compact() const { return !classes.empty(); }
  bool operator==(const Program&) const = default;
};

/// Appends ops to one rank's program with dense ids. Policies lower through it.
class RankBuilder {
 public:
  explicit RankBuilder(RankProgram& target) : target_(&target) {}
  OpId add(OpKind kind, Stream stream, std::string name, std::vector<OpId> deps,
           decltype(Op::payload) payload);
  OpId compute(std::string name, Compute c, std::vector<OpId> deps = {});
  OpId collective(std::string name, Collective c, std::vector<OpId> deps = {}, Stream stream = Stream::kComm);
  OpId alloc(Memory m, std::vector<OpId> deps = {});
  OpId free(Memory m, std::vector<OpId> deps = {});
  /// A copy on the copy stream (buffers named in `c`, see Copy).
  OpId copy(std::string name, Copy c, std::vector<OpId> deps = {});
  /// A compute op on the host stream: it runs on the node's CPU.
  OpId host_compute(std::string name, Compute c, std::vector<OpId> deps = {});
  OpId last() const;  ///< id of the last op added (invalid when none)

 private:
  RankProgram* target_;
};

/// Checks a program before anything runs (a compact program: see validate_compact in
/// rank_classes.hpp, which validate() calls): dense ids, dependencies on earlier ops only (program
/// order is a topological order, so there is no cycle), groups and ranks in range, every
/// collective instance called by all members with the same kind and size, every send matched
/// by a recv, frees matching allocs, each iteration freeing what it allocates, copies on the
/// copy stream keeping the Copy contract, only compute, alloc and free on the host stream.
/// Whether a node has the NVMe a buffer needs is a platform question (metrics::check_memory).
/// Throws core::ConfigError(file, "/ranks/R/ops/I", ...) naming the first problem.
void validate(const Program& program, const std::string& file = "");

core::Json to_json(const Program& program);
/// Strict reading (unknown op kinds or keys are errors); validates. `from_json(to_json(p)) == p`.
Program from_json(const core::Json& value, const std::string& file = "");
Program load_program(const std::filesystem::path& path);
void save_program(const Program& program, const std::filesystem::path& path);
/// Writes to_json(program).dump() (or that of expand(program) when `expand`), followed by a
/// newline, one rank at a time: the memory needed is one rank's JSON, not the whole program's.
void write_program_json(const Program& program, std::ostream& out, bool expand = false);

}  // namespace frugal::program
