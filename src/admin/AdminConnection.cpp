#include "admin/AdminConnection.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <exception>

#include "admin/AdminServer.h"
#include "admin/BearerToken.h"
#include "core/UvClose.h"
#include "core/UvError.h"
#include "http/ConnectionTokens.h"

namespace portico::admin {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
// How long a refused client gets to close its side before we do (see start_lingering).
constexpr uint64_t kLingerMs = 2'000;
constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string peer_text(const uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char ip[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &v4.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(ss);
  inet_ntop(AF_INET6, &v6.sin6_addr, ip, sizeof ip);
  return "[" + std::string(ip) + "]:" + std::to_string(ntohs(v6.sin6_port));
}

}  // namespace

void AdminConnection::accept(AdminServer& server, uv_stream_t* listener) {
  auto conn = std::make_unique<AdminConnection>(server);
  uv_tcp_t* tcp = conn->transport_->handle();
  const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(tcp));
  // From here the connection is owned by its handle and freed in on_closed().
  AdminConnection* c = conn.release();
  server.connections_.push_back(c);
  if (rc != 0) {
    spdlog::debug("admin: accept: {}", core::uv_error_text(rc));
    c->close();
    return;
  }
  uv_tcp_nodelay(tcp, 1);
  c->peer_ = peer_text(tcp);
  c->arm_timer(server.limits_.request_timeout.count());
  c->update_reading();
}

AdminConnection::AdminConnection(AdminServer& server)
    : server_(&server),
      transport_(std::make_unique<core::TcpTransport>(server.loop_)),
      timer_(std::make_unique<uv_timer_t>()),
      parser_(HTTP_REQUEST, this) {
  transport_->set_events(this);
  uv_timer_init(server.loop_, timer_.get());
  timer_->data = this;
}

AdminConnection::~AdminConnection() {
  core::close_owned(timer_);
}

void AdminConnection::detach_and_close() {
  server_ = nullptr;
  close();
}

// ---- reading ------------------------------------------------------------------------

uv_buf_t AdminConnection::on_alloc() {
  if (lingering_) {
    // Whatever comes now is dropped: one chunk, reused.
    parsed_ = end_ = 0;
    if (in_.size() < kReadChunk) in_.resize(kReadChunk);
    return uv_buf_init(in_.data(), unsigned(in_.size()));
  }
  if (in_.size() < end_ + kReadChunk) in_.resize(end_ + kReadChunk);
  return uv_buf_init(in_.data() + end_, unsigned(in_.size() - end_));
}

void AdminConnection::on_read(size_t n) {
  if (n == 0 || lingering_ || closing_) return;
  end_ += uint32_t(n);
  pump();
}

void AdminConnection::on_read_end(int status) {
  if (status != UV_EOF) {
    spdlog::debug("admin: {}: read failed: {}", peer_, core::uv_error_text(status));
    close();
    return;
  }
  peer_done_ = true;
  // A client may send its last request and shut its side down at once: the answers still
  // in the buffer or being written go out first, then pump() closes.
  if (lingering_ || !transport_->write_pending()) {
    if (in_request_) spdlog::debug("admin: {}: closed in the middle of a request", peer_);
    close();
  }
}

bool AdminConnection::on_body_data(const char* at, size_t n) {
  if (body_.size() + n > server_->limits_.max_body_bytes) {
    parse_error_status_ = 413;
    parser_.set_error_reason("request body too large");
    return false;
  }
  body_.append(at, n);
  return true;
}

void AdminConnection::pump() {
  // One answer at a time: while one is being written the next request waits (and so does
  // reading, so a client that sends without reading cannot make us buffer without end).
  while (!closing_ && !lingering_ && !transport_->write_pending() && parse_step()) {
  }
  if (closing_ || lingering_) return;
  if (peer_done_ && !transport_->write_pending()) {
    close();  // what is left can only be an incomplete request
    return;
  }
  compact();
  update_reading();
}

