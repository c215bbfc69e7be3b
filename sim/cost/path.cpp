// Route closed forms of the cluster (see path.hpp); platform_builder builds exactly these routes.
#include "sim/cost/path.hpp"

#include <algorithm>

namespace frugal::cost {

double Path::seconds(double bytes) const {
  return latency_s + (bytes > 0 && bandwidth_bytes_per_s > 0 ? bytes / bandwidth_bytes_per_s : 0.0);
}

Path gpu_path(const platforms::Cluster& cluster, int from, int to) {
  const auto& a = cluster.gpus.at(from);
  const auto& b = cluster.gpus.at(to);
  const platforms::NodeType& ta = cluster.type_of_gpu(from);
  const platforms::NodeType& tb = cluster.type_of_gpu(to);
  if (a.node == b.node)
    return {2 * ta.gpu_link.latency_s, ta.gpu_link.bandwidth_bytes_per_s};
  double bw = std::min(ta.nic.bandwidth_bytes_per_s, tb.nic.bandwidth_bytes_per_s);
  bw = std::min(bw, std::max(1, ta.nics_per_node) * ta.nic.bandwidth_bytes_per_s);
  bw = std::min(bw, std::max(1, tb.nics_per_node) * tb.nic.bandwidth_bytes_per_s);
  if (cluster.network.backbone_bandwidth_bytes_per_s > 0) bw = std::min(bw, cluster.network.backbone_bandwidth_bytes_per_s);
  return {ta.nic.latency_s + std::max(0.0, cluster.network.switch_latency_s) + tb.nic.latency_s, bw};
}

Path nvls_path(const platforms::Cluster& cluster, int gpu) {
  const platforms::NodeType& t = cluster.type_of_gpu(gpu);
  if (!(t.nvls_bandwidth_bytes_per_s > 0)) return {};
  return {2 * t.gpu_link.latency_s, std::min(t.gpu_link.bandwidth_bytes_per_s, t.nvls_bandwidth_bytes_per_s)};
}

Path host_path(const platforms::Cluster& cluster, int gpu) {
  const platforms::NodeType& t = cluster.type_of_gpu(gpu);
  return {t.host_link.latency_s, t.host_link.bandwidth_bytes_per_s};
}

}  // namespace frugal::cost
