#include "app/Server.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <memory>
#include <thread>
#include <vector>

#include "app/ServiceNotifier.h"
#include "core/Runtime.h"
#include "core/Worker.h"
#include "dns/DnsRefresher.h"
#include "health/HealthChecker.h"
#include "log/AccessLog.h"

namespace portico::app {

namespace {

struct SignalContext {
  std::vector<std::unique_ptr<core::Worker>>* workers;
  std::vector<uv_signal_t*> handles;
  bool stopping = false;
  health::HealthChecker* checker = nullptr;
  dns::DnsRefresher* refresher = nullptr;
  const ServiceNotifier* notifier = nullptr;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* ctx = static_cast<SignalContext*>(handle->data);
  if (signum == SIGHUP) {
    spdlog::warn("SIGHUP: configuration reload is not implemented yet; keeping the current one");
    return;
  }
  if (ctx->stopping) return;
  ctx->stopping = true;
  spdlog::info("{}: draining in-flight requests, then exiting", strsignal(signum));
  ctx->notifier->stopping("draining");
  for (auto& w : *ctx->workers) w->request_stop();
  if (ctx->checker) ctx->checker->stop();  // its timers and probes keep the loop alive
  if (ctx->refresher) ctx->refresher->stop();
  for (uv_signal_t* h : ctx->handles) uv_close(reinterpret_cast<uv_handle_t*>(h), nullptr);
}

}  // namespace

int run_server(config::Config config) {
  ::signal(SIGPIPE, SIG_IGN);
  std::shared_ptr<const core::Runtime> runtime;
  std::shared_ptr<const log::AccessLogSink> sink;
  try {
    runtime = core::Runtime::build(std::move(config));
    sink = std::make_shared<log::AccessLogSink>(runtime->config().log.access_log);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  unsigned n = runtime->config().workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());

  std::vector<std::unique_ptr<core::Worker>> workers;
  for (unsigned i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<core::Worker>(i, runtime, sink));
    std::string err = workers.back()->open_listeners();
    if (!err.empty()) {
      spdlog::error("{}", err);
      for (auto& w : workers) w->request_stop();
      return 1;
    }
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  ServiceNotifier notifier;
  SignalContext ctx{&workers, {}};
  ctx.notifier = &notifier;
  uv_signal_t sigs[3];
  int signums[3] = {SIGTERM, SIGINT, SIGHUP};
  for (int i = 0; i < 3; ++i) {
    uv_signal_init(&loop, &sigs[i]);
    sigs[i].data = &ctx;
    uv_signal_start(&sigs[i], on_signal, signums[i]);
    ctx.handles.push_back(&sigs[i]);
  }

  for (auto& w : workers) w->start();
  health::HealthChecker checker(&loop, runtime);
  ctx.checker = &checker;
  checker.start();
  dns::DnsRefresher refresher(&loop, runtime);
  ctx.refresher = &refresher;
  refresher.start();
  for (const auto& l : runtime->config().listeners)
    spdlog::info("listener {} on {} ({} routes)", l.name, l.address.text, l.routes.size());
  spdlog::info("portico {} running with {} worker{}", PORTICO_VERSION, n, n == 1 ? "" : "s");
  notifier.ready(std::to_string(runtime->config().listeners.size()) + " listeners, " +
                 std::to_string(n) + " workers");

  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  for (auto& w : workers) w->join();
  workers.clear();
  spdlog::info("stopped");
  return 0;
}

}  // namespace portico::app
