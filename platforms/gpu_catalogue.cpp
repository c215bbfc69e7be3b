// GPU catalogue: strict reading of GPU objects (platforms/gpus.json and GPUs inlined in cluster
// files), their resolved JSON form, and where shipped platform data lives. Pure data: no SimGrid.
#include "platforms/gpu_catalogue.hpp"
#include "platforms/platform_keys.hpp"
#include "sim/core/build_info.hpp"
#include "sim/core/input_files.hpp"

#include <cmath>

#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace frugal::platforms {
namespace {

using core::Dimension;
using core::ObjectReader;
using core::Precision;

std::string precision_list(const std::map<Precision, double>& peaks) {
  std::string out;
  for (const auto& [p, rate] : peaks) {
    if (!out.empty()) out += ", ";
    out += core::to_string(p);
  }
  return out;
}

bool is_precision_name(const std::string& name) {
  for (const std::string& p : core::precision_names())
    if (p == name) return true;
  return false;
}

/// Precision named by a key of "peak": "bf16" or "bf16_flops_per_s".
std::optional<std::string> precision_of_peak_key(const std::string& key) {
  const std::string suffix(core::si_suffix(Dimension::kFlopRate));
  std::string stem = key;
  if (stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0)
    stem.resize(stem.size() - suffix.size());
  if (is_precision_name(stem)) return stem;
  return std::nullopt;
}

std::string shown(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

/// Linear in log(x) between the rows of a table sorted by x; clamped at its ends.
double interpolate_log(const std::vector<std::pair<double, double>>& table, double x) {
  if (x <= table.front().first) return table.front().second;
  if (x >= table.back().first) return table.back().second;
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto& [x1, y1] = table[i];
    if (x > x1) continue;
    const auto& [x0, y0] = table[i - 1];
    const double w = (std::log(x) - std::log(x0)) / (std::log(x1) - std::log(x0));
    return y0 + w * (y1 - y0);
  }
  return table.back().second;
}

/// Reads an optional table of [x, y] rows, x > 0 increasing, 0 < y <= max_y.
std::vector<std::pair<double, double>> read_table(ObjectReader& reader, const std::string& key, double max_y,
                                                  const std::string& expected) {
  std::vector<std::pair<double, double>> out;
  if (!reader.has(key)) return out;
  const core::Json& table = reader.array(key);
  for (std::size_t i = 0; i < table.size(); ++i) {
    const core::Json& row = table[i];
    const bool ok = row.is_array() && row.size() == 2 && row[0].is_number() && row[1].is_number() &&
                    row[0].get<double>() > 0 && row[1].get<double>() > 0 && row[1].get<double>() <= max_y &&
                    (out.empty() || row[0].get<double>() > out.back().first);
    if (!ok) throw core::ConfigError(reader.file(), reader.pointer_of(key) + "/" + std::to_string(i), "expected " + expected);
    out.emplace_back(row[0].get<double>(), row[1].get<double>());
  }
  return out;
}

/// Reads an optional "gemm_shape" object.
GemmShapeModel read_gemm_shape(ObjectReader& reader) {
  GemmShapeModel model;
  auto shape = reader.optional_object("gemm_shape");
  if (!shape) return model;
  model.sms = static_cast<int>(shape->integer("sms", 1, 1 << 16));
  model.k_overhead = shape->number_or("k_overhead", 0.0, 0.0, 1e9);
  model.max_split_k = static_cast<int>(shape->integer_or("max_split_k", 1, 1, 64));
  const core::Json& tiles = shape->array("tiles");
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const core::Json& row = tiles[i];
    const bool ok = row.is_array() && row.size() == 3 && row[0].is_number_integer() && row[1].is_number_integer() &&
                    row[2].is_number() && row[0].get<std::int64_t>() > 0 && row[1].get<std::int64_t>() > 0 &&
                    row[2].get<double>() > 0 && row[2].get<double>() <= 1;
    if (!ok)
      throw core::ConfigError(shape->file(), shape->pointer_of("tiles") + "/" + std::to_string(i),
                              "expected [tile m > 0, tile n > 0 (integers), efficiency in (0, 1]]");
    model.tiles.push_back({row[0].get<std::int64_t>(), row[1].get<std::int64_t>(), row[2].get<double>()});
  }
  if (model.tiles.empty()) shape->fail("tiles", "at least one tile is required");
  finish_declared(*shape, PlatformObject::kGemmShape);
  return model;
}

