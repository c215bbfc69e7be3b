// Strong integer ids so that a rank is never passed where a node or an op is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace frugal::core {

template <class Tag>
struct StrongId {
  std::int64_t value = -1;

  constexpr StrongId() = default;
  constexpr explicit StrongId(std::int64_t v) : value(v) {}
  constexpr bool valid() const { return value >= 0; }
  constexpr auto operator<=>(const StrongId&) const = default;
};

using RankId = StrongId<struct RankTag>;  ///< a process of the training job (one per GPU)
using NodeId = StrongId<struct NodeTag>;  ///< a machine of the cluster
using OpId = StrongId<struct OpTag>;      ///< an op inside one rank's program

}  // namespace frugal::core

template <class Tag>
struct std::hash<frugal::core::StrongId<Tag>> {
  std::size_t operator()(const frugal::core::StrongId<Tag>& id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
