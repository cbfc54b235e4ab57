// One event loop on one thread: its listening sockets, its client connections, its
// upstream connection pools, buffers and timers. Nothing here is shared with other
// workers; the main thread talks to a worker only through uv_async_send (stop, and a
// new config to switch to).
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/BufferPool.h"
#include "core/IntrusiveList.h"
#include "core/Listener.h"
#include "core/Runtime.h"
#include "core/Timers.h"
#include "core/WorkerRuntime.h"
#include "filters/WorkerServices.h"
#include "http/RequestId.h"
#include "http/TraceContext.h"
#include "log/AccessLog.h"
#include "redis/RedisClients.h"
#include "router/MatchScratch.h"
#include "stats/WorkerStats.h"
#include "upstream/WorkerUpstream.h"

namespace portico::proxy {
class CacheRefresh;
class DownstreamConn;
struct Exchange;
}  // namespace portico::proxy

namespace portico::core {

// A listening socket bound on the main thread for a listener a reload adds.
struct ListenerSocket {
  std::string name;
  std::string address;
  int fd = -1;
};

class Worker final : public filters::WorkerServices {
 public:
  Worker(unsigned index, std::shared_ptr<const Runtime> runtime,
         std::shared_ptr<const log::AccessLogSink> access_sink);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens this worker's socket for every listener; returns an error message or "".
  std::string open_listeners();
  // `on_finished` runs on the worker's thread once a drain has closed everything.
  void start(std::function<void()> on_finished = {});
  // Thread-safe: stop accepting, finish in-flight requests, exit after `drain`.
  void request_stop();
  void join();
  // Thread-safe (a reload): switch to `runtime`. `sockets` are the listeners new in it;
  // listeners it no longer has stop accepting and their connections drain. `applied`
  // runs on the worker's thread once new requests use the new config.
  void apply(std::shared_ptr<const Runtime> runtime, std::vector<ListenerSocket> sockets,
             std::function<void()> applied);

  unsigned index() const { return index_; }
  uv_loop_t* loop() { return &loop_; }
  BufferPool& buffers() { return buffers_; }
  Timers& timers() { return *timers_; }
  router::MatchScratch& match_scratch() { return scratch_; }
  log::AccessLog& access_log() { return *access_log_; }
  http::RequestIdGenerator& request_ids() { return ids_; }
  http::RandomIdBits& trace_ids() { return trace_ids_; }
  bool draining() const { return draining_; }
  // Thread-safe to read (see stats/Counter.h).
  stats::WorkerStats& stats() { return stats_; }

  // The config new requests use.
  WorkerRuntime& runtime() { return *current_; }
  // Drops a connection's reference to a config after this loop turn, not now: the caller
  // may be deep in a callback of that config's pools (a queued request served on wake-up).
  void release_later(std::shared_ptr<WorkerRuntime> runtime);
  const std::shared_ptr<WorkerRuntime>& current_runtime() const { return current_; }
  std::unique_ptr<proxy::Exchange> take_exchange();
  void return_exchange(std::unique_ptr<proxy::Exchange> ex);
  void connection_opened(proxy::DownstreamConn* conn);
  void connection_closed(proxy::DownstreamConn* conn);
  // filters::WorkerServices
  redis::RedisClient& redis(const config::SocketAddress& address,
                            config::Duration timeout) override {
    return redis_.get(address, timeout);
  }
  uint64_t random() override { return trace_ids_.next(); }

  // Request collapsing (CacheStore): a request that waits for another's fill registers
  // here and gets an id; the filling request's thread posts that id back when the fill is
  // over, and this worker resumes the request if it still waits.
  uint64_t add_cache_waiter(proxy::DownstreamConn* conn);
  void remove_cache_waiter(uint64_t id);
  // Thread-safe.
  void post_cache_wakeup(uint64_t id);
  // Background refreshes (stale-while-revalidate) in flight: a drain stops them.
  void refresh_started(proxy::CacheRefresh* refresh);
  void refresh_ended(proxy::CacheRefresh* refresh);

 private:
  struct Reload {
    std::shared_ptr<const Runtime> runtime;
    std::vector<ListenerSocket> sockets;
    std::function<void()> applied;
  };
  uint64_t seed() const;  // for balancer cursors: differs between workers
  void prepare_filters(const Runtime& runtime);
  void add_listener(const CompiledListener& cl, int fd);
  void accept(const std::string& listener, int fd, const sockaddr_storage& peer,
              ConnectionSlot slot);
  void apply_reloads();
  void switch_to(Reload& reload);
  void begin_drain();
  void finish_if_drained();
  void wake_cache_waiters();

  unsigned index_;
  uv_loop_t loop_;
  std::unique_ptr<Timers> timers_;
  BufferPool buffers_;
  router::MatchScratch scratch_;
  std::unique_ptr<log::AccessLog> access_log_;
  http::RequestIdGenerator ids_;
  http::RandomIdBits trace_ids_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  stats::WorkerStats stats_;
  IntrusiveList<WorkerRuntime> runtimes_;  // current_ and those retired but still in use
  std::shared_ptr<WorkerRuntime> current_;
  std::vector<std::unique_ptr<proxy::Exchange>> free_exchanges_;
  IntrusiveList<proxy::DownstreamConn> connections_;
  IntrusiveList<proxy::CacheRefresh> refreshes_;
  std::unique_ptr<uv_async_t> stop_async_;
  std::unique_ptr<uv_async_t> upstream_wake_;  // see PoolState::subscribe
  std::unique_ptr<uv_async_t> reload_async_;
  std::unique_ptr<uv_async_t> cache_wake_;
  std::mutex cache_wake_mutex_;
  std::vector<uint64_t> cache_wakeups_;  // guarded by cache_wake_mutex_
  bool cache_wake_closed_ = false;       // guarded by cache_wake_mutex_
  std::unordered_map<uint64_t, proxy::DownstreamConn*> cache_waiters_;
  uint64_t next_cache_waiter_ = 0;
  std::unique_ptr<uv_check_t> release_check_;  // runs once per loop turn while needed
  std::vector<std::shared_ptr<WorkerRuntime>> released_;
  std::mutex reload_mutex_;
  std::vector<Reload> reloads_;  // guarded by reload_mutex_, applied in order
  std::unique_ptr<uv_timer_t> drain_timer_;
  redis::RedisClients redis_{&loop_};  // cleared at the drain's end, while the loop runs
  std::function<void()> on_finished_;
  std::thread thread_;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace portico::core
