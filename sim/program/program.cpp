// Program IR: names of enums, the builder used by lowering, and validation.
#include "sim/program/program.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "sim/program/rank_classes.hpp"

namespace frugal::program {
namespace {

template <class E>
const std::vector<std::string>& names_of();

template <>
const std::vector<std::string>& names_of<OpKind>() {
  static const std::vector<std::string> n = {"compute", "collective", "send", "recv",
                                             "copy",    "alloc",      "free", "checkpoint_write"};
  return n;
}
template <>
const std::vector<std::string>& names_of<Phase>() {
  static const std::vector<std::string> n = {"forward", "backward", "recompute", "optimizer", "other"};
  return n;
}
template <>
const std::vector<std::string>& names_of<CollectiveKind>() {
  static const std::vector<std::string> n = {"all_reduce", "reduce_scatter", "all_gather", "broadcast",
                                             "all_to_all"};
  return n;
}
template <>
const std::vector<std::string>& names_of<CollectiveAlgorithm>() {
  static const std::vector<std::string> n = {"ring", "hierarchical", "tree", "nvls", "auto"};
  return n;
}
template <>
const std::vector<std::string>& names_of<CopyDirection>() {
  static const std::vector<std::string> n = {"device_to_host", "host_to_device", "host_to_nvme", "nvme_to_host"};
  return n;
}
template <>
const std::vector<std::string>& names_of<Location>() {
  static const std::vector<std::string> n = {"device", "host", "nvme"};
  return n;
}
template <>
const std::vector<std::string>& names_of<MemoryTag>() {
  static const std::vector<std::string> n = {"parameters", "gradients", "optimizer", "activations",
                                             "buffers",    "workspace", "reserved"};
  return n;
}
template <>
const std::vector<std::string>& names_of<Stream>() {
  static const std::vector<std::string> n = {"compute", "comm", "copy", "host", "data_comm"};
  return n;
}

}  // namespace

std::string to_string(OpKind v) { return names_of<OpKind>()[static_cast<int>(v)]; }
std::string to_string(Phase v) { return names_of<Phase>()[static_cast<int>(v)]; }
std::string to_string(CollectiveKind v) { return names_of<CollectiveKind>()[static_cast<int>(v)]; }
std::string to_string(CollectiveAlgorithm v) { return names_of<CollectiveAlgorithm>()[static_cast<int>(v)]; }
std::string to_string(CopyDirection v) { return names_of<CopyDirection>()[static_cast<int>(v)]; }
std::string to_string(Location v) { return names_of<Location>()[static_cast<int>(v)]; }
std::string to_string(MemoryTag v) { return names_of<MemoryTag>()[static_cast<int>(v)]; }
std::string to_string(Stream v) { return names_of<Stream>()[static_cast<int>(v)]; }

double busbw_factor(CollectiveKind kind, int n) {
  const double dn = std::max(1, n);
  switch (kind) {
    case CollectiveKind::kAllReduce: return 2.0 * (dn - 1) / dn;
    case CollectiveKind::kReduceScatter:
    case CollectiveKind::kAllGather:
    case CollectiveKind::kAllToAll: return (dn - 1) / dn;
    case CollectiveKind::kBroadcast: return 1.0;
  }
  return 1.0;
}

std::string describe(CollectiveAlgorithm v) {
  switch (v) {
    case CollectiveAlgorithm::kRing:
      return "ring over the group: n-1 steps of S/n bytes between neighbours per phase (reduce-scatter, "
             "all-gather; all-reduce is both)";
    case CollectiveAlgorithm::kHierarchical:
      return "all-reduce as intra-node reduce-scatter, inter-node ring among GPUs of the same local index, "
             "intra-node all-gather; needs >= 2 nodes with the same number (>= 2) of members each, else ring";
    case CollectiveAlgorithm::kTree:
      return "all-reduce over NCCL's double binary trees of nodes, a chain through each node's members, one pair of "
             "trees per rail channel, reduce and broadcast pipelined in pieces; needs >= 2 nodes with the same "
             "number of members each, else ring";
    case CollectiveAlgorithm::kNvls:
      return "all-reduce in the NVSwitch (NVLink SHARP): each member sends S to the switch and receives the sum, at "
             "the node's nvls_bandwidth; needs a group inside one node whose type declares it, else ring";
    case CollectiveAlgorithm::kAuto:
      return "the fastest of the algorithms the group allows for this size and kind by their closed forms, "
             "chosen per collective (NCCL's tuning by size and scale)";
  }
  return "?";
}

std::vector<CollectiveAlgorithm> all_collective_algorithms() {
  return {CollectiveAlgorithm::kRing, CollectiveAlgorithm::kHierarchical, CollectiveAlgorithm::kTree,
          CollectiveAlgorithm::kNvls};
}

template <class E>
E enum_from_string(const std::string& s, bool* ok) {
  const auto& n = names_of<E>();
  for (std::size_t i = 0; i < n.size(); ++i)
    if (n[i] == s) { *ok = true; return static_cast<E>(i); }
  *ok = false;
  return E{};
}

template <class E>
const std::vector<std::string>& enum_names() { return names_of<E>(); }

// Explicit instantiations used by program_json.cpp.
template OpKind enum_from_string<OpKind>(const std::string&, bool*);
template Phase enum_from_string<Phase>(const std::string&, bool*);
template CollectiveKind enum_from_string<CollectiveKind>(const std::string&, bool*);
template CollectiveAlgorithm enum_from_string<CollectiveAlgorithm>(const std::string&, bool*);
template CopyDirection enum_from_string<CopyDirection>(const std::string&, bool*);
template MemoryTag enum_from_string<MemoryTag>(const std::string&, bool*);
template Location enum_from_string<Location>(const std::string&, bool*);
template Stream enum_from_string<Stream>(const std::string&, bool*);
template const std::vector<std::string>& enum_names<OpKind>();
template const std::vector<std::string>& enum_names<Phase>();
template const std::vector<std::string>& enum_names<CollectiveKind>();
template const std::vector<std::string>& enum_names<CollectiveAlgorithm>();
template const std::vector<std::string>& enum_names<CopyDirection>();
template const std::vector<std::string>& enum_names<MemoryTag>();
template const std::vector<std::string>& enum_names<Location>();
template const std::vector<std::string>& enum_names<Stream>();

Location copy_source(CopyDirection d) {
  switch (d) {
    case CopyDirection::kDeviceToHost: return Location::kDevice;
    case CopyDirection::kHostToDevice:
    case CopyDirection::kHostToNvme: return Location::kHost;
    case CopyDirection::kNvmeToHost: return Location::kNvme;
  }
  return Location::kDevice;
}

Location copy_destination(CopyDirection d) {
  switch (d) {
    case CopyDirection::kHostToDevice: return Location::kDevice;
    case CopyDirection::kDeviceToHost:
    case CopyDirection::kNvmeToHost: return Location::kHost;
    case CopyDirection::kHostToNvme: return Location::kNvme;
  }
  return Location::kDevice;
}

OpId RankBuilder::add(OpKind kind, Stream stream, std::string name, std::vector<OpId> deps,
                      decltype(Op::payload) payload) {
  // Moved in whole (an aggregate: braces, which every compiler of the project accepts).
  const OpId id(static_cast<std::int64_t>(target_->ops.size()));
  target_->ops.push_back(Op{id, kind, stream, std::move(name), std::move(deps), std::move(payload)});
  return id;
}

OpId RankBuilder::compute(std::string name, Compute c, std::vector<OpId> deps) {
  return add(OpKind::kCompute, Stream::kCompute, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::collective(std::string name, Collective c, std::vector<OpId> deps, Stream stream) {
  return add(OpKind::kCollective, stream, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::alloc(Memory m, std::vector<OpId> deps) {
  std::string name;
  name.reserve(6 + m.buffer.size());
  name.append("alloc ").append(m.buffer);
  return add(OpKind::kAlloc, Stream::kCompute, std::move(name), std::move(deps), std::move(m));
}

OpId RankBuilder::free(Memory m, std::vector<OpId> deps) {
  std::string name;
  name.reserve(5 + m.buffer.size());
  name.append("free ").append(m.buffer);
  return add(OpKind::kFree, Stream::kCompute, std::move(name), std::move(deps), std::move(m));
}

OpId RankBuilder::copy(std::string name, Copy c, std::vector<OpId> deps) {
  return add(OpKind::kCopy, Stream::kCopy, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::host_compute(std::string name, Compute c, std::vector<OpId> deps) {
  return add(OpKind::kCompute, Stream::kHost, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::last() const {
  return target_->ops.empty() ? OpId() : target_->ops.back().id;
}

namespace {

bool payload_matches(const Op& op) {
  switch (op.kind) {
    case OpKind::kCompute: return std::holds_alternative<Compute>(op.payload);
    case OpKind::kCollective: return std::holds_alternative<Collective>(op.payload);
    case OpKind::kSend:
    case OpKind::kRecv: return std::holds_alternative<PointToPoint>(op.payload);
    case OpKind::kCopy: return std::holds_alternative<Copy>(op.payload);
    case OpKind::kAlloc:
    case OpKind::kFree: return std::holds_alternative<Memory>(op.payload);
    case OpKind::kCheckpointWrite: return std::holds_alternative<CheckpointWrite>(op.payload);
  }
  return false;
}

double payload_bytes(const Op& op) {
  return std::visit(
      [](const auto& p) -> double {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Compute>) return p.memory_bytes;
        else return p.bytes;
      },
      op.payload);
}

}  // namespace

namespace {

/// Per collective instance: what its first call said and how many distinct ranks called it.
/// Ranks are checked in order, one after the other, so a rank calls an instance twice exactly
/// when the instance's last caller is the rank being checked.
struct InstanceSeen {
  std::int64_t callers = 0;     ///< distinct ranks; 0: not seen yet
  std::int64_t last_rank = -1;  ///< last caller
  std::int64_t where_rank = 0;  ///< first call: /ranks/where_rank/ops/where_op
  std::int64_t where_op = 0;
  CollectiveKind kind = CollectiveKind::kAllReduce;
  double bytes = 0;
};

/// Instances of one group: a dense table for the ids lowering produces (0, 1, 2, ... per
/// group), a hash map for ids far from them (any int64 is valid in the JSON form).
struct GroupInstances {
  std::vector<InstanceSeen> dense;
  std::unordered_map<std::int64_t, InstanceSeen> sparse;

  InstanceSeen& at(std::int64_t instance) {
    const auto size = static_cast<std::int64_t>(dense.size());
    if (instance >= 0 && instance < size) return dense[static_cast<std::size_t>(instance)];
    constexpr std::int64_t kDenseMax = std::int64_t{1} << 24;
    if (instance >= 0 && instance < kDenseMax && instance <= 2 * size + 1024) {
      const std::int64_t grown = std::min(std::max(instance + 1, 2 * size), kDenseMax);
      dense.resize(static_cast<std::size_t>(grown));
      // Ids now covered by the table move into it, so each id lives in one place.
      for (auto it = sparse.begin(); it != sparse.end();) {
        if (it->first >= 0 && it->first < grown) {
          dense[static_cast<std::size_t>(it->first)] = it->second;
          it = sparse.erase(it);
        } else {
          ++it;
        }
      }
      return dense[static_cast<std::size_t>(instance)];
    }
    return sparse[instance];
  }
};

struct P2pKey {
  std::int64_t src, dst, tag;
  bool operator==(const P2pKey&) const = default;
  auto operator<=>(const P2pKey&) const = default;
};

struct P2pKeyHash {
  std::size_t operator()(const P2pKey& k) const noexcept {
    std::uint64_t h = static_cast<std::uint64_t>(k.src) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<std::uint64_t>(k.dst) + 0x7F4A7C159E3779B9ull + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(k.tag) + 0x94D049BB133111EBull + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

/// Sends minus recvs of one (src, dst, tag), and the last op that counted.
struct P2pSeen {
  std::int64_t balance = 0;
  std::int64_t where_rank = 0;
  std::int64_t where_op = 0;
};

}  // namespace

// Checks run in the order of the original specification and report the same first problem; the
// JSON pointers of ops are only formatted when something fails, and matching uses tables and hash
// maps (15 M ops at 1,024 ranks must not cost a string or a tree node each).
void validate(const Program& program, const std::string& file) {
  if (program.compact()) return validate_compact(program, file);
  auto fail = [&](const std::string& pointer, const std::string& message) {
    throw core::ConfigError(file, pointer, message);
  };
  auto op_path = [](std::int64_t r, std::int64_t i) {
    return "/ranks/" + std::to_string(r) + "/ops/" + std::to_string(i);
  };
  const auto n_ranks = static_cast<std::int64_t>(program.ranks.size());
  if (n_ranks == 0) fail("/ranks", "a program needs at least one rank");
  {
    std::vector<std::size_t> seen_in(static_cast<std::size_t>(n_ranks), program.groups.size());
    for (std::size_t g = 0; g < program.groups.size(); ++g) {
      const Group& group = program.groups[g];
      const std::string gp = "/groups/" + std::to_string(g);
      if (group.ranks.empty()) fail(gp + "/ranks", "a group needs at least one rank");
      for (const RankId r : group.ranks) {
        if (r.value < 0 || r.value >= n_ranks)
          fail(gp + "/ranks", "rank " + std::to_string(r.value) + " out of range [0, " +
                                  std::to_string(n_ranks) + ")");
        std::size_t& mark = seen_in[static_cast<std::size_t>(r.value)];
        if (mark == g) fail(gp + "/ranks", "rank " + std::to_string(r.value) + " listed twice");
        mark = g;
      }
    }
  }

  // (group, instance) → what the first call said and who called it.
  std::vector<GroupInstances> instances(program.groups.size());
  // Last rank found to be a member of each group (membership is checked once per rank and group).
  std::vector<std::int64_t> member_of(program.groups.size(), -1);
  // (src, dst, tag) → count of sends minus recvs.
  std::unordered_map<P2pKey, P2pSeen, P2pKeyHash> p2p;

  // Live buffers (name → its allocation); resident buffer names.
  std::unordered_map<std::string_view, const Memory*> live;
  std::unordered_set<std::string_view> resident;
  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankProgram& rp = program.ranks[static_cast<std::size_t>(r)];
    const std::string rpath = "/ranks/" + std::to_string(r);
    if (rp.rank.value != r) fail(rpath + "/rank", "ranks must be listed in order: expected " + std::to_string(r));
    if (rp.gpu < 0) fail(rpath + "/gpu", "negative GPU index");
    live.clear();
    for (std::size_t i = 0; i < rp.resident.size(); ++i) {
      if (rp.resident[i].bytes < 0) fail(rpath + "/resident/" + std::to_string(i), "negative size");
      if (!live.emplace(rp.resident[i].buffer, &rp.resident[i]).second)
        fail(rpath + "/resident/" + std::to_string(i), "buffer \"" + rp.resident[i].buffer + "\" allocated twice");
    }
    resident.clear();
    for (const auto& entry : live) resident.insert(entry.first);
    const auto n_ops = static_cast<std::int64_t>(rp.ops.size());
    for (std::int64_t i = 0; i < n_ops; ++i) {
      const Op& op = rp.ops[static_cast<std::size_t>(i)];
      if (op.id.value != i)
        fail(op_path(r, i) + "/id", "op ids must be dense and in order: expected " + std::to_string(i));
      if (!payload_matches(op)) fail(op_path(r, i), "payload does not match kind " + to_string(op.kind));
      if (payload_bytes(op) < 0) fail(op_path(r, i), "negative size");
      for (const OpId d : op.deps) {
        if (d.value < 0 || d.value >= op.id.value)
          fail(op_path(r, i) + "/deps",
               "dependency on op " + std::to_string(d.value) +
                   (d.value >= op.id.value && d.value < n_ops
                        ? ", which does not precede it (program order must be a topological order; "
                          "a dependency on a later op would allow a cycle)"
                        : ", which does not exist"));
      }
      if (op.stream == Stream::kHost && op.kind != OpKind::kCompute && op.kind != OpKind::kAlloc &&
          op.kind != OpKind::kFree)
        fail(op_path(r, i) + "/stream", "the host stream holds compute, alloc and free ops only (this op is " +
                                            to_string(op.kind) + ")");
      switch (op.kind) {
        case OpKind::kCompute:
          if (op.compute().flops < 0) fail(op_path(r, i) + "/flops", "negative FLOPs");
          break;
        case OpKind::kCollective: {
          const Collective& c = op.collective();
          if (c.group < 0 || c.group >= static_cast<int>(program.groups.size()))
            fail(op_path(r, i) + "/group", "unknown group " + std::to_string(c.group));
          const auto gi = static_cast<std::size_t>(c.group);
          const Group& g = program.groups[gi];
          if (member_of[gi] != r) {
            bool member = false;
            for (const RankId m : g.ranks) member |= m.value == r;
            if (!member)
              fail(op_path(r, i) + "/group",
                   "rank " + std::to_string(r) + " is not a member of group \"" + g.name + "\"");
            member_of[gi] = r;
          }
          if (c.kind == CollectiveKind::kBroadcast) {
            bool root_member = false;
            for (const RankId m : g.ranks) root_member |= m == c.root;
            if (!root_member) fail(op_path(r, i) + "/root", "broadcast root is not a member of the group");
          }
          InstanceSeen& seen = instances[gi].at(c.instance);
          if (seen.callers == 0) {
            seen.kind = c.kind;
            seen.bytes = c.bytes;
            seen.where_rank = r;
            seen.where_op = i;
          } else if (seen.kind != c.kind || seen.bytes != c.bytes) {
            fail(op_path(r, i), "collective instance " + std::to_string(c.instance) + " differs from " +
                                    op_path(seen.where_rank, seen.where_op) + " (kind or size)");
          }
          if (seen.last_rank == r)
            fail(op_path(r, i) + "/instance", "collective instance " + std::to_string(c.instance) +
                                                  " called twice by rank " + std::to_string(r));
          seen.last_rank = r;
          ++seen.callers;
          break;
        }
        case OpKind::kSend:
        case OpKind::kRecv: {
          const PointToPoint& p = op.p2p();
          if (p.peer.value < 0 || p.peer.value >= n_ranks || p.peer.value == r)
            fail(op_path(r, i) + "/peer",
                 "peer " + std::to_string(p.peer.value) + " is not another rank of the program");
          const bool send = op.kind == OpKind::kSend;
          if (send && p.posted_ahead) fail(op_path(r, i) + "/posted_ahead", "only a receive is posted ahead");
          const P2pKey key = send ? P2pKey{r, p.peer.value, p.tag} : P2pKey{p.peer.value, r, p.tag};
          P2pSeen& entry = p2p[key];
          entry.balance += send ? 1 : -1;
          entry.where_rank = r;
          entry.where_op = i;
          break;
        }
        case OpKind::kCopy: {
          const Copy& c = op.copy();
          if (op.stream != Stream::kCopy)
            fail(op_path(r, i) + "/stream", "a copy runs on the copy stream (not " + to_string(op.stream) + ")");
          if (c.src.empty() && c.dst.empty()) break;  // anonymous transfer
          if (c.src.empty() || c.dst.empty())
            fail(op_path(r, i), "a copy names both its source and destination buffers (src, dst) or neither");
          if (c.src == c.dst) fail(op_path(r, i) + "/dst", "a copy's source and destination are the same buffer");
          const auto check = [&](const std::string& buffer, const char* key, Location expected) {
            const auto it = live.find(buffer);
            if (it == live.end())
              fail(op_path(r, i) + "/" + key, "copy of buffer \"" + buffer + "\" that is not allocated");
            const Memory& m = *it->second;
            if (m.location != expected)
              fail(op_path(r, i) + "/" + key, "buffer \"" + buffer + "\" is in " + to_string(m.location) +
                                                  " memory, but a " + to_string(c.direction) + " copy " +
                                                  (expected == copy_source(c.direction) ? "reads from " : "writes to ") +
                                                  to_string(expected));
            if (m.bytes != c.bytes)
              fail(op_path(r, i) + "/bytes", "copy of " + std::to_string(c.bytes) + " bytes, but buffer \"" + buffer +
                                                 "\" holds " + std::to_string(m.bytes) + " bytes");
          };
          check(c.src, "src", copy_source(c.direction));
          check(c.dst, "dst", copy_destination(c.direction));
          break;
        }
        case OpKind::kAlloc:
          if (!live.emplace(op.memory().buffer, &op.memory()).second)
            fail(op_path(r, i), "buffer \"" + op.memory().buffer + "\" is already allocated");
          break;
        case OpKind::kFree: {
          if (resident.count(op.memory().buffer))
            fail(op_path(r, i), "buffer \"" + op.memory().buffer + "\" is resident and cannot be freed by an iteration");
          const auto it = live.find(op.memory().buffer);
          if (it == live.end())
            fail(op_path(r, i), "free of buffer \"" + op.memory().buffer + "\" that is not allocated");
          if (it->second->location != op.memory().location)
            fail(op_path(r, i) + "/location", "free of buffer \"" + op.memory().buffer + "\" in " +
                                                  to_string(op.memory().location) + " memory, but it was allocated in " +
                                                  to_string(it->second->location) + " memory");
          live.erase(it);
          break;
        }
        default: break;
      }
    }
    if (live.size() != resident.size()) {
      // The first buffer in name order, as a sorted set would list them.
      const std::string_view* first = nullptr;
      for (const auto& [b, m] : live)
        if (!resident.count(b) && (!first || b < *first)) first = &b;
      if (first)
        fail(rpath + "/ops", "buffer \"" + std::string(*first) + "\" is allocated and never freed in the iteration");
    }
  }
  // First incomplete instance in (group, instance) order.
  for (std::size_t gi = 0; gi < instances.size(); ++gi) {
    const Group& g = program.groups[gi];
    const auto expected = static_cast<std::int64_t>(g.ranks.size());
    const InstanceSeen* worst = nullptr;
    std::int64_t worst_instance = 0;
    auto consider = [&](std::int64_t instance, const InstanceSeen& seen) {
      if (seen.callers == 0 || seen.callers == expected) return;
      if (!worst || instance < worst_instance) {
        worst = &seen;
        worst_instance = instance;
      }
    };
    for (const auto& [instance, seen] : instances[gi].sparse) consider(instance, seen);
    const auto& dense = instances[gi].dense;
    for (std::size_t k = 0; k < dense.size(); ++k) {
      if (dense[k].callers != 0 && dense[k].callers != expected) {
        consider(static_cast<std::int64_t>(k), dense[k]);
        break;
      }
    }
    if (worst)
      fail(op_path(worst->where_rank, worst->where_op),
           "collective instance " + std::to_string(worst_instance) + " of group \"" + g.name + "\" is called by " +
               std::to_string(worst->callers) + " of its " + std::to_string(g.ranks.size()) + " ranks");
  }
  // First unmatched (src, dst, tag) in key order.
  const P2pKey* worst = nullptr;
  const P2pSeen* worst_entry = nullptr;
  for (const auto& [key, entry] : p2p) {
    if (entry.balance != 0 && (!worst || key < *worst)) {
      worst = &key;
      worst_entry = &entry;
    }
  }
  if (worst)
    fail(op_path(worst_entry->where_rank, worst_entry->where_op),
         std::string(worst_entry->balance > 0 ? "send" : "recv") + " from rank " + std::to_string(worst->src) +
             " to rank " + std::to_string(worst->dst) + " with tag " + std::to_string(worst->tag) + " has no matching " +
             (worst_entry->balance > 0 ? "recv" : "send"));
}

}  // namespace frugal::program