bool AdminConnection::parse_step() {
  if (pause_ == Pause::Head) {
    pause_ = Pause::None;
    parser_.continue_after_head();
  } else if (pause_ == Pause::Message) {
    pause_ = Pause::None;
    parser_.continue_after_message();
  }
  if (parsed_ == end_ && !parser_.must_run()) return false;
  if (!in_request_) begin_request();
  auto [stop, used] = parser_.execute(in_.data(), parsed_, end_);
  parsed_ += used;
  const size_t max_head = server_->limits_.max_head_bytes;
  switch (stop) {
    case http::MessageParser::Stop::Head:
      pause_ = Pause::Head;
      if (parsed_ > max_head) {
        reject(431, "request head too large");
        return false;
      }
      on_head();
      return true;
    case http::MessageParser::Stop::Message:
      pause_ = Pause::Message;
      on_message();
      return true;
    case http::MessageParser::Stop::Error: {
      const char* why = parser_.error_reason();
      reject(parse_error_status_ ? parse_error_status_ : 400, why ? why : "malformed request");
      return false;
    }
    case http::MessageParser::Stop::NeedMore:
      if (!head_done_ && parsed_ > max_head) {
        reject(431, "request head too large");
        return false;
      }
      return true;
  }
  return false;
}

void AdminConnection::begin_request() {
  // The head must start at offset 0: its pieces are recorded as offsets.
  if (parsed_ > 0) {
    std::memmove(in_.data(), in_.data() + parsed_, end_ - parsed_);
    end_ -= parsed_;
    parsed_ = 0;
  }
  parser_.start_message(&head_);
  in_request_ = true;
  head_done_ = false;
  head_request_ = false;
  parse_error_status_ = 0;
  head_bytes_.clear();
  body_.clear();
}

void AdminConnection::on_head() {
  head_done_ = true;
  head_.unfold(in_.data());
  // A copy of its own, so the read buffer can drop the head while the body arrives.
  head_bytes_.assign(in_.data(), parsed_);
  head_.finish(head_bytes_.data());
  const llhttp_t& p = parser_.raw();
  const auto& headers = head_.headers();
  const std::string_view method = head_.method(head_bytes_.data());
  const std::string_view target = head_.target(head_bytes_.data());
  http10_ = p.http_minor == 0;
  head_request_ = method == "HEAD";
  http::ConnectionTokens connection;
  connection.parse(headers);
  keep_alive_ = http10_ ? connection.keep_alive() : !connection.close();

  if (p.http_major != 1) return reject(505, "unsupported HTTP version");
  if (connection.too_many()) return reject(400, "too many Connection tokens");
  for (const http::Header& h : headers) {
    if (!http::is_token(h.name)) return reject(400, "invalid header name");
  }
  if (target.empty() || target.front() != '/') return reject(400, "request target is not a path");
  const auto hosts = std::count_if(headers.begin(), headers.end(), [](const http::Header& h) {
    return http::iequals(h.name, "host");
  });
  if (hosts > 1 || (hosts == 0 && !http10_)) return reject(400, "one Host field is required");
  const bool has_body = (p.flags & F_CHUNKED) || p.content_length > 0;
  if ((p.flags & F_CONTENT_LENGTH) && p.content_length > server_->limits_.max_body_bytes)
    return reject(413, "request body too large");
  // Before any body byte is read: a client without the token gets nothing in.
  if (!server_->token_.empty() && !http::find_header(headers, "authorization"))
    return reject(401, "authorization required");
  if (!server_->token_.empty() && !bearer_token_matches(headers, server_->token_))
    return reject(401, "wrong bearer token");
  if (const http::Header* expect = http::find_header(headers, "expect")) {
    if (!http::iequals(expect->value, "100-continue")) return reject(417, "unsupported Expect");
    if (has_body && !http10_) send(std::string(k100Continue), false);
  }
  if (p.flags & F_CONTENT_LENGTH) body_.reserve(size_t(p.content_length));
}

void AdminConnection::on_message() {
  uv_timer_stop(timer_.get());
  const std::string_view method = head_.method(head_bytes_.data());
  const std::string_view target = head_.target(head_bytes_.data());
  const size_t q = target.find('?');
  AdminRequest request{method, target.substr(0, q),
                       q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                       body_, head_.headers()};
  AdminResponse response;
  try {
    response = server_->handler_(request);
  } catch (const std::exception& e) {
    spdlog::error("admin: {} {}: handler failed: {}", method, request.path, e.what());
    response = json_error(500, "internal error");
  } catch (...) {
    spdlog::error("admin: {} {}: handler failed", method, request.path);
    response = json_error(500, "internal error");
  }
  std::string().swap(body_);  // up to max_body_bytes: not kept while idle
  // The handler may have closed the server, and this connection with it.
  if (closing_) return;
  spdlog::debug("admin: {}: {} {} -> {}", peer_, method, target, response.status);
  in_request_ = false;
  const bool last = !keep_alive_ || !server_;
  send(serialize_response(response, {head_request_, last, http10_ && keep_alive_}), last);
}

