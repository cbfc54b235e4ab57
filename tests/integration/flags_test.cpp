// Feature flags against the real binary: the upstream sees x-portico-flags naming the flags
// on (allow-listed by header, cookie and client address; 0% and 100%; disabled), a client's
// own x-portico-flags never reaches it, routes match on flags, PUT /-/flags/NAME changes
// decisions on every worker at once, a reload keeps an override unless the file's values
// for the flag change, bad bodies change nothing, and /-/metrics counts the decisions.
// Upstreams on loopback; every wait is for an event (a log line, a scrape) with a deadline.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/Json.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/PrometheusParser.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

// Two workers, so that "every worker" means something. Route `beta` (flag beta on) goes to
// pool `beta_pool`, the rest to `main_pool`. RAMP is the `ramp` flag's settings, EXTRA more
// flags.
constexpr const char* kConfig = R"(workers: 2
log: { level: info, access_log: off }
reload: { watch: false }
admin: { address: 127.0.0.1:{{ADMIN}} }
{{HEADER}}
flags:
  beta:
    allow: { header: { x-beta: "1" } }
  cookie-flag:
    allow: { cookie: { beta: "yes" } }
  local:
    allow: { client: [127.0.0.0/8, "::1"] }
  remote:
    allow: { client: [10.0.0.0/8] }
  nobody: { percent: 0 }
  everyone: { percent: 100% }
  disabled: { enabled: false, percent: 100, allow: { client: [127.0.0.0/8] } }
  ramp: {{RAMP}}
{{EXTRA}}
listeners:
  - name: main
    address: 127.0.0.1:{{MAIN}}
    routes:
      - name: beta
        match: { path_prefix: /app, flags: { beta: true } }
        upstream: beta_pool
      - name: app
        match: { path_prefix: /app }
        upstream: main_pool
upstreams:
  - name: main_pool
    endpoints: [ {{MAIN_POOL}} ]
  - name: beta_pool
    endpoints: [ {{BETA_POOL}} ]
)";

// "POOL FLAGS": which upstream answered, and the values of the x-portico-flags lines it
// received, joined with " | " ("-" when none). Lines of the other names a flags header
// could go by (x-features, and either with '_' for '-') come as "NAME=value".
UpstreamHandler EchoFlags(std::string pool) {
  return [pool](const HttpRequest& request) {
    UpstreamResponse r;
    std::string flags;
    for (const auto& [field, value] : request.headers.fields()) {
      std::string name = field;
      for (char& c : name) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
      if (name != "x-portico-flags" && name != "x-features") continue;
      std::string shown = field == "x-portico-flags" ? value : field + "=" + value;
      flags += (flags.empty() ? "" : " | ") + shown;
    }
    r.body = pool + " " + (flags.empty() ? "-" : flags);
    return r;
  };
}

class Flags : public ::testing::Test {
 protected:
  Flags() : main_pool_(EchoFlags("main")), beta_pool_(EchoFlags("beta")) {
    vars_ = {{"MAIN", std::to_string(main_)},
             {"ADMIN", std::to_string(admin_port_)},
             {"MAIN_POOL", main_pool_.address()},
             {"BETA_POOL", beta_pool_.address()},
             {"HEADER", ""},
             {"RAMP", "{ percent: 0, key: header:x-user }"},
             {"EXTRA", ""}};
  }

