#include "app/Server.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "admin/AdminServer.h"
#include "app/AdminApi.h"
#include "app/ConfigReload.h"
#include "app/ConfigWatcher.h"
#include "app/ServiceNotifier.h"
#include "app/TlsFileBaselines.h"
#include "config/ConfigLoader.h"
#include "core/Runtime.h"
#include "core/UvClose.h"
#include "core/Worker.h"
#include "dns/DnsRefresher.h"
#include "health/HealthChecker.h"
#include "log/AccessLog.h"

namespace portico::app {

namespace {

double unix_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return bool(in) || in.eof();
}

class Server final : public AdminTarget {
 public:
  explicit Server(std::string config_path) : config_path_(std::move(config_path)) {}
  int run(config::Config config);

  // AdminTarget
  const core::Runtime& runtime() const override { return *runtime_; }
  const ReloadHistory& reloads() const override { return history_; }
  std::vector<const stats::WorkerStats*> worker_stats() const override;
  bool ready() const override { return ready_; }
  ReloadOutcome reload(const char* trigger) override;

 private:
  std::string open_admin();
  void watch_config();
  void on_worker_finished();
  ReloadOutcome reject(std::string error);
  // Sockets for the listeners `next` adds (per worker), or an error.
  std::string bind_new_listeners(const core::Runtime& next,
                                 std::vector<std::vector<core::ListenerSocket>>& sockets);
  void start_side_tasks();
  void on_signal(int signum);
  void on_applied();
  void stop();

  std::string config_path_;
  uv_loop_t loop_{};
  std::shared_ptr<const core::Runtime> runtime_;
  std::shared_ptr<const log::AccessLogSink> sink_;
  std::vector<std::unique_ptr<core::Worker>> workers_;
  std::unique_ptr<health::HealthChecker> checker_;
  std::unique_ptr<dns::DnsRefresher> refresher_;
  ServiceNotifier notifier_;
  std::vector<std::unique_ptr<uv_signal_t>> signals_;
  std::unique_ptr<uv_async_t> applied_async_;
  std::unique_ptr<uv_async_t> finished_async_;
  std::atomic<size_t> finished_{0};  // workers done draining
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::unique_ptr<ConfigWatcher> retired_watcher_;  // see watch_config
  // Certificates, keys and CA files: a change reloads like the config's own.
  std::vector<std::unique_ptr<ConfigWatcher>> tls_watchers_;
  std::vector<std::unique_ptr<ConfigWatcher>> retired_tls_watchers_;  // see watch_config
  TlsFileBaselines tls_baselines_;    // of the files runtime_ was built from, read before
  config::Reload watching_;           // the settings watcher_ was made with
  std::atomic<uint64_t> applied_{0};  // workers' acknowledgements, all reloads together
  uint64_t expected_applied_ = 0;
  uint64_t announced_generation_ = 1;
  ReloadHistory history_;
  bool ready_ = false;
  bool stopping_ = false;
};

int Server::run(config::Config config) {
  ::signal(SIGPIPE, SIG_IGN);
  std::string text;
  if (read_file(config_path_, text)) history_.config_hash = config_hash(text);
  tls_baselines_ = tls_file_baselines(config);
  try {
    runtime_ = core::Runtime::build(std::move(config));
    sink_ = std::make_shared<log::AccessLogSink>(runtime_->config().log.access_log);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  // Signals first: a SIGTERM that arrives while listeners open is handled, not fatal.
  uv_loop_init(&loop_);
  for (int signum : {SIGTERM, SIGINT, SIGHUP}) {
    auto h = std::make_unique<uv_signal_t>();
    uv_signal_init(&loop_, h.get());
    h->data = this;
    uv_signal_start(
        h.get(), [](uv_signal_t* s, int sig) { static_cast<Server*>(s->data)->on_signal(sig); },
        signum);
    signals_.push_back(std::move(h));
  }
  applied_async_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, applied_async_.get(),
                [](uv_async_t* a) { static_cast<Server*>(a->data)->on_applied(); });
  applied_async_->data = this;
  finished_async_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, finished_async_.get(),
                [](uv_async_t* a) { static_cast<Server*>(a->data)->on_worker_finished(); });
  finished_async_->data = this;
  // Watching starts before any listener accepts: once clients can connect, a change of
  // the file is noticed.
  watch_config();
  // The admin API answers from the start (not ready until the workers run) to the end of
  // the drain (not ready meanwhile).
  if (std::string err = open_admin(); !err.empty()) {
    spdlog::error("{}", err);
    return 1;
  }

