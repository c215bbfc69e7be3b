// Strict reading of the study's "campaign" object and its resolved (SI) form.
#include "sim/study/campaign_spec.hpp"

#include <algorithm>

namespace frugal::study {
namespace {

using core::ConfigError;
using core::Dimension;
using core::Json;
using core::ObjectReader;

std::vector<std::string> type_names(const platforms::Cluster& cluster) {
  std::vector<std::string> names;
  for (const auto& t : cluster.node_types) names.push_back(t.name);
  return names;
}

Goal read_goal(ObjectReader& r) {
  Goal goal;
  const bool it = r.has("iterations");
  const bool tok = r.has("tokens");
  const bool wall = r.has_quantity("wall_time", Dimension::kTime);
  if (int(it) + int(tok) + int(wall) != 1)
    r.fail_here("give exactly one of \"iterations\", \"tokens\" and \"wall_time\" (got " +
                std::to_string(int(it) + int(tok) + int(wall)) + ")");
  if (it) {
    goal.kind = Goal::Kind::kIterations;
    goal.iterations = r.integer("iterations", 1);
  } else if (tok) {
    goal.kind = Goal::Kind::kTokens;
    goal.tokens = r.number("tokens", 1);
  } else {
    goal.kind = Goal::Kind::kWallTime;
    goal.wall_time_s = r.quantity("wall_time", Dimension::kTime, 1e-9);
  }
  r.finish();
  return goal;
}

const std::vector<std::string> kTransferModes = {"first_per_layout", "always"};

}  // namespace

CampaignSpec read_campaign(const Json& value, const std::string& file, const std::string& pointer,
                           const platforms::Cluster& cluster) {
  ObjectReader r(value, file, pointer);
  CampaignSpec spec;
  spec.file = file;
  spec.pointer = pointer;
  const auto names = type_names(cluster);

  ObjectReader goal = r.object("goal");
  spec.goal = read_goal(goal);

  if (auto availability = r.optional_object("availability")) {
    for (auto it = availability->json().begin(); it != availability->json().end(); ++it) {
      if (std::find(names.begin(), names.end(), it.key()) == names.end())
        availability->fail(it.key(), "unknown node type \"" + it.key() + "\" (" + core::list_valid(names) + ")");
      spec.availability.emplace(it.key(), platforms::read_availability(availability->value(it.key()), file,
                                                                       availability->pointer_of(it.key())));
    }
    availability->finish();
  }

  spec.resilience = r.has("resilience") ? r.value("resilience") : Json::object();
  // Built once here so that every error shows up at load time, with its pointer.
  (void)policies::read_resilience_policy(spec.resilience, file, r.pointer_of("resilience"), &spec.resilience_resolved);

  const bool has_shared = cluster.storage.has_shared;
  const bool has_disk = cluster.storage.has_local_disk();
  std::optional<ObjectReader> checkpoint = r.optional_object("checkpoint");
  if (checkpoint) {
    spec.checkpoint.bytes_per_parameter = checkpoint->number_or("bytes_per_parameter", 14, 1e-6, 1e6);
    spec.checkpoint.size_bytes = checkpoint->quantity_or("size", Dimension::kBytes, 0.0);
    spec.checkpoint.storage =
        checkpoint->choice_or("storage", {"shared", "local_disk"}, has_shared || !has_disk ? "shared" : "local_disk");
    spec.checkpoint.transfers = checkpoint->choice_or("simulate_transfers", kTransferModes, "first_per_layout") == "always"
                                    ? TransferSimulation::kAlways
                                    : TransferSimulation::kFirstPerLayout;
  } else {
    spec.checkpoint.storage = has_shared || !has_disk ? "shared" : "local_disk";
  }
  const bool writes = spec.resilience_resolved.at("checkpoint").at("impl") != "none";
  const bool storage_ok = spec.checkpoint.storage == "shared" ? has_shared : has_disk;
  if (writes && !storage_ok) {
    const std::string where = checkpoint && checkpoint->json().contains("storage") ? checkpoint->pointer_of("storage")
                                                                                  : r.pointer_of("resilience") + "/checkpoint";
    throw ConfigError(file, where,
                      "checkpoints go to " + std::string(spec.checkpoint.storage == "shared" ? "shared storage" : "local disks") +
                          ", but cluster \"" + cluster.name + "\" has no \"storage\": {\"" + spec.checkpoint.storage +
                          "\": ...}");
  }
  if (checkpoint) checkpoint->finish();

  if (auto spares = r.optional_object("spares")) {
    for (auto it = spares->json().begin(); it != spares->json().end(); ++it) {
      if (std::find(names.begin(), names.end(), it.key()) == names.end())
        spares->fail(it.key(), "unknown node type \"" + it.key() + "\" (" + core::list_valid(names) + ")");
      spec.spares[it.key()] = static_cast<int>(spares->integer(it.key(), 0, 1 << 20));
    }
    spares->finish();
  }

  if (r.has_quantity("iteration_time", Dimension::kTime))
    spec.iteration_time_s = r.quantity("iteration_time", Dimension::kTime, 1e-9);
  if (r.has_quantity("horizon", Dimension::kTime)) spec.horizon_s = r.quantity("horizon", Dimension::kTime, 1e-9);
  spec.max_shrink_layouts = static_cast<int>(r.integer_or("max_shrink_layouts", 8, 2, 64));
  if (spec.goal.kind == Goal::Kind::kWallTime && spec.horizon_s > 0 && spec.horizon_s < spec.goal.wall_time_s)
    r.fail("horizon", "horizon (" + std::to_string(spec.horizon_s) + " s) < goal wall_time (" +
                          std::to_string(spec.goal.wall_time_s) + " s)");
  r.finish();
  return spec;
}

policies::ResiliencePolicy CampaignSpec::make_policy() const {
  return policies::read_resilience_policy(resilience, file, pointer + "/resilience");
}

Json CampaignSpec::resolved() const {
  Json goal_json;
  switch (goal.kind) {
    case Goal::Kind::kIterations: goal_json = {{"iterations", goal.iterations}}; break;
    case Goal::Kind::kTokens: goal_json = {{"tokens", goal.tokens}}; break;
    case Goal::Kind::kWallTime: goal_json = {{"wall_time_s", goal.wall_time_s}}; break;
  }
  Json availability_json = Json::object();
  for (const auto& [type, a] : availability) availability_json[type] = a.resolved;
  Json checkpoint_json = {{"bytes_per_parameter", checkpoint.bytes_per_parameter},
                          {"storage", checkpoint.storage},
                          {"simulate_transfers", checkpoint.transfers == TransferSimulation::kAlways ? "always"
                                                                                                     : "first_per_layout"}};
  if (checkpoint.size_bytes > 0) checkpoint_json["size_bytes"] = checkpoint.size_bytes;
  Json spares_json = Json::object();
  for (const auto& [type, n] : spares) spares_json[type] = n;
  Json out = {{"goal", goal_json},
              {"availability", availability_json},
              {"resilience", resilience_resolved},
              {"checkpoint", checkpoint_json},
              {"spares", spares_json},
              {"max_shrink_layouts", max_shrink_layouts}};
  if (iteration_time_s > 0) out["iteration_time_s"] = iteration_time_s;
  if (horizon_s > 0) out["horizon_s"] = horizon_s;
  return out;
}

platforms::Cluster with_spares(const platforms::Cluster& cluster, const CampaignSpec& spec) {
  platforms::Cluster out = cluster;
  for (int t = 0; t < static_cast<int>(out.node_types.size()); ++t) {
    const auto it = spec.spares.find(out.node_types[t].name);
    if (it == spec.spares.end()) continue;
    for (int n = 0; n < it->second; ++n) {
      const core::NodeId node(out.node_count());
      out.node_type_of.push_back(t);
      for (int g = 0; g < out.node_types[t].gpus_per_node; ++g) out.gpus.push_back(platforms::GpuSlot{node, g, t});
    }
  }
  return out;
}

}  // namespace frugal::study
