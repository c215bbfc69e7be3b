// nccl-tests output → bench document (see nccl_tests.hpp).
#include "sim/calibration/nccl_tests.hpp"

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <vector>

#include "sim/core/error.hpp"

namespace frugal::calibration {
namespace {

using core::ConfigError;
using core::Json;

// nccl-tests' binary names (without _perf) and spellings in file names → the program's names.
const std::vector<std::pair<std::string, std::string>>& collective_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"all_reduce", "all_reduce"},         {"allreduce", "all_reduce"},   {"all_gather", "all_gather"},
      {"allgather", "all_gather"},          {"reduce_scatter", "reduce_scatter"}, {"reducescatter", "reduce_scatter"},
      {"alltoall", "all_to_all"},           {"all_to_all", "all_to_all"},  {"broadcast", "broadcast"},
      {"sendrecv", "send_recv"},            {"send_recv", "send_recv"}};
  return names;
}

std::string collective_in(const std::string& text) {
  for (const auto& [spelling, name] : collective_names())
    if (text.find(spelling) != std::string::npos) return name;
  return "";
}

std::string line_pointer(std::size_t index) { return "line " + std::to_string(index + 1); }

// Whitespace-separated words of a line (no std::regex: libstdc++'s recursion overflows the stack
// on long runs of one character class).
std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Whether `words` begins with `prefix` ("" in the prefix matches any word).
bool starts_with_words(const std::vector<std::string>& words, const std::vector<std::string>& prefix) {
  if (words.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (!prefix[i].empty() && words[i] != prefix[i]) return false;
  return true;
}

const std::vector<std::string> kColumnHeader = {"#", "size", "count", "type", "redop", "root", "time", "algbw", "busbw"};
// "#  Rank  0 Group  0 Pid  1234 on HOST device ..."
const std::vector<std::string> kRankLine = {"#", "Rank", "", "Group", "", "Pid", "", "on", ""};
const std::vector<std::string> kStartingLine = {"#", "Collective", "test", "starting:", ""};

}  // namespace

bool is_nccl_tests_output(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find("busbw") != std::string::npos && starts_with_words(words_of(line), kColumnHeader)) return true;
  return false;
}

Json read_nccl_tests(const std::string& text, const std::string& file) {
  std::string collective;
  std::set<std::string> hosts;
  int ranks = 0;
  std::size_t first_rank_line = 0;
  Json rows = Json::array();
  std::istringstream in(text);
  std::size_t i = 0;
  for (std::string line; std::getline(in, line); ++i) {
    const std::vector<std::string> words = words_of(line);
    if (starts_with_words(words, kStartingLine)) {
      collective = collective_in(words[4]);
      if (collective.empty()) throw ConfigError(file, line_pointer(i), "unknown nccl-tests collective \"" + words[4] + "\"");
      continue;
    }
    if (starts_with_words(words, kRankLine)) {
      if (ranks++ == 0) first_rank_line = i;
      hosts.insert(words[8]);
      continue;
    }
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    // size count type redop root time algbw busbw #wrong (out of place), then in place.
    std::istringstream columns(line);
    double size = -1, count = -1, time_us = -1;
    std::string type, redop, root;
    columns >> size >> count >> type >> redop >> root >> time_us;
    if (!columns || size < 0 || count < 0 || !(time_us >= 0) || !std::isfinite(time_us) || size > 1e15)
      throw ConfigError(file, line_pointer(i),
                        "expected nccl-tests' columns (size count type redop root time algbw busbw ...), got \"" +
                            line.substr(0, 120) + "\"");
    rows.push_back({{"bytes", size}, {"elements", count}, {"type", type}, {"time_s", {{"median", time_us * 1e-6}}}});
  }
  if (collective.empty()) collective = collective_in(std::filesystem::path(file).filename().string());
  if (collective.empty())
    throw ConfigError(file, "line 1",
                      "cannot tell which collective this nccl-tests output measured: no \"# Collective test starting:\" "
                      "line, and the file name names none (all_reduce, all_gather, reduce_scatter, broadcast, alltoall, "
                      "sendrecv)");
  if (ranks == 0)
    throw ConfigError(file, "line 1", "no \"#  Rank N Group G Pid P on HOST\" lines: cannot tell how many GPUs ran it");
  if (hosts.size() > 1)
    throw ConfigError(file, line_pointer(first_rank_line),
                      "the ranks ran on " + std::to_string(hosts.size()) +
                          " hosts; calibrate fits the link inside one node from single-node runs");
  if (rows.empty()) throw ConfigError(file, "line 1", "no measurement row");
  for (Json& row : rows) {
    row["collective"] = collective;
    row["group_size"] = ranks;
  }
  return Json{{"format", "frugal-real-bench"},
              {"manifest", {{"device", {{"kind", "cuda"}}}, {"source", "nccl-tests output " + file}}},
              {"collectives", rows}};
}

}  // namespace frugal::calibration
