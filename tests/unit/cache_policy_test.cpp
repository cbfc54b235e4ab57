#include "cache/CachePolicy.h"

#include <gtest/gtest.h>

#include <vector>

namespace portico::cache {
namespace {

using http::Header;

constexpr int64_t kT = 784111777;  // a Date, seconds
constexpr int64_t kMs = kT * 1000;

RequestFacts facts(std::vector<Header> headers, std::string_view method = "GET") {
  return request_facts(method, headers);
}

const char* why(const RequestFacts& request, int status, const std::vector<Header>& response,
                StorePolicy policy = {}) {
  return why_not_storable(request, status, response, parse_cache_control(response), policy);
}

const char* why(int status, const std::vector<Header>& response) {
  return why(facts({}), status, response);
}

// A stored response received at kT (no transit delay, Date kT, no Age) with `lifetime`.
CachedResponse stored(int64_t lifetime, std::vector<Header> cache_control = {}) {
  CachedResponse r;
  r.times = {kMs, kMs};
  r.date = kT;
  r.lifetime = lifetime;
  r.cc = parse_cache_control(cache_control);
  return r;
}

int64_t at(int64_t seconds_after) {
  return kMs + seconds_after * 1000;
}

// ---- request_facts ----

TEST(RequestFacts, ReadsTheRequest) {
  const RequestFacts f = facts({{"cache-control", "max-age=5, no-cache"},
                                {"Pragma", "no-cache"},
                                {"AUTHORIZATION", "Basic eA=="},
                                {"range", "bytes=0-1"}},
                               "HEAD");
  EXPECT_EQ(f.method, "HEAD");
  EXPECT_EQ(f.cc.max_age, 5);
  EXPECT_TRUE(f.cc.no_cache);
  EXPECT_TRUE(f.pragma_no_cache);
  EXPECT_TRUE(f.has_cache_control);
  EXPECT_TRUE(f.authorization);
  EXPECT_TRUE(f.range);
}

TEST(RequestFacts, APlainRequest) {
  const RequestFacts f = facts({{"Host", "example.com"}, {"Accept", "*/*"}});
  EXPECT_EQ(f.method, "GET");
  EXPECT_EQ(f.cc.max_age, CacheControl::kAbsent);
  EXPECT_FALSE(f.pragma_no_cache);
  EXPECT_FALSE(f.has_cache_control);
  EXPECT_FALSE(f.authorization);
  EXPECT_FALSE(f.range);
  // An empty Cache-Control is still a Cache-Control (Pragma then does not count).
  EXPECT_TRUE(facts({{"Cache-Control", ""}}).has_cache_control);
}

// ---- why_not_storable ----

TEST(Storable, APlainOkIsStorable) {
  EXPECT_EQ(why(200, {}), nullptr);
  EXPECT_EQ(why(200, {{"Content-Type", "text/plain"}}), nullptr);
}

TEST(Storable, OnlyGet) {
  EXPECT_STREQ(why(facts({}, "HEAD"), 200, {}), "method not GET");
  EXPECT_STREQ(why(facts({}, "POST"), 200, {{"Cache-Control", "max-age=60"}}), "method not GET");
  EXPECT_STREQ(why(facts({}, "PUT"), 200, {}), "method not GET");
  // Methods are case-sensitive.
  EXPECT_STREQ(why(facts({}, "get"), 200, {}), "method not GET");
}

TEST(Storable, NotForRangeRequests) {
  EXPECT_STREQ(why(facts({{"Range", "bytes=0-99"}}), 200, {}), "Range");
}

TEST(Storable, OnlyFinalStatusesAndNotPartialOrNotModified) {
  EXPECT_STREQ(why(100, {}), "status not final");
  EXPECT_STREQ(why(103, {{"Cache-Control", "max-age=60"}}), "status not final");
  EXPECT_STREQ(why(199, {}), "status not final");
  EXPECT_STREQ(why(0, {}), "status not final");
  EXPECT_STREQ(why(600, {{"Cache-Control", "max-age=60"}}), "status not final");
  EXPECT_STREQ(why(206, {{"Cache-Control", "max-age=60"}}), "status 206");
  EXPECT_STREQ(why(304, {{"Cache-Control", "max-age=60"}}), "status 304");
}

TEST(Storable, NoStoreInTheRequestOrTheResponse) {
  EXPECT_STREQ(why(200, {{"Cache-Control", "no-store"}}), "no-store");
  EXPECT_STREQ(why(200, {{"Cache-Control", "public, max-age=60, NO-STORE"}}), "no-store");
  EXPECT_STREQ(why(facts({{"Cache-Control", "no-store"}}), 200, {}), "no-store");
}

TEST(Storable, PrivateIsNotForASharedCache) {
  EXPECT_STREQ(why(200, {{"Cache-Control", "private"}}), "private");
  EXPECT_STREQ(why(200, {{"Cache-Control", "private=\"Set-Cookie\", max-age=60"}}), "private");
  EXPECT_STREQ(why(200, {{"Cache-Control", "public, private"}}), "private");
}

TEST(Storable, MustUnderstandOverridesNoStoreForUnderstoodStatuses) {
  for (int status : {200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501}) {
    EXPECT_EQ(why(status, {{"Cache-Control", "max-age=60, no-store, must-understand"}}), nullptr)
        << status;
  }
  // The request's no-store is not the response's.
  EXPECT_STREQ(why(facts({{"Cache-Control", "no-store"}}), 200,
                   {{"Cache-Control", "max-age=60, no-store, must-understand"}}),
               "no-store");
  // It does not make a response storable that is otherwise not.
  EXPECT_STREQ(why(200, {{"Cache-Control", "must-understand, private"}}), "private");
}

TEST(Storable, MustUnderstandRefusesStatusesNotUnderstood) {
  for (int status : {201, 202, 205, 299, 400, 403, 418, 429, 500, 502, 503, 599}) {
    EXPECT_STREQ(why(status, {{"Cache-Control", "max-age=60, no-store, must-understand"}}),
                 "must-understand with a status not understood")
        << status;
    EXPECT_STREQ(why(status, {{"Cache-Control", "max-age=60, must-understand"}}),
                 "must-understand with a status not understood")
        << status;
  }
  // Without must-understand those statuses are stored by their explicit freshness.
  EXPECT_EQ(why(500, {{"Cache-Control", "max-age=60"}}), nullptr);
  EXPECT_EQ(why(418, {{"Cache-Control", "max-age=60"}}), nullptr);
}

TEST(Storable, AuthorizationNeedsPublicSMaxageOrMustRevalidate) {
  const RequestFacts auth = facts({{"Authorization", "Bearer t"}});
  const char* refused = "Authorization without public/s-maxage/must-revalidate";
  EXPECT_STREQ(why(auth, 200, {}), refused);
  EXPECT_STREQ(why(auth, 200, {{"Cache-Control", "max-age=60"}}), refused);
  EXPECT_STREQ(why(auth, 200, {{"Cache-Control", "max-age=60, proxy-revalidate"}}), refused);
  EXPECT_STREQ(why(auth, 200, {{"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}}), refused);
  EXPECT_EQ(why(auth, 200, {{"Cache-Control", "public"}}), nullptr);
  EXPECT_EQ(why(auth, 200, {{"Cache-Control", "s-maxage=60"}}), nullptr);
  EXPECT_EQ(why(auth, 200, {{"Cache-Control", "max-age=60, must-revalidate"}}), nullptr);
  // Without Authorization none of it is needed.
  EXPECT_EQ(why(facts({}), 200, {{"Cache-Control", "max-age=60"}}), nullptr);
}

TEST(Storable, SetCookieOnlyWhenTheZoneAllowsIt) {
  EXPECT_STREQ(why(200, {{"Set-Cookie", "a=b"}, {"Cache-Control", "max-age=60"}}), "Set-Cookie");
  EXPECT_STREQ(why(200, {{"set-cookie", "a=b"}}), "Set-Cookie");
  EXPECT_EQ(why(facts({}), 200, {{"Set-Cookie", "a=b"}}, StorePolicy{true}), nullptr);
}

TEST(Storable, NeedsExplicitFreshnessOrAHeuristicStatus) {
  const char* refused = "no explicit freshness and no heuristic allowed";
  for (int status : {201, 202, 302, 303, 307, 400, 403, 500, 502, 503}) {
    EXPECT_STREQ(why(status, {}), refused) << status;
    EXPECT_EQ(why(status, {{"Cache-Control", "max-age=60"}}), nullptr) << status;
    EXPECT_EQ(why(status, {{"Cache-Control", "s-maxage=60"}}), nullptr) << status;
    EXPECT_EQ(why(status, {{"Cache-Control", "public"}}), nullptr) << status;
    EXPECT_EQ(why(status, {{"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}}), nullptr) << status;
    // An Expires that does not parse is still an Expires: stored, and already stale.
    EXPECT_EQ(why(status, {{"Expires", "0"}}), nullptr) << status;
    // max-age=0 is explicit freshness too (stored, stale at once).
    EXPECT_EQ(why(status, {{"Cache-Control", "max-age=0"}}), nullptr) << status;
  }
  for (int status : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
    EXPECT_EQ(why(status, {}), nullptr) << status;
}

TEST(Storable, NoCacheAloneIsNotOnThirdSectionsList) {
  // §3 lists public, Expires, max-age, s-maxage and heuristic statuses; no-cache is not
  // one of them, so it stores only what one of those allows.
  EXPECT_STREQ(why(302, {{"Cache-Control", "no-cache"}}),
               "no explicit freshness and no heuristic allowed");
  EXPECT_EQ(why(200, {{"Cache-Control", "no-cache"}}), nullptr);
  EXPECT_EQ(why(302, {{"Cache-Control", "no-cache, max-age=60"}}), nullptr);
}

TEST(Storable, TheFirstReasonInOrder) {
  EXPECT_STREQ(why(facts({{"Range", "bytes=0-1"}}, "POST"), 206, {{"Cache-Control", "no-store"}}),
               "method not GET");
  EXPECT_STREQ(why(facts({{"Range", "bytes=0-1"}}), 206, {}), "Range");
  EXPECT_STREQ(why(206, {{"Cache-Control", "no-store"}}), "status 206");
  EXPECT_STREQ(why(200, {{"Cache-Control", "no-store, private"}}), "no-store");
  EXPECT_STREQ(why(facts({{"Authorization", "x"}}), 200,
                   {{"Cache-Control", "private"}, {"Set-Cookie", "a=b"}}),
               "private");
  EXPECT_STREQ(why(facts({{"Authorization", "x"}}), 200, {{"Set-Cookie", "a=b"}}),
               "Authorization without public/s-maxage/must-revalidate");
  EXPECT_STREQ(why(302, {{"Set-Cookie", "a=b"}}), "Set-Cookie");
}

// ---- current_age (§4.2.3) ----

TEST(CurrentAge, ResidentTimeOnly) {
  const CachedResponse r = stored(60);
  EXPECT_EQ(current_age(r, at(0)), 0);
  EXPECT_EQ(current_age(r, at(100)), 100);
}

TEST(CurrentAge, AgeAndResponseDelay) {
  CachedResponse r = stored(60);
  r.times = {kMs, kMs + 2500};  // 2.5 s in transit
  r.age_value = 10;
  // corrected_initial_age = max(apparent 2.5, 10 + 2.5) = 12.5; floored only at the end.
  EXPECT_EQ(current_age(r, kMs + 2500), 12);
  EXPECT_EQ(current_age(r, kMs + 2500 + 499), 12);
  EXPECT_EQ(current_age(r, kMs + 2500 + 500), 13);
  EXPECT_EQ(current_age(r, kMs + 2500 + 10'000), 22);
}

TEST(CurrentAge, ApparentAgeWhenTheDateIsOld) {
  CachedResponse r = stored(60);
  r.date = kT - 60;  // the upstream's clock, or a cache in between without Age
  r.age_value = 5;
  EXPECT_EQ(current_age(r, at(0)), 60);
  EXPECT_EQ(current_age(r, at(30)), 90);
}

TEST(CurrentAge, ADateInTheFutureIsNoApparentAge) {
  CachedResponse r = stored(60);
  r.date = kT + 100;
  EXPECT_EQ(current_age(r, at(0)), 0);
  r.age_value = 3;
  EXPECT_EQ(current_age(r, at(1)), 4);
}

TEST(CurrentAge, WithoutDate) {
  CachedResponse r = stored(60);
  r.date.reset();
  r.times = {kMs - 1000, kMs};
  r.age_value = 7;
  EXPECT_EQ(current_age(r, at(0)), 8);
  r.age_value = 0;
  EXPECT_EQ(current_age(r, at(2)), 3);
}

TEST(CurrentAge, MillisecondsAddUpBeforeFlooring) {
  CachedResponse r = stored(60);
  r.times = {kMs + 600, kMs + 600};  // received 0.6 s after Date
  // 0.6 apparent + 0.6 resident = 1.2: 1, where flooring each term would give 0.
  EXPECT_EQ(current_age(r, kMs + 1200), 1);
  EXPECT_EQ(current_age(r, kMs + 999), 0);
}

TEST(CurrentAge, ClockStepsBackDoNotMakeItYounger) {
  CachedResponse r = stored(60);
  r.age_value = 10;
  EXPECT_EQ(current_age(r, at(-50)), 10);
  r.times = {kMs + 5000, kMs};  // request "after" response
  EXPECT_EQ(current_age(r, at(0)), 10);
}

TEST(CurrentAge, LargeAgeDoesNotOverflow) {
  CachedResponse r = stored(60);
  r.age_value = 2147483648;
  EXPECT_EQ(current_age(r, at(1)), 2147483649);
}

// ---- decide_reuse ----

ReuseDecision decide(const CachedResponse& r, std::vector<Header> request, int64_t after) {
  return decide_reuse(r, facts(std::move(request)), at(after));
}

TEST(Reuse, FreshWhileTheLifetimeExceedsTheAge) {
  const CachedResponse r = stored(60);
  ReuseDecision d = decide(r, {}, 10);
  EXPECT_EQ(d.reuse, Reuse::Fresh);
  EXPECT_EQ(d.age, 10);
  EXPECT_EQ(decide(r, {}, 59).reuse, Reuse::Fresh);
  d = decide(r, {}, 60);
  EXPECT_EQ(d.reuse, Reuse::Revalidate);  // lifetime == age is stale
  EXPECT_EQ(d.age, 60);
  EXPECT_EQ(decide(stored(0), {}, 0).reuse, Reuse::Revalidate);
}

TEST(Reuse, ResponseNoCacheAlwaysRevalidates) {
  const CachedResponse r = stored(600, {{"Cache-Control", "no-cache"}});
  EXPECT_EQ(decide(r, {}, 0).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale"}}, 0).reuse, Reuse::Revalidate);
  const CachedResponse q = stored(600, {{"Cache-Control", "no-cache=\"Set-Cookie\""}});
  EXPECT_EQ(decide(q, {}, 0).reuse, Reuse::Revalidate);
}

TEST(Reuse, RequestNoCacheAndPragma) {
  const CachedResponse r = stored(600);
  EXPECT_EQ(decide(r, {{"Cache-Control", "no-cache"}}, 0).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Pragma", "no-cache"}}, 0).reuse, Reuse::Revalidate);
  // With a Cache-Control, Pragma is left to HTTP/1.0 caches.
  EXPECT_EQ(decide(r, {{"Pragma", "no-cache"}, {"Cache-Control", "max-age=100"}}, 0).reuse,
            Reuse::Fresh);
  EXPECT_EQ(decide(r, {{"Pragma", "no-cache"}, {"Cache-Control", "no-cache"}}, 0).reuse,
            Reuse::Revalidate);
}

TEST(Reuse, RequestMaxAge) {
  const CachedResponse r = stored(600);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=10"}}, 10).reuse, Reuse::Fresh);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=10"}}, 11).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=0"}}, 0).reuse, Reuse::Fresh);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=0"}}, 1).reuse, Reuse::Revalidate);
  // Invalid reads as 0.
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=soon"}}, 1).reuse, Reuse::Revalidate);
}

TEST(Reuse, RequestMaxAgeBoundsMaxStale) {
  const CachedResponse r = stored(60);
  // 40 s stale and 100 s old.
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=200, max-stale=50"}}, 100).reuse, Reuse::Stale);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=90, max-stale=50"}}, 100).reuse,
            Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=200, max-stale=30"}}, 100).reuse,
            Reuse::Revalidate);
}

TEST(Reuse, MinFresh) {
  const CachedResponse r = stored(60);
  // 50 s of freshness left at age 10.
  EXPECT_EQ(decide(r, {{"Cache-Control", "min-fresh=50"}}, 10).reuse, Reuse::Fresh);
  EXPECT_EQ(decide(r, {{"Cache-Control", "min-fresh=51"}}, 10).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "min-fresh=0"}}, 10).reuse, Reuse::Fresh);
  // A stale response has negative freshness left: even min-fresh=0 refuses it.
  EXPECT_EQ(decide(r, {{"Cache-Control", "min-fresh=0, max-stale"}}, 70).reuse, Reuse::Revalidate);
}

TEST(Reuse, MaxStale) {
  const CachedResponse r = stored(60);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale"}}, 1000000).reuse, Reuse::Stale);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=10"}}, 70).reuse, Reuse::Stale);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=10"}}, 71).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=0"}}, 60).reuse, Reuse::Stale);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=x"}}, 61).reuse, Reuse::Revalidate);
  // A fresh response is fresh, max-stale or not.
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale"}}, 10).reuse, Reuse::Fresh);
}

