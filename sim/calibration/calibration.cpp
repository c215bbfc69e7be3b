// Fits of bench measurements, and simulated-vs-measured comparison.
#include "sim/calibration/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "sim/calibration/input_files.hpp"
#include "sim/engine/collectives.hpp"
#include "sim/program/enum_names.hpp"

namespace frugal::calibration {
namespace {

using core::ConfigError;
using core::Json;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// The array `key` of a bench file checked by check_bench_file, empty when the file has no such
/// section (a bench of compute only, say).
const Json& section(const Json& bench, const std::string& key) {
  static const Json kNone = Json::array();
  return bench.contains(key) ? bench.at(key) : kNone;
}

std::string shown(double v) {
  std::ostringstream s;
  s.precision(4);
  s << v;
  return s.str();
}

}  // namespace

AlphaBeta fit_alpha_beta(const std::vector<std::pair<double, double>>& pts) {
  // Weighted least squares with weights 1/y²: the relative error counts, so a latency-bound
  // 1 KiB point weighs as much as a 16 MiB one (an unweighted fit follows the largest sizes
  // alone and can give a negative α).
  AlphaBeta out;
  out.points = static_cast<int>(pts.size());
  if (pts.size() < 2) return out;
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : pts) {
    const double w = y > 0 ? 1.0 / (y * y) : 0.0;
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
  }
  const double det = sw * sxx - sx * sx;
  if (!(det > 0)) return out;
  const double slope = (sw * sxy - sx * sy) / det;
  const double intercept = (sy - slope * sx) / sw;
  out.alpha_s = std::max(0.0, intercept);
  out.beta_bytes_per_s = slope > 0 ? 1.0 / slope : 0;
  double ss_res = 0, ss_tot = 0;
  for (const auto& [x, y] : pts) {
    const double w = y > 0 ? 1.0 / (y * y) : 0.0;
    const double f = out.alpha_s + (slope > 0 ? x * slope : 0);
    ss_res += w * (y - f) * (y - f);
    ss_tot += w * (y - sy / sw) * (y - sy / sw);
  }
  out.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
  return out;
}

AlphaBeta fit_link(const std::vector<std::pair<double, double>>& pts) {
  AlphaBeta out = fit_alpha_beta(pts);
  if (out.beta_bytes_per_s > 0) return out;
  std::map<double, std::vector<double>> by_size;
  for (const auto& [bytes, s] : pts)
    if (bytes > 0 && s > 0) by_size[bytes].push_back(s);
  if (by_size.size() < 2) return out;
  const double s_min = by_size.begin()->first, t_min = median(by_size.begin()->second);
  const double s_max = by_size.rbegin()->first, t_max = median(by_size.rbegin()->second);
  out.beta_bytes_per_s = t_max > t_min ? (s_max - s_min) / (t_max - t_min) : s_max / t_max;
  out.alpha_s = std::max(0.0, t_min - s_min / out.beta_bytes_per_s);
  out.from_extremes = true;
  return out;
}

std::vector<platforms::SizeFactor> fit_size_factors(const std::vector<std::pair<double, double>>& pts,
                                                    const AlphaBeta& line) {
  std::vector<platforms::SizeFactor> factors;
  if (pts.empty() || !(line.beta_bytes_per_s > 0)) return factors;
  const auto clamp = [](double f) { return std::clamp(f, 0.01, 100.0); };
  // Band b holds sizes in [4 KiB · 16^(b−1), 4 KiB · 16^b); band 0 everything below 4 KiB.
  const auto band_of = [](double bytes) {
    int b = 0;
    for (double bound = 4096; bytes >= bound && b < 16; bound *= 16) ++b;
    return b;
  };
  std::map<int, std::vector<std::pair<double, double>>> bands;
  for (const auto& p : pts) bands[band_of(p.first)].push_back(p);
  for (const auto& [b, band] : bands) {
    platforms::SizeFactor f;
    f.from_bytes = factors.empty() ? 0 : (b == 0 ? 0 : 4096 * std::pow(16.0, b - 1));
    std::map<double, std::vector<double>> by_size;
    for (const auto& [bytes, s] : band) by_size[bytes].push_back(s);
    const AlphaBeta own = fit_alpha_beta(band);
    if (by_size.size() >= 2 && own.beta_bytes_per_s > 0) {
      f.latency = line.alpha_s > 0 && own.alpha_s > 0 ? clamp(own.alpha_s / line.alpha_s) : 1.0;
      f.bandwidth = clamp(own.beta_bytes_per_s / line.beta_bytes_per_s);
    } else {
      const double bytes = by_size.begin()->first;
      const double transfer_s = median(by_size.begin()->second) - line.alpha_s;
      f.bandwidth = transfer_s > 0 ? clamp(bytes / line.beta_bytes_per_s / transfer_s) : 1.0;
    }
    const auto close = [](double a, double b) { return std::abs(a - b) <= 0.02 * std::max(a, b); };
    if (!factors.empty() && close(factors.back().latency, f.latency) && close(factors.back().bandwidth, f.bandwidth))
      continue;
    factors.push_back(f);
  }
  return factors;
}

