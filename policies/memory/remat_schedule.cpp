// Rematerialization schedules: replay and cost (evaluate), the uniform schedules, and the
// optimal one (the dynamic program of remat_schedule.hpp).
#include "policies/memory/remat_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace frugal::policies {

std::string to_string(Keep k) {
  switch (k) {
    case Keep::kNothing: return "nothing";
    case Keep::kInput: return "input";
    case Keep::kAll: return "all";
    case Keep::kHost: return "host";
  }
  return "?";
}

double offload_reserve_bytes(const std::vector<ChainStage>& stages, const std::vector<bool>& offloaded) {
  double first = 0, second = 0;
  for (std::size_t i = 0; i < stages.size() && i < offloaded.size(); ++i) {
    if (!offloaded[i]) continue;
    const double b = stages[i].all_bytes;
    if (b > first) second = first, first = b;
    else second = std::max(second, b);
  }
  return first + second;
}

ScheduleCost evaluate(const std::vector<ChainStage>& stages, const std::vector<RematOp>& ops, const HostLink& host) {
  const int n = static_cast<int>(stages.size());
  ScheduleCost c;
  std::vector<double> stored(static_cast<std::size_t>(n), 0.0);
  std::vector<Keep> kept(static_cast<std::size_t>(n), Keep::kNothing);
  std::vector<int> forwards(static_cast<std::size_t>(n), 0);
  std::vector<bool> offloaded(static_cast<std::size_t>(n), false);
  for (const RematOp& op : ops)
    if (!op.backward && op.keep == Keep::kHost && op.stage >= 0 && op.stage < n) offloaded[static_cast<std::size_t>(op.stage)] = true;
  int next_backward = n - 1, transient = 0;  // the chain's input is there for the first forward
  double now_bytes = 0;
  // The timeline: the compute stream (ops in order) and the copy stream (offloads, prefetches).
  double compute_t = 0, copy_t = 0, busy_s = 0;
  std::vector<double> outgoing, gates;  // copies out not yet waited for; the next compute waits for `gates`
  std::vector<double> back(static_cast<std::size_t>(n), -1.0);  // a prefetch's end, per stage
  auto post_copy = [&](double after, double bytes) {
    copy_t = std::max(copy_t, after) + bytes / host.bandwidth_Bps;
    if (host.serial) copy_t = compute_t = std::max(compute_t, copy_t);  // the copy ran in the compute's place
    return copy_t;
  };
  auto prefetch = [&](int i) {
    if (i >= 0 && offloaded[static_cast<std::size_t>(i)] && back[static_cast<std::size_t>(i)] < 0)
      back[static_cast<std::size_t>(i)] = post_copy(compute_t, stages[static_cast<std::size_t>(i)].all_bytes);
  };
  auto wait_for_copies_out = [&] {  // what the next compute waits for
    gates.insert(gates.end(), outgoing.begin(), outgoing.end());
    outgoing.clear();
  };
  auto run = [&](double ready, double seconds) {
    for (const double g : gates) ready = std::max(ready, g);
    gates.clear();
    compute_t = std::max(compute_t, ready) + seconds;
    busy_s += seconds;
  };
  auto fail = [&](std::size_t k, const std::string& why) {
    c.valid = false;
    c.error = "op " + std::to_string(k) + ": " + why;
    return c;
  };
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const RematOp& op = ops[k];
    if (op.stage < 0 || op.stage >= n) return fail(k, "stage " + std::to_string(op.stage) + " out of range");
    const auto i = static_cast<std::size_t>(op.stage);
    const ChainStage& s = stages[i];
    const bool first_forward = !op.backward && forwards[i] == 0;
    if (!first_forward) wait_for_copies_out();  // the forward pass is over
    if (op.backward) {
      if (op.stage != next_backward) return fail(k, "backward of stage " + std::to_string(op.stage) + " out of order");
      if (kept[i] != Keep::kAll && kept[i] != Keep::kHost)
        return fail(k, "backward of stage " + std::to_string(op.stage) + " without its activations");
      prefetch(op.stage);
      prefetch(op.stage - 1);
      run(offloaded[i] ? back[i] : 0.0, s.backward_s);
      now_bytes -= stored[i];
      stored[i] = 0;
      kept[i] = Keep::kNothing;
      --next_backward;
      transient = -1;
      continue;
    }
    if (op.stage > next_backward) return fail(k, "forward of stage " + std::to_string(op.stage) + " after its backward");
    if (op.keep == Keep::kHost && !s.offloadable)
      return fail(k, "stage " + std::to_string(op.stage) + " cannot keep its activations in host memory");
    if (kept[i] == Keep::kHost || (op.keep == Keep::kHost && !first_forward))
      return fail(k, "stage " + std::to_string(op.stage) + " keeps its activations in host memory: forwarded once only");
    if (transient != op.stage && kept[i] == Keep::kNothing)
      return fail(k, "forward of stage " + std::to_string(op.stage) + " without its input");
    if (op.keep > kept[i]) {  // kNothing < kInput < kAll; kHost stores nothing on the device
      const double want = op.keep == Keep::kAll ? s.all_bytes : op.keep == Keep::kInput ? s.input_bytes : 0.0;
      now_bytes += want - stored[i];
      stored[i] = want;
      kept[i] = op.keep;
    }
    run(0.0, s.forward_s);
    if (first_forward) {
      wait_for_copies_out();  // the forward after next waits for the copies before this one
      if (op.keep == Keep::kHost) {
        outgoing.push_back(post_copy(compute_t, s.all_bytes));
        c.offloaded_bytes += s.all_bytes;
      }
    }
    if (forwards[i]++ > 0) c.recompute_s += s.forward_s;
    else if (op.stage == n - 1) c.forward_bytes = now_bytes;  // the forward pass is done
    transient = op.stage + 1;
    c.peak_bytes = std::max(c.peak_bytes, now_bytes);
  }
  if (next_backward != -1) return fail(ops.size(), "stage " + std::to_string(next_backward) + " has no backward");
  c.peak_bytes += offload_reserve_bytes(stages, offloaded);
  c.time_s = compute_t;
  c.exposed_copy_s = compute_t - busy_s;
  c.valid = true;
  return c;
}

