#include "app/CanaryApi.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <algorithm>
#include <vector>

#include "admin/JsonWriter.h"
#include "app/AdminBody.h"
#include "filters/canary/CanaryConfig.h"

namespace portico::app {

namespace {

using admin::AdminResponse;
using admin::JsonWriter;
using filters::CanaryRoute;
using filters::SplitShares;

double percent(SplitShares s, size_t target) {
  return s.of_target(target) / 100.0;
}

std::string split_text(const CanaryRoute& c, SplitShares s) {
  std::string out;
  for (size_t t = 0; t < c.targets.size(); ++t)
    out += fmt::format("{}{} {}%", t ? ", " : "", c.targets[t], percent(s, t));
  return out;
}

void write_route(JsonWriter& w, const CanaryRoute& c, uint64_t now_ms) {
  const filters::CanaryState& st = *c.state;
  SplitShares configured = st.configured(), effective = st.effective(), file = st.file_shares();
  w.begin_object();
  w.member("listener", c.listener).member("route", c.route);
  w.member("source", st.overridden() ? "runtime" : "file");
  w.key("targets").begin_array();
  for (size_t t = 0; t < c.targets.size(); ++t) {
    w.begin_object();
    w.member("upstream", c.targets[t]);
    w.member("role", t == 0 ? "stable" : "canary");
    w.member("percent", percent(effective, t));
    w.member("configured_percent", percent(configured, t));
    w.member("file_percent", percent(file, t));
    w.key("requests").begin_object();
    w.member("sticky", st.requests(t, filters::SplitVia::Sticky));
    w.member("random", st.requests(t, filters::SplitVia::Random));
    w.member("forced", st.requests(t, filters::SplitVia::Forced));
    w.end_object();
    if (st.rollback_policy()) {
      filters::WindowCounts window = st.window_counts(t, now_ms);
      w.key("window").begin_object();
      w.member("requests", window.requests).member("failures", window.failures);
      w.end_object();
    }
    if (t > 0) {
      filters::RollbackRecord r = st.rollback_record(t - 1);
      w.member("rolled_back", bool(st.rolled_back() >> (t - 1) & 1));
      w.member("rollbacks_total", st.rollbacks_total(t - 1));
      w.key("rollback");
      if (!r.unix_ms) {
        w.value(nullptr);
      } else {
        w.begin_object();
        w.member("at_unix_ms", r.unix_ms);
        w.member("canary_requests", r.canary.requests);
        w.member("canary_failures", r.canary.failures);
        w.member("stable_requests", r.stable.requests);
        w.member("stable_failures", r.stable.failures);
        w.end_object();
      }
    }
    w.end_object();
  }
  w.end_array();
  w.key("rollback_policy");
  if (const auto& p = st.rollback_policy()) {
    w.begin_object();
    w.member("margin", p->margin);
    w.member("min_requests", uint64_t(p->min_requests));
    w.member("window_ms", uint64_t(p->window.count()));
    w.end_object();
  } else {
    w.value(nullptr);
  }
  w.end_object();
}

AdminResponse route_page(const CanaryRoute& c) {
  JsonWriter w;
  write_route(w, c, uv_hrtime() / 1'000'000);
  return admin::json_response(200, w.take());
}

// The body of a PUT: a new split and/or a rollback reset, applied only if all of it is valid.
AdminResponse change(const CanaryRoute& c, std::string_view body) {
  std::string error;
  auto item = read_admin_body(body, error);
  if (!item) return admin::json_error(400, error);
  config::YamlReader r("request body");
  auto fields = r.read_fields(*item, {"split", "reset_rollback"});
  std::optional<SplitShares> shares;
  bool reset = false;
  if (fields) {
    if (const config::Entry* e = fields->find("split")) {
      if (auto split = filters::read_split(r, e->value, 1)) {
        std::vector<double> weights(c.targets.size(), 0.0);
        for (const filters::SplitWeight& sw : *split) {
          auto it = std::find(c.targets.begin(), c.targets.end(), sw.upstream);
          if (it == c.targets.end())
            r.error(e->value.pos, e->value.path,
                    "'" + sw.upstream + "' is not in this route's split (" +
                        config::join(c.targets) + "): the pools of a split are the file's");
          else
            weights[size_t(it - c.targets.begin())] = sw.weight;
        }
        shares = filters::shares_from_weights(weights);
      }
    }
    if (const config::Entry* e = fields->find("reset_rollback")) {
      if (auto b = r.read_bool(e->value)) reset = *b;
    }
    if (!fields->find("split") && !fields->find("reset_rollback"))
      r.error(item->pos, "", "nothing to change: give 'split' or 'reset_rollback'");
  }
  if (r.error_count()) return admin::json_error(400, admin_body_errors(r));
  filters::CanaryState& st = *c.state;
  if (shares) {
    SplitShares before = st.configured();
    st.set_override(*shares);
    spdlog::info("admin: listener '{}' route '{}': canary split set at runtime: {} (was {})",
                 c.listener, c.route, split_text(c, *shares), split_text(c, before));
  }
  if (reset && st.rolled_back()) {
    st.reset_rollback();
    spdlog::info("admin: listener '{}' route '{}': canary rollback reset: split {}", c.listener,
                 c.route, split_text(c, st.effective()));
  }
  return route_page(c);
}

AdminResponse drop_override(const CanaryRoute& c) {
  filters::CanaryState& st = *c.state;
  if (st.overridden()) {
    st.clear_override();
    spdlog::info("admin: listener '{}' route '{}': runtime canary split dropped: {} (the file's)",
                 c.listener, c.route, split_text(c, st.configured()));
  }
  return route_page(c);
}

}  // namespace

AdminResponse handle_canary_request(const core::Runtime& runtime, const admin::AdminRequest& req,
                                    std::string_view rest) {
  const filters::CanaryRoutes& routes = runtime.canary_routes();
  bool read = req.method == "GET" || req.method == "HEAD";
  if (rest.empty() || rest == "/") {
    if (!read) return admin::method_not_allowed("GET, HEAD");
    JsonWriter w;
    uint64_t now_ms = uv_hrtime() / 1'000'000;
    w.begin_object().key("routes").begin_array();
    for (const CanaryRoute& c : routes) write_route(w, c, now_ms);
    w.end_array().end_object();
    return admin::json_response(200, w.take());
  }
  std::string_view name = rest.substr(1);
  size_t slash = name.find('/');
  std::vector<const CanaryRoute*> found;
  for (const CanaryRoute& c : routes) {
    bool match = slash == std::string_view::npos
                     ? c.route == name
                     : c.listener == name.substr(0, slash) && c.route == name.substr(slash + 1);
    if (match) found.push_back(&c);
  }
  if (found.empty())
    return admin::json_error(
        404, "no canary split on route '" + std::string(name) + "' (GET /-/canary lists them)");
  if (found.size() > 1) {
    std::string where;
    for (const CanaryRoute* c : found) where += (where.empty() ? "" : ", ") + c->listener;
    return admin::json_error(409, "route '" + std::string(name) + "' has a canary in listeners " +
                                      where + ": name one as /-/canary/LISTENER/ROUTE");
  }
  const CanaryRoute& c = *found.front();
  if (read) return route_page(c);
  if (req.method == "PUT") return change(c, req.body);
  if (req.method == "DELETE") return drop_override(c);
  return admin::method_not_allowed("GET, HEAD, PUT, DELETE");
}

}  // namespace portico::app
