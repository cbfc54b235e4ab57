// A client connection: reads requests with llhttp, routes them, answers locally or
// relays them to an upstream connection, and streams the response back. Requests on
// one connection are handled one at a time, so pipelined requests are answered in
// order. Bodies are relayed as raw slices of the read buffers, with backpressure: while
// one side's write is queued, the other side is not read.
//
// Owned by its libuv handle: open() creates it, it destroys itself once closed.
#pragma once

#include <memory>

#include "core/BufferPool.h"
#include "core/IntrusiveList.h"
#include "core/Runtime.h"
#include "core/Timers.h"
#include "core/Transport.h"
#include "core/WorkerRuntime.h"
#include "filters/Filter.h"
#include "http/MessageParser.h"
#include "proxy/Exchange.h"
#include "tls/HandshakeFailure.h"
#include "upstream/UpstreamConn.h"
#include "upstream/WorkerUpstream.h"

namespace portico::core {
class Worker;
}

namespace portico::proxy {

class DownstreamConn final : public core::TransportEvents,
                             public core::TimeoutHandler,
                             public upstream::UpstreamClient,
                             public http::MessageParser::BodySink,
                             public upstream::ConnectionWaiter,
                             public filters::FilterHost,
                             public core::ListHook<DownstreamConn> {
 public:
  // `slot` counts the connection against its listener's max_connections until it is freed.
  static void open(core::Worker& worker, std::shared_ptr<core::WorkerRuntime> runtime,
                   const core::CompiledListener& listener, int fd, const sockaddr_storage& peer,
                   core::ConnectionSlot slot);

  DownstreamConn(core::Worker& worker, std::shared_ptr<core::WorkerRuntime> runtime,
                 const core::CompiledListener& listener, const sockaddr_storage& peer);
  DownstreamConn(const DownstreamConn&) = delete;
  DownstreamConn& operator=(const DownstreamConn&) = delete;

  // Shutdown: close now if idle, else after the response in flight.
  void drain();
  // A reload: an idle connection moves to the worker's new config now, a busy one
  // after its response; if its listener is gone it drains.
  void runtime_changed();
  // Close at once.
  void abort();

  // core::TransportEvents
  uv_buf_t on_alloc() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_write_done(int status) override;
  void on_closed() override;
  void on_handshake_done() override;
  // core::TimeoutHandler
  void on_timeout(int tag) override;
  // upstream::UpstreamClient
  void on_upstream_connected() override;
  void on_upstream_request_flushed() override;
  void on_upstream_response(const upstream::ResponseHead* head, std::string_view body,
                            bool complete, const core::BufRef& pin) override;
  void on_upstream_failed(upstream::Failure failure, int uv_status) override;
  // http::MessageParser::BodySink: counts the request body against max_body_bytes.
  bool on_body_data(const char* at, size_t n) override;
  // upstream::ConnectionWaiter
  bool on_connection_slot() override;
  // filters::FilterHost
  void resume_filters(filters::Verdict verdict) override;
  // The cache fill this request waited for is over (Worker::post_cache_wakeup).
  void cache_fill_finished();

 private:
  enum Tag {
    kHandshakeTimeout,
    kIdleTimeout,
    kHeaderTimeout,
    kBodyTimeout,
    kSendTimeout,
    kQueueTimeout,
    kTotalTimeout,
    kCacheWaitTimeout
  };
  enum class Pause { None, HeadDone, MessageDone };

  // Parses buffered input as far as the current request allows, relaying body bytes.
  void pump();
  void pump_once();
  void begin_request();
  void on_request_head();
  // The route's filters' view of the request, over the read buffer as it is now.
  void fill_filter_context();
  void after_request_filters(filters::Verdict verdict);
  // The filters let the request through: answer it (`respond:`) or send it upstream.
  void forward_request();
  void respond_route();
  // Whether the read buffer must keep the request head (a filter has it paused).
  bool holds_head() const;
  bool choose_endpoint(int avoid);
  void end_attempt();
  void release_upstream_accounting();
  void detach_upstream(bool abort);
  void arm_timer(Tag tag);
  void connect_upstream(bool fresh_only);
  upstream::UpstreamConn* acquire_connection(bool fresh_only, bool& fresh);
  void start_attempt(upstream::UpstreamConn* c, bool fresh);
  void wait_for_connection();
  void on_total_timeout();
  bool can_retry(uint32_t on, bool refused = false);
  void retry();
  // 503; `overloaded`: a limit refused it (x-portico-overloaded), not the pool's health.
  void respond_unavailable(const char* why, bool overloaded = false);
  // 502, 503 or 504 for an upstream that failed this request, unless the cache may answer
  // with a stale response (stale-if-error).
  void respond_upstream_failure(int status);
  void flush_upstream(uint32_t body_from, uint32_t body_to);
  bool must_close_after_local_answer() const;
  // `body` empty: the status text.
  void respond_local(int status, bool close, std::string_view body = {});
  void respond_prebuilt(const std::string& bytes, int status);
  void write_client(const uv_buf_t* bufs, unsigned count, const core::BufRef& pin);
  void after_client_write();
  void maybe_finish_exchange();
  void finish_exchange();
  void reject(int status, const char* why);
  void close();
  void update_reading();
  bool head_in_progress() const;
  void settle_buffer();
  const config::Limits& limits() const;
  // Moves to the worker's current config between requests; false when it closed instead.
  bool follow_runtime();
  // This connection's listener in `rt`, or nullptr when `rt` no longer has it.
  const core::CompiledListener* same_listener_in(const core::Runtime& rt) const;
  void use_listener(const core::CompiledListener& listener);
  // ---- the cache phase (DownstreamCache.cpp) ----
  // Looks the request up; true when that answered it (or it waits for another's fill).
  bool cache_lookup();
  void cache_wait();
  // stale-while-revalidate: the upstream is asked in the background (CacheRefresh.h).
  void cache_refresh_in_background(const std::shared_ptr<const cache::CachedResponse>& stale);
  void cache_stop_waiting();
  void cache_resume();
  void cache_serve(std::shared_ptr<const cache::CachedResponse> entry, cache::CacheResult result,
                   int64_t age);
  void add_cache_status();
  // The upstream's head: true when the cache answered instead (a 304 refreshed the stored
  // response, or stale-if-error); else it may have started storing the response.
  bool cache_on_response_head(const upstream::ResponseHead& head, bool complete);
  void cache_on_body(std::string_view body, bool complete);
  void cache_invalidate(const upstream::ResponseHead& head);
  // The upstream failed: answers with the stored response if stale-if-error allows.
  bool cache_serve_stale_on_error();
  void cache_end();

  // ---- TLS ----
  // Counted and logged once per failed handshake.
  void tls_failed(tls::HandshakeFailure why, std::string_view detail);
  // The verified client certificate's subject header line for the upstream, or "".
  std::string_view client_cert_line();

  // The exchange's route statistics (and proxy overhead); once per exchange.
  void record_stats(const Exchange& ex, uint64_t duration_us);

  core::Worker& worker_;
  core::ConnectionSlot slot_;  // given back when the connection is freed, its fd closed
  // The config this connection's requests use: pinned while a request is in flight.
  std::shared_ptr<core::WorkerRuntime> runtime_;
  const core::CompiledListener* listener_;
  core::DeadlineList* header_timeouts_;  // also the body-inactivity timeout
  core::DeadlineList* idle_timeouts_;
  core::DeadlineList* handshake_timeouts_;
  stats::ListenerStats* listener_stats_;
  std::unique_ptr<core::Transport> transport_;
  tls::TlsTransport* tls_ = nullptr;  // transport_ when the listener terminates TLS
  std::string client_subject_;        // mTLS: the verified certificate's subject
  std::string client_cert_line_;      // the upstream header line, rebuilt per request
  http::MessageParser parser_;
  core::TimerLink timer_;       // header, body-inactivity or keep-alive idle deadline
  core::TimerLink send_timer_;  // a queued write to the client must finish in idle_timeout
  Tag timer_tag_ = kHeaderTimeout;
  core::BufRef in_;
  uint32_t parsed_ = 0;
  uint32_t end_ = 0;
  std::unique_ptr<Exchange> ex_;
  core::BufRef client_pin_;    // keeps a queued client write's body bytes alive
  core::BufRef upstream_pin_;  // keeps a queued upstream write's body bytes alive
  Pause pause_ = Pause::None;
  int parse_error_status_ = 0;  // set by callbacks that reject (413)
  char client_ip_[46] = {};
  uint8_t client_ip_len_ = 0;
  bool body_flowing_ = false;  // the parser may run past the head of the current request
  bool client_write_pending_ = false;
  bool upstream_write_pending_ = false;
  bool close_after_ = false;
  bool closing_ = false;
  bool reading_ = false;
  bool failed_ = false;  // a bad request: answer it, read nothing more
  bool upstream_paused_ = false;
  bool in_pump_ = false;
  bool pump_again_ = false;
  bool reset_after_close_ = false;  // close with a TCP reset (client stopped reading)
};

}  // namespace portico::proxy
