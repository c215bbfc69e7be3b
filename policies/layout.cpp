// Layout: mixed-radix rank numbering over named dimensions, and the groups it induces.
#include "policies/layout.hpp"

#include <stdexcept>

namespace frugal::policies {

std::string_view dim_name(Dim d) {
  switch (d) {
    case Dim::kTensor: return "tensor";
    case Dim::kContext: return "context";
    case Dim::kExpert: return "expert";
    case Dim::kData: return "data";
    case Dim::kPipeline: return "pipeline";
  }
  return "?";
}

std::string_view dim_short(Dim d) {
  switch (d) {
    case Dim::kTensor: return "tp";
    case Dim::kContext: return "cp";
    case Dim::kExpert: return "ep";
    case Dim::kData: return "dp";
    case Dim::kPipeline: return "pp";
  }
  return "?";
}

Layout::Layout() : Layout({1, 1, 1, 1, 1}, kAllDims) {}

Layout::Layout(std::array<int, kDimCount> sizes, std::array<Dim, kDimCount> order) : sizes_(sizes), order_(order) {
  std::array<bool, kDimCount> seen{};
  std::int64_t stride = 1;
  for (Dim d : order_) {
    const auto i = static_cast<std::size_t>(d);
    if (seen[i]) throw std::invalid_argument("layout order names " + std::string(dim_short(d)) + " twice");
    seen[i] = true;
    if (sizes_[i] < 1)
      throw std::invalid_argument("layout: " + std::string(dim_name(d)) + " size " + std::to_string(sizes_[i]) + " < 1");
    stride_[i] = stride;
    stride *= sizes_[i];
    if (stride > (std::int64_t{1} << 30)) throw std::invalid_argument("layout: more than 2^30 ranks");
  }
  world_ = static_cast<int>(stride);
}

std::array<Dim, kDimCount> Layout::parse_order(std::string_view text) {
  std::vector<Dim> named;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('-', start), text.size());
    const std::string_view part = text.substr(start, end - start);
    bool found = false;
    for (Dim d : kAllDims)
      if (dim_short(d) == part) {
        for (Dim n : named)
          if (n == d) throw std::invalid_argument("rank order \"" + std::string(text) + "\" names " + std::string(part) + " twice");
        named.push_back(d);
        found = true;
      }
    if (!found)
      throw std::invalid_argument("rank order \"" + std::string(text) + "\": unknown dimension \"" + std::string(part) +
                                  "\" (valid: tp, cp, ep, dp, pp)");
    start = end + 1;
  }
  // Dimensions not named go right after tp (or first when tp is not named), in default order.
  std::vector<Dim> missing;
  for (Dim d : kAllDims) {
    bool in = false;
    for (Dim n : named) in = in || n == d;
    if (!in) missing.push_back(d);
  }
  std::vector<Dim> out;
  bool inserted = false;
  for (Dim n : named) {
    out.push_back(n);
    if (n == Dim::kTensor) {
      out.insert(out.end(), missing.begin(), missing.end());
      inserted = true;
    }
  }
  if (!inserted) out.insert(out.begin(), missing.begin(), missing.end());
  std::array<Dim, kDimCount> result{};
  for (std::size_t i = 0; i < out.size(); ++i) result[i] = out[i];
  return result;
}

std::string Layout::order_string() const {
  std::string out;
  for (Dim d : order_) {
    if (!out.empty()) out += '-';
    out += dim_short(d);
  }
  return out;
}

Coord Layout::coord(core::RankId rank) const {
  if (rank.value < 0 || rank.value >= world_)
    throw std::out_of_range("rank " + std::to_string(rank.value) + " outside a layout of " + std::to_string(world_));
  Coord c;
  for (Dim d : kAllDims) {
    const auto i = static_cast<std::size_t>(d);
    c.at[i] = static_cast<int>((rank.value / stride_[i]) % sizes_[i]);
  }
  return c;
}

core::RankId Layout::rank(const Coord& c) const {
  std::int64_t r = 0;
  for (Dim d : kAllDims) {
    const auto i = static_cast<std::size_t>(d);
    if (c.at[i] < 0 || c.at[i] >= sizes_[i])
      throw std::out_of_range(std::string(dim_name(d)) + " coordinate " + std::to_string(c.at[i]) + " outside 0.." +
                              std::to_string(sizes_[i] - 1));
    r += c.at[i] * stride_[i];
  }
  return core::RankId(r);
}

core::RankId Layout::along(core::RankId of, Dim d, int index) const {
  Coord c = coord(of);
  c[d] = index;
  return rank(c);
}

std::vector<core::RankId> Layout::group(std::initializer_list<Dim> dims, core::RankId rank) const {
  Coord base = coord(rank);
  for (Dim d : dims) base[d] = 0;
  std::int64_t first = this->rank(base).value;
  std::vector<core::RankId> out{core::RankId(first)};
  for (Dim d : dims) {
    const auto i = static_cast<std::size_t>(d);
    const std::size_t n = out.size();
    for (int k = 1; k < sizes_[i]; ++k)
      for (std::size_t j = 0; j < n; ++j) out.push_back(core::RankId(out[j].value + k * stride_[i]));
  }
  return out;
}

int Layout::group_index(std::initializer_list<Dim> dims, core::RankId rank) const {
  const Coord c = coord(rank);
  int index = 0, radix = 1;
  for (Dim d : order_) {
    bool varied = false;
    for (Dim v : dims) varied = varied || v == d;
    if (varied) continue;
    index += c[d] * radix;
    radix *= size(d);
  }
  return index;
}

}  // namespace frugal::policies