  unsigned n = runtime_->config().workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<core::Worker>(i, runtime_, sink_));
    std::string err = workers_.back()->open_listeners();
    if (!err.empty()) {
      spdlog::error("{}", err);
      for (auto& w : workers_) w->request_stop();
      return 1;
    }
  }

  // Only the last worker to finish wakes the main thread, which then closes the handle:
  // no worker touches it after that.
  uv_async_t* finished = finished_async_.get();
  for (auto& w : workers_)
    w->start([this, finished] {
      if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == workers_.size())
        uv_async_send(finished);
    });
  start_side_tasks();
  for (const auto& l : runtime_->config().listeners)
    spdlog::info("listener {} on {} ({} routes)", l.name, l.address.text, l.routes.size());
  spdlog::info("portico {} running with {} worker{}", PORTICO_VERSION, n, n == 1 ? "" : "s");
  notifier_.ready(std::to_string(runtime_->config().listeners.size()) + " listeners, " +
                  std::to_string(n) + " workers");
  ready_ = true;

  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  for (auto& w : workers_) w->join();
  workers_.clear();
  spdlog::info("stopped");
  return 0;
}

void Server::start_side_tasks() {
  // Rebuilt on every reload: they read the pools of the running Runtime. Health verdicts
  // and resolved addresses live in the pools' shared records, so nothing is lost.
  if (checker_) checker_->stop();
  if (refresher_) refresher_->stop();
  checker_ = std::make_unique<health::HealthChecker>(&loop_, runtime_);
  checker_->start();
  refresher_ = std::make_unique<dns::DnsRefresher>(&loop_, runtime_);
  refresher_->start();
}

void Server::on_signal(int signum) {
  if (signum == SIGHUP) {
    reload("SIGHUP");
    return;
  }
  if (stopping_) return;
  spdlog::info("{}: draining in-flight requests, then exiting", strsignal(signum));
  stop();
}

void Server::stop() {
  stopping_ = true;
  ready_ = false;
  if (watcher_) watcher_->stop();
  for (auto& w : tls_watchers_) w->stop();
  notifier_.stopping("draining");
  for (auto& w : workers_) w->request_stop();
  if (checker_) checker_->stop();  // its timers and probes keep the loop alive
  if (refresher_) refresher_->stop();
  for (auto& s : signals_) core::close_owned(s);
  // The admin server and the async handles stay until every worker has drained: a worker
  // may still report a reload it applies before its drain begins.
}

void Server::on_worker_finished() {
  if (admin_) admin_->close();
  core::close_owned(applied_async_);
  watcher_.reset();
  retired_watcher_.reset();
  tls_watchers_.clear();
  retired_tls_watchers_.clear();
  core::close_owned(finished_async_);
}

std::vector<const stats::WorkerStats*> Server::worker_stats() const {
  std::vector<const stats::WorkerStats*> out;
  for (const auto& w : workers_) out.push_back(&w->stats());
  return out;
}

std::string Server::open_admin() {
  const config::Admin& a = runtime_->config().admin;
  if (!a.enabled) return {};
  admin_ = std::make_unique<admin::AdminServer>(
      &loop_, a, [this](const admin::AdminRequest& r) { return handle_admin_request(*this, r); });
  std::string err = admin_->open();
  if (!err.empty()) return "admin: " + err;
  spdlog::info("admin API on {}{}", a.address.text, a.token.empty() ? "" : " (bearer token)");
  return {};
}

void Server::watch_config() {
  const config::Reload& want = runtime_->config().reload;
  // The TLS files' watchers start over after every reload (the list may have changed),
  // from the content as it was before the build read the files (TlsFileBaselines.h). One
  // of them may be running this: it is kept until the next time.
  for (auto& w : tls_watchers_) w->stop();
  retired_tls_watchers_ = std::move(tls_watchers_);
  tls_watchers_.clear();
  if (want.watch) {
    for (const std::string& file : runtime_->tls_files()) {
      tls_watchers_.push_back(std::make_unique<ConfigWatcher>(
          &loop_, file, [this, file] { reload(("changed: " + file).c_str()); }, want.debounce));
      auto baseline = tls_baselines_.find(file);
      if (baseline != tls_baselines_.end())
        tls_watchers_.back()->start(baseline->second);
      else
        tls_watchers_.back()->start();
    }
  }
  if (watcher_ && want.watch == watching_.watch && want.debounce == watching_.debounce) return;
  // This may run inside the watcher's own callback (a reload it started): stopped here,
  // it is freed only when replaced again or with the server.
  if (watcher_) {
    watcher_->stop();
    retired_watcher_ = std::move(watcher_);
  }
  watching_ = want;
  if (!want.watch) return;
  watcher_ = std::make_unique<ConfigWatcher>(
      &loop_, config_path_,
      [this] {
        // Already running (a SIGHUP or POST /-/reload applied it first): nothing to do.
        std::string text;
        if (read_file(config_path_, text) && config_hash(text) == history_.config_hash) return;
        reload("config file changed");
      },
      want.debounce);
  watcher_->start();
}

