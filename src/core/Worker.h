// One event loop on one thread: its listening sockets, its client connections, its
// upstream connection pools, buffers and timers. Nothing here is shared with other
// workers; the main thread talks to a worker only through uv_async_send.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/BufferPool.h"
#include "core/IntrusiveList.h"
#include "core/Listener.h"
#include "core/Runtime.h"
#include "core/Timers.h"
#include "http/RequestId.h"
#include "http/TraceContext.h"
#include "log/AccessLog.h"
#include "router/MatchScratch.h"
#include "upstream/WorkerUpstream.h"

namespace portico::proxy {
class DownstreamConn;
struct Exchange;
}  // namespace portico::proxy

namespace portico::core {

class Worker {
 public:
  Worker(unsigned index, std::shared_ptr<const Runtime> runtime,
         std::shared_ptr<const log::AccessLogSink> access_sink);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens this worker's socket for every listener; returns an error message or "".
  std::string open_listeners();
  void start();
  // Thread-safe: stop accepting, finish in-flight requests, exit after `drain`.
  void request_stop();
  void join();

  unsigned index() const { return index_; }
  uv_loop_t* loop() { return &loop_; }
  BufferPool& buffers() { return buffers_; }
  Timers& timers() { return *timers_; }
  router::MatchScratch& match_scratch() { return scratch_; }
  log::AccessLog& access_log() { return *access_log_; }
  http::RequestIdGenerator& request_ids() { return ids_; }
  http::RandomIdBits& trace_ids() { return trace_ids_; }
  bool draining() const { return draining_; }

  upstream::WorkerUpstream& upstream(int i) { return *upstreams_[size_t(i)]; }
  std::unique_ptr<proxy::Exchange> take_exchange();
  void return_exchange(std::unique_ptr<proxy::Exchange> ex);
  void connection_opened(proxy::DownstreamConn* conn);
  void connection_closed(proxy::DownstreamConn* conn);

 private:
  void begin_drain();
  void finish_if_drained();

  unsigned index_;
  std::shared_ptr<const Runtime> runtime_;
  uv_loop_t loop_;
  std::unique_ptr<Timers> timers_;
  BufferPool buffers_;
  router::MatchScratch scratch_;
  std::unique_ptr<log::AccessLog> access_log_;
  http::RequestIdGenerator ids_;
  http::RandomIdBits trace_ids_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<upstream::WorkerUpstream>> upstreams_;
  std::vector<std::unique_ptr<proxy::Exchange>> free_exchanges_;
  IntrusiveList<proxy::DownstreamConn> connections_;
  std::unique_ptr<uv_async_t> stop_async_;
  std::unique_ptr<uv_async_t> upstream_wake_;  // see PoolState::subscribe
  std::unique_ptr<uv_timer_t> drain_timer_;
  std::thread thread_;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace portico::core