TEST(Reuse, DirectivesThatForbidServingStale) {
  for (const char* cc : {"must-revalidate", "proxy-revalidate", "s-maxage=60",
                         "must-revalidate, stale-while-revalidate=100"}) {
    const CachedResponse r = stored(60, {{"Cache-Control", cc}});
    EXPECT_EQ(decide(r, {}, 10).reuse, Reuse::Fresh) << cc;
    EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale"}}, 61).reuse, Reuse::Revalidate) << cc;
    EXPECT_EQ(decide(r, {}, 61).reuse, Reuse::Revalidate) << cc;
  }
}

TEST(Reuse, StaleWhileRevalidate) {
  const CachedResponse r = stored(60, {{"Cache-Control", "max-age=60, stale-while-revalidate=30"}});
  EXPECT_EQ(decide(r, {}, 59).reuse, Reuse::Fresh);
  ReuseDecision d = decide(r, {}, 60);
  EXPECT_EQ(d.reuse, Reuse::StaleWhileRevalidate);
  EXPECT_EQ(d.age, 60);
  EXPECT_EQ(decide(r, {}, 90).reuse, Reuse::StaleWhileRevalidate);
  EXPECT_EQ(decide(r, {}, 91).reuse, Reuse::Revalidate);
  // The client's max-stale, when it allows it, is plain stale (nothing to refresh for it).
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=100"}}, 80).reuse, Reuse::Stale);
  // When it does not, stale-while-revalidate still may.
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-stale=5"}}, 80).reuse, Reuse::StaleWhileRevalidate);
  // The client's no-cache and max-age still come first.
  EXPECT_EQ(decide(r, {{"Cache-Control", "no-cache"}}, 80).reuse, Reuse::Revalidate);
  EXPECT_EQ(decide(r, {{"Cache-Control", "max-age=70"}}, 80).reuse, Reuse::Revalidate);
}

