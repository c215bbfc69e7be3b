// Cluster files: strict reading (node types, node counts, network, storage, prices), the resolved
// JSON form (GPUs inlined, SI numbers) and lookup of shipped clusters by name. Pure data: no SimGrid.
#include "platforms/cluster_spec.hpp"

#include <algorithm>

#include "platforms/platform_keys.hpp"
#include "sim/core/build_info.hpp"
#include "sim/program/enum_names.hpp"
#include "sim/program/program.hpp"
#include "sim/core/paths.hpp"

namespace frugal::platforms {
namespace {

using core::Dimension;
using core::Json;
using core::ObjectReader;

const std::vector<std::string> kIntraNodeKinds = {"nvlink", "pcie"};
const std::vector<std::string> kTopologies = {"star"};

/// "factors": [{"from": "0 B", "latency": 1.3, "bandwidth": 0.6}, {"from": "64 KiB", ...}]:
/// strictly increasing sizes from 0 B, positive factors.
std::vector<SizeFactor> read_factors(ObjectReader& reader) {
  std::vector<SizeFactor> factors;
  if (!reader.has("factors")) return factors;
  const Json& list = reader.array("factors");
  for (std::size_t i = 0; i < list.size(); ++i) {
    ObjectReader entry(list[i], reader.file(), reader.pointer_of("factors") + "/" + std::to_string(i));
    SizeFactor f;
    f.from_bytes = entry.quantity("from", Dimension::kBytes);
    f.latency = entry.number("latency", 1e-6);
    f.bandwidth = entry.number("bandwidth", 1e-6);
    finish_declared(entry, PlatformObject::kLinkFactor);
    if (i == 0 && f.from_bytes != 0) entry.fail(entry.given_key("from", Dimension::kBytes), "the first factor must start at 0 B");
    if (i > 0 && f.from_bytes <= factors.back().from_bytes)
      entry.fail(entry.given_key("from", Dimension::kBytes), "sizes must increase strictly from one factor to the next");
    factors.push_back(f);
  }
  return factors;
}

/// {"bandwidth": "25 GB/s", "latency": "1 us", "factors": [...]}: bandwidth per direction > 0,
/// latency >= 0, optional size factors.
LinkSpec read_link(ObjectReader& reader) {
  LinkSpec link;
  link.bandwidth_bytes_per_s = reader.positive_quantity("bandwidth", Dimension::kBandwidth);
  link.latency_s = reader.quantity("latency", Dimension::kTime);
  link.factors = read_factors(reader);
  return link;
}

/// The link's keys in resolved form, added to `out`.
void add_link_json(Json& out, const LinkSpec& link) {
  out["bandwidth_bytes_per_s"] = link.bandwidth_bytes_per_s;
  out["latency_s"] = link.latency_s;
  if (!link.factors.empty()) out["factors"] = to_json(link.factors);
}

Json link_json(const LinkSpec& link) {
  Json out = Json::object();
  add_link_json(out, link);
  return out;
}

NodeType read_node_type(ObjectReader& reader, const std::string& name, const GpuCatalogue& catalogue) {
  NodeType type;
  type.name = name;
  // "gpu": a catalogue name, or an inline GPU object (the resolved form written by to_json).
  const Json& gpu = reader.value("gpu");
  if (gpu.is_string()) {
    type.gpu = catalogue.get(gpu.get<std::string>(), reader.file(), reader.pointer_of("gpu"));
  } else if (gpu.is_object()) {
    ObjectReader inline_gpu = reader.object("gpu");
    type.gpu = read_gpu(inline_gpu, inline_gpu.string("name"));
  } else {
    reader.fail("gpu", "expected a GPU name (" + core::list_valid(catalogue.names()) + ") or a GPU object");
  }
  type.gpus_per_node = static_cast<int>(reader.integer("gpus_per_node", 1, 1 << 20));

  ObjectReader intra = reader.object("intra_node");
  type.intra_node_kind = intra.choice("kind", kIntraNodeKinds);
  type.gpu_link = read_link(intra);
  if (intra.has_quantity("nvls_bandwidth", Dimension::kBandwidth)) {
    if (type.intra_node_kind != "nvlink") intra.fail("nvls_bandwidth", "NVLink SHARP needs \"kind\": \"nvlink\"");
    type.nvls_bandwidth_bytes_per_s = intra.positive_quantity("nvls_bandwidth", Dimension::kBandwidth);
  }
  finish_declared(intra, PlatformObject::kIntraNode);

  ObjectReader host = reader.object("host_link");
  type.host_link = read_link(host);
  finish_declared(host, PlatformObject::kHostLink);
  type.host_memory_bytes = reader.positive_quantity("host_memory", Dimension::kBytes);
  if (reader.has_quantity("host_memory_bandwidth", Dimension::kBandwidth))
    type.host_memory_bandwidth_bytes_per_s = reader.positive_quantity("host_memory_bandwidth", Dimension::kBandwidth);
  // "nvme": {"capacity": "30 TB", "bandwidth": "8 GB/s"}: both required when the object is given.
  if (auto nvme = reader.optional_object("nvme")) {
    type.nvme.capacity_bytes = nvme->positive_quantity("capacity", Dimension::kBytes);
    type.nvme.bandwidth_bytes_per_s = nvme->positive_quantity("bandwidth", Dimension::kBandwidth);
    finish_declared(*nvme, PlatformObject::kNvme);
  }

  ObjectReader nic = reader.object("nic");
  type.nic = read_link(nic);
  finish_declared(nic, PlatformObject::kNic);
  type.nics_per_node = static_cast<int>(reader.integer("nics_per_node", 1, 1 << 20));

  ObjectReader cpu = reader.object("cpu");
  type.cpu_flops_per_s = cpu.positive_quantity("speed", Dimension::kFlopRate);
  type.cpu_idle_power_w = cpu.quantity("idle_power", Dimension::kPower);
  type.cpu_max_power_w = cpu.quantity("max_power", Dimension::kPower);
  if (type.cpu_idle_power_w > type.cpu_max_power_w)
    cpu.fail(cpu.given_key("idle_power", Dimension::kPower), "idle_power exceeds max_power");
  finish_declared(cpu, PlatformObject::kCpu);

  // "price": {"on_demand": N, "spot": N} in currency units per GPU-hour (plain numbers).
  if (auto price = reader.optional_object("price")) {
    type.has_price = true;
    type.price_on_demand_per_gpu_hour = price->number("on_demand", 0);
    type.price_spot_per_gpu_hour = price->number_or("spot", type.price_on_demand_per_gpu_hour, 0);
    finish_declared(*price, PlatformObject::kPrice);
  }
  type.spot = reader.boolean_or("spot", false);
  if (type.spot && !type.has_price)
    reader.fail("spot", "a spot node type needs \"price\": {\"on_demand\": N, \"spot\": N} (currency per GPU-hour)");

  finish_declared(reader, PlatformObject::kNodeType);
  return type;
}

Json node_type_json(const NodeType& type) {
  Json out = Json{{"gpu", to_json(type.gpu)},
                  {"gpus_per_node", type.gpus_per_node},
                  {"intra_node", {{"kind", type.intra_node_kind}}},
                  {"host_link", link_json(type.host_link)},
                  {"host_memory_bytes", type.host_memory_bytes},
                  {"nic", link_json(type.nic)},
                  {"nics_per_node", type.nics_per_node},
                  {"cpu",
                   {{"speed_flops_per_s", type.cpu_flops_per_s},
                    {"idle_power_w", type.cpu_idle_power_w},
                    {"max_power_w", type.cpu_max_power_w}}}};
  if (type.has_price)
    out["price"] = Json{{"on_demand", type.price_on_demand_per_gpu_hour}, {"spot", type.price_spot_per_gpu_hour}};
  if (type.spot) out["spot"] = true;
  if (type.host_memory_bandwidth_bytes_per_s > 0)
    out["host_memory_bandwidth_bytes_per_s"] = type.host_memory_bandwidth_bytes_per_s;
  if (type.has_nvme())
    out["nvme"] = Json{{"capacity_bytes", type.nvme.capacity_bytes},
                       {"bandwidth_bytes_per_s", type.nvme.bandwidth_bytes_per_s}};
  add_link_json(out["intra_node"], type.gpu_link);
  if (type.nvls_bandwidth_bytes_per_s > 0) out["intra_node"]["nvls_bandwidth_bytes_per_s"] = type.nvls_bandwidth_bytes_per_s;
  return out;
}

/// "storage": {"shared": {"bandwidth", "latency"}, "local_disk": {"bandwidth"}}, at least one.
StorageSpec read_storage(ObjectReader& reader) {
  StorageSpec storage;
  if (auto shared = reader.optional_object("shared")) {
    storage.has_shared = true;
    storage.shared = read_link(*shared);
    finish_declared(*shared, PlatformObject::kSharedStorage);
  }
  if (auto disk = reader.optional_object("local_disk")) {
    storage.local_disk_bandwidth_bytes_per_s = disk->positive_quantity("bandwidth", Dimension::kBandwidth);
    finish_declared(*disk, PlatformObject::kLocalDisk);
  }
  if (!storage.has_shared && !storage.has_local_disk())
    reader.fail_here("give \"shared\" (a parallel file system: bandwidth, latency) and/or \"local_disk\" (bandwidth)");
  finish_declared(reader, PlatformObject::kStorage);
  return storage;
}

}  // namespace

Json to_json(const std::vector<SizeFactor>& factors) {
  Json list = Json::array();
  for (const SizeFactor& f : factors)
    list.push_back(Json{{"from_bytes", f.from_bytes}, {"latency", f.latency}, {"bandwidth", f.bandwidth}});
  return list;
}

const SizeFactor* LinkSpec::factor_for(double bytes) const {
  const SizeFactor* found = nullptr;
  for (const SizeFactor& f : factors)
    if (f.from_bytes <= bytes) found = &f;
  return found;
}

Cluster read_cluster(const Json& value, const std::string& file, const std::string& pointer,
                     const GpuCatalogue& catalogue) {
  ObjectReader top(value, file, pointer);
  Cluster cluster;
  cluster.name = top.string("name");
  if (cluster.name.empty()) top.fail("name", "must not be empty");
  cluster.description = top.string_or("description", "");
  cluster.source = top.string_or("source", "");

  // Node types come out sorted by name: nlohmann::json objects keep their keys sorted.
  ObjectReader types = top.object("node_types");
  std::vector<std::string> type_names;
  for (auto it = types.json().begin(); it != types.json().end(); ++it) {
    ObjectReader type = types.object(it.key());
    cluster.node_types.push_back(read_node_type(type, it.key(), catalogue));
    type_names.push_back(it.key());
  }
  if (type_names.empty()) types.fail_here("at least one node type is required");
  types.finish();

  // "nodes": [{"type", "count"}...] expanded in file order; GPUs listed node-major.
  const Json& nodes = top.array("nodes");
  if (nodes.empty()) top.fail("nodes", "at least one {\"type\", \"count\"} entry is required");
  std::int64_t gpus = 0;  // counted before the entry is expanded: a huge count is refused, not allocated
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    ObjectReader entry(nodes[i], file, top.pointer_of("nodes") + "/" + std::to_string(i));
    const std::string type_name = entry.choice("type", type_names);
    const int type_index =
        static_cast<int>(std::find(type_names.begin(), type_names.end(), type_name) - type_names.begin());
    const auto count = entry.integer("count", 1, 1 << 20);
    finish_declared(entry, PlatformObject::kNodes);
    gpus += count * cluster.node_types[type_index].gpus_per_node;  // both at most 2^20
    if (gpus > kMaxClusterGpus)
      entry.fail("count", "the cluster would have " + std::to_string(gpus) + " GPUs or more, above the " +
                              std::to_string(kMaxClusterGpus) + " one simulation may hold");
    for (std::int64_t n = 0; n < count; ++n) {
      const core::NodeId node(cluster.node_count());
      cluster.node_type_of.push_back(type_index);
      for (int g = 0; g < cluster.node_types[type_index].gpus_per_node; ++g)
        cluster.gpus.push_back(GpuSlot{node, g, type_index});
    }
  }