std::vector<RematOp> keep_all_schedule(int stages) { return every_k_schedule(stages, stages); }

std::vector<RematOp> every_k_schedule(int stages, int k) {
  if (stages < 1 || k < 1) throw std::invalid_argument("every_k_schedule: stages and k must be ≥ 1");
  std::vector<RematOp> ops;
  if (k >= stages) {  // one segment: the first forward keeps everything
    for (int i = 0; i < stages; ++i) ops.push_back({i, false, Keep::kAll});
  } else {
    for (int i = 0; i < stages; ++i) ops.push_back({i, false, i % k == 0 ? Keep::kInput : Keep::kNothing});
  }
  for (int first = (stages - 1) / k * k; first >= 0; first -= k) {
    const int end = std::min(first + k, stages);
    if (k < stages)
      for (int i = first; i < end; ++i) ops.push_back({i, false, Keep::kAll});
    for (int i = end - 1; i >= first; --i) ops.push_back({i, true, Keep::kNothing});
  }
  return ops;
}

double least_memory_bytes(const std::vector<ChainStage>& stages) {
  double least = stages.empty() ? 0.0 : stages[0].all_bytes;
  for (std::size_t i = 1; i < stages.size(); ++i) least = std::max(least, stages[0].input_bytes + stages[i].all_bytes);
  return least;
}

ScheduleSteps schedule_steps(const std::vector<RematOp>& ops, int stages) {
  ScheduleSteps steps;
  steps.before_backward.resize(static_cast<std::size_t>(stages));
  if (ops.size() < static_cast<std::size_t>(stages))
    throw std::invalid_argument("schedule_steps: fewer ops than stages");
  for (int i = 0; i < stages; ++i) {
    const RematOp& op = ops[static_cast<std::size_t>(i)];
    if (op.backward || op.stage != i)
      throw std::invalid_argument("schedule_steps: op " + std::to_string(i) + " is not the first forward of stage " +
                                  std::to_string(i));
    steps.first_forward.push_back(op.keep);
  }
  std::vector<RematOp> pending;
  int next_backward = stages - 1;
  for (std::size_t k = static_cast<std::size_t>(stages); k < ops.size(); ++k) {
    if (!ops[k].backward) {
      pending.push_back(ops[k]);
      continue;
    }
    if (ops[k].stage != next_backward) throw std::invalid_argument("schedule_steps: backward out of order");
    steps.before_backward[static_cast<std::size_t>(next_backward--)] = std::move(pending);
    pending.clear();
  }
  if (next_backward != -1 || !pending.empty()) throw std::invalid_argument("schedule_steps: missing backwards");
  return steps;
}

