// Availability trace parsers: strict about syntax, signs and order, lenient about comments,
// blank lines, CR line ends and header lines, so that public traces load as they are.
#include "platforms/availability/trace_formats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "sim/core/input_files.hpp"
#include "sim/core/json_reader.hpp"

namespace frugal::platforms {
namespace {

using core::ConfigError;

std::string line_ref(int line) { return "line " + std::to_string(line); }

std::string shown(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// A whole-token number (locale-independent); false if `text` is not exactly one number.
bool to_number(const std::string& text, double& out) {
  if (text.empty()) return false;
  const char* first = text.data();
  if (*first == '+') ++first;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && std::isfinite(out);
}

/// Splits on any of `separators`, dropping empty fields when `merge` (whitespace tables).
std::vector<std::string> split(const std::string& line, const std::string& separators, bool merge) {
  std::vector<std::string> out;
  std::string field;
  for (const char c : line) {
    if (separators.find(c) != std::string::npos) {
      if (!merge || !field.empty()) out.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (!merge || !trim(field).empty()) out.push_back(trim(field));
  return out;
}

/// Content lines (1-based numbers), without comments and blank lines.
std::vector<std::pair<int, std::string>> content_lines(const std::string& text, const std::string& comment_chars) {
  std::vector<std::pair<int, std::string>> out;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const std::string line = trim(raw);
    if (line.empty() || comment_chars.find(line.front()) != std::string::npos) continue;
    out.emplace_back(number, line);
  }
  return out;
}

class Parser {
 public:
  Parser(std::string file, double shift_s) : file_(std::move(file)), shift_s_(shift_s) {}

  [[noreturn]] void fail(int line, const std::string& msg) const { throw ConfigError(file_, line_ref(line), msg); }

  /// A time field: a number, shifted, ≥ 0.
  double time(int line, const std::string& field, double scale, const std::string& what) const {
    double v = 0;
    if (!to_number(field, v)) fail(line, "expected " + what + " as a number, got \"" + field + "\"");
    const double t = v * scale + shift_s_;
    if (t < 0) {
      fail(line, "negative time " + shown(t) + " s" +
                     (shift_s_ != 0 ? " (after adding time_shift " + shown(shift_s_) + " s)" : std::string()));
    }
    return t;
  }

  /// Global time order: `t` must not precede the previous record's time.
  void check_sorted(int line, double t) {
    if (t < last_time_) {
      fail(line, "time " + shown(t) + " s is before " + shown(last_time_) + " s on line " + std::to_string(last_line_) +
                     ": events must be sorted by time");
    }
    last_time_ = t;
    last_line_ = line;
  }

  const std::string file_;
  const double shift_s_;

 private:
  double last_time_ = -std::numeric_limits<double>::infinity();
  int last_line_ = 0;
};

void parse_profile(const std::string& text, Trace& trace, Parser& p) {
  const bool speed = trace.format == TraceFormat::kSpeedProfile;
  for (const auto& [line, content] : content_lines(text, "#%")) {
    const auto fields = split(content, " \t", true);
    if (fields.size() == 2 && (fields[0] == "LOOPAFTER" || fields[0] == "PERIODICITY")) {
      double d = 0;
      if (!to_number(fields[1], d) || d < 0) p.fail(line, fields[0] + " expects a duration >= 0 in seconds, got \"" + fields[1] + "\"");
      trace.loop_after_s = d;
      continue;
    }
    if (fields.size() != 2) {
      p.fail(line, std::string("malformed line \"") + content + "\": expected \"date value\"" +
                       (speed ? " (value: speed ratio > 0)" : " (value: 0 = off, 1 = on)") + " or \"LOOPAFTER d\"");
    }
    const double t = p.time(line, fields[0], 1.0, "a date in seconds");
    double v = 0;
    if (!to_number(fields[1], v)) p.fail(line, "expected a value as a number, got \"" + fields[1] + "\"");
    if (speed && v <= 0) p.fail(line, "speed ratio " + shown(v) + " must be > 0");
    if (!speed && v < 0) p.fail(line, "state " + shown(v) + " must be 0 (off) or positive (on)");
    p.check_sorted(line, t);
    trace.records.push_back({t, "", speed ? v : (v == 0 ? 0.0 : 1.0), line});
  }
}

/// A header line: the first content line, whose time column (`time_field`) is not a number.
bool is_header(const std::vector<std::string>& fields, std::size_t time_field) {
  double v = 0;
  return fields.size() > time_field && !to_number(fields[time_field], v);
}

void parse_event_csv(const std::string& text, Trace& trace, Parser& p) {
  bool first = true;
  for (const auto& [line, content] : content_lines(text, "#")) {
    const auto fields = split(content, ",", false);
    if (first && is_header(fields, 0)) {  // e.g. "t_ms,action,node"
      first = false;
      continue;
    }
    first = false;
    if (fields.size() != 3) {
      p.fail(line, "malformed line \"" + content + "\": expected \"t_ms,add|remove,node\" (3 fields, got " +
                       std::to_string(fields.size()) + ")");
    }
    const double t = p.time(line, fields[0], 1e-3, "a time in milliseconds");
    if (fields[1] != "add" && fields[1] != "remove")
      p.fail(line, "unknown action \"" + fields[1] + "\" (valid: add, remove)");
    if (fields[2].empty()) p.fail(line, "missing node name");
    p.check_sorted(line, t);
    trace.records.push_back({t, fields[2], fields[1] == "add" ? 1.0 : 0.0, line});
  }
}

void parse_fta(const std::string& text, Trace& trace, Parser& p) {
  struct Last {
    double end_s;
    int line;
  };
  std::map<std::string, Last> last;
  bool first = true;
  for (const auto& [line, content] : content_lines(text, "#")) {
    const auto fields = split(content, ", \t", true);
    if (first && is_header(fields, 1)) {  // e.g. "node start_s end_s"
      first = false;
      continue;
    }
    first = false;
    if (fields.size() != 3) {
      p.fail(line, "malformed line \"" + content + "\": expected \"node start_s end_s\" (an unavailability interval)");
    }
    const double start = p.time(line, fields[1], 1.0, "a start time in seconds");
    const double end = p.time(line, fields[2], 1.0, "an end time in seconds");
    if (end <= start) p.fail(line, "interval ends (" + shown(end) + " s) before it starts (" + shown(start) + " s)");
    auto it = last.find(fields[0]);
    if (it != last.end() && start < it->second.end_s) {
      p.fail(line, "interval of node " + fields[0] + " starts at " + shown(start) + " s, before the end (" +
                       shown(it->second.end_s) + " s) of its interval on line " + std::to_string(it->second.line) +
                       ": intervals of a node must be sorted and must not overlap");
    }
    last[fields[0]] = {end, line};
    trace.records.push_back({start, fields[0], 0.0, line});
    trace.records.push_back({end, fields[0], 1.0, line});
  }
}

void parse_count_json(const std::string& text, Trace& trace, Parser& p) {
  const core::Json doc = core::parse_json(text, p.file_);  // errors at line and column
  core::ObjectReader top(doc, p.file_, "");
  core::ObjectReader meta = top.object("metadata");  // other metadata keys are the trace's own business
  trace.gap_s = meta.number("gap_seconds", 0);
  if (trace.gap_s <= 0) meta.fail("gap_seconds", "must be > 0");
  const core::Json& data = top.array("data");
  top.finish();
  for (std::size_t i = 0; i < data.size(); ++i) {
    const core::Json& v = data[i];
    const std::string ptr = "/data/" + std::to_string(i);
    if (!v.is_number_integer() && !(v.is_number() && v.get<double>() == std::floor(v.get<double>())))
      throw ConfigError(p.file_, ptr, "expected a whole number of available nodes, got " + v.dump());
    const double n = v.get<double>();
    if (n < 0) throw ConfigError(p.file_, ptr, "negative node count " + v.dump());
    const double t = static_cast<double>(i) * trace.gap_s + p.shift_s_;
    if (t < 0) throw ConfigError(p.file_, ptr, "negative time " + shown(t) + " s after adding time_shift");
    trace.records.push_back({t, "", n, static_cast<int>(i)});
  }
}

}  // namespace

std::string to_string(TraceFormat format) { return trace_format_names().at(static_cast<std::size_t>(format)); }

const std::vector<std::string>& trace_format_names() {
  static const std::vector<std::string> names = {"state_profile", "speed_profile", "event_csv", "count_json", "fta"};
  return names;
}

TraceFormat trace_format_from_name(const std::string& name) {
  const auto& names = trace_format_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw std::invalid_argument("unknown trace format \"" + name + "\" (" + core::list_valid(names) + ")");
  return static_cast<TraceFormat>(it - names.begin());
}

Trace parse_trace(const std::string& text, TraceFormat format, const std::string& file, double time_shift_s) {
  Trace trace;
  trace.file = file;
  trace.format = format;
  Parser parser(file, time_shift_s);
  switch (format) {
    case TraceFormat::kStateProfile:
    case TraceFormat::kSpeedProfile: parse_profile(text, trace, parser); break;
    case TraceFormat::kEventCsv: parse_event_csv(text, trace, parser); break;
    case TraceFormat::kCountJson: parse_count_json(text, trace, parser); break;
    case TraceFormat::kFta: parse_fta(text, trace, parser); break;
  }
  return trace;
}

Trace load_trace(const std::filesystem::path& path, TraceFormat format, double time_shift_s) {
  core::InputFileLog::note(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string(), "", "cannot open " + to_string(format) + " trace file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_trace(text.str(), format, path.string(), time_shift_s);
}

}  // namespace frugal::platforms
