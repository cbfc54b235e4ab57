// A config's feature flags, compiled for deciding them per request: each flag's settings
// from the file (key, allow lists) and its live values (FlagState, shared with the other
// workers and with the configs before and after this one while the file's values for the
// flag stay the same).
//
// The decision for one flag and one request, in this order:
//   1. disabled                                → off
//   2. the request matches the allow list       → on
//   3. percent 100% → on; percent 0 → off
//   4. no value for the key (absent or empty)   → off
//   5. otherwise on iff rollout_bucket(key value, flag name) < percent (Rollout.h)
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "filters/FilterStates.h"
#include "flags/FlagState.h"
#include "router/CidrSet.h"
#include "upstream/HashKey.h"

namespace portico::flags {

class FlagSet {
 public:
  FlagSet() = default;
  // The flags must outlive the set (the Runtime owns both). Each flag's state is taken from
  // `states` by the identity of its file values, so a reload that leaves them alone keeps
  // runtime overrides. When one of them changed, the new state still takes the previous
  // config's override of the other (a runtime `enabled: false` survives a ramp of the
  // file's percent); `previous` is only read. Throws std::invalid_argument on what the
  // loader refuses (more than Config::kMaxFlags flags, an invalid CIDR), for configs built
  // in code.
  FlagSet(const std::vector<config::Flag>& flags, filters::FilterStates& states,
          const FlagSet* previous = nullptr);
  FlagSet(FlagSet&&) = default;
  FlagSet& operator=(FlagSet&&) = default;

  size_t size() const { return flags_.size(); }
  bool empty() const { return flags_.empty(); }
  const config::Flag& config(size_t i) const { return *flags_[i].config; }
  FlagState& state(size_t i) const { return *flags_[i].state; }
  // The index of the flag with this name, or -1.
  int index_of(std::string_view name) const;

  // Decides flag i for the request (see above). Allocates nothing.
  bool decide(size_t i, const upstream::RequestKeyView& request) const;

 private:
  struct Compiled {
    const config::Flag* config = nullptr;
    uint64_t name_hash = 0;  // hash_bytes of the name, mixed into every key's point
    router::CidrSet clients;
    std::shared_ptr<FlagState> state;
  };
  static bool allowed(const Compiled& flag, const upstream::RequestKeyView& request);

  std::vector<Compiled> flags_;
};

}  // namespace portico::flags