  ObjectReader network = top.object("network");
  cluster.network.topology = network.choice("topology", kTopologies);
  cluster.network.switch_latency_s = network.quantity_or("switch_latency", Dimension::kTime, 0.0);
  if (network.has_quantity("backbone_bandwidth", Dimension::kBandwidth))
    cluster.network.backbone_bandwidth_bytes_per_s =
        network.positive_quantity("backbone_bandwidth", Dimension::kBandwidth);
  if (auto overhead = network.optional_object("collective_overhead")) {
    // {"all_reduce": "15 us", ...}: keys are collective kinds.
    const auto& kinds = program::enum_names<program::CollectiveKind>();
    for (const std::string& kind : kinds) {
      const double v = overhead->quantity_or(kind, Dimension::kTime, 0.0);
      if (v > 0) {
        cluster.network.collective_overhead_s.resize(kinds.size(), 0.0);
        cluster.network.collective_overhead_s[&kind - kinds.data()] = v;
      }
    }
    finish_declared(*overhead, PlatformObject::kCollectiveOverhead);
  }
  finish_declared(network, PlatformObject::kNetwork);

  if (auto storage = top.optional_object("storage")) cluster.storage = read_storage(*storage);

  finish_declared(top, PlatformObject::kCluster);
  return cluster;
}