double predicted_collective_s(program::CollectiveKind kind, double bytes, int n, const AlphaBeta& link,
                              const std::vector<platforms::SizeFactor>& factors, program::CollectiveAlgorithm algorithm,
                              double nvls_bytes_per_s) {
  if (n < 2 || !(bytes > 0) || !(link.beta_bytes_per_s > 0)) return 0;
  platforms::LinkSpec spec{link.beta_bytes_per_s, link.alpha_s};
  spec.factors = factors;
  const auto step = [&](double message) {
    const platforms::SizeFactor* f = spec.factor_for(message);
    return link.alpha_s * (f ? f->latency : 1.0) + message / (link.beta_bytes_per_s * (f ? f->bandwidth : 1.0));
  };
  // NVLink SHARP: one trip to the switch and back, as cost::nvls_path prices it for the engine.
  if (algorithm == program::CollectiveAlgorithm::kNvls && kind == program::CollectiveKind::kAllReduce &&
      nvls_bytes_per_s > 0)
    return cost::Path{link.alpha_s, std::min(link.beta_bytes_per_s, nvls_bytes_per_s)}.seconds(bytes);
  cost::GroupShape shape;  // the benchmarked ranks share one node
  shape.members = n;
  return cost::phases_time_s(cost::phases(kind, algorithm, bytes, shape), step);
}

