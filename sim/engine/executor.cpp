// Program execution on SimGrid actors (contract in executor.hpp). Cross-stream dependencies use
// one Mutex + ConditionVariable per rank; the fast path (dependencies already done) makes no
// simcall. Metrics are interval lists per rank, merged once at the end (O(k log k)).
#include "sim/engine/executor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <exception>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <simgrid/plugins/energy.h>
#include <simgrid/s4u.hpp>
#include <simgrid/version.h>

#include "sim/core/error.hpp"
#include "sim/core/units.hpp"
#include "sim/engine/coarse_collectives.hpp"
#include "sim/engine/coarse_replicas.hpp"
#include "sim/engine/collectives.hpp"
#include "sim/engine/helper_actor.hpp"
#include "sim/engine/quiet_links.hpp"
#include "sim/engine/run_invariants.hpp"
#include "sim/cost/compute_cost.hpp"
#include "sim/program/memory_ledger.hpp"
#include "sim/program/rank_classes.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {
namespace {

using program::OpKind;

struct Interval {
  double start_s = 0;
  double end_s = 0;
};

std::vector<Interval> merged(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.start_s < b.start_s; });
  std::vector<Interval> out;
  for (const Interval& i : v) {
    if (!out.empty() && i.start_s <= out.back().end_s)
      out.back().end_s = std::max(out.back().end_s, i.end_s);
    else
      out.push_back(i);
  }
  return out;
}

double measure(const std::vector<Interval>& disjoint) {
  double total = 0;
  for (const Interval& i : disjoint) total += i.end_s - i.start_s;
  return total;
}

// Both inputs merged (sorted, disjoint): measure of their intersection by a two-pointer sweep.
double overlap(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  double total = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double lo = std::max(a[i].start_s, b[j].start_s);
    const double hi = std::min(a[i].end_s, b[j].end_s);
    if (hi > lo) total += hi - lo;
    if (a[i].end_s < b[j].end_s) ++i;
    else ++j;
  }
  return total;
}

bool is_communication(OpKind k) {
  return k == OpKind::kCollective || k == OpKind::kSend || k == OpKind::kRecv || k == OpKind::kCopy ||
         k == OpKind::kCheckpointWrite;
}

using core::format_bytes;

constexpr int kStreams = program::kStreamCount;
constexpr int kCollectiveKinds = 5;

}  // namespace

struct Executor::Impl {
  struct StreamState {
    program::Stream stream = program::Stream::kCompute;
    std::vector<int> ops;  ///< op indices of this stream, program order
    int iteration = 0;
    int current = -1;      ///< op being waited for or executed
    bool waiting_deps = false;
    bool finished = false;
  };

  struct RankRuntime {
    int rank = 0;
    const program::RankProgram* program = nullptr;
    sg4::Host* gpu = nullptr;
    sg4::Host* cpu = nullptr;
    sg4::Disk* nvme = nullptr;  ///< the node's NVMe (nullptr: none)
    double speed_flops_per_s = 0;
    double hbm_bytes_per_s = 0;
    std::vector<int> done;  ///< per op: iterations completed
    sg4::MutexPtr mutex;
    sg4::ConditionVariablePtr cv;
    int waiters = 0;
    program::MemoryLedger ledger;
    std::vector<Interval> compute;
    std::vector<Interval> communication;
    std::vector<Interval> copies;  ///< copy ops (device ↔ host ↔ NVMe), also in `communication`
    double finish_s = 0;
    int detached_in_flight = 0;  ///< started detached ops (sends, receives posted ahead) not yet delivered
    bool serial = false;      ///< the GPU has serial_streams: one actor runs every op
    /// Its GPU computes slower while a collective runs on a communication stream (GpuSpec::overlap_slowdown).
    bool overlap_slows = false;
    /// Quiet GPU links (quiet_links.hpp), else empty: per op, the closed-form time of a
    /// collapsed collective inside the node (negative: run it).
    std::vector<double> closed_form_s;
    /// Per op: an op of another of the rank's actors depends on it, or it is a send (completed
    /// by a helper while its stream moves on). Only such ops wake the rank's waiting actors.
    std::vector<char> waited_elsewhere;
    std::array<StreamState, kStreams> streams;
    /// By actor (actor_of): when its latest op that the next waits for ended (time invariant).
    std::array<double, kStreams> last_end_s{};
  };

