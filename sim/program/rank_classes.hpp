// Compact programs: one lowered program per class of identical ranks plus, for every other
// member, how the representative's groups and peers rename to its own. Lookups that work on
// compact and expanded programs alike, expansion to per-rank programs, and validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/program/program.hpp"

namespace frugal::program {

/// Index of a program's classes. On an expanded program every rank is its own representative.
class ClassView {
 public:
  explicit ClassView(const Program& program);

  const Program& program() const { return *program_; }
  /// The lowered rank whose ops `rank` runs (itself when it has ops).
  RankId representative(RankId rank) const;
  /// The ops `rank` runs, with the representative's groups and peers (rename with the two below).
  const RankProgram& lowered(RankId rank) const;
  /// Group / peer of op `op` of `rank`'s ops, renamed for `rank`.
  int group_at(RankId rank, std::size_t op) const;
  RankId peer_at(RankId rank, std::size_t op) const;
  /// Renaming of one of the representative's groups / peers for `rank` (identity for a lowered
  /// rank); throws core::InternalError when the class does not map it.
  int rename_group(RankId rank, int representative_group) const;
  RankId rename_peer(RankId rank, RankId representative_peer) const;
  /// `rank`'s own program: its representative's, renamed, with its rank and GPU.
  RankProgram expand(RankId rank) const;

 private:
  const RankClass::Member* member(RankId rank) const;
  const Program* program_;
  std::vector<std::pair<int, int>> where_;  ///< rank → (class, member index), (-1, -1) when lowered
};

/// The expanded form (classes empty, every rank with its ops). Equal to lowering every rank.
Program expand(const Program& program);

/// Validation of a compact program without expanding it, in time linear in the lowered ops plus
/// ranks × (groups + peers): the classes are consistent (every rank without ops is a member of
/// its representative's class, whose maps name groups holding it and other ranks); each lowered
/// rank's ops pass the per-rank checks of validate(); and across ranks, every member of a group
/// calls the same sequence of collectives on it (same instances, kinds and sizes), and between
/// any two ranks the sends of one match the receives of the other (tags and sizes).
/// Throws core::ConfigError(file, pointer, ...) naming the first problem.
void validate_compact(const Program& program, const std::string& file);

}  // namespace frugal::program
