// A listening socket owned by one worker. Every worker opens its own socket on the
// same address with SO_REUSEPORT, so the kernel spreads connections without a shared
// accept lock. Accepting is ours (uv_poll_t + accept4) rather than uv_listen's so that
// running out of file descriptors pauses accepting for a moment instead of spinning or
// resetting queued clients, and so that `max_connections` can stop accepting (the
// listener's ConnectionLimit) while the connections already open are served.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "config/Config.h"
#include "core/ConnectionLimit.h"

namespace portico::core {

class Listener final : ConnectionLimit::Waiter {
 public:
  // Called with each accepted, non-blocking socket, its peer and its counted slot; the callee
  // owns the fd and keeps the slot as long as the fd is open.
  using OnAccept = std::function<void(int fd, const sockaddr_storage& peer, ConnectionSlot slot)>;

  // `limit` is shared by every worker's socket for this address (see ConnectionLimit).
  Listener(uv_loop_t* loop, std::string name, config::SocketAddress address,
           std::shared_ptr<ConnectionLimit> limit, OnAccept on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // A non-blocking listening socket (SO_REUSEPORT), or -1 with `error` naming the address
  // and the reason. Any thread: a reload binds on the main thread, so a port that cannot
  // be had fails the reload before any worker changes.
  static int bind_socket(const config::SocketAddress& address, std::string& error,
                         int backlog = 4096);
  // Starts accepting on a socket from bind_socket (on the loop's thread); owns it after.
  void adopt(int fd);
  // bind_socket + adopt: returns "" or the error.
  std::string open(const config::SocketAddress& address);
  // Stops accepting and closes the socket (the object may be destroyed right after).
  void close();
  const std::string& name() const { return name_; }
  const config::SocketAddress& address() const { return address_; }
  void set_on_accept(OnAccept on_accept) { on_accept_ = std::move(on_accept); }
  // A reload renamed the listener at this address: the socket stays.
  void rename(std::string name) { name_ = std::move(name); }

 private:
  void on_readable();
  void pause_accepting();
  void wait_for_slot();
  void on_slot_freed();
  void slot_freed() override;  // any thread
  void start_polling();

  uv_loop_t* loop_;
  std::string name_;
  config::SocketAddress address_;
  std::shared_ptr<ConnectionLimit> limit_;
  OnAccept on_accept_;
  int fd_ = -1;
  // libuv handles must outlive their close callbacks, which may run after this object.
  std::unique_ptr<uv_poll_t> poll_;
  std::unique_ptr<uv_timer_t> resume_timer_;
  // Posted by another worker's thread when a slot frees; read there under the limit's mutex.
  std::unique_ptr<uv_async_t> slot_async_;
  bool paused_ = false;            // out of descriptors: resume_timer_ resumes
  bool waiting_for_slot_ = false;  // at max_connections: slot_async_ resumes
};

}  // namespace portico::core
