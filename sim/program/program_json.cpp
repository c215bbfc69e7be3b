// JSON form of the Program IR: compact, strict, lossless (doubles are written with full
// precision by nlohmann::json), so from_json(to_json(p)) == p.
#include <fstream>

#include "sim/program/enum_names.hpp"
#include "sim/program/program.hpp"
#include "sim/program/rank_classes.hpp"

namespace frugal::program {
namespace {

using core::Json;
using core::ObjectReader;

template <class E>
E read_enum(ObjectReader& r, const std::string& key) {
  const std::string s = r.choice(key, enum_names<E>());
  bool ok = false;
  return enum_from_string<E>(s, &ok);
}

template <class E>
E read_enum_or(ObjectReader& r, const std::string& key, E fallback) {
  return r.has(key) ? read_enum<E>(r, key) : fallback;
}

// "location" is written only off the device, so programs without host or NVMe buffers keep
// their pre-location form (and files without it read as device).
Json memory_to_json(const Memory& m) {
  Json j{{"tag", to_string(m.tag)}, {"buffer", m.buffer}, {"bytes", m.bytes}};
  if (m.location != Location::kDevice) j["location"] = to_string(m.location);
  return j;
}

Memory read_memory(ObjectReader& r) {
  Memory m;
  m.tag = read_enum<MemoryTag>(r, "tag");
  m.buffer = r.string("buffer");
  m.bytes = r.number("bytes", 0);
  m.location = read_enum_or<Location>(r, "location", Location::kDevice);
  return m;
}

Json op_to_json(const Op& op) {
  Json j = {{"id", op.id.value}, {"kind", to_string(op.kind)}, {"stream", to_string(op.stream)}, {"name", op.name}};
  Json deps = Json::array();
  for (const OpId d : op.deps) deps.push_back(d.value);
  j["deps"] = deps;
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Compute>) {
          j["phase"] = to_string(p.phase);
          j["layer"] = p.layer;
          j["flops"] = p.flops;
          j["memory_bytes"] = p.memory_bytes;
          Json gemms = Json::array();
          for (const Gemm& g : p.gemms) {
            Json row = Json::array({g.m, g.n, g.k, g.batch});
            if (g.keeps_16bit) row.push_back(16);
            gemms.push_back(row);
          }
          j["gemms"] = gemms;
          if (p.kernels > 0) j["kernels"] = p.kernels;
        } else if constexpr (std::is_same_v<T, Collective>) {
          j["collective"] = to_string(p.kind);
          j["algorithm"] = to_string(p.algorithm);
          j["group"] = p.group;
          j["instance"] = p.instance;
          j["bytes"] = p.bytes;
          if (p.kind == CollectiveKind::kBroadcast) j["root"] = p.root.value;
        } else if constexpr (std::is_same_v<T, PointToPoint>) {
          j["peer"] = p.peer.value;
          j["tag"] = p.tag;
          j["bytes"] = p.bytes;
          if (p.posted_ahead) j["posted_ahead"] = true;  // omitted otherwise: older files keep their meaning
        } else if constexpr (std::is_same_v<T, Copy>) {
          j["direction"] = to_string(p.direction);
          j["bytes"] = p.bytes;
          if (!p.src.empty()) j["src"] = p.src;
          if (!p.dst.empty()) j["dst"] = p.dst;
        } else if constexpr (std::is_same_v<T, Memory>) {
          j["tag"] = to_string(p.tag);
          j["buffer"] = p.buffer;
          j["bytes"] = p.bytes;
          if (p.location != Location::kDevice) j["location"] = to_string(p.location);
        } else {
          j["bytes"] = p.bytes;
        }
      },
      op.payload);
  return j;
}

