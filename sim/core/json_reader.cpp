// Strict JSON reader: typed accessors with file + pointer errors, unknown-key detection.
#include "sim/core/json_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sim/core/input_files.hpp"

namespace frugal::core {
namespace {

std::string type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

std::string shown(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::string list_valid(const std::vector<std::string>& names) {
  std::string out = "valid: ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

namespace {

/// "line L column C" of byte `offset` of `text` (1-based), as editors number them.
std::string line_column(const std::string& text, std::size_t offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
  }
  return "line " + std::to_string(line) + " column " + std::to_string(col);
}

/// The first offset i outside JSON strings for which `stop(i)` is true, or npos; `stop` may move
/// i forward past what it consumed (a number literal).
template <class Stop>
std::size_t first_outside_strings(const std::string& text, Stop&& stop) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (stop(i)) {
      return i;
    }
  }
  return std::string::npos;
}

/// Offset of the first number literal that a double cannot hold (1e999), or npos.
std::size_t overflowing_number(const std::string& text) {
  return first_outside_strings(text, [&text](std::size_t& i) {
    if (text[i] != '-' && (text[i] < '0' || text[i] > '9')) return false;
    std::size_t end = i + 1;
    while (end < text.size() && std::strchr("0123456789.eE+-", text[end]) != nullptr) ++end;
    if (!std::isfinite(std::strtod(text.substr(i, end - i).c_str(), nullptr))) return true;
    i = end - 1;
    return false;
  });
}

/// Offset of the first "{" or "[" that opens level `depth` + 1, or npos.
std::size_t deepest_opening(const std::string& text, int depth) {
  int level = 0;
  return first_outside_strings(text, [&](std::size_t& i) {
    if (text[i] == '{' || text[i] == '[') return ++level > depth;
    if (text[i] == '}' || text[i] == ']') --level;
    return false;
  });
}

struct TooDeep {};  // thrown by the parser callback of parse_json

}  // namespace

Json parse_json(const std::string& text, const std::string& source) {
  // The callback sees every value's depth before the value is built: a deep nest is refused at
  // its first level too many, before it costs memory or recursion.
  std::size_t too_deep = std::string::npos;
  const Json::parser_callback_t bound_depth = [&](int depth, Json::parse_event_t event, Json&) {
    if (depth >= kMaxJsonDepth && (event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start))
      throw TooDeep{};
    return true;
  };
  try {
    return Json::parse(text, bound_depth);
  } catch (const Json::parse_error& e) {
    // Turn the byte offset into a line and column, which editors understand.
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    if (colon != std::string::npos) what = what.substr(colon);
    throw ConfigError(source, line_column(text, e.byte == 0 ? 0 : e.byte - 1), "invalid JSON: " + what);
  } catch (const Json::out_of_range&) {
    // The parser's number overflow (a literal such as 1e999): bad input, located by our own scan.
    const std::size_t at = overflowing_number(text);
    throw ConfigError(source, at == std::string::npos ? "" : line_column(text, at),
                      "invalid JSON: a number too large for a double");
  } catch (const TooDeep&) {
    too_deep = deepest_opening(text, kMaxJsonDepth);
  }
  throw ConfigError(source, too_deep == std::string::npos ? "" : line_column(text, too_deep),
                    "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
}

std::string read_input_file(const std::filesystem::path& path) {
  InputFileLog::note(path);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kMaxJsonFileBytes)
    throw ConfigError(path.string(), "", "file of " + std::to_string(bytes) + " bytes, larger than the " +
                                              std::to_string(kMaxJsonFileBytes >> 20) + " MiB any JSON input may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string(), "", "cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Json load_json_file(const std::filesystem::path& path) { return parse_json(read_input_file(path), path.string()); }

ObjectReader::ObjectReader(const Json& value, std::string file, std::string pointer)
    : value_(&value), file_(std::move(file)), pointer_(std::move(pointer)) {
  if (!value.is_object()) fail_here("expected an object, got " + type_name(value));
}

void ObjectReader::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(file_, pointer_of(key), message);
}

void ObjectReader::fail_here(const std::string& message) const {
  throw ConfigError(file_, pointer_, message);
}

const Json* ObjectReader::find(const std::string& key) {
  known_.insert(key);
  auto it = value_->find(key);
  return it == value_->end() ? nullptr : &*it;
}

const Json& ObjectReader::require(const std::string& key) {
  const Json* v = find(key);
  if (!v) fail(key, "missing required key");
  return *v;
}

bool ObjectReader::has(const std::string& key) { return find(key) != nullptr; }

bool ObjectReader::has_quantity(const std::string& key, Dimension dim) {
  const bool a = has(key);
  const bool b = has(key + std::string(si_suffix(dim)));
  return a || b;
}

std::string ObjectReader::string(const std::string& key) {
  const Json& v = require(key);
  if (!v.is_string()) fail(key, "expected a string, got " + type_name(v));
  return v.get<std::string>();
}

std::string ObjectReader::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

std::string ObjectReader::choice(const std::string& key, const std::vector<std::string>& valid) {
  std::string s = string(key);
  if (std::find(valid.begin(), valid.end(), s) == valid.end())
    fail(key, "unknown value \"" + s + "\" (" + list_valid(valid) + ")");
  return s;
}

std::string ObjectReader::choice_or(const std::string& key, const std::vector<std::string>& valid,
                                    const std::string& fallback) {
  return has(key) ? choice(key, valid) : fallback;
}

std::int64_t ObjectReader::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  const Json& v = require(key);
  std::int64_t out = 0;
  if (v.is_number_integer() || v.is_number_unsigned()) {
    out = v.get<std::int64_t>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
             std::abs(v.get<double>()) < 9e15) {
    out = static_cast<std::int64_t>(v.get<double>());
  } else {
    fail(key, "expected an integer, got " + type_name(v));
  }
  if (out < min || out > max) {
    std::string range = out < min ? ">= " + std::to_string(min) : "<= " + std::to_string(max);
    fail(key, "value " + std::to_string(out) + " out of range (expected " + range + ")");
  }
  return out;
}

std::int64_t ObjectReader::integer_or(const std::string& key, std::int64_t fallback, std::int64_t min,
                                      std::int64_t max) {
  return has(key) ? integer(key, min, max) : fallback;
}

double ObjectReader::check_range(const std::string& key, double v, double min, double max) const {
  if (!std::isfinite(v)) fail(key, "expected a finite number");
  if (v < min) fail(key, "value " + shown(v) + " out of range (expected >= " + shown(min) + ")");
  if (v > max) fail(key, "value " + shown(v) + " out of range (expected <= " + shown(max) + ")");
  return v;
}

double ObjectReader::number(const std::string& key, double min, double max) {
  const Json& v = require(key);
  if (!v.is_number()) fail(key, "expected a number, got " + type_name(v));
  return check_range(key, v.get<double>(), min, max);
}

double ObjectReader::number_or(const std::string& key, double fallback, double min, double max) {
  return has(key) ? number(key, min, max) : fallback;
}

bool ObjectReader::boolean(const std::string& key) {
  const Json& v = require(key);
  if (!v.is_boolean()) fail(key, "expected true or false, got " + type_name(v));
  return v.get<bool>();
}

bool ObjectReader::boolean_or(const std::string& key, bool fallback) {
  return has(key) ? boolean(key) : fallback;
}

double ObjectReader::quantity(const std::string& key, Dimension dim, double min, double max) {
  const std::string si_key = key + std::string(si_suffix(dim));
  const Json* text = find(key);
  const Json* si = find(si_key);
  if (text && si) fail(si_key, "give either \"" + key + "\" or \"" + si_key + "\", not both");
  if (si) {
    if (!si->is_number()) fail(si_key, "expected a number in SI units, got " + type_name(*si));
    return check_range(si_key, si->get<double>(), min, max);
  }
  if (!text) fail(key, "missing required key (or \"" + si_key + "\" as a number)");
  if (!text->is_string())
    fail(key, "expected " + describe(dim) + " as a string, or a number under \"" + si_key + "\"; got " +
                  type_name(*text));
  double v = 0;
  try {
    v = parse_quantity(text->get<std::string>(), dim);
  } catch (const std::invalid_argument& e) {
    fail(key, e.what());
  }
  return check_range(key, v, min, max);
}

double ObjectReader::quantity_or(const std::string& key, Dimension dim, double fallback, double min,
                                 double max) {
  return has_quantity(key, dim) ? quantity(key, dim, min, max) : fallback;
}

double ObjectReader::positive_quantity(const std::string& key, Dimension dim) {
  const double v = quantity(key, dim);
  if (v <= 0) fail(given_key(key, dim), "must be > 0");
  return v;
}

std::string ObjectReader::given_key(const std::string& key, Dimension dim) const {
  const std::string si_key = key + std::string(si_suffix(dim));
  return value_->contains(si_key) ? si_key : key;
}

ObjectReader ObjectReader::object(const std::string& key) {
  return ObjectReader(require(key), file_, pointer_of(key));
}

std::optional<ObjectReader> ObjectReader::optional_object(const std::string& key) {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  return ObjectReader(*v, file_, pointer_of(key));
}

const Json& ObjectReader::value(const std::string& key) { return require(key); }

const Json& ObjectReader::array(const std::string& key) {
  const Json& v = require(key);
  if (!v.is_array()) fail(key, "expected an array, got " + type_name(v));
  return v;
}

void ObjectReader::finish() const {
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (!known_.count(it.key())) {
      std::vector<std::string> valid(known_.begin(), known_.end());
      throw ConfigError(file_, pointer_of(it.key()), "unknown key (" + list_valid(valid) + ")");
    }
  }
}

}  // namespace frugal::core
