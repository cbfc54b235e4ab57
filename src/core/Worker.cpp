#include "core/Worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "core/UvClose.h"
#include "proxy/DownstreamConn.h"
#include "proxy/Exchange.h"
#include "upstream/HashKey.h"

namespace portico::core {

Worker::Worker(unsigned index, std::shared_ptr<const Runtime> runtime,
               std::shared_ptr<const log::AccessLogSink> access_sink)
    : index_(index), runtime_(std::move(runtime)) {
  uv_loop_init(&loop_);
  timers_ = std::make_unique<Timers>(&loop_);
  access_log_ = std::make_unique<log::AccessLog>(&loop_, std::move(access_sink));
  const auto& ups = runtime_->config().upstreams;
  for (size_t i = 0; i < ups.size(); ++i)
    upstreams_.push_back(std::make_unique<upstream::WorkerUpstream>(
        ups[i], runtime_->pool_state(i), runtime_->balancer_plan(i),
        upstream::mix64(0x706f727469636fULL + index * 0x9E3779B97F4A7C15ULL + i), *timers_));
  stop_async_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, stop_async_.get(),
                [](uv_async_t* a) { static_cast<Worker*>(a->data)->begin_drain(); });
  stop_async_->data = this;
  upstream_wake_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, upstream_wake_.get(), [](uv_async_t* a) {
    for (auto& u : static_cast<Worker*>(a->data)->upstreams_) u->on_wake();
  });
  upstream_wake_->data = this;
  for (size_t i = 0; i < ups.size(); ++i) runtime_->pool_state(i).subscribe(upstream_wake_.get());
}

Worker::~Worker() {
  if (thread_.joinable()) {
    join();
  } else {
    // Never started (another worker failed to open its listeners): drain here.
    begin_drain();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  // Everything was closed by the drain; run once more so close callbacks free memory.
  uv_run(&loop_, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop_) != 0) spdlog::debug("worker {}: loop closed with handles open", index_);
}

std::string Worker::open_listeners() {
  for (const CompiledListener& cl : runtime_->listeners()) {
    auto l = std::make_unique<Listener>(
        &loop_, cl.config->name, [this, &cl](int fd, const sockaddr_storage& peer) {
          if (draining_) {
            ::close(fd);
            return;
          }
          proxy::DownstreamConn::open(*this, runtime_, cl, fd, peer);
        });
    std::string err = l->open(cl.config->address);
    if (!err.empty()) return "listener '" + cl.config->name + "': " + err;
    listeners_.push_back(std::move(l));
  }
  return {};
}

void Worker::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void Worker::request_stop() {
  uv_async_send(stop_async_.get());
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<proxy::Exchange> Worker::take_exchange() {
  if (free_exchanges_.empty()) return std::make_unique<proxy::Exchange>();
  auto ex = std::move(free_exchanges_.back());
  free_exchanges_.pop_back();
  return ex;
}

void Worker::return_exchange(std::unique_ptr<proxy::Exchange> ex) {
  // An exchange that grew for an unusual request (thousands of headers) is not kept.
  constexpr size_t kMaxKeptBytes = 64 * 1024;
  if (ex->footprint() > kMaxKeptBytes) return;
  // Enough for the requests a worker has in flight at once in steady state; a burst
  // beyond it is freed rather than kept for ever.
  constexpr size_t kMaxFree = 128;
  if (free_exchanges_.size() < kMaxFree) free_exchanges_.push_back(std::move(ex));
}

void Worker::connection_opened(proxy::DownstreamConn* conn) {
  connections_.push_back(conn);
}

void Worker::connection_closed(proxy::DownstreamConn* conn) {
  connections_.remove(conn);
  if (draining_) finish_if_drained();
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  for (auto& l : listeners_) l->close();
  listeners_.clear();
  // Idle connections close now; busy ones close after their current response.
  for (proxy::DownstreamConn* c = connections_.front(); c;) {
    proxy::DownstreamConn* next = connections_.next(c);
    c->drain();
    c = next;
  }
  drain_timer_ = std::make_unique<uv_timer_t>();
  uv_timer_init(&loop_, drain_timer_.get());
  drain_timer_->data = this;
  uv_timer_start(
      drain_timer_.get(),
      [](uv_timer_t* t) {
        auto* w = static_cast<Worker*>(t->data);
        spdlog::warn("worker {}: drain timeout, closing {} connections", w->index_,
                     w->connections_.size());
        for (proxy::DownstreamConn* c = w->connections_.front(); c;) {
          proxy::DownstreamConn* next = w->connections_.next(c);
          c->abort();
          c = next;
        }
      },
      uint64_t(runtime_->config().drain_timeout.count()), 0);
  finish_if_drained();
}

void Worker::finish_if_drained() {
  if (finished_ || !connections_.empty()) return;
  finished_ = true;
  // With no client left, close everything else so uv_run returns.
  close_owned(drain_timer_);
  close_owned(stop_async_);
  for (size_t i = 0; i < runtime_->config().upstreams.size(); ++i)
    runtime_->pool_state(i).unsubscribe(upstream_wake_.get());
  close_owned(upstream_wake_);
  upstreams_.clear();  // closes idle upstream connections
  access_log_->close();
  timers_->close();
}

}  // namespace portico::core
