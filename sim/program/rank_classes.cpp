// Compact programs: lookups, expansion and validation (rank_classes.hpp).
#include "sim/program/rank_classes.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "sim/core/error.hpp"

namespace frugal::program {

ClassView::ClassView(const Program& program) : program_(&program) {
  if (!program.compact()) return;
  where_.assign(program.ranks.size(), {-1, -1});
  for (std::size_t c = 0; c < program.classes.size(); ++c)
    for (std::size_t k = 0; k < program.classes[c].members.size(); ++k) {
      const auto r = program.classes[c].members[k].rank.value;
      if (r >= 0 && r < static_cast<std::int64_t>(where_.size()))
        where_[static_cast<std::size_t>(r)] = {static_cast<int>(c), static_cast<int>(k)};
    }
}

const RankClass::Member* ClassView::member(RankId rank) const {
  if (where_.empty()) return nullptr;
  const auto [c, k] = where_.at(static_cast<std::size_t>(rank.value));
  if (c < 0) return nullptr;
  return &program_->classes[static_cast<std::size_t>(c)].members[static_cast<std::size_t>(k)];
}

RankId ClassView::representative(RankId rank) const {
  if (where_.empty()) return rank;
  const int c = where_.at(static_cast<std::size_t>(rank.value)).first;
  return c < 0 ? rank : program_->classes[static_cast<std::size_t>(c)].representative;
}

const RankProgram& ClassView::lowered(RankId rank) const {
  return program_->ranks.at(static_cast<std::size_t>(representative(rank).value));
}

int ClassView::rename_group(RankId rank, int group) const {
  const RankClass::Member* m = member(rank);
  if (!m) return group;
  for (const auto& [from, to] : m->groups)
    if (from == group) return to;
  throw core::InternalError("rank " + std::to_string(rank.value) + ": its class does not map group " + std::to_string(group));
}

RankId ClassView::rename_peer(RankId rank, RankId peer) const {
  const RankClass::Member* m = member(rank);
  if (!m) return peer;
  for (const auto& [from, to] : m->peers)
    if (from == peer) return to;
  throw core::InternalError("rank " + std::to_string(rank.value) + ": its class does not map peer " +
                            std::to_string(peer.value));
}

int ClassView::group_at(RankId rank, std::size_t op) const {
  return rename_group(rank, lowered(rank).ops.at(op).collective().group);
}

RankId ClassView::peer_at(RankId rank, std::size_t op) const {
  return rename_peer(rank, lowered(rank).ops.at(op).p2p().peer);
}

RankProgram ClassView::expand(RankId rank) const {
  const RankProgram& own = program_->ranks.at(static_cast<std::size_t>(rank.value));
  if (!member(rank)) return own;
  RankProgram out = lowered(rank);
  out.rank = rank;
  out.gpu = own.gpu;
  out.represented_by = RankId();
  for (Op& op : out.ops) {
    if (op.kind == OpKind::kCollective) {
      auto& c = std::get<Collective>(op.payload);
      c.group = rename_group(rank, c.group);
      if (c.kind == CollectiveKind::kBroadcast) {
        // The root keeps its position in the group.
        const auto& from = program_->groups.at(static_cast<std::size_t>(lowered(rank).ops[static_cast<std::size_t>(op.id.value)].collective().group)).ranks;
        const auto& to = program_->groups.at(static_cast<std::size_t>(c.group)).ranks;
        const auto at = std::find(from.begin(), from.end(), c.root) - from.begin();
        if (at < static_cast<std::ptrdiff_t>(to.size())) c.root = to[static_cast<std::size_t>(at)];
      }
    } else if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
      auto& p = std::get<PointToPoint>(op.payload);
      p.peer = rename_peer(rank, p.peer);
    }
  }
  return out;
}

Program expand(const Program& program) {
  if (!program.compact()) return program;
  const ClassView view(program);
  Program out;
  out.metadata = program.metadata;
  out.groups = program.groups;
  out.ranks.reserve(program.ranks.size());
  for (const RankProgram& rp : program.ranks) out.ranks.push_back(view.expand(rp.rank));
  return out;
}

namespace {

/// Order-independent hash of a multiset of 64-bit values (sum of mixed values).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
std::uint64_t bits(double v) {
  std::uint64_t u;
  static_assert(sizeof u == sizeof v);
  std::memcpy(&u, &v, sizeof u);
  return u;
}

}  // namespace