core::Json table_json(const std::vector<std::pair<double, double>>& table) {
  core::Json out = core::Json::array();
  for (const auto& [x, y] : table) out.push_back({x, y});
  return out;
}

}  // namespace

double GpuSpec::peak(Precision p) const {
  auto it = peak_flops_per_s.find(p);
  if (it != peak_flops_per_s.end()) return it->second;
  std::string message = "GPU \"" + name + "\" does not support " + core::to_string(p) +
                        " (it has: " + precision_list(peak_flops_per_s) + ")";
  auto fb = fallback.find(p);
  if (fb != fallback.end())
    message += "; its catalogue entry runs " + core::to_string(p) + " as " + core::to_string(fb->second) +
               ": use runs_as(" + core::to_string(p) + ")";
  throw std::invalid_argument(message);
}

double GpuSpec::matmul_efficiency_of(Precision p) const {
  return p == Precision::kFp8 && matmul_efficiency_fp8 > 0 ? matmul_efficiency_fp8 : matmul_efficiency;
}

double GpuSpec::effective_flops_per_s(Precision p) const { return peak(p) * matmul_efficiency_of(p); }

double GpuSpec::gemm_efficiency_at(double flops) const {
  return gemm_efficiency.empty() ? matmul_efficiency : interpolate_log(gemm_efficiency, flops);
}

double GpuSpec::memory_bandwidth_at(double bytes) const {
  return memory_bandwidth_by_size.empty() ? hbm_bandwidth_bytes_per_s : interpolate_log(memory_bandwidth_by_size, bytes);
}

bool GpuSpec::runs_fused_attention(Precision p) const {
  if (!supports(Precision::kBf16) || !(supports(p) || fallback.count(p))) return false;
  const Precision runs = runs_as(p);
  return runs == Precision::kBf16 || runs == Precision::kFp16 || runs == Precision::kFp8;
}

Precision GpuSpec::runs_as(Precision p) const {
  if (supports(p)) return p;
  auto fb = fallback.find(p);
  if (fb != fallback.end()) return fb->second;
  throw std::invalid_argument("GPU \"" + name + "\" supports neither " + core::to_string(p) +
                              " nor a fallback for it (it has: " + precision_list(peak_flops_per_s) +
                              ")");
}

