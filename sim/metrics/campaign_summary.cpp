// Campaign outputs: summary keys and events.json (see campaign_summary.hpp).
#include "sim/metrics/campaign_summary.hpp"


namespace frugal::metrics {
namespace {

using core::Json;

Json layout_json(const engine::CampaignLayout& l, const campaign::CampaignOutcome& o) {
  Json j = {{"data_parallel_units", l.units},
            {"nodes", l.units * o.unit_nodes},
            {"data_parallel_size", l.data_parallel},
            {"allowed", l.allowed},
            {"origin", l.origin}};
  if (l.memory_capacity_bytes > 0) {
    j["peak_memory_bytes"] = l.peak_memory_bytes;
    j["memory_capacity_bytes"] = l.memory_capacity_bytes;
  }
  if (l.allowed) {
    j["iteration_time_s"] = l.iteration_s;
    j["energy_j_per_iteration"] = l.energy_j_per_iteration;
  }
  if (!l.note.empty()) j["note"] = l.note;
  return j;
}

Json costs_json(const engine::LayoutCosts& c) {
  auto v = [](double x) { return x < 0 ? Json() : Json(x); };
  return Json{{"checkpoint_s", v(c.checkpoint_s)}, {"snapshot_s", v(c.snapshot_s)}, {"persist_s", v(c.persist_s)},
              {"peer_checkpoint_s", v(c.peer_s)},  {"reload_s", v(c.reload_s)},     {"peer_reload_s", v(c.peer_reload_s)}};
}

}  // namespace

std::string events_fingerprint(const Json& events) { return campaign::fingerprint(events); }

Json make_given_iteration_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                                  const MemoryCheck& memory,
                                  const campaign::CampaignOutcome& outcome) {
  const double t = outcome.layouts.at(outcome.initial_units).iteration_s;
  const double samples = static_cast<double>(study.training.global_batch_size);
  const double tokens = samples * static_cast<double>(study.training.seq_length);
  const double model_flops = program.metadata.at("model_flops_per_iteration").get<double>();
  double peak_sum = 0;
  for (const auto& rp : program.ranks) {
    const auto& spec = study.cluster.gpu_spec(rp.gpu);
    peak_sum += spec.peak(spec.runs_as(study.training.precision));
  }
  const double n = static_cast<double>(program.ranks.size());
  const double energy = outcome.layouts.at(outcome.initial_units).energy_j_per_iteration;
  Json s = {{"status", "ok"},
            {"study", study.name},
            {"model", study.model.name},
            {"cluster", study.cluster.name},
            {"gpus", study.cluster.gpu_count()},
            {"seed", study.seed},
            {"iterations", 0},
            {"iteration_source", "given (campaign.iteration_time): no op-by-op simulation"},
            {"samples_per_iteration", samples},
            {"tokens_per_iteration", tokens},
            {"iteration_time_s", t},
            {"tokens_per_s", tokens / t},
            {"samples_per_s", samples / t},
            {"model_flops_per_iteration", model_flops},
            {"mfu", model_flops / (t * peak_sum)},
            {"tflops_per_gpu", model_flops / t / n / 1e12},
            {"compute_s", nullptr},
            {"communication_s", nullptr},
            {"exposed_communication_s", nullptr},
            {"copy_s", nullptr},
            {"exposed_copy_s", nullptr},
            {"peak_memory_bytes", memory.peak_bytes},
            {"max_peak_memory_bytes", *std::max_element(memory.peak_bytes.begin(), memory.peak_bytes.end())},
            {"energy_j_per_iteration", energy},
            {"energy_j_per_token", energy / tokens},
            {"layout", plan.to_json()}};
  return s;
}