  const platforms::Cluster& cluster;
  std::optional<program::Program> expanded;  ///< a compact program expanded, when it must be
  Representatives reps;     ///< reps.applied: only representatives run (coarse_replicas.hpp)
  const program::Program& program;           ///< the one simulated (the caller's, or `expanded`)
  const EngineOptions& options;
  std::unique_ptr<program::ClassView> view;  ///< renaming of identical ranks' groups and peers
  std::deque<program::RankProgram> representatives_expanded;  ///< representatives without ops of their own
  CommContext ctx;
  std::vector<RankRuntime> ranks;
  std::vector<TimelineEvent> timeline;
  std::array<double, kCollectiveKinds> collective_busy_s{};
  std::array<bool, kCollectiveKinds> collective_seen{};
  std::vector<std::unique_ptr<HelperPool>> helpers;  ///< by rank: simulated ranks' helper actors
  int running = 0;  ///< stream actors not finished + sends in flight: at 0 the pools close
  /// Per GPU: collectives running on a communication stream (the GPU is in kOverlappedPstate while > 0).
  std::vector<int> gpu_collectives;
  bool deadlocked = false;
  std::exception_ptr error;
  CollectiveModel collective_model = CollectiveModel::kStepByStep;  ///< resolved (never kAuto)

  /// Representatives of `p` when the options ask for them; a compact program is expanded when
  /// they are not used (then `p` is replaced by the expanded form).
  static Representatives choose(const platforms::Cluster& c, const program::Program& p, const EngineOptions& o,
                                std::optional<program::Program>& expanded) {
    const bool coarse = static_cast<int>(p.ranks.size()) > o.coarse_above_ranks;
    Representatives reps;
    const bool wanted =
        o.identical_ranks == IdenticalRanks::kRepresentatives || (o.identical_ranks == IdenticalRanks::kAuto && coarse);
    if (wanted) reps = find_representatives(c, p);
    else reps.note = o.identical_ranks == IdenticalRanks::kAuto ? "program at or below coarse_above_ranks" : "not requested";
    if (p.compact() && !reps.applied) {
      expanded = program::expand(p);
      if (wanted) reps = find_representatives(c, *expanded);
    }
    return reps;
  }

