// Declarations of the cluster file and GPU catalogue keys, the check that readers ask only for
// declared keys, and their reference page.
#include "platforms/platform_keys.hpp"

#include <map>
#include <sstream>

#include "sim/core/precision.hpp"
#include "sim/program/enum_names.hpp"
#include "sim/program/program.hpp"

namespace frugal::platforms {
namespace {

using core::Dimension;
using core::kPositive;
using core::SectionInfo;
using core::SectionKey;
using core::keys::boolean;
using core::keys::choice;
using core::keys::integer;
using core::keys::number;
using core::keys::object;
using core::keys::quantity;
using core::keys::text;

constexpr double kMaxCount = 1 << 20;  // gpus_per_node, nics_per_node, a node entry's count

/// bandwidth, latency and factors: the keys every link shares.
std::vector<SectionKey> link_keys() {
  return {quantity("bandwidth", Dimension::kBandwidth, "bandwidth per direction", {}, kPositive),
          quantity("latency", Dimension::kTime, "one-way latency"),
          {object("factors", "corrections by message size: an array of objects (`.../factors/<i>` below) with "
                             "strictly increasing `from`, the first at 0 B; `frugalsim calibrate` fits them"),
           "the nominal α-β model at every size"}};
}

SectionInfo link_section(std::string pointer, std::string summary) {
  return SectionInfo{std::move(pointer), std::move(summary), link_keys()};
}

std::map<PlatformObject, SectionInfo> declare() {
  std::map<PlatformObject, SectionInfo> s;
  s[PlatformObject::kCluster] = SectionInfo{
      "",
      "a cluster file's top level (platforms/clusters/*.json, a path, or a study's inline `/cluster`)",
      {text("name", "label of the cluster in outputs (not empty)"),
       text("description", "free text, not used", ""),
       text("source", "datasheets and arithmetic behind the numbers", ""),
       object("node_types", "node type name → node type (`/node_types/<name>`); at least one"),
       object("nodes", "array of `{\"type\", \"count\"}` (`/nodes/<i>`), expanded in order: node ids follow it "
                       "and GPUs are numbered node by node"),
       object("network", "the network between nodes (`/network`)"),
       {object("storage", "checkpoint storage (`/storage`)"), "none: checkpoints cannot be written"}}};
  s[PlatformObject::kNodeType] = SectionInfo{
      "/node_types/<name>",
      "one kind of node: its GPUs, links, host memory, NICs, CPU and price",
      {object("gpu", "a GPU name of the catalogue (`frugalsim list`), or an inline GPU object with the keys of "
                     "`/gpus/<name>` and its `name`"),
       integer("gpus_per_node", "GPUs in one node", {}, 1, kMaxCount),
       object("intra_node", "the link of each GPU to the node's switch (`/node_types/<name>/intra_node`)"),
       object("host_link", "each GPU's PCIe link to host memory (`/node_types/<name>/host_link`)"),
       quantity("host_memory", Dimension::kBytes, "host memory of the node, shared by its ranks' host buffers", {},
                kPositive),
       {quantity("host_memory_bandwidth", Dimension::kBandwidth,
                 "the host side every GPU↔host copy of the node crosses (CPU memory, PCIe root): GPUs copying at "
                 "once share it",
                 {}, kPositive),
        "gpus_per_node × host_link bandwidth (no contention)"},
       {object("nvme", "NVMe drives for offloaded buffers (`/node_types/<name>/nvme`)"), "none"},
       object("nic", "one network interface (`/node_types/<name>/nic`); GPU i uses NIC i mod nics_per_node"),
       integer("nics_per_node", "network interfaces in one node", {}, 1, kMaxCount),
       object("cpu", "the node's CPU (`/node_types/<name>/cpu`): host compute and its power"),
       {object("price", "currency units per GPU-hour (`/node_types/<name>/price`)"),
        "none: the cost of a run is unknown"},
       boolean("spot", "billed at the spot price (needs `price`); preemption is the availability model's business",
               false)}};
  SectionInfo intra = link_section("/node_types/<name>/intra_node", "the link of each GPU to the node's switch");
  intra.keys.insert(intra.keys.begin(),
                    choice("kind", {"nvlink", "pcie"}, "nvlink: NVLink/NVSwitch; pcie: GPUs talk through PCIe"));
  intra.keys.push_back({quantity("nvls_bandwidth", Dimension::kBandwidth,
                                 "NVLink SHARP: the all-reduce bandwidth per GPU the switch's in-network reduction "
                                 "sustains (algorithm nvls)", {}, kPositive),
                        "none: no NVLS"});
  s[PlatformObject::kIntraNode] = intra;
  s[PlatformObject::kHostLink] = link_section("/node_types/<name>/host_link", "each GPU's PCIe link to host memory");
  s[PlatformObject::kNic] = link_section("/node_types/<name>/nic", "one network interface of the node");
  s[PlatformObject::kLinkFactor] = SectionInfo{
      ".../factors/<i>",
      "how messages of at least `from` deviate from the link's nominal α-β model (SimGrid's network factors)",
      {quantity("from", Dimension::kBytes, "smallest message size this factor applies to"),
       number("latency", "multiplies the route's latency", {}, 1e-6),
       number("bandwidth", "multiplies the bandwidth available to the message", {}, 1e-6)}};
  s[PlatformObject::kNvme] = SectionInfo{
      "/node_types/<name>/nvme",
      "the node's NVMe drives (a further offload tier)",
      {quantity("capacity", Dimension::kBytes, "capacity of the node's drives together", {}, kPositive),
       quantity("bandwidth", Dimension::kBandwidth, "read and write bandwidth of the node's drives", {}, kPositive)}};
  s[PlatformObject::kCpu] = SectionInfo{
      "/node_types/<name>/cpu",
      "the node's CPU",
      {quantity("speed", Dimension::kFlopRate, "host compute speed (CPU optimizer steps, host compute ops)", {},
                kPositive),
       quantity("idle_power", Dimension::kPower, "idle power (node total; not counted in GPU energy)"),
       quantity("max_power", Dimension::kPower, "power at full load (at least idle_power)")}};
  s[PlatformObject::kPrice] = SectionInfo{
      "/node_types/<name>/price",
      "prices in currency units per GPU-hour (the shipped clusters use USD)",
      {number("on_demand", "on-demand price", {}, 0),
       {number("spot", "spot (preemptible) price, billed when `spot` is true", {}, 0), "on_demand"}}};
  s[PlatformObject::kNodes] = SectionInfo{
      "/nodes/<i>",
      "a run of nodes of one type",
      {text("type", "a key of node_types"), integer("count", "nodes in the run (all runs together: at most 2^20 GPUs)", {}, 1, kMaxCount)}};
  s[PlatformObject::kNetwork] = SectionInfo{
      "/network",
      "the network between nodes",
      {choice("topology", {"star"}, "star: every NIC on one switch"),
       quantity("switch_latency", Dimension::kTime, "one-way latency the switch adds", 0.0),
       {quantity("backbone_bandwidth", Dimension::kBandwidth, "a shared bisection link every inter-node flow crosses",
                 {}, kPositive),
        "none: non-blocking"},
       {object("collective_overhead", "fixed cost of one collective by kind (`/network/collective_overhead`)"),
        "0 for every kind"}}};
  SectionInfo overhead{"/network/collective_overhead",
                       "fixed cost of one collective on each member before its first step (launch, setup, "
                       "synchronisation that the α-β steps do not show); `frugalsim calibrate` fits it",
                       {}};
  for (const std::string& kind : program::enum_names<program::CollectiveKind>())
    overhead.keys.push_back(quantity(kind, Dimension::kTime, "fixed cost of one " + kind, 0.0));
  s[PlatformObject::kCollectiveOverhead] = overhead;
  s[PlatformObject::kStorage] = SectionInfo{
      "/storage",
      "checkpoint storage: a shared parallel file system, local disks, or both (at least one)",
      {{object("shared", "a parallel file system: one link of the aggregate bandwidth that every writer shares, "
                         "reached through each node's NIC (`/storage/shared`)"),
        "none"},
       {object("local_disk", "one disk per node (`/storage/local_disk`)"), "none"}}};
  s[PlatformObject::kSharedStorage] =
      link_section("/storage/shared", "the parallel file system's aggregate bandwidth and latency");
  s[PlatformObject::kLocalDisk] = SectionInfo{
      "/storage/local_disk",
      "each node's local disk",
      {quantity("bandwidth", Dimension::kBandwidth, "read and write bandwidth of one node's disk", {}, kPositive)}};

  s[PlatformObject::kCatalogue] = SectionInfo{
      "",
      "the GPU catalogue's top level (platforms/gpus.json)",
      {text("description", "free text, not used", ""),
       object("gpus", "GPU name → GPU (`/gpus/<name>`); at least one")}};
  s[PlatformObject::kGpu] = SectionInfo{
      "/gpus/<name>",
      "one GPU model: datasheet peaks, memory, power and, after `frugalsim calibrate`, measured efficiencies",
      {{text("name", "the GPU's name (must equal its key in the catalogue; required in an inline GPU)"),
        "the key"},
       text("description", "free text, not used", ""),
       text("source", "datasheets behind the numbers", ""),
       object("peak", "dense peak compute rate per precision the hardware runs natively (`/gpus/<name>/peak`)"),
       {object("fallback", "precision the GPU runs instead of one it lacks (`/gpus/<name>/fallback`)"), "none"},
       quantity("memory", Dimension::kBytes, "device memory (HBM/GDDR)", {}, kPositive),
       quantity("hbm_bandwidth", Dimension::kBandwidth, "device memory bandwidth", {}, kPositive),
       quantity("idle_power", Dimension::kPower, "board power when idle (at most max_power)"),
       quantity("max_power", Dimension::kPower, "board power at full load", {}, kPositive),
       number("matmul_efficiency", "fraction of peak large GEMMs reach", 0.7, kPositive, 1),
       {number("matmul_efficiency_fp8", "fraction of the fp8 peak large fp8 GEMMs reach (an fp8 job's linear layers)",
               {}, kPositive, 1),
        "matmul_efficiency"},
       {object("gemm_efficiency", "measured efficiency of one GEMM by size: an array of [FLOPs, fraction of peak in "
                                  "(0, 1]] rows, FLOPs increasing; interpolated in log(FLOPs), clamped at the ends"),
        "the gemm_shape model, else matmul_efficiency for every GEMM"},
       {object("gemm_shape", "tile and wave model of a GEMM's efficiency by its shape (`/gpus/<name>/gemm_shape`)"),
        "matmul_efficiency for every GEMM (without a gemm_efficiency table)"},
       {object("memory_bandwidth_by_size", "measured bandwidth of memory-bound work by the bytes one op moves: an "
                                           "array of [bytes, bytes/s] rows, bytes increasing"),
        "hbm_bandwidth at every size"},
       quantity("kernel_launch", Dimension::kTime,
                "fixed cost of one kernel (launch, ramp-up, tail), paid per kernel of every compute op; fitted by "
                "`frugalsim calibrate` from the smallest GEMMs",
                0.0),
       number("overlap_slowdown",
              "how much longer a compute kernel takes, as a fraction, while a collective of its GPU runs on a "
              "communication stream (NCCL's kernels take SMs and memory bandwidth): compute runs at 1/(1 + "
              "overlap_slowdown) of its speed meanwhile",
              0.0, 0.0, 10),
       boolean("serial_streams", "the device runs one op at a time whatever its stream (a CPU core that also "
                                 "drives its own communication)",
               false)}};
  SectionInfo peak{"/gpus/<name>/peak", "dense (no sparsity) peak per precision; at least one", {}};
  SectionInfo fallback{"/gpus/<name>/fallback",
                       "for a precision without a peak, the precision a mixed-precision job runs instead (V100: "
                       "bf16 → fp16)",
                       {}};
  for (const std::string& p : core::precision_names()) {
    peak.keys.push_back({quantity(p, Dimension::kFlopRate, p + " peak", {}, kPositive), "not supported"});
    fallback.keys.push_back({choice(p, core::precision_names(), "what a " + p + " job runs as"), "none"});
  }
  s[PlatformObject::kGemmShape] = SectionInfo{
      "/gpus/<name>/gemm_shape",
      "a GEMM C[m×n] = A[m×k]·B[k×n] (batch of them) runs in output tiles, `sms` at once; for each tile shape "
      "(tm, tn, e) and split of k into s ≤ max_split_k parts, w = ⌈⌈m/tm⌉·⌈n/tn⌉·batch·s / sms⌉ waves reach "
      "e · m·n·batch·s / (w·sms·tm·tn) · (k/s) / (k/s + k_overhead); the GEMM runs at matmul_efficiency times "
      "the best of them",
      {integer("sms", "tiles that run at once (streaming multiprocessors)", core::Json(), 1, 1 << 16),
       object("tiles", "the kernels' tile shapes: an array of [tile m, tile n, efficiency in (0, 1] relative to "
                       "matmul_efficiency] rows; at least one"),
       number("k_overhead", "prologue and epilogue of one tile, in elements of k", 0.0, 0, 1e9),
       integer("max_split_k", "most parts k is split into to fill the waves (split-k)", 1, 1, 64)}};
  s[PlatformObject::kPeak] = peak;
  s[PlatformObject::kFallback] = fallback;
  return s;
}

const std::map<PlatformObject, SectionInfo>& declarations() {
  static const std::map<PlatformObject, SectionInfo> all = declare();
  return all;
}

}  // namespace

const SectionInfo& platform_keys(PlatformObject object) { return declarations().at(object); }

void finish_declared(const core::ObjectReader& reader, PlatformObject object) {
  core::finish_declared(reader, platform_keys(object));
}

std::string platform_keys_markdown() {
  std::ostringstream out;
  out << "## Cluster file\n\n"
      << "`/cluster` of a study is a name from `platforms/clusters/`, a path to a JSON file (relative to the "
         "study file), or an inline object. Every link, disk and network figure is per direction.\n";
  for (PlatformObject o :
       {PlatformObject::kCluster, PlatformObject::kNodeType, PlatformObject::kIntraNode, PlatformObject::kHostLink,
        PlatformObject::kNic, PlatformObject::kLinkFactor, PlatformObject::kNvme, PlatformObject::kCpu,
        PlatformObject::kPrice, PlatformObject::kNodes, PlatformObject::kNetwork, PlatformObject::kCollectiveOverhead,
        PlatformObject::kStorage, PlatformObject::kSharedStorage, PlatformObject::kLocalDisk})
    out << "\n" << core::markdown_section(platform_keys(o));
  out << "\n## GPU catalogue\n\n"
      << "`platforms/gpus.json` lists the GPUs a node type names; a node type may also inline a GPU object "
         "(with its `name`). `frugalsim calibrate` writes measured tables into a copy of an entry.\n";
  for (PlatformObject o : {PlatformObject::kCatalogue, PlatformObject::kGpu, PlatformObject::kPeak,
                           PlatformObject::kFallback, PlatformObject::kGemmShape})
    out << "\n" << core::markdown_section(platform_keys(o));
  return out.str();
}

}  // namespace frugal::platforms
