// timeline.json of a run and of a campaign (see timeline.hpp).
#include "sim/metrics/timeline.hpp"

#include <algorithm>
#include <map>

#include "sim/metrics/summary.hpp"
#include "sim/program/trace_events.hpp"

namespace frugal::metrics {
namespace {

using core::Json;

std::string memory_counter(int location) { return program::memory_counter_name(static_cast<program::Location>(location)); }

/// The ranks' processes, tracks, op slices and memory counters, `offset_s` later than simulated.
void add_iteration(program::TraceBuilder& trace, const study::Study& study, const policies::Plan& plan,
                   const program::Program& program, const engine::SimulationResult& result, double offset_s) {
  std::map<int, std::map<int, double>> resident;  // rank → location → bytes held from the start
  for (const auto& rp : program.ranks) {
    const auto pid = rp.rank.value;
    // "rank 5 (tp1 dp2 pp0) node0/gpu5 A100": the dimensions of the layout that are not 1.
    std::string name = "rank " + std::to_string(pid);
    std::string coords;
    const policies::Coord c = plan.coord(rp.rank);
    for (const policies::Dim d : plan.layout.order())
      if (plan.layout.size(d) > 1)
        coords += (coords.empty() ? "" : " ") + std::string(policies::dim_short(d)) + std::to_string(c[d]);
    if (!coords.empty()) name += " (" + coords + ")";
    trace.process(pid, name + " " + gpu_label(study.cluster, rp.gpu), pid);
    trace.stream_tracks(pid, rp);
    for (const program::Memory& m : rp.resident) resident[pid][static_cast<int>(m.location)] += m.bytes;
  }
  for (const auto& [rank, locations] : resident)
    for (const auto& [location, bytes] : locations) trace.counter(rank, memory_counter(location), "bytes", offset_s, bytes);
  for (const auto& e : result.timeline) {
    if (e.memory_location >= 0) {
      trace.counter(e.rank, memory_counter(e.memory_location), "bytes", offset_s + e.end_s, e.memory_bytes);
      continue;
    }
    Json args = {{"iteration", e.iteration}};
    if (e.flops > 0) args["flops"] = e.flops;
    if (e.bytes > 0) args["bytes"] = e.bytes;
    // A send or a receive posted ahead completes in the background while its stream moves on.
    trace.slice(e.rank, static_cast<int>(e.stream), e.name, e.category, offset_s + e.start_s, offset_s + e.end_s,
                std::move(args), e.background);
  }
}

}  // namespace

Json make_timeline(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                   const engine::SimulationResult& result) {
  program::TraceBuilder trace;
  add_iteration(trace, study, plan, program, result, 0.0);
  return program::trace_document(trace.events(), {{"study", study.name}});
}

Json make_campaign_timeline(const study::Study& study, const policies::Plan& plan, const program::Program& program,
                            const campaign::CampaignOutcome& o) {
  program::TraceBuilder trace;
  trace.process(kCampaignPid, "campaign", -1);
  const std::vector<std::string> tracks = {"job", "checkpoints", "events"};
  for (std::size_t t = 0; t < tracks.size(); ++t) trace.track(kCampaignPid, static_cast<int>(t), tracks[t]);
  double training_start_s = 0;
  bool found = false;
  for (const auto& p : o.result.phases) {
    if (!found && p.track == "job" && p.name == "training") {
      training_start_s = p.start_s;
      found = true;
    }
    trace.slice(kCampaignPid, p.track == "checkpoints" ? 1 : 0, p.name, "campaign", p.start_s, p.end_s, p.args);
  }
  for (const auto& e : o.result.events) {
    const std::string kind = e.at("event").get<std::string>();
    if (kind != "failure" && kind != "rollback" && kind != "replan" && kind != "node_down" && kind != "node_up" &&
        kind != "preempt_notice" && kind != "slowdown")
      continue;
    trace.instant(kCampaignPid, 2, kind, "campaign", e.at("time_s").get<double>(), e, "p");
  }
  Json other = {{"study", study.name}};
  if (o.iteration) {
    add_iteration(trace, study, plan, program, *o.iteration, training_start_s);
    other["iteration_start_s"] = training_start_s;
  }
  return program::trace_document(trace.events(), other);
}

}  // namespace frugal::metrics
