// The checker on a real loop against loopback sockets: verdicts reach the shared
// EndpointHealth, and stop() leaves no handle behind whatever the probes were doing.
// HTTP statuses are covered end to end in tests/integration/health_check_test.cpp.
#include "health/HealthChecker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <string>

#include "config/ConfigLoader.h"
#include "core/Runtime.h"

namespace portico::health {
namespace {

using Clock = std::chrono::steady_clock;

// A socket bound to a loopback port: refusing connections, or (after listen) accepting
// them into the backlog without ever answering.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (listening) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~LoopbackSocket() { ::close(fd_); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::shared_ptr<const core::Runtime> runtime_for(const std::string& endpoints,
                                                 const std::string& health_check) {
  std::string yaml =
      "listeners:\n"
      "  - name: l\n"
      "    address: 127.0.0.1:8080\n"
      "    routes:\n"
      "      - name: r\n"
      "        upstream: u\n"
      "upstreams:\n"
      "  - name: u\n"
      "    endpoints: [ " +
      endpoints +
      " ]\n"
      "    health_check: " +
      health_check + "\n";
  config::LoadResult loaded = config::load_config_string(yaml, "test.yaml");
  EXPECT_TRUE(loaded.config.has_value())
      << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  if (!loaded.config) return nullptr;
  return core::Runtime::build(std::move(*loaded.config));
}

class HealthCheckerLoop : public ::testing::Test {
 protected:
  HealthCheckerLoop() {
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &tick_);
  }
  ~HealthCheckerLoop() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    // Every handle must be gone once the checker has stopped: the loop ends by itself.
    auto deadline = Clock::now() + std::chrono::seconds(2);
    while (uv_run(&loop_, UV_RUN_NOWAIT) != 0 && Clock::now() < deadline) {
    }
    EXPECT_EQ(uv_loop_alive(&loop_), 0) << "a handle or request outlived stop()";
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Runs the loop until `done` holds, at most `budget`. A ticking timer wakes the loop
  // to look at `done` even while the checker itself waits for a long timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds budget) {
    auto deadline = Clock::now() + budget;
    uv_timer_start(&tick_, wake, 5, 5);
    bool ok = true;
    while (!done()) {
      if (Clock::now() >= deadline) {
        ok = false;
        break;
      }
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_timer_stop(&tick_);
    return ok;
  }

  bool healthy(const core::Runtime& rt, size_t endpoint) const {
    return rt.pool_state(0).endpoint(endpoint).active_healthy.load();
  }

  static void wake(uv_timer_t*) {}

  uv_loop_t loop_;
  uv_timer_t tick_;
};

TEST_F(HealthCheckerLoop, RefusedTcpProbesMarkTheEndpointDownAndOnlyIt) {
  LoopbackSocket refusing(false), accepting(true);
  auto rt = runtime_for(refusing.address() + ", " + accepting.address(),
                        "{ type: tcp, interval: 50ms, timeout: 40ms, unhealthy: 2 }");
  ASSERT_TRUE(rt);
  HealthChecker checker(&loop_, rt);
  EXPECT_EQ(checker.endpoints_checked(), 2u);
  checker.start();
  EXPECT_TRUE(run_until([&] { return !healthy(*rt, 0); }, std::chrono::seconds(3)));
  // Several more rounds: the endpoint that accepts stays healthy.
  auto until = Clock::now() + std::chrono::milliseconds(200);
  run_until([&] { return Clock::now() >= until; }, std::chrono::seconds(1));
  EXPECT_FALSE(healthy(*rt, 0));
  EXPECT_TRUE(healthy(*rt, 1));
  checker.stop();
}

TEST_F(HealthCheckerLoop, HttpProbesThatGetNoAnswerTimeOut) {
  LoopbackSocket silent(true);  // connects, never answers
  auto rt = runtime_for(silent.address(),
                        "{ path: /healthz, interval: 60ms, timeout: 30ms, unhealthy: 2 }");
  ASSERT_TRUE(rt);
  HealthChecker checker(&loop_, rt);
  auto start = Clock::now();
  checker.start();
  EXPECT_TRUE(run_until([&] { return !healthy(*rt, 0); }, std::chrono::seconds(3)));
  // Two timeouts: the first at 30 ms, the second one interval (±10%) later.
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(80));
  checker.stop();
}

TEST_F(HealthCheckerLoop, StopWithProbesInFlightClosesEverything) {
  LoopbackSocket silent_a(true), silent_b(true);
  auto rt = runtime_for(silent_a.address() + ", " + silent_b.address(),
                        "{ path: /, interval: 5s, timeout: 4s }");
  ASSERT_TRUE(rt);
  auto checker = std::make_unique<HealthChecker>(&loop_, rt);
  checker->start();
  // Let the probes connect and send; they then wait for an answer that never comes.
  auto until = Clock::now() + std::chrono::milliseconds(50);
  run_until([&] { return Clock::now() >= until; }, std::chrono::seconds(1));
  checker->stop();
  checker.reset();  // the probes' close callbacks run after the checker is gone
  EXPECT_TRUE(healthy(*rt, 0));
}

TEST_F(HealthCheckerLoop, StopBeforeTheLoopEverRan) {
  LoopbackSocket refusing(false);
  auto rt = runtime_for(refusing.address(), "{ type: tcp, interval: 1s, timeout: 500ms }");
  ASSERT_TRUE(rt);
  HealthChecker checker(&loop_, rt);
  checker.start();
  checker.stop();
  checker.stop();  // idempotent
}

TEST_F(HealthCheckerLoop, UpstreamsWithoutHealthCheckAreNotProbed) {
  std::string yaml = R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    routes:
      - name: r
        upstream: u
upstreams:
  - name: u
    endpoints: [ 127.0.0.1:9 ]
)";
  config::LoadResult loaded = config::load_config_string(yaml, "test.yaml");
  ASSERT_TRUE(loaded.config);
  auto rt = core::Runtime::build(std::move(*loaded.config));
  HealthChecker checker(&loop_, rt);
  EXPECT_EQ(checker.endpoints_checked(), 0u);
  checker.start();
  checker.stop();
}

}  // namespace
}  // namespace portico::health