  Impl(const platforms::Cluster& c, const program::Program& p, const EngineOptions& o, const BuiltPlatform& platform)
      : cluster(c), reps(choose(c, p, o, expanded)), program(expanded ? *expanded : p), options(o),
        view(std::make_unique<program::ClassView>(program)) {
    const int n_ranks = static_cast<int>(p.ranks.size());
    const bool coarse = n_ranks > o.coarse_above_ranks;
    collective_model = o.collective_model != CollectiveModel::kAuto ? o.collective_model
                       : coarse                                    ? CollectiveModel::kAggregate
                                                                   : CollectiveModel::kStepByStep;
    ranks.resize(n_ranks);
    gpu_collectives.assign(platform.gpu_hosts.size(), 0);
    ctx.rank_gpu.resize(n_ranks);
    ctx.rank_cpu.resize(n_ranks);
    std::vector<int> rank_node(n_ranks);
    ctx.rank_switch.resize(n_ranks);
    ctx.rank_gpu_index.resize(n_ranks);
    for (int r = 0; r < n_ranks; ++r) {
      const bool runs = !reps.applied || reps.is_simulated(r);
      if (runs && program.ranks[r].represented_by.valid())
        representatives_expanded.push_back(view->expand(core::RankId(r)));
      const program::RankProgram& rp =
          runs && program.ranks[r].represented_by.valid() ? representatives_expanded.back() : program.ranks[r];
      const std::string where = "rank " + std::to_string(r);
      if (rp.gpu < 0 || rp.gpu >= static_cast<int>(platform.gpu_hosts.size()))
        throw std::invalid_argument(where + ": GPU " + std::to_string(rp.gpu) + " does not exist (cluster has " +
                                    std::to_string(platform.gpu_hosts.size()) + ")");
      RankRuntime& rr = ranks[r];
      rr.rank = r;
      rr.program = &rp;
      rr.gpu = platform.gpu_hosts[rp.gpu];
      rank_node[r] = platform.node_of_gpu[rp.gpu];
      ctx.rank_switch[r] = platform.nvswitch_hosts[rank_node[r]];
      rr.cpu = platform.cpu_hosts[rank_node[r]];
      rr.nvme = platform.nvme_disks[rank_node[r]];
      rr.speed_flops_per_s = rr.gpu->get_speed();
      rr.hbm_bytes_per_s = c.gpu_spec(rp.gpu).hbm_bandwidth_bytes_per_s;
      rr.serial = c.gpu_spec(rp.gpu).serial_streams;
      rr.overlap_slows = rr.gpu->get_pstate_count() > kOverlappedPstate;
      ctx.rank_gpu_index[r] = rp.gpu;
      if (runs) rr.done.assign(rp.ops.size(), 0);
      if (runs) rr.waited_elsewhere.assign(rp.ops.size(), 0);
      for (int s = 0; s < kStreams; ++s) rr.streams[s].stream = static_cast<program::Stream>(s);
      // A rank that a representative stands for has the same ops (fingerprint equality, which
      // covers dependencies and streams): checking the representative's ops checks its own.
      for (std::size_t i = 0; runs && i < rp.ops.size(); ++i) {
        const program::Op& op = rp.ops[i];
        for (const auto& d : op.deps) {
          if (d.value < 0 || d.value >= static_cast<std::int64_t>(i))
            throw std::invalid_argument(where + " op " + std::to_string(i) + " (\"" + op.name +
                                        "\"): dependency on op " + std::to_string(d.value) +
                                        ", which is not an earlier op");
          if (actor_of(rr, rp.ops[d.value]) != actor_of(rr, op)) rr.waited_elsewhere[d.value] = 1;
        }
        if (op.runs_detached()) rr.waited_elsewhere[i] = 1;
        const bool uses_nvme =
            (op.kind == OpKind::kCopy && (program::copy_source(op.copy().direction) == program::Location::kNvme ||
                                          program::copy_destination(op.copy().direction) == program::Location::kNvme)) ||
            ((op.kind == OpKind::kAlloc || op.kind == OpKind::kFree) && op.memory().location == program::Location::kNvme);
        if (uses_nvme && rr.nvme == nullptr)
          throw std::invalid_argument(where + " op " + std::to_string(i) + " (\"" + op.name + "\"): NVMe on node " +
                                      std::to_string(rank_node[r]) + ", whose node type declares none (\"nvme\")");
        if (op.kind == OpKind::kCompute && op.stream != program::Stream::kHost && op.compute().memory_bytes > 0 &&
            !(rr.hbm_bytes_per_s > 0))
          throw std::invalid_argument(where + " op " + std::to_string(i) + " (\"" + op.name +
                                      "\"): memory-bound work on a GPU without HBM bandwidth");
        // A device with serial streams runs every op on one actor, in program order.
        const int s = rr.serial ? 0 : static_cast<int>(op.stream);
        if (s < 0 || s >= kStreams) throw std::invalid_argument(where + ": unknown stream");
        rr.streams[s].ops.push_back(static_cast<int>(i));
      }
      for (StreamState& st : rr.streams) st.finished = st.ops.empty();
      ctx.rank_gpu[r] = rr.gpu;
      ctx.rank_cpu[r] = rr.cpu;
    }
    ctx.groups.reserve(program.groups.size());
    for (std::size_t g = 0; g < program.groups.size(); ++g) {
      ctx.groups.push_back(make_group_layout(static_cast<int>(g), program.groups[g], c, ctx.rank_gpu_index, rank_node));
      GroupLayout& layout = ctx.groups.back();
      for (const int r : layout.ranks) layout.simulated_members += (!reps.applied || reps.is_simulated(r)) ? 1 : 0;
    }
    ctx.aggregate = collective_model == CollectiveModel::kAggregate;
    ctx.cluster = &c;
    ctx.rank_node = std::move(rank_node);
    ctx.view = view.get();
    ctx.representatives = reps.applied ? &reps : nullptr;
    if (reps.applied) {
      ctx.copies_everywhere = c.network.backbone_bandwidth_bytes_per_s > 0;
      watch_modelled_traffic(ctx);
    }
    ctx.coarse = make_coarse_state();
    helpers.resize(ranks.size());
    ctx.start_helper = [this](int rank, std::function<void()> job) { helper_pool(rank).run(std::move(job)); };
    if (o.closed_form_collectives) prepare_closed_forms();
  }

  HelperPool& helper_pool(int rank) {
    auto& pool = helpers[static_cast<std::size_t>(rank)];
    if (!pool) pool = std::make_unique<HelperPool>(ranks[static_cast<std::size_t>(rank)].gpu, "helper");
    return *pool;
  }

  /// A stream actor or a send ended: when nothing runs any more, no helper job can come.
  void note_finished() {
    if (--running > 0) return;
    for (const auto& pool : helpers)
      if (pool) pool->close();
  }

