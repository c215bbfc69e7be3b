// Reading, locating and describing declared plug-in parameters (text for `frugalsim list`,
// Markdown for docs/reference.md).
#include "sim/core/plugin.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace frugal::core {
namespace {

/// SI number as the reference shows it: whole numbers without a fraction, others with 6 digits.
std::string format_number(double v) {
  if (std::isfinite(v) && std::floor(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string quantity_type(Dimension dim) {
  switch (dim) {
    case Dimension::kBytes: return "size";
    case Dimension::kTime: return "duration";
    case Dimension::kBandwidth: return "bandwidth";
    case Dimension::kFlops: return "work";
    case Dimension::kFlopRate: return "compute rate";
    case Dimension::kPower: return "power";
    case Dimension::kEnergy: return "energy";
  }
  return "quantity";
}

std::string si_unit(Dimension dim) {
  switch (dim) {
    case Dimension::kBytes: return "bytes";
    case Dimension::kTime: return "s";
    case Dimension::kBandwidth: return "bytes/s";
    case Dimension::kFlops: return "FLOP";
    case Dimension::kFlopRate: return "FLOP/s";
    case Dimension::kPower: return "W";
    case Dimension::kEnergy: return "J";
  }
  return "";
}

/// Bounds at or beyond ±1e299 stand for "none" (booleans and choices declare ±1e300).
std::string bounds_text(const ParamSpec& p) {
  if (p.min == kPositive) return p.max < 1e299 ? "> 0 and <= " + format_number(p.max) : "> 0";
  const bool lo = std::isfinite(p.min) && p.min > -1e299;
  const bool hi = std::isfinite(p.max) && p.max < 1e299;
  if (lo && hi) return format_number(p.min) + " to " + format_number(p.max);
  if (lo) return ">= " + format_number(p.min);
  if (hi) return "<= " + format_number(p.max);
  return "";
}

std::string markdown_cell(std::string text) {
  for (std::size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2)) text.replace(at, 1, "\\|");
  return text;
}

}  // namespace

namespace keys {
namespace {
constexpr double kNone = 1e300;  // "no bound" of booleans, strings, choices and objects (see bounds_text)
}  // namespace

ParamSpec integer(std::string name, std::string meaning, Json def, double min, double max) {
  return ParamSpec{std::move(name), ParamType::kInteger, {}, std::move(def), min, max, {}, std::move(meaning)};
}
ParamSpec number(std::string name, std::string meaning, Json def, double min, double max) {
  return ParamSpec{std::move(name), ParamType::kNumber, {}, std::move(def), min, max, {}, std::move(meaning)};
}
ParamSpec quantity(std::string name, Dimension dim, std::string meaning, Json def, double min) {
  return ParamSpec{std::move(name), ParamType::kQuantity, dim, std::move(def), min,
                   std::numeric_limits<double>::infinity(), {}, std::move(meaning)};
}
ParamSpec boolean(std::string name, std::string meaning, Json def) {
  return ParamSpec{std::move(name), ParamType::kBoolean, {}, std::move(def), -kNone, kNone, {}, std::move(meaning)};
}
ParamSpec text(std::string name, std::string meaning, Json def) {
  return ParamSpec{std::move(name), ParamType::kString, {}, std::move(def), -kNone, kNone, {}, std::move(meaning)};
}
ParamSpec choice(std::string name, std::vector<std::string> choices, std::string meaning, Json def) {
  return ParamSpec{std::move(name), ParamType::kChoice, {}, std::move(def), -kNone, kNone, std::move(choices),
                   std::move(meaning)};
}
ParamSpec object(std::string name, std::string meaning) {
  return ParamSpec{std::move(name), ParamType::kObject, {}, Json(), -kNone, kNone, {}, std::move(meaning)};
}
}  // namespace keys

std::string ParamSpec::resolved_key() const {
  return type == ParamType::kQuantity ? name + std::string(si_suffix(dim)) : name;
}

ConfigError PluginParams::locate(const ParamError& error) const {
  if (error.param().empty()) return ConfigError(file_, pointer_, error.message());
  const auto key = keys_.find(error.param());
  const std::string written = key != keys_.end() ? key->get<std::string>() : error.param();
  return ConfigError(file_, pointer_ + "/" + pointer_escape(written), error.message());
}

const Json& PluginParams::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw InternalError("plug-in " + impl_ + " has no parameter " + name);
  return *it;
}

double PluginParams::number(const std::string& name) const { return at(name).get<double>(); }
std::int64_t PluginParams::integer(const std::string& name) const { return at(name).get<std::int64_t>(); }
bool PluginParams::boolean(const std::string& name) const { return at(name).get<bool>(); }
std::string PluginParams::string(const std::string& name) const { return at(name).get<std::string>(); }
const Json& PluginParams::object(const std::string& name) const { return at(name); }

Json PluginParams::to_json() const {
  Json out = Json::object();
  out["impl"] = impl_;
  for (auto it = resolved_.begin(); it != resolved_.end(); ++it) out[it.key()] = it.value();
  return out;
}

namespace {

/// `optional[i]`: params[i] may be absent (then it gets no value). `objects`: object-valued
/// parameters are read as JSON objects (plug-ins: PluginParams::object; absent, they have no
/// value); otherwise they are left to their own code (sections).
PluginParams read_params(ObjectReader& r, const std::string& impl, const std::vector<const ParamSpec*>& params,
                         const std::vector<bool>& optional, bool objects) {
  Json values = Json::object();
  Json resolved = Json::object();
  Json keys = Json::object();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& p = *params[i];
    if (p.type == ParamType::kObject) {
      if (!objects || !r.has(p.name)) continue;
      ObjectReader value = r.object(p.name);
      keys[p.name] = p.name;
      values[p.name] = value.json();
      resolved[p.name] = value.json();
      continue;
    }
    if (optional[i] && p.default_value.is_null() &&
        !(p.type == ParamType::kQuantity ? r.has_quantity(p.name, p.dim) : r.has(p.name)))
      continue;
    keys[p.name] = p.type == ParamType::kQuantity ? r.given_key(p.name, p.dim) : p.name;
    const bool required = p.default_value.is_null();
    Json v;
    switch (p.type) {
      case ParamType::kInteger: {
        const auto lo = static_cast<std::int64_t>(std::max(p.min, -9e15));
        const auto hi = static_cast<std::int64_t>(std::min(p.max, 9e15));
        v = required ? r.integer(p.name, lo, hi)
                     : r.integer_or(p.name, p.default_value.get<std::int64_t>(), lo, hi);
        break;
      }
      case ParamType::kNumber:
        v = required ? r.number(p.name, p.min, p.max)
                     : r.number_or(p.name, p.default_value.get<double>(), p.min, p.max);
        break;
      case ParamType::kBoolean:
        v = required ? r.boolean(p.name) : r.boolean_or(p.name, p.default_value.get<bool>());
        break;
      case ParamType::kString:
        v = required ? r.string(p.name) : r.string_or(p.name, p.default_value.get<std::string>());
        break;
      case ParamType::kChoice:
        v = required ? r.choice(p.name, p.choices)
                     : r.choice_or(p.name, p.choices, p.default_value.get<std::string>());
        break;
      case ParamType::kQuantity:
        v = required ? r.quantity(p.name, p.dim, p.min, p.max)
                     : r.quantity_or(p.name, p.dim, p.default_value.get<double>(), p.min, p.max);
        break;
      case ParamType::kObject: break;
    }
    values[p.name] = v;
    resolved[p.resolved_key()] = v;
  }
  return PluginParams(impl, std::move(values), std::move(resolved), std::move(keys), r.file(), r.pointer());
}

}  // namespace