GpuSpec read_gpu(ObjectReader& reader, const std::string& name) {
  GpuSpec gpu;
  gpu.name = name;
  if (reader.has("name") && reader.string("name") != name)
    reader.fail("name", "\"" + reader.json().at("name").get<std::string>() + "\" differs from the GPU's key \"" +
                            name + "\"");
  gpu.description = reader.string_or("description", "");
  gpu.source = reader.string_or("source", "");

  // Peaks: every key must name a precision; report unknown ones with the valid names rather
  // than the generic unknown-key list (which would also show the *_flops_per_s spellings).
  ObjectReader peak = reader.object("peak");
  for (auto it = peak.json().begin(); it != peak.json().end(); ++it) {
    if (!precision_of_peak_key(it.key()))
      peak.fail(it.key(), "unknown precision \"" + it.key() + "\" (" + core::list_valid(core::precision_names()) +
                              ")");
  }
  for (const std::string& pname : core::precision_names()) {
    if (peak.has_quantity(pname, Dimension::kFlopRate))
      gpu.peak_flops_per_s[core::parse_precision(pname)] = peak.positive_quantity(pname, Dimension::kFlopRate);
  }
  if (gpu.peak_flops_per_s.empty())
    peak.fail_here("at least one precision is required (" + core::list_valid(core::precision_names()) + ")");
  finish_declared(peak, PlatformObject::kPeak);

  // Fallbacks: "bf16": "fp16" means a bf16 job runs its GEMMs in fp16 on this GPU.
  if (auto fb = reader.optional_object("fallback")) {
    for (auto it = fb->json().begin(); it != fb->json().end(); ++it) {
      const std::string& from_name = it.key();
      if (!is_precision_name(from_name))
        fb->fail(from_name, "unknown precision \"" + from_name + "\" (" +
                                core::list_valid(core::precision_names()) + ")");
      const Precision from = core::parse_precision(from_name);
      if (gpu.supports(from))
        fb->fail(from_name, from_name + " has its own peak; a fallback for it would never be used");
      const std::string to_name = fb->choice(from_name, core::precision_names());
      const Precision to = core::parse_precision(to_name);
      if (!gpu.supports(to))
        fb->fail(from_name, "fallback target " + to_name + " has no peak on this GPU (it has: " +
                                precision_list(gpu.peak_flops_per_s) + ")");
      gpu.fallback[from] = to;
    }
    finish_declared(*fb, PlatformObject::kFallback);
  }

  gpu.memory_bytes = reader.positive_quantity("memory", Dimension::kBytes);
  gpu.hbm_bandwidth_bytes_per_s = reader.positive_quantity("hbm_bandwidth", Dimension::kBandwidth);
  gpu.idle_power_w = reader.quantity("idle_power", Dimension::kPower);
  gpu.max_power_w = reader.positive_quantity("max_power", Dimension::kPower);
  if (gpu.idle_power_w > gpu.max_power_w)
    reader.fail(reader.given_key("idle_power", Dimension::kPower),
                "idle_power (" + shown(gpu.idle_power_w) + " W) exceeds max_power (" +
                    shown(gpu.max_power_w) + " W)");
  gpu.matmul_efficiency = reader.number_or("matmul_efficiency", 0.7, 0.0, 1.0);
  if (gpu.matmul_efficiency <= 0) reader.fail("matmul_efficiency", "must be in (0, 1]");
  gpu.matmul_efficiency_fp8 = reader.number_or("matmul_efficiency_fp8", 0.0, 0.0, 1.0);
  if (reader.has("matmul_efficiency_fp8") && gpu.matmul_efficiency_fp8 <= 0)
    reader.fail("matmul_efficiency_fp8", "must be in (0, 1]");
  gpu.gemm_efficiency =
      read_table(reader, "gemm_efficiency", 1.0, "[flops of one GEMM, efficiency in (0, 1]] with increasing FLOPs");
  gpu.gemm_shape = read_gemm_shape(reader);
  gpu.memory_bandwidth_by_size = read_table(reader, "memory_bandwidth_by_size", std::numeric_limits<double>::max(),
                                            "[bytes one op moves, bytes per second > 0] with increasing bytes");
  gpu.kernel_launch_s = reader.quantity_or("kernel_launch", Dimension::kTime, 0.0);
  gpu.overlap_slowdown = reader.number_or("overlap_slowdown", 0.0, 0.0, 10.0);
  gpu.serial_streams = reader.boolean_or("serial_streams", false);
  finish_declared(reader, PlatformObject::kGpu);
  return gpu;
}

