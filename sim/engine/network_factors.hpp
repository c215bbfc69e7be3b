// Message-size factors of the links (platforms::LinkSpec::factors) applied through SimGrid's
// network factor callbacks, so a calibrated platform reproduces measured latency and bandwidth
// curves rather than one α-β line.
// Approximation: SimGrid hands the callbacks the size of each transfer, so the aggregate
// collective model (coarse_collectives.hpp), which moves a member's whole step volume as one
// transfer, gets the factor of that volume, not of the step-by-step messages it stands for.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "platforms/cluster_spec.hpp"

namespace simgrid::s4u {
class Link;
}

namespace frugal::engine {

/// Which links carry factors, by link class. When a route crosses links of several classes, the
/// highest class decides (a message between nodes follows its NIC's curve, not its NVLink's).
enum class LinkClass { kHostLink = 1, kGpuLink = 2, kNic = 3, kStorage = 4 };

class NetworkFactors {
 public:
  /// Records both halves of a split-duplex link (a no-op when `spec` has no factors).
  void add(const simgrid::s4u::Link* up, const simgrid::s4u::Link* down, const platforms::LinkSpec& spec,
           LinkClass link_class);
  bool empty() const { return by_link_.empty(); }

  /// The factor for a message of `bytes` over `links` (nullptr: none applies, i.e. 1 and 1).
  const platforms::SizeFactor* lookup(double bytes, const std::vector<simgrid::s4u::Link*>& links) const;

  /// Installs the latency and bandwidth callbacks on the current engine's network model (which
  /// must be CM02-like and have no factor configured otherwise). Does nothing when empty(). The
  /// callbacks share ownership of `self`.
  static void install(const std::shared_ptr<const NetworkFactors>& self);

 private:
  struct Entry {
    LinkClass link_class;
    platforms::LinkSpec link;  ///< its factors are the table
  };
  std::vector<Entry> entries_;
  std::unordered_map<const simgrid::s4u::Link*, std::size_t> by_link_;
};

}  // namespace frugal::engine
