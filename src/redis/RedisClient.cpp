#include "redis/RedisClient.h"

#include <arpa/inet.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/UvClose.h"
#include "redis/UvRedisPoll.h"

namespace portico::redis {

namespace {

static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "a call's sequence number rides in privdata");

void* as_privdata(uint64_t seq) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(seq));
}

bool is_numeric_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// hiredis keeps the last error in the context; the text is only meaningful when err is set.
std::string context_error(const redisAsyncContext* ac, const char* fallback) {
  return ac->c.err != 0 && ac->c.errstr[0] != '\0' ? std::string(ac->c.errstr) : fallback;
}

bool is_noscript(const redisReply* reply) {
  return reply->type == REDIS_REPLY_ERROR && reply->len >= 8 &&
         std::memcmp(reply->str, "NOSCRIPT", 8) == 0;
}

std::unique_ptr<uv_timer_t> make_timer(uv_loop_t* loop, void* data) {
  auto timer = std::make_unique<uv_timer_t>();
  uv_timer_init(loop, timer.get());
  timer->data = data;
  return timer;
}

}  // namespace

RedisClient::LiveGuard::LiveGuard(RedisClient& c) : client(c), outer(c.guards_) {
  c.guards_ = this;
}

RedisClient::LiveGuard::~LiveGuard() {
  if (!destroyed) client.guards_ = outer;
}

RedisClient::RedisClient(uv_loop_t* loop, RedisOptions options)
    : loop_(loop), options_(std::move(options)) {
  if (!is_numeric_address(options_.host)) {
    throw std::invalid_argument("redis host '" + options_.host + "' is not a numeric address");
  }
  if (options_.max_in_flight == 0 || options_.connect_timeout.count() <= 0 ||
      options_.command_timeout.count() <= 0 || options_.reconnect_min.count() <= 0 ||
      options_.stall_timeout.count() <= 0) {
    throw std::invalid_argument("redis options: limits and timeouts must be positive");
  }
  options_.reconnect_max = std::max(options_.reconnect_max, options_.reconnect_min);
  bool v6 = options_.host.find(':') != std::string::npos;
  name_ = (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
  slots_.resize(options_.max_in_flight);
  conn_timer_ = make_timer(loop_, this);
  timeout_timer_ = make_timer(loop_, this);
  backoff_ms_ = uint64_t(options_.reconnect_min.count());
  start_connect();
}

RedisClient::~RedisClient() {
  // A handler further up the stack (this destructor may run inside one) must not touch us.
  for (LiveGuard* g = guards_; g != nullptr; g = g->outer) g->destroyed = true;
  guards_ = nullptr;
  close();
}

void RedisClient::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  core::close_owned(conn_timer_);
  core::close_owned(timeout_timer_);
  if (ctx_ != nullptr) detach_and_free();
  complete_all(RedisError::kClosed);
}

// --- connection ---

void RedisClient::start_connect() {
  state_ = State::kConnecting;
  redisAsyncContext* ac = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (ac == nullptr) return connect_failed("out of memory");
  if (ac->err != 0) {
    // Refused at once (a loopback connect can fail synchronously): nothing is attached yet.
    std::string reason = context_error(ac, "connect failed");
    redisAsyncFree(ac);
    return connect_failed(reason);
  }
  if (!attach_uv_poll(ac, loop_)) {
    redisAsyncFree(ac);
    return connect_failed("cannot poll the socket");
  }
  ac->data = this;
  redisAsyncSetConnectCallback(ac, on_connect_cb);
  redisAsyncSetDisconnectCallback(ac, on_disconnect_cb);
  ctx_ = ac;
  uv_timer_start(conn_timer_.get(), on_conn_timer, uint64_t(options_.connect_timeout.count()), 0);
}

void RedisClient::on_connect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self == nullptr) return;
  if (status == REDIS_OK) return self->connected_now();
  // hiredis frees the context when this returns.
  std::string reason = context_error(ac, "connect failed");
  self->ctx_->data = nullptr;
  self->ctx_ = nullptr;
  self->connect_failed(reason);
}

