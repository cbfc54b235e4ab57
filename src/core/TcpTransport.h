// Plain TCP through a libuv stream.
#pragma once

#include <uv.h>

#include <array>

#include "core/Transport.h"

namespace portico::core {

class TcpTransport final : public ClientTransport {
 public:
  explicit TcpTransport(uv_loop_t* loop);
  ~TcpTransport() override = default;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  uv_tcp_t* handle() { return &tcp_; }
  // Adopts an accepted, non-blocking socket.
  int open(uv_os_sock_t fd);
  int connect(const sockaddr* addr, ConnectDone done, void* owner) override;

  void set_events(TransportEvents* events) override { events_ = events; }
  int read_start() override;
  void read_stop() override;
  int write(const uv_buf_t* bufs, unsigned count) override;
  bool write_pending() const override { return write_pending_; }
  void close() override;
  void close_reset() override;
  bool closing() const override { return closing_; }
  bool peer_spoke() const override;

 private:
  static constexpr unsigned kMaxBufs = 8;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  uv_connect_t connect_req_;
  TransportEvents* events_ = nullptr;
  ConnectDone connect_done_ = nullptr;
  void* connect_owner_ = nullptr;
  std::array<uv_buf_t, kMaxBufs> queued_;
  bool reading_ = false;
  bool write_pending_ = false;
  bool closing_ = false;
};

}  // namespace portico::core
