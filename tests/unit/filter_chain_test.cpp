// FilterChain's rules: request hooks in order until one answers or pauses, response hooks
// in reverse over the filters that ran, on_done once each, a paused filter cancelled when
// the exchange ends before it resumes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filters/FilterChain.h"

namespace portico::filters {
namespace {

class Host final : public FilterHost {
 public:
  void resume_filters(Verdict) override {}
};

// Records every hook call as "name.hook" in a shared log.
class Recording final : public Filter {
 public:
  Recording(std::string name, std::vector<std::string>& log, Verdict verdict = Verdict::Continue)
      : name_(std::move(name)), log_(log), verdict_(verdict) {}

  Verdict on_request(FilterContext& ctx) const override {
    log_.push_back(name_ + ".request");
    ctx.slot().a = 7;
    if (verdict_ == Verdict::Respond) ctx.respond(429, "no");
    return verdict_;
  }
  void on_response(FilterContext& ctx, int status) const override {
    log_.push_back(name_ + ".response " + std::to_string(status));
    ctx.add_response_header("x-" + name_, "1");
  }
  void on_done(FilterContext& ctx) const override {
    // Each filter sees its own slot.
    log_.push_back(name_ + ".done " + std::to_string(ctx.slot().a));
  }
  void on_cancel(FilterContext&) const override { log_.push_back(name_ + ".cancel"); }

 private:
  std::string name_;
  std::vector<std::string>& log_;
  Verdict verdict_;
};

using Log = std::vector<std::string>;

TEST(FilterChain, RequestHooksInOrderResponseHooksInReverseDoneOnce) {
  Log log;
  FilterChain chain({std::make_shared<Recording>("a", log), std::make_shared<Recording>("b", log)});
  Host host;
  FilterContext ctx;
  ctx.reset(&host);
  EXPECT_EQ(chain.run_request(ctx), Verdict::Continue);
  chain.run_response(ctx, 200);
  chain.run_done(ctx);
  chain.run_done(ctx);  // a second call changes nothing
  EXPECT_EQ(log, (Log{"a.request", "b.request", "b.response 200", "a.response 200", "b.done 7",
                      "a.done 7"}));
  EXPECT_EQ(ctx.response_headers(), "x-b: 1\r\nx-a: 1\r\n");
}

TEST(FilterChain, AnAnswerStopsTheRequestHooksAndOnlyThoseThatRanSeeTheRest) {
  Log log;
  FilterChain chain({std::make_shared<Recording>("a", log),
                     std::make_shared<Recording>("limit", log, Verdict::Respond),
                     std::make_shared<Recording>("c", log)});
  Host host;
  FilterContext ctx;
  ctx.reset(&host);
  EXPECT_EQ(chain.run_request(ctx), Verdict::Respond);
  EXPECT_EQ(ctx.local_status(), 429);
  EXPECT_EQ(ctx.local_body(), "no");
  chain.run_response(ctx, 429);
  chain.run_done(ctx);
  EXPECT_EQ(log, (Log{"a.request", "limit.request", "limit.response 429", "a.response 429",
                      "limit.done 7", "a.done 7"}));
}

TEST(FilterChain, APausedRequestResumesAfterTheFilterThatPausedIt) {
  Log log;
  FilterChain chain({std::make_shared<Recording>("async", log, Verdict::Pause),
                     std::make_shared<Recording>("b", log)});
  Host host;
  FilterContext ctx;
  ctx.reset(&host);
  EXPECT_EQ(chain.run_request(ctx), Verdict::Pause);
  EXPECT_TRUE(ctx.paused());
  EXPECT_EQ(chain.resume(ctx, Verdict::Continue), Verdict::Continue);
  EXPECT_FALSE(ctx.paused());
  chain.run_done(ctx);
  EXPECT_EQ(log, (Log{"async.request", "b.request", "b.done 7", "async.done 7"}));
}

TEST(FilterChain, AResumedAnswerSkipsTheRest) {
  Log log;
  FilterChain chain({std::make_shared<Recording>("async", log, Verdict::Pause),
                     std::make_shared<Recording>("b", log)});
  Host host;
  FilterContext ctx;
  ctx.reset(&host);
  EXPECT_EQ(chain.run_request(ctx), Verdict::Pause);
  EXPECT_EQ(chain.resume(ctx, Verdict::Respond), Verdict::Respond);
  chain.run_done(ctx);
  EXPECT_EQ(log, (Log{"async.request", "async.done 7"}));
}

TEST(FilterChain, AnExchangeThatEndsWhilePausedCancelsThenCompletes) {
  Log log;
  FilterChain chain({std::make_shared<Recording>("a", log),
                     std::make_shared<Recording>("async", log, Verdict::Pause),
                     std::make_shared<Recording>("c", log)});
  Host host;
  FilterContext ctx;
  ctx.reset(&host);
  EXPECT_EQ(chain.run_request(ctx), Verdict::Pause);
  chain.run_done(ctx);  // the client left
  EXPECT_FALSE(ctx.paused());
  EXPECT_EQ(log, (Log{"a.request", "async.request", "async.cancel", "async.done 7", "a.done 7"}));
}

TEST(FilterContext, CookiesAndHeaders) {
  std::vector<http::Header> headers{
      {"Cookie", "a=1; session=\"xyz\" ;b=2"}, {"X-Key", "k"}, {"cookie", "late=yes"}};
  FilterContext ctx;
  ctx.headers = headers;
  EXPECT_EQ(ctx.cookie("session"), "xyz");
  EXPECT_EQ(ctx.cookie("b"), "2");
  EXPECT_EQ(ctx.cookie("late"), "yes");
  EXPECT_EQ(ctx.cookie("sess"), std::nullopt);
  EXPECT_EQ(ctx.header("x-key"), "k");
  EXPECT_EQ(ctx.header("x-none"), std::nullopt);
}

}  // namespace
}  // namespace portico::filters
