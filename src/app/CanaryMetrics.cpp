#include "app/CanaryMetrics.h"

namespace portico::app {

void write_canary_metrics(stats::PrometheusText& out, const core::Runtime& runtime) {
  const filters::CanaryRoutes& routes = runtime.canary_routes();
  // Each family's samples together, as the format wants.
  auto each_target = [&](bool canaries_only, auto f) {
    for (const filters::CanaryRoute& c : routes)
      for (size_t t = canaries_only ? 1 : 0; t < c.targets.size(); ++t) f(c, t);
  };
  out.family("portico_canary_requests_total", "counter",
             "Requests a canary split sent to each of its pools, by how they were assigned "
             "(sticky: by key, random: no key, forced: a tester's header or cookie).");
  each_target(false, [&](const filters::CanaryRoute& c, size_t t) {
    for (auto [via, name] : {std::pair{filters::SplitVia::Sticky, "sticky"},
                             std::pair{filters::SplitVia::Random, "random"},
                             std::pair{filters::SplitVia::Forced, "forced"}})
      out.sample(
          "portico_canary_requests_total",
          {{"listener", c.listener}, {"route", c.route}, {"upstream", c.targets[t]}, {"via", name}},
          c.state->requests(t, via));
  });
  out.family("portico_canary_weight_percent", "gauge",
             "The share of a split's keys each pool gets now (rollbacks and runtime changes "
             "included).");
  each_target(false, [&](const filters::CanaryRoute& c, size_t t) {
    out.sample("portico_canary_weight_percent",
               {{"listener", c.listener}, {"route", c.route}, {"upstream", c.targets[t]}},
               c.state->effective().of_target(t) / 100.0);
  });
  out.family("portico_canary_rolled_back", "gauge",
             "1 while a canary is rolled back (weight 0 until reset on the admin API).");
  each_target(true, [&](const filters::CanaryRoute& c, size_t t) {
    out.sample("portico_canary_rolled_back",
               {{"listener", c.listener}, {"route", c.route}, {"upstream", c.targets[t]}},
               uint64_t((c.state->rolled_back() >> (t - 1)) & 1));
  });
  out.family("portico_canary_rollbacks_total", "counter", "Automatic rollbacks of a canary.");
  each_target(true, [&](const filters::CanaryRoute& c, size_t t) {
    out.sample("portico_canary_rollbacks_total",
               {{"listener", c.listener}, {"route", c.route}, {"upstream", c.targets[t]}},
               c.state->rollbacks_total(t - 1));
  });
}

}  // namespace portico::app