TEST(Reuse, ImmutableIsFreshWhileFreshOnly) {
  const CachedResponse r = stored(60, {{"Cache-Control", "max-age=60, immutable"}});
  EXPECT_EQ(decide(r, {}, 10).reuse, Reuse::Fresh);
  EXPECT_EQ(decide(r, {}, 61).reuse, Reuse::Revalidate);
  // A client that asks for validation gets it.
  EXPECT_EQ(decide(r, {{"Cache-Control", "no-cache"}}, 10).reuse, Reuse::Revalidate);
}

TEST(Reuse, TheAgeIsReportedWhateverTheDecision) {
  CachedResponse r = stored(60, {{"Cache-Control", "no-cache"}});
  r.age_value = 7;
  EXPECT_EQ(decide(r, {}, 3).age, 10);
}

// ---- stale_if_error_allows ----

bool on_error(const CachedResponse& r, std::vector<Header> request, int64_t after) {
  return stale_if_error_allows(r, facts(std::move(request)), at(after));
}

TEST(StaleIfError, NeedsTheDirective) {
  EXPECT_FALSE(on_error(stored(60), {}, 61));
  EXPECT_FALSE(on_error(stored(60), {}, 10));
  EXPECT_FALSE(on_error(stored(60, {{"Cache-Control", "stale-while-revalidate=100"}}), {}, 61));
}

