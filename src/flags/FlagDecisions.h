// One request's flag decisions, made on first use and remembered: the router asks only for
// the flags routes match on, the upstream header asks for all of them, and each flag is
// decided (and counted) at most once per request, so a request sees one consistent answer
// even if an override lands meanwhile. Lives in the pooled Exchange: nothing is allocated
// per request.
#pragma once

#include <cstdint>
#include <span>

#include "flags/FlagSet.h"
#include "stats/WorkerStats.h"
#include "upstream/HashKey.h"

namespace portico::flags {

class FlagDecisions {
 public:
  // Forgets every decision; until start() there are no flags.
  void reset() {
    set_ = nullptr;
    counters_ = {};
    request_ = {};
    known_ = on_ = 0;
  }
  // A new request on `set`, counted in `counters` (parallel to the set's flags; empty: not
  // counted).
  void start(const FlagSet* set, std::span<stats::FlagStats* const> counters) {
    reset();
    set_ = set;
    counters_ = counters;
  }
  // The request's views, again whenever they move (a paused filter lets the read buffer
  // move); decisions already made stay.
  void bind(const upstream::RequestKeyView& request) { request_ = request; }

  size_t size() const { return set_ ? set_->size() : 0; }
  // Whether flag i is on for this request (i < size()).
  bool on(size_t i);
  // Decides every flag: bit i is set when flag i is on.
  uint64_t all();

 private:
  const FlagSet* set_ = nullptr;
  std::span<stats::FlagStats* const> counters_;
  upstream::RequestKeyView request_;
  uint64_t known_ = 0;  // bit i: flag i decided
  uint64_t on_ = 0;     // bit i: flag i on (when known)
};

}  // namespace portico::flags