Op read_op(const Json& value, const std::string& file, const std::string& pointer) {
  ObjectReader r(value, file, pointer);
  Op op;
  op.id = OpId(r.integer("id", 0));
  op.kind = read_enum<OpKind>(r, "kind");
  op.stream = read_enum<Stream>(r, "stream");
  op.name = r.string_or("name", "");
  if (r.has("deps")) {
    const Json& deps = r.array("deps");
    for (std::size_t i = 0; i < deps.size(); ++i) {
      if (!deps[i].is_number_integer())
        throw core::ConfigError(file, r.pointer_of("deps") + "/" + std::to_string(i), "expected an op id (integer)");
      op.deps.emplace_back(deps[i].get<std::int64_t>());
    }
  }
  switch (op.kind) {
    case OpKind::kCompute: {
      Compute c;
      c.phase = read_enum_or<Phase>(r, "phase", Phase::kOther);
      c.layer = r.string_or("layer", "");
      c.flops = r.number("flops", 0);
      c.memory_bytes = r.number_or("memory_bytes", 0, 0);
      c.kernels = static_cast<int>(r.integer_or("kernels", 0, 0, 1 << 20));
      if (r.has("gemms")) {
        const Json& gemms = r.array("gemms");
        for (std::size_t i = 0; i < gemms.size(); ++i) {
          const Json& g = gemms[i];
          // Each dimension at most 2^24 and each operand at most 2^40 elements: far above any
          // layer's GEMM, and every size a device computes from them fits in 64 bits.
          constexpr std::int64_t kMaxDim = std::int64_t{1} << 24;
          constexpr double kMaxElements = 1099511627776.0;  // 2^40
          bool ok = g.is_array() && (g.size() == 4 || (g.size() == 5 && g[4] == 16));
          for (std::size_t k = 0; ok && k < 4; ++k)
            ok = g[k].is_number_integer() && g[k].get<std::int64_t>() > 0 && g[k].get<std::int64_t>() <= kMaxDim;
          if (ok) {
            const double m = g[0].get<double>(), n = g[1].get<double>(), kk = g[2].get<double>(), b = g[3].get<double>();
            ok = m * kk * b <= kMaxElements && kk * n * b <= kMaxElements && m * n * b <= kMaxElements;
          }
          if (!ok)
            throw core::ConfigError(file, r.pointer_of("gemms") + "/" + std::to_string(i),
                                    "expected [m, n, k, batch], positive integers of at most 2^24 whose operands "
                                    "(m·k, k·n, m·n, times batch) have at most 2^40 elements, or [m, n, k, batch, 16] "
                                    "for a GEMM an fp8 job keeps in 16 bits");
          c.gemms.push_back({g[0].get<std::int64_t>(), g[1].get<std::int64_t>(), g[2].get<std::int64_t>(),
                             g[3].get<std::int64_t>(), g.size() == 5});
        }
      }
      op.payload = c;
      break;
    }
    case OpKind::kCollective: {
      Collective c;
      c.kind = read_enum<CollectiveKind>(r, "collective");
      c.algorithm = read_enum_or<CollectiveAlgorithm>(r, "algorithm", CollectiveAlgorithm::kRing);
      c.group = static_cast<int>(r.integer("group", 0));
      c.instance = r.integer("instance", 0);
      c.bytes = r.number("bytes", 0);
      if (c.kind == CollectiveKind::kBroadcast) c.root = RankId(r.integer("root", 0));
      op.payload = c;
      break;
    }
    case OpKind::kSend:
    case OpKind::kRecv:
      op.payload = PointToPoint{RankId(r.integer("peer", 0)), r.integer("tag"), r.number("bytes", 0),
                                r.boolean_or("posted_ahead", false)};
      break;
    case OpKind::kCopy:
      op.payload = Copy{read_enum<CopyDirection>(r, "direction"), r.number("bytes", 0), r.string_or("src", ""),
                        r.string_or("dst", "")};
      break;
    case OpKind::kAlloc:
    case OpKind::kFree:
      op.payload = read_memory(r);
      break;
    case OpKind::kCheckpointWrite:
      op.payload = CheckpointWrite{r.number("bytes", 0)};
      break;
  }
  r.finish();
  return op;
}

}  // namespace

namespace {

Json rank_to_json(const RankProgram& rp) {
  if (rp.represented_by.valid()) return {{"rank", rp.rank.value}, {"gpu", rp.gpu}, {"represented_by", rp.represented_by.value}};
  Json resident = Json::array();
  for (const Memory& m : rp.resident) resident.push_back(memory_to_json(m));
  Json ops = Json::array();
  for (const Op& op : rp.ops) ops.push_back(op_to_json(op));
  return {{"rank", rp.rank.value}, {"gpu", rp.gpu}, {"resident", resident}, {"ops", ops}};
}

Json groups_to_json(const Program& program) {
  Json groups = Json::array();
  for (const Group& g : program.groups) {
    Json ranks = Json::array();
    for (const RankId r : g.ranks) ranks.push_back(r.value);
    groups.push_back({{"name", g.name}, {"ranks", ranks}});
  }
  return groups;
}

Json classes_to_json(const Program& program) {
  Json classes = Json::array();
  for (const RankClass& c : program.classes) {
    Json members = Json::array();
    for (const RankClass::Member& m : c.members) {
      Json g = Json::array(), p = Json::array();
      for (const auto& [from, to] : m.groups) g.push_back({from, to});
      for (const auto& [from, to] : m.peers) p.push_back({from.value, to.value});
      members.push_back({{"rank", m.rank.value}, {"groups", g}, {"peers", p}});
    }
    classes.push_back({{"representative", c.representative.value}, {"members", members}});
  }
  return classes;
}

}  // namespace

void write_program_json(const Program& program, std::ostream& out, bool expand) {
  // Keys in nlohmann's (sorted) order, so the bytes equal to_json(...).dump().
  const bool compact = program.compact() && !expand;
  out << "{";
  if (compact) out << "\"classes\":" << classes_to_json(program).dump() << ",";
  out << "\"format\":\"frugalsim-program\",\"groups\":" << groups_to_json(program).dump()
      << ",\"metadata\":" << program.metadata.dump() << ",\"ranks\":[";
  const ClassView view(program);
  for (std::size_t r = 0; r < program.ranks.size(); ++r) {
    if (r > 0) out << ",";
    out << (compact || !program.ranks[r].represented_by.valid() ? rank_to_json(program.ranks[r])
                                                                 : rank_to_json(view.expand(program.ranks[r].rank)))
               .dump();
  }
  out << "],\"version\":" << Program::kFormatVersion << "}\n";
}

