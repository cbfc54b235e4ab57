#include "app/FlagMetrics.h"

namespace portico::app {

std::map<std::string, FlagDecisionTotals> flag_decision_totals(
    std::span<const stats::WorkerStats* const> workers) {
  std::map<std::string, FlagDecisionTotals> totals;
  for (const stats::WorkerStats* w : workers)
    w->each_flag([&](const std::string& name, const stats::FlagStats& s) {
      FlagDecisionTotals& t = totals[name];
      t.on += s.on.value();
      t.off += s.off.value();
    });
  return totals;
}

void write_flag_metrics(stats::PrometheusText& out,
                        std::span<const stats::WorkerStats* const> workers) {
  out.family("portico_flag_decisions_total", "counter",
             "Feature flag decisions, once per request that needed the flag (to route it or "
             "for the upstream flags header), by flag and result (on, off).");
  for (const auto& [name, t] : flag_decision_totals(workers)) {
    out.sample("portico_flag_decisions_total", {{"flag", name}, {"result", "on"}}, t.on);
    out.sample("portico_flag_decisions_total", {{"flag", name}, {"result", "off"}}, t.off);
  }
}

}  // namespace portico::app