core::Json to_json(const GpuSpec& gpu) {
  core::Json out = core::Json::object();
  out["name"] = gpu.name;
  if (!gpu.description.empty()) out["description"] = gpu.description;
  if (!gpu.source.empty()) out["source"] = gpu.source;
  core::Json peak = core::Json::object();
  for (const auto& [p, rate] : gpu.peak_flops_per_s)
    peak[core::to_string(p) + std::string(core::si_suffix(Dimension::kFlopRate))] = rate;
  out["peak"] = peak;
  if (!gpu.fallback.empty()) {
    core::Json fb = core::Json::object();
    for (const auto& [from, to] : gpu.fallback) fb[core::to_string(from)] = core::to_string(to);
    out["fallback"] = fb;
  }
  out["memory_bytes"] = gpu.memory_bytes;
  out["hbm_bandwidth_bytes_per_s"] = gpu.hbm_bandwidth_bytes_per_s;
  out["idle_power_w"] = gpu.idle_power_w;
  out["max_power_w"] = gpu.max_power_w;
  out["matmul_efficiency"] = gpu.matmul_efficiency;
  if (gpu.matmul_efficiency_fp8 > 0) out["matmul_efficiency_fp8"] = gpu.matmul_efficiency_fp8;
  if (!gpu.gemm_efficiency.empty()) out["gemm_efficiency"] = table_json(gpu.gemm_efficiency);
  if (gpu.gemm_shape.sms > 0) {
    core::Json tiles = core::Json::array();
    for (const GemmTile& t : gpu.gemm_shape.tiles) tiles.push_back({t.m, t.n, t.efficiency});
    out["gemm_shape"] = {{"sms", gpu.gemm_shape.sms}, {"tiles", tiles}, {"k_overhead", gpu.gemm_shape.k_overhead},
                         {"max_split_k", gpu.gemm_shape.max_split_k}};
  }
  if (!gpu.memory_bandwidth_by_size.empty()) out["memory_bandwidth_by_size"] = table_json(gpu.memory_bandwidth_by_size);
  if (gpu.kernel_launch_s > 0) out["kernel_launch_s"] = gpu.kernel_launch_s;
  if (gpu.overlap_slowdown > 0) out["overlap_slowdown"] = gpu.overlap_slowdown;
  if (gpu.serial_streams) out["serial_streams"] = true;
  return out;
}

GpuCatalogue GpuCatalogue::load(const std::filesystem::path& path) {
  const core::Json doc = core::load_json_file(path);
  ObjectReader top(doc, path.string(), "");
  top.string_or("description", "");
  ObjectReader gpus = top.object("gpus");
  GpuCatalogue catalogue;
  for (auto it = gpus.json().begin(); it != gpus.json().end(); ++it) {
    ObjectReader entry = gpus.object(it.key());
    catalogue.gpus_.emplace(it.key(), read_gpu(entry, it.key()));
  }
  if (catalogue.gpus_.empty()) gpus.fail_here("the catalogue lists no GPU");
  gpus.finish();
  finish_declared(top, PlatformObject::kCatalogue);
  return catalogue;
}

const GpuCatalogue& GpuCatalogue::shipped() {
  // Loaded once per process; a failed load throws here and is retried on the next call. Every
  // use is an input of the work that asks for it (core::InputFileLog), not only the first.
  static const std::filesystem::path path = core::find_data_file("platforms/gpus.json");
  static const GpuCatalogue catalogue = [] {
    if (path.empty())
      throw core::ConfigError("platforms/gpus.json", "",
                              "GPU catalogue not found: looked for " + core::searched_for("platforms/gpus.json") +
                                  " (the data search path: FRUGALSIM_DATA_DIR, the FrugalSim tree holding the working "
                                  "directory, the source tree, the installed share/frugalsim)");
    return load(path);
  }();
  core::InputFileLog::note(path);
  return catalogue;
}

const GpuSpec& GpuCatalogue::get(const std::string& name, const std::string& referrer,
                                 const std::string& pointer) const {
  auto it = gpus_.find(name);
  if (it == gpus_.end())
    throw core::ConfigError(referrer, pointer, "unknown GPU \"" + name + "\" (" + core::list_valid(names()) + ")");
  return it->second;
}

std::vector<std::string> GpuCatalogue::names() const {
  std::vector<std::string> out;
  for (const auto& [name, gpu] : gpus_) out.push_back(name);
  return out;
}

std::filesystem::path platform_data_dir() {
  return core::data_dir() / "platforms";
}

}  // namespace frugal::platforms