  /// The actor of `rr` that runs `op` (index into RankRuntime::streams).
  static int actor_of(const RankRuntime& rr, const program::Op& op) { return rr.serial ? 0 : static_cast<int>(op.stream); }

  /// RankRuntime::closed_form_s and waited_elsewhere of the ranks whose GPU links are quiet.
  void prepare_closed_forms() {
    std::vector<SimulatedRank> simulated;
    for (const RankRuntime& rr : ranks)
      if (reps.applied && reps.is_simulated(rr.rank) && !rr.program->ops.empty())
        simulated.push_back({rr.rank, rr.program, rr.serial});
    const std::vector<char> quiet = quiet_gpu_links(ctx, simulated);
    for (const SimulatedRank& s : simulated) {
      if (!quiet[static_cast<std::size_t>(s.rank)]) continue;
      RankRuntime& rr = ranks[static_cast<std::size_t>(s.rank)];
      const auto& ops = rr.program->ops;
      rr.closed_form_s.assign(ops.size(), -1);
      for (std::size_t i = 0; i < ops.size(); ++i) {
        const program::Op& op = ops[i];
        if (op.kind != OpKind::kCollective) continue;
        const program::Collective& c = op.collective();
        const GroupLayout& g = ctx.groups[static_cast<std::size_t>(c.group)];
        if (g.nodes != 1 || g.simulated_members != 1 || g.ranks.size() < 2 || !(c.bytes > 0) ||
            g.position.count(rr.rank) == 0)
          continue;
        if (const double t_s = collapsed_closed_form_s(ctx, rr.rank, g, c); t_s >= 0)
          rr.closed_form_s[i] = t_s + cluster.network.collective_overhead(static_cast<int>(c.kind));
      }
    }
  }

  void start() {
    for (RankRuntime& rr : ranks) {
      if (reps.applied && !reps.is_simulated(rr.rank)) {
        for (StreamState& st : rr.streams) st.finished = true;  // its representative runs for it
        continue;
      }
      for (const program::Memory& m : rr.program->resident) rr.ledger.alloc(m);
      if (rr.program->ops.empty()) continue;
      rr.mutex = sg4::Mutex::create();
      rr.cv = sg4::ConditionVariable::create();
      for (StreamState& st : rr.streams) {
        if (st.ops.empty()) continue;
        std::string name = "r";  // appended, not prepended: GCC 12 warns falsely on "literal" + string
        name += std::to_string(rr.rank);
        name += "-";
        name += rr.serial ? "serial" : program::to_string(st.stream);
        ++running;
        sg4::Actor::create(name, rr.gpu, [this, &rr, &st]() {
          // ForcefulKillException (deadlock kill) is not a std::exception: it unwinds through.
          try {
            run_stream(rr, st);
          } catch (const std::exception&) {
            if (!deadlocked && !error) error = std::current_exception();
          }
        });
      }
    }
  }

  void run_stream(RankRuntime& rr, StreamState& st) {
    const auto& ops = rr.program->ops;
    for (int it = 0; it < options.iterations; ++it) {
      st.iteration = it;
      for (std::size_t k = 0; k < st.ops.size(); ++k) {
        const int idx = st.ops[k];
        st.current = idx;
        st.waiting_deps = true;
        wait_for_deps(rr, ops[idx], it);
        st.waiting_deps = false;
        if (ops[idx].runs_detached()) {
          start_detached(rr, ops[idx], idx, it);
          continue;
        }
        if (!rr.closed_form_s.empty() && rr.closed_form_s[idx] >= 0) {
          k = run_closed_forms(rr, st, k, it) - 1;
          continue;
        }
        execute(rr, ops[idx], it);
        mark_done(rr, idx);
      }
    }
    st.current = -1;
    st.finished = true;
    note_finished();
  }

