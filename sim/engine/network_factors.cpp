// Link size factors through SimGrid's factor callbacks (see network_factors.hpp).
#include "sim/engine/network_factors.hpp"

#include <simgrid/kernel/resource/NetworkModelIntf.hpp>
#include <simgrid/s4u.hpp>

namespace frugal::engine {

void NetworkFactors::add(const simgrid::s4u::Link* up, const simgrid::s4u::Link* down,
                         const platforms::LinkSpec& spec, LinkClass link_class) {
  if (spec.factors.empty()) return;
  // Links of one class share their spec's table: reuse the entry when it is the same.
  std::size_t index = entries_.size();
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].link_class == link_class && entries_[i].link.factors == spec.factors) index = i;
  if (index == entries_.size()) entries_.push_back(Entry{link_class, spec});
  by_link_[up] = index;
  by_link_[down] = index;
}

const platforms::SizeFactor* NetworkFactors::lookup(double bytes, const std::vector<simgrid::s4u::Link*>& links) const {
  const Entry* best = nullptr;
  for (const simgrid::s4u::Link* link : links) {
    const auto it = by_link_.find(link);
    if (it == by_link_.end()) continue;
    const Entry& e = entries_[it->second];
    if (best == nullptr || e.link_class > best->link_class) best = &e;
  }
  return best != nullptr ? best->link.factor_for(bytes) : nullptr;
}

void NetworkFactors::install(const std::shared_ptr<const NetworkFactors>& self) {
  if (self->empty()) return;
  auto* model = simgrid::s4u::Engine::get_instance()->get_netzone_root()->get_network_model();
  model->set_lat_factor_cb([self](double size, const simgrid::s4u::Host*, const simgrid::s4u::Host*,
                                  const std::vector<simgrid::s4u::Link*>& links,
                                  const std::unordered_set<simgrid::s4u::NetZone*>&) {
    const platforms::SizeFactor* f = self->lookup(size, links);
    return f != nullptr ? f->latency : 1.0;
  });
  model->set_bw_factor_cb([self](double size, const simgrid::s4u::Host*, const simgrid::s4u::Host*,
                                 const std::vector<simgrid::s4u::Link*>& links,
                                 const std::unordered_set<simgrid::s4u::NetZone*>&) {
    const platforms::SizeFactor* f = self->lookup(size, links);
    return f != nullptr ? f->bandwidth : 1.0;
  });
}

}  // namespace frugal::engine
