// Builds the SimGrid zones, hosts, links and routes of a Cluster (see platform_builder.hpp for
// the layout and the α/β of each path). Everything is created and sealed here, once, before
// Engine::run(); nothing later looks a host up by name.
#include "sim/engine/platform_builder.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>

#include <simgrid/kernel/ProfileBuilder.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u.hpp>

#include "sim/engine/indexed_star_zone.hpp"
#include "sim/engine/network_factors.hpp"

namespace sg4 = simgrid::s4u;

namespace frugal::engine {
namespace {

using Dir = sg4::LinkInRoute::Direction;

std::string number(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// The energy plugin reads "idle:max" per power state (2 values: epsilon = idle, so P = idle +
// (max − idle)·load while anything runs, idle otherwise) and must see it before Host::seal().
void set_wattage(sg4::Host* host, double idle_w, double max_w, int pstates = 1) {
  std::string states;
  for (int i = 0; i < pstates; ++i) states += (i > 0 ? "," : "") + number(idle_w) + ":" + number(max_w);
  host->set_property("wattage_per_state", states);
  host->set_property("wattage_off", "0");
}

/// The models of `from` (the root, which SimGrid gives them) for a zone not attached yet.
void inherit_models(sg4::NetZone* zone, sg4::NetZone* from) {
  simgrid::kernel::routing::NetZoneImpl* to = zone->get_impl();
  const simgrid::kernel::routing::NetZoneImpl* source = from->get_impl();
  to->set_network_model(source->get_network_model());
  to->set_cpu_pm_model(source->get_cpu_pm_model());
  to->set_cpu_vm_model(source->get_cpu_vm_model());
  to->set_disk_model(source->get_disk_model());
  to->set_host_model(source->get_host_model());
}

/// A split-duplex link of `spec`; its size factors, if any, go into `factors` under `link_class`.
sg4::SplitDuplexLink* duplex(sg4::NetZone* zone, const std::string& name, const platforms::LinkSpec& spec,
                             NetworkFactors* factors = nullptr, LinkClass link_class = LinkClass::kHostLink) {
  if (!(spec.bandwidth_bytes_per_s > 0))
    throw std::invalid_argument("link " + name + ": bandwidth must be > 0 (got " + number(spec.bandwidth_bytes_per_s) +
                                ")");
  auto* link = zone->create_split_duplex_link(name, spec.bandwidth_bytes_per_s);
  link->set_latency(std::max(0.0, spec.latency_s));
  link->seal();
  if (factors != nullptr) factors->add(link->get_link_up(), link->get_link_down(), spec, link_class);
  return link;
}

}  // namespace

std::vector<std::string> simgrid_arguments(const std::string& program) {
  std::vector<std::string> args = {program, "--log=root.thres:critical"};
#if defined(__SANITIZE_ADDRESS__)
  args.emplace_back("--cfg=contexts/factory:thread");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  args.emplace_back("--cfg=contexts/factory:thread");
#endif
#endif
  return args;
}

void configure_network_model() {
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/crosstraffic:0");
  sg4::Engine::set_config("network/TCP-gamma:1e100");
}

BuiltPlatform build_platform(const platforms::Cluster& cluster, core::Precision precision) {
  return build_platform(cluster, precision, PlatformExtras{});
}

BuiltPlatform build_platform(const platforms::Cluster& cluster, core::Precision precision,
                             const PlatformExtras& extras) {
  using simgrid::kernel::profile::ProfileBuilder;
  const int n_nodes = cluster.node_count();
  if (static_cast<int>(extras.node_speed_profiles.size()) > n_nodes)
    throw std::invalid_argument("platform extras: more profiles than nodes (" + std::to_string(n_nodes) + ")");
  if (extras.storage && !cluster.storage.has_shared)
    throw std::invalid_argument("cluster " + cluster.name + " has no shared storage (\"storage\": {\"shared\": ...})");
  auto factors = std::make_shared<NetworkFactors>();
  if (extras.local_disks && !cluster.storage.has_local_disk())
    throw std::invalid_argument("cluster " + cluster.name + " has no local disks (\"storage\": {\"local_disk\": ...})");
  auto profile_of = [](const std::vector<std::string>& texts, int node) -> const std::string* {
    if (node >= static_cast<int>(texts.size()) || texts[node].empty()) return nullptr;
    return &texts[node];
  };
  BuiltPlatform built;
  built.gpu_hosts.assign(cluster.gpu_count(), nullptr);
  built.node_of_gpu.assign(cluster.gpu_count(), -1);
  built.cpu_hosts.assign(n_nodes, nullptr);
  built.nvme_disks.assign(n_nodes, nullptr);
  built.nvswitch_hosts.assign(n_nodes, nullptr);

  // GPU slots grouped by node: node → local index → global index.
  std::vector<std::vector<int>> globals_of_node(n_nodes);
  for (int g = 0; g < cluster.gpu_count(); ++g) {
    const auto& slot = cluster.gpus[g];
    if (slot.node.value < 0 || slot.node.value >= n_nodes)
      throw std::invalid_argument("GPU " + std::to_string(g) + ": node " + std::to_string(slot.node.value) +
                                  " out of range");
    const int per_node = cluster.type_of_node(slot.node).gpus_per_node;
    if (slot.local_index < 0 || slot.local_index >= per_node)
      throw std::invalid_argument("GPU " + std::to_string(g) + ": local index " + std::to_string(slot.local_index) +
                                  " outside its node type (" + std::to_string(per_node) + " GPUs per node)");
    auto& locals = globals_of_node[slot.node.value];
    if (locals.empty()) locals.assign(per_node, -1);
    locals[slot.local_index] = g;
    built.node_of_gpu[g] = static_cast<int>(slot.node.value);
  }

  // Zones are filled and sealed while detached from the root, and attached at the end. SimGrid
  // 3.32 checks each new link's name against every link of every zone reachable from the root,
  // and sealing a zone scans every host reachable from the root (NetZoneImpl::get_all_hosts
  // filters the whole tree), so filling or sealing zones already attached costs O(nodes²): at
  // 2,048 DGX-like nodes, 35 s for the names and ~3 s for the seals. Hence an empty root holding
  // only the star, which stays detached (with its node zones below it) until everything below
  // it is sealed. Detached zones get the root's models by hand (set_parent would copy them).
  // The star routes like SimGrid's StarZone but declares each node's route in O(1): StarZone's
  // add_route() searches every child zone for the node, O(nodes²) in all (indexed_star_zone.hpp).
  sg4::NetZone* root = sg4::create_star_zone("platform");
  sg4::NetZone* star = create_indexed_star_zone("cluster");
  inherit_models(star, root);
  sg4::Link* backbone = nullptr;
  if (cluster.network.backbone_bandwidth_bytes_per_s > 0)
    backbone = star->create_link("backbone", cluster.network.backbone_bandwidth_bytes_per_s)->set_latency(0)->seal();
  const double uplink_latency_s = std::max(0.0, cluster.network.switch_latency_s) / 2;

  // Node zones are attached to the star once filled (still detached from the root).
  struct PendingZone {
    sg4::NetZone* zone;
    simgrid::kernel::routing::NetPoint* router;
    std::vector<sg4::LinkInRoute> to_center;
  };
  std::vector<PendingZone> pending;
  pending.reserve(n_nodes);

  for (int i = 0; i < n_nodes; ++i) {
    const platforms::NodeType& type = cluster.type_of_node(core::NodeId(i));
    const std::string prefix = "node" + std::to_string(i);
    const int n_gpus = type.gpus_per_node;
    const int n_nics = std::max(1, type.nics_per_node);
    const double speed = type.gpu.effective_flops_per_s(type.gpu.runs_as(precision));
    if (!(speed > 0)) throw std::invalid_argument(prefix + ": GPU " + type.gpu.name + " has no positive speed");

    sg4::NetZone* zone = sg4::create_full_zone(prefix);
    inherit_models(zone, root);

    // One profile object per node, shared by its GPUs (each host gets its own event on it).
    simgrid::kernel::profile::Profile* speed_profile = nullptr;
    if (const std::string* text = profile_of(extras.node_speed_profiles, i))
      speed_profile = ProfileBuilder::from_string(prefix + "-speed", *text, -1);

    // All vertices first: a full zone sizes its routing table at the first add_route().
    std::vector<sg4::Host*> gpus(n_gpus);
    for (int j = 0; j < n_gpus; ++j) {
      // Power state 1: the speed left to compute while a collective runs (kOverlappedPstate).
      std::vector<double> speeds{speed};
      if (type.gpu.overlap_slowdown > 0 && !type.gpu.serial_streams) speeds.push_back(speed / (1 + type.gpu.overlap_slowdown));
      gpus[j] = zone->create_host(prefix + "-gpu" + std::to_string(j), speeds);
      set_wattage(gpus[j], type.gpu.idle_power_w, type.gpu.max_power_w, static_cast<int>(speeds.size()));
      if (speed_profile != nullptr) gpus[j]->set_speed_profile(speed_profile);
      gpus[j]->seal();
    }
    sg4::Host* cpu = zone->create_host(prefix + "-cpu", type.cpu_flops_per_s > 0 ? type.cpu_flops_per_s : 1e9);
    set_wattage(cpu, type.cpu_idle_power_w, type.cpu_max_power_w);
    if (extras.local_disks) {
      const double bw = cluster.storage.local_disk_bandwidth_bytes_per_s;
      built.node_disks.push_back(cpu->create_disk(prefix + "-disk", bw, bw)->seal());
    }
    if (type.has_nvme()) {
      const double bw = type.nvme.bandwidth_bytes_per_s;
      built.nvme_disks[i] = cpu->create_disk(prefix + "-nvme", bw, bw)->seal();
    }
    cpu->seal();
    // NVLink SHARP: the switch as a host, reached by each GPU through its own link and the
    // switch's reduction bandwidth for that GPU.
    sg4::Host* nvswitch = nullptr;
    if (type.nvls_bandwidth_bytes_per_s > 0) {
      nvswitch = zone->create_host(prefix + "-nvswitch", 1e9);
      nvswitch->seal();
    }
    simgrid::kernel::routing::NetPoint* router = zone->create_router(prefix + "-router");

    std::vector<sg4::Link*> gpu_links(n_gpus), pcie(n_gpus), nics(n_nics);
    for (int j = 0; j < n_gpus; ++j) {
      gpu_links[j] = duplex(zone, prefix + "-gpu" + std::to_string(j) + "-link", type.gpu_link, factors.get(), LinkClass::kGpuLink);
      pcie[j] = duplex(zone, prefix + "-gpu" + std::to_string(j) + "-pcie", type.host_link, factors.get(), LinkClass::kHostLink);
    }
    for (int k = 0; k < n_nics; ++k) nics[k] = duplex(zone, prefix + "-nic" + std::to_string(k), type.nic, factors.get(), LinkClass::kNic);
    // The host side shared by the node's GPU↔CPU transfers: no latency and no size factors, so a
    // lone transfer costs what its PCIe link says; undeclared, it carries every PCIe link at full
    // speed and never binds.
    sg4::Link* host_side = duplex(zone, prefix + "-host", platforms::LinkSpec{type.host_side_bandwidth_bytes_per_s(), 0});

    for (int j = 0; j < n_gpus; ++j) {
      for (int m = 0; m < n_gpus; ++m) {
        if (m == j) continue;
        // Each direction explicitly (not symmetrical): j sends on its UP half, m receives on its DOWN half.
        zone->add_route(gpus[j]->get_netpoint(), gpus[m]->get_netpoint(), nullptr, nullptr,
                        {sg4::LinkInRoute(gpu_links[j], Dir::UP), sg4::LinkInRoute(gpu_links[m], Dir::DOWN)}, false);
      }
      // Symmetrical: the reverse route uses the other half of the same split-duplex link.
      zone->add_route(gpus[j]->get_netpoint(), cpu->get_netpoint(), nullptr, nullptr,
                      {sg4::LinkInRoute(pcie[j], Dir::UP), sg4::LinkInRoute(host_side, Dir::UP)}, true);
      zone->add_route(gpus[j]->get_netpoint(), router, nullptr, nullptr,
                      {sg4::LinkInRoute(nics[j % n_nics], Dir::UP)}, true);
      if (nvswitch != nullptr) {
        sg4::Link* nvls = duplex(zone, prefix + "-gpu" + std::to_string(j) + "-nvls",
                                 platforms::LinkSpec{type.nvls_bandwidth_bytes_per_s, type.gpu_link.latency_s});
        zone->add_route(gpus[j]->get_netpoint(), nvswitch->get_netpoint(), nullptr, nullptr,
                        {sg4::LinkInRoute(gpu_links[j], Dir::UP), sg4::LinkInRoute(nvls, Dir::UP)}, true);
      }
    }
    zone->add_route(cpu->get_netpoint(), router, nullptr, nullptr, {sg4::LinkInRoute(nics[0], Dir::UP)}, true);

    platforms::LinkSpec uplink_spec{n_nics * type.nic.bandwidth_bytes_per_s, uplink_latency_s};
    sg4::Link* uplink = duplex(star, prefix + "-uplink", uplink_spec);
    std::vector<sg4::LinkInRoute> to_center{sg4::LinkInRoute(uplink, Dir::UP)};
    if (backbone != nullptr) to_center.emplace_back(backbone);
    pending.push_back(PendingZone{zone, router, std::move(to_center)});

    built.cpu_hosts[i] = cpu;
    built.nvswitch_hosts[i] = nvswitch;
    const auto& locals = globals_of_node[i];
    for (int j = 0; j < static_cast<int>(locals.size()); ++j)
      if (locals[j] >= 0) built.gpu_hosts[locals[j]] = gpus[j];
  }
  for (PendingZone& p : pending) {
    p.zone->set_parent(star);
    p.zone->seal();
    // Star routes go "node → center" (UP halves); symmetrical=true gives "center → node" with
    // the DOWN halves in reverse order. A shared backbone appears once per route (StarZone dedups).
    star->add_route(p.zone->get_netpoint(), nullptr, p.router, nullptr, p.to_center, true);
  }
  if (extras.storage) {
    // The shared file system: one host behind one link of the aggregate bandwidth, so every
    // writer shares it (max-min), after its own NIC and uplink.
    // The host sits in a zone of its own: SimGrid 3.32 routes a host placed directly in the star
    // to a host of a node zone as if both were in the star (it looks the node host's id inside
    // its own zone up among the star's routes), which picks another node's uplink or throws
    // out_of_range once nodes hold more hosts than the star has members.
    sg4::NetZone* storage_zone = sg4::create_full_zone("storage-zone");
    storage_zone->set_parent(star);
    sg4::Host* storage = storage_zone->create_host("storage", 1e12);
    storage->seal();
    storage_zone->seal();
    sg4::Link* link = duplex(star, "storage-link", cluster.storage.shared, factors.get(), LinkClass::kStorage);
    star->add_route(storage_zone->get_netpoint(), nullptr, storage->get_netpoint(), nullptr,
                    {sg4::LinkInRoute(link, Dir::UP)}, true);
    built.storage_host = storage;
  }
  if (extras.controller) {
    built.controller_host = star->create_host("controller", 1e9);
    built.controller_host->seal();
  }
  star->set_parent(root);
  star->seal();
  root->seal();
  NetworkFactors::install(factors);
  return built;
}

}  // namespace frugal::engine