// Answers a request this server refuses, then closes: the rest of what the client sent
// (a body, more requests) is not worth reading.
void AdminConnection::reject(int status, const char* why) {
  spdlog::debug("admin: {}: {} ({})", peer_, why, status);
  in_request_ = false;
  if (transport_->write_pending()) {
    close();  // an answer is still going out; this one cannot follow in order
    return;
  }
  AdminResponse response = json_error(status, why);
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  send(serialize_response(response, {head_request_, true, false}), true);
}

// ---- writing ------------------------------------------------------------------------

void AdminConnection::send(std::string bytes, bool last) {
  assert(!transport_->write_pending());
  out_ = std::move(bytes);
  last_write_ = last;
  uv_buf_t buf = uv_buf_init(out_.data(), unsigned(out_.size()));
  const int rc = transport_->write(&buf, 1);
  if (rc < 0) {
    spdlog::debug("admin: {}: write failed: {}", peer_, core::uv_error_text(rc));
    close();
    return;
  }
  if (rc == 0) {
    // Queued: the client has the usual time to take it; on_write_done continues.
    arm_timer(server_ ? server_->limits_.request_timeout.count() : kLingerMs);
    update_reading();
    return;
  }
  after_write();
}

void AdminConnection::on_write_done(int status) {
  if (status < 0) {
    spdlog::debug("admin: {}: write failed: {}", peer_, core::uv_error_text(status));
    close();
    return;
  }
  after_write();
  if (!closing_ && !lingering_) pump();
}

void AdminConnection::after_write() {
  out_.clear();
  if (!last_write_) {
    arm_timer(server_->limits_.request_timeout.count());  // for the next request
    return;
  }
  if (peer_done_)
    close();
  else
    start_lingering();
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// answer before the client has read it (a 431 sent while the rest of a large head is
// still arriving). So: shut down our side, drop what still comes, and close when the
// client does, or after a short while.
void AdminConnection::start_lingering() {
  lingering_ = true;
  in_request_ = false;
  parsed_ = end_ = 0;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(transport_->handle()), &fd) == 0)
    ::shutdown(fd, SHUT_WR);  // nothing of ours is queued in libuv: the write has finished
  arm_timer(kLingerMs);
  update_reading();
}

// ---- housekeeping -------------------------------------------------------------------

void AdminConnection::compact() {
  if (in_request_ && !head_done_) return;  // the head's offsets must stay valid
  if (parsed_ > 0) {
    std::memmove(in_.data(), in_.data() + parsed_, end_ - parsed_);
    end_ -= parsed_;
    parsed_ = 0;
  }
  // An idle connection keeps no buffer.
  if (end_ == 0 && !in_request_) std::vector<char>().swap(in_);
}

void AdminConnection::update_reading() {
  if (closing_ || peer_done_) return;
  if (lingering_ || !transport_->write_pending())
    transport_->read_start();
  else
    transport_->read_stop();
}

void AdminConnection::arm_timer(uint64_t ms) {
  uv_timer_start(
      timer_.get(), [](uv_timer_t* t) { static_cast<AdminConnection*>(t->data)->on_timeout(); }, ms,
      0);
}

void AdminConnection::on_timeout() {
  if (in_request_ && !lingering_ && !transport_->write_pending()) {
    reject(408, "request not complete in time");
    return;
  }
  // Idle, or a client that does not take its answer or does not close: nothing to say.
  close();
}

void AdminConnection::close() {
  if (closing_) return;
  closing_ = true;
  core::close_owned(timer_);
  transport_->close();
}

void AdminConnection::on_closed() {
  if (server_) server_->forget(this);
  std::unique_ptr<AdminConnection> owned(this);  // see accept()
}

}  // namespace portico::admin
