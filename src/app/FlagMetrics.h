// Feature flag decisions summed over the workers: for /-/metrics
// (portico_flag_decisions_total) and for the admin API's /-/flags views. Main thread.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "stats/PrometheusText.h"
#include "stats/WorkerStats.h"

namespace portico::app {

struct FlagDecisionTotals {
  uint64_t on = 0;
  uint64_t off = 0;
};

// By flag name, for every flag any worker has counted (names outlive configs, as routes' do).
std::map<std::string, FlagDecisionTotals> flag_decision_totals(
    std::span<const stats::WorkerStats* const> workers);

void write_flag_metrics(stats::PrometheusText& out,
                        std::span<const stats::WorkerStats* const> workers);

}  // namespace portico::app
