// summary.json of a run (simulated, out of memory, infeasible).
#include "sim/metrics/summary.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "sim/program/memory_ledger.hpp"
#include "sim/program/rank_classes.hpp"

namespace frugal::metrics {

std::string gpu_label(const platforms::Cluster& cluster, int gpu) {
  const auto& slot = cluster.gpus.at(static_cast<std::size_t>(gpu));
  return cluster.gpu_spec(gpu).name + " node" + std::to_string(slot.node.value) + "/gpu" +
         std::to_string(slot.local_index);
}

namespace {

using core::Json;

Json base_summary(const study::Study& study, const std::string& status) {
  const double samples = static_cast<double>(study.training.global_batch_size);
  return Json{{"status", status},
              {"study", study.name},
              {"model", study.model.name},
              {"cluster", study.cluster.name},
              {"gpus", study.cluster.gpu_count()},
              {"seed", study.seed},
              {"iterations", study.iterations},
              {"samples_per_iteration", samples},
              {"tokens_per_iteration", samples * static_cast<double>(study.training.seq_length)}};
}

void add_null_performance(Json& s) {
  for (const char* key : {"iteration_time_s", "tokens_per_s", "samples_per_s", "mfu", "hfu", "tflops_per_gpu", "compute_s",
                          "communication_s", "exposed_communication_s", "copy_s", "exposed_copy_s", "energy_j_per_iteration",
                          "energy_j_per_token"})
    s[key] = nullptr;
}

/// How the engine modelled the run: the collective model used and whether representatives
/// stood for identical ranks (and, when they did not, why).
Json simulation_summary(const engine::SimulationResult& result) {
  const bool representatives = result.representatives_note.empty();
  return Json{{"collectives", engine::to_string(result.collective_model)},
              {"identical_ranks", representatives ? "representatives" : "all"},
              {"simulated_ranks", result.simulated_ranks},
              {"representatives_note", result.representatives_note}};
}

}  // namespace

Json make_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                  const engine::SimulationResult& result) {
  const auto& cluster = study.cluster;
  const double n_iter = result.iterations;
  const double t = result.makespan_s / n_iter;
  const double samples = static_cast<double>(study.training.global_batch_size);
  const double tokens = samples * static_cast<double>(study.training.seq_length);
  const double model_flops = program.metadata.at("model_flops_per_iteration").get<double>();
  const auto n_ranks = result.ranks.size();

  double peak_sum = 0, compute = 0, comm = 0, exposed = 0, copies = 0, exposed_copies = 0, energy = 0, max_peak = 0;
  std::map<int, std::pair<double, Json>> host_of_node;  // node → Σ its ranks' host peaks, Σ their breakdowns
  std::size_t max_rank = 0;
  Json per_gpu = Json::array();
  Json peaks = Json::array();
  for (std::size_t r = 0; r < n_ranks; ++r) {
    const auto& rs = result.ranks[r];
    const int gpu = program.ranks[r].gpu;
    const auto& spec = cluster.gpu_spec(gpu);
    peak_sum += spec.peak(spec.runs_as(study.training.precision));
    compute += rs.compute_busy_s / n_iter;
    comm += rs.communication_busy_s / n_iter;
    exposed += rs.exposed_communication_s / n_iter;
    copies += rs.copy_busy_s / n_iter;
    exposed_copies += rs.exposed_copy_s / n_iter;
    energy += rs.energy_j;
    peaks.push_back(rs.peak_memory_bytes);
    if (rs.peak_memory_bytes > max_peak) { max_peak = rs.peak_memory_bytes; max_rank = r; }
    Json breakdown = Json::object();
    for (const auto& [tag, bytes] : rs.peak_breakdown) breakdown[program::to_string(tag)] = bytes;
    Json host_breakdown = Json::object();
    for (const auto& [tag, bytes] : rs.peak_host_breakdown)
      if (bytes > 0) host_breakdown[program::to_string(tag)] = bytes;
    auto& [host_sum, host_tags] = host_of_node[static_cast<int>(cluster.gpus.at(static_cast<std::size_t>(gpu)).node.value)];
    host_sum += rs.peak_host_bytes;
    if (host_tags.is_null()) host_tags = Json::object();
    for (auto it = host_breakdown.begin(); it != host_breakdown.end(); ++it)
      host_tags[it.key()] = host_tags.value(it.key(), 0.0) + it->get<double>();
    per_gpu.push_back({{"rank", r},
                       {"gpu", gpu_label(cluster, gpu)},
                       {"samples", plan.ranks.at(r).samples()},
                       {"compute_s", rs.compute_busy_s / n_iter},
                       {"communication_s", rs.communication_busy_s / n_iter},
                       {"exposed_communication_s", rs.exposed_communication_s / n_iter},
                       {"copy_s", rs.copy_busy_s / n_iter},
                       {"exposed_copy_s", rs.exposed_copy_s / n_iter},
                       {"idle_s", std::max(0.0, t - (rs.compute_busy_s + rs.exposed_communication_s) / n_iter)},
                       {"peak_memory_bytes", rs.peak_memory_bytes},
                       {"memory_capacity_bytes", cluster.gpu_spec(gpu).memory_bytes},
                       {"memory_breakdown_bytes", breakdown},
                       {"host_peak_memory_bytes", rs.peak_host_bytes},
                       {"host_memory_breakdown_bytes", host_breakdown},
                       {"energy_j_per_iteration", rs.energy_j / n_iter}});
  }
  const double n = static_cast<double>(n_ranks);
  Json collectives = Json::object();
  for (const auto& [kind, busy] : result.collective_busy_s) collectives[kind] = busy / n_iter / n;
  // Bytes per collective kind (whole-buffer convention), mean over GPUs, per iteration.
  Json collective_bytes = Json::object();
  const program::ClassView view(program);
  std::map<std::int64_t, double> ranks_of;  // representative → ranks running its ops
  for (const auto& rp : program.ranks) ranks_of[view.representative(rp.rank).value] += 1;
  // FLOPs the GPUs execute (host compute aside), and of them the recomputation's; bytes copied
  // down a memory tier, per GPU.
  double hardware_flops = 0, recompute_flops = 0, offloaded_host = 0, offloaded_nvme = 0;
  for (const auto& [rep, count] : ranks_of)
    for (const auto& op : program.ranks[static_cast<std::size_t>(rep)].ops) {
      if (op.kind == program::OpKind::kCollective) {
        const std::string kind = program::to_string(op.collective().kind);
        collective_bytes[kind] = collective_bytes.value(kind, 0.0) + count * op.collective().bytes / n;
      }
      if (op.kind == program::OpKind::kCopy) {
        // Bytes sent down a tier: device → host, host → NVMe.
        const auto direction = op.copy().direction;
        if (direction == program::CopyDirection::kDeviceToHost) offloaded_host += count * op.copy().bytes / n;
        if (direction == program::CopyDirection::kHostToNvme) offloaded_nvme += count * op.copy().bytes / n;
      }
      if (op.kind == program::OpKind::kCompute && op.stream != program::Stream::kHost) {
        hardware_flops += count * op.compute().flops;
        if (op.compute().phase == program::Phase::kRecompute) recompute_flops += count * op.compute().flops;
      }
    }
  // Pipeline bubble: the part of the iteration a GPU is neither computing nor communicating,
  // mean over GPUs; per-stage compute time, mean over the stage's GPUs.
  double idle = 0;
  std::map<int, std::pair<double, int>> stage_compute;
  for (std::size_t r = 0; r < n_ranks; ++r) {
    idle += per_gpu[r].at("idle_s").get<double>();
    auto& [sum, count] = stage_compute[plan.stage_of(core::RankId(static_cast<std::int64_t>(r)))];
    sum += per_gpu[r].at("compute_s").get<double>();
    ++count;
  }
  Json per_stage = Json::array();
  for (const auto& [stage, v] : stage_compute) per_stage.push_back(v.first / v.second);

  Json s = base_summary(study, "ok");
  s["iteration_time_s"] = t;
  s["tokens_per_s"] = tokens / t;
  s["samples_per_s"] = samples / t;
  s["model_flops_per_iteration"] = model_flops;
  s["mfu"] = model_flops / (t * peak_sum);
  // Hardware FLOPs utilization: every FLOP the GPUs execute (recomputation included; a fused
  // attention kernel's skipped blocks not), against the same peak.
  s["hfu"] = hardware_flops / (t * peak_sum);
  s["hardware_flops_per_iteration"] = hardware_flops;
  s["recompute_flops_per_iteration"] = recompute_flops;
  s["offloaded_bytes_per_gpu"] = {{"host", offloaded_host}, {"nvme", offloaded_nvme}};
  s["tflops_per_gpu"] = model_flops / t / n / 1e12;
  s["compute_s"] = compute / n;
  s["communication_s"] = comm / n;
  s["exposed_communication_s"] = exposed / n;
  s["copy_s"] = copies / n;
  s["exposed_copy_s"] = exposed_copies / n;
  s["collective_s"] = collectives;
  s["collective_bytes"] = collective_bytes;
  s["bubble_fraction"] = idle / n / t;
  s["stage_compute_s"] = per_stage;
  s["peak_memory_bytes"] = peaks;
  s["max_peak_memory_bytes"] = max_peak;
  s["memory_breakdown_bytes"] = per_gpu.at(max_rank).at("memory_breakdown_bytes");
  // Host memory: the node whose ranks hold the most at their peaks, and by what.
  double host_peak = 0;
  Json host_breakdown = Json::object();
  for (const auto& [node, entry] : host_of_node)
    if (entry.first > host_peak) host_peak = entry.first, host_breakdown = entry.second;
  s["host_memory_peak_bytes"] = host_peak;
  s["host_memory_breakdown_bytes"] = host_breakdown;
  s["energy_j_per_iteration"] = energy / n_iter;
  s["energy_j_per_token"] = energy / n_iter / tokens;
  s["layout"] = plan.to_json();
  s["per_gpu"] = per_gpu;
  s["simulated_activities"] = result.activities;
  s["simulation"] = simulation_summary(result);
  return s;
}

