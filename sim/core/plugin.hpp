// Declared parameters of plug-ins, a registry keyed by implementation name, the one error a
// plug-in raises about its parameters, and the one macro that registers a plug-in. A plug-in is
// configured as {"impl": "<name>", ...params}; each parameter is declared once (name, type,
// unit, default, bounds, description) and that declaration drives validation, `frugalsim list`,
// docs/reference.md and config.resolved.json.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/core/json_reader.hpp"

namespace frugal::core {

/// kObject: a key whose value is an object (or a reference to one) read by its own code; it is
/// declared for the reference only, and read_section() leaves it to that code.
enum class ParamType { kInteger, kNumber, kBoolean, kString, kChoice, kQuantity, kObject };

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

/// A problem with parameter `param` of a plug-in, raised by code that does not know where the
/// plug-in sits in the input: its factory (cross-field checks) or its later decisions (e.g. a
/// layout that cannot be planned). Every family reports parameter problems this way; whoever
/// holds the plug-in's PluginParams turns it into file:<plug-in pointer>/<key as written>
/// (Registry::create for factories, PluginParams::locate for later calls). Unlocated, it still
/// reads "<input>:/<param>: message" and exits with code 2.
class ParamError : public ConfigError {
 public:
  ParamError(std::string param, std::string message)
      : ConfigError("", "/" + param, std::move(message)), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

struct PluginInfo {
  std::string name;     ///< registry key, JSON "impl" value and implementation file stem
  std::string summary;  ///< one line for `frugalsim list`
  std::vector<ParamSpec> params;
};

/// Validated parameter values of one plug-in instance, in SI units, and where they were read.
class PluginParams {
 public:
  /// `values`: param name → SI value; `resolved`: resolved key → SI value (see ParamSpec);
  /// `keys`: param name → the key the input used ("mtbf" or "mtbf_s"); `file`, `pointer`: where
  /// the plug-in's object is.
  PluginParams(std::string impl, Json values, Json resolved, Json keys = Json::object(), std::string file = "",
               std::string pointer = "")
      : impl_(std::move(impl)),
        values_(std::move(values)),
        resolved_(std::move(resolved)),
        keys_(std::move(keys)),
        file_(std::move(file)),
        pointer_(std::move(pointer)) {}
  const std::string& impl() const { return impl_; }
  bool has(const std::string& name) const { return values_.contains(name); }
  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  /// `error` at file:<pointer>/<the key the input used for its parameter>.
  ConfigError locate(const ParamError& error) const;
  double number(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
  /// An object-valued parameter (ParamType::kObject) as written; the plug-in validates it
  /// (ParamError for what it refuses). Absent: has() is false.
  const Json& object(const std::string& name) const;
  /// {"impl": name, <resolved_key>: value...}: reading it back gives the same parameters.
  Json to_json() const;

 private:
  const Json& at(const std::string& name) const;
  std::string impl_;
  Json values_;    ///< param name → SI value
  Json resolved_;  ///< resolved key → SI value
  Json keys_;      ///< param name → key as written
  std::string file_;
  std::string pointer_;
};

/// Reads the declared parameters of `info` from `reader` (which holds the "impl" key) and
/// finishes the reader, so undeclared keys are errors.
PluginParams read_plugin_params(ObjectReader& reader, const PluginInfo& info);

/// A lower bound that means "strictly positive" (the reference prints it as "> 0").
inline constexpr double kPositive = std::numeric_limits<double>::denorm_min();

/// Builders of key declarations for sections and file formats. A null `def`: required, or
/// described by SectionKey::absent. Booleans, strings, choices and objects have no bounds.
namespace keys {
ParamSpec integer(std::string name, std::string meaning, Json def = Json(), double min = 1,
                  double max = std::numeric_limits<double>::infinity());
ParamSpec number(std::string name, std::string meaning, Json def = Json(),
                 double min = -std::numeric_limits<double>::infinity(),
                 double max = std::numeric_limits<double>::infinity());
ParamSpec quantity(std::string name, Dimension dim, std::string meaning, Json def = Json(), double min = 0);
ParamSpec boolean(std::string name, std::string meaning, Json def = Json());
ParamSpec text(std::string name, std::string meaning, Json def = Json());
ParamSpec choice(std::string name, std::vector<std::string> choices, std::string meaning, Json def = Json());
ParamSpec object(std::string name, std::string meaning);
}  // namespace keys

/// A key of a section: its declaration and, for a key that may be absent without a fixed default
/// (a null default_value), what its absence means ("the study file's name"); the reference shows
/// that as its default. A null default and no `absent`: required.
struct SectionKey {
  SectionKey(ParamSpec spec) : spec(std::move(spec)) {}  // a plain key converts implicitly
  SectionKey(ParamSpec spec, std::string absent) : spec(std::move(spec)), absent(std::move(absent)) {}
  ParamSpec spec;
  std::string absent;
};

/// A fixed section of a study (not a plug-in), its keys declared like plug-in parameters so the
/// reference documents every key the code accepts.
struct SectionInfo {
  std::string pointer;  ///< "/training", "/campaign/goal"; "" for the study's top level
  std::string summary;  ///< one line
  std::vector<SectionKey> keys;
};

/// Checks that every key `reader` was asked for is declared in `section` (InternalError
/// otherwise: code and reference would disagree), then finishes it (unknown keys in the input
/// are ConfigErrors). For file formats read by hand rather than through read_section.
void finish_declared(const ObjectReader& reader, const SectionInfo& section);

/// Reads the declared keys of `section` from `reader` (kObject keys excepted: their own code
/// reads them) without finishing it. Values in SI by key name (PluginParams::number...); a key
/// with `absent` that is not there has no value (PluginParams::has).
PluginParams read_section(ObjectReader& reader, const SectionInfo& section);

/// One line per parameter: "key  type  [unit]  default  bounds: meaning".
std::string describe_params(const PluginInfo& info);

/// The columns the reference shows for one parameter (plain text, no markup).
struct ParamColumns {
  std::string key;      ///< "bucket_size", or "bucket_size or bucket_size_bytes" for quantities
  std::string type;     ///< "integer", "number", "boolean", "string", "choice", "size", "duration", ...
  std::string unit;     ///< SI unit of quantities ("bytes", "s", ...), "" otherwise
  std::string def;      ///< "required", the default ("26214400", "\"auto\"", "true"), or SectionKey::absent
  std::string bounds;   ///< ">= 1", "0 to 3", "one of: ring, hierarchical", "" when unbounded
  std::string meaning;
};
/// `absent`: the default column of a key without a fixed default (see SectionKey).
ParamColumns param_columns(const ParamSpec& spec, const std::string& absent = "");

/// Registry of the implementations of one interface.
template <class Base>
class Registry {
 public:
  using Interface = Base;
  using Factory = std::function<std::unique_ptr<Base>(const PluginParams&)>;

