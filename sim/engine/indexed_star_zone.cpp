// The star routing of SimGrid 3.32's StarZone (src/kernel/routing/StarZone.cpp at v3.32), with
// members kept in a vector indexed by their netpoint id and route declarations checked through
// the netpoints' zone pointers instead of StarZone's search of every child zone (see the header).
#include "sim/engine/indexed_star_zone.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

namespace frugal::engine {
namespace {

namespace sg4 = simgrid::s4u;
using simgrid::kernel::resource::StandardLinkImpl;
using simgrid::kernel::routing::NetPoint;
using simgrid::kernel::routing::NetZoneImpl;
using simgrid::kernel::routing::Route;

std::string name_of(const NetPoint* p) { return p != nullptr ? p->get_name() : std::string("nullptr"); }

class IndexedStarZone final : public NetZoneImpl {
 public:
  explicit IndexedStarZone(const std::string& name) : NetZoneImpl(name) {}

  void add_route(NetPoint* src, NetPoint* dst, NetPoint* gw_src, NetPoint* gw_dst,
                 const std::vector<sg4::LinkInRoute>& link_list, bool symmetrical) override {
    check_route(src, dst, gw_src, gw_dst, symmetrical);
    if (src == dst) {
      member(src).loopback = hops(link_list, false);
      return;
    }
    if (src != nullptr) {
      Member& m = member(src);
      m.up = hops(link_list, false);
      m.gateway = gw_src;
      m.up_set = true;
      if (symmetrical) {
        std::vector<Hop> back = hops(link_list, true);
        m.down.assign(back.rbegin(), back.rend());
        m.down_set = true;
      }
    }
    if (dst != nullptr) {
      Member& m = member(dst);
      m.down = hops(link_list, false);
      m.gateway = gw_dst;
      m.down_set = true;
    }
  }

  void get_local_route(const NetPoint* src, const NetPoint* dst, Route* route, double* latency) override {
    const Member& from = members_.at(src->id());
    const Member& to = members_.at(dst->id());
    // Links already on the route before this zone's part do not count as taken (StarZone keeps a
    // set of the links it added itself).
    const std::size_t first = route->link_list_.size();
    auto take = [&](const std::vector<Hop>& path) {
      for (const Hop& hop : path) {
        const auto begin = route->link_list_.begin() + static_cast<std::ptrdiff_t>(first);
        if (std::find(begin, route->link_list_.end(), hop.impl) != route->link_list_.end()) continue;
        route->link_list_.push_back(hop.impl);
        if (latency != nullptr) *latency += hop.link->get_latency();
      }
    };
    if (src == dst && !from.loopback.empty()) {
      take(from.loopback);
      return;
    }
    if (!from.up_set)
      throw std::logic_error("star zone " + get_name() + " (" + src->get_name() + " - " + dst->get_name() +
                             "): no link UP from the source");
    if (!to.down_set)
      throw std::logic_error("star zone " + get_name() + " (" + src->get_name() + " - " + dst->get_name() +
                             "): no link DOWN to the destination");
    take(from.up);
    take(to.down);
    route->gw_src_ = from.gateway;
    route->gw_dst_ = to.gateway;
  }

  void get_graph(const s_xbt_graph_t* graph, std::map<std::string, xbt_node_t, std::less<>>* nodes,
                 std::map<std::string, xbt_edge_t, std::less<>>* edges) override {
    xbt_node_t centre = new_xbt_graph_node(graph, get_cname(), nodes);
    for (const NetPoint* vertex : get_vertices()) {
      const Member& m = members_.at(vertex->id());
      xbt_node_t node = new_xbt_graph_node(graph, (m.gateway ? m.gateway : vertex)->get_cname(), nodes);
      xbt_node_t previous = node;
      for (const Hop& hop : m.up) {
        xbt_node_t current = new_xbt_graph_node(graph, hop.link->get_cname(), nodes);
        new_xbt_graph_edge(graph, previous, current, edges);
        previous = current;
      }
      new_xbt_graph_edge(graph, previous, centre, edges);
      previous = centre;
      for (const Hop& hop : m.down) {
        xbt_node_t current = new_xbt_graph_node(graph, hop.link->get_cname(), nodes);
        new_xbt_graph_edge(graph, previous, current, edges);
        previous = current;
      }
      new_xbt_graph_edge(graph, previous, node, edges);
    }
  }

