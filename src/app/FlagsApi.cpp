#include "app/FlagsApi.h"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

#include "admin/JsonWriter.h"
#include "app/FlagMetrics.h"
#include "app/FlagUpdate.h"
#include "config/BasisPoints.h"
#include "config/FlagsConfig.h"
#include "config/YamlReader.h"

namespace portico::app {

namespace {

using admin::AdminResponse;
using admin::JsonWriter;

constexpr std::string_view kRoot = "/-/flags";

double percent(uint32_t bp) {
  return double(bp) / 100.0;
}

void write_view(JsonWriter& w, const flags::FlagSet& set, size_t i,
                const std::map<std::string, FlagDecisionTotals>& totals) {
  const config::Flag& f = set.config(i);
  const flags::FlagState& state = set.state(i);
  const flags::FlagState::Values live = state.values();
  w.begin_object().member("name", f.name);
  w.member("enabled", live.enabled).member("percent", percent(live.percent_bp));
  w.member("key", config::request_key_text(f.key));
  w.key("source").begin_object();
  w.member("enabled", live.enabled_overridden ? "runtime" : "file");
  w.member("percent", live.percent_overridden ? "runtime" : "file");
  w.end_object();
  w.key("file").begin_object();
  w.member("enabled", state.file_enabled()).member("percent", percent(state.file_percent_bp()));
  w.end_object();
  auto t = totals.find(f.name);
  FlagDecisionTotals counts = t == totals.end() ? FlagDecisionTotals{} : t->second;
  w.key("decisions").begin_object().member("on", counts.on).member("off", counts.off);
  w.end_object().end_object();
}

std::string describe(const flags::FlagState::Values& v) {
  return std::string("enabled ") + (v.enabled ? "true" : "false") + " (" +
         (v.enabled_overridden ? "runtime" : "file") + "), percent " +
         config::basis_points_text(v.percent_bp) + "% (" +
         (v.percent_overridden ? "runtime" : "file") + ")";
}

AdminResponse one_flag(AdminTarget& t, const flags::FlagSet& set, size_t i) {
  std::vector<const stats::WorkerStats*> workers = t.worker_stats();
  JsonWriter w;
  write_view(w, set, i, flag_decision_totals(workers));
  return admin::json_response(200, w.take());
}

AdminResponse all_flags(AdminTarget& t) {
  const core::Runtime& rt = t.runtime();
  std::vector<const stats::WorkerStats*> workers = t.worker_stats();
  const auto totals = flag_decision_totals(workers);
  JsonWriter w;
  w.begin_object().key("header");
  if (rt.config().flags_header.empty())
    w.value(nullptr);
  else
    w.value(rt.config().flags_header);
  w.key("flags").begin_array();
  for (size_t i = 0; i < rt.flags().size(); ++i) write_view(w, rt.flags(), i, totals);
  w.end_array().end_object();
  return admin::json_response(200, w.take());
}

AdminResponse change(AdminTarget& t, const flags::FlagSet& set, size_t i,
                     const admin::AdminRequest& req) {
  flags::FlagState& state = set.state(i);
  const flags::FlagState::Values before = state.values();
  if (req.method == "DELETE") {
    state.clear_overrides();
  } else {
    config::ParseResult<FlagUpdate> update = parse_flag_update(req.body);
    if (!update) return admin::json_error(400, update.error);
    state.set_overrides(update->enabled, update->percent_bp);
  }
  spdlog::info("flag '{}' changed by {} /-/flags: {} -> {}", set.config(i).name, req.method,
               describe(before), describe(state.values()));
  return one_flag(t, set, i);
}

}  // namespace

bool is_flags_path(std::string_view path) {
  return path == kRoot || path.starts_with(std::string(kRoot) + "/");
}

AdminResponse handle_flags_request(AdminTarget& target, const admin::AdminRequest& req) {
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (req.path == kRoot) return read ? all_flags(target) : admin::method_not_allowed("GET, HEAD");
  const std::string_view name = req.path.substr(kRoot.size() + 1);
  const flags::FlagSet& set = target.runtime().flags();
  const int i = set.index_of(name);
  if (i < 0) {
    std::vector<std::string> names;
    for (size_t k = 0; k < set.size(); ++k) names.push_back(set.config(k).name);
    return admin::json_error(404, "no flag " + config::quoted(name) + " (" +
                                      (names.empty() ? std::string("no flags are defined")
                                                     : "defined: " + config::join(names)) +
                                      ")");
  }
  if (read) return one_flag(target, set, size_t(i));
  if (req.method == "PUT" || req.method == "DELETE") return change(target, set, size_t(i), req);
  return admin::method_not_allowed("GET, HEAD, PUT, DELETE");
}

}  // namespace portico::app