  void Start() {
    PorticoOptions o;
    o.config = Fill(kConfig, vars_);
    o.ready_ports = {main_, admin_port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  void Reload(const Vars& changes) {
    for (const auto& [k, v] : changes) vars_[k] = v;
    ASSERT_TRUE(proxy_->Reload(Fill(kConfig, vars_), ++generation_));
  }

  // The upstream's "POOL FLAGS" for one request on a new connection (so that successive
  // calls spread over the workers).
  std::string Send(const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string error;
    auto r = Fetch(main_, Request("GET", "/app", headers), {}, &error);
    if (!r) return "no response: " + error;
    if (r->status != 200) return "status " + std::to_string(r->status);
    return r->body;
  }

  // GET /-/flags/NAME.
  Json Flag(const std::string& name) {
    std::optional<Json> j = admin_.GetJson("/-/flags/" + name);
    if (!j) ADD_FAILURE() << admin_.error();
    return j.value_or(Json{});
  }

  static std::string Text(const Json& j, std::string_view path) {
    const Json* v = j.Find(path);
    if (!v) return "<no " + std::string(path) + ">";
    return v->IsString() ? v->String() : v->Dump();
  }

  // Scrapes until the flag's decisions reach the counts (or the deadline); the last scrape.
  PromExposition WaitForDecisions(const std::string& flag, double on, double off) {
    Deadline deadline(Ms{3000});
    while (true) {
      std::optional<PromExposition> m = admin_.Metrics();
      if (!m) {
        ADD_FAILURE() << admin_.error();
        return {};
      }
      auto value = [&](const char* result) {
        return m->Value("portico_flag_decisions_total", {{"flag", flag}, {"result", result}})
            .value_or(-1);
      };
      if ((value("on") == on && value("off") == off) || deadline.Expired()) return *m;
      if (!proxy_->PauseWhileRunning(std::min(Ms{5}, deadline.Remaining()))) {
        ADD_FAILURE() << "the proxy exited\n" << proxy_->DiagnosticTail();
        return *m;
      }
    }
  }

  uint16_t main_ = FreePort();
  uint16_t admin_port_ = FreePort();
  TestUpstream main_pool_;
  TestUpstream beta_pool_;
  Vars vars_;
  int generation_ = 1;
  AdminClient admin_{admin_port_};
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(Flags, TheUpstreamSeesTheFlagsOnForTheRequest) {
  Start();
  // 127.0.0.1 is in `local`'s list, not `remote`'s; `disabled` is off whatever it allows.
  EXPECT_EQ(Send(), "main local, everyone");
  EXPECT_EQ(Send({{"Cookie", "a=1; beta=yes"}}), "main cookie-flag, local, everyone");
  EXPECT_EQ(Send({{"X-Beta", "1"}, {"Cookie", "beta=yes"}}),
            "beta beta, cookie-flag, local, everyone");
  EXPECT_EQ(Send({{"X-Beta", "2"}, {"Cookie", "beta=no"}}), "main local, everyone");
}

TEST_F(Flags, AClientsOwnFlagsHeaderNeverReachesTheUpstream) {
  Start();
  EXPECT_EQ(Send({{"x-portico-flags", "admin, beta"}, {"X-Portico-Flags", "nobody"}}),
            "main local, everyone");
}

TEST_F(Flags, WithNoFlagOnThereIsNoHeaderAndTheClientsIsStillDropped) {
  Start();
  // Switch off the two flags this client always has.
  ASSERT_EQ(admin_.Put("/-/flags/local", R"({"enabled": false})")->status, 200);
  ASSERT_EQ(admin_.Put("/-/flags/everyone", R"({"percent": 0})")->status, 200);
  EXPECT_EQ(Send(), "main -");
  EXPECT_EQ(Send({{"x-portico-flags", "admin"}}), "main -");
}

TEST_F(Flags, TheHeaderCanBeTurnedOffAndTheClientsIsStillDropped) {
  vars_["HEADER"] = "flags_header: off";
  Start();
  // Not sent; a client's line of the default name (or its '_' spelling) still never
  // reaches a backend that may trust it.
  EXPECT_EQ(Send({{"x-portico-flags", "admin"}, {"X_Portico_Flags", "admin"}}), "main -");
  // Routing on flags works without the header.
  EXPECT_EQ(Send({{"x-beta", "1"}}), "beta -");
}

TEST_F(Flags, ARenamedHeaderIsSentAndBothNamesAreDroppedFromClients) {
  vars_["HEADER"] = "flags_header: X-Features";
  Start();
  EXPECT_EQ(Send({{"x-portico-flags", "admin"}, {"x_features", "admin"}, {"X-Features", "admin"}}),
            "main X-Features=local, everyone");
}

TEST_F(Flags, ARouteMatchingAFlagGoesToItsOwnUpstream) {
  Start();
  EXPECT_EQ(Send({{"x-beta", "1"}}).substr(0, 5), "beta ");
  EXPECT_EQ(Send().substr(0, 5), "main ");
  EXPECT_EQ(beta_pool_.requests_received(), 1u);
  EXPECT_EQ(main_pool_.requests_received(), 1u);
}

TEST_F(Flags, PutChangesDecisionsAtOnceOnEveryWorker) {
  Start();
  EXPECT_EQ(Send({{"x-user", "u1"}}), "main local, everyone");
  auto put = admin_.Put("/-/flags/ramp", R"({"percent": 100})");
  ASSERT_TRUE(put) << admin_.error();
  ASSERT_EQ(put->status, 200) << put->Describe();
  auto view = ParseJson(put->body);
  ASSERT_TRUE(view) << put->body;
  EXPECT_EQ(Text(*view, "percent"), "100");
  EXPECT_EQ(Text(*view, "source.percent"), "runtime");
  EXPECT_EQ(Text(*view, "source.enabled"), "file");
  EXPECT_EQ(Text(*view, "file.percent"), "0");
  EXPECT_EQ(Text(*view, "key"), "header:x-user");
  // New connections land on either worker: every one of them sees the change.
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(Send({{"x-user", "u" + std::to_string(i)}}), "main local, everyone, ramp") << i;
  Json got = Flag("ramp");
  EXPECT_EQ(Text(got, "source.percent"), "runtime");
  EXPECT_EQ(Text(got, "enabled"), "true");

  ASSERT_EQ(admin_.Put("/-/flags/ramp", R"({"enabled": false})")->status, 200);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Send({{"x-user", "u" + std::to_string(i)}}), "main local, everyone") << i;
  got = Flag("ramp");
  EXPECT_EQ(Text(got, "enabled"), "false");
  EXPECT_EQ(Text(got, "source.enabled"), "runtime");
  EXPECT_EQ(Text(got, "percent"), "100");

  auto del = admin_.Send("DELETE", "/-/flags/ramp");
  ASSERT_TRUE(del) << admin_.error();
  ASSERT_EQ(del->status, 200) << del->Describe();
  got = Flag("ramp");
  EXPECT_EQ(Text(got, "source"), R"({"enabled":"file","percent":"file"})");
  EXPECT_EQ(Text(got, "percent"), "0");
  EXPECT_EQ(Send({{"x-user", "u1"}}), "main local, everyone");
  EXPECT_TRUE(
      proxy_->WaitForStderr("flag 'ramp' changed by PUT /-/flags: enabled true (file), "
                            "percent 0% (file) -> enabled true (file), percent 100% "
                            "(runtime)",
                            Ms{3000}))
      << proxy_->DiagnosticTail();
}

TEST_F(Flags, AReloadKeepsAnOverrideUnlessTheFilesValuesForTheFlagChange) {
  Start();
  ASSERT_EQ(admin_.Put("/-/flags/ramp", R"({"percent": 100})")->status, 200);
  ASSERT_EQ(admin_.Put("/-/flags/beta", R"({"percent": 100})")->status, 200);

  // Another flag is added and ramp is written differently with the same values: kept.
  Reload({{"RAMP", "{ key: header:x-user, percent: 0%, enabled: true }"},
          {"EXTRA", "  added: { percent: 0 }"}});
  EXPECT_EQ(Text(Flag("ramp"), "source.percent"), "runtime");
  EXPECT_EQ(Text(Flag("ramp"), "percent"), "100");
  EXPECT_EQ(Send(), "beta beta, local, everyone, ramp");

  // ramp's share in the file changes: the file's value wins; beta's override stays.
  Reload({{"RAMP", "{ percent: 0.01, key: header:x-user }"}});
  Json ramp = Flag("ramp");
  EXPECT_EQ(Text(ramp, "source.percent"), "file");
  EXPECT_EQ(Text(ramp, "percent"), "0.01");
  EXPECT_EQ(Text(Flag("beta"), "source.percent"), "runtime");
  EXPECT_EQ(Send(), "beta beta, local, everyone");  // no x-user: ramp off
}

TEST_F(Flags, BadRequestsChangeNothing) {
  Start();
  struct Case {
    const char* body;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"percent": 150})",
            "request body:1:13: percent: '150' is not a valid percentage: must be at most 100%"},
           {R"({"percent": 50, "enable": false})",
            "request body:1:17: enable: unknown key 'enable' (expected one of: enabled, percent)"},
           {R"({"enabled": "no way"})",
            "request body:1:13: enabled: expected true or false, got 'no way'"},
           {R"({})",
            R"(request body:1:1: give "percent" (0-100) and/or "enabled" (true or false))"},
           {"", "request body: expected a JSON object"},
       }) {
    auto r = admin_.Put("/-/flags/ramp", c.body);
    ASSERT_TRUE(r) << admin_.error();
    EXPECT_EQ(r->status, 400) << c.body;
    auto j = ParseJson(r->body);
    ASSERT_TRUE(j) << r->body;
    EXPECT_EQ(Text(*j, "error"), c.error) << c.body;
  }
  Json ramp = Flag("ramp");
  EXPECT_EQ(Text(ramp, "source"), R"({"enabled":"file","percent":"file"})");
  EXPECT_EQ(Text(ramp, "percent"), "0");
  EXPECT_EQ(Send({{"x-user", "u1"}}), "main local, everyone");

  auto unknown = admin_.Put("/-/flags/nope", R"({"percent": 5})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("no flag 'nope' (defined: beta, cookie-flag"), std::string::npos)
      << unknown->body;
  auto post = admin_.Post("/-/flags/ramp");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers.Value("Allow"), "GET, HEAD, PUT, DELETE");
  auto put_all = admin_.Put("/-/flags", R"({"percent": 5})");
  ASSERT_TRUE(put_all);
  EXPECT_EQ(put_all->status, 405);
  EXPECT_EQ(put_all->headers.Value("Allow"), "GET, HEAD");
}