 private:
  /// One link of a route: what SimGrid's route holds, and its interface for the latency.
  struct Hop {
    StandardLinkImpl* impl;
    const sg4::Link* link;
  };
  struct Member {
    std::vector<Hop> up, down, loopback;
    bool up_set = false, down_set = false, declared = false;
    NetPoint* gateway = nullptr;
  };

  void do_seal() override {
    // As StarZone: a member nothing was declared for gets empty routes both ways.
    members_.resize(get_table_size());
    for (Member& m : members_)
      if (!m.declared) m.up_set = m.down_set = true;
  }

  Member& member(const NetPoint* p) {
    if (members_.size() <= p->id()) members_.resize(p->id() + 1);
    Member& m = members_[p->id()];
    m.declared = true;
    return m;
  }

  /// StarZone::check_add_route_param's checks, each in O(1) or O(gateway depth).
  void check_route(const NetPoint* src, const NetPoint* dst, const NetPoint* gw_src, const NetPoint* gw_dst,
                   bool symmetrical) const {
    if ((src == nullptr && dst == nullptr) || (src != nullptr && dst != nullptr && src != dst))
      throw std::invalid_argument("star zone " + get_name() + ": cannot add a route from " + name_of(src) + " to " +
                                  name_of(dst) + " (a route goes from one member to the centre, from the centre " +
                                  "to one member, or is a loopback)");
    if (symmetrical && src == nullptr)
      throw std::invalid_argument("star zone " + get_name() + ": a symmetrical route to " + name_of(dst) +
                                  " must be declared from it instead");
    check_member(src, gw_src);
    check_member(dst, gw_dst);
  }

  void check_member(const NetPoint* member, const NetPoint* gateway) const {
    if (member == nullptr) return;
    if (member->get_englobing_zone() != this)
      throw std::invalid_argument("star zone " + get_name() + ": " + member->get_name() + " is not directly in it");
    if (!member->is_netzone()) return;
    if (gateway == nullptr)
      throw std::invalid_argument("star zone " + get_name() + ": " + member->get_name() +
                                  " is a zone but has no gateway");
    if (gateway->is_netzone())
      throw std::invalid_argument("star zone " + get_name() + ": gateway " + gateway->get_name() + " of " +
                                  member->get_name() + " is a zone");
    const NetZoneImpl* zone = gateway->get_englobing_zone();
    while (zone != nullptr && zone->get_netpoint() != member) zone = zone->get_parent();
    if (zone == nullptr)
      throw std::invalid_argument("star zone " + get_name() + ": gateway " + gateway->get_name() + " is not in " +
                                  member->get_name());
  }

  /// NetZoneImpl::get_link_list_impl's choice of halves: a split-duplex link's UP half for
  /// Direction::UP (its DOWN half on the way back), the link itself when it is not split.
  static std::vector<Hop> hops(const std::vector<sg4::LinkInRoute>& link_list, bool backroute) {
    std::vector<Hop> out;
    out.reserve(link_list.size());
    for (const sg4::LinkInRoute& in : link_list) {
      const sg4::Link* link = in.get_link();
      if (link->get_sharing_policy() == sg4::Link::SharingPolicy::SPLITDUPLEX) {
        const auto* duplex = dynamic_cast<const sg4::SplitDuplexLink*>(link);
        if (duplex == nullptr) throw std::invalid_argument("link " + link->get_name() + " is not split-duplex");
        using Dir = sg4::LinkInRoute::Direction;
        if (in.get_direction() == Dir::UP)
          link = backroute ? duplex->get_link_down() : duplex->get_link_up();
        else if (in.get_direction() == Dir::DOWN)
          link = backroute ? duplex->get_link_up() : duplex->get_link_down();
        else
          throw std::invalid_argument("split-duplex link " + link->get_name() + " without a direction in a route");
      }
      out.push_back(Hop{link->get_impl(), link});
    }
    return out;
  }

  std::vector<Member> members_;  ///< by netpoint id (the member's rank among this zone's vertices)
};

}  // namespace

simgrid::s4u::NetZone* create_indexed_star_zone(const std::string& name) {
  return (new IndexedStarZone(name))->get_iface();
}

}  // namespace frugal::engine
