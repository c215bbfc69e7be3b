// Strict reading of JSON configuration: every key must be known, every value of the right type
// and unit, and every error names the file and the JSON pointer of the value at fault.
// Readers are cheap views over a json value; they never copy the document.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/error.hpp"
#include "sim/core/units.hpp"

namespace frugal::core {

using Json = nlohmann::json;

/// Bounds on every JSON input, checked before or while parsing: a file larger than
/// kMaxJsonFileBytes is not read, a value nested deeper than kMaxJsonDepth is refused as soon as
/// the parser reaches it (readers and writers recurse over values).
inline constexpr std::uintmax_t kMaxJsonFileBytes = 512ull << 20;
inline constexpr int kMaxJsonDepth = 100;

/// Parses `text` read from `source` (a file name, "--set /pointer"); syntax errors, numbers a
/// double cannot hold (1e999) and nesting deeper than kMaxJsonDepth become
/// ConfigError(source, "line L column C", ...).
Json parse_json(const std::string& text, const std::string& source);

/// The whole text of an input file, refusing files over kMaxJsonFileBytes (ConfigError), or one
/// that cannot be opened.
std::string read_input_file(const std::filesystem::path& path);

/// Reads and parses a JSON file (read_input_file, then parse_json).
Json load_json_file(const std::filesystem::path& path);

/// Escapes a key for a JSON pointer (RFC 6901: "~" → "~0", "/" → "~1").
std::string pointer_escape(const std::string& key);

/// A view over one JSON object of a file. Each accessor records the key as known; `finish()`
/// then rejects every key present in the object that no accessor asked for, listing the valid
/// ones. Quantities are read from `key` as a unit string or from `key + si_suffix` as a number.
class ObjectReader {
 public:
  /// Throws ConfigError unless `value` is an object.
  ObjectReader(const Json& value, std::string file, std::string pointer);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  std::string pointer_of(const std::string& key) const { return pointer_ + "/" + pointer_escape(key); }
  const Json& json() const { return *value_; }

  /// Records `key` as known and tells whether it is present.
  bool has(const std::string& key);
  /// True when `key` or its SI-suffixed form is present (records both as known).
  bool has_quantity(const std::string& key, Dimension dim);

  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  /// A string that must be one of `valid`; the error lists them.
  std::string choice(const std::string& key, const std::vector<std::string>& valid);
  std::string choice_or(const std::string& key, const std::vector<std::string>& valid,
                        const std::string& fallback);
  std::int64_t integer(const std::string& key, std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  std::int64_t integer_or(const std::string& key, std::int64_t fallback,
                          std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                          std::int64_t max = std::numeric_limits<std::int64_t>::max());
  double number(const std::string& key, double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());
  double number_or(const std::string& key, double fallback,
                   double min = -std::numeric_limits<double>::infinity(),
                   double max = std::numeric_limits<double>::infinity());
  bool boolean(const std::string& key);
  bool boolean_or(const std::string& key, bool fallback);
  /// `key: "80 GiB"` or `key_bytes: 85899345920`; result in SI units, checked against [min, max].
  double quantity(const std::string& key, Dimension dim, double min = 0,
                  double max = std::numeric_limits<double>::infinity());
  double quantity_or(const std::string& key, Dimension dim, double fallback, double min = 0,
                     double max = std::numeric_limits<double>::infinity());
  /// A quantity that must be strictly positive (bandwidths, capacities, peaks); a zero names the
  /// key it was given under.
  double positive_quantity(const std::string& key, Dimension dim);
  /// The key under which a quantity was given ("memory" or "memory_bytes"), for error pointers.
  std::string given_key(const std::string& key, Dimension dim) const;

  /// Nested object; the caller must call `finish()` on it.
  ObjectReader object(const std::string& key);
  std::optional<ObjectReader> optional_object(const std::string& key);
  /// Raw value of a present key (marks it known); throws when absent.
  const Json& value(const std::string& key);
  /// Array under `key` (throws unless an array); elements addressed as pointer/key/i.
  const Json& array(const std::string& key);

  /// Throws ConfigError("file", "/p/x", "unknown key (valid: ...)") for the first unknown key.
  void finish() const;
  /// Every key an accessor asked for so far (present or not): the keys finish() accepts.
  const std::set<std::string>& known_keys() const { return known_; }

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail_here(const std::string& message) const;

 private:
  const Json& require(const std::string& key);
  const Json* find(const std::string& key);
  double check_range(const std::string& key, double v, double min, double max) const;

  const Json* value_;
  std::string file_;
  std::string pointer_;
  std::set<std::string> known_;
};

/// "valid: a, b, c" for messages.
std::string list_valid(const std::vector<std::string>& names);

}  // namespace frugal::core
