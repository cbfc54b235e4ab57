// The seam between a connection's HTTP handling and its bytes on the wire.
// HTTP code reads plaintext into buffers it lends and writes plaintext from memory it
// keeps alive until the write completes; TcpTransport moves those bytes directly, a
// TLS transport will encrypt and decrypt through memory BIOs behind the same calls.
#pragma once

#include <uv.h>

#include <cstddef>

namespace portico::core {

class TransportEvents {
 public:
  // Where the next bytes read should go (an empty buffer refuses the read).
  virtual uv_buf_t on_alloc() = 0;
  // `n` bytes (possibly 0) were stored at the start of the buffer the last on_alloc returned.
  virtual void on_read(size_t n) = 0;
  // The peer closed (UV_EOF) or the connection failed (another negative libuv code).
  virtual void on_read_end(int status) = 0;
  // A write that write() queued has finished (0) or failed.
  virtual void on_write_done(int status) = 0;
  // The transport has been closed; nothing of it may be used any more.
  virtual void on_closed() = 0;
  // A server-side TLS handshake finished (plain TCP: never called); reads follow.
  virtual void on_handshake_done() {}

 protected:
  ~TransportEvents() = default;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void set_events(TransportEvents* events) = 0;
  virtual int read_start() = 0;
  virtual void read_stop() = 0;
  // Writes all of bufs. Returns 1 when every byte went out at once, 0 when the rest
  // was queued (on_write_done follows; the caller keeps the memory alive until then),
  // or a negative libuv error. At most one write may be queued at a time.
  virtual int write(const uv_buf_t* bufs, unsigned count) = 0;
  virtual bool write_pending() const = 0;
  // Starts closing; on_closed follows from the loop. Reads and writes stop at once.
  virtual void close() = 0;
  // Sends a TCP reset instead of an orderly close where the protocol needs it.
  virtual void close_reset() = 0;
  virtual bool closing() const = 0;
  // Whether the peer has ended the connection, or sent something, that this side's loop
  // has not read yet (one non-blocking peek at the socket).
  virtual bool peer_spoke() const = 0;
};

// A transport that opens its own connection (the upstream side).
class ClientTransport : public Transport {
 public:
  // Starts connecting; `done` is called once with 0 or a libuv error (not after close()).
  using ConnectDone = void (*)(void* owner, int status);
  virtual int connect(const sockaddr* addr, ConnectDone done, void* owner) = 0;
};

}  // namespace portico::core