void RedisClient::connected_now() {
  uv_timer_stop(conn_timer_.get());
  state_ = State::kConnected;
  ++stats_.connects;
  backoff_ms_ = uint64_t(options_.reconnect_min.count());
  last_progress_ms_ = now_ms();
  spdlog::info("redis {}: connected{}", name_, ever_connected_ ? " again" : "");
  ever_connected_ = true;
  down_logged_ = false;
}

void RedisClient::connect_failed(const std::string& reason) {
  state_ = State::kWaiting;
  ++stats_.connect_failures;
  if (!down_logged_) {
    // Once per outage: the attempts that follow fail the same way.
    spdlog::warn("redis {}: cannot connect: {}; retrying every {} to {} ms", name_, reason,
                 options_.reconnect_min.count(), options_.reconnect_max.count());
    down_logged_ = true;
  } else {
    spdlog::debug("redis {}: cannot connect: {}", name_, reason);
  }
  wait_to_reconnect();
}

void RedisClient::wait_to_reconnect() {
  uv_timer_start(conn_timer_.get(), on_conn_timer, backoff_ms_, 0);
  backoff_ms_ = std::min(backoff_ms_ * 2, uint64_t(options_.reconnect_max.count()));
}

void RedisClient::on_conn_timer(uv_timer_t* timer) {
  auto* self = static_cast<RedisClient*>(timer->data);
  if (self->state_ == State::kConnecting) {
    self->detach_and_free();
    self->connect_failed("no connection within " +
                         std::to_string(self->options_.connect_timeout.count()) + " ms");
  } else if (self->state_ == State::kWaiting) {
    self->start_connect();
  }
}

void RedisClient::detach_and_free() {
  // Detached first, so the callbacks hiredis runs while freeing (a null reply for each
  // pending command, the disconnect callback) find no client and do nothing. Never called
  // from the connect or disconnect callback, where hiredis 0.14 would use the context after
  // a free; inside a reply callback hiredis defers the free until the callback returns.
  redisAsyncContext* ac = std::exchange(ctx_, nullptr);
  ac->data = nullptr;
  redisAsyncFree(ac);
}

void RedisClient::on_disconnect_cb(const redisAsyncContext* ac, int /*status*/) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self == nullptr) return;
  self->context_gone(context_error(ac, "closed by the server"));
}

void RedisClient::context_gone(const std::string& reason) {
  // hiredis is freeing the context itself (a read or write failed, the server closed).
  ctx_->data = nullptr;
  ctx_ = nullptr;
  ++stats_.disconnects;
  state_ = State::kWaiting;
  spdlog::warn("redis {}: connection lost: {}; reconnecting every {} to {} ms", name_, reason,
               options_.reconnect_min.count(), options_.reconnect_max.count());
  down_logged_ = true;
  wait_to_reconnect();
  complete_all(RedisError::kDisconnected);
}

void RedisClient::drop_connection(const std::string& reason) {
  ++stats_.disconnects;
  spdlog::warn("redis {}: {}; reconnecting every {} to {} ms", name_, reason,
               options_.reconnect_min.count(), options_.reconnect_max.count());
  down_logged_ = true;
  detach_and_free();
  state_ = State::kWaiting;
  wait_to_reconnect();
  complete_all(RedisError::kDisconnected);
}

// --- calls ---

RedisSubmit RedisClient::refuse(RedisError error) {
  if (error == RedisError::kBusy) {
    ++stats_.busy;
  } else {
    ++stats_.unavailable;
  }
  return {{}, error};
}

RedisSubmit RedisClient::command(std::span<const std::string_view> argv, ReplyHandler& handler) {
  ++stats_.calls;
  if (state_ != State::kConnected) return refuse(RedisError::kUnavailable);
  if (in_flight() >= slots_.size()) return refuse(RedisError::kBusy);
  argv_.clear();
  argv_len_.clear();
  for (std::string_view a : argv) {
    argv_.push_back(a.data());
    argv_len_.push_back(a.size());
  }
  Slot& s = slot(next_seq_);
  s.seq = next_seq_;
  s.script = -1;
  if (redisAsyncCommandArgv(ctx_, on_reply_cb, as_privdata(s.seq), int(argv_.size()), argv_.data(),
                            argv_len_.data()) != REDIS_OK) {
    return refuse(RedisError::kUnavailable);
  }
  return accept(s, handler);
}

