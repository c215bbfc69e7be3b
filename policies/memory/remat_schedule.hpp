// Rematerialization schedules of a chain of stages (a pipeline chunk's layers): which forwards
// keep nothing, their input, or everything their backward needs, and which forwards are replayed
// before each backward. The optimal schedule under a memory limit is the dynamic program of
// Beaumont, Eyraud-Dubois, Herrmann, Joly, Shilova, "Optimal checkpointing for heterogeneous
// chains" (ACM TOMS 2024), over (segment [a, b], memory left). Plain data, no SimGrid.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace frugal::policies {

/// One stage of the chain: stage i reads x_i and writes x_{i+1}.
struct ChainStage {
  double forward_s = 0;    ///< time of its forward (also of each replay)
  double backward_s = 0;   ///< time of its backward
  double input_bytes = 0;  ///< x_i: what "keep the input" stores
  double all_bytes = 0;    ///< everything its backward needs, x_i included (≥ input_bytes)
  bool offloadable = true;  ///< may keep kHost (the lowering offloads transformer layers only)
};

/// What a forward keeps until the stage's backward.
enum class Keep {
  kNothing,  ///< nothing (its input may still be kept from an earlier forward)
  kInput,    ///< its input x_i (a checkpoint later forwards replay from)
  kAll,      ///< everything its backward needs
  /// Everything its backward needs, in host memory: copied out after the forward and back before
  /// the backward (lowering pass `offload`). Only a stage's first and only forward keeps it.
  kHost,
};

std::string to_string(Keep k);  ///< "nothing", "input", "all", "host"

/// One op of a schedule: a forward of `stage` keeping `keep`, or its backward.
struct RematOp {
  int stage = 0;
  bool backward = false;
  Keep keep = Keep::kNothing;  ///< forwards only
  bool operator==(const RematOp&) const = default;
};

/// What a stage's micro-batch may use of the host: the GPU's copy bandwidth to host memory (its
/// share of the node's host side), the host bytes it may fill, and whether its copies hold the
/// compute (a device that runs one op at a time, GpuSpec::serial_streams).
struct HostLink {
  double bandwidth_Bps = std::numeric_limits<double>::infinity();
  double capacity_bytes = std::numeric_limits<double>::infinity();
  bool serial = false;
};

/// What a schedule costs, replayed op by op (the model every schedule here obeys):
/// - a forward of stage i needs x_i: kept (input or all), or just written by the forward of i−1;
///   it writes x_{i+1}, available to the next op only; keeping its input stores input_bytes,
///   keeping all stores all_bytes (all_bytes − input_bytes more when the input is kept already);
/// - the backward of stage i comes after every later stage's, needs everything i keeps, and frees
///   what stage i holds; stored bytes are the sum over stages; transients are not counted.
/// - a stage keeping kHost is forwarded once; it stores nothing on the device but, while its
///   copies are in flight, the device holds at most two such stages' activations at once: the
///   peak counts offload_reserve_bytes on top. Its copies run on one copy stream as the lowering
///   posts them: the copy out after its forward, the forward after next waiting for it; the copy
///   back once the compute before the previous stage's backward is done, its backward waiting
///   for it (at `host.bandwidth_Bps`; the first forward's copies done before any replay; with
///   `host.serial`, each copy also holds the compute while it runs).
struct ScheduleCost {
  bool valid = false;
  std::string error;       ///< the first broken rule (when !valid)
  double time_s = 0;       ///< sum of the ops' times and the compute's waits for copies
  double recompute_s = 0;  ///< forwards beyond the first of each stage
  double exposed_copy_s = 0;    ///< waits of the compute for copies to and from the host
  double offloaded_bytes = 0;   ///< host bytes the stages keeping kHost hold
  double peak_bytes = 0;   ///< largest stored bytes after any op
  /// Stored once the last stage's first forward is done: what the micro-batch holds while it
  /// waits for its backward in a pipeline (other micro-batches' forwards and backwards run).
  double forward_bytes = 0;
};

/// Replays `ops` on `stages`: validity (each stage's backward exactly once, in reverse order,
/// nothing stored at the end), time and peak.
ScheduleCost evaluate(const std::vector<ChainStage>& stages, const std::vector<RematOp>& ops, const HostLink& host = {});

/// Device bytes the copies of the `offloaded` stages may hold at once beside what the schedule
/// stores: the two largest such stages' all_bytes (0 when none is offloaded).
double offload_reserve_bytes(const std::vector<ChainStage>& stages, const std::vector<bool>& offloaded);

/// Every forward keeps all: no recomputation.
std::vector<RematOp> keep_all_schedule(int stages);

/// Checkpoints every k stages (Chen et al. 2016; Megatron's "uniform" method): the forward keeps
/// the input of stages 0, k, 2k, …; before the backward of each segment its forwards are replayed
/// once, keeping all, from its checkpoint. k = 1: every stage keeps its input and replays itself.
std::vector<RematOp> every_k_schedule(int stages, int k);

/// The least any schedule stores: the chain's input, kept until the last backward, with the
/// largest later stage's everything (max(all_0, max_{i>0} input_0 + all_i)).
double least_memory_bytes(const std::vector<ChainStage>& stages);

/// A schedule as a training step runs it: what each stage's first forward keeps, and the
/// forwards replayed before each stage's backward.
struct ScheduleSteps {
  std::vector<Keep> first_forward;                    ///< per stage
  std::vector<std::vector<RematOp>> before_backward;  ///< per stage, the replays in order
};

/// Throws std::invalid_argument unless `ops` starts with one forward of each stage in order
/// (every schedule of this file does) and holds each stage's backward.
ScheduleSteps schedule_steps(const std::vector<RematOp>& ops, int stages);

/// `ops` with stage `stage`'s first forward keeping only its input instead of everything, and a
/// replay keeping everything just before its backward: one more forward, and (all − input) bytes
/// less held while the micro-batch waits for its backward in a pipeline (the peak does not grow).
/// Contract: the first forward of `stage` in `ops` keeps all.
std::vector<RematOp> defer_keep_all(std::vector<RematOp> ops, int stage);

/// The schedule that stores least: only the chain's input is kept, and every backward replays
/// the chain from it (quadratic recomputation). Its peak is OptimalSchedule::min_budget_bytes.
std::vector<RematOp> least_memory_schedule(int stages);

struct OptimalSchedule {
  bool feasible = false;        ///< a schedule exists within the budget (at this granularity)
  std::vector<RematOp> ops;
  double time_s = 0;            ///< the program's optimum: evaluate(ops).time_s
  double min_budget_bytes = 0;  ///< smallest budget with a schedule (the smallest peak of any schedule)
};

/// The fastest schedule whose stored bytes never exceed `budget_bytes`. Memory is counted in
/// `slots` units of budget/slots, sizes rounded up, so the schedule always fits the exact budget
/// and is optimal among schedules that fit at that granularity (exactly optimal when every size is
/// a multiple of budget/slots). O(n³·slots) time, O(n²·slots) memory.
/// With `offloaded` (empty or one flag per stage): the fastest schedule in which exactly the flagged
/// stages keep kHost (forwarded once, nothing on the device; offload_reserve_bytes taken off the
/// budget); the time counts compute only (copy waits: evaluate). min_budget_bytes stays the
/// least memory without offloading.
/// Contract: stages non-empty, sizes ≥ 0, input_bytes ≤ all_bytes, budget_bytes > 0, slots ≥ 1.
OptimalSchedule optimal_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                 const std::vector<bool>& offloaded = {});

}  // namespace frugal::policies
