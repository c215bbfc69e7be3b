// Strict checks of bench and measurement files, one table of fields per row kind.
#include "sim/calibration/input_files.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace frugal::calibration {
namespace {

using core::ConfigError;
using core::Json;

enum class Type { kNumber, kInteger, kString, kObject, kBoolean };

struct Field {
  std::string pointer;  ///< relative to the row ("/time_s/median")
  Type type;
  bool required = true;
  double min = -std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  double max = std::numeric_limits<double>::infinity();
};

constexpr double kMaxRank = 1 << 20;  // ranks and group sizes: as many as a cluster has GPUs

const char* expected(Type t) {
  switch (t) {
    case Type::kNumber: return "a finite number";
    case Type::kInteger: return "an integer";
    case Type::kString: return "a string";
    case Type::kObject: return "an object";
    case Type::kBoolean: return "true or false";
  }
  return "";
}

void check_fields(const Json& row, const std::string& file, const std::string& at, const std::vector<Field>& fields) {
  if (!row.is_object()) throw ConfigError(file, at.empty() ? "/" : at, "expected an object");
  for (const Field& f : fields) {
    const Json::json_pointer p(f.pointer);
    const Json* v = nullptr;
    try {
      if (row.contains(p)) v = &row.at(p);
    } catch (const Json::exception&) {  // a parent on the way is not an object
    }
    if (!v) {
      if (f.required) throw ConfigError(file, at + f.pointer, std::string("missing; expected ") + expected(f.type));
      continue;
    }
    const bool ok = f.type == Type::kString    ? v->is_string()
                    : f.type == Type::kObject  ? v->is_object()
                    : f.type == Type::kBoolean ? v->is_boolean()
                    : f.type == Type::kInteger ? v->is_number_integer()
                                               : v->is_number() && std::isfinite(v->get<double>());
    if (!ok) throw ConfigError(file, at + f.pointer, std::string("expected ") + expected(f.type));
    if (f.type == Type::kNumber || f.type == Type::kInteger) {
      const double x = v->get<double>();
      if ((f.min_exclusive ? !(x > f.min) : !(x >= f.min)) || x > f.max)
        throw ConfigError(file, at + f.pointer, "value " + v->dump() + " out of range (" +
                                                    (f.min_exclusive ? "> " : ">= ") + Json(f.min).dump() +
                                                    (std::isfinite(f.max) ? ", <= " + Json(f.max).dump() : "") + ")");
    }
  }
}

/// `doc[key]`, when present, must be an array whose elements pass `fields`.
void check_rows(const Json& doc, const std::string& file, const std::string& key, const std::vector<Field>& fields) {
  if (!doc.contains(key)) return;
  const Json& rows = doc.at(key);
  if (!rows.is_array()) throw ConfigError(file, "/" + key, "expected an array of measurements");
  for (std::size_t i = 0; i < rows.size(); ++i) check_fields(rows[i], file, "/" + key + "/" + std::to_string(i), fields);
}

void check_format(const Json& doc, const std::string& file, const std::string& format, const std::string& what) {
  if (!doc.is_object() || !doc.contains("format") || doc.at("format") != format)
    throw ConfigError(file, "/format", "not a " + what + " (expected \"format\": \"" + format + "\")");
}

}  // namespace

void check_bench_file(const Json& bench, const std::string& file) {
  check_format(bench, file, "frugal-real-bench", "frugal-real bench file");
  check_fields(bench, file, "", {{"/manifest/device", Type::kObject}, {"/manifest/device/kind", Type::kString, false}});
  check_rows(bench, file, "gemm",
             {{"/flops", Type::kNumber, true, 0, true},
              {"/flops_per_s", Type::kNumber, true, 0, true},
              {"/batch", Type::kInteger, false, 1, false, kMaxRank}});
  check_rows(bench, file, "collectives",
             {{"/collective", Type::kString},
              {"/group_size", Type::kInteger, true, 1, false, kMaxRank},
              {"/bytes", Type::kNumber, true, 0},
              {"/time_s/median", Type::kNumber, true, 0}});
  check_rows(bench, file, "memory",
             {{"/bytes", Type::kNumber, true, 0, true}, {"/bandwidth_bytes_per_s", Type::kNumber, true, 0, true}});
  check_rows(bench, file, "copies",
             {{"/bytes", Type::kNumber, true, 0}, {"/time_s/median", Type::kNumber, true, 0}, {"/memory", Type::kString, false}});
  check_rows(bench, file, "host_compute",
             {{"/flops", Type::kNumber, true, 0, true},
              {"/flops_per_s", Type::kNumber, true, 0, true},
              {"/program", Type::kBoolean, false}});
  check_fields(bench, file, "", {{"/manifest/launch/local_size", Type::kInteger, false, 1, false, kMaxRank}});
}

void check_measurements_file(const Json& measurements, const std::string& file) {
  check_format(measurements, file, "frugal-real-measurements", "frugal-real measurements file");
  check_fields(measurements, file, "", {{"/iterations/median_s", Type::kNumber, true, 0, true}});
  if (!measurements.contains("ops")) throw ConfigError(file, "/ops", "missing; expected an array of measured ops");
  check_rows(measurements, file, "ops",
             {{"/rank", Type::kInteger, true, 0, false, kMaxRank},
              {"/name", Type::kString},
              {"/time_s/median", Type::kNumber, true, 0},
              {"/kind", Type::kString, false},
              {"/op", Type::kInteger, false, 0}});
}

}  // namespace frugal::calibration
