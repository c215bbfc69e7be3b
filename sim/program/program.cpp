// Program IR: names of enums, the builder used by lowering, and validation.
#include "sim/program/program.hpp"

#include <map>
#include <set>
#include <tuple>

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
  static const std::vector<std::string> n = {"ring", "hierarchical"};
  return n;
}
template <>
const std::vector<std::string>& names_of<CopyDirection>() {
  static const std::vector<std::string> n = {"device_to_host", "host_to_device"};
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
  static const std::vector<std::string> n = {"compute", "comm", "copy"};
  return n;
}

}  // namespace

std::string to_string(OpKind v) { return names_of<OpKind>()[static_cast<int>(v)]; }
std::string to_string(Phase v) { return names_of<Phase>()[static_cast<int>(v)]; }
std::string to_string(CollectiveKind v) { return names_of<CollectiveKind>()[static_cast<int>(v)]; }
std::string to_string(CollectiveAlgorithm v) { return names_of<CollectiveAlgorithm>()[static_cast<int>(v)]; }
std::string to_string(CopyDirection v) { return names_of<CopyDirection>()[static_cast<int>(v)]; }
std::string to_string(MemoryTag v) { return names_of<MemoryTag>()[static_cast<int>(v)]; }
std::string to_string(Stream v) { return names_of<Stream>()[static_cast<int>(v)]; }

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
template Stream enum_from_string<Stream>(const std::string&, bool*);
template const std::vector<std::string>& enum_names<OpKind>();
template const std::vector<std::string>& enum_names<Phase>();
template const std::vector<std::string>& enum_names<CollectiveKind>();
template const std::vector<std::string>& enum_names<CollectiveAlgorithm>();
template const std::vector<std::string>& enum_names<CopyDirection>();
template const std::vector<std::string>& enum_names<MemoryTag>();
template const std::vector<std::string>& enum_names<Stream>();

OpId RankBuilder::add(OpKind kind, Stream stream, std::string name, std::vector<OpId> deps,
                      decltype(Op::payload) payload) {
  Op op;
  op.id = OpId(static_cast<std::int64_t>(target_->ops.size()));
  op.kind = kind;
  op.stream = stream;
  op.name = std::move(name);
  op.deps = std::move(deps);
  op.payload = std::move(payload);
  target_->ops.push_back(std::move(op));
  return target_->ops.back().id;
}

