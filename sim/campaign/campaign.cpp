// Campaign orchestration (see campaign.hpp): layouts and their forked op-by-op probes,
// availability events, then the campaign engine.
#include "sim/campaign/campaign.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <set>

#include "policies/lowering/lowering.hpp"
#include "policies/memory/stage_schedules.hpp"
#include "sim/campaign/iteration_probe.hpp"
#include "workloads/layer_chain.hpp"

namespace frugal::campaign {
namespace {

using core::Json;
using study::CampaignSpec;
using study::Goal;
using study::TransferSimulation;
using study::with_spares;

/// The job's first `count` nodes as a Cluster of their own (ids renumbered from 0, node-major).
platforms::Cluster reduced_cluster(const platforms::Cluster& cluster, const std::vector<int>& job_nodes, int count) {
  platforms::Cluster out = cluster;
  out.node_type_of.clear();
  out.gpus.clear();
  for (int i = 0; i < count; ++i) {
    const int node = job_nodes[i];
    const int type = cluster.node_type_of[node];
    out.node_type_of.push_back(type);
    for (int g = 0; g < cluster.node_types[type].gpus_per_node; ++g)
      out.gpus.push_back(platforms::GpuSlot{core::NodeId(i), g, type});
  }
  return out;
}

/// Units to simulate between `min_units` and `max_units` (both included): all when few, else a
/// geometric subset of `budget` sizes.
std::vector<int> sampled_units(int min_units, int max_units, int budget) {
  std::set<int> out;
  if (max_units - min_units + 1 <= budget) {
    for (int u = min_units; u <= max_units; ++u) out.insert(u);
  } else {
    const double ratio = static_cast<double>(max_units) / min_units;
    for (int i = 0; i < budget; ++i)
      out.insert(static_cast<int>(std::lround(min_units * std::pow(ratio, static_cast<double>(i) / (budget - 1)))));
    out.insert(min_units);
    out.insert(max_units);
  }
  return {out.begin(), out.end()};
}

double layout_energy(const engine::SimulationResult& r) {
  double e = 0;
  for (const auto& rs : r.ranks) e += rs.energy_j;
  return e / r.iterations;
}

/// All GPUs of `cluster` at max power for `seconds` (the iteration_time shortcut's energy).
double max_power_energy(const platforms::Cluster& cluster, double seconds) {
  double w = 0;
  for (int g = 0; g < cluster.gpu_count(); ++g) w += cluster.gpu_spec(g).max_power_w;
  return w * seconds;
}

}  // namespace

CampaignOutcome run_campaign(const study::Study& s, const policies::Plan& plan, const program::Program& program,
                             const engine::MemoryCheck* initial_memory, core::Progress* progress) {
  if (!s.campaign) throw core::InternalError("run_campaign: the study has no campaign section");
  const CampaignSpec& spec = *s.campaign;
  CampaignOutcome out;
  out.cluster = with_spares(s.cluster, spec);
  out.tokens_per_iteration = static_cast<double>(s.training.global_batch_size) * static_cast<double>(s.training.seq_length);

  // The job: the nodes the plan's ranks run on; its replica groups.
  std::set<int> nodes;
  for (const auto& rp : program.ranks) nodes.insert(static_cast<int>(s.cluster.gpus.at(rp.gpu).node.value));
  out.initial_nodes.assign(nodes.begin(), nodes.end());
  const int n_job = static_cast<int>(out.initial_nodes.size());
  const int dp = plan.data_parallel();
  if (dp > 0 && n_job % dp == 0) {
    out.unit_nodes = n_job / dp;
    out.initial_units = dp;
  } else if (dp > 0 && dp % n_job == 0) {
    out.unit_nodes = 1;
    out.initial_units = n_job;
  } else {
    out.unit_nodes = n_job;
    out.initial_units = 1;
  }
  const int max_units = out.initial_units;
  out.layouts.assign(max_units + 1, engine::CampaignLayout{});

  // Sizes the recovery policy may ask for, in replica groups: from its minimum to the full layout.
  policies::ResiliencePolicy policy = spec.make_policy();
  const int min_units = std::clamp(policy.min_data_parallel(max_units), 1, max_units);
  const std::vector<int> sampled = sampled_units(min_units, max_units, spec.max_shrink_layouts);

  if (progress) progress->begin("simulating layouts", static_cast<double>(sampled.size()), "layouts");
  int layouts_done = 0;
  for (int u : sampled) {
    if (progress) progress->update(layouts_done++);
    engine::CampaignLayout& l = out.layouts[u];
    l.units = u;
    l.origin = "refused";
    const bool initial = u == max_units;
    // The plan's own layout runs on the study's own cluster and is not copied (16k ranks).
    const platforms::Cluster reduced =
        initial ? s.cluster : reduced_cluster(s.cluster, out.initial_nodes, u * out.unit_nodes);
    program::Program lowered;
    int data_parallel = plan.data_parallel();
    if (!initial) {
      try {
        policies::Plan shrunk = s.parallelism->plan(s.model, reduced, s.training, *s.memory);
        policies::schedule_rematerialization(shrunk, s.model, reduced, s.training, *s.memory);
        data_parallel = shrunk.data_parallel();
        lowered = policies::lower_compact(shrunk, s.model, s.training);
      } catch (const core::ConfigError& e) {
        l.note = "the parallelism policy cannot plan " + std::to_string(u) + " replica groups: " + e.message();
        continue;
      }
    }
    const program::Program& prog = initial ? program : lowered;
    const auto memory =
        initial && initial_memory != nullptr ? *initial_memory : engine::check_memory(prog, reduced);
    std::size_t worst = 0;
    for (std::size_t r = 0; r < memory.peak_bytes.size(); ++r)
      if (memory.peak_bytes[r] / memory.capacity_bytes[r] > memory.peak_bytes[worst] / memory.capacity_bytes[worst]) worst = r;
    if (!memory.peak_bytes.empty()) {
      l.peak_memory_bytes = memory.peak_bytes[worst];
      l.memory_capacity_bytes = memory.capacity_bytes[worst];
    }
    if (!memory.fits()) {
      l.note = "does not fit in GPU memory: rank " + std::to_string(worst) + " needs " +
               std::to_string(memory.peak_bytes[worst] / 1073741824.0) + " GiB of " +
               std::to_string(memory.capacity_bytes[worst] / 1073741824.0) + " GiB";
      continue;
    }
    l.data_parallel = data_parallel;
    if (spec.iteration_time_s > 0) {
      // Given, not simulated: shrunk layouts scale as 1/u (a fixed global batch over fewer replicas).
      l.iteration_s = spec.iteration_time_s * max_units / u;
      l.energy_j_per_iteration = max_power_energy(reduced, l.iteration_s);
      l.origin = initial ? "given" : "scaled";
    } else {
      engine::EngineOptions eo = s.engine_options();
      eo.iterations = initial ? s.iterations : 1;
      eo.record_timeline = initial && s.write_timeline;
      engine::SimulationResult r = simulate_in_child(reduced, prog, eo);
      l.iteration_s = r.makespan_s / r.iterations;
      l.energy_j_per_iteration = layout_energy(r);
      l.origin = "simulated";
      if (initial) out.iteration = std::move(r);
    }
    l.allowed = true;
  }
  if (progress) progress->update(static_cast<double>(sampled.size()));
  if (!out.layouts[max_units].allowed) throw core::InternalError("run_campaign: the plan's own layout is not allowed");
  // Sizes between two simulated ones: linear in 1/u (iteration time and energy per iteration).
  for (std::size_t k = 0; k + 1 < sampled.size(); ++k) {
    const int a = sampled[k], b = sampled[k + 1];
    for (int u = a + 1; u < b; ++u) {
      engine::CampaignLayout& l = out.layouts[u];
      const engine::CampaignLayout &la = out.layouts[a], &lb = out.layouts[b];
      l.units = u;
      l.origin = "interpolated";
      if (!la.allowed || !lb.allowed) {
        l.note = "between " + std::to_string(a) + " and " + std::to_string(b) + " replica groups, one of which is not allowed";
        continue;
      }
      const double w = (1.0 / u - 1.0 / b) / (1.0 / a - 1.0 / b);
      l.iteration_s = w * la.iteration_s + (1 - w) * lb.iteration_s;
      l.energy_j_per_iteration = w * la.energy_j_per_iteration + (1 - w) * lb.energy_j_per_iteration;
      l.data_parallel = static_cast<int>(std::lround(static_cast<double>(lb.data_parallel) * u / b));
      l.note = "interpolated in 1/u between " + std::to_string(a) + " and " + std::to_string(b) + " replica groups";
      l.allowed = true;
    }
  }

  // Goal, horizon, checkpoint size.
  const double t0 = out.layouts[max_units].iteration_s;
  switch (spec.goal.kind) {
    case Goal::Kind::kIterations: out.goal_iterations = spec.goal.iterations; break;
    case Goal::Kind::kTokens:
      out.goal_iterations = static_cast<std::int64_t>(std::ceil(spec.goal.tokens / out.tokens_per_iteration));
      break;
    case Goal::Kind::kWallTime: break;
  }
  if (spec.horizon_s > 0)
    out.horizon_s = spec.horizon_s;
  else if (spec.goal.kind == Goal::Kind::kWallTime)
    out.horizon_s = spec.goal.wall_time_s;
  else
    out.horizon_s = 5.0 * static_cast<double>(out.goal_iterations) * t0 + 7 * 86400.0;
  out.checkpoint_bytes = spec.checkpoint.size_bytes > 0 ? spec.checkpoint.size_bytes
                                                        : spec.checkpoint.bytes_per_parameter * workloads::parameter_count(s.model);

  // Availability events of every node (spares included), merged over node types.
  std::vector<platforms::AvailabilityEvent> events;
  for (int t = 0; t < static_cast<int>(out.cluster.node_types.size()); ++t) {
    const auto it = spec.availability.find(out.cluster.node_types[t].name);
    if (it == spec.availability.end()) continue;
    auto e = platforms::generate_events(it->second, platforms::availability_nodes(out.cluster, t), out.horizon_s, s.seed);
    events.insert(events.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.time_s != b.time_s ? a.time_s < b.time_s : a.node.value < b.node.value;
  });
  out.availability_events = events.size();

  // M for the policies: 1 / Σ interruption rates of the job's nodes, by node type.
  const platforms::Cluster* cluster = &out.cluster;
  auto job_mtbf = [cluster, &spec](const std::vector<int>& job) {
    std::vector<int> count(cluster->node_types.size(), 0);
    for (int n : job) ++count[cluster->node_type_of[n]];
    double rate = 0;
    for (std::size_t t = 0; t < count.size(); ++t) {
      const auto it = spec.availability.find(cluster->node_types[t].name);
      if (it == spec.availability.end() || count[t] == 0) continue;
      rate += platforms::interruption_rate_per_s(it->second, count[t]);
    }
    if (std::isnan(rate)) return std::numeric_limits<double>::quiet_NaN();
    return rate > 0 ? 1.0 / rate : std::numeric_limits<double>::infinity();
  };

  engine::CampaignSetup setup;
  setup.cluster = &out.cluster;
  setup.precision = s.training.precision;
  setup.events = std::move(events);
  setup.initial_nodes = out.initial_nodes;
  setup.unit_nodes = out.unit_nodes;
  setup.layouts = out.layouts;
  setup.checkpoint_bytes = out.checkpoint_bytes;
  setup.local_disk = spec.checkpoint.storage == "local_disk";
  setup.simulate_all_transfers = spec.checkpoint.transfers == TransferSimulation::kAlways;
  setup.goal_iterations = out.goal_iterations;
  setup.goal_wall_time_s = spec.goal.kind == Goal::Kind::kWallTime ? spec.goal.wall_time_s : 0;
  setup.horizon_s = out.horizon_s;
  setup.max_events = spec.max_events;
  setup.job_mtbf_s = job_mtbf;
  // A machine provisioned in a slot draws its own failures (platforms::replacement_events).
  setup.replacement_draw = [cluster, &spec, horizon_s = out.horizon_s, seed = s.seed](int node, double from_s,
                                                                                      int replacement) {
    engine::ReplacementDraw draw;
    const auto it = spec.availability.find(cluster->node_types[cluster->node_type_of[node]].name);
    if (it == spec.availability.end()) return draw;
    draw.events = platforms::replacement_events(it->second, platforms::availability_node(core::NodeId(node)), from_s, horizon_s, seed, replacement,
                                                draw.redrawn_sources);
    return draw;
  };
  setup.policy = &policy;
  setup.record_phases = s.write_timeline;
  if (progress) {
    // Simulated time against the goal: iterations, or days of wall time.
    const std::int64_t goal = out.goal_iterations;
    if (goal > 0) progress->begin("campaign", static_cast<double>(goal), "iterations");
    else {
      const double until_s = setup.goal_wall_time_s > 0 ? setup.goal_wall_time_s : setup.horizon_s;
      progress->begin("campaign", std::round(until_s / 86400 * 10) / 10, "simulated days");
    }
    setup.on_progress = [progress, goal](double now_s, std::int64_t iterations) {
      if (goal > 0) progress->update(static_cast<double>(iterations), "simulated " + core::Progress::duration(now_s));
      else progress->update(std::round(now_s / 86400 * 10) / 10);
    };
  }
  try {
    out.result = engine::simulate_campaign(setup);
  } catch (const core::ConfigError& e) {  // the engine does not know the file (max_events)
    if (!e.file().empty()) throw;
    throw core::ConfigError(s.file.string(), e.pointer(), e.message());
  }
  out.events_fingerprint = fingerprint(out.result.events);
  return out;
}

std::string fingerprint(const Json& events) {
  const std::string text = events.dump();
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace frugal::campaign