PluginParams read_plugin_params(ObjectReader& r, const PluginInfo& info) {
  std::vector<const ParamSpec*> params;
  for (const ParamSpec& p : info.params) params.push_back(&p);
  PluginParams out = read_params(r, info.name, params, std::vector<bool>(params.size(), false), true);
  r.finish();
  return out;
}

PluginParams read_section(ObjectReader& r, const SectionInfo& section) {
  std::vector<const ParamSpec*> params;
  std::vector<bool> optional;
  for (const SectionKey& k : section.keys) {
    params.push_back(&k.spec);
    optional.push_back(!k.absent.empty());
  }
  return read_params(r, "", params, optional, false);
}

void finish_declared(const ObjectReader& reader, const SectionInfo& section) {
  for (const std::string& key : reader.known_keys()) {
    bool declared = false;
    for (const SectionKey& k : section.keys) declared = declared || k.spec.name == key || k.spec.resolved_key() == key;
    if (!declared)
      throw InternalError("key \"" + key + "\" of " + reader.file() + ":" + reader.pointer() +
                          " is read but not declared (section " + (section.pointer.empty() ? "/" : section.pointer) + ")");
  }
  reader.finish();
}

ParamColumns param_columns(const ParamSpec& p, const std::string& absent) {
  ParamColumns c;
  c.key = p.type == ParamType::kQuantity ? p.name + " or " + p.resolved_key() : p.name;
  switch (p.type) {
    case ParamType::kInteger: c.type = "integer"; break;
    case ParamType::kNumber: c.type = "number"; break;
    case ParamType::kBoolean: c.type = "boolean"; break;
    case ParamType::kString: c.type = "string"; break;
    case ParamType::kChoice: c.type = "choice"; break;
    case ParamType::kQuantity: c.type = quantity_type(p.dim); break;
    case ParamType::kObject: c.type = "object"; break;
  }
  if (p.type == ParamType::kQuantity) c.unit = si_unit(p.dim);
  if (!absent.empty()) c.def = absent;
  else if (p.default_value.is_null()) c.def = "required";
  else if (p.default_value.is_number()) c.def = format_number(p.default_value.get<double>());
  else c.def = p.default_value.dump();
  if (p.type == ParamType::kChoice) {
    c.bounds = "one of:";
    for (std::size_t i = 0; i < p.choices.size(); ++i) c.bounds += (i ? ", " : " ") + p.choices[i];
  } else if (p.type != ParamType::kBoolean && p.type != ParamType::kString && p.type != ParamType::kObject) {
    c.bounds = bounds_text(p);
  }
  c.meaning = p.description;
  return c;
}

