// An asynchronous Redis client for one worker loop (hiredis, driven by UvRedisPoll): one
// connection, pipelined commands, and a reconnect with backoff when the connection fails. Never
// blocks the loop and never queues while disconnected: a call then fails at once, so a request
// never waits on Redis being away. Not thread-safe: create, use, close and destroy it on its loop's
// thread.
//
// Guarantees, for a call that was accepted (RedisSubmit::accepted()):
// - its handler is called exactly once — reply, error reply, timeout, lost connection, or
//   close — unless the call is cancelled first; after cancel() it is never called;
// - never from inside the call itself: refusals (kUnavailable, kBusy) are only returned;
// - from the loop (a reply, a timer, a lost connection) or from inside close() and the
//   destructor, which complete every outstanding call with kClosed before returning.
// A reply arriving after its call timed out or was cancelled is read and dropped.
// A handler may call, cancel, close() or destroy the client.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis/RedisError.h"
#include "redis/RedisScript.h"

struct redisAsyncContext;
struct redisReply;

namespace portico::redis {

class ReplyHandler {
 public:
  // `reply` is set for kNone and kErrorReply (null otherwise) and lives only during this call:
  // hiredis frees it afterwards.
  virtual void on_redis_reply(const redisReply* reply, RedisError error) = 0;

 protected:
  ~ReplyHandler() = default;
};

struct RedisOptions {
  // A numeric IPv4/IPv6 address: hiredis would resolve a name with a blocking getaddrinfo.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{50};
  // Wait before reconnecting: `reconnect_min` after a failure, doubling up to `reconnect_max`
  // while attempts keep failing; back to `reconnect_min` once connected.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{2000};
  // A connection that has answered nothing for this long while commands wait for a reply is
  // dropped and reconnected: otherwise a peer that vanished without a reset (or a hung
  // server) would hold every slot until TCP gives up, and each call would fail as kBusy.
  std::chrono::milliseconds stall_timeout{1000};
  // Commands sent and not yet answered, including those whose caller gave up (timeout,
  // cancel) but whose reply is still due: this bounds both memory and the pipeline's depth.
  uint32_t max_in_flight = 1024;
};

// Names one accepted call for cancel(). A default ticket names none; a stale ticket (the call
// finished) is ignored by cancel().
class RedisTicket {
 public:
  RedisTicket() = default;
  explicit operator bool() const { return seq_ != 0; }

 private:
  friend class RedisClient;
  explicit RedisTicket(uint64_t seq) : seq_(seq) {}
  uint64_t seq_ = 0;
};

struct RedisSubmit {
  RedisTicket ticket;
  RedisError error = RedisError::kNone;  // kNone: accepted; else kUnavailable or kBusy
  bool accepted() const { return error == RedisError::kNone; }
};

// Plain counters, read on the loop's thread.
struct RedisClientStats {
  uint64_t calls = 0;          // every command()/eval(), refused ones included
  uint64_t replies = 0;        // delivered replies that were not errors
  uint64_t error_replies = 0;  // delivered error replies
  uint64_t timeouts = 0;
  uint64_t unavailable = 0;  // refused while not connected, or lost with the connection
  uint64_t busy = 0;         // refused at max_in_flight
  uint64_t closed = 0;       // completed by close()
  uint64_t connects = 0;     // successful connections; reconnects = connects - 1
  uint64_t connect_failures = 0;
  uint64_t disconnects = 0;   // established connections lost or dropped (stalled)
  uint64_t script_loads = 0;  // EVALSHA answered NOSCRIPT and resent as EVAL
};

class RedisClient {
 public:
  // Starts connecting at once. Throws std::invalid_argument when `host` is not a numeric
  // address or a limit is zero.
  RedisClient(uv_loop_t* loop, RedisOptions options);
  // close(), then frees what is left to libuv: run the loop afterwards until its handles
  // are closed (hiredis' poll handle and the client's timers close asynchronously).
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // argv[0] is the command name. The strings are copied before the call returns.
  RedisSubmit command(std::span<const std::string_view> argv, ReplyHandler& handler);
  // EVALSHA of `script`; when Redis answers NOSCRIPT (a restart, SCRIPT FLUSH, a new
  // server) it is resent once as EVAL, which also caches it: the handler sees one reply.
  // The client keeps its own copy of each script it has seen, so `script` need not outlive
  // the call.
  RedisSubmit eval(const RedisScript& script, std::span<const std::string_view> keys,
                   std::span<const std::string_view> args, ReplyHandler& handler);
  // The handler of `ticket` will not be called. The command stays in the pipeline (its
  // slot is counted in max_in_flight) until its reply is read and dropped.
  void cancel(RedisTicket ticket);

