// measurements.json (contract in measurements.hpp).
#include "real_backend/measurements.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "real_backend/stats.hpp"
#include "sim/core/output_files.hpp"
#include "sim/program/trace_events.hpp"

namespace frugal::real {
namespace {

using core::Json;

Json gemm_list(const std::vector<program::Gemm>& gemms) {
  Json out = Json::array();
  for (const program::Gemm& g : gemms) out.push_back(Json::array({g.m, g.n, g.k, g.batch}));
  return out;
}

std::vector<double> rank_iteration_ends(const RankRun& run, int iterations) {
  std::vector<double> ends(static_cast<std::size_t>(iterations), 0.0);
  for (const OpTiming& t : run.timings)
    if (t.iteration >= 0 && t.iteration < iterations)
      ends[static_cast<std::size_t>(t.iteration)] = std::max(ends[static_cast<std::size_t>(t.iteration)], t.end_s);
  for (std::size_t k = 1; k < ends.size(); ++k) ends[k] = std::max(ends[k], ends[k - 1]);
  return ends;
}

std::vector<double> differences(const std::vector<double>& ends) {
  std::vector<double> out(ends.size());
  for (std::size_t k = 0; k < ends.size(); ++k) out[k] = ends[k] - (k == 0 ? 0.0 : ends[k - 1]);
  return out;
}

}  // namespace

Json to_json(const RankRun& run) {
  Json work = Json::array();
  for (const OpWork& w : run.work)
    work.push_back({{"gemms", gemm_list(w.gemms)}, {"synthetic_gemm", w.synthetic_gemm}, {"gemm_flops", w.gemm_flops},
                    {"stream_bytes", w.stream_bytes}, {"bytes", w.bytes}});
  Json timings = Json::array();
  for (const OpTiming& t : run.timings) timings.push_back(Json::array({t.op, t.iteration, t.start_s, t.end_s}));
  Json oom = Json::array();
  for (const OutOfMemoryEvent& e : run.out_of_memory)
    oom.push_back({{"op", e.op}, {"iteration", e.iteration}, {"warmup", e.warmup}, {"buffer", e.buffer},
                   {"requested_bytes", e.requested_bytes}, {"in_use_bytes", e.in_use_bytes},
                   {"capacity_bytes", e.capacity_bytes}, {"detail", e.detail}, {"count", e.count}});
  return Json{{"rank", run.rank},
              {"work", work},
              {"timings", timings},
              {"out_of_memory", oom},
              {"program_peak_bytes", run.program_peak_bytes},
              {"device_peak_bytes", run.device_peak_bytes},
              {"capacity_bytes", run.capacity_bytes},
              {"wall_s", run.wall_s}};
}

RankRun rank_run_from_json(const Json& v) {
  RankRun run;
  run.rank = v.at("rank").get<int>();
  for (const Json& w : v.at("work")) {
    OpWork o;
    for (const Json& g : w.at("gemms"))
      o.gemms.push_back({g[0].get<std::int64_t>(), g[1].get<std::int64_t>(), g[2].get<std::int64_t>(), g[3].get<std::int64_t>()});
    o.synthetic_gemm = w.at("synthetic_gemm").get<bool>();
    o.gemm_flops = w.at("gemm_flops").get<double>();
    o.stream_bytes = w.at("stream_bytes").get<double>();
    o.bytes = w.at("bytes").get<double>();
    run.work.push_back(std::move(o));
  }
  for (const Json& t : v.at("timings"))
    run.timings.push_back({t[0].get<int>(), t[1].get<int>(), t[2].get<double>(), t[3].get<double>()});
  for (const Json& e : v.at("out_of_memory"))
    run.out_of_memory.push_back({e.at("op").get<int>(), e.at("iteration").get<int>(), e.at("warmup").get<bool>(),
                                 e.at("buffer").get<std::string>(), e.at("requested_bytes").get<double>(),
                                 e.at("in_use_bytes").get<double>(), e.at("capacity_bytes").get<double>(),
                                 e.at("detail").get<std::string>(), e.at("count").get<int>()});
  run.program_peak_bytes = v.at("program_peak_bytes").get<double>();
  run.device_peak_bytes = v.at("device_peak_bytes").get<double>();
  run.capacity_bytes = v.at("capacity_bytes").get<double>();
  run.wall_s = v.at("wall_s").get<double>();
  return run;
}

std::vector<double> iteration_times_s(const std::vector<RankRun>& runs, int iterations) {
  std::vector<double> ends(static_cast<std::size_t>(std::max(0, iterations)), 0.0);
  for (const RankRun& run : runs) {
    const auto mine = rank_iteration_ends(run, iterations);
    for (std::size_t k = 0; k < ends.size(); ++k) ends[k] = std::max(ends[k], mine[k]);
  }
  return differences(ends);
}

Json make_measurements(const program::Program& program, const std::vector<RankRun>& runs,
                       const RunDescription& description, const Json& manifest, const Json& checks) {
  const int iterations = description.options.iterations;
  program::TraceBuilder trace;
  Json op_stats = Json::array();
  Json memory = Json::array();
  Json per_rank_times = Json::array();
  bool out_of_memory = false;
  for (const RankRun& run : runs) {
    const program::RankProgram& rp = program.ranks.at(static_cast<std::size_t>(run.rank));
    const int pid = run.rank;
    trace.process(pid, "rank " + std::to_string(pid) + " measured " + description.device, pid);
    trace.stream_tracks(pid, rp);
    // Memory per location as counters, as in the simulator's timeline: the resident buffers from
    // the first op on, then the bytes held after each allocation and free, in the order they ended.
    std::array<double, 3> held{};
    for (const program::Memory& m : rp.resident) held[static_cast<std::size_t>(m.location)] += m.bytes;
    std::vector<const OpTiming*> memory_ops;
    double first_s = run.timings.empty() ? 0.0 : run.timings.front().start_s;
    for (const OpTiming& t : run.timings) {
      first_s = std::min(first_s, t.start_s);
      const auto kind = rp.ops.at(static_cast<std::size_t>(t.op)).kind;
      if (kind == program::OpKind::kAlloc || kind == program::OpKind::kFree) memory_ops.push_back(&t);
    }
    for (std::size_t where = 0; where < held.size(); ++where)
      if (held[where] > 0)
        trace.counter(pid, program::memory_counter_name(static_cast<program::Location>(where)), "bytes", first_s, held[where]);
    std::stable_sort(memory_ops.begin(), memory_ops.end(), [](const OpTiming* a, const OpTiming* b) { return a->end_s < b->end_s; });
    for (const OpTiming* t : memory_ops) {
      const program::Op& op = rp.ops.at(static_cast<std::size_t>(t->op));
      const auto where = static_cast<std::size_t>(op.memory().location);
      held[where] += op.kind == program::OpKind::kAlloc ? op.memory().bytes : -op.memory().bytes;
      trace.counter(pid, program::memory_counter_name(op.memory().location), "bytes", t->end_s, held[where]);
    }
    std::vector<std::vector<double>> durations(rp.ops.size());
    for (const OpTiming& t : run.timings) {
      const program::Op& op = rp.ops.at(static_cast<std::size_t>(t.op));
      const OpWork& w = run.work.at(static_cast<std::size_t>(t.op));
      Json args = {{"iteration", t.iteration}, {"op", t.op}};
      if (op.kind == program::OpKind::kCompute) {
        if (w.gemm_flops > 0) args["flops"] = w.gemm_flops;
        if (w.stream_bytes > 0) args["bytes"] = w.stream_bytes;
      } else if (w.bytes > 0) {
        args["bytes"] = w.bytes;
      }
      // Times on the trace grid; a send (or a receive posted ahead) that overlaps later ops of its
      // stream gets a lane of its own.
      trace.slice(pid, static_cast<int>(op.stream), op.name, program::to_string(op.kind), t.start_s, t.end_s, args,
                  op.runs_detached());
      durations[static_cast<std::size_t>(t.op)].push_back(t.end_s - t.start_s);
    }
    for (std::size_t i = 0; i < rp.ops.size(); ++i) {
      const program::Op& op = rp.ops[i];
      const OpWork& w = run.work[i];
      Json s = {{"rank", pid}, {"op", i}, {"name", op.name}, {"kind", program::to_string(op.kind)},
                {"stream", program::to_string(op.stream)}, {"time_s", to_json(summarize(durations[i]))}};
      if (op.kind == program::OpKind::kCompute) {
        s["gemms"] = gemm_list(w.gemms);
        s["gemm_flops"] = w.gemm_flops;
        s["stream_bytes"] = w.stream_bytes;
        if (w.synthetic_gemm) s["synthetic_gemm"] = true;
      } else {
        s["bytes"] = w.bytes;
      }
      op_stats.push_back(std::move(s));
    }
    Json oom = to_json(run)["out_of_memory"];
    out_of_memory = out_of_memory || !oom.empty();
    memory.push_back({{"rank", pid}, {"capacity_bytes", run.capacity_bytes}, {"program_peak_bytes", run.program_peak_bytes},
                      {"device_peak_bytes", run.device_peak_bytes}, {"out_of_memory", oom}});
    per_rank_times.push_back(differences(rank_iteration_ends(run, iterations)));
  }
  const std::vector<double> times = iteration_times_s(runs, iterations);
  const Summary s = summarize(times);
  const ExecutorOptions& o = description.options;
  return Json{{"format", kMeasurementsFormat},
              {"version", kMeasurementsVersion},
              {"status", out_of_memory ? "out_of_memory" : "ok"},
              {"traceEvents", trace.events()},
              {"displayTimeUnit", "ms"},
              {"otherData", {{"program", description.program_file},
                             {"time_unit", "microseconds"},
                             {"time_tick_us", program::kTraceTickUs},
                             {"source", "frugal-real"}}},
              {"manifest", manifest},
              {"run", {{"program", description.program_file},
                       {"program_metadata", program.metadata},
                       {"ranks", program.ranks.size()},
                       {"device", description.device},
                       {"schedule", to_string(o.schedule)},
                       {"warmup_iterations", o.warmup_iterations},
                       {"iterations", o.iterations},
                       {"scale", o.scale},
                       {"max_buffer_bytes", o.max_buffer_bytes}}},
              {"iterations", {{"time_s", times},
                              {"min_s", s.min},
                              {"median_s", s.median},
                              {"max_s", s.max},
                              {"mean_s", s.mean},
                              {"per_rank_time_s", per_rank_times}}},
              {"ops", op_stats},
              {"memory", memory},
              {"checks", checks}};
}

void write_json_file(const Json& value, const std::filesystem::path& path) {
  core::write_atomically(path, value.dump(1) + "\n");
}

}  // namespace frugal::real
