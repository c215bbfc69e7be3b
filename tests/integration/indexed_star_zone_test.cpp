// The indexed star zone against SimGrid 3.32's own StarZone: the same declarations (child zones
// behind gateways, a link shared by every member, hosts declared one way or symmetrically, a
// loopback, a host declared nothing) give the same routes, links in order and latency; and the
// declarations StarZone refuses are refused.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/engine/indexed_star_zone.hpp"

namespace {

namespace sg4 = simgrid::s4u;
using Dir = sg4::LinkInRoute::Direction;

sg4::Engine& engine() {
  static std::vector<std::string> args = {"indexed_star_zone_test", "--log=root.thres:critical"};
  static std::vector<char*> argv = {args[0].data(), args[1].data(), nullptr};
  static int argc = 2;
  static sg4::Engine e(&argc, argv.data());
  return e;
}

struct Star {
  std::vector<sg4::Host*> hosts;  ///< zone members first (h0..h3), then the child zones' hosts
};

/// Fills `star` (attached to `root`) with the same content, every name prefixed by `p`.
Star fill(sg4::NetZone* root, sg4::NetZone* star, const std::string& p) {
  star->set_parent(root);
  Star s;
  sg4::Link* shared = star->create_link(p + "shared", 1e9)->set_latency(3e-7)->seal();
  auto duplex = [&](sg4::NetZone* z, const std::string& name, double latency_s) {
    return z->create_split_duplex_link(p + name, 1e9)->set_latency(latency_s)->seal();
  };
  for (int i = 0; i < 4; ++i) s.hosts.push_back(star->create_host(p + "h" + std::to_string(i), 1e9)->seal());
  auto* l0 = duplex(star, "l0", 1e-6);
  star->add_route(s.hosts[0]->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(l0, Dir::UP)}, false);
  star->add_route(nullptr, s.hosts[0]->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(l0, Dir::DOWN)}, false);
  auto* l1 = duplex(star, "l1", 2e-6);
  star->add_route(s.hosts[1]->get_netpoint(), nullptr, nullptr, nullptr,
                  {sg4::LinkInRoute(l1, Dir::UP), sg4::LinkInRoute(shared)}, true);
  auto* l2 = duplex(star, "l2", 4e-6);
  sg4::Link* loop = star->create_link(p + "loop", 1e10)->set_latency(5e-8)->seal();
  star->add_route(s.hosts[2]->get_netpoint(), nullptr, nullptr, nullptr, {sg4::LinkInRoute(l2, Dir::UP)}, true);
  star->add_route(s.hosts[2]->get_netpoint(), s.hosts[2]->get_netpoint(), nullptr, nullptr,
                  {sg4::LinkInRoute(loop)}, false);
  // h3: nothing declared (empty routes both ways once sealed).
  for (int z = 0; z < 3; ++z) {
    std::string zone = "z";
    zone += std::to_string(z);
    sg4::NetZone* child = sg4::create_full_zone(p + zone);
    child->set_parent(star);
    auto* gw = child->create_router(p + zone + "-gw");
    for (int h = 0; h < 2; ++h) {
      sg4::Host* host = child->create_host(p + zone + "-h" + std::to_string(h), 1e9)->seal();
      auto* l = duplex(child, zone + "-l" + std::to_string(h), 1e-7 * (h + 1));
      child->add_route(host->get_netpoint(), gw, nullptr, nullptr, {sg4::LinkInRoute(l, Dir::UP)}, true);
      s.hosts.push_back(host);
    }
    child->seal();
    auto* up = duplex(star, "up" + std::to_string(z), 1e-5 * (z + 1));
    star->add_route(child->get_netpoint(), nullptr, gw, nullptr,
                    {sg4::LinkInRoute(up, Dir::UP), sg4::LinkInRoute(shared)}, true);
  }
  star->seal();
  return s;
}

/// Route from `a` to `b` as "latency: link link ...", names without their prefix.
std::string route(const sg4::Host* a, const sg4::Host* b, std::size_t prefix) {
  std::vector<sg4::Link*> links;
  double latency_s = 0;
  a->route_to(b, links, &latency_s);
  std::string out = std::to_string(latency_s * 1e9) + " ns:";
  for (const sg4::Link* l : links) {
    out += ' ';
    out += l->get_name().substr(prefix);
  }
  return out;
}

