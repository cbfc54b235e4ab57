// Low-level loopback TCP helpers: an owning fd and send/recv that never block past a deadline.
// Every socket the harness creates is non-blocking; waits are poll(2) in short slices so that
// an optional stop flag is honoured promptly.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/Deadline.h"

namespace portico::it {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

enum class IoStatus { kOk, kTimeout, kClosed, kReset, kError, kStopped };
const char* ToString(IoStatus status);

// Connects to 127.0.0.1:port. On failure returns an empty Fd and stores errno in *error
// (ETIMEDOUT when the deadline passed).
Fd ConnectLoopback(uint16_t port, Deadline deadline, int* error = nullptr);

// Sends every byte unless the deadline passes, the peer goes away or *stop becomes true.
// *sent (if given) receives the number of bytes written.
IoStatus SendAll(int fd, std::string_view data, Deadline deadline,
                 const std::atomic<bool>* stop = nullptr, size_t* sent = nullptr);

// Waits for data and appends at most `cap` bytes to *out. kOk means at least one byte arrived.
IoStatus RecvSome(int fd, std::string* out, size_t cap, Deadline deadline,
                  const std::atomic<bool>* stop = nullptr);

// Waits until the fd is readable (data, EOF or error).
bool WaitReadable(int fd, Deadline deadline, const std::atomic<bool>* stop = nullptr);

// Closes with SO_LINGER 0, so the peer sees a TCP reset.
void ResetAndClose(Fd& fd);

void SetNonBlocking(int fd);

}  // namespace portico::it
