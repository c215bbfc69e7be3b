// The rank grid of a training job: named parallel dimensions (tensor, context, expert, data,
// pipeline; an absent one has size 1) and the order in which they vary over rank numbers.
// Builds every process group and the coordinates of every rank. Pure data, no policy.
#pragma once

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/ids.hpp"

namespace frugal::policies {

/// Parallel dimensions. Megatron-LM's vocabulary: tensor (TP), context (CP: the sequence split
/// across GPUs), expert (EP), data (DP), pipeline (PP).
enum class Dim { kTensor, kContext, kExpert, kData, kPipeline };
inline constexpr int kDimCount = 5;
inline constexpr std::array<Dim, kDimCount> kAllDims = {Dim::kTensor, Dim::kContext, Dim::kExpert, Dim::kData,
                                                        Dim::kPipeline};

std::string_view dim_name(Dim d);   ///< "tensor", "context", "expert", "data", "pipeline"
std::string_view dim_short(Dim d);  ///< "tp", "cp", "ep", "dp", "pp"

/// Coordinates of a rank on every dimension.
struct Coord {
  std::array<int, kDimCount> at{};
  int operator[](Dim d) const { return at[static_cast<std::size_t>(d)]; }
  int& operator[](Dim d) { return at[static_cast<std::size_t>(d)]; }
  bool operator==(const Coord&) const = default;
};

/// A grid of `world()` ranks. Rank numbers are mixed-radix over `order()` (first dimension
/// varies fastest): Megatron's default "tp-cp-ep-dp-pp" keeps tensor-parallel peers on
/// consecutive ranks (inside a node) and pipeline stages farthest apart.
class Layout {
 public:
  Layout();  ///< one rank, order tp-cp-ep-dp-pp

  /// Sizes by dimension (each ≥ 1). `order` lists every dimension once, fastest first;
  /// throws std::invalid_argument otherwise.
  Layout(std::array<int, kDimCount> sizes, std::array<Dim, kDimCount> order);

  /// Parses an order such as "tp-dp-pp" or "tp-cp-ep-dp-pp": dimensions by short name, each at
  /// most once; the ones not named are inserted right after tp, in the default order (so
  /// "tp-dp-pp" is "tp-cp-ep-dp-pp"). Throws std::invalid_argument naming the bad part.
  static std::array<Dim, kDimCount> parse_order(std::string_view text);

  int size(Dim d) const { return sizes_[static_cast<std::size_t>(d)]; }
  int world() const { return world_; }
  const std::array<Dim, kDimCount>& order() const { return order_; }
  /// The order as text, every dimension named ("tp-cp-ep-dp-pp").
  std::string order_string() const;

  Coord coord(core::RankId rank) const;
  core::RankId rank(const Coord& c) const;
  /// The rank whose coordinates equal `of`'s except on `d`, where it is `index`.
  core::RankId along(core::RankId of, Dim d, int index) const;

  /// Members of the group that varies `dims` (the other coordinates fixed at those of `rank`),
  /// ordered mixed-radix over `dims` as given (first fastest): the ring order of collectives.
  std::vector<core::RankId> group(std::initializer_list<Dim> dims, core::RankId rank) const;
  /// Which of the groups varying `dims` holds `rank`: mixed-radix over the other dimensions in
  /// layout order (0 ≤ index < world / product of the sizes of `dims`).
  int group_index(std::initializer_list<Dim> dims, core::RankId rank) const;

  bool operator==(const Layout&) const = default;

 private:
  std::array<int, kDimCount> sizes_{1, 1, 1, 1, 1};
  std::array<Dim, kDimCount> order_ = kAllDims;
  std::array<std::int64_t, kDimCount> stride_{};  ///< by dimension: rank distance of +1 on it
  int world_ = 1;
};

}  // namespace frugal::policies