OpId RankBuilder::compute(std::string name, Compute c, std::vector<OpId> deps) {
  return add(OpKind::kCompute, Stream::kCompute, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::collective(std::string name, Collective c, std::vector<OpId> deps) {
  return add(OpKind::kCollective, Stream::kComm, std::move(name), std::move(deps), std::move(c));
}

OpId RankBuilder::alloc(Memory m, std::vector<OpId> deps) {
  std::string name = "alloc " + m.buffer;
  return add(OpKind::kAlloc, Stream::kCompute, std::move(name), std::move(deps), std::move(m));
}

OpId RankBuilder::free(Memory m, std::vector<OpId> deps) {
  std::string name = "free " + m.buffer;
  return add(OpKind::kFree, Stream::kCompute, std::move(name), std::move(deps), std::move(m));
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

void validate(const Program& program, const std::string& file) {
  auto fail = [&](const std::string& pointer, const std::string& message) {
    throw core::ConfigError(file, pointer, message);
  };
  const auto n_ranks = static_cast<std::int64_t>(program.ranks.size());
  if (n_ranks == 0) fail("/ranks", "a program needs at least one rank");
  for (std::size_t g = 0; g < program.groups.size(); ++g) {
    const Group& group = program.groups[g];
    const std::string gp = "/groups/" + std::to_string(g);
    if (group.ranks.empty()) fail(gp + "/ranks", "a group needs at least one rank");
    std::set<std::int64_t> seen;
    for (const RankId r : group.ranks) {
      if (r.value < 0 || r.value >= n_ranks)
        fail(gp + "/ranks", "rank " + std::to_string(r.value) + " out of range [0, " +
                                std::to_string(n_ranks) + ")");
      if (!seen.insert(r.value).second)
        fail(gp + "/ranks", "rank " + std::to_string(r.value) + " listed twice");
    }
  }

  // Collective instance → (kind, group, bytes) and the ranks that call it.
  struct InstanceSeen {
    CollectiveKind kind;
    int group;
    double bytes;
    std::string where;
    std::set<std::int64_t> callers;
  };
  std::map<std::pair<int, std::int64_t>, InstanceSeen> instances;
  // (src, dst, tag) → count of sends minus recvs.
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::pair<int, std::string>> p2p;

  for (std::int64_t r = 0; r < n_ranks; ++r) {
    const RankProgram& rp = program.ranks[static_cast<std::size_t>(r)];
    const std::string rpath = "/ranks/" + std::to_string(r);
    if (rp.rank.value != r) fail(rpath + "/rank", "ranks must be listed in order: expected " + std::to_string(r));
    if (rp.gpu < 0) fail(rpath + "/gpu", "negative GPU index");
    std::set<std::string> live;
    for (std::size_t i = 0; i < rp.resident.size(); ++i) {
      if (rp.resident[i].bytes < 0) fail(rpath + "/resident/" + std::to_string(i), "negative size");
      if (!live.insert(rp.resident[i].buffer).second)
        fail(rpath + "/resident/" + std::to_string(i), "buffer \"" + rp.resident[i].buffer + "\" allocated twice");
    }
    const std::set<std::string> resident = live;
    for (std::size_t i = 0; i < rp.ops.size(); ++i) {
      const Op& op = rp.ops[i];
      const std::string opath = rpath + "/ops/" + std::to_string(i);
      if (op.id.value != static_cast<std::int64_t>(i))
        fail(opath + "/id", "op ids must be dense and in order: expected " + std::to_string(i));
      if (!payload_matches(op)) fail(opath, "payload does not match kind " + to_string(op.kind));
      if (payload_bytes(op) < 0) fail(opath, "negative size");
      for (const OpId d : op.deps) {
        if (d.value < 0 || d.value >= op.id.value)
          fail(opath + "/deps",
               "dependency on op " + std::to_string(d.value) +
                   (d.value >= op.id.value && d.value < static_cast<std::int64_t>(rp.ops.size())
                        ? ", which does not precede it (program order must be a topological order; "
                          "a dependency on a later op would allow a cycle)"
                        : ", which does not exist"));
      }
      switch (op.kind) {
        case OpKind::kCompute:
          if (op.compute().flops < 0) fail(opath + "/flops", "negative FLOPs");
          break;
        case OpKind::kCollective: {
          const Collective& c = op.collective();
          if (c.group < 0 || c.group >= static_cast<int>(program.groups.size()))
            fail(opath + "/group", "unknown group " + std::to_string(c.group));
          const Group& g = program.groups[static_cast<std::size_t>(c.group)];
          bool member = false;
          for (const RankId m : g.ranks) member |= m.value == r;
          if (!member) fail(opath + "/group", "rank " + std::to_string(r) + " is not a member of group \"" + g.name + "\"");
          if (c.kind == CollectiveKind::kBroadcast) {
            bool root_member = false;
            for (const RankId m : g.ranks) root_member |= m == c.root;
            if (!root_member) fail(opath + "/root", "broadcast root is not a member of the group");
          }
          auto [it, inserted] = instances.try_emplace({c.group, c.instance},
                                                      InstanceSeen{c.kind, c.group, c.bytes, opath, {}});
          if (!inserted && (it->second.kind != c.kind || it->second.bytes != c.bytes))
            fail(opath, "collective instance " + std::to_string(c.instance) + " differs from " + it->second.where +
                            " (kind or size)");
          if (!it->second.callers.insert(r).second)
            fail(opath + "/instance", "collective instance " + std::to_string(c.instance) + " called twice by rank " +
                                          std::to_string(r));
          break;
        }
        case OpKind::kSend:
        case OpKind::kRecv: {
          const PointToPoint& p = op.p2p();
          if (p.peer.value < 0 || p.peer.value >= n_ranks || p.peer.value == r)
            fail(opath + "/peer", "peer " + std::to_string(p.peer.value) + " is not another rank of the program");
          const bool send = op.kind == OpKind::kSend;
          auto key = send ? std::make_tuple(r, p.peer.value, p.tag) : std::make_tuple(p.peer.value, r, p.tag);
          auto& entry = p2p[key];
          entry.first += send ? 1 : -1;
          entry.second = opath;
          break;
        }
        case OpKind::kAlloc:
          if (!live.insert(op.memory().buffer).second)
            fail(opath, "buffer \"" + op.memory().buffer + "\" is already allocated");
          break;
        case OpKind::kFree:
          if (resident.count(op.memory().buffer))
            fail(opath, "buffer \"" + op.memory().buffer + "\" is resident and cannot be freed by an iteration");
          if (!live.erase(op.memory().buffer))
            fail(opath, "free of buffer \"" + op.memory().buffer + "\" that is not allocated");
          break;
        default: break;
      }
    }
    if (live.size() != resident.size()) {
      for (const auto& b : live)
        if (!resident.count(b)) fail(rpath + "/ops", "buffer \"" + b + "\" is allocated and never freed in the iteration");
    }
  }
  for (const auto& [key, seen] : instances) {
    const Group& g = program.groups[static_cast<std::size_t>(seen.group)];
    if (seen.callers.size() != g.ranks.size())
      fail(seen.where, "collective instance " + std::to_string(key.second) + " of group \"" + g.name + "\" is called by " +
                           std::to_string(seen.callers.size()) + " of its " + std::to_string(g.ranks.size()) +
                           " ranks");
  }
  for (const auto& [key, entry] : p2p) {
    if (entry.first != 0)
      fail(entry.second, std::string(entry.first > 0 ? "send" : "recv") + " from rank " +
                             std::to_string(std::get<0>(key)) + " to rank " + std::to_string(std::get<1>(key)) +
                             " with tag " + std::to_string(std::get<2>(key)) + " has no matching " +
                             (entry.first > 0 ? "recv" : "send"));
  }
}

}  // namespace frugal::program