bool refused(const std::function<void()>& declare) {
  try {
    declare();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

}  // namespace

TEST(IndexedStarZone, RoutesExactlyAsSimGridsStarZone) {
  engine();
  sg4::NetZone* root = sg4::create_star_zone("root");
  const Star ref = fill(root, sg4::create_star_zone("ref"), "ref-");
  const Star ours = fill(root, frugal::engine::create_indexed_star_zone("ours"), "our-");
  root->seal();
  // Members with each other (h3 declared nothing), and hosts of the child zones with each other.
  const std::vector<std::pair<int, int>> blocks = {{0, 4}, {4, 10}};
  int compared = 0;
  for (auto [begin, end] : blocks)
    for (int a = begin; a < end; ++a)
      for (int b = begin; b < end; ++b) {
        const std::string expected = route(ref.hosts[a], ref.hosts[b], 4);
        EXPECT_EQ(route(ours.hosts[a], ours.hosts[b], 4), expected) << a << " -> " << b;
        ++compared;
      }
  EXPECT_EQ(compared, 16 + 36);
  // The shared link once, between the two uplinks; the loopback; one-way declarations.
  EXPECT_EQ(route(ours.hosts[4], ours.hosts[9], 4),
            std::to_string((1e-7 + 1e-5 + 3e-7 + 3e-5 + 2e-7) * 1e9) +
                " ns: z0-l0_UP up0_UP shared up2_DOWN z2-l1_DOWN");
  EXPECT_EQ(route(ours.hosts[2], ours.hosts[2], 4), std::to_string(5e-8 * 1e9) + " ns: loop");
  EXPECT_EQ(route(ours.hosts[0], ours.hosts[1], 4), std::to_string((1e-6 + 3e-7 + 2e-6) * 1e9) +
                                                        " ns: l0_UP shared l1_DOWN");
}

TEST(IndexedStarZone, RefusesWhatStarZoneRefuses) {
  engine();
  sg4::NetZone* root = sg4::create_star_zone("root");
  for (sg4::NetZone* star : {sg4::create_star_zone("ref"), frugal::engine::create_indexed_star_zone("ours")}) {
    const std::string p = star->get_name();
    star->set_parent(root);
    sg4::Host* a = star->create_host(p + "-a", 1e9);
    sg4::Host* b = star->create_host(p + "-b", 1e9);
    sg4::NetZone* child = sg4::create_full_zone(p + "-child");
    child->set_parent(star);
    auto* inside = child->create_router(p + "-inside");
    auto* outside = star->create_router(p + "-outside");
    auto* link = star->create_link(p + "-link", 1e9);
    const std::vector<sg4::LinkInRoute> links{sg4::LinkInRoute(link)};
    EXPECT_TRUE(refused([&] { star->add_route(nullptr, nullptr, nullptr, nullptr, links, false); })) << p;
    EXPECT_TRUE(refused([&] { star->add_route(a->get_netpoint(), b->get_netpoint(), nullptr, nullptr, links, false); }))
        << p;
    EXPECT_TRUE(refused([&] { star->add_route(nullptr, a->get_netpoint(), nullptr, nullptr, links, true); })) << p;
    EXPECT_TRUE(refused([&] { star->add_route(child->get_netpoint(), nullptr, nullptr, nullptr, links, true); })) << p;
    EXPECT_TRUE(refused([&] { star->add_route(child->get_netpoint(), nullptr, outside, nullptr, links, true); })) << p;
    EXPECT_TRUE(refused([&] {
      star->add_route(child->get_netpoint(), nullptr, star->get_netpoint(), nullptr, links, true);
    })) << p;
    EXPECT_FALSE(refused([&] { star->add_route(child->get_netpoint(), nullptr, inside, nullptr, links, true); })) << p;
    EXPECT_FALSE(refused([&] { star->add_route(nullptr, b->get_netpoint(), nullptr, nullptr, links, false); })) << p;
  }
}
