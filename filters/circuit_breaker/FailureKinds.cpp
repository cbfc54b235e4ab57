#include "filters/circuit_breaker/FailureKinds.h"

#include <algorithm>

namespace portico::filters {

FailureKinds::FailureKinds() {
  add_statuses(500, 599);
}

FailureKinds FailureKinds::gateway_errors() {
  FailureKinds kinds;
  kinds.statuses.reset();
  kinds.add_statuses(502, 504);
  return kinds;
}

FailureKinds& FailureKinds::add_statuses(int first, int last) {
  for (int status = std::max(first, 100); status <= std::min(last, 599); ++status) {
    statuses.set(size_t(status));
  }
  return *this;
}

bool counts_as_failure(const FailureKinds& kinds, AttemptResult result, int status) {
  switch (result) {
    case AttemptResult::Response:
      return status >= 100 && status <= 599 && kinds.statuses.test(size_t(status));
    case AttemptResult::ConnectFailure:
      return kinds.connect_failure;
    case AttemptResult::Timeout:
      return kinds.timeout;
    case AttemptResult::Reset:
      return kinds.reset;
  }
  return false;
}

bool counts_as_failure(const FailureKinds& kinds, const UpstreamOutcome& outcome) {
  using Kind = UpstreamOutcome::Kind;
  switch (outcome.kind) {
    case Kind::None:
    case Kind::Unavailable:
      return false;
    case Kind::Response:
      return counts_as_failure(kinds, AttemptResult::Response, outcome.status);
    case Kind::ConnectFailure:
      return counts_as_failure(kinds, AttemptResult::ConnectFailure, 0);
    case Kind::Timeout:
      return counts_as_failure(kinds, AttemptResult::Timeout, 0);
    case Kind::Reset:
    case Kind::BadResponse:
      return counts_as_failure(kinds, AttemptResult::Reset, 0);
  }
  return false;
}

}  // namespace portico::filters
