// Outputs of a campaign (definitions in results/README.md, "Campaign"): summary keys and the event
// log events.json (its timeline is timeline.hpp's). Deterministic: same study and seed,
// byte-identical outputs.
#pragma once

#include "sim/campaign/campaign.hpp"
#include "sim/metrics/summary.hpp"

namespace frugal::metrics {

/// summary.json of a campaign whose iteration time was given (campaign.iteration_time): the
/// per-iteration keys come from that time; op-by-op keys (compute, communication, memory per
/// GPU from the simulation) are null, the static memory check's peaks are kept.
core::Json make_given_iteration_summary(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                                        const MemoryCheck& memory, const campaign::CampaignOutcome& outcome);

/// Adds the campaign keys to `summary` (top level: wall_clock_s, ettr, goodput_tokens_per_s,
/// lost_work_s, checkpoint_s, restart_s, downtime_s, failures, restarts, replans, gpu_hours,
/// cost, energy_j; and a "campaign" object with the details).
void add_campaign_summary(core::Json& summary, const study::Study& study, const campaign::CampaignOutcome& outcome);

/// events.json: {"study", "seed", "fingerprint", "events": [...]}.
core::Json make_campaign_events(const study::Study& study, const campaign::CampaignOutcome& outcome);

/// FNV-1a 64-bit hash of the event log's JSON text, as 16 hex digits (golden-run fingerprint).
std::string events_fingerprint(const core::Json& events);

}  // namespace frugal::metrics
