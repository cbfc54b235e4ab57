// One keep-alive connection from a worker to an upstream endpoint: it writes the
// request bytes it is handed and parses the response with llhttp, passing the head and
// the raw body slices to its current client without copying them. Between requests it
// waits in its EndpointPool's idle list. Owned by its libuv handle: it destroys itself
// once its transport has closed.
#pragma once

#include <uv.h>

#include <memory>
#include <span>
#include <string>

#include "core/BufferPool.h"
#include "core/IntrusiveList.h"
#include "core/TcpTransport.h"
#include "core/Timers.h"
#include "http/HeadCollector.h"
#include "http/MessageParser.h"
#include "upstream/ResponseHead.h"

namespace portico::core {
class Worker;
}
namespace portico::tls {
class TlsTransport;
class UpstreamTlsContext;
}  // namespace portico::tls

namespace portico::upstream {

class EndpointPool;

enum class Failure { Connect, ConnectTimeout, Reset, ResponseTimeout, BadResponse };

class UpstreamClient {
 public:
  virtual void on_upstream_connected() = 0;
  virtual void on_upstream_request_flushed() = 0;
  // Response progress: the head once it is complete, body bytes (raw, or de-chunked
  // when asked) that stay valid until the next call, and whether the response ended.
  // The client may call pause_response() from here to stop the flow (backpressure).
  // `pin` keeps the body's block alive for a write that has to be queued.
  virtual void on_upstream_response(const ResponseHead* head, std::string_view body, bool complete,
                                    const core::BufRef& pin) = 0;
  // The connection failed; it is closed and must not be used again.
  virtual void on_upstream_failed(Failure failure, int uv_status) = 0;

 protected:
  ~UpstreamClient() = default;
};

class UpstreamConn final : public core::TransportEvents,
                           public core::TimeoutHandler,
                           public http::MessageParser::BodySink,
                           public core::ListHook<UpstreamConn> {
 public:
  // The caller has reserved a connection slot on the endpoint (PoolState); the
  // connection gives it back when it closes.
  UpstreamConn(core::Worker& worker, EndpointPool& pool);
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;

  void connect();
  // Lends the connection to a request. `head_request`: the response has no body;
  // `decode_chunked`: hand the client de-chunked body bytes (HTTP/1.0 clients).
  void attach(UpstreamClient* client, bool head_request, bool decode_chunked);
  bool connected() const { return connected_; }
  // The slot's address generation this connection went to (see EndpointHealth).
  uint32_t generation() const { return generation_; }
  bool reused() const { return requests_ > 1; }
  // An idle connection whose endpoint has closed it (or sent something) unseen by the loop.
  bool peer_spoke() const { return transport_->peer_spoke(); }

  // Sends request bytes: 1 = all written, 0 = queued (on_upstream_request_flushed
  // follows; keep the memory alive), < 0 = failure (the connection closes itself).
  int send(const uv_buf_t* bufs, unsigned count);
  // The whole request is out: the response timeout starts.
  void request_complete();
  void pause_response();
  void resume_response();
  // The client is done with the connection: back to the pool when reusable, else closed.
  void release();
  // Closes at once (client gone or aborted); no more callbacks.
  void abort();
  // An idle connection changes pools (a reload: see EndpointPool::adopt_idle).
  void move_to(EndpointPool& pool);

  // core::TransportEvents
  uv_buf_t on_alloc() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_write_done(int status) override;
  void on_closed() override;
  // core::TimeoutHandler
  void on_timeout(int tag) override;
  // http::MessageParser::BodySink: de-chunks the body for HTTP/1.0 clients.
  bool on_body_data(const char* at, size_t n) override;

 private:
  enum Tag { kConnectTimeout, kResponseTimeout, kIdleTimeout };
  static void connected_cb(void* self, int status);

  void process();
  bool take_response_head();
  void fail(Failure f, int status);
  void close();
  void settle_buffer();
  // Hands a session the TLS upstream gave to the endpoint's pool, for later connections:
  // only from a connection that ended cleanly, made with the pool's current TLS context.
  void keep_tls_session();

  core::Worker& worker_;
  EndpointPool* pool_;  // while idle in it or lent to a client; see WorkerRuntime
  std::unique_ptr<core::ClientTransport> transport_;
  tls::TlsTransport* tls_ = nullptr;  // transport_ when the pool speaks TLS
  // What the connection was made with: after a reload it may differ from its pool's.
  std::shared_ptr<const tls::UpstreamTlsContext> tls_context_;
  bool tls_setup_failed_ = false;
  http::MessageParser parser_;
  http::HeadCollector head_;
  ResponseHead response_;
  core::BufRef in_;
  uint32_t parsed_ = 0;
  uint32_t end_ = 0;
  core::TimerLink timer_;
  UpstreamClient* client_ = nullptr;
  std::string decoded_;
  uint64_t requests_ = 0;
  uint32_t generation_ = 0;
  bool connected_ = false;
  bool head_request_ = false;
  bool decode_chunked_ = false;
  bool head_done_ = false;
  bool complete_ = false;
  bool request_done_ = false;
  bool paused_ = false;
  bool reusable_ = true;
  bool in_process_ = false;
  bool holds_slot_ = true;
};

}  // namespace portico::upstream