Json to_json(const Program& program) {
  Json ranks = Json::array();
  for (const RankProgram& rp : program.ranks) ranks.push_back(rank_to_json(rp));
  Json out{{"format", "frugalsim-program"},
           {"version", Program::kFormatVersion},
           {"metadata", program.metadata},
           {"groups", groups_to_json(program)},
           {"ranks", ranks}};
  if (program.compact()) out["classes"] = classes_to_json(program);
  return out;
}

namespace {

/// [[from, to], ...] of integers.
std::vector<std::pair<std::int64_t, std::int64_t>> read_pairs(const Json& value, const std::string& file,
                                                              const std::string& pointer) {
  if (!value.is_array()) throw core::ConfigError(file, pointer, "expected an array of [from, to] pairs");
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const Json& p = value[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer())
      throw core::ConfigError(file, pointer + "/" + std::to_string(i), "expected [from, to] (integers)");
    out.emplace_back(p[0].get<std::int64_t>(), p[1].get<std::int64_t>());
  }
  return out;
}

RankClass read_class(const Json& value, const std::string& file, const std::string& pointer) {
  ObjectReader r(value, file, pointer);
  RankClass c;
  c.representative = RankId(r.integer("representative", 0));
  const Json& members = r.array("members");
  for (std::size_t k = 0; k < members.size(); ++k) {
    ObjectReader mr(members[k], file, r.pointer_of("members") + "/" + std::to_string(k));
    RankClass::Member m;
    m.rank = RankId(mr.integer("rank", 0));
    for (const auto& [from, to] : read_pairs(mr.value("groups"), file, mr.pointer_of("groups")))
      m.groups.emplace_back(static_cast<int>(from), static_cast<int>(to));
    for (const auto& [from, to] : read_pairs(mr.value("peers"), file, mr.pointer_of("peers")))
      m.peers.emplace_back(RankId(from), RankId(to));
    mr.finish();
    c.members.push_back(std::move(m));
  }
  r.finish();
  return c;
}

}  // namespace

Program from_json(const Json& value, const std::string& file) {
  ObjectReader r(value, file, "");
  Program program;
  if (r.string("format") != "frugalsim-program")
    r.fail("format", "expected \"frugalsim-program\"");
  const auto version = r.integer("version");
  if (version != Program::kFormatVersion)
    r.fail("version", "unsupported program version " + std::to_string(version) + " (this build reads " +
                          std::to_string(Program::kFormatVersion) + ")");
  if (r.has("metadata")) {
    program.metadata = r.value("metadata");
    if (!program.metadata.is_object()) r.fail("metadata", "expected an object");
  }
  const Json& groups = r.array("groups");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ObjectReader gr(groups[g], file, "/groups/" + std::to_string(g));
    Group group;
    group.name = gr.string("name");
    const Json& ranks = gr.array("ranks");
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      if (!ranks[i].is_number_integer())
        throw core::ConfigError(file, gr.pointer_of("ranks") + "/" + std::to_string(i), "expected a rank (integer)");
      group.ranks.emplace_back(ranks[i].get<std::int64_t>());
    }
    gr.finish();
    program.groups.push_back(std::move(group));
  }
  const Json& ranks = r.array("ranks");
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const std::string rp_ptr = "/ranks/" + std::to_string(i);
    ObjectReader rr(ranks[i], file, rp_ptr);
    RankProgram rp;
    rp.rank = RankId(rr.integer("rank", 0));
    rp.gpu = static_cast<int>(rr.integer("gpu", 0));
    if (rr.has("represented_by")) {
      rp.represented_by = RankId(rr.integer("represented_by", 0));
      rr.finish();
      program.ranks.push_back(std::move(rp));
      continue;
    }
    if (rr.has("resident")) {
      const Json& resident = rr.array("resident");
      for (std::size_t k = 0; k < resident.size(); ++k) {
        ObjectReader mr(resident[k], file, rr.pointer_of("resident") + "/" + std::to_string(k));
        rp.resident.push_back(read_memory(mr));
        mr.finish();
      }
    }
    const Json& ops = rr.array("ops");
    rp.ops.reserve(ops.size());
    for (std::size_t k = 0; k < ops.size(); ++k)
      rp.ops.push_back(read_op(ops[k], file, rr.pointer_of("ops") + "/" + std::to_string(k)));
    rr.finish();
    program.ranks.push_back(std::move(rp));
  }
  if (r.has("classes")) {
    const Json& classes = r.array("classes");
    for (std::size_t c = 0; c < classes.size(); ++c)
      program.classes.push_back(read_class(classes[c], file, "/classes/" + std::to_string(c)));
  }
  r.finish();
  validate(program, file);
  return program;
}

Program load_program(const std::filesystem::path& path) {
  return from_json(core::load_json_file(path), path.string());
}

void save_program(const Program& program, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw core::ConfigError(path.string(), "", "cannot write file");
  write_program_json(program, out);
}

}  // namespace frugal::program