void validate_compact(const Program& program, const std::string& file) {
  auto fail = [&](const std::string& pointer, const std::string& message) {
    throw core::ConfigError(file, pointer, message);
  };
  const auto n_ranks = static_cast<std::int64_t>(program.ranks.size());
  const auto n_groups = static_cast<int>(program.groups.size());
  if (n_ranks == 0) fail("/ranks", "a program needs at least one rank");
  auto in_group = [&](int g, RankId r) {
    const auto& ranks = program.groups[static_cast<std::size_t>(g)].ranks;
    return std::find(ranks.begin(), ranks.end(), r) != ranks.end();
  };

  // Classes: every rank without ops is listed once, by its representative's class.
  std::vector<int> class_of(static_cast<std::size_t>(n_ranks), -1);
  for (std::size_t c = 0; c < program.classes.size(); ++c) {
    const RankClass& rc = program.classes[c];
    const std::string cp = "/classes/" + std::to_string(c);
    const auto rep = rc.representative.value;
    if (rep < 0 || rep >= n_ranks || program.ranks[static_cast<std::size_t>(rep)].represented_by.valid())
      fail(cp + "/representative", "not a rank with ops");
    if (class_of[static_cast<std::size_t>(rep)] >= 0) fail(cp + "/representative", "representative of two classes");
    class_of[static_cast<std::size_t>(rep)] = static_cast<int>(c);
    for (std::size_t k = 0; k < rc.members.size(); ++k) {
      const auto& m = rc.members[k];
      const std::string mp = cp + "/members/" + std::to_string(k);
      if (m.rank.value < 0 || m.rank.value >= n_ranks || class_of[static_cast<std::size_t>(m.rank.value)] >= 0)
        fail(mp + "/rank", "rank " + std::to_string(m.rank.value) + " missing or in two classes");
      if (program.ranks[static_cast<std::size_t>(m.rank.value)].represented_by != rc.representative)
        fail(mp + "/rank", "the rank is not represented by this class's representative");
      class_of[static_cast<std::size_t>(m.rank.value)] = static_cast<int>(c);
      for (const auto& [from, to] : m.groups)
        if (from < 0 || from >= n_groups || to < 0 || to >= n_groups || !in_group(to, m.rank))
          fail(mp + "/groups", "group " + std::to_string(to) + " does not hold rank " + std::to_string(m.rank.value));
      for (const auto& [from, to] : m.peers)
        if (to.value < 0 || to.value >= n_ranks || to == m.rank)
          fail(mp + "/peers", "peer " + std::to_string(to.value) + " is not another rank of the program");
    }
  }
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankProgram& rp = program.ranks[static_cast<std::size_t>(r)];
    const std::string rpath = "/ranks/" + std::to_string(r);
    if (rp.rank.value != r) fail(rpath + "/rank", "ranks must be listed in order: expected " + std::to_string(r));
    if (rp.represented_by.valid() && (!rp.ops.empty() || !rp.resident.empty()))
      fail(rpath, "a represented rank has no ops or resident buffers of its own");
    if (rp.represented_by.valid() && class_of[static_cast<std::size_t>(r)] < 0)
      fail(rpath + "/represented_by", "the rank is in no class of its representative");
  }

  // Per lowered rank: its own checks, through validate() on a program of that rank alone whose
  // collectives run on singleton groups and whose transfers are left out (matched below).
  const ClassView view(program);
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankProgram& rp = program.ranks[static_cast<std::size_t>(r)];
    if (rp.represented_by.valid()) continue;
    Program alone;
    alone.groups.assign(program.groups.size(), Group{"", {RankId(0)}});
    RankProgram solo = rp;
    solo.rank = RankId(0);
    for (Op& op : solo.ops) {
      if (op.kind == OpKind::kCollective) {
        const int g = op.collective().group;
        if (g < 0 || g >= n_groups) fail("/ranks/" + std::to_string(r) + "/ops/" + std::to_string(op.id.value) + "/group", "unknown group " + std::to_string(g));
        if (!in_group(g, RankId(r)))
          fail("/ranks/" + std::to_string(r) + "/ops/" + std::to_string(op.id.value) + "/group",
               "rank " + std::to_string(r) + " is not a member of group \"" + program.groups[static_cast<std::size_t>(g)].name + "\"");
        std::get<Collective>(op.payload).root = RankId(0);
      } else if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
        op.kind = OpKind::kCheckpointWrite;  // same place in the stream, no peer
        op.payload = CheckpointWrite{op.p2p().bytes};
      }
    }
    alone.ranks.push_back(std::move(solo));
    try {
      validate(alone, file);
    } catch (const core::ConfigError& e) {
      std::string pointer = e.pointer();
      if (pointer.rfind("/ranks/0", 0) == 0) pointer = "/ranks/" + std::to_string(r) + pointer.substr(8);
      fail(pointer, e.message());
    }
  }

  // Across ranks. A lowered rank's calls on each of its groups, and its transfers with each
  // peer, hashed once; every rank then stands for its representative's hashes, renamed.
  struct Calls {
    std::uint64_t sequence = 0;  ///< ordered: (instance, kind, bytes) of each call
    std::int64_t count = 0;
  };
  std::unordered_map<std::int64_t, std::map<int, Calls>> calls;  // lowered rank → group → calls
  std::unordered_map<std::int64_t, std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>>> transfers;  // → peer → (sends, recvs)
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankProgram& rp = program.ranks[static_cast<std::size_t>(r)];
    if (rp.represented_by.valid()) continue;
    for (const Op& op : rp.ops) {
      if (op.kind == OpKind::kCollective) {
        const Collective& c = op.collective();
        Calls& k = calls[r][c.group];
        k.sequence = mix(k.sequence ^ mix(static_cast<std::uint64_t>(c.instance) * 8 + static_cast<std::uint64_t>(c.kind)) ^ bits(c.bytes));
        ++k.count;
      } else if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
        auto& t = transfers[r][op.p2p().peer.value];
        const std::uint64_t h = mix(mix(static_cast<std::uint64_t>(op.p2p().tag)) ^ bits(op.p2p().bytes));
        (op.kind == OpKind::kSend ? t.first : t.second) += h;
      }
    }
  }
  // Every member of a group calls the same sequence on it.
  std::vector<std::pair<const Calls*, std::int64_t>> first(program.groups.size(), {nullptr, -1});
  std::vector<std::int64_t> callers(program.groups.size(), 0);
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankId rep = view.representative(RankId(r));
    for (const auto& [g, k] : calls[rep.value]) {
      const int own = view.rename_group(RankId(r), g);
      auto& [seen, who] = first[static_cast<std::size_t>(own)];
      if (!seen) {
        seen = &k;
        who = r;
      } else if (seen->sequence != k.sequence || seen->count != k.count) {
        fail("/ranks/" + std::to_string(r),
             "calls collectives on group \"" + program.groups[static_cast<std::size_t>(own)].name +
                 "\" that differ from rank " + std::to_string(who) + "'s (instances, kinds or sizes)");
      }
      ++callers[static_cast<std::size_t>(own)];
    }
  }
  for (std::size_t g = 0; g < program.groups.size(); ++g)
    if (callers[g] != 0 && callers[g] != static_cast<std::int64_t>(program.groups[g].ranks.size()))
      fail("/groups/" + std::to_string(g), "collectives of group \"" + program.groups[g].name + "\" are called by " +
                                               std::to_string(callers[g]) + " of its " +
                                               std::to_string(program.groups[g].ranks.size()) + " ranks");
  // Sends from a to b equal the receives b posts from a.
  std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::uint64_t, std::uint64_t>> pairs;  // (src, dst) → (sent, received)
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankId rep = view.representative(RankId(r));
    for (const auto& [peer, t] : transfers[rep.value]) {
      const std::int64_t own = view.rename_peer(RankId(r), RankId(peer)).value;
      pairs[{r, own}].first += t.first;
      pairs[{own, r}].second += t.second;
    }
  }
  for (const auto& [key, sums] : pairs)
    if (sums.first != sums.second)
      fail("/ranks/" + std::to_string(key.first), "sends from rank " + std::to_string(key.first) + " to rank " +
                                                       std::to_string(key.second) + " do not match its receives (tags or sizes)");
}

}  // namespace frugal::program
