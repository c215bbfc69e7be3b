// The "campaign" section of a study: a training goal, availability models per node type,
// resilience policies, checkpoint sizing and storage, spare nodes. Read strictly (unknown keys
// are errors naming file and pointer); resolved() is its SI form for config.resolved.json.
// Pure data: no SimGrid. Part of the study (sim/study reads it; sim/campaign runs it, see
// sim/campaign/campaign.hpp), so the study does not depend on the campaign's simulation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "platforms/availability/availability_model.hpp"
#include "platforms/cluster_spec.hpp"
#include "policies/resilience/resilience_policy.hpp"

namespace frugal::study {

/// Exactly one of: a number of iterations, a number of tokens (→ ⌈tokens / tokens per
/// iteration⌉ iterations; the global batch, hence tokens per iteration, is kept on re-plans), or
/// a wall-clock budget (train until then; the result is how far training got).
struct Goal {
  enum class Kind { kIterations, kTokens, kWallTime };
  Kind kind = Kind::kIterations;
  std::int64_t iterations = 0;
  double tokens = 0;
  double wall_time_s = 0;
};

/// How checkpoint, snapshot, peer-replica and reload transfers are simulated. kFirstPerLayout:
/// the first transfer of each kind for each layout runs as SimGrid communications (or disk I/O)
/// and later ones of the same layout reuse its measured duration as a SimGrid timer (same bytes,
/// same routes, same contention: the duration would be the same; this keeps 30-day campaigns on
/// thousands of nodes cheap). kAlways: every transfer is simulated.
enum class TransferSimulation { kFirstPerLayout, kAlways };

struct CheckpointSizing {
  /// Bytes per model parameter in a checkpoint (REFERENCE: 12-14: fp32 master weights + Adam m,
  /// v, optionally a 16-bit copy; gradients are not saved).
  double bytes_per_parameter = 14;
  double size_bytes = 0;             ///< > 0: the whole checkpoint's size, overriding the above
  std::string storage = "shared";    ///< where persistent checkpoints go: "shared" or "local_disk"
  TransferSimulation transfers = TransferSimulation::kFirstPerLayout;
};

struct CampaignSpec {
  Goal goal;
  /// Node type name → its availability (types not listed: always up). Models see every node of
  /// the type, spares included.
  std::map<std::string, platforms::AvailabilitySpec> availability;
  core::Json resilience = core::Json::object();  ///< as given; policies are built per run (stateful)
  core::Json resilience_resolved;                ///< {"checkpoint": {...}, "recovery": {...}} in SI
  std::string file;                              ///< where it was read, for errors raised later
  std::string pointer;
  CheckpointSizing checkpoint;
  std::map<std::string, int> spares;  ///< node type name → extra nodes of that type (spare pool)
  /// > 0: the iteration time of the initial layout, given instead of simulated op by op (no
  /// op-by-op simulation runs; shrunk layouts take iteration_time × d / d'; energy per iteration
  /// is taken at the GPUs' max power). For scale studies and closed-form validation.
  double iteration_time_s = 0;
  /// Simulated time limit; 0: the goal's wall time, else 5 × the failure-free duration + 7 days.
  /// Availability events are drawn up to it; a campaign still short of its goal there ends
  /// with status "horizon_reached".
  double horizon_s = 0;
  int max_shrink_layouts = 8;  ///< most data-parallel sizes simulated op by op for shrink recovery
  std::int64_t max_events = 200000;  ///< most event-log entries before the campaign is refused

  /// Builds a fresh resilience policy (checkpoint + recovery) from the configuration.
  policies::ResiliencePolicy make_policy() const;
  /// SI form; reading it back (read_campaign) gives the same campaign.
  core::Json resolved() const;
};

/// Reads the "campaign" object. `cluster` names the node types (availability, spares) and must
/// describe the storage the checkpoints go to. Errors: ConfigError(file, pointer of the key).
CampaignSpec read_campaign(const core::Json& value, const std::string& file, const std::string& pointer,
                           const platforms::Cluster& cluster);

/// The campaign's sections (/campaign, /campaign/goal, /campaign/resilience,
/// /campaign/checkpoint) with their keys declared once: read_campaign reads through them and
/// docs/reference.md lists them.
const std::vector<core::SectionInfo>& campaign_sections();

/// The cluster with the spare nodes appended (ids after the cluster's own, type by type in
/// name order), which is what the campaign's platform and availability models see.
platforms::Cluster with_spares(const platforms::Cluster& cluster, const CampaignSpec& spec);

}  // namespace frugal::study