  void add(PluginInfo info, Factory make) {
    std::string name = info.name;
    entries_.emplace(std::move(name), Entry{std::move(info), std::move(make)});
  }

  /// Builds the plug-in described by `spec` ({"impl": ...}); errors name file and pointer,
  /// including the ParamErrors its factory raises (located at the key the input used).
  /// `resolved`, when given, receives the validated parameters.
  std::unique_ptr<Base> create(const Json& spec, const std::string& file, const std::string& pointer,
                               std::optional<PluginParams>* resolved = nullptr) const {
    ObjectReader reader(spec, file, pointer);
    const std::string impl = reader.choice("impl", names());
    const Entry& entry = entries_.at(impl);
    PluginParams params = read_plugin_params(reader, entry.info);
    std::unique_ptr<Base> out;
    try {
      out = entry.make(params);
    } catch (const ParamError& e) {
      throw params.locate(e);
    }
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

  /// Copies of every plug-in's declaration, in name order.
  std::vector<PluginInfo> plugins() const {
    std::vector<PluginInfo> out;
    for (const auto& [name, e] : entries_) out.push_back(e.info);
    return out;
  }

 private:
  struct Entry {
    PluginInfo info;
    Factory make;
  };
  std::map<std::string, Entry> entries_;
};

/// A family of plug-ins as `frugalsim list` and docs/reference.md show it.
struct PluginFamily {
  std::string name;      ///< "checkpoint"
  std::string location;  ///< where a study configures one, e.g. "/campaign/resilience/checkpoint"
  std::string meaning;   ///< one line: what the family decides
  std::vector<PluginInfo> plugins;
};

template <class Base>
PluginFamily family_of(std::string name, std::string location, std::string meaning, const Registry<Base>& registry) {
  return PluginFamily{std::move(name), std::move(location), std::move(meaning), registry.plugins()};
}

/// `frugalsim list`: the family's header line, then each plug-in with describe_params().
std::string describe_family(const PluginFamily& family);
/// docs/reference.md: a "## <name>" section with a table of parameters per plug-in.
std::string markdown_family(const PluginFamily& family);
/// docs/reference.md: a "### <pointer>" section with the table of its keys.
std::string markdown_section(const SectionInfo& section);
/// The table of markdown_section alone (for pages that title a section themselves).
std::string markdown_keys(const SectionInfo& section);

}  // namespace frugal::core

/// Registers plug-in `name` of family `family` in `registry` (a core::Registry<Interface>), in
/// the family's registry.cpp, one line per plug-in: FRUGAL_PLUGIN(r, checkpoint, young);
/// impl/young.cpp defines, in the registry's namespace,
///   core::PluginInfo young_checkpoint_info();
///   std::unique_ptr<Interface> make_young_checkpoint(const core::PluginParams&);
/// The declarations are local to the registration, so no header lists the plug-ins.
#define FRUGAL_PLUGIN(registry, family, name)                                                         \
  do {                                                                                                \
    extern ::frugal::core::PluginInfo name##_##family##_info();                                       \
    extern std::unique_ptr<std::remove_reference_t<decltype(registry)>::Interface> make_##name##_##family( \
        const ::frugal::core::PluginParams&);                                                         \
    (registry).add(name##_##family##_info(), make_##name##_##family);                                 \
  } while (0)