  /// Runs st.ops[k] and the ops after it on its actor that can join it as one sleep, and returns
  /// the index after the last: each has a closed-form time (quiet GPU links), its dependencies
  /// are done or in the run, and no other actor waits for the op before it. Their records
  /// (metrics, timeline) are those of the ops run one after the other.
  std::size_t run_closed_forms(RankRuntime& rr, StreamState& st, std::size_t k, int iteration) {
    const auto& ops = rr.program->ops;
    const int first = st.ops[k];
    const int actor = actor_of(rr, ops[first]);
    std::size_t end = k + 1;
    double total_s = rr.closed_form_s[first];
    for (; end < st.ops.size(); ++end) {
      const int prev = st.ops[end - 1], next = st.ops[end];
      if (rr.waited_elsewhere[prev] || rr.closed_form_s[next] < 0) break;
      bool ready = true;
      for (const auto& d : ops[next].deps)
        ready = ready && (rr.done[d.value] > iteration || (d.value >= first && actor_of(rr, ops[d.value]) == actor));
      if (!ready) break;
      total_s += rr.closed_form_s[next];
    }
    double start_s = sg4::Engine::get_clock();
    ++ctx.activities;
    const bool counted = enter_overlap(rr, ops[first]);  // one stream's collectives back to back
    sg4::this_actor::sleep_for(total_s);
    leave_overlap(rr, counted);
    const double end_s = sg4::Engine::get_clock();
    for (std::size_t i = k; i < end; ++i) {
      const int idx = st.ops[i];
      const double op_end_s = i + 1 == end ? end_s : start_s + rr.closed_form_s[idx];
      record(rr, ops[idx].stream, ops[idx], iteration, start_s, op_end_s, ops[idx].collective().bytes, 0);
      mark_done(rr, idx);
      start_s = op_end_s;
    }
    return end;
  }

  /// NCCL's kernels share the GPU with the compute kernels they overlap: while any collective of
  /// the GPU runs off the compute stream, its compute runs at the overlapped speed (the power
  /// state changes the rate of running execs too). Every way a collective runs (transfers or a
  /// closed form) enters before it and leaves after it; returns whether `op` counts.
  bool enter_overlap(RankRuntime& rr, const program::Op& op) {
    if (!rr.overlap_slows || op.stream == program::Stream::kCompute) return false;
    if (gpu_collectives[static_cast<std::size_t>(rr.program->gpu)]++ == 0) rr.gpu->set_pstate(kOverlappedPstate);
    return true;
  }
  void leave_overlap(RankRuntime& rr, bool counted) {
    if (counted && --gpu_collectives[static_cast<std::size_t>(rr.program->gpu)] == 0) rr.gpu->set_pstate(0);
  }

  void mark_done(RankRuntime& rr, int idx) {
    ++rr.done[idx];
    // Waiters registered under the mutex, so a zero count here cannot miss one (actors only
    // switch at simcalls; see wait_for_deps). An op that no other actor waits for wakes nobody.
    if (rr.waiters > 0 && rr.waited_elsewhere[idx]) {
      rr.mutex->lock();
      rr.cv->notify_all();
      rr.mutex->unlock();
    }
  }

  /// Sends behave like MPI_Isend, receives posted ahead like MPI_Irecv: the stream moves on at
  /// once and a small actor posts the transfer and completes the op (dependencies, metrics,
  /// timeline) when the data is delivered. The actor owns the communication (SimGrid cancels the
  /// pending comms of an actor that ends). Blocking sends would let a pipeline's sends hold up the
  /// collectives queued behind them.
  void start_detached(RankRuntime& rr, const program::Op& op, int idx, int iteration) {
    const double start_s = sg4::Engine::get_clock();
    invariants::check_op_times(rr.last_end_s[actor_of(rr, op)], start_s, start_s,
                               [&] { return describe_op(rr, idx, iteration); });
    if (!(op.p2p().bytes > 0)) {
      record(rr, op.stream, op, iteration, start_s, start_s, 0, 0);
      mark_done(rr, idx);
      return;
    }
    ++rr.detached_in_flight;
    ++running;
    const program::Stream stream = op.stream;  // the op's own stream, also on a serial device
    helper_pool(rr.rank).run([this, &rr, &op, idx, iteration, start_s, stream]() {
      try {
        // A receive checks the bytes; waiting for the peer to post is idle time, not communication.
        const double matched_s = op.kind == OpKind::kSend ? run_send(ctx, rr.rank, op.p2p(), idx)
                                                          : run_recv(ctx, rr.rank, op.p2p(), idx);
        record(rr, stream, op, iteration, start_s, sg4::Engine::get_clock(), op.p2p().bytes, 0, matched_s);
        --rr.detached_in_flight;
        mark_done(rr, idx);
      } catch (const std::exception&) {
        if (!deadlocked && !error) error = std::current_exception();
      }
      note_finished();
    });
  }

  static bool deps_done(const RankRuntime& rr, const program::Op& op, int iteration) {
    for (const auto& d : op.deps)
      if (rr.done[d.value] <= iteration) return false;
    return true;
  }

