// A SimGrid zone that routes exactly like SimGrid 3.32's star zone but registers each route in
// constant time. The 3.32 StarZone checks every add_route() of a child zone by searching all of
// its children, so a star of N node zones costs O(N²) to declare; this one checks the same
// things from the netpoints' own zone pointers. Used by the platform builder for the cluster's
// star; it must not hold anything but that routing.
#pragma once

#include <string>

namespace simgrid::s4u {
class NetZone;
}

namespace frugal::engine {

/// Creates a detached zone (attach it with set_parent(), as any zone) whose routing is SimGrid
/// 3.32's StarZone's:
///  - each member (a host, router or zone placed directly in it) declares its links towards the
///    centre: add_route(member, nullptr, gateway, nullptr, links, symmetrical); symmetrical also
///    declares the links from the centre to it, the same links in reverse order with the other
///    half of each split-duplex link. add_route(nullptr, member, nullptr, gateway, links, false)
///    declares only the links from the centre; add_route(m, m, ...) a loopback;
///  - the route from member a to member b is a's links towards the centre, then b's links from
///    it, a link already taken by this route (a shared backbone) taken only once; its latency is
///    the sum of the links' latencies, in that order; the gateways are a's and b's;
///  - a member without any declaration has empty routes once the zone is sealed.
/// Declaring a route costs O(depth of the gateway below the member), never O(members).
/// Throws std::invalid_argument where StarZone would (a route neither from nor to one member,
/// symmetrical towards a member, a zone member without gateway, a gateway that is a zone or lies
/// outside its member) and, stricter, when the member is not directly in this zone.
simgrid::s4u::NetZone* create_indexed_star_zone(const std::string& name);

}  // namespace frugal::engine