std::vector<RematOp> defer_keep_all(std::vector<RematOp> ops, int stage) {
  const auto first = std::find_if(ops.begin(), ops.end(), [&](const RematOp& op) { return !op.backward && op.stage == stage; });
  if (first == ops.end() || first->keep != Keep::kAll)
    throw std::invalid_argument("defer_keep_all: the first forward of stage " + std::to_string(stage) + " does not keep all");
  first->keep = Keep::kInput;
  const auto backward = std::find_if(ops.begin(), ops.end(), [&](const RematOp& op) { return op.backward && op.stage == stage; });
  if (backward == ops.end()) throw std::invalid_argument("defer_keep_all: stage " + std::to_string(stage) + " has no backward");
  ops.insert(backward, RematOp{stage, false, Keep::kAll});
  return ops;
}

std::vector<RematOp> least_memory_schedule(int stages) {
  if (stages < 1) throw std::invalid_argument("least_memory_schedule: stages must be ≥ 1");
  std::vector<RematOp> ops;
  for (int last = stages - 1; last >= 0; --last) {  // a pass from x_0 up to `last`, then its backward
    for (int i = 0; i < last; ++i) ops.push_back({i, false, i == 0 ? Keep::kInput : Keep::kNothing});
    ops.push_back({last, false, Keep::kAll});
    ops.push_back({last, true, Keep::kNothing});
  }
  return ops;
}

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// The dynamic program. cost(a, b, m): fastest way to run the backwards of stages b … a, given
/// x_a kept (its slots counted by the caller), nothing of a … b stored, and m slots for the rest.
class Solver {
 public:
  Solver(const std::vector<ChainStage>& stages, double budget_bytes, int slots, const std::vector<bool>& offloaded)
      : n_(static_cast<int>(stages.size())), slots_(slots), stages_(stages) {
    const double unit = budget_bytes / slots;
    auto size = [&](double bytes) {
      // A zero budget (every stage offloaded: only the copies' buffers fit) holds nothing else.
      if (!(unit > 0)) return bytes > 0 ? slots + 1 : 0;
      const double u = bytes / unit;
      return static_cast<int>(std::min<double>(std::ceil(u - 1e-9 * std::max(1.0, u)), slots + 1.0));
    };
    offloaded_before_.assign(static_cast<std::size_t>(n_) + 1, 0);
    for (std::size_t i = 0; i < stages.size(); ++i) {
      const bool host = i < offloaded.size() && offloaded[i];
      offloaded_before_[i + 1] = offloaded_before_[i] + (host ? 1 : 0);
      input_.push_back(host ? 0 : size(stages[i].input_bytes));
      rest_.push_back(host ? 0 : size(stages[i].all_bytes - stages[i].input_bytes));
    }
    prefix_f_.assign(static_cast<std::size_t>(n_) + 1, 0.0);
    for (int i = 0; i < n_; ++i) prefix_f_[i + 1] = prefix_f_[i] + stages[static_cast<std::size_t>(i)].forward_s;
    const std::size_t pairs = static_cast<std::size_t>(n_) * (n_ + 1) / 2;
    cost_.assign(pairs * (slots_ + 1), kInfinity);
    choice_.assign(pairs * (slots_ + 1), -1);
    for (int len = 0; len < n_; ++len)
      for (int a = 0; a + len < n_; ++a) fill(a, a + len);
  }

  /// The top call: x_0 kept as a checkpoint.
  double best() const { return input_[0] > slots_ ? kInfinity : at(0, n_ - 1, slots_ - input_[0]); }

  std::vector<RematOp> schedule() const {
    std::vector<RematOp> ops;
    build(0, n_ - 1, slots_ - input_[0], ops);
    return ops;
  }