Fit fit_benches(const std::vector<Json>& benches, const std::vector<std::string>& files, double peak_flops_per_s,
                program::CollectiveAlgorithm all_reduce) {
  using program::CollectiveAlgorithm;
  if (all_reduce != CollectiveAlgorithm::kRing && all_reduce != CollectiveAlgorithm::kNvls)
    throw std::invalid_argument("the measured all-reduces must have run \"ring\" or \"nvls\", not \"" +
                                program::to_string(all_reduce) + "\"");
  const bool nvls = all_reduce == CollectiveAlgorithm::kNvls;
  Fit fit;
  std::map<double, std::vector<double>> efficiency;  // GEMM FLOPs → efficiencies seen
  // Point-to-point (S, T) and ring all-reduce steps (S/n, T/(2(n−1))): each a route's α + bytes/β,
  // bytes being one message.
  std::vector<std::pair<double, double>> p2p, ring_steps, nvls_points;
  struct Measured {
    program::CollectiveKind kind;
    int n;
    double bytes, seconds;
  };
  std::vector<Measured> collectives;
  std::map<double, std::vector<double>> memory;  // bytes streamed → bandwidths seen
  std::vector<std::pair<double, double>> copies;  // pinned device ↔ host copies (bytes, median)
  std::map<double, std::vector<double>> host_rates;  // host compute FLOPs → rates seen
  std::vector<double> program_host_rates;            // of the sizes a program's host steps run
  int host_ranks_per_node = 1;
  double largest_stream = 0;
  for (std::size_t b = 0; b < benches.size(); ++b) {
    const Json& bench = benches[b];
    check_bench_file(bench, files[b]);
    for (const Json& g : section(bench, "gemm")) {
      const double flops = g.at("flops").get<double>() / std::max<double>(1, g.value("batch", 1));
      efficiency[flops].push_back(g.at("flops_per_s").get<double>() / peak_flops_per_s);
    }
    for (const Json& c : section(bench, "collectives")) {
      // Two ranks exchanging S bytes: T = α_route + S/β (a route inside a node crosses two links).
      if (c.at("bytes").get<double>() <= 0) continue;
      const auto point = std::make_pair(c.at("bytes").get<double>(), c.at("time_s").at("median").get<double>());
      if (c.at("collective") == "send_recv") {
        p2p.push_back(point);
      } else if (c.at("collective") == "all_reduce" && c.at("group_size") >= 2 && nvls) {
        // NVLink SHARP: every member sends S to the switch and gets the sum back, T = α + S/β.
        nvls_points.push_back(point);
      } else if (c.at("collective") == "all_reduce" && c.at("group_size") >= 2) {
        // A ring all-reduce over n: 2(n−1) steps of S/n bytes, T = 2(n−1)·(α + S/(nβ)).
        const double n = c.at("group_size").get<double>();
        ring_steps.emplace_back(point.first / n, point.second / (2 * (n - 1)));
      }
      bool known = false;
      const auto kind = program::enum_from_string<program::CollectiveKind>(c.at("collective").get<std::string>(), &known);
      if (known) collectives.push_back({kind, c.at("group_size").get<int>(), point.first, point.second});
    }
    for (const Json& m : section(bench, "memory")) {
      largest_stream = std::max(largest_stream, m.at("bytes").get<double>());
      memory[m.at("bytes").get<double>()].push_back(m.at("bandwidth_bytes_per_s").get<double>());
    }
    for (const Json& c : section(bench, "copies"))
      if (c.value("memory", "") == "pinned" && c.at("bytes").get<double>() > 0)
        copies.emplace_back(c.at("bytes").get<double>(), c.at("time_s").at("median").get<double>());
    for (const Json& h : section(bench, "host_compute")) {
      host_rates[h.at("flops").get<double>()].push_back(h.at("flops_per_s").get<double>());
      if (h.value("program", false)) program_host_rates.push_back(h.at("flops_per_s").get<double>());
    }
    if (!section(bench, "host_compute").empty()) {
      // Every rank of the node benchmarked its host compute at once: the node's CPU did local_size times that.
      const Json& launch = bench.at("manifest").value("launch", Json::object());
      host_ranks_per_node = std::max(host_ranks_per_node, launch.value("local_size", 1));
    }
    fit.precision = bench.at("manifest").at("device").value("kind", "cpu") == "cpu" ? "fp32" : "bf16";
  }
  // One GEMM's median time by FLOPs, and the best rate measured.
  std::map<double, double> seconds;
  double best_rate = 0;
  for (const auto& [flops, effs] : efficiency) {
    seconds[flops] = flops / (median(effs) * peak_flops_per_s);
    best_rate = std::max(best_rate, flops / seconds[flops]);
  }
  // Kernel launch: the time at 0 FLOPs of the line through the two smallest sizes (launch-bound,
  // they take about the same time), at most what the smallest takes above the larger of the
  // nominal peak and the best rate measured (its work cannot run faster than that).
  if (seconds.size() >= 2) {
    const auto first = seconds.begin(), second = std::next(first);
    const double f0 = first->first, t0 = first->second, f1 = second->first, t1 = second->second;
    const double intercept = (t0 * f1 - t1 * f0) / (f1 - f0);
    fit.kernel_launch_s = std::clamp(intercept, 0.0, std::max(0.0, t0 - f0 / std::max(peak_flops_per_s, best_rate)));
  }
  // The rate of each GEMM's work alone, f/(t − L), so that one kernel costs L + its work = t,
  // what was measured (noise that leaves a size barely above L is capped at twice the fastest
  // rate above).
  std::map<double, double> work_rate;
  double best = 0;
  const double fastest = 2 * std::max(peak_flops_per_s, best_rate);
  for (const auto& [flops, t] : seconds) {
    work_rate[flops] = flops / std::max(t - fit.kernel_launch_s, flops / fastest);
    best = std::max(best, work_rate[flops] / peak_flops_per_s);
  }
  // Faster than the nominal peak: the peak was too low, not the GEMMs too fast. Clamping at 1
  // would predict every GEMM slower than measured (+20 % on this machine's cores, fp32 OpenBLAS
  // at ~125 GFLOP/s against a nominal 100).
  const double scale = best > 1 ? best : 1.0;
  if (best > 1) fit.peak_flops_per_s = peak_flops_per_s * best;
  for (const auto& [flops, rate] : work_rate) fit.gemm_efficiency.emplace_back(flops, rate / (peak_flops_per_s * scale));
  if (fit.gemm_efficiency.empty() && collectives.empty())
    throw ConfigError(files.front(), "/gemm", "no GEMM measurement in any bench file: run `frugal-real bench --gemm`");
  if (copies.size() >= 2) {
    // α from the line through every size; β from the largest size (the bench's small copies run
    // from the caches, the program's buffers do not).
    fit.host_link = fit_link(copies);
    std::vector<double> largest;
    double largest_bytes = 0;
    for (const auto& [bytes, t] : copies) largest_bytes = std::max(largest_bytes, bytes);
    for (const auto& [bytes, t] : copies)
      if (bytes == largest_bytes && t > fit.host_link.alpha_s) largest.push_back(bytes / (t - fit.host_link.alpha_s));
    if (!largest.empty()) fit.host_link.beta_bytes_per_s = median(largest);
  }
  if (!host_rates.empty())
    fit.cpu_flops_per_s = host_ranks_per_node *
                          median(!program_host_rates.empty() ? program_host_rates : host_rates.rbegin()->second);
  if (!fit.gemm_efficiency.empty()) fit.matmul_efficiency = fit.gemm_efficiency.back().second;
  std::vector<double> streaming;  // out of cache: within a factor 4 of the largest size
  for (const auto& [bytes, bws] : memory) {
    fit.memory_bandwidth_by_size.emplace_back(bytes, median(bws));
    if (bytes >= largest_stream / 4) streaming.insert(streaming.end(), bws.begin(), bws.end());
  }
  fit.memory_bandwidth_bytes_per_s = median(streaming);
  // Without point-to-point figures, the all-reduces' ring steps (a 2-rank bench's, nccl-tests'
  // all_reduce_perf on a node), whose size factors are then per step message as the engine
  // applies them.
  const auto& link_points = p2p.empty() ? ring_steps : p2p;
  fit.link = fit_link(link_points);
  fit.link_factors = fit_size_factors(link_points, fit.link);
  if (!nvls_points.empty()) fit.nvls = fit_link(nvls_points);
  // Collective overheads: the residual of the latency-bound sizes, per kind.
  constexpr double kLatencyBoundBytes = 64 * 1024;
  const auto& kinds = program::enum_names<program::CollectiveKind>();
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    std::vector<double> small, all;
    for (const Measured& m : collectives) {
      if (static_cast<std::size_t>(m.kind) != k || m.n < 2) continue;
      const bool switch_reduced = nvls && m.kind == program::CollectiveKind::kAllReduce;
      if (switch_reduced && !(fit.link.beta_bytes_per_s > 0 && fit.nvls.beta_bytes_per_s > 0)) continue;
      const double residual =
          m.seconds - predicted_collective_s(m.kind, m.bytes, m.n, fit.link, fit.link_factors,
                                             switch_reduced ? CollectiveAlgorithm::kNvls : CollectiveAlgorithm::kRing,
                                             fit.nvls.beta_bytes_per_s);
      all.push_back(residual);
      if (m.bytes <= kLatencyBoundBytes) small.push_back(residual);
    }
    if (all.empty()) continue;
    fit.collective_overhead_s.resize(kinds.size(), 0.0);
    fit.collective_overhead_s[k] = std::max(0.0, median(small.empty() ? all : small));
  }
  return fit;
}