ReloadOutcome Server::reject(std::string error) {
  ++history_.failures;
  history_.last_error = error;
  history_.last_failure_unix = unix_now();
  spdlog::error("reload failed; still serving config {} (generation {}):\n{}", history_.config_hash,
                history_.generation, error);
  notifier_.ready("reload failed; serving the previous config");
  return {false, std::move(error), {}, history_.generation};
}

ReloadOutcome Server::reload(const char* trigger) {
  if (stopping_) return {false, "shutting down", {}, history_.generation, true};
  spdlog::info("{}: reloading {}", trigger, config_path_);
  notifier_.reloading(std::string("reloading ") + config_path_);
  std::string text;
  if (!read_file(config_path_, text))
    return reject(config_path_ + ": cannot read: " + strerror(errno));
  config::LoadResult loaded = config::load_config_string(text, config_path_);
  for (const auto& w : loaded.warnings) spdlog::warn("{}", w.to_string());
  if (!loaded.config) {
    std::string error;
    for (const auto& e : loaded.errors) error += (error.empty() ? "" : "\n") + e.to_string();
    return reject(std::move(error));
  }
  config::Config& next = *loaded.config;
  const config::Config& now = runtime_->config();
  // What the process was started with stays until a restart.
  if (next.workers != now.workers) {
    spdlog::warn("reload: workers changes only on restart; keeping {}", now.workers);
    next.workers = now.workers;
  }
  if (next.log.access_log != now.log.access_log) {
    spdlog::warn("reload: log.access_log changes only on restart; keeping {}", now.log.access_log);
    next.log.access_log = now.log.access_log;
  }
  if (next.admin.enabled != now.admin.enabled ||
      next.admin.address.text != now.admin.address.text) {
    spdlog::warn("reload: the admin address changes only on restart; keeping {} (and its token)",
                 now.admin.enabled ? now.admin.address.text : "none");
    // All of it, token included: the new token was validated for the new address only
    // (an empty one is refused off loopback, but this keeps the old address).
    next.admin = now.admin;
  }
  TlsFileBaselines baselines = tls_file_baselines(next);
  std::shared_ptr<const core::Runtime> runtime;
  try {
    runtime = core::Runtime::build(std::move(next), runtime_.get());
  } catch (const std::exception& e) {
    return reject(config_path_ + ": " + e.what());
  }
  std::vector<std::vector<core::ListenerSocket>> sockets(workers_.size());
  if (std::string error = bind_new_listeners(*runtime, sockets); !error.empty())
    return reject(std::move(error));

  // Committed: from here nothing fails.
  expected_applied_ += workers_.size();
  for (size_t i = 0; i < workers_.size(); ++i)
    workers_[i]->apply(runtime, std::move(sockets[i]), [this, applied = applied_async_.get()] {
      applied_.fetch_add(1, std::memory_order_release);
      uv_async_send(applied);
    });
  runtime_ = std::move(runtime);
  tls_baselines_ = std::move(baselines);
  for (size_t u = 0; u < runtime_->config().upstreams.size(); ++u)
    runtime_->pool_state(u).take_over();
  runtime_->take_over();
  start_side_tasks();
  watch_config();
  if (admin_) admin_->set_token(runtime_->config().admin.token);
  spdlog::set_level(spdlog::level::from_str(runtime_->config().log.level));
  ++history_.successes;
  ++history_.generation;
  history_.config_hash = config_hash(text);
  history_.last_error.clear();
  history_.last_success_unix = unix_now();
  return {true, {}, history_.config_hash, history_.generation};
}

std::string Server::bind_new_listeners(const core::Runtime& next,
                                       std::vector<std::vector<core::ListenerSocket>>& sockets) {
  for (const core::CompiledListener& cl : next.listeners()) {
    if (runtime_->listener_at(cl.config->address)) continue;  // its sockets stay
    for (auto& per_worker : sockets) {
      std::string error;
      int fd = core::Listener::bind_socket(cl.config->address, error);
      if (fd < 0) {
        for (auto& list : sockets)
          for (const auto& s : list) ::close(s.fd);
        return next.config().source + ": listener '" + cl.config->name + "': " + error;
      }
      per_worker.push_back({cl.config->name, cl.config->address.text, fd});
    }
  }
  return {};
}

void Server::on_applied() {
  // Every worker has switched once the count catches up with what was sent.
  if (applied_.load(std::memory_order_acquire) < expected_applied_) return;
  if (announced_generation_ == history_.generation) return;
  announced_generation_ = history_.generation;
  spdlog::info("config generation {} ({}) applied on every worker", history_.generation,
               history_.config_hash);
  notifier_.ready("generation " + std::to_string(history_.generation));
}

}  // namespace

int run_server(config::Config config, std::string config_path) {
  Server server(std::move(config_path));
  return server.run(std::move(config));
}

}  // namespace portico::app