 private:
  std::size_t index(int a, int b) const {  // pairs a ≤ b, row a holds n − a of them
    return static_cast<std::size_t>(a) * n_ - static_cast<std::size_t>(a) * (a - 1) / 2 + (b - a);
  }
  double at(int a, int b, int m) const { return cost_[index(a, b) * (slots_ + 1) + m]; }
  double forwards(int a, int end) const { return prefix_f_[end] - prefix_f_[a]; }  // stages [a, end)
  bool host(int a) const { return offloaded_before_[a + 1] != offloaded_before_[a]; }  ///< a keeps kHost
  double fb(int a) const { return stages_[a].forward_s + stages_[a].backward_s; }

  /// choice: 0 = keep all at a (then x_{a+1} kept); s > a = run a … s−1 keeping only x_a, keep x_s.
  /// Loops run over m innermost, on contiguous rows.
  void fill(int a, int b) {
    double* best = &cost_[index(a, b) * (slots_ + 1)];
    std::int16_t* pick = &choice_[index(a, b) * (slots_ + 1)];
    if (a == b) {
      for (int m = rest_[a]; m <= slots_; ++m) best[m] = fb(a), pick[m] = 0;
      return;
    }
    const int need = rest_[a] + input_[a + 1];
    const double* after = &cost_[index(a + 1, b) * (slots_ + 1)];
    for (int m = need; m <= slots_; ++m) best[m] = fb(a) + after[m - need], pick[m] = 0;
    // Running a … s−1 again later is not allowed through an offloaded stage (forwarded once).
    for (int s = a + 1; s <= b && offloaded_before_[s] == offloaded_before_[a]; ++s) {
      const double* right = &cost_[index(s, b) * (slots_ + 1)];
      const double* left = &cost_[index(a, s - 1) * (slots_ + 1)];
      const double run = forwards(a, s);
      for (int m = input_[s]; m <= slots_; ++m) {
        const double c = run + right[m - input_[s]] + left[m];
        if (c < best[m]) best[m] = c, pick[m] = static_cast<std::int16_t>(s);
      }
    }
  }

  void build(int a, int b, int m, std::vector<RematOp>& ops) const {
    const int pick = choice_[index(a, b) * (slots_ + 1) + m];
    if (pick < 0) throw std::logic_error("optimal_schedule: no schedule in an infeasible cell");
    if (pick == 0) {
      ops.push_back({a, false, host(a) ? Keep::kHost : Keep::kAll});
      if (a < b) build(a + 1, b, m - rest_[a] - input_[a + 1], ops);
      ops.push_back({a, true, Keep::kNothing});
      return;
    }
    ops.push_back({a, false, Keep::kInput});
    for (int i = a + 1; i < pick; ++i) ops.push_back({i, false, Keep::kNothing});
    build(pick, b, m - input_[pick], ops);
    build(a, pick - 1, m, ops);
  }

  int n_, slots_;
  const std::vector<ChainStage>& stages_;
  std::vector<int> input_, rest_;
  std::vector<int> offloaded_before_;  ///< offloaded stages among [0, i)
  std::vector<double> prefix_f_;
  std::vector<double> cost_;
  std::vector<std::int16_t> choice_;
};

}  // namespace

OptimalSchedule optimal_schedule(const std::vector<ChainStage>& stages, double budget_bytes, int slots,
                                 const std::vector<bool>& offloaded) {
  if (stages.empty() || !(budget_bytes > 0) || slots < 1 || stages.size() > 30000)
    throw std::invalid_argument("optimal_schedule: needs stages, a positive budget and slots ≥ 1");
  OptimalSchedule out;
  out.min_budget_bytes = least_memory_bytes(stages);
  const bool offloading = std::find(offloaded.begin(), offloaded.end(), true) != offloaded.end();
  if (!offloading && out.min_budget_bytes > budget_bytes) return out;
  budget_bytes -= offload_reserve_bytes(stages, offloaded);
  if (budget_bytes < 0) return out;
  const Solver solver(stages, budget_bytes, slots, offloaded);
  out.time_s = solver.best();
  if (!std::isfinite(out.time_s)) return out;  // fits exactly but not at this granularity
  out.feasible = true;
  out.ops = solver.schedule();
  return out;
}

}  // namespace frugal::policies
