#include "core/Worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "core/UvClose.h"
#include "proxy/CacheRefresh.h"
#include "proxy/DownstreamConn.h"
#include "proxy/Exchange.h"

namespace portico::core {

Worker::Worker(unsigned index, std::shared_ptr<const Runtime> runtime,
               std::shared_ptr<const log::AccessLogSink> access_sink)
    : index_(index) {
  uv_loop_init(&loop_);
  timers_ = std::make_unique<Timers>(&loop_);
  access_log_ = std::make_unique<log::AccessLog>(&loop_, std::move(access_sink));
  stop_async_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, stop_async_.get(),
                [](uv_async_t* a) { static_cast<Worker*>(a->data)->begin_drain(); });
  stop_async_->data = this;
  reload_async_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, reload_async_.get(),
                [](uv_async_t* a) { static_cast<Worker*>(a->data)->apply_reloads(); });
  reload_async_->data = this;
  release_check_ = std::make_unique<uv_check_t>();
  uv_check_init(&loop_, release_check_.get());
  release_check_->data = this;
  cache_wake_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, cache_wake_.get(),
                [](uv_async_t* a) { static_cast<Worker*>(a->data)->wake_cache_waiters(); });
  cache_wake_->data = this;
  upstream_wake_ = std::make_unique<uv_async_t>();
  uv_async_init(&loop_, upstream_wake_.get(), [](uv_async_t* a) {
    auto& runtimes = static_cast<Worker*>(a->data)->runtimes_;
    for (WorkerRuntime* r = runtimes.front(); r; r = runtimes.next(r)) r->on_wake();
  });
  upstream_wake_->data = this;
  prepare_filters(*runtime);
  current_ = std::make_shared<WorkerRuntime>(std::move(runtime), *timers_, upstream_wake_.get(),
                                             runtimes_, stats_, seed(), nullptr);
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

void Worker::prepare_filters(const Runtime& runtime) {
  for (const CompiledListener& l : runtime.listeners())
    for (const CompiledRoute& r : l.routes) r.filters.prepare(*this);
}

uint64_t Worker::seed() const {
  return 0x706f727469636fULL + index_ * 0x9E3779B97F4A7C15ULL;
}

std::string Worker::open_listeners() {
  for (const CompiledListener& cl : current_->runtime().listeners()) {
    std::string error;
    int fd = Listener::bind_socket(cl.config->address, error);
    if (fd < 0) return "listener '" + cl.config->name + "': " + error;
    add_listener(cl, fd);
  }
  return {};
}

void Worker::add_listener(const CompiledListener& cl, int fd) {
  auto l = std::make_unique<Listener>(&loop_, cl.config->name, cl.config->address, cl.connections,
                                      nullptr);
  Listener* self = l.get();
  l->set_on_accept([this, self](int fd, const sockaddr_storage& peer, ConnectionSlot slot) {
    accept(self->name(), fd, peer, std::move(slot));
  });
  l->adopt(fd);
  listeners_.push_back(std::move(l));
}

void Worker::accept(const std::string& listener, int fd, const sockaddr_storage& peer,
                    ConnectionSlot slot) {
  const CompiledListener* cl = current_->runtime().listener(listener);
  if (draining_ || !cl) {
    ::close(fd);
    return;
  }
  proxy::DownstreamConn::open(*this, current_, *cl, fd, peer, std::move(slot));
}

void Worker::release_later(std::shared_ptr<WorkerRuntime> runtime) {
  released_.push_back(std::move(runtime));
  if (released_.size() > 1) return;
  uv_check_start(release_check_.get(), [](uv_check_t* c) {
    auto* w = static_cast<Worker*>(c->data);
    uv_check_stop(c);
    w->released_.clear();
  });
}

void Worker::apply(std::shared_ptr<const Runtime> runtime, std::vector<ListenerSocket> sockets,
                   std::function<void()> applied) {
  {
    std::lock_guard lock(reload_mutex_);
    reloads_.push_back({std::move(runtime), std::move(sockets), std::move(applied)});
  }
  uv_async_send(reload_async_.get());
}

