// What counts as a failure for a circuit breaker (or a canary's rollback): which response
// statuses, and which ways an attempt can end without a response.
#pragma once

#include <bitset>

#include "filters/FilterContext.h"

namespace portico::filters {

// How one attempt on the upstream ended.
enum class AttemptResult {
  Response,        // a response head arrived; its status decides
  ConnectFailure,  // no connection to the upstream
  Timeout,         // no (complete) response in time
  Reset,           // the connection closed or broke before the response was complete
};

struct FailureKinds {
  // Counts 500-599 and every transport failure.
  FailureKinds();
  // Only 502, 503 and 504 (what a gateway says about the server behind it) and every
  // transport failure: an application's own 500s leave the breaker alone.
  static FailureKinds gateway_errors();

  // Adds first..last (inclusive) to the failing statuses; codes outside 100-599 are ignored.
  FailureKinds& add_statuses(int first, int last);

  std::bitset<600> statuses;  // indexed by status code
  bool connect_failure = true;
  bool timeout = true;
  bool reset = true;
};

// Whether an attempt that ended with `result` (and `status`, when it is a Response) is a
// failure for the breaker. A status outside 100-599 is never one.
bool counts_as_failure(const FailureKinds& kinds, AttemptResult result, int status);

// The same for how the proxy saw the exchange end (no attempt, None or Unavailable: never
// a failure; a response that was not valid HTTP counts as a reset).
bool counts_as_failure(const FailureKinds& kinds, const UpstreamOutcome& outcome);

}  // namespace portico::filters