  void wait_for_deps(RankRuntime& rr, const program::Op& op, int iteration) {
    if (deps_done(rr, op, iteration)) return;
    rr.mutex->lock();
    ++rr.waiters;
    while (!deps_done(rr, op, iteration)) rr.cv->wait(rr.mutex);
    --rr.waiters;
    rr.mutex->unlock();
  }

  /// "rank R stream S iteration I op N "name" (kind)": names an op in invariant messages.
  std::string describe_op(const RankRuntime& rr, int idx, int iteration) const {
    const program::Op& op = rr.program->ops[static_cast<std::size_t>(idx)];
    return "rank " + std::to_string(rr.rank) + " stream " + program::to_string(op.stream) + " iteration " +
           std::to_string(iteration) + " op " + std::to_string(idx) + " \"" + op.name + "\" (" +
           program::to_string(op.kind) + ")";
  }

  void execute(RankRuntime& rr, const program::Op& op, int iteration) {
    try {
      execute_op(rr, op, iteration);
    } catch (const core::InternalError& e) {  // an invariant of a transfer or of the ledger: name the op
      throw core::InternalError(describe_op(rr, static_cast<int>(&op - rr.program->ops.data()), iteration) + ": " +
                                e.what());
    }
  }

  void execute_op(RankRuntime& rr, const program::Op& op, int iteration) {
    const int idx = static_cast<int>(&op - rr.program->ops.data());  // the copies' ops have this index
    const double start_s = sg4::Engine::get_clock();
    double busy_from_s = start_s;
    double bytes = 0, flops = 0;
    switch (op.kind) {
      case OpKind::kCompute: {
        const program::Compute& c = op.compute();
        flops = c.flops;
        if (op.stream == program::Stream::kHost) {
          // Host compute: its FLOPs at the node CPU's speed (shared by the node's ranks).
          if (c.flops > 0) {
            sg4::ExecPtr exec = sg4::Exec::init();
            exec->set_flops_amount(c.flops);
            exec->set_host(rr.cpu);
            exec->start();
            ++ctx.activities;
            exec->wait();
          }
          break;
        }
        // GEMMs at their calibrated efficiency and memory-bound work at its measured bandwidth, expressed
        // as flops at the host's speed so that one Exec covers every term.
        const double amount = cost::compute_exec_amount(c, cluster.gpu_spec(rr.program->gpu), options.precision, rr.speed_flops_per_s);
        if (amount > 0) {
          sg4::ExecPtr exec = sg4::Exec::init();
          exec->set_flops_amount(amount);
          exec->set_host(rr.gpu);
          exec->start();
          ++ctx.activities;
          exec->wait();
        }
        break;
      }
      case OpKind::kCollective: {
        bytes = op.collective().bytes;
        const bool counted = enter_overlap(rr, op);  // a collective that fails ends the run
        run_collective(ctx, rr.rank, op.collective(), idx, iteration);
        leave_overlap(rr, counted);
        break;
      }
      case OpKind::kSend:
        bytes = op.p2p().bytes;
        run_send(ctx, rr.rank, op.p2p(), idx);
        break;
      case OpKind::kRecv:
        bytes = op.p2p().bytes;
        // Waiting for the sender to post is idle time (a pipeline bubble), not communication.
        busy_from_s = std::max(start_s, run_recv(ctx, rr.rank, op.p2p(), idx));
        break;
      case OpKind::kCopy:
        bytes = op.copy().bytes;
        switch (op.copy().direction) {
          case program::CopyDirection::kDeviceToHost: run_host_transfer(ctx, rr.gpu, rr.cpu, bytes); break;
          case program::CopyDirection::kHostToDevice: run_host_transfer(ctx, rr.cpu, rr.gpu, bytes); break;
          case program::CopyDirection::kHostToNvme:
          case program::CopyDirection::kNvmeToHost:
            if (bytes > 0) {
              const auto amount = static_cast<sg_size_t>(std::ceil(bytes));
              sg4::IoPtr io = op.copy().direction == program::CopyDirection::kHostToNvme ? rr.nvme->write_async(amount)
                                                                                          : rr.nvme->read_async(amount);
              ++ctx.activities;
              io->wait();
            }
            break;
        }
        break;
      case OpKind::kAlloc:
        bytes = op.memory().bytes;
        rr.ledger.alloc(op.memory());
        break;
      case OpKind::kFree:
        bytes = op.memory().bytes;
        rr.ledger.free(op.memory());
        break;
      case OpKind::kCheckpointWrite:
        bytes = op.checkpoint().bytes;
        run_host_transfer(ctx, rr.gpu, rr.cpu, bytes);
        break;
    }
    record(rr, op.stream, op, iteration, start_s, sg4::Engine::get_clock(), bytes, flops, busy_from_s);
  }

