// The campaign engine: a whole training campaign (weeks of training, failures, preemptions,
// slowdowns, checkpoints, recoveries, re-plans) in ONE SimGrid engine, fast-forwarding whole
// iterations whose duration was simulated op by op beforehand (sim/campaign). Call it at most
// once per process, and never in a process that called simulate(): SimGrid's engine is a
// process singleton. This header hides SimGrid: plain data in, plain data out (the types are in
// sim/engine/control/campaign_types.hpp).
#pragma once

#include "sim/engine/control/campaign_types.hpp"

namespace frugal::engine {

/// Runs the campaign. Contract: setup.layouts[units of initial_nodes] is allowed; events are
/// sorted; policy is non-null. Throws core::InternalError when called twice in one process or
/// when the simulation breaks an invariant; std::invalid_argument for an inconsistent setup.
CampaignResult simulate_campaign(const CampaignSetup& setup);

}  // namespace frugal::engine