void Worker::apply_reloads() {
  std::vector<Reload> reloads;
  {
    std::lock_guard lock(reload_mutex_);
    reloads.swap(reloads_);
  }
  for (Reload& r : reloads) {
    if (draining_) {
      for (const ListenerSocket& s : r.sockets) ::close(s.fd);
    } else {
      switch_to(r);
    }
    r.applied();
  }
}

void Worker::switch_to(Reload& reload) {
  redis_.begin_config();
  prepare_filters(*reload.runtime);
  auto next =
      std::make_shared<WorkerRuntime>(std::move(reload.runtime), *timers_, upstream_wake_.get(),
                                      runtimes_, stats_, seed(), current_.get());
  current_->retire();
  current_ = std::move(next);
  const Runtime& rt = current_->runtime();
  // A socket stays while its address is configured, under whatever name; the others
  // stop accepting now.
  std::erase_if(listeners_, [&](const std::unique_ptr<Listener>& l) {
    if (const CompiledListener* cl = rt.listener_at(l->address())) {
      l->rename(cl->config->name);
      return false;
    }
    l->close();
    return true;
  });
  for (const ListenerSocket& s : reload.sockets) {
    const CompiledListener* cl = rt.listener(s.name);
    if (cl)
      add_listener(*cl, s.fd);
    else
      ::close(s.fd);
  }
  // Idle connections move to the new config now, busy ones after their response;
  // connections of a listener that is gone drain.
  for (proxy::DownstreamConn* c = connections_.front(); c;) {
    proxy::DownstreamConn* next_conn = connections_.next(c);
    c->runtime_changed();
    c = next_conn;
  }
  redis_.close_unused();
}

void Worker::start(std::function<void()> on_finished) {
  on_finished_ = std::move(on_finished);
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
  while (proxy::CacheRefresh* r = refreshes_.front()) r->abort();
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
      uint64_t(current_->runtime().config().drain_timeout.count()), 0);
  finish_if_drained();
}

uint64_t Worker::add_cache_waiter(proxy::DownstreamConn* conn) {
  uint64_t id = ++next_cache_waiter_;
  cache_waiters_.emplace(id, conn);
  return id;
}

void Worker::remove_cache_waiter(uint64_t id) {
  cache_waiters_.erase(id);
}

void Worker::refresh_started(proxy::CacheRefresh* refresh) {
  refreshes_.push_back(refresh);
}

void Worker::refresh_ended(proxy::CacheRefresh* refresh) {
  refreshes_.remove(refresh);
}

void Worker::post_cache_wakeup(uint64_t id) {
  std::lock_guard lock(cache_wake_mutex_);
  if (cache_wake_closed_) return;
  cache_wakeups_.push_back(id);
  uv_async_send(cache_wake_.get());
}

void Worker::wake_cache_waiters() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(cache_wake_mutex_);
    ids.swap(cache_wakeups_);
  }
  for (uint64_t id : ids) {
    // A request that stopped waiting meanwhile (timed out, closed) is no longer listed.
    auto it = cache_waiters_.find(id);
    if (it == cache_waiters_.end()) continue;
    proxy::DownstreamConn* conn = it->second;
    cache_waiters_.erase(it);
    conn->cache_fill_finished();
  }
}

void Worker::finish_if_drained() {
  if (finished_ || !connections_.empty()) return;
  finished_ = true;
  // With no client left, close everything else so uv_run returns.
  close_owned(drain_timer_);
  close_owned(stop_async_);
  close_owned(reload_async_);
  {
    std::lock_guard lock(cache_wake_mutex_);
    cache_wake_closed_ = true;
  }
  close_owned(cache_wake_);
  released_.clear();
  close_owned(release_check_);
  // With every client gone no retired runtime is in use; this closes idle upstream
  // connections and unsubscribes from the pools.
  current_.reset();
  redis_.clear();  // no request is left to wait for a reply
  close_owned(upstream_wake_);
  access_log_->close();
  timers_->close();
  if (on_finished_) on_finished_();
}

}  // namespace portico::core