Json apply_fit(const Json& cluster_doc, const Fit& fit, const std::vector<std::string>& files, const std::string& node_type) {
  Json doc = cluster_doc;
  std::string from;
  for (const auto& f : files) from += (from.empty() ? "" : ", ") + f;
  std::ostringstream note;
  note << "Calibrated by frugalsim calibrate from " << from << ": ";
  if (fit.gemm_efficiency.empty())
    note << "no GEMM measured (compute as before)";
  else
    note << "matmul efficiency " << shown(fit.matmul_efficiency) << " (largest GEMM), GEMM efficiency table of "
         << fit.gemm_efficiency.size() << " sizes, kernel launch " << shown(fit.kernel_launch_s * 1e6)
         << " us (from the two smallest GEMMs)";
  if (fit.peak_flops_per_s > 0)
    note << ", " << fit.precision << " peak raised to the best rate measured, " << shown(fit.peak_flops_per_s / 1e9)
         << " GFLOP/s";
  if (fit.memory_bandwidth_bytes_per_s > 0)
    note << ", memory bandwidth " << shown(fit.memory_bandwidth_bytes_per_s / 1e9) << " GB/s out of cache ("
         << fit.memory_bandwidth_by_size.size() << " sizes)";
  if (fit.link.beta_bytes_per_s > 0)
    note << ", intra-node point-to-point alpha " << shown(fit.link.alpha_s * 1e6) << " us beta "
         << shown(fit.link.beta_bytes_per_s / 1e9) << " GB/s ("
         << (fit.link.from_extremes ? "through the extreme sizes, least squares gave no positive slope"
                                    : "R2 " + shown(fit.link.r2))
         << ", " << fit.link.points
         << " sizes, " << fit.link_factors.size() << " size factors)";
  if (fit.nvls.beta_bytes_per_s > 0)
    note << ", NVLS all-reduce alpha " << shown(fit.nvls.alpha_s * 1e6) << " us beta "
         << shown(fit.nvls.beta_bytes_per_s / 1e9) << " GB/s (R2 " << shown(fit.nvls.r2) << ", " << fit.nvls.points
         << " sizes)";
  if (fit.host_link.beta_bytes_per_s > 0)
    note << ", host link alpha " << shown(fit.host_link.alpha_s * 1e6) << " us beta "
         << shown(fit.host_link.beta_bytes_per_s / 1e9) << " GB/s (pinned copies, beta of the largest)";
  if (fit.cpu_flops_per_s > 0) note << ", CPU " << shown(fit.cpu_flops_per_s / 1e9) << " GFLOP/s (host compute)";
  for (std::size_t k = 0; k < fit.collective_overhead_s.size(); ++k)
    if (fit.collective_overhead_s[k] > 0)
      note << ", " << program::enum_names<program::CollectiveKind>().at(k) << " overhead "
           << shown(fit.collective_overhead_s[k] * 1e6) << " us";
  note << ".";
  bool applied = false;
  for (auto it = doc.at("node_types").begin(); it != doc.at("node_types").end(); ++it) {
    if (!node_type.empty() && it.key() != node_type) continue;
    applied = true;
    Json& t = it.value();
    Json gpu = t.at("gpu");
    if (gpu.is_string()) {
      gpu = platforms::to_json(platforms::GpuCatalogue::shipped().get(gpu.get<std::string>()));
    }
    if (fit.peak_flops_per_s > 0) {
      Json& peak = gpu["peak"];
      peak.erase(fit.precision);
      peak[fit.precision + "_flops_per_s"] = fit.peak_flops_per_s;
    }
    if (!fit.gemm_efficiency.empty()) {
      gpu["matmul_efficiency"] = fit.matmul_efficiency;
      gpu["gemm_efficiency"] = fit.gemm_efficiency;  // pairs as [flops, efficiency] rows
      gpu.erase("kernel_launch");
      gpu["kernel_launch_s"] = fit.kernel_launch_s;
    }
    if (fit.memory_bandwidth_bytes_per_s > 0) {
      gpu.erase("hbm_bandwidth");
      gpu["hbm_bandwidth_bytes_per_s"] = fit.memory_bandwidth_bytes_per_s;
      gpu["memory_bandwidth_by_size"] = fit.memory_bandwidth_by_size;
    }
    gpu["source"] = gpu.value("source", std::string()) + (gpu.contains("source") ? " " : "") + note.str();
    t["gpu"] = gpu;
    if (fit.link.beta_bytes_per_s > 0) {
      Json& link = t.at("intra_node");
      for (const char* k : {"bandwidth", "latency"}) link.erase(k);
      link["bandwidth_bytes_per_s"] = fit.link.beta_bytes_per_s;
      link["latency_s"] = fit.link.alpha_s / 2;  // two links per route inside a node
      link.erase("factors");
      if (!fit.link_factors.empty()) link["factors"] = platforms::to_json(fit.link_factors);
    }
    if (fit.nvls.beta_bytes_per_s > 0) {
      Json& link = t.at("intra_node");
      if (link.value("kind", "") != "nvlink")
        throw ConfigError("--all-reduce-algorithm", "",
                          "nvls: node type \"" + it.key() + "\" has no NVLink (intra_node kind \"" +
                              link.value("kind", "") + "\"), so no NVLink SHARP all-reduce");
      link.erase("nvls_bandwidth");
      link["nvls_bandwidth_bytes_per_s"] = fit.nvls.beta_bytes_per_s;
    }
    if (fit.host_link.beta_bytes_per_s > 0) {
      Json& link = t["host_link"];
      for (const char* k : {"bandwidth", "latency", "factors"}) link.erase(k);
      link["bandwidth_bytes_per_s"] = fit.host_link.beta_bytes_per_s;
      link["latency_s"] = fit.host_link.alpha_s;  // a copy crosses one host link
    }
    if (fit.cpu_flops_per_s > 0 && t.contains("cpu")) {
      Json& cpu = t.at("cpu");
      cpu.erase("speed");
      cpu["speed_flops_per_s"] = fit.cpu_flops_per_s;
    }
  }
  for (std::size_t k = 0; k < fit.collective_overhead_s.size(); ++k) {
    Json& overhead = doc["network"]["collective_overhead"];
    if (!overhead.is_object()) overhead = Json::object();
    const std::string& kind = program::enum_names<program::CollectiveKind>().at(k);
    overhead.erase(kind);
    overhead[kind + "_s"] = fit.collective_overhead_s[k];
  }
  if (!applied) throw ConfigError("--node-type", "", "no node type \"" + node_type + "\" in the platform");
  doc["source"] = doc.value("source", std::string()) + (doc.contains("source") ? " " : "") + note.str();
  return doc;
}