int32_t RedisClient::script_index(const RedisScript& script) {
  for (size_t i = 0; i < scripts_.size(); ++i) {
    if (scripts_[i].sha1 == script.sha1()) return int32_t(i);
  }
  scripts_.push_back({script.sha1(), script.text()});
  return int32_t(scripts_.size() - 1);
}

RedisSubmit RedisClient::eval(const RedisScript& script, std::span<const std::string_view> keys,
                              std::span<const std::string_view> args, ReplyHandler& handler) {
  ++stats_.calls;
  if (state_ != State::kConnected) return refuse(RedisError::kUnavailable);
  if (in_flight() >= slots_.size()) return refuse(RedisError::kBusy);
  Slot& s = slot(next_seq_);
  s.seq = next_seq_;
  s.script = script_index(script);
  s.resent = false;
  s.numkeys = uint32_t(keys.size());
  s.args.clear();
  s.arg_lens.clear();
  for (auto part : {keys, args}) {
    for (std::string_view a : part) {
      s.args.append(a);
      s.arg_lens.push_back(uint32_t(a.size()));
    }
  }
  if (!send_eval(s, false)) return refuse(RedisError::kUnavailable);
  return accept(s, handler);
}

bool RedisClient::send_eval(const Slot& s, bool as_eval) {
  const KnownScript& script = scripts_[size_t(s.script)];
  auto [end, ec] = std::to_chars(numkeys_, numkeys_ + sizeof numkeys_, s.numkeys);
  argv_.clear();
  argv_len_.clear();
  auto push = [this](const char* p, size_t n) {
    argv_.push_back(p);
    argv_len_.push_back(n);
  };
  push(as_eval ? "EVAL" : "EVALSHA", as_eval ? 4 : 7);
  const std::string& body = as_eval ? script.text : script.sha1;
  push(body.data(), body.size());
  push(numkeys_, size_t(end - numkeys_));
  size_t offset = 0;
  for (uint32_t len : s.arg_lens) {
    push(s.args.data() + offset, len);
    offset += len;
  }
  return redisAsyncCommandArgv(ctx_, on_reply_cb, as_privdata(s.seq), int(argv_.size()),
                               argv_.data(), argv_len_.data()) == REDIS_OK;
}

RedisSubmit RedisClient::accept(Slot& s, ReplyHandler& handler) {
  uint64_t now = now_ms();
  s.handler = &handler;
  s.state = SlotState::kActive;
  s.deadline_ms = now + uint64_t(options_.command_timeout.count());
  if (head_seq_ == next_seq_) last_progress_ms_ = now;  // the stall clock starts now
  ++next_seq_;
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(timeout_timer_.get())) ||
      timer_due_ms_ > s.deadline_ms) {
    timer_due_ms_ = s.deadline_ms;
    uv_timer_start(timeout_timer_.get(), on_timeout_timer,
                   uint64_t(options_.command_timeout.count()), 0);
  }
  return {RedisTicket(s.seq), RedisError::kNone};
}

void RedisClient::cancel(RedisTicket ticket) {
  uint64_t seq = ticket.seq_;
  if (seq < head_seq_ || seq >= next_seq_) return;
  Slot& s = slot(seq);
  if (s.seq != seq || s.state != SlotState::kActive) return;
  s.state = SlotState::kAbandoned;
  s.handler = nullptr;
}

// --- replies ---

void RedisClient::on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (self == nullptr) return;  // detached: the client closed or moved on
  if (reply == nullptr) {
    // hiredis only passes no reply when it frees the context after an error.
    return self->context_gone(context_error(ac, "connection closed"));
  }
  self->on_reply(static_cast<redisReply*>(reply),
                 static_cast<uint64_t>(reinterpret_cast<uintptr_t>(privdata)));
}

