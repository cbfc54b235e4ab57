// RedisClient and the Redis token bucket against a real redis-server started by each test
// (tests/integration/harness/RedisServer.h), on real libuv loops. Every wait is a loop run
// until an event (a reply, a connection) with a deadline timer as the bound; the only timed
// waits are those that let a token bucket refill.
#include "redis/RedisClient.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "filters/rate_limit/RedisBucketScript.h"
#include "harness/RedisServer.h"
#include "redis/RedisScript.h"
#include "redis/Sha1.h"

namespace portico::redis {
namespace {

using namespace std::chrono_literals;
using filters::BucketDecision;
using filters::BucketLimit;
using filters::RedisBucketArgs;
using filters::RedisBucketScript;
using Clock = std::chrono::steady_clock;

// A loop that must end with every handle closed: the client's timers and hiredis' poll
// handle are closed asynchronously, so a leak or a use after free shows here (and in ASan).
class Loop {
 public:
  Loop() { uv_loop_init(&loop_); }
  ~Loop() {
    for (int i = 0; i < 100 && uv_loop_alive(&loop_); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open on the loop";
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` holds or `budget` passes; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds budget = 5s) {
    if (done()) return true;
    bool expired = false;
    uv_timer_t guard;
    uv_timer_init(&loop_, &guard);
    guard.data = &expired;
    uv_timer_start(
        &guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
        uint64_t(budget.count()), 0);
    while (!done() && !expired) uv_run(&loop_, UV_RUN_ONCE);
    bool closed = false;
    guard.data = &closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&guard),
             [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
    while (!closed) uv_run(&loop_, UV_RUN_NOWAIT);
    return done();
  }

  // Lets `ms` pass with the loop running.
  void run_for(std::chrono::milliseconds ms) {
    bool passed = false;
    uv_timer_t timer;
    uv_timer_init(&loop_, &timer);
    timer.data = &passed;
    uv_timer_start(
        &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, uint64_t(ms.count()),
        0);
    while (!passed) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

 private:
  uv_loop_t loop_;
};

// Records what a handler was called with.
class Recorder : public ReplyHandler {
 public:
  void on_redis_reply(const redisReply* reply, RedisError error) override {
    ++calls;
    last_error = error;
    text.clear();
    integer = 0;
    parsed = false;
    if (reply != nullptr) {
      type = reply->type;
      if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
          reply->type == REDIS_REPLY_ERROR) {
        text.assign(reply->str, reply->len);
      }
      if (reply->type == REDIS_REPLY_INTEGER) integer = reply->integer;
      parsed = RedisBucketScript::parse(reply, &decision);
    }
    if (then) then(error);
  }

  int calls = 0;
  RedisError last_error = RedisError::kNone;
  int type = 0;
  std::string text;
  long long integer = 0;
  bool parsed = false;
  BucketDecision decision;
  std::function<void(RedisError)> then;  // runs inside the handler
};

RedisOptions options_for(const it::RedisServer& server) {
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.command_timeout = 50ms;
  o.connect_timeout = 500ms;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  o.max_in_flight = 64;
  return o;
}

struct Started {
  it::RedisServer server;
  Started() {
    std::string error;
    EXPECT_TRUE(server.Start(&error)) << error;
  }
};

RedisSubmit ping(RedisClient& client, ReplyHandler& handler) {
  std::string_view argv[] = {"PING"};
  return client.command(argv, handler);
}

RedisSubmit take(RedisClient& client, const RedisBucketScript& script, const RedisBucketArgs& args,
                 const std::string& key, ReplyHandler& handler) {
  std::string_view keys[] = {key};
  return client.eval(script.script(), keys, args.argv(), handler);
}

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // 56 bytes: the length no longer fits in the first padded block.
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(RedisBucketScript, KeyAndArgs) {
  EXPECT_EQ(RedisBucketScript::key("portico:rl:", "api", "10.0.0.7"), "portico:rl:api:10.0.0.7");
  RedisBucketArgs args(BucketLimit{100, 10});
  EXPECT_EQ(args.argv()[0], "100");
  EXPECT_EQ(args.argv()[1], "10");
  RedisBucketArgs fractional(BucketLimit{0.5, 2.25});
  EXPECT_EQ(fractional.argv()[0], "0.5");
  EXPECT_EQ(fractional.argv()[1], "2.25");
}

TEST(RedisBucketScript, ParseRejectsMalformedReplies) {
  redisReply allowed{}, left{}, retry{};
  allowed.type = REDIS_REPLY_INTEGER;
  allowed.integer = 1;
  char text[] = "8.5";
  left.type = REDIS_REPLY_STRING;
  left.str = text;
  left.len = 3;
  retry.type = REDIS_REPLY_INTEGER;
  retry.integer = 0;
  redisReply* elements[] = {&allowed, &left, &retry};
  redisReply array{};
  array.type = REDIS_REPLY_ARRAY;
  array.elements = 3;
  array.element = elements;

  BucketDecision d;
  ASSERT_TRUE(RedisBucketScript::parse(&array, &d));
  EXPECT_TRUE(d.allowed);
  EXPECT_DOUBLE_EQ(d.remaining, 8.5);
  EXPECT_EQ(d.retry_after_ms, 0u);

  BucketDecision untouched{true, 42, 7};
  left.len = 2;
  text[1] = 'x';  // "8x"
  EXPECT_FALSE(RedisBucketScript::parse(&array, &untouched));
  text[1] = '.';
  left.len = 3;
  allowed.integer = 2;
  EXPECT_FALSE(RedisBucketScript::parse(&array, &untouched));
  allowed.integer = 0;
  retry.integer = -1;
  EXPECT_FALSE(RedisBucketScript::parse(&array, &untouched));
  retry.integer = 5;
  array.elements = 2;
  EXPECT_FALSE(RedisBucketScript::parse(&array, &untouched));
  array.elements = 3;
  array.type = REDIS_REPLY_ERROR;
  EXPECT_FALSE(RedisBucketScript::parse(&array, &untouched));
  EXPECT_FALSE(RedisBucketScript::parse(nullptr, &untouched));
  EXPECT_TRUE(untouched.allowed);
  EXPECT_EQ(untouched.retry_after_ms, 7u);
}

TEST(RedisClient, RejectsANameForHost) {
  Loop loop;
  RedisOptions o;
  o.host = "localhost";  // would need a blocking getaddrinfo inside hiredis
  EXPECT_THROW(RedisClient(loop.get(), o), std::invalid_argument);
}

TEST(RedisClient, BucketScriptDecidesOnRealRedis) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));

  RedisBucketScript script;
  // Redis names the script as we do.
  EXPECT_EQ(s.server.Command({"SCRIPT", "LOAD", script.script().text()}), script.script().sha1());

  RedisBucketArgs args(BucketLimit{100, 10});
  std::string key = RedisBucketScript::key("portico:rl:", "t", "client-a");
  std::vector<Recorder> rec(11);
  // Pipelined in one loop turn: Redis runs them back to back, far quicker than one refill
  // (10 ms at 100/s).
  for (auto& r : rec) ASSERT_TRUE(take(client, script, args, key, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return rec.back().calls == 1; }));
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(rec[i].calls, 1);
    ASSERT_EQ(rec[i].last_error, RedisError::kNone) << rec[i].text;
    ASSERT_TRUE(rec[i].parsed);
    EXPECT_TRUE(rec[i].decision.allowed) << i;
    EXPECT_NEAR(rec[i].decision.remaining, 9 - i, 0.5) << i;
  }
  ASSERT_TRUE(rec[10].parsed);
  EXPECT_FALSE(rec[10].decision.allowed);
  EXPECT_GE(rec[10].decision.retry_after_ms, 1u);
  EXPECT_LE(rec[10].decision.retry_after_ms, 10u);

  // The key expires about when it would be full again (+1 s slack): at most 100 ms + 1 s.
  long long pttl = std::stoll(s.server.Command({"PTTL", key}));
  EXPECT_GT(pttl, 900);
  EXPECT_LE(pttl, 1100);
  EXPECT_EQ(client.stats().calls, 11u);
  EXPECT_EQ(client.stats().replies, 11u);
}

TEST(RedisClient, BucketRefillsWithTime) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  RedisBucketScript script;
  RedisBucketArgs args(BucketLimit{20, 2});  // a token every 50 ms
  std::string key = RedisBucketScript::key("portico:rl:", "t", "refill");

  std::vector<Recorder> rec(3);
  for (auto& r : rec) ASSERT_TRUE(take(client, script, args, key, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return rec[2].calls == 1; }));
  ASSERT_TRUE(rec[2].parsed);
  ASSERT_TRUE(rec[0].decision.allowed && rec[1].decision.allowed);
  ASSERT_FALSE(rec[2].decision.allowed);
  uint64_t retry = rec[2].decision.retry_after_ms;
  EXPECT_GE(retry, 1u);
  EXPECT_LE(retry, 50u);

  loop.run_for(std::chrono::milliseconds(retry + 5));
  Recorder again;
  ASSERT_TRUE(take(client, script, args, key, again).accepted());
  ASSERT_TRUE(loop.run_until([&] { return again.calls == 1; }));
  ASSERT_TRUE(again.parsed) << again.text;
  EXPECT_TRUE(again.decision.allowed);
  EXPECT_LT(again.decision.remaining, 1);
}

TEST(RedisClient, TwoClientsOnTwoThreadsShareOneLimit) {
  Started s;
  RedisBucketScript script;
  RedisBucketArgs args(BucketLimit{0.001, 20});  // no refill to speak of during the test
  std::string key = RedisBucketScript::key("portico:rl:", "t", "shared");
  RedisOptions options = options_for(s.server);
  options.command_timeout = 2000ms;  // correctness here, not latency (sanitizer builds)

  // Neither thread closes its loop until both are done. libuv closes its descriptors with
  // a raw close system call, which ThreadSanitizer does not see: a descriptor number one
  // thread frees and the other is then given (its epoll fd) would look like a race.
  std::latch both_done(2);
  struct WaitForBoth {
    std::latch& latch;
    ~WaitForBoth() { latch.arrive_and_wait(); }
  };
  auto worker = [&](int* allowed, int* answered) {
    Loop loop;
    RedisClient client(loop.get(), options);
    WaitForBoth wait{both_done};  // destroyed first, on every way out
    if (!loop.run_until([&] { return client.connected(); })) return;
    std::vector<Recorder> rec(15);
    for (auto& r : rec) {
      if (!take(client, script, args, key, r).accepted()) return;
    }
    loop.run_until([&] { return rec.back().calls == 1; });
    for (auto& r : rec) {
      if (r.calls == 1 && r.parsed) {
        ++*answered;
        *allowed += r.decision.allowed ? 1 : 0;
      }
    }
  };
  int allowed[2] = {0, 0};
  int answered[2] = {0, 0};
  // spdlog's registry is a function-local static in the (uninstrumented) shared library:
  // made here, before both threads log "connected" at once, as Portico's main thread makes
  // it before any worker starts; ThreadSanitizer cannot see that library's guard.
  spdlog::default_logger();
  std::thread a(worker, &allowed[0], &answered[0]);
  std::thread b(worker, &allowed[1], &answered[1]);
  a.join();
  b.join();
  EXPECT_EQ(answered[0], 15);
  EXPECT_EQ(answered[1], 15);
  EXPECT_EQ(allowed[0] + allowed[1], 20);
}

TEST(RedisClient, NoscriptIsResentAsEvalTransparently) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  RedisBucketScript script;
  RedisBucketArgs args(BucketLimit{100, 10});
  std::string key = "portico:rl:t:noscript";

  auto decide = [&] {
    Recorder r;
    EXPECT_TRUE(take(client, script, args, key, r).accepted());
    EXPECT_TRUE(loop.run_until([&] { return r.calls == 1; }));
    EXPECT_EQ(r.last_error, RedisError::kNone) << r.text;
    EXPECT_TRUE(r.parsed) << r.text;
    EXPECT_TRUE(r.decision.allowed);
  };
  decide();  // a fresh server has never seen the script
  EXPECT_EQ(client.stats().script_loads, 1u);
  decide();  // EVAL cached it
  EXPECT_EQ(client.stats().script_loads, 1u);
  ASSERT_EQ(s.server.Command({"SCRIPT", "FLUSH"}), "OK");
  decide();
  EXPECT_EQ(client.stats().script_loads, 2u);
  EXPECT_EQ(client.stats().error_replies, 0u);
}

TEST(RedisClient, ErrorRepliesAreDeliveredAsSuch) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  Recorder r;
  std::string_view argv[] = {"NOSUCHCOMMAND", "x"};
  ASSERT_TRUE(client.command(argv, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return r.calls == 1; }));
  EXPECT_EQ(r.last_error, RedisError::kErrorReply);
  EXPECT_EQ(r.type, REDIS_REPLY_ERROR);
  EXPECT_NE(r.text.find("unknown command"), std::string::npos) << r.text;
  EXPECT_EQ(client.stats().error_replies, 1u);
}

TEST(RedisClient, FailsFastUntilRedisStartsThenConnectsByItself) {
  it::RedisServer server;  // not started yet
  Loop loop;
  auto start = Clock::now();
  RedisClient client(loop.get(), options_for(server));
  ASSERT_TRUE(loop.run_until([&] { return client.stats().connect_failures >= 2; }));
  EXPECT_FALSE(client.connected());
  // Refusals are seen as they happen, not after connect_timeout (500 ms): two of them take
  // one 20 ms backoff.
  EXPECT_LT(Clock::now() - start, 400ms);

  Recorder r;
  RedisSubmit refused = ping(client, r);
  EXPECT_EQ(refused.error, RedisError::kUnavailable);
  EXPECT_FALSE(refused.ticket);
  loop.run_for(10ms);
  EXPECT_EQ(r.calls, 0);  // a refusal is only returned, never delivered

  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  // reconnect_max is 200 ms.
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }, 3s));
  ASSERT_TRUE(ping(client, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return r.calls == 1; }));
  EXPECT_EQ(r.last_error, RedisError::kNone);
  EXPECT_EQ(r.text, "PONG");
  EXPECT_EQ(client.stats().connects, 1u);
  EXPECT_GE(client.stats().unavailable, 1u);
}

TEST(RedisClient, PausedRedisTimesOutThenTheLateReplyIsDropped) {
  Started s;
  Loop loop;
  RedisOptions options = options_for(s.server);
  options.stall_timeout = 10s;  // not this test's subject
  RedisClient client(loop.get(), options);
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));

  ASSERT_TRUE(s.server.Pause());
  Recorder r;
  auto start = Clock::now();
  ASSERT_TRUE(ping(client, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return r.calls == 1; }));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_EQ(r.last_error, RedisError::kTimeout);
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 500ms);
  EXPECT_EQ(client.in_flight(), 1u);  // the reply is still due

  ASSERT_TRUE(s.server.Resume());
  ASSERT_TRUE(loop.run_until([&] { return client.in_flight() == 0; }));
  EXPECT_EQ(r.calls, 1);  // the late PONG was read and dropped
  EXPECT_EQ(client.stats().timeouts, 1u);
  EXPECT_EQ(client.stats().replies, 0u);

  Recorder after;
  ASSERT_TRUE(ping(client, after).accepted());
  ASSERT_TRUE(loop.run_until([&] { return after.calls == 1; }));
  EXPECT_EQ(after.text, "PONG");
}

TEST(RedisClient, KilledRedisFailsCallsThenReconnectsAfterRestart) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));

  ASSERT_TRUE(s.server.Pause());
  Recorder pending;
  ASSERT_TRUE(ping(client, pending).accepted());
  s.server.Kill();
  // Either the reset or the 50 ms timeout comes first; both are an answer.
  ASSERT_TRUE(loop.run_until([&] { return pending.calls == 1; }));
  EXPECT_TRUE(pending.last_error == RedisError::kDisconnected ||
              pending.last_error == RedisError::kTimeout)
      << to_string(pending.last_error);
  ASSERT_TRUE(loop.run_until([&] { return !client.connected(); }));
  EXPECT_EQ(client.stats().disconnects, 1u);
  EXPECT_EQ(client.in_flight(), 0u);

  Recorder refused;
  EXPECT_EQ(ping(client, refused).error, RedisError::kUnavailable);

  std::string error;
  ASSERT_TRUE(s.server.Start(&error)) << error;  // same port
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }, 3s));
  Recorder after;
  ASSERT_TRUE(ping(client, after).accepted());
  ASSERT_TRUE(loop.run_until([&] { return after.calls == 1; }));
  EXPECT_EQ(after.text, "PONG");
  EXPECT_EQ(client.stats().connects, 2u);
  EXPECT_EQ(refused.calls, 0);
}

TEST(RedisClient, StalledConnectionIsDroppedAndReplaced) {
  Started s;
  Loop loop;
  RedisOptions options = options_for(s.server);
  options.stall_timeout = 200ms;
  RedisClient client(loop.get(), options);
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  ASSERT_TRUE(s.server.Pause());
  Recorder r;
  ASSERT_TRUE(ping(client, r).accepted());
  ASSERT_TRUE(loop.run_until([&] { return client.stats().disconnects == 1; }));
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(r.last_error, RedisError::kTimeout);
  EXPECT_EQ(client.in_flight(), 0u);
  ASSERT_TRUE(s.server.Resume());
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }, 3s));
  Recorder after;
  ASSERT_TRUE(ping(client, after).accepted());
  ASSERT_TRUE(loop.run_until([&] { return after.calls == 1; }));
  EXPECT_EQ(after.text, "PONG");
}

TEST(RedisClient, MaxInFlightFailsFastAndCancelledSlotsWaitForTheirReply) {
  Started s;
  Loop loop;
  RedisOptions options = options_for(s.server);
  options.max_in_flight = 2;
  options.command_timeout = 5s;
  RedisClient client(loop.get(), options);
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  ASSERT_TRUE(s.server.Pause());

  Recorder a, b, c;
  RedisSubmit first = ping(client, a);
  ASSERT_TRUE(first.accepted());
  ASSERT_TRUE(ping(client, b).accepted());
  EXPECT_EQ(ping(client, c).error, RedisError::kBusy);
  client.cancel(first.ticket);
  EXPECT_EQ(ping(client, c).error, RedisError::kBusy);  // its reply is still due
  EXPECT_EQ(client.stats().busy, 2u);

  ASSERT_TRUE(s.server.Resume());
  ASSERT_TRUE(loop.run_until([&] { return b.calls == 1; }));
  ASSERT_TRUE(loop.run_until([&] { return client.in_flight() == 0; }));
  EXPECT_EQ(a.calls, 0);        // cancelled
  EXPECT_EQ(c.calls, 0);        // refused
  client.cancel(first.ticket);  // stale: ignored
  ASSERT_TRUE(ping(client, c).accepted());
  ASSERT_TRUE(loop.run_until([&] { return c.calls == 1; }));
  EXPECT_EQ(c.text, "PONG");
}

TEST(RedisClient, DestroyedWithCallsInFlight) {
  Started s;
  Loop loop;
  auto client = std::make_unique<RedisClient>(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client->connected(); }));
  ASSERT_TRUE(s.server.Pause());
  Recorder kept, cancelled;
  ASSERT_TRUE(ping(*client, kept).accepted());
  RedisSubmit gone = ping(*client, cancelled);
  ASSERT_TRUE(gone.accepted());
  client->cancel(gone.ticket);
  // A handler completed by close() may call the client again: it is refused.
  RedisError again = RedisError::kNone;
  kept.then = [&](RedisError) {
    Recorder unused;
    again = ping(*client, unused).error;
  };
  client->close();
  EXPECT_EQ(kept.calls, 1);
  kept.then = nullptr;
  client.reset();
  EXPECT_EQ(kept.calls, 1);
  EXPECT_EQ(kept.last_error, RedisError::kClosed);
  EXPECT_EQ(again, RedisError::kUnavailable);
  EXPECT_EQ(cancelled.calls, 0);
  ASSERT_TRUE(s.server.Resume());
  loop.run_for(20ms);  // the loop keeps running with nothing of the client left
  EXPECT_EQ(kept.calls, 1);
  EXPECT_EQ(cancelled.calls, 0);
}

TEST(RedisClient, DestroyedMidConnect) {
  Started s;
  Loop loop;
  for (int i = 0; i < 3; ++i) {
    auto client = std::make_unique<RedisClient>(loop.get(), options_for(s.server));
    EXPECT_FALSE(client->connected());
    if (i == 1) uv_run(loop.get(), UV_RUN_NOWAIT);
    client.reset();
  }
}

TEST(RedisClient, DestroyedInsideAReplyHandlerWithMoreRepliesPending) {
  Started s;
  Loop loop;
  auto client = std::make_unique<RedisClient>(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client->connected(); }));
  Recorder first, second, third;
  first.then = [&](RedisError) { client.reset(); };
  ASSERT_TRUE(ping(*client, first).accepted());
  ASSERT_TRUE(ping(*client, second).accepted());
  ASSERT_TRUE(ping(*client, third).accepted());
  ASSERT_TRUE(loop.run_until([&] { return first.calls == 1; }));
  EXPECT_EQ(first.last_error, RedisError::kNone);
  EXPECT_EQ(client, nullptr);
  // The others were outstanding when the client went: completed as closed, once.
  EXPECT_EQ(second.calls, 1);
  EXPECT_EQ(second.last_error, RedisError::kClosed);
  EXPECT_EQ(third.calls, 1);
  EXPECT_EQ(third.last_error, RedisError::kClosed);
}

TEST(RedisClient, ClosedInsideATimeoutHandler) {
  Started s;
  Loop loop;
  RedisClient client(loop.get(), options_for(s.server));
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  ASSERT_TRUE(s.server.Pause());
  Recorder a, b;
  a.then = [&](RedisError) { client.close(); };
  ASSERT_TRUE(ping(client, a).accepted());
  ASSERT_TRUE(ping(client, b).accepted());
  ASSERT_TRUE(loop.run_until([&] { return b.calls == 1; }));
  EXPECT_EQ(a.last_error, RedisError::kTimeout);
  // b's deadline is the same or a millisecond later: it timed out too, or close() got it.
  EXPECT_TRUE(b.last_error == RedisError::kClosed || b.last_error == RedisError::kTimeout);
  EXPECT_FALSE(client.connected());
  Recorder c;
  EXPECT_EQ(ping(client, c).error, RedisError::kUnavailable);
  ASSERT_TRUE(s.server.Resume());
}

TEST(RedisClient, DestroyedInsideADisconnectHandler) {
  Started s;
  Loop loop;
  RedisOptions options = options_for(s.server);
  options.command_timeout = 5s;
  auto client = std::make_unique<RedisClient>(loop.get(), options);
  ASSERT_TRUE(loop.run_until([&] { return client->connected(); }));
  Recorder a, b;
  a.then = [&](RedisError) { client.reset(); };
  std::string_view block[] = {"BLPOP", "nothing-here", "0"};  // answers nothing until killed
  ASSERT_TRUE(client->command(block, a).accepted());
  ASSERT_TRUE(client->command(block, b).accepted());
  s.server.Kill();
  ASSERT_TRUE(loop.run_until([&] { return a.calls == 1; }));
  EXPECT_EQ(a.last_error, RedisError::kDisconnected);
  EXPECT_EQ(client, nullptr);
  EXPECT_EQ(b.calls, 1);  // completed by the destructor's close()
  EXPECT_EQ(b.last_error, RedisError::kClosed);
}

}  // namespace
}  // namespace portico::redis