Json compare(const program::Program& program, const engine::SimulationResult& simulated, const Json& measurements,
             double min_op_s) {
  // Simulated duration per (rank, op name, occurrence) from the timeline of the last iteration.
  std::map<std::pair<int, std::string>, double> sim_ops;
  const int last = simulated.iterations - 1;
  for (const auto& e : simulated.timeline)
    if (e.iteration == last) sim_ops[{e.rank, e.name}] += e.end_s - e.start_s;
  Json rows = Json::array();
  double abs_sum = 0, abs_compute = 0;
  int n = 0, n_compute = 0;
  for (const Json& op : measurements.at("ops")) {
    const int rank = op.at("rank").get<int>();
    const std::string name = op.at("name").get<std::string>();
    const double measured = op.at("time_s").at("median").get<double>();
    auto it = sim_ops.find({rank, name});
    if (it == sim_ops.end() || measured < min_op_s) continue;
    const double err = (it->second - measured) / measured;
    const std::string kind = op.value("kind", "");
    rows.push_back({{"rank", rank}, {"op", op.value("op", -1)}, {"name", name}, {"kind", kind},
                    {"simulated_s", it->second}, {"measured_s", measured}, {"relative_error", err}});
    abs_sum += std::abs(err);
    ++n;
    if (kind == "compute") {
      abs_compute += std::abs(err);
      ++n_compute;
    }
  }
  const double measured_iter = measurements.at("iterations").at("median_s").get<double>();
  const double simulated_iter = simulated.makespan_s / simulated.iterations;
  return Json{{"iteration", {{"simulated_s", simulated_iter},
                             {"measured_s", measured_iter},
                             {"absolute_error_s", simulated_iter - measured_iter},
                             {"relative_error", (simulated_iter - measured_iter) / measured_iter}}},
              {"ops_compared", n},
              {"mape_ops", n ? abs_sum / n : 0.0},
              {"mape_compute_ops", n_compute ? abs_compute / n_compute : 0.0},
              {"program_ranks", program.ranks.size()},
              {"ops", rows}};
}

}  // namespace frugal::calibration
