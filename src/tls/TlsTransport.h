// TLS over one TCP connection, behind the same seam as plain TCP (core/Transport.h).
// OpenSSL never touches the socket: it reads ciphertext from the connection's read block
// and writes records into an output block through a BIO of our own, and libuv moves
// those bytes. So no TLS call blocks the worker, and an idle connection keeps no buffer.
//
// Server side: the handshake runs as bytes arrive; on_handshake_done() reports its end,
// then reads deliver plaintext. Client side: connect()'s callback comes after the
// handshake. A failed handshake ends with on_read_end(UV_EPROTO) (server) or the connect
// callback's UV_EPROTO (client); failure() and failure_detail() tell why.
#pragma once

#include <uv.h>

#include <array>
#include <string>

#include "core/BufferPool.h"
#include "core/TcpTransport.h"
#include "core/Transport.h"
#include "tls/HandshakeFailure.h"
#include "tls/OpenSsl.h"
#include "tls/UpstreamTlsContext.h"

namespace portico::tls {

class TlsTransport final : public core::ClientTransport,
                           private core::TransportEvents,
                           public SessionSink {
 public:
  // `ssl` in accept state (ServerTlsContext) or connect state (UpstreamTlsContext).
  TlsTransport(uv_loop_t* loop, core::BufferPool& buffers, SslPtr ssl, bool server);
  ~TlsTransport() override = default;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Server: adopts an accepted socket; the handshake starts with read_start().
  int open(uv_os_sock_t fd);
  int connect(const sockaddr* addr, ConnectDone done, void* owner) override;

  void set_events(core::TransportEvents* events) override { events_ = events; }
  int read_start() override;
  void read_stop() override;
  int write(const uv_buf_t* bufs, unsigned count) override;
  bool write_pending() const override { return upper_write_pending_; }
  void close() override;
  void close_reset() override;
  bool closing() const override { return closing_; }
  // A close_notify, a FIN or any record: an idle connection expects none.
  bool peer_spoke() const override { return tcp_.peer_spoke(); }

  bool handshake_done() const { return handshake_done_; }
  // The handshake succeeded and nothing failed since: its session is worth resuming.
  bool ended_cleanly() const { return handshake_done_ && failure_ == HandshakeFailure::None; }
  SSL* ssl() const { return ssl_.get(); }
  HandshakeFailure failure() const { return failure_; }
  const std::string& failure_detail() const { return failure_detail_; }
  // Client: the newest session the server gave, for the next connection to resume.
  SslSessionPtr take_session() { return std::move(session_); }
  void on_new_session(SslSessionPtr session) override { session_ = std::move(session); }

  // The BIO's ends: ciphertext in and out.
  size_t bio_read(char* out, size_t len);
  void bio_write(const char* data, size_t len);

 private:
  // Ciphertext in pooled blocks, written to TCP in one call (TcpTransport takes up to
  // kMaxBufs pieces): records never need a buffer larger than the pool's blocks.
  struct Chain {
    static constexpr unsigned kBlocks = 8;
    std::array<core::BufRef, kBlocks> blocks;
    std::array<uint32_t, kBlocks> lens{};
    unsigned count = 0;
    bool empty() const { return count == 0; }
    void clear() {
      for (unsigned i = 0; i < count; ++i) blocks[i].reset();
      count = 0;
    }
  };

  // core::TransportEvents, of the TCP transport underneath.
  uv_buf_t on_alloc() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_write_done(int status) override;
  void on_closed() override;

  static void on_tcp_connected(void* self, int status);
  void handshake();
  void fail_handshake(HandshakeFailure why, std::string detail);
  // Decrypts into the upper layer's buffers while it reads and there is anything to read.
  void deliver();
  // Reports the end of the stream once, when nothing readable is left before it.
  void report_end(int status);
  // Encrypts the queued plaintext and writes it while TCP takes it at once: 1 when all
  // of it is out, 0 when some waits for on_write_done, < 0 on failure.
  int pump_writes();
  // Encrypts from the plaintext cursor until about kWriteBudget bytes of records wait.
  bool encrypt_some();
  // Writes what OpenSSL produced; false when the connection failed.
  bool flush();
  void settle_input();
  void update_tcp_reading();
  void closed_one();

  core::TcpTransport tcp_;
  core::BufferPool& buffers_;
  SslPtr ssl_;
  core::TransportEvents* events_ = nullptr;
  ConnectDone connect_done_ = nullptr;
  void* connect_owner_ = nullptr;
  // Ciphertext read but not yet taken by OpenSSL: [in_from_, in_to_) of in_.
  core::BufRef in_;
  uint32_t in_from_ = 0;
  uint32_t in_to_ = 0;
  // Records OpenSSL wrote, not yet handed to TCP; and those TCP is still writing.
  Chain out_;
  Chain sending_;
  // The upper layer's queued write, encrypted as TCP drains (its memory stays valid
  // until on_write_done, by the Transport contract).
  std::array<uv_buf_t, Chain::kBlocks> plain_{};
  unsigned plain_count_ = 0;
  unsigned plain_index_ = 0;
  size_t plain_offset_ = 0;
  int pending_end_ = 0;  // the TCP stream ended (EOF or error), not yet reported
  // Runs deliver() on a later loop turn when reading restarts over data already here.
  uv_idle_t resume_;
  SslSessionPtr session_;
  HandshakeFailure failure_ = HandshakeFailure::None;
  std::string failure_detail_;
  int handles_open_ = 2;  // tcp_ and resume_
  bool server_;
  bool handshake_done_ = false;
  bool first_bytes_checked_ = false;
  bool upper_reading_ = false;
  bool tcp_reading_ = false;
  bool upper_write_pending_ = false;
  bool peer_eof_ = false;
  bool end_reported_ = false;
  bool closing_ = false;
  bool connecting_ = false;
};

}  // namespace portico::tls