TEST(StaleIfError, TheResponsesLimit) {
  const CachedResponse r = stored(60, {{"Cache-Control", "max-age=60, stale-if-error=30"}});
  EXPECT_TRUE(on_error(r, {}, 60));
  EXPECT_TRUE(on_error(r, {}, 90));
  EXPECT_FALSE(on_error(r, {}, 91));
  // Still fresh (the request forced a revalidation): within any limit.
  EXPECT_TRUE(on_error(r, {{"Cache-Control", "max-age=0"}}, 10));
}

TEST(StaleIfError, TheRequestsLimitAndTheLargerOfBoth) {
  const CachedResponse plain = stored(60);
  EXPECT_TRUE(on_error(plain, {{"Cache-Control", "stale-if-error=100"}}, 160));
  EXPECT_FALSE(on_error(plain, {{"Cache-Control", "stale-if-error=100"}}, 161));
  const CachedResponse r = stored(60, {{"Cache-Control", "stale-if-error=30"}});
  EXPECT_TRUE(on_error(r, {{"Cache-Control", "stale-if-error=100"}}, 150));
  EXPECT_TRUE(on_error(r, {{"Cache-Control", "stale-if-error=5"}}, 85));
  EXPECT_FALSE(on_error(r, {{"Cache-Control", "stale-if-error=5"}}, 95));
}

