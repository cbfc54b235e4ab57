// One health probe: a connection of its own to the endpoint, the HTTP probe request if
// there is one, the status of the answer, then close. It reports once to its observer
// unless cancelled first. Like the proxy's connections it is owned by its libuv handle:
// it frees itself in the close callback, since libuv may call back until then, so the
// prober that started it may go away at any time after cancel().
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/BufferPool.h"
#include "core/Transport.h"
#include "health/StatusReader.h"
#include "tls/OpenSsl.h"

namespace portico::tls {
class TlsTransport;
}

namespace portico::health {

struct ProbeResult {
  bool ok = false;
  std::string reason;  // why the probe failed, for the log
};

class ProbeObserver {
 public:
  virtual void on_probe_done(ProbeResult result) = 0;

 protected:
  ~ProbeObserver() = default;
};

class Probe final : public core::TransportEvents {
 public:
  struct Check {
    std::string request;  // empty: a tcp check (connecting is enough)
    const std::vector<std::pair<int, int>>* expected = nullptr;  // http: healthy statuses
  };

  // Opens the connection. The probe is owned by its handle from here; the pointer stays
  // valid until the observer has been told or cancel() has been called. An immediate
  // failure is reported from inside connect(), so the caller must be ready for it.
  // With `ssl` (a TLS pool) the probe speaks TLS, its buffers from `buffers`, and a
  // handshake that fails fails the probe.
  static Probe* create(uv_loop_t* loop, Check check, ProbeObserver* observer,
                       tls::SslPtr ssl = nullptr,
                       std::shared_ptr<core::BufferPool> buffers = nullptr);
  void connect(const sockaddr* address);
  // Stops the probe without a report (timeout, shutdown) and closes its connection.
  void cancel();

  struct Key {};  // only create() makes one; public so make_unique can reach the constructor
  Probe(Key, uv_loop_t* loop, Check check, ProbeObserver* observer, tls::SslPtr ssl,
        std::shared_ptr<core::BufferPool> buffers);
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // core::TransportEvents
  uv_buf_t on_alloc() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_write_done(int status) override;
  void on_closed() override;

 private:
  // Heads longer than this are not what a health endpoint sends: the probe fails.
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  static void connected_cb(void* self, int status);
  void on_connected(int status);
  void finish(ProbeResult result);

  std::shared_ptr<core::BufferPool> buffers_;  // before transport_: outlives its blocks
  std::unique_ptr<core::ClientTransport> transport_;
  tls::TlsTransport* tls_ = nullptr;
  Check check_;
  ProbeObserver* observer_;  // null once reported or cancelled
  StatusReader reader_;
  size_t head_bytes_ = 0;
  std::array<char, 2048> buf_;
};

}  // namespace portico::health