std::string describe_params(const PluginInfo& info) {
  std::ostringstream out;
  for (const ParamSpec& p : info.params) {
    const ParamColumns c = param_columns(p);
    out << "    " << c.key << " (" << c.type << (c.unit.empty() ? "" : ", " + c.unit) << ") default " << c.def;
    if (!c.bounds.empty()) out << ", " << c.bounds;
    out << ": " << c.meaning << "\n";
  }
  return out.str();
}

std::string describe_family(const PluginFamily& family) {
  std::ostringstream out;
  out << family.name << " (" << family.location << "): " << family.meaning << "\n";
  for (const PluginInfo& info : family.plugins) out << "  " << info.name << ": " << info.summary << "\n" << describe_params(info);
  return out.str();
}

namespace {

/// (declaration, what absence means) per row.
std::string markdown_table(const std::vector<std::pair<const ParamSpec*, std::string>>& rows) {
  std::ostringstream out;
  out << "| key | type | unit | default | bounds | meaning |\n|---|---|---|---|---|---|\n";
  for (const auto& [spec, absent] : rows) {
    const ParamSpec& p = *spec;
    const ParamColumns c = param_columns(p, absent);
    out << "| `" << p.name << "`";
    if (p.type == ParamType::kQuantity) out << " or `" << p.resolved_key() << "`";
    out << " | " << c.type << " | " << c.unit << " | " << markdown_cell(c.def) << " | " << markdown_cell(c.bounds)
        << " | " << markdown_cell(c.meaning) << " |\n";
  }
  return out.str();
}

}  // namespace

std::string markdown_family(const PluginFamily& family) {
  std::ostringstream out;
  out << "## " << family.name << "\n\n" << family.meaning << "\n\nWhere: "
      << (family.location.starts_with("/") ? "`" + family.location + "`" : family.location) << "\n";
  for (const PluginInfo& info : family.plugins) {
    out << "\n### `" << info.name << "`\n\n" << info.summary << "\n";
    if (info.params.empty()) continue;
    std::vector<std::pair<const ParamSpec*, std::string>> rows;
    for (const ParamSpec& p : info.params) rows.emplace_back(&p, "");
    out << "\n" << markdown_table(rows);
  }
  return out.str();
}

std::string markdown_keys(const SectionInfo& section) {
  std::vector<std::pair<const ParamSpec*, std::string>> rows;
  for (const SectionKey& k : section.keys) rows.emplace_back(&k.spec, k.absent);
  return markdown_table(rows);
}

std::string markdown_section(const SectionInfo& section) {
  std::ostringstream out;
  out << "### `" << (section.pointer.empty() ? "/" : section.pointer) << "`\n\n" << section.summary << "\n\n"
      << markdown_keys(section);
  return out.str();
}

}  // namespace frugal::core