void add_campaign_summary(Json& s, const study::Study& study, const campaign::CampaignOutcome& o) {
  const engine::CampaignResult& r = o.result;
  const platforms::Cluster& cluster = o.cluster;
  const double wall = r.wall_clock_s;

  // GPU-hours and cost: every node of the job's pool (spares included) while it is up.
  std::vector<double> up_gpu_s(cluster.node_types.size(), 0.0);
  for (int n = 0; n < cluster.node_count(); ++n) {
    const auto& type = cluster.type_of_node(core::NodeId(n));
    up_gpu_s[cluster.node_type_of[n]] += r.node_up_s.at(n) * type.gpus_per_node;
  }
  double gpu_hours = 0, cost = 0, idle_j = 0;
  bool priced = true;
  Json by_type = Json::object();
  for (std::size_t t = 0; t < cluster.node_types.size(); ++t) {
    const auto& type = cluster.node_types[t];
    const double hours = up_gpu_s[t] / 3600.0;
    gpu_hours += hours;
    if (hours > 0 && !type.has_price) priced = false;
    cost += hours * type.billed_price_per_gpu_hour();
    // GPUs up but not training (checkpoints, restarts, waits, spares) draw idle power.
    const double idle_gpu_s = std::max(0.0, up_gpu_s[t] - r.training_gpu_s_by_type.at(t));
    idle_j += idle_gpu_s * type.gpu.idle_power_w;
    by_type[type.name] = {{"gpu_hours", hours},
                          {"training_gpu_hours", r.training_gpu_s_by_type.at(t) / 3600.0},
                          {"price_per_gpu_hour", type.has_price ? Json(type.billed_price_per_gpu_hour()) : Json()},
                          {"billed_as", type.spot ? "spot" : "on_demand"}};
  }

  s["wall_clock_s"] = wall;
  s["ettr"] = wall > 0 ? r.useful_s / wall : 0.0;
  s["goodput_tokens_per_s"] = wall > 0 ? static_cast<double>(r.iterations) * o.tokens_per_iteration / wall : 0.0;
  s["lost_work_s"] = r.lost_work_s;
  s["checkpoint_s"] = r.checkpoint_s;
  s["restart_s"] = r.restart_s;
  s["downtime_s"] = r.downtime_s;
  s["failures"] = r.failures;
  s["restarts"] = r.restarts;
  s["replans"] = r.replans;
  s["gpu_hours"] = gpu_hours;
  s["cost"] = priced ? Json(cost) : Json();
  s["energy_j"] = r.training_energy_j + idle_j;

  Json layouts = Json::array();
  for (std::size_t u = 1; u < o.layouts.size(); ++u)
    if (o.layouts[u].units > 0) layouts.push_back(layout_json(o.layouts[u], o));
  Json costs = Json::object();
  for (const auto& [units, c] : r.costs) costs[std::to_string(units)] = costs_json(c);
  const auto& initial_costs = r.costs.count(o.initial_units) ? r.costs.at(o.initial_units) : engine::LayoutCosts{};
  Json spares = Json::object();
  for (const auto& [type, n] : study.campaign->spares) spares[type] = n;
  s["campaign"] = {
      {"status", r.status},
      {"goal_iterations", o.goal_iterations > 0 ? Json(o.goal_iterations) : Json()},
      {"iterations", r.iterations},
      {"iterations_executed", r.iterations_executed},
      {"tokens", static_cast<double>(r.iterations) * o.tokens_per_iteration},
      {"useful_s", r.useful_s},
      {"horizon_s", o.horizon_s},
      {"checkpoints", r.checkpoints},
      {"peer_checkpoints", r.peer_checkpoints},
      {"checkpoints_aborted", r.checkpoints_aborted},
      {"checkpoint_bytes", o.checkpoint_bytes},
      {"checkpoint_write_s", initial_costs.checkpoint_s < 0 ? Json() : Json(initial_costs.checkpoint_s)},
      {"training_energy_j", r.training_energy_j},
      {"idle_energy_j", idle_j},
      {"by_node_type", by_type},
      {"job_nodes", static_cast<int>(o.initial_nodes.size())},
      {"nodes_per_replica_group", o.unit_nodes},
      {"data_parallel_units", o.initial_units},
      {"spares", spares},
      {"layouts", layouts},
      {"measured_costs", costs},
      {"availability_events", o.availability_events},
      {"simulated_activities", r.activities},
      {"events_fingerprint", o.events_fingerprint},
  };
}

Json make_campaign_events(const study::Study& study, const campaign::CampaignOutcome& o) {
  return Json{{"study", study.name},
              {"seed", study.seed},
              {"fingerprint", o.events_fingerprint},
              {"events", o.result.events}};
}

}  // namespace frugal::metrics