void RedisClient::on_reply(redisReply* reply, uint64_t seq) {
  Slot& s = slot(seq);
  if (s.seq != seq || s.state == SlotState::kFree) return;
  last_progress_ms_ = now_ms();
  if (s.state == SlotState::kAbandoned) return release(s);  // a late or cancelled reply
  if (s.script >= 0 && !s.resent && is_noscript(reply)) {
    s.resent = true;
    ++stats_.script_loads;
    if (send_eval(s, true)) return;
    // Not sendable (the context is closing): the caller gets the NOSCRIPT error.
  }
  ReplyHandler* handler = s.handler;
  release(s);
  RedisError error = RedisError::kNone;
  if (reply->type == REDIS_REPLY_ERROR) {
    error = RedisError::kErrorReply;
    ++stats_.error_replies;
  } else {
    ++stats_.replies;
  }
  handler->on_redis_reply(reply, error);  // last: the handler may destroy the client
}

void RedisClient::release(Slot& s) {
  s.state = SlotState::kFree;
  s.handler = nullptr;
  while (head_seq_ < next_seq_ && slot(head_seq_).state == SlotState::kFree) ++head_seq_;
}

void RedisClient::complete_all(RedisError error) {
  LiveGuard guard(*this);
  while (head_seq_ < next_seq_) {
    Slot& s = slot(head_seq_++);
    ReplyHandler* handler = s.handler;
    bool active = s.state == SlotState::kActive;
    s.state = SlotState::kFree;
    s.handler = nullptr;
    if (!active) continue;
    if (error == RedisError::kClosed) {
      ++stats_.closed;
    } else {
      ++stats_.unavailable;
    }
    handler->on_redis_reply(nullptr, error);
    if (guard.destroyed) return;
  }
  timeout_cursor_ = head_seq_;
}

// --- time ---

bool RedisClient::expire_due() {
  LiveGuard guard(*this);
  uint64_t now = now_ms();
  while (true) {
    timeout_cursor_ = std::max(timeout_cursor_, head_seq_);
    if (timeout_cursor_ >= next_seq_) break;
    Slot& s = slot(timeout_cursor_);
    if (s.state != SlotState::kActive) {
      ++timeout_cursor_;
      continue;
    }
    // Deadlines grow with sequence numbers: the first one not due ends the scan.
    if (s.deadline_ms > now) break;
    ++timeout_cursor_;
    ReplyHandler* handler = s.handler;
    s.state = SlotState::kAbandoned;  // the reply, if it ever comes, is dropped
    s.handler = nullptr;
    ++stats_.timeouts;
    handler->on_redis_reply(nullptr, RedisError::kTimeout);
    if (guard.destroyed) return false;
  }
  return true;
}

bool RedisClient::stalled() const {
  return in_flight() > 0 &&
         now_ms() - last_progress_ms_ >= uint64_t(options_.stall_timeout.count());
}

void RedisClient::arm_timeout_timer() {
  if (!timeout_timer_) return;
  uint64_t due = UINT64_MAX;
  timeout_cursor_ = std::max(timeout_cursor_, head_seq_);
  while (timeout_cursor_ < next_seq_) {
    const Slot& s = slot(timeout_cursor_);
    if (s.state == SlotState::kActive) {
      due = s.deadline_ms;
      break;
    }
    ++timeout_cursor_;
  }
  if (state_ == State::kConnected && in_flight() > 0) {
    due = std::min(due, last_progress_ms_ + uint64_t(options_.stall_timeout.count()));
  }
  if (due == UINT64_MAX) {
    uv_timer_stop(timeout_timer_.get());
    return;
  }
  uint64_t now = now_ms();
  timer_due_ms_ = due;
  uv_timer_start(timeout_timer_.get(), on_timeout_timer, due > now ? due - now : 0, 0);
}

void RedisClient::on_timeout_timer(uv_timer_t* timer) {
  auto* self = static_cast<RedisClient*>(timer->data);
  if (!self->expire_due()) return;
  if (self->state_ == State::kConnected && self->stalled()) {
    return self->drop_connection("no reply for " +
                                 std::to_string(self->options_.stall_timeout.count()) + " ms");
  }
  self->arm_timeout_timer();
}

}  // namespace portico::redis