  /// Metrics and timeline of one finished op.
  /// `busy_from_s` (≥ start_s) is when the op's resource use began: a recv waits idle for its
  /// sender before data moves.
  void record(RankRuntime& rr, program::Stream stream, const program::Op& op, int iteration, double start_s,
              double end_s, double bytes, double flops, double busy_from_s = -1) {
    // A detached op ends in the background: its stream moved on (its start was checked).
    const bool ordered = !op.runs_detached();
    double& last_end_s = rr.last_end_s[actor_of(rr, op)];
    invariants::check_op_times(ordered ? last_end_s : start_s, start_s, end_s, [&] {
      return describe_op(rr, static_cast<int>(&op - rr.program->ops.data()), iteration);
    });
    if (ordered) last_end_s = end_s;
    const double busy_s = std::max(start_s, busy_from_s);
    if (end_s > busy_s) {
      // Host compute keeps the CPU busy, not the GPU: it counts in neither interval list.
      if (op.kind == OpKind::kCompute && stream != program::Stream::kHost) rr.compute.push_back({busy_s, end_s});
      else if (is_communication(op.kind)) rr.communication.push_back({busy_s, end_s});
      if (op.kind == OpKind::kCopy) rr.copies.push_back({busy_s, end_s});
    }
    if (op.kind == OpKind::kCollective) {
      const int k = static_cast<int>(op.collective().kind);
      // A representative's op stands for its whole class (reps.class_size is 1 without them).
      collective_busy_s[k] += (end_s - start_s) * (reps.applied ? reps.class_size(rr.rank) : 1);
      collective_seen[k] = true;
    }
    rr.finish_s = std::max(rr.finish_s, end_s);
    if (options.record_timeline) {
      TimelineEvent e;
      e.rank = rr.rank;
      e.stream = stream;
      e.name = op.name;
      e.category = program::to_string(op.kind);
      e.background = op.runs_detached();
      e.iteration = iteration;
      e.start_s = start_s;
      e.end_s = end_s;
      e.bytes = bytes;
      e.flops = flops;
      if (op.kind == OpKind::kAlloc || op.kind == OpKind::kFree) {
        e.memory_location = static_cast<int>(op.memory().location);
        e.memory_bytes = rr.ledger.current_bytes(op.memory().location);
      }
      timeline.push_back(std::move(e));
    }
  }

  std::string describe(const RankRuntime& rr, const StreamState& st) const {
    const program::Op& op = rr.program->ops[st.current];
    std::string s = "rank " + std::to_string(rr.rank) + " stream " + program::to_string(op.stream) +
                    (rr.serial ? " (serial device)" : "") + " iteration " +
                    std::to_string(st.iteration) + ": op " + std::to_string(st.current) + " \"" + op.name + "\" (" +
                    program::to_string(op.kind);
    switch (op.kind) {
      case OpKind::kCollective: {
        const auto& c = op.collective();
        s += " ";
        s += program::to_string(c.kind);
        s += ", group ";
        s += std::to_string(c.group);
        if (c.group >= 0 && c.group < static_cast<int>(program.groups.size()))
          s += " \"" + program.groups[c.group].name + "\"";
        s += ", instance " + std::to_string(c.instance) + ", " + format_bytes(c.bytes);
        break;
      }
      case OpKind::kSend:
      case OpKind::kRecv:
        s += std::string(op.kind == OpKind::kSend ? " to" : " from") + " rank " + std::to_string(op.p2p().peer.value) +
             ", tag " + std::to_string(op.p2p().tag) + ", " + format_bytes(op.p2p().bytes);
        break;
      default: break;
    }
    s += ")";
    if (st.waiting_deps) {
      s += " waiting for dependencies:";
      for (const auto& d : op.deps)
        if (rr.done[d.value] <= st.iteration)
          s += " op " + std::to_string(d.value) + " \"" + rr.program->ops[d.value].name + "\"";
    } else {
      s += " blocked (its peers never matched it)";
    }
    return s;
  }

