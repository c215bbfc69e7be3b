// The campaign engine (see campaign_engine.hpp): one SimGrid engine, the platform with the
// nodes' speed changes as speed profiles (the controller plays the down/up events), a storage
// host (or local disks) and a controller host that never fails; then the controller actor (campaign_controller.hpp) runs
// the campaign, deciding through the SimGrid-free state machine (control/campaign_state.hpp).
#include "sim/engine/campaign_engine.hpp"

#include <algorithm>

#include <simgrid/s4u.hpp>

#include "sim/core/error.hpp"
#include "sim/engine/campaign_controller.hpp"
#include "sim/engine/platform_builder.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {

CampaignResult simulate_campaign(const CampaignSetup& setup) {
  if (setup.cluster == nullptr || setup.policy == nullptr)
    throw std::invalid_argument("simulate_campaign: cluster and policy are required");
  const int n_nodes = setup.cluster->node_count();
  const int units = static_cast<int>(setup.initial_nodes.size()) / std::max(setup.unit_nodes, 1);
  if (setup.initial_nodes.empty() || units * setup.unit_nodes != static_cast<int>(setup.initial_nodes.size()) ||
      units >= static_cast<int>(setup.layouts.size()) || !setup.layouts[units].allowed)
    throw std::invalid_argument("simulate_campaign: the initial nodes must form an allowed layout");
  if (!(setup.horizon_s > 0)) throw std::invalid_argument("simulate_campaign: horizon_s must be > 0");
  static bool engine_used = false;
  if (engine_used)
    throw core::InternalError("simulate_campaign() called twice in one process: SimGrid's engine is one per process");
  engine_used = true;

  std::vector<std::string> args = simgrid_arguments("frugalsim-campaign");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine engine(&argc, argv.data());
  configure_network_model();  // the same as simulate()'s

  // Per-node speed profiles from the speed changes, grouped by node first (one pass). Down and
  // up events are the controller's to play: a replacement machine draws new ones mid-run.
  std::vector<std::vector<platforms::AvailabilityEvent>> by_node(n_nodes);
  for (const auto& e : setup.events)
    if (e.node.value >= 0 && e.node.value < n_nodes && e.kind == platforms::AvailabilityKind::kSpeedChange)
      by_node[e.node.value].push_back(e);
  PlatformExtras extras;
  extras.node_speed_profiles.assign(n_nodes, "");
  for (int n = 0; n < n_nodes; ++n)
    if (!by_node[n].empty()) extras.node_speed_profiles[n] = platforms::speed_profile(by_node[n], core::NodeId(n));
  extras.storage = setup.cluster->storage.has_shared && !setup.local_disk;
  extras.local_disks = setup.local_disk;
  extras.controller = true;
  const BuiltPlatform platform = build_platform(*setup.cluster, setup.precision, extras);

  campaign_detail::Controller controller(setup, platform);
  sg4::Actor::create("campaign-controller", platform.controller_host, [&controller]() { controller.run(); });
  engine.run();
  return controller.collect();
}

}  // namespace frugal::engine
