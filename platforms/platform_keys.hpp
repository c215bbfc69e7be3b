// The keys of cluster files and of the GPU catalogue, declared once. read_cluster and read_gpu
// finish every object they read against these declarations (a key the code reads but does not
// declare is an internal error, found by any test that reads such an object), and
// docs/reference.md is generated from them, so the readers and the reference cannot drift.
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/plugin.hpp"

namespace frugal::platforms {

/// The most GPUs one cluster may have (2^20), checked before any node is expanded: ten times the
/// largest machines built, and a bound on what one simulation process can hold.
inline constexpr std::int64_t kMaxClusterGpus = std::int64_t{1} << 20;

/// Every object of a cluster file (platforms/clusters/*.json, a study's inline `/cluster`) and of
/// the GPU catalogue (platforms/gpus.json, a node type's inline `gpu`).
enum class PlatformObject {
  kCluster,             ///< the file's top level
  kNodeType,            ///< /node_types/<name>
  kIntraNode,           ///< /node_types/<name>/intra_node
  kHostLink,            ///< /node_types/<name>/host_link
  kNic,                 ///< /node_types/<name>/nic
  kLinkFactor,          ///< <any link>/factors/<i>
  kNvme,                ///< /node_types/<name>/nvme
  kCpu,                 ///< /node_types/<name>/cpu
  kPrice,               ///< /node_types/<name>/price
  kNodes,               ///< /nodes/<i>
  kNetwork,             ///< /network
  kCollectiveOverhead,  ///< /network/collective_overhead
  kStorage,             ///< /storage
  kSharedStorage,       ///< /storage/shared
  kLocalDisk,           ///< /storage/local_disk
  kCatalogue,           ///< platforms/gpus.json's top level
  kGpu,                 ///< /gpus/<name> (or a node type's inline gpu)
  kPeak,                ///< /gpus/<name>/peak
  kFallback,            ///< /gpus/<name>/fallback
  kGemmShape,           ///< /gpus/<name>/gemm_shape
};

/// The declared keys of one object.
const core::SectionInfo& platform_keys(PlatformObject object);

/// Checks that every key `reader` was asked for is declared for `object` (InternalError
/// otherwise), then finishes it (unknown keys in the input are ConfigErrors).
void finish_declared(const core::ObjectReader& reader, PlatformObject object);

/// docs/reference.md's sections on cluster files and the GPU catalogue.
std::string platform_keys_markdown();

}  // namespace frugal::platforms