  SimulationResult collect() {
    if (error) std::rethrow_exception(error);

    std::vector<std::string> stuck;
    int stuck_ranks = 0;
    for (const RankRuntime& rr : ranks) {
      bool rank_stuck = false;
      for (const StreamState& st : rr.streams) {
        if (st.finished) continue;
        rank_stuck = true;
        if (st.current >= 0) stuck.push_back(describe(rr, st));
      }
      if (rr.detached_in_flight > 0) {
        rank_stuck = true;
        stuck.push_back("rank " + std::to_string(rr.rank) + ": " + std::to_string(rr.detached_in_flight) +
                        " send(s) or receive(s) posted ahead never matched");
      }
      stuck_ranks += rank_stuck ? 1 : 0;
    }
    if (stuck_ranks > 0) {
      std::string msg = "simulation deadlocked at t=" + std::to_string(sg4::Engine::get_clock()) + " s: " +
                        std::to_string(stuck_ranks) + " of " + std::to_string(ranks.size()) +
                        " ranks did not finish (" + (deadlocked ? "no actor could progress" : "engine stopped") + ")";
      constexpr std::size_t kShown = 8;
      for (std::size_t i = 0; i < std::min(stuck.size(), kShown); ++i) msg += "; " + stuck[i];
      if (stuck.size() > kShown) msg += "; ... and " + std::to_string(stuck.size() - kShown) + " more streams";
      throw core::InternalError(msg);
    }

    // Every simulated rank freed what its iterations allocated; every GPU drew its idle power.
    const double elapsed_s = sg4::Engine::get_clock();
    for (const RankRuntime& rr : ranks) {
      if (reps.applied && !reps.is_simulated(rr.rank)) continue;
      const std::string who = "rank " + std::to_string(rr.rank);
      invariants::check_memory_released(rr.ledger, *rr.program, who);
      invariants::check_energy(sg_host_get_consumed_energy(rr.gpu), cluster.gpu_spec(rr.program->gpu).idle_power_w,
                               elapsed_s, who + "'s GPU (host " + rr.gpu->get_name() + ")");
    }

    SimulationResult result;
    result.iterations = options.iterations;
    result.ranks.resize(ranks.size());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      RankRuntime& rr = ranks[r];
      RankStats& s = result.ranks[r];
      const auto compute = merged(std::move(rr.compute));
      const auto comm = merged(std::move(rr.communication));
      s.compute_busy_s = measure(compute);
      s.communication_busy_s = measure(comm);
      s.exposed_communication_s = std::max(0.0, s.communication_busy_s - overlap(compute, comm));
      const auto copies = merged(std::move(rr.copies));
      s.copy_busy_s = measure(copies);
      s.exposed_copy_s = std::max(0.0, s.copy_busy_s - overlap(compute, copies));
      s.finish_s = rr.finish_s;
      s.peak_memory_bytes = rr.ledger.peak_bytes();
      s.peak_breakdown = rr.ledger.peak_breakdown();
      s.peak_host_bytes = rr.ledger.peak_bytes(program::Location::kHost);
      s.peak_host_breakdown = rr.ledger.peak_breakdown(program::Location::kHost);
      s.peak_nvme_bytes = rr.ledger.peak_bytes(program::Location::kNvme);
      s.energy_j = sg_host_get_consumed_energy(rr.gpu);
      result.makespan_s = std::max(result.makespan_s, rr.finish_s);
    }
    // Ranks that a representative stood for: its figures (same node type, same program).
    result.representative.resize(ranks.size());
    result.simulated_ranks = 0;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      const int rep = reps.applied ? reps.representative_of(static_cast<int>(r)) : static_cast<int>(r);
      result.representative[r] = rep;
      if (rep == static_cast<int>(r)) ++result.simulated_ranks;
      else result.ranks[r] = result.ranks[static_cast<std::size_t>(rep)];
    }
    result.collective_model = collective_model;
    result.representatives_note = reps.applied ? "" : reps.note;
    for (int k = 0; k < kCollectiveKinds; ++k)
      if (collective_seen[k])
        result.collective_busy_s[program::to_string(static_cast<program::CollectiveKind>(k))] = collective_busy_s[k];
    result.activities = ctx.activities;
    result.timeline = std::move(timeline);
    int major = 0, minor = 0, patch = 0;
    sg_version_get(&major, &minor, &patch);
    result.simgrid_version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    return result;
  }
};

Executor::Executor(const platforms::Cluster& cluster, const program::Program& program, const EngineOptions& options,
                   const BuiltPlatform& platform)
    : impl_(std::make_unique<Impl>(cluster, program, options, platform)) {}

Executor::~Executor() = default;

void Executor::start() { impl_->start(); }

void Executor::note_deadlock() { impl_->deadlocked = true; }

SimulationResult Executor::collect() { return impl_->collect(); }

}  // namespace frugal::engine
