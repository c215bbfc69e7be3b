// Declared parameters of plug-ins and a registry keyed by implementation name.
// A plug-in is configured as {"impl": "<name>", ...params}; each parameter is declared once
// (name, type, unit, default, bounds, description) and that declaration drives validation,
// `frugalsim list` and config.resolved.json.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_reader.hpp"

namespace frugal::core {

enum class ParamType { kInteger, kNumber, kBoolean, kString, kChoice, kQuantity };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kNumber;
  Dimension dim = Dimension::kBytes;  ///< only for kQuantity; the value is stored in SI
  Json default_value;                 ///< null: required. Quantities: the SI number.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;   ///< only for kChoice
  std::string description;

  /// Key under which the resolved value is written ("bucket_size" → "bucket_size_bytes").
  std::string resolved_key() const;
};

struct PluginInfo {
  std::string name;     ///< registry key, JSON "impl" value and implementation file stem
  std::string summary;  ///< one line for `frugalsim list`
  std::vector<ParamSpec> params;
};

/// Validated parameter values of one plug-in instance, in SI units.
class PluginParams {
 public:
  /// `values`: param name → SI value; `resolved`: resolved key → SI value (see ParamSpec).
  PluginParams(std::string impl, Json values, Json resolved)
      : impl_(std::move(impl)), values_(std::move(values)), resolved_(std::move(resolved)) {}
  const std::string& impl() const { return impl_; }
  double number(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
  /// {"impl": name, <resolved_key>: value...}: reading it back gives the same parameters.
  Json to_json() const;

 private:
  const Json& at(const std::string& name) const;
  std::string impl_;
  Json values_;    ///< param name → SI value
  Json resolved_;  ///< resolved key → SI value
};

/// Reads the declared parameters of `info` from `reader` (which holds the "impl" key) and
/// finishes the reader, so undeclared keys are errors.
PluginParams read_plugin_params(ObjectReader& reader, const PluginInfo& info);

/// One line per parameter: "name  type [unit]  default  description".
std::string describe_params(const PluginInfo& info);

/// Registry of the implementations of one interface.
template <class Base>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(const PluginParams&)>;

  void add(PluginInfo info, Factory make) {
    std::string name = info.name;
    entries_.emplace(std::move(name), Entry{std::move(info), std::move(make)});
  }

  /// Builds the plug-in described by `spec` ({"impl": ...}); errors name file and pointer.
  /// `resolved`, when given, receives the validated parameters.
  std::unique_ptr<Base> create(const Json& spec, const std::string& file, const std::string& pointer,
                               std::optional<PluginParams>* resolved = nullptr) const {
    ObjectReader reader(spec, file, pointer);
    const std::string impl = reader.choice("impl", names());
    const Entry& entry = entries_.at(impl);
    PluginParams params = read_plugin_params(reader, entry.info);
    auto out = entry.make(params);
    if (resolved) resolved->emplace(std::move(params));
    return out;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

  std::vector<const PluginInfo*> infos() const {
    std::vector<const PluginInfo*> out;
    for (const auto& [name, e] : entries_) out.push_back(&e.info);
    return out;
  }

 private:
  struct Entry {
    PluginInfo info;
    Factory make;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace frugal::core
