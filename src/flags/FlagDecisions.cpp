#include "flags/FlagDecisions.h"

namespace portico::flags {

bool FlagDecisions::on(size_t i) {
  const uint64_t bit = uint64_t{1} << i;
  if (known_ & bit) return (on_ & bit) != 0;
  const bool decision = set_->decide(i, request_);
  known_ |= bit;
  if (decision) on_ |= bit;
  if (i < counters_.size()) {
    stats::FlagStats& count = *counters_[i];
    (decision ? count.on : count.off).add();
  }
  return decision;
}

uint64_t FlagDecisions::all() {
  for (size_t i = 0; i < size(); ++i) on(i);
  return on_;
}

}  // namespace portico::flags
