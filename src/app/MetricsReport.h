// GET /-/metrics: every worker's statistics summed, the shared pool state (health,
// ejections, connections, requests in flight) read from the running Runtime, and the
// reload history, in the Prometheus text format. Runs on the main thread.
#pragma once

#include <span>
#include <string>

#include "app/ConfigReload.h"
#include "core/Runtime.h"
#include "stats/WorkerStats.h"

namespace portico::app {

std::string metrics_report(std::span<const stats::WorkerStats* const> workers,
                           const core::Runtime& runtime, const ReloadHistory& reloads);

}  // namespace portico::app
