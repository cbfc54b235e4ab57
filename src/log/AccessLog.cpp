#include "log/AccessLog.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "core/UvClose.h"

namespace portico::log {

namespace {
constexpr size_t kFlushBytes = 32 * 1024;
constexpr uint64_t kFlushEveryMs = 1000;
}  // namespace

AccessLogSink::AccessLogSink(const std::string& target) {
  if (target == "off" || target.empty()) return;
  if (target == "stdout") {
    fd_ = STDOUT_FILENO;
  } else if (target == "stderr") {
    fd_ = STDERR_FILENO;
  } else {
    fd_ = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0)
      throw std::runtime_error("cannot open access log " + target + ": " + strerror(errno));
    owned_ = true;
  }
}

AccessLogSink::~AccessLogSink() {
  if (owned_) ::close(fd_);
}

void AccessLogSink::write(std::string_view lines) const {
  while (!lines.empty()) {
    ssize_t n = ::write(fd_, lines.data(), lines.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk or closed pipe must not stop the proxy
    lines.remove_prefix(size_t(n));
  }
}

AccessLog::AccessLog(uv_loop_t* loop, std::shared_ptr<const AccessLogSink> sink)
    : sink_(std::move(sink)) {
  if (!enabled()) return;
  buffer_.reserve(kFlushBytes + 1024);
  timer_ = std::make_unique<uv_timer_t>();
  uv_timer_init(loop, timer_.get());
  timer_->data = this;
  uv_timer_start(
      timer_.get(), [](uv_timer_t* t) { static_cast<AccessLog*>(t->data)->flush(); }, kFlushEveryMs,
      kFlushEveryMs);
  // The periodic flush must not keep a draining worker's loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_.get()));
}

AccessLog::~AccessLog() {
  close();
}

void AccessLog::record(const AccessRecord& r) {
  if (!enabled()) return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  fmt::format_to(std::back_inserter(buffer_),
                 "{:%Y-%m-%dT%H:%M:%S}.{:03d}Z {} \"{} {}\" {} {} {} {}us route={} upstream={} "
                 "request_id={} trace_id={}\n",
                 std::chrono::floor<std::chrono::seconds>(now), int(ms.count()), r.client, r.method,
                 r.target, r.status, r.bytes_in, r.bytes_out, r.duration_us,
                 r.route.empty() ? "-" : r.route, r.upstream.empty() ? "-" : r.upstream,
                 r.request_id.empty() ? "-" : r.request_id, r.trace_id.empty() ? "-" : r.trace_id);
  if (buffer_.size() >= kFlushBytes) flush();
}

void AccessLog::flush() {
  if (buffer_.empty()) return;
  sink_->write(buffer_);
  buffer_.clear();
}

void AccessLog::close() {
  flush();
  if (!timer_) return;
  uv_timer_stop(timer_.get());
  core::close_owned(timer_);
}

}  // namespace portico::log
