// frugalsim collective (see collective_command.hpp): a program of one collective per size on a
// group of the cluster's first GPUs, simulated once, timed from its timeline.
#include "sim/app/collective_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include <boost/program_options.hpp>

#include "sim/app/command_line.hpp"
#include "sim/core/output_files.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/program/enum_names.hpp"

namespace frugal::app {
namespace {

namespace po = boost::program_options;
using core::ConfigError;
using core::Json;
using program::CollectiveKind;

const std::map<std::string, double>& datatypes() {
  static const std::map<std::string, double> types = {{"float", 4}, {"half", 2}, {"bfloat16", 2}, {"double", 8}};
  return types;
}

// nccl-tests' size syntax: an integer with an optional K, M or G suffix (powers of 1024).
double parse_size(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = static_cast<double>(std::stoull(text, &used));
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string suffix = used > 0 ? text.substr(used) : "";
  static const std::map<std::string, double> scale = {{"", 1}, {"K", 1024}, {"M", 1024.0 * 1024}, {"G", 1024.0 * 1024 * 1024}};
  const auto s = scale.find(suffix);
  if (used == 0 || s == scale.end() || value * s->second > 1e15)
    throw ConfigError(option, "", "expected a size in bytes as nccl-tests takes it (8, 64K, 128M, 1G; at most 1e15), got \"" +
                                      text + "\"");
  return value * s->second;
}

CollectiveKind parse_kind(const std::string& name) {
  bool known = false;
  const auto kind = program::enum_from_string<CollectiveKind>(name, &known);
  if (!known) throw ConfigError("--op", "", "unknown collective \"" + name + "\" (" + core::list_valid(program::enum_names<CollectiveKind>()) + ")");
  return kind;
}

bool splits_over_ranks(CollectiveKind k) {
  return k == CollectiveKind::kReduceScatter || k == CollectiveKind::kAllGather || k == CollectiveKind::kAllToAll;
}

template <class... Args>
std::string fmt(const char* format, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, args...);
  return buffer;
}

}  // namespace

double datatype_bytes(const std::string& datatype) {
  const auto it = datatypes().find(datatype);
  if (it == datatypes().end())
    throw ConfigError("--datatype", "", "unknown datatype \"" + datatype + "\" (valid: bfloat16, double, float, half)");
  return it->second;
}

std::vector<double> sweep_sizes(const CollectiveSweep& sweep, int ranks) {
  const double element = datatype_bytes(sweep.datatype);
  const double unit = element * (splits_over_ranks(sweep.kind) ? ranks : 1);
  std::vector<double> sizes;
  for (double size = sweep.min_bytes; size <= sweep.max_bytes; size *= sweep.step_factor) {
    sizes.push_back(std::floor(size / unit) * unit);
    if (size == 0) break;
  }
  return sizes;
}

CollectiveSweepResult simulate_collective_sweep(const platforms::Cluster& cluster, const CollectiveSweep& sweep) {
  CollectiveSweepResult out;
  const int n = out.ranks = sweep.ranks == 0 ? cluster.gpu_count() : sweep.ranks;
  if (n < 2 || n > cluster.gpu_count())
    throw ConfigError("--ranks", "", "expected 2 to " + std::to_string(cluster.gpu_count()) + " ranks (the cluster's GPUs), got " +
                                         std::to_string(n));
  std::vector<int> gpus(static_cast<std::size_t>(n));
  for (int g = 0; g < n; ++g) gpus[static_cast<std::size_t>(g)] = g;
  try {
    out.algorithm = cost::parse_algorithm(sweep.algorithm);
  } catch (const std::invalid_argument& e) {
    throw ConfigError("--algorithm", "", e.what());
  }

  const std::vector<double> sizes = sweep_sizes(sweep, n);
  const cost::GroupShape shape = cost::group_shape(cluster, gpus);
  program::Program prog;
  prog.groups.push_back({"world", {}});
  for (int r = 0; r < n; ++r) prog.groups[0].ranks.emplace_back(r);
  for (int r = 0; r < n; ++r) {
    program::RankProgram rp;
    rp.rank = core::RankId(r);
    rp.gpu = r;
    program::RankBuilder b(rp);
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      program::Collective c{sweep.kind, out.algorithm, 0, static_cast<std::int64_t>(k), sizes[k], core::RankId(0)};
      b.collective(std::to_string(k), c);
    }
    prog.ranks.push_back(std::move(rp));
  }
  program::validate(prog);

  engine::EngineOptions options;
  options.collective_model = sweep.model;
  const engine::SimulationResult result = engine::simulate(cluster, prog, options);
  out.model = result.collective_model;
  std::vector<double> last_end(sizes.size(), 0.0);
  for (const engine::TimelineEvent& e : result.timeline)
    if (e.category == "collective") {
      double& end = last_end[static_cast<std::size_t>(std::stoul(e.name))];
      end = std::max(end, e.end_s);
    }
  const double element = datatype_bytes(sweep.datatype);
  double previous = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    CollectiveRow row;
    row.bytes = sizes[k];
    row.elements = sizes[k] / element;
    row.time_s = last_end[k] - previous;
    previous = last_end[k];
    row.algbw_bytes_per_s = row.time_s > 0 ? row.bytes / row.time_s : 0.0;
    row.busbw_bytes_per_s = row.algbw_bytes_per_s * program::busbw_factor(sweep.kind, n);
    row.algorithm = cost::effective_algorithm(sweep.kind, out.algorithm, sizes[k], shape);
    out.rows.push_back(row);
  }
  return out;
}