  // Disconnects for good: outstanding calls complete with kClosed (before this returns),
  // later calls are refused with kUnavailable. Idempotent.
  void close();

  bool connected() const { return state_ == State::kConnected; }
  uint32_t in_flight() const { return static_cast<uint32_t>(next_seq_ - head_seq_); }
  const RedisClientStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }  // "host:port", for logs

 private:
  enum class State : uint8_t { kConnecting, kConnected, kWaiting, kClosed };
  enum class SlotState : uint8_t { kFree, kActive, kAbandoned };

  // One command sent and not yet answered. Slots form a ring indexed by sequence number;
  // replies come back in order, except a NOSCRIPT resend, so the ring may have holes.
  struct Slot {
    uint64_t seq = 0;
    uint64_t deadline_ms = 0;  // uv_now() time
    ReplyHandler* handler = nullptr;
    SlotState state = SlotState::kFree;
    bool resent = false;
    int32_t script = -1;  // index into scripts_ for eval(); -1 for command()
    uint32_t numkeys = 0;
    // eval()'s keys then args, kept for a resend as EVAL. Capacity is reused, so steady
    // state allocates nothing.
    std::string args;
    std::vector<uint32_t> arg_lens;
  };

  struct KnownScript {
    std::string sha1;
    std::string text;
  };

  // Lets code that calls out to a handler learn whether the handler destroyed the client.
  struct LiveGuard {
    explicit LiveGuard(RedisClient& client);
    ~LiveGuard();
    RedisClient& client;
    LiveGuard* outer;
    bool destroyed = false;
  };

  static void on_connect_cb(const redisAsyncContext* ac, int status);
  static void on_disconnect_cb(const redisAsyncContext* ac, int status);
  static void on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_conn_timer(uv_timer_t* timer);
  static void on_timeout_timer(uv_timer_t* timer);

  void start_connect();
  void connected_now();
  void connect_failed(const std::string& reason);
  void detach_and_free();
  void drop_connection(const std::string& reason);
  void context_gone(const std::string& reason);
  void wait_to_reconnect();
  RedisSubmit refuse(RedisError error);
  RedisSubmit accept(Slot& slot, ReplyHandler& handler);
  bool send_eval(const Slot& slot, bool as_eval);
  int32_t script_index(const RedisScript& script);
  void on_reply(redisReply* reply, uint64_t seq);
  bool expire_due();
  void arm_timeout_timer();
  bool stalled() const;
  void release(Slot& slot);
  void complete_all(RedisError error);
  Slot& slot(uint64_t seq) { return slots_[seq % slots_.size()]; }
  uint64_t now_ms() const { return uv_now(loop_); }

  uv_loop_t* loop_;
  RedisOptions options_;
  std::string name_;
  State state_ = State::kWaiting;
  redisAsyncContext* ctx_ = nullptr;  // set while connecting or connected
  // Connect timeout while connecting, backoff while waiting; one handle for both.
  std::unique_ptr<uv_timer_t> conn_timer_;
  std::unique_ptr<uv_timer_t> timeout_timer_;  // the earliest command deadline, or a stall
  uint64_t timer_due_ms_ = 0;
  uint64_t backoff_ms_ = 0;
  bool down_logged_ = false;  // the current outage has been logged
  bool ever_connected_ = false;

  std::vector<Slot> slots_;
  uint64_t head_seq_ = 1;        // oldest slot not yet released
  uint64_t next_seq_ = 1;        // the next call's
  uint64_t timeout_cursor_ = 1;  // slots before it have had their deadline handled
  uint64_t last_progress_ms_ = 0;

  std::vector<KnownScript> scripts_;
  std::vector<const char*> argv_;  // scratch for hiredis' argv form
  std::vector<size_t> argv_len_;
  char numkeys_[12];

  LiveGuard* guards_ = nullptr;
  RedisClientStats stats_;
};

}  // namespace portico::redis
