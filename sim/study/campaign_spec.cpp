// Strict reading of the study's "campaign" object, through its declared keys
// (campaign_sections(), also docs/reference.md), and its resolved (SI) form.
#include "sim/study/campaign_spec.hpp"

#include <algorithm>
#include <limits>

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

using core::ParamSpec;
using core::ParamType;
constexpr double kNone = 1e300;  // "no bound" of choices and objects
constexpr double kInf = std::numeric_limits<double>::infinity();

/// An object-valued key, read by its own code; `absent`: what leaving it out means ("": required).
core::SectionKey object_key(std::string name, std::string absent, std::string meaning) {
  return {ParamSpec{std::move(name), ParamType::kObject, {}, Json(), -kNone, kNone, {}, std::move(meaning)},
          std::move(absent)};
}

const core::SectionInfo& campaign_section() {
  static const core::SectionInfo section{
      "/campaign",
      "a whole training campaign: goal, failures, checkpoints, recovery (optional section of a study)",
      {object_key("goal", "", "what the campaign trains for (`/campaign/goal`)"),
       object_key("availability", "every node always up",
                  "node type name → its availability model(s) (family availability); types not listed never fail"),
       object_key("resilience", "all defaults", "checkpoint and recovery policies (`/campaign/resilience`)"),
       object_key("checkpoint", "all defaults", "checkpoint sizing and storage (`/campaign/checkpoint`)"),
       object_key("spares", "no spares", "node type name → spare nodes of that type (integer >= 0)"),
       {ParamSpec{"iteration_time", ParamType::kQuantity, Dimension::kTime, Json(), 1e-9, kInf, {},
                  "iteration time of the initial layout, given instead of simulated op by op"},
        "simulated op by op"},
       {ParamSpec{"horizon", ParamType::kQuantity, Dimension::kTime, Json(), 1e-9, kInf, {},
                  "simulated time limit (>= the goal's wall_time)"},
        "the goal's wall_time, else 5 × the failure-free duration + 7 days"},
       ParamSpec{"max_shrink_layouts", ParamType::kInteger, {}, 8, 2, 64, {},
                 "most data-parallel sizes simulated op by op for shrink recovery"},
       ParamSpec{"max_events", ParamType::kInteger, {}, 200000, 1, 1e9, {},
                 "most entries of the campaign's event log (failures, restarts, checkpoints, decisions: events.json); "
                 "beyond it the study is refused (exit 2) with the rates that led there, instead of running for "
                 "minutes on absurd rates (an MTBF of seconds over months)"}}};
  return section;
}

const core::SectionInfo& goal_section() {
  static const core::SectionInfo section{
      "/campaign/goal",
      "exactly one of iterations, tokens and wall_time",
      {{ParamSpec{"iterations", ParamType::kInteger, {}, Json(), 1, kInf, {}, "train this many iterations"}, "one of three"},
       {ParamSpec{"tokens", ParamType::kNumber, {}, Json(), 1, kInf, {},
                  "train this many tokens (⌈tokens / tokens per iteration⌉ iterations)"},
        "one of three"},
       {ParamSpec{"wall_time", ParamType::kQuantity, Dimension::kTime, Json(), 1e-9, kInf, {},
                  "train until this much time has passed; the result is how far training got"},
        "one of three"}}};
  return section;
}

const core::SectionInfo& resilience_section() {
  static const core::SectionInfo section{
      "/campaign/resilience",
      "the resilience policies",
      {object_key("checkpoint", "{\"impl\": \"none\"}", "the checkpoint policy (family checkpoint)"),
       object_key("recovery", "{\"impl\": \"restart\"}", "the recovery policy (family recovery)")}};
  return section;
}

const std::vector<std::string> kTransferModes = {"first_per_layout", "always"};

const core::SectionInfo& checkpoint_section() {
  static const core::SectionInfo section{
      "/campaign/checkpoint",
      "checkpoint sizing, storage and how its transfers are simulated",
      {ParamSpec{"bytes_per_parameter", ParamType::kNumber, {}, 14.0, 1e-6, 1e6, {},
                 "checkpoint bytes per model parameter (fp32 master weights + Adam m, v: 12-14)"},
       ParamSpec{"size", ParamType::kQuantity, Dimension::kBytes, 0.0, 0, kInf, {},
                 "the whole checkpoint's size; > 0 overrides bytes_per_parameter"},
       {ParamSpec{"storage", ParamType::kChoice, {}, Json(), -kNone, kNone, {"shared", "local_disk"},
                  "where persistent checkpoints go (the cluster must describe that storage)"},
        "shared, or local_disk when the cluster has local disks and no shared storage"},
       ParamSpec{"simulate_transfers", ParamType::kChoice, {}, "first_per_layout", -kNone, kNone, kTransferModes,
                 "first_per_layout: the first transfer of each kind per layout is simulated, later ones reuse its "
                 "duration; always: every transfer"}}};
  return section;
}

Goal read_goal(ObjectReader& r) {
  Goal goal;
  const bool it = r.has("iterations");
  const bool tok = r.has("tokens");
  const bool wall = r.has_quantity("wall_time", Dimension::kTime);
  if (int(it) + int(tok) + int(wall) != 1)
    r.fail_here("give exactly one of \"iterations\", \"tokens\" and \"wall_time\" (got " +
                std::to_string(int(it) + int(tok) + int(wall)) + ")");
  const auto keys = core::read_section(r, goal_section());
  if (it) {
    goal.kind = Goal::Kind::kIterations;
    goal.iterations = keys.integer("iterations");
  } else if (tok) {
    goal.kind = Goal::Kind::kTokens;
    goal.tokens = keys.number("tokens");
  } else {
    goal.kind = Goal::Kind::kWallTime;
    goal.wall_time_s = keys.number("wall_time");
  }
  r.finish();
  return goal;
}

}  // namespace

const std::vector<core::SectionInfo>& campaign_sections() {
  static const std::vector<core::SectionInfo> sections = {campaign_section(), goal_section(), resilience_section(),
                                                         checkpoint_section()};
  return sections;
}

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
    const auto keys = core::read_section(*checkpoint, checkpoint_section());
    spec.checkpoint.bytes_per_parameter = keys.number("bytes_per_parameter");
    spec.checkpoint.size_bytes = keys.number("size");
    spec.checkpoint.storage = keys.has("storage") ? keys.string("storage") : has_shared || !has_disk ? "shared" : "local_disk";
    spec.checkpoint.transfers = keys.string("simulate_transfers") == "always" ? TransferSimulation::kAlways
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

  const auto keys = core::read_section(r, campaign_section());
  if (keys.has("iteration_time")) spec.iteration_time_s = keys.number("iteration_time");
  if (keys.has("horizon")) spec.horizon_s = keys.number("horizon");
  spec.max_shrink_layouts = static_cast<int>(keys.integer("max_shrink_layouts"));
  spec.max_events = keys.integer("max_events");
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
              {"max_shrink_layouts", max_shrink_layouts},
              {"max_events", max_events}};
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
