// A listener's limits.max_connections (issue 9): at the limit accepting pauses, so a new
// client connects (the kernel's backlog) but gets no answer, while the connections already
// open go on being served; one closing lets the next client in, exactly one per freed slot,
// whichever worker's socket it queued on. The count is one for every worker and survives
// reloads: lowering the limit closes nothing, raising it lets waiting clients in.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/ProcStats.h"
#include "harness/Template.h"

namespace portico::it {
namespace {

constexpr const char* kConfig = R"(workers: 2
drain_timeout: 2s
log: { level: info, access_log: off }
reload: { watch: false }  # reloads by SIGHUP only: the tests count generations
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: capped
    address: 127.0.0.1:{{PORT}}
    limits: { max_connections: {{MAX}}, idle_timeout: 60s }
    routes:
      - name: hello
        match: { path_prefix: / }
        respond: { status: 200, body: "{{BODY}}" }
)";

class ListenerLimits : public ::testing::Test {
 protected:
  std::string Config(int max, const std::string& body) const {
    return Fill(kConfig, {{"ADMIN", std::to_string(admin_port_)},
                          {"PORT", std::to_string(port_)},
                          {"MAX", std::to_string(max)},
                          {"BODY", body}});
  }

  void Start(int max, const std::string& body = "one") {
    PorticoOptions o;
    o.config = Config(max, body);
    o.ready_ports = {port_, admin_port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  ::testing::AssertionResult ReloadTo(int max, const std::string& body) {
    return proxy_->Reload(Config(max, body), ++generation_);
  }

  // Sends a request on `c` and reads its answer (keep-alive: the connection stays open).
  static ::testing::AssertionResult Served(HttpClient& c, const std::string& body,
                                           Ms timeout = Ms{5000}) {
    if (!c.Send(Get("/"))) return ::testing::AssertionFailure() << "send: " << c.error();
    return Answered(c, body, timeout);
  }

  // Reads the answer to the request already sent on `c`.
  static ::testing::AssertionResult Answered(HttpClient& c, const std::string& body,
                                             Ms timeout = Ms{5000}) {
    auto r = c.ReadResponse(ReadOptions{.timeout = timeout});
    if (!r) return ::testing::AssertionFailure() << "no answer: " << c.error();
    if (r->status != 200 || r->body != body)
      return ::testing::AssertionFailure() << "answered " << r->status << " '" << r->body << "'";
    return ::testing::AssertionSuccess();
  }

  // `c` has sent its request and gets nothing back for `wait`, and is not closed either: it
  // waits in the backlog.
  static ::testing::AssertionResult Waiting(HttpClient& c, Ms wait = Ms{300}) {
    std::string got;
    IoStatus st = c.RecvRaw(&got, 4096, wait);
    if (st == IoStatus::kTimeout && got.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "a client over the limit got " << ToString(st)
                                         << " with " << got.size() << " bytes: '" << got << "'";
  }

  // A client over the limit: the TCP handshake completes (the kernel queues it), and its
  // request is sent.
  HttpClient Queue() const {
    HttpClient c;
    EXPECT_TRUE(c.Connect(port_, Ms{2000})) << c.error();
    EXPECT_TRUE(c.Send(Get("/"))) << c.error();
    return c;
  }

  std::optional<double> Metric(const std::string& name) {
    AdminClient admin(admin_port_);
    std::optional<PromExposition> m = admin.Metrics();
    EXPECT_TRUE(m) << admin.error();
    if (!m) return std::nullopt;
    EXPECT_TRUE(m->problems.empty()) << m->ProblemsText();
    return m->Value(name, {{"listener", "capped"}});
  }

  size_t LogCount(const std::string& text) const {
    std::string err = proxy_->Stderr();
    size_t n = 0;
    for (size_t at = err.find(text); at != std::string::npos; at = err.find(text, at + 1)) ++n;
    return n;
  }

  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  int generation_ = 1;
  std::unique_ptr<PorticoProcess> proxy_;
};

constexpr const char* kAtLimitLog = "at max_connections";

TEST_F(ListenerLimits, NewClientsWaitInTheBacklogWhileTheOpenOnesAreServed) {
  constexpr int kMax = 4;
  Start(kMax);
  std::vector<HttpClient> held(kMax);
  for (auto& c : held) {
    ASSERT_TRUE(c.Connect(port_)) << c.error();
    ASSERT_TRUE(Served(c, "one"));
  }
  for (int round = 0; round < 3; ++round)
    for (auto& c : held) ASSERT_TRUE(Served(c, "one")) << "round " << round;

  // Two more: connected by the kernel, requests sent, no answer.
  HttpClient first = Queue();
  HttpClient second = Queue();
  // The held connections still answer meanwhile (so the silence is not a slow proxy).
  for (auto& c : held) ASSERT_TRUE(Served(c, "one"));
  EXPECT_TRUE(Waiting(first));
  EXPECT_TRUE(Waiting(second));

  EXPECT_EQ(Metric("portico_listener_connections_open"), kMax);
  EXPECT_EQ(Metric("portico_listener_max_connections"), kMax);
  std::optional<double> paused = Metric("portico_listener_accept_paused_total");
  ASSERT_TRUE(paused);
  EXPECT_GE(*paused, 1);
  ASSERT_TRUE(proxy_->WaitForStderr(kAtLimitLog, Ms{2000})) << proxy_->DiagnosticTail();

  // Paused, not spinning: waiting clients cost no CPU.
  long ticks_before = proxy_->CpuTicks();
  ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{1000}));
  long ticks = proxy_->CpuTicks() - ticks_before;
  EXPECT_LE(ticks, ClockTicksPerSecond() / 4) << ticks << " ticks in 1 s while at the limit";

  // One closes: exactly one waiting client gets in, whichever worker's backlog it is in.
  held[0].Close();
  HttpClient* in = nullptr;
  HttpClient* out = nullptr;
  Deadline deadline(Ms{5000});
  while (!in && !deadline.Expired()) {
    if (first.ReadResponse(ReadOptions{.timeout = Ms{50}})) {
      in = &first, out = &second;
    } else if (second.ReadResponse(ReadOptions{.timeout = Ms{50}})) {
      in = &second, out = &first;
    }
  }
  ASSERT_TRUE(in) << "no waiting client was let in after a held connection closed: "
                  << first.error() << " / " << second.error();
  for (size_t i = 1; i < held.size(); ++i) ASSERT_TRUE(Served(held[i], "one"));
  EXPECT_TRUE(Served(*in, "one"));  // and it stays, keep-alive
  EXPECT_TRUE(Waiting(*out)) << "two clients let in for one freed slot";

  // Another closes: the other one gets in.
  held[1].Close();
  EXPECT_TRUE(Answered(*out, "one"));
  EXPECT_TRUE(Served(*out, "one"));
  EXPECT_EQ(Metric("portico_listener_connections_open"), kMax);
  // One line for the whole episode, not one per connection or per worker.
  EXPECT_EQ(LogCount(kAtLimitLog), 1u) << proxy_->DiagnosticTail();
}

TEST_F(ListenerLimits, ReloadKeepsTheCountAndLoweringTheLimitClosesNothing) {
  Start(4);
  std::vector<HttpClient> held(4);
  for (auto& c : held) {
    ASSERT_TRUE(c.Connect(port_)) << c.error();
    ASSERT_TRUE(Served(c, "one"));
  }
  ASSERT_TRUE(ReloadTo(2, "two"));
  // Every connection open before the reload is still served, by the new config.
  for (auto& c : held) ASSERT_TRUE(Served(c, "two"));
  EXPECT_EQ(Metric("portico_listener_max_connections"), 2);

  HttpClient late = Queue();
  EXPECT_TRUE(Waiting(late));
  // 3 open, then 2: still not under the new limit. Had the reload forgotten the
  // connections it found, `late` would be in already.
  held[0].Close();
  EXPECT_TRUE(Waiting(late));
  held[1].Close();
  EXPECT_TRUE(Waiting(late));
  held[2].Close();  // 1 open: room
  EXPECT_TRUE(Answered(late, "two"));
  EXPECT_TRUE(Served(held[3], "two"));
}

TEST_F(ListenerLimits, RaisingTheLimitLetsWaitingClientsIn) {
  Start(2);
  std::vector<HttpClient> held(2);
  for (auto& c : held) {
    ASSERT_TRUE(c.Connect(port_)) << c.error();
    ASSERT_TRUE(Served(c, "one"));
  }
  HttpClient late = Queue();
  EXPECT_TRUE(Waiting(late));
  ASSERT_TRUE(ReloadTo(3, "one"));
  EXPECT_TRUE(Answered(late, "one"));  // no connection closed: the new limit woke the workers
  for (auto& c : held) EXPECT_TRUE(Served(c, "one"));
  HttpClient fourth = Queue();
  EXPECT_TRUE(Waiting(fourth));
}

TEST_F(ListenerLimits, ConnectionsOpenedWithoutALimitCountWhenOneIsSet) {
  Start(0);
  std::vector<HttpClient> held(3);
  for (auto& c : held) {
    ASSERT_TRUE(c.Connect(port_)) << c.error();
    ASSERT_TRUE(Served(c, "one"));
  }
  ASSERT_TRUE(ReloadTo(2, "two"));
  HttpClient late = Queue();
  EXPECT_TRUE(Waiting(late));
  held[0].Close();
  EXPECT_TRUE(Waiting(late));
  held[1].Close();
  EXPECT_TRUE(Answered(late, "two"));
  EXPECT_TRUE(Served(held[2], "two"));
}

}  // namespace
}  // namespace portico::it