Json to_json(const Cluster& cluster) {
  Json out = Json::object();
  out["name"] = cluster.name;
  if (!cluster.description.empty()) out["description"] = cluster.description;
  if (!cluster.source.empty()) out["source"] = cluster.source;
  Json types = Json::object();
  for (const NodeType& type : cluster.node_types) types[type.name] = node_type_json(type);
  out["node_types"] = types;
  // Runs of consecutive nodes of one type, so that reading back expands to the same order.
  Json nodes = Json::array();
  for (std::size_t n = 0; n < cluster.node_type_of.size(); ++n) {
    const std::string& type = cluster.node_types.at(cluster.node_type_of[n]).name;
    if (n > 0 && cluster.node_type_of[n] == cluster.node_type_of[n - 1])
      nodes.back()["count"] = nodes.back()["count"].get<int>() + 1;
    else
      nodes.push_back(Json{{"type", type}, {"count", 1}});
  }
  out["nodes"] = nodes;
  Json network = {{"topology", cluster.network.topology}, {"switch_latency_s", cluster.network.switch_latency_s}};
  if (cluster.network.backbone_bandwidth_bytes_per_s > 0)
    network["backbone_bandwidth_bytes_per_s"] = cluster.network.backbone_bandwidth_bytes_per_s;
  const auto& kinds = program::enum_names<program::CollectiveKind>();
  for (std::size_t k = 0; k < cluster.network.collective_overhead_s.size(); ++k)
    if (cluster.network.collective_overhead_s[k] > 0)
      network["collective_overhead"][kinds.at(k) + "_s"] = cluster.network.collective_overhead_s[k];
  out["network"] = network;
  if (cluster.storage.has_shared || cluster.storage.has_local_disk()) {
    Json storage = Json::object();
    if (cluster.storage.has_shared) storage["shared"] = link_json(cluster.storage.shared);
    if (cluster.storage.has_local_disk())
      storage["local_disk"] = Json{{"bandwidth_bytes_per_s", cluster.storage.local_disk_bandwidth_bytes_per_s}};
    out["storage"] = storage;
  }
  return out;
}

std::vector<std::string> list_clusters() { return core::data_names("platforms/clusters"); }

Cluster load_cluster(const std::string& name_or_path, const GpuCatalogue& catalogue,
                     const std::string& referrer, const std::string& pointer) {
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
  std::filesystem::path path;
  if (is_path) {
    path = name_or_path;
    // A study names its cluster file relative to itself; fall back to the working directory.
    if (path.is_relative() && !referrer.empty()) {
      const auto beside = std::filesystem::path(referrer).parent_path() / path;
      if (core::path_exists(beside)) path = beside;
    }
    if (!core::path_exists(path))
      throw core::ConfigError(referrer, pointer, "cluster file \"" + name_or_path + "\" not found");
  } else {
    const std::filesystem::path file = std::filesystem::path("platforms") / "clusters" / (name_or_path + ".json");
    path = core::find_data_file(file);
    if (path.empty())
      throw core::ConfigError(referrer, pointer,
                              "unknown cluster \"" + name_or_path + "\" (" + core::list_valid(list_clusters()) +
                                  ", or a path to a .json file; looked for " + core::searched_for(file) + ")");
  }
  const Json doc = core::load_json_file(path);
  return read_cluster(doc, path.string(), "", catalogue);
}

}  // namespace frugal::platforms
