// Unit-string parsing: decimal (k, M, G, T, P) and binary (Ki, Mi, Gi, Ti) prefixes, bits and
// bytes for sizes and bandwidths, the usual time units.
#include "sim/core/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace frugal::core {
namespace {

struct Unit {
  std::string_view symbol;
  double factor;
};

const std::vector<Unit>& units_of(Dimension dim) {
  static const std::vector<Unit> bytes = {
      {"B", 1},       {"kB", 1e3},          {"KB", 1e3},          {"MB", 1e6},
      {"GB", 1e9},    {"TB", 1e12},         {"PB", 1e15},         {"KiB", 1024.0},
      {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
      {"PiB", 1125899906842624.0}};
  static const std::vector<Unit> time = {
      {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},       {"min", 60},
      {"h", 3600},  {"d", 86400}, {"day", 86400}, {"days", 86400}};
  static const std::vector<Unit> bandwidth = {
      {"Bps", 1},         {"B/s", 1},          {"kBps", 1e3},     {"kB/s", 1e3},
      {"MBps", 1e6},      {"MB/s", 1e6},       {"GBps", 1e9},     {"GB/s", 1e9},
      {"TBps", 1e12},     {"TB/s", 1e12},      {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0},
      {"bps", 0.125},     {"kbps", 125.0},     {"Kbps", 125.0},   {"Mbps", 1.25e5},
      {"Gbps", 1.25e8},   {"Tbps", 1.25e11},   {"Gb/s", 1.25e8},  {"Mb/s", 1.25e5}};
  static const std::vector<Unit> flops = {
      {"FLOP", 1}, {"kFLOP", 1e3}, {"MFLOP", 1e6}, {"GFLOP", 1e9}, {"TFLOP", 1e12},
      {"PFLOP", 1e15}, {"EFLOP", 1e18}};
  static const std::vector<Unit> flop_rate = {
      {"FLOPS", 1},      {"FLOP/s", 1},     {"kFLOPS", 1e3},  {"MFLOPS", 1e6},
      {"GFLOPS", 1e9},   {"GFLOP/s", 1e9},  {"TFLOPS", 1e12}, {"TFLOP/s", 1e12},
      {"PFLOPS", 1e15},  {"PFLOP/s", 1e15}};
  static const std::vector<Unit> power = {{"W", 1}, {"kW", 1e3}, {"MW", 1e6}};
  static const std::vector<Unit> energy = {
      {"J", 1}, {"kJ", 1e3}, {"MJ", 1e6}, {"GJ", 1e9}, {"Wh", 3600}, {"kWh", 3.6e6},
      {"MWh", 3.6e9}};
  switch (dim) {
    case Dimension::kBytes: return bytes;
    case Dimension::kTime: return time;
    case Dimension::kBandwidth: return bandwidth;
    case Dimension::kFlops: return flops;
    case Dimension::kFlopRate: return flop_rate;
    case Dimension::kPower: return power;
    case Dimension::kEnergy: return energy;
  }
  throw std::logic_error("unknown dimension");
}

std::string unit_list(Dimension dim) {
  std::string out;
  for (const Unit& u : units_of(dim)) {
    if (!out.empty()) out += ", ";
    out += u.symbol;
  }
  return out;
}

}  // namespace

std::string_view si_suffix(Dimension dim) {
  switch (dim) {
    case Dimension::kBytes: return "_bytes";
    case Dimension::kTime: return "_s";
    case Dimension::kBandwidth: return "_bytes_per_s";
    case Dimension::kFlops: return "_flops";
    case Dimension::kFlopRate: return "_flops_per_s";
    case Dimension::kPower: return "_w";
    case Dimension::kEnergy: return "_j";
  }
  return "";
}

std::string describe(Dimension dim) {
  switch (dim) {
    case Dimension::kBytes: return "a size (e.g. \"80 GiB\")";
    case Dimension::kTime: return "a duration (e.g. \"30 min\")";
    case Dimension::kBandwidth: return "a bandwidth (e.g. \"200 Gbps\" or \"25 GB/s\")";
    case Dimension::kFlops: return "an amount of work (e.g. \"3 TFLOP\")";
    case Dimension::kFlopRate: return "a compute rate (e.g. \"989 TFLOPS\")";
    case Dimension::kPower: return "a power (e.g. \"400 W\")";
    case Dimension::kEnergy: return "an energy (e.g. \"3.6 MJ\")";
  }
  return "a quantity";
}

double parse_quantity(std::string_view text, Dimension dim) {
  auto fail = [&](const std::string& why) -> double {
    throw std::invalid_argument("\"" + std::string(text) + "\": " + why + "; expected " +
                                describe(dim) + " with a unit among: " + unit_list(dim));
  };
  std::size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  const char* begin = text.data() + i;
  const char* end = text.data() + text.size();
  double value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return fail("no number");
  std::string_view rest(ptr, static_cast<std::size_t>(end - ptr));
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.remove_suffix(1);
  if (!std::isfinite(value)) return fail("not a finite number");
  if (rest.empty()) return fail("missing unit");
  for (const Unit& u : units_of(dim)) {
    if (u.symbol == rest) return value * u.factor;
  }
  return fail("unknown unit \"" + std::string(rest) + "\"");
}

std::string format_bytes(double bytes) {
  std::ostringstream out;
  out.precision(4);
  if (bytes >= 1024.0 * 1024 * 1024) out << bytes / (1024.0 * 1024 * 1024) << " GiB";
  else if (bytes >= 1024.0 * 1024) out << bytes / (1024.0 * 1024) << " MiB";
  else out << bytes << " B";
  return out.str();
}

}  // namespace frugal::core
