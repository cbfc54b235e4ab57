// What the admin API's paths mean. The HTTP side is admin::AdminServer; this answers
// each request from the state the main thread owns, reached through AdminTarget.
//
//   GET  /-/healthz    200 while the process runs (liveness)
//   GET  /-/ready      200 while serving; 503 while starting or draining (readiness)
//   GET  /-/config     the running config as JSON, secrets redacted, and reload status
//   GET  /-/upstreams  every pool and endpoint: health, ejection, connections, requests
//   GET  /-/metrics    Prometheus text
//   POST /-/reload     reloads the config file; 200 with the new generation, or 422 with
//                      the errors (the running config is unchanged); 503 while draining
//   /-/canary          canary splits: see CanaryApi.h
//   /-/flags[/NAME]    feature flags: GET, and PUT/DELETE runtime overrides (FlagsApi.h)
#pragma once

#include <vector>

#include "admin/AdminMessages.h"
#include "app/ConfigReload.h"
#include "core/Runtime.h"
#include "stats/WorkerStats.h"

namespace portico::app {

class AdminTarget {
 public:
  virtual const core::Runtime& runtime() const = 0;
  virtual const ReloadHistory& reloads() const = 0;
  virtual std::vector<const stats::WorkerStats*> worker_stats() const = 0;
  virtual bool ready() const = 0;
  virtual ReloadOutcome reload(const char* trigger) = 0;

 protected:
  ~AdminTarget() = default;
};

admin::AdminResponse handle_admin_request(AdminTarget& target, const admin::AdminRequest& request);

}  // namespace portico::app