TEST_F(Flags, GetListsEveryFlagAndConfigShowsTheFile) {
  Start();
  std::optional<Json> all = admin_.GetJson("/-/flags");
  ASSERT_TRUE(all) << admin_.error();
  EXPECT_EQ(Text(*all, "header"), "x-portico-flags");
  const Json* list = all->Get("flags");
  ASSERT_TRUE(list && list->IsArray());
  std::vector<std::string> names;
  for (const Json& f : list->items()) names.push_back(Text(f, "name"));
  EXPECT_EQ(names, (std::vector<std::string>{"beta", "cookie-flag", "local", "remote", "nobody",
                                             "everyone", "disabled", "ramp"}));
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "config.flags_header"), "x-portico-flags");
  EXPECT_EQ(Text(*config, "config.flags.0.allow.headers"), R"([{"name":"x-beta","value":"1"}])");
  EXPECT_EQ(Text(*config, "config.flags.7.key"), "header:x-user");
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.0.match.flags"), R"({"beta":true})");
}

TEST_F(Flags, MetricsCountEachFlagOncePerRequest) {
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send().substr(0, 5), "main ");
  ASSERT_EQ(Send({{"x-beta", "1"}}).substr(0, 5), "beta ");
  // beta: decided by the router for all four requests, then reused for the header.
  PromExposition m = WaitForDecisions("beta", 1, 3);
  EXPECT_EQ(m.Value("portico_flag_decisions_total", {{"flag", "beta"}, {"result", "on"}}), 1);
  EXPECT_EQ(m.Value("portico_flag_decisions_total", {{"flag", "beta"}, {"result", "off"}}), 3);
  EXPECT_EQ(m.Value("portico_flag_decisions_total", {{"flag", "everyone"}, {"result", "on"}}), 4);
  EXPECT_EQ(m.Value("portico_flag_decisions_total", {{"flag", "nobody"}, {"result", "off"}}), 4);
  EXPECT_EQ(m.Value("portico_flag_decisions_total", {{"flag", "disabled"}, {"result", "on"}}), 0);
  EXPECT_TRUE(m.ProblemsText().empty()) << m.ProblemsText();
  Json beta = Flag("beta");
  EXPECT_EQ(Text(beta, "decisions"), R"({"on":1,"off":3})");
}

}  // namespace
}  // namespace portico::it