Json make_oom_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                      const MemoryCheck& memory) {
  Json s = base_summary(study, "out_of_memory");
  const auto over = memory.overflowing_ranks();
  const auto host_over = memory.overflowing_host_nodes();
  const auto nvme_over = memory.overflowing_nvme_nodes();
  std::string reason;
  auto gib = [](double bytes) { return std::to_string(bytes / 1073741824.0); };
  // The rank whose breakdown the summary shows: the first overflowing GPU, else the largest peak.
  std::size_t shown = static_cast<std::size_t>(
      std::max_element(memory.peak_bytes.begin(), memory.peak_bytes.end()) - memory.peak_bytes.begin());
  if (!over.empty()) {
    const int first = over.front();
    shown = static_cast<std::size_t>(first);
    const int gpu = program.ranks[shown].gpu;
    reason = std::to_string(over.size()) + " of " + std::to_string(memory.peak_bytes.size()) +
             " GPUs run out of memory; rank " + std::to_string(first) + " (" + gpu_label(study.cluster, gpu) +
             ") needs " + gib(memory.peak_bytes[shown]) + " GiB of " + gib(memory.capacity_bytes[shown]) + " GiB";
  }
  auto add_nodes = [&](const std::vector<int>& nodes, const std::vector<double>& peak,
                       const std::vector<double>& capacity, const std::string& what, const char* key) {
    if (nodes.empty()) return;
    const auto first = static_cast<std::size_t>(nodes.front());
    if (!reason.empty()) reason += "; ";
    reason += std::to_string(nodes.size()) + " of " + std::to_string(peak.size()) + " nodes run out of " + what +
              "; node " + std::to_string(first) + " needs " + gib(peak[first]) + " GiB of " + gib(capacity[first]) +
              " GiB";
    Json list = Json::array();
    for (int n : nodes) {
      const auto nu = static_cast<std::size_t>(n);
      list.push_back({{"node", n}, {"peak_bytes", peak[nu]}, {"capacity_bytes", capacity[nu]}});
    }
    s[key] = list;
  };
  add_nodes(host_over, memory.host_peak_bytes, memory.host_capacity_bytes, "host memory", "out_of_memory_host");
  add_nodes(nvme_over, memory.nvme_peak_bytes, memory.nvme_capacity_bytes, "NVMe", "out_of_memory_nvme");
  if (plan.memory.min_budget_bytes > 0) {
    // A rematerialization schedule policy knows the least memory its schedules need.
    reason += "; the memory policy needs at least " + gib(plan.memory.min_budget_bytes) +
              " GiB per GPU";
    s["min_memory_per_gpu_bytes"] = plan.memory.min_budget_bytes;
  }
  s["reason"] = reason;
  add_null_performance(s);
  s["model_flops_per_iteration"] = program.metadata.at("model_flops_per_iteration");
  s["peak_memory_bytes"] = memory.peak_bytes;
  s["max_peak_memory_bytes"] = *std::max_element(memory.peak_bytes.begin(), memory.peak_bytes.end());
  s["memory_breakdown_bytes"] = memory.breakdown[shown];
  Json overflow = Json::array();
  for (int r : over) {
    const auto ru = static_cast<std::size_t>(r);
    overflow.push_back({{"rank", r},
                        {"gpu", gpu_label(study.cluster, program.ranks[ru].gpu)},
                        {"peak_memory_bytes", memory.peak_bytes[ru]},
                        {"memory_capacity_bytes", memory.capacity_bytes[ru]},
                        {"memory_breakdown_bytes", memory.breakdown[ru]}});
  }
  s["out_of_memory_gpus"] = overflow;
  s["layout"] = plan.to_json();
  return s;
}

Json make_infeasible_summary(const study::Study& study, const std::string& reason) {
  Json s = base_summary(study, "infeasible");
  s["reason"] = reason;
  add_null_performance(s);
  return s;
}

}  // namespace frugal::metrics
