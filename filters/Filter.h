// The interface every filter implements. A route's filters run in order on the request
// and in reverse on the response (FilterChain.h). A Filter object is built once per
// config and shared by every worker: it holds its configuration and a pointer to state
// built for sharing (a BucketTable, a breaker); what belongs to one request lives in the
// request's FilterSlot. Hooks are const and called from every worker thread at once.
#pragma once

#include <span>

#include "filters/FilterContext.h"
#include "redis/RedisError.h"

struct redisReply;

namespace portico::filters {

enum class Verdict {
  Continue,  // on to the next filter (then the upstream)
  Respond,   // the filter answered: ctx.respond() was called; later filters do not run
  Pause,     // the filter resumes the request later, on this worker's loop (ctx.resume)
};

class Filter {
 public:
  virtual ~Filter() = default;

  // A worker is about to serve a config with this filter: open what requests will need
  // (a Redis connection), so the first request does not find it still connecting.
  virtual void prepare(WorkerServices&) const {}
  // The request head is complete (the body has not been read yet).
  virtual Verdict on_request(FilterContext&) const { return Verdict::Continue; }
  // The response head is about to go to the client: the upstream's, or a local answer.
  // Headers added here with ctx.add_response_header() go out with it.
  virtual void on_response(FilterContext&, int /*status*/) const {}
  // A piece of the response body, as relayed to the client.
  virtual void on_body(FilterContext&, std::span<const char>) const {}
  // The exchange ended (answered, failed, or the client left): accounting. Runs for every
  // filter whose on_request ran, in reverse order, exactly once.
  virtual void on_done(FilterContext&) const {}
  // The request ended while this filter had it paused: drop what would resume it.
  // on_done follows.
  virtual void on_cancel(FilterContext&) const {}
  // The answer to the Redis call this filter made with ctx.call_redis() (it then resumes).
  virtual void on_redis_reply(FilterContext&, const redisReply*, redis::RedisError) const {}
};

}  // namespace portico::filters