int cmd_collective(const std::vector<std::string>& args) {
  CollectiveSweep sweep;
  std::string cluster_name, op = "all_reduce", min_bytes = "8", max_bytes = "128M", model = "auto", output;
  po::options_description opts("collective options (nccl-tests' letters where it has them)");
  opts.add_options()("op", po::value(&op), "all_reduce, reduce_scatter, all_gather, broadcast, all_to_all")(
      "minbytes,b", po::value(&min_bytes), "smallest size (bytes; K, M, G suffixes as nccl-tests), default 8")(
      "maxbytes,e", po::value(&max_bytes), "largest size, default 128M")(
      "stepfactor,f", po::value(&sweep.step_factor), "multiply the size by this between sizes, default 2")(
      "datatype,d", po::value(&sweep.datatype), "float, half, bfloat16, double (the count column), default float")(
      "ranks,n", po::value(&sweep.ranks), "the first N GPUs of the cluster, node-major (default: all)")(
      "algorithm", po::value(&sweep.algorithm), "ring, hierarchical, tree, nvls, auto (per size, NCCL's tuning), default auto")(
      "collectives", po::value(&model), "engine model: step_by_step, aggregate, auto (as /simulation/collectives)")(
      "output,o", po::value(&output), "also write the table as JSON");
  if (!parse_command_line(args, "frugalsim collective CLUSTER [options]", opts, {"cluster", po::value(&cluster_name)}))
    return 0;
  if (cluster_name.empty()) throw po::error("missing CLUSTER (a name from platforms/clusters or a path)");
  sweep.kind = parse_kind(op);
  sweep.min_bytes = parse_size("--minbytes", min_bytes);
  sweep.max_bytes = parse_size("--maxbytes", max_bytes);
  if (sweep.min_bytes > sweep.max_bytes)
    throw ConfigError("--minbytes", "", "minbytes (" + min_bytes + ") > maxbytes (" + max_bytes + ")");
  if (sweep.step_factor < 2 || sweep.step_factor > 1024)
    throw ConfigError("--stepfactor", "", "expected an integer from 2 to 1024, got " + std::to_string(sweep.step_factor));
  (void)datatype_bytes(sweep.datatype);
  try {
    sweep.model = engine::collective_model_from_string(model);
  } catch (const std::invalid_argument& e) {
    throw ConfigError("--collectives", "", e.what());
  }
  const platforms::Cluster cluster = platforms::load_cluster(cluster_name, platforms::GpuCatalogue::shipped(), "", "");
  if (!output.empty()) core::check_output_target(output);

  const CollectiveSweepResult result = simulate_collective_sweep(cluster, sweep);
  const int n = result.ranks;
  const bool reduces = sweep.kind == CollectiveKind::kAllReduce || sweep.kind == CollectiveKind::kReduceScatter;
  const int root = sweep.kind == CollectiveKind::kBroadcast ? 0 : -1;
  std::cout << "# frugalsim collective: " << program::to_string(sweep.kind) << ", " << n << " ranks on " << cluster.name
            << ", algorithm " << program::to_string(result.algorithm) << ", collectives " << engine::to_string(result.model)
            << " (simulated; nccl-tests' out-of-place columns)\n"
            << "#\n"
            << "#       size         count      type   redop    root     time   algbw   busbw  algorithm\n"
            << "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)\n";
  Json json_rows = Json::array();
  double busbw_sum = 0;
  for (const CollectiveRow& r : result.rows) {
    std::cout << fmt("%12.0f  %12.0f  %8s  %6s  %6d  %7.2f  %6.2f  %6.2f  %s\n", r.bytes, r.elements, sweep.datatype.c_str(),
                     reduces ? "sum" : "none", root, r.time_s * 1e6, r.algbw_bytes_per_s / 1e9, r.busbw_bytes_per_s / 1e9,
                     program::to_string(r.algorithm).c_str());
    busbw_sum += r.busbw_bytes_per_s;
    const Json time = {{"median", r.time_s}, {"min", r.time_s}, {"max", r.time_s}};
    json_rows.push_back({{"collective", program::to_string(sweep.kind)}, {"group_size", n}, {"groups", 1},
                         {"bytes", r.bytes}, {"elements", r.elements}, {"type", sweep.datatype}, {"time_s", time},
                         {"algbw_bytes_per_s", r.algbw_bytes_per_s}, {"busbw_bytes_per_s", r.busbw_bytes_per_s},
                         {"busbw_factor", program::busbw_factor(sweep.kind, n)}, {"algorithm", program::to_string(r.algorithm)}});
  }
  std::printf("# Avg bus bandwidth    : %g \n", result.rows.empty() ? 0.0 : busbw_sum / static_cast<double>(result.rows.size()) / 1e9);
  if (!output.empty()) {
    const Json doc = {{"format", "frugalsim-collective"},
                      {"cluster", cluster.name},
                      {"ranks", n},
                      {"algorithm", program::to_string(result.algorithm)},
                      {"collective_model", engine::to_string(result.model)},
                      {"collectives", json_rows}};
    write_atomically(output, doc.dump(2) + "\n");
  }
  return 0;
}

}  // namespace frugal::app
