// calibrate and validate commands (see calibration_commands.hpp).
#include "sim/app/calibration_commands.hpp"

#include <cstdio>
#include <stdexcept>
#include <iostream>

#include <boost/program_options.hpp>

#include "platforms/cluster_spec.hpp"
#include "sim/app/command_line.hpp"
#include "sim/calibration/calibration.hpp"
#include "sim/calibration/input_files.hpp"
#include "sim/calibration/nccl_tests.hpp"
#include "sim/core/build_info.hpp"
#include "sim/cost/collective_algorithms.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/program/rank_classes.hpp"

namespace frugal::app {
namespace {

namespace po = boost::program_options;
using core::Json;

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args) {
  std::vector<std::string> benches;
  std::string platform, output, node_type, precision = "fp32", all_reduce = "ring";
  po::options_description opts("calibrate options");
  opts.add_options()("platform", po::value(&platform)->required(), "cluster file or name to calibrate")(
      "output,o", po::value(&output)->required(), "calibrated cluster file to write")(
      "node-type", po::value(&node_type), "only this node type (default: all)")(
      "precision", po::value(&precision), "precision the GEMMs were measured in (efficiency is relative to its peak)")(
      "all-reduce-algorithm", po::value(&all_reduce),
      "algorithm the measured all-reduces ran: ring (default) or nvls (NVLink SHARP, NCCL's choice for large sizes "
      "on NVSwitch nodes from H100 on; measure with NCCL_ALGO set so that every size ran it): nvls fits the "
      "node's nvls_bandwidth instead of its link");
  if (!parse_command_line(args, "frugalsim calibrate BENCH.json|NCCL_TESTS.txt... --platform P.json -o P_CAL.json", opts,
                          {"bench", po::value(&benches), -1}))
    return 0;
  if (benches.empty()) throw po::error("no bench file (run `frugal-real bench -o bench.json` first)");

  const bool is_path = platform.find('/') != std::string::npos || platform.ends_with(".json");
  std::filesystem::path platform_file = platform;
  if (!is_path) {
    const std::filesystem::path file = std::filesystem::path("platforms") / "clusters" / (platform + ".json");
    platform_file = core::find_data_file(file);
    if (platform_file.empty())
      throw core::ConfigError("--platform", "", "unknown cluster \"" + platform + "\" (" +
                                                    core::list_valid(platforms::list_clusters()) +
                                                    ", or a path to a .json file; looked for " + core::searched_for(file) + ")");
  }
  const Json doc = core::load_json_file(platform_file);
  const auto cluster = platforms::read_cluster(doc, platform_file.string(), "", platforms::GpuCatalogue::shipped());
  std::vector<Json> loaded;
  for (const auto& b : benches) {
    const std::string text = core::read_input_file(b);
    loaded.push_back(calibration::is_nccl_tests_output(text) ? calibration::read_nccl_tests(text, b)
                                                             : core::parse_json(text, b));
  }
  // --precision is input: an unknown name, or one the platform's GPU cannot run, is exit 2.
  const auto& gpu = cluster.gpu_spec(0);
  double peak_flops_per_s = 0;
  try {
    peak_flops_per_s = gpu.peak(gpu.runs_as(core::parse_precision(precision)));
  } catch (const std::invalid_argument& e) {
    throw core::ConfigError("--precision", "", e.what());
  }
  calibration::Fit fit;
  try {
    fit = calibration::fit_benches(loaded, benches, peak_flops_per_s, cost::parse_algorithm(all_reduce));
  } catch (const std::invalid_argument& e) {
    throw core::ConfigError("--all-reduce-algorithm", "", e.what());
  }
  const Json calibrated = calibration::apply_fit(doc, fit, benches, node_type);
  // The result must read back as a cluster before it is written.
  (void)platforms::read_cluster(calibrated, output, "", platforms::GpuCatalogue::shipped());
  write_atomically(output, calibrated.dump(2) + "\n");
  std::printf("matmul efficiency %.3f (largest GEMM; 0: none measured), %zu GEMM sizes; memory %.2f GB/s; link alpha %.2f us "
              "beta %.3f GB/s (%s)\n",
              fit.matmul_efficiency, fit.gemm_efficiency.size(), fit.memory_bandwidth_bytes_per_s / 1e9,
              fit.link.alpha_s * 1e6, fit.link.beta_bytes_per_s / 1e9,
              fit.link.from_extremes ? "through the extreme sizes" : ("R2 " + std::to_string(fit.link.r2)).c_str());
  if (fit.nvls.beta_bytes_per_s > 0)
    std::printf("NVLS all-reduce alpha %.2f us beta %.3f GB/s\n", fit.nvls.alpha_s * 1e6, fit.nvls.beta_bytes_per_s / 1e9);
  if (fit.host_link.beta_bytes_per_s > 0)
    std::printf("host link alpha %.2f us beta %.3f GB/s (pinned copies)\n", fit.host_link.alpha_s * 1e6,
                fit.host_link.beta_bytes_per_s / 1e9);
  if (fit.cpu_flops_per_s > 0) std::printf("CPU %.2f GFLOP/s (host compute)\n", fit.cpu_flops_per_s / 1e9);
  std::cout << "calibrated platform: " << output << "\n";
  return 0;
}

int cmd_validate(const std::vector<std::string>& args) {
  std::string platform, program_file, measurements_file, output;
  po::options_description opts("validate options");
  opts.add_options()("platform", po::value(&platform)->required(), "cluster file or name")(
      "program", po::value(&program_file)->required(), "program that was run (frugalsim plan)")(
      "measurements", po::value(&measurements_file)->required(), "frugal-real run output")(
      "output,o", po::value(&output), "report JSON (default: print only)");
  if (!parse_command_line(args, "frugalsim validate --platform P.json --program PROGRAM.json --measurements M.json [-o R.json]",
                          opts))
    return 0;
  const auto cluster = platforms::load_cluster(platform, platforms::GpuCatalogue::shipped());
  const auto prog = program::expand(program::load_program(program_file));
  const Json measured = core::load_json_file(measurements_file);
  calibration::check_measurements_file(measured, measurements_file);
  engine::EngineOptions eo;
  eo.iterations = 1;
  eo.precision = core::parse_precision(prog.metadata.value("precision", "bf16"));
  const auto simulated = engine::simulate(cluster, prog, eo);
  Json report = calibration::compare(prog, simulated, measured);
  report["platform"] = platform;
  report["program"] = program_file;
  report["measurements"] = measurements_file;
  const Json& it = report.at("iteration");
  std::printf("iteration: simulated %.6f s, measured %.6f s, error %+.1f %%\n", it.at("simulated_s").get<double>(),
              it.at("measured_s").get<double>(), 100 * it.at("relative_error").get<double>());
  std::printf("ops compared: %d, MAPE %.1f %% (compute ops %.1f %%)\n", report.at("ops_compared").get<int>(),
              100 * report.at("mape_ops").get<double>(), 100 * report.at("mape_compute_ops").get<double>());
  std::printf("%-6s %-34s %-12s %12s %12s %8s\n", "rank", "op", "kind", "simulated_s", "measured_s", "error");
  int shown = 0;
  for (const Json& row : report.at("ops")) {
    if (shown++ >= 20) break;
    std::printf("%-6d %-34.34s %-12s %12.6f %12.6f %+7.1f%%\n", row.at("rank").get<int>(), row.at("name").get<std::string>().c_str(),
                row.at("kind").get<std::string>().c_str(), row.at("simulated_s").get<double>(), row.at("measured_s").get<double>(),
                100 * row.at("relative_error").get<double>());
  }
  if (!output.empty()) {
    write_atomically(output, report.dump(2) + "\n");
    std::cout << "report: " << output << " (plot: /usr/bin/python3 scripts/plot_validation.py " << output << ")\n";
  }
  return 0;
}

}  // namespace frugal::app
