// timeline.json: the run as a Chrome trace (opens in Perfetto, chrome://tracing, speedscope):
// one process per rank with a track per stream, memory per location as counters, and for a
// campaign a "campaign" process whose iteration sits where training starts. Times are on the
// exact grid of sim/program/trace_events.hpp, so no slice overlaps the next on its track.
#pragma once

#include "sim/campaign/campaign.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/study/study.hpp"

namespace frugal::metrics {

/// Process id of the campaign's tracks ("job", "checkpoints", "events").
inline constexpr int kCampaignPid = 1000000;

/// The simulated ops; each GPU's process is named with its rank, its coordinates in the plan's
/// layout and its GPU. Alloc and free ops are samples of the counters "device memory", "host
/// memory", "nvme memory" (bytes the rank holds there, resident buffers included).
core::Json make_timeline(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                         const engine::SimulationResult& result);

/// A campaign's timeline: the campaign's phases and events at campaign time, and the op-by-op
/// iteration (when simulated) shifted to the start of the first training phase.
core::Json make_campaign_timeline(const study::Study& study, const policies::Plan& plan,
                                  const program::Program& program, const campaign::CampaignOutcome& outcome);

}  // namespace frugal::metrics
