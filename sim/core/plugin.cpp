// Reading and describing declared plug-in parameters.
#include "sim/core/plugin.hpp"

#include <sstream>

namespace frugal::core {

std::string ParamSpec::resolved_key() const {
  return type == ParamType::kQuantity ? name + std::string(si_suffix(dim)) : name;
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

Json PluginParams::to_json() const {
  Json out = Json::object();
  out["impl"] = impl_;
  for (auto it = resolved_.begin(); it != resolved_.end(); ++it) out[it.key()] = it.value();
  return out;
}

PluginParams read_plugin_params(ObjectReader& r, const PluginInfo& info) {
  Json values = Json::object();
  Json resolved = Json::object();
  for (const ParamSpec& p : info.params) {
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
    }
    values[p.name] = v;
    resolved[p.resolved_key()] = v;
  }
  r.finish();
  return PluginParams(info.name, std::move(values), std::move(resolved));
}

std::string describe_params(const PluginInfo& info) {
  std::ostringstream out;
  for (const ParamSpec& p : info.params) {
    out << "    " << p.resolved_key();
    switch (p.type) {
      case ParamType::kInteger: out << " (integer)"; break;
      case ParamType::kNumber: out << " (number)"; break;
      case ParamType::kBoolean: out << " (boolean)"; break;
      case ParamType::kString: out << " (string)"; break;
      case ParamType::kChoice: {
        out << " (one of";
        for (const auto& c : p.choices) out << " " << c;
        out << ")";
        break;
      }
      case ParamType::kQuantity: out << " (" << describe(p.dim) << ")"; break;
    }
    out << " default " << (p.default_value.is_null() ? std::string("required") : p.default_value.dump());
    out << ": " << p.description << "\n";
  }
  return out.str();
}

}  // namespace frugal::core
