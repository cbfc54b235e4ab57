// One access-log line per request, buffered per worker and written in batches
// (when 32 KiB are waiting, once a second, and at shutdown), so logging costs a
// formatted append per request rather than a system call.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace portico::log {

struct AccessRecord {
  std::string_view client;
  std::string_view method;
  std::string_view target;
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t duration_us = 0;
  std::string_view route;
  std::string_view upstream;  // endpoint address, "-" when answered locally
  std::string_view request_id;
  std::string_view trace_id;  // W3C trace id sent upstream, "" when none
};

// Where the lines go, shared by every worker: a file descriptor opened once.
class AccessLogSink {
 public:
  // "stdout", "stderr", "off" or a file path (appended to). Throws std::runtime_error.
  explicit AccessLogSink(const std::string& target);
  ~AccessLogSink();
  AccessLogSink(const AccessLogSink&) = delete;
  AccessLogSink& operator=(const AccessLogSink&) = delete;
  bool enabled() const { return fd_ >= 0; }
  // Appends whole lines; one write(2) of at most a few KiB is atomic for O_APPEND files.
  void write(std::string_view lines) const;

 private:
  int fd_ = -1;
  bool owned_ = false;
};

class AccessLog {
 public:
  AccessLog(uv_loop_t* loop, std::shared_ptr<const AccessLogSink> sink);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return sink_ && sink_->enabled(); }
  void record(const AccessRecord& r);
  void flush();
  void close();  // flushes and closes the timer

 private:
  std::shared_ptr<const AccessLogSink> sink_;
  std::string buffer_;
  std::unique_ptr<uv_timer_t> timer_;
};

}  // namespace portico::log