TEST(StaleIfError, NeverPastTheDirectivesThatForbidStale) {
  for (const char* cc :
       {"stale-if-error=100, must-revalidate", "stale-if-error=100, proxy-revalidate",
        "stale-if-error=100, s-maxage=60", "stale-if-error=100, no-cache"}) {
    const CachedResponse r = stored(60, {{"Cache-Control", cc}});
    EXPECT_FALSE(on_error(r, {}, 61)) << cc;
    EXPECT_FALSE(on_error(r, {{"Cache-Control", "stale-if-error=100"}}, 61)) << cc;
  }
}

TEST(StaleIfError, ARequestForValidationTakesStaleOnlyIfItSaysSo) {
  const CachedResponse r = stored(60, {{"Cache-Control", "stale-if-error=100"}});
  EXPECT_FALSE(on_error(r, {{"Cache-Control", "no-cache"}}, 61));
  EXPECT_FALSE(on_error(r, {{"Pragma", "no-cache"}}, 61));
  EXPECT_TRUE(on_error(r, {{"Cache-Control", "no-cache, stale-if-error=10"}}, 61));
}

// ---- heuristically_cacheable ----

TEST(HeuristicallyCacheable, TheRfc9110List) {
  for (int status : {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
    EXPECT_TRUE(heuristically_cacheable(status)) << status;
  for (int status : {100, 201, 202, 205, 302, 303, 304, 307, 400, 401, 403, 500, 502, 503, 504})
    EXPECT_FALSE(heuristically_cacheable(status)) << status;
}

}  // namespace
}  // namespace portico::cache
