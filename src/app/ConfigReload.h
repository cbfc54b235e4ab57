// What one reload attempt came to, and the running totals the admin API and metrics
// show. A failed reload leaves the running config untouched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::app {

struct ReloadOutcome {
  bool ok = false;
  std::string error;        // every problem, one per line (file:line:col: key: reason)
  std::string config_hash;  // of the file that was loaded (ok only)
  uint64_t generation = 0;  // the config's number: 1 at start, +1 per successful reload
  bool draining = false;    // refused: the process is shutting down
};

struct ReloadHistory {
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t generation = 1;
  std::string config_hash;  // of the config running now
  std::string last_error;   // of the last failed attempt; cleared by a success
  double last_success_unix = 0;
  double last_failure_unix = 0;
};

// FNV-1a 64 of the file's bytes, as 16 hex digits: stable across builds and machines,
// so two instances running the same file show the same hash.
std::string config_hash(std::string_view text);

}  // namespace portico::app
