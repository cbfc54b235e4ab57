#include "cache/CachedResponse.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace portico::cache {
namespace {

using http::Header;

constexpr int64_t kDate = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr const char* kDateText = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr int64_t kDay = 86400;

// The request and its response took 1 s and arrived 2 s after the response's Date.
constexpr ExchangeTimes kTimes{(kDate + 1) * 1000, (kDate + 2) * 1000};

struct Built {
  std::vector<Header> headers;
  std::vector<Header> request;
  int status = 200;
  ExchangeTimes times = kTimes;
  double fraction = 0.1;
  int64_t max = kDay;
  int64_t default_seconds = 0;

  std::shared_ptr<const CachedResponse> build() const {
    ResponseToStore in;
    in.status = status;
    in.reason = "OK";
    in.headers = headers;
    in.request_headers = request;
    in.times = times;
    in.body = std::make_shared<const std::string>("hello");
    in.heuristic = {.fraction = fraction, .max_seconds = max, .default_seconds = default_seconds};
    return build_cached_response(in);
  }
};

std::shared_ptr<const CachedResponse> build(std::vector<Header> headers, int status = 200) {
  Built b;
  b.headers = std::move(headers);
  b.status = status;
  return b.build();
}

bool points_into(std::string_view view, const std::string& s) {
  return view.data() >= s.data() && view.data() + view.size() <= s.data() + s.size();
}

void expect_views_into_fields(const CachedResponse& r) {
  for (const Header& h : r.headers) {
    EXPECT_TRUE(points_into(h.name, r.fields)) << h.name;
    EXPECT_TRUE(points_into(h.value, r.fields)) << h.name;
  }
}

TEST(CachedResponse, KeepsTheOtherFieldsInOrder) {
  const auto r = build({{"Date", kDateText},
                        {"Content-Type", "text/plain"},
                        {"X-A", "1"},
                        {"Cache-Control", "max-age=60"},
                        {"X-A", "2"}});
  EXPECT_EQ(r->fields,
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\nX-A: 1\r\n"
            "Cache-Control: max-age=60\r\nX-A: 2\r\n");
  ASSERT_EQ(r->headers.size(), 5u);
  EXPECT_EQ(r->headers[0].name, "Date");
  EXPECT_EQ(r->headers[0].value, kDateText);
  EXPECT_EQ(r->headers[2].name, "X-A");
  EXPECT_EQ(r->headers[2].value, "1");
  EXPECT_EQ(r->headers[4].value, "2");
  expect_views_into_fields(*r);
}

TEST(CachedResponse, ViewsOfAShortFieldBlockStayValid) {
  // Short enough for the string's in-object buffer: the views must be of the final copy.
  const auto r = build({{"A", "b"}, {"Date", kDateText}});
  EXPECT_EQ(r->fields, "A: b\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  ASSERT_EQ(r->headers.size(), 2u);
  expect_views_into_fields(*r);
  EXPECT_EQ(r->headers[0].value, "b");
  // Without Date, the receipt time is recorded as one (RFC 9110 §6.6.1).
  const auto undated = build({});
  EXPECT_EQ(undated->fields, "Date: Sun, 06 Nov 1994 08:49:39 GMT\r\n");
  ASSERT_EQ(undated->headers.size(), 1u);
  expect_views_into_fields(*undated);
}

TEST(CachedResponse, LeavesOutHopByHopAgeAndContentLength) {
  const auto r = build({{"Connection", "keep-alive, X-Secret"},
                        {"Keep-Alive", "timeout=5"},
                        {"Proxy-Connection", "keep-alive"},
                        {"TE", "trailers"},
                        {"Transfer-Encoding", "chunked"},
                        {"Upgrade", "h2c"},
                        {"Proxy-Authenticate", "Basic"},
                        {"Proxy-Authorization", "Basic eA=="},
                        {"Proxy-Authentication-Info", "x"},
                        {"Age", "10"},
                        {"Content-Length", "5"},
                        {"x-secret", "s"},
                        {"Content-Type", "text/plain"},
                        {"CONTENT-LENGTH", "5"},
                        {"Date", kDateText}});
  EXPECT_EQ(r->fields, "Content-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(r->age_value, 10);  // read before it is dropped
}

TEST(CachedResponse, ConnectionNamesOnEveryLineAnyCase) {
  const auto r = build({{"connection", "X-One"},
                        {"X-One", "1"},
                        {"X-Two", "2"},
                        {"CONNECTION", " , x-two ,"},
                        {"X-Three", "3"},
                        {"Date", kDateText}});
  EXPECT_EQ(r->fields, "X-Three: 3\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
}

TEST(CachedResponse, CopiesStatusBodyAndTimes) {
  Built b;
  b.status = 404;
  b.headers = {{"Date", kDateText}};
  const auto r = b.build();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->reason, "OK");
  ASSERT_TRUE(r->body);
  EXPECT_EQ(*r->body, "hello");
  EXPECT_EQ(r->times.request_ms, kTimes.request_ms);
  EXPECT_EQ(r->times.response_ms, kTimes.response_ms);
}

TEST(CachedResponse, DateAndLastModified) {
  const auto r = build({{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 08:49:37 GMT"}});
  EXPECT_EQ(r->date, kDate);
  EXPECT_EQ(r->last_modified, kDate - kDay);
  const auto bad = build({{"Date", "yesterday"}, {"Last-Modified", "0"}});
  EXPECT_FALSE(bad->date);
  EXPECT_FALSE(bad->last_modified);
  // None: the receipt time (kTimes.response_ms, floored) is recorded as the Date.
  const auto none = build({});
  EXPECT_EQ(none->date, kDate + 2);
  EXPECT_FALSE(none->last_modified);
  // The first Date line.
  EXPECT_EQ(build({{"Date", kDateText}, {"Date", "Mon, 07 Nov 1994 08:49:37 GMT"}})->date, kDate);
}

TEST(CachedResponse, AgeValue) {
  EXPECT_EQ(build({})->age_value, 0);
  EXPECT_EQ(build({{"Age", "0"}})->age_value, 0);
  EXPECT_EQ(build({{"Age", "60"}})->age_value, 60);
  EXPECT_EQ(build({{"Age", " 60 "}})->age_value, 60);
  EXPECT_EQ(build({{"age", "7"}, {"Age", "9"}})->age_value, 7);
  for (const char* bad : {"", "-5", "abc", "1.5", "60, 70", "+3", "6 0"})
    EXPECT_EQ(build({{"Age", bad}})->age_value, 0) << bad;
  EXPECT_EQ(build({{"Age", "2147483648"}})->age_value, 2147483648);
  EXPECT_EQ(build({{"Age", "99999999999999999999999"}})->age_value, 2147483648);
}

TEST(CachedResponse, CacheControlIsParsed) {
  const auto r = build({{"Cache-Control", "public, max-age=60"}, {"Cache-Control", "no-cache"}});
  EXPECT_TRUE(r->cc.public_);
  EXPECT_TRUE(r->cc.no_cache);
  EXPECT_EQ(r->cc.max_age, 60);
}

TEST(CachedResponse, EtagOnlyWhenValid) {
  const auto r = build({{"ETag", "W/\"v1\""}});
  EXPECT_EQ(r->etag, "W/\"v1\"");
  EXPECT_TRUE(points_into(r->etag, r->fields));
  EXPECT_EQ(build({{"ETag", "v1"}})->etag, "");
  EXPECT_EQ(build({{"ETag", "\"a\" \"b\""}})->etag, "");
  EXPECT_EQ(build({})->etag, "");
  EXPECT_EQ(build({{"etag", "\"x\""}, {"ETag", "\"y\""}})->etag, "\"x\"");
}

TEST(CachedResponse, VaryRecordsTheRequestsValues) {
  Built b;
  b.headers = {{"Vary", "Accept-Encoding, User-Agent"}, {"vary", " ACCEPT-LANGUAGE ,, "}};
  b.request = {{"Accept-Encoding", "gzip"},
               {"accept-encoding", " br "},
               {"Accept-Language", "  en "},
               {"Host", "h"}};
  const auto r = b.build();
  EXPECT_FALSE(r->vary_any);
  ASSERT_EQ(r->vary.size(), 3u);
  EXPECT_EQ(r->vary[0].name, "accept-encoding");
  EXPECT_EQ(r->vary[0].value, "gzip, br");
  EXPECT_EQ(r->vary[1].name, "user-agent");
  EXPECT_EQ(r->vary[1].value, std::nullopt);
  EXPECT_EQ(r->vary[2].name, "accept-language");
  EXPECT_EQ(r->vary[2].value, "en");
}

TEST(CachedResponse, VaryNamesOnce) {
  Built b;
  b.headers = {{"Vary", "Accept, accept"}, {"Vary", "ACCEPT"}};
  b.request = {{"Accept", "text/html"}};
  const auto r = b.build();
  ASSERT_EQ(r->vary.size(), 1u);
  EXPECT_EQ(r->vary[0].name, "accept");
  EXPECT_EQ(r->vary[0].value, "text/html");
}

TEST(CachedResponse, VaryStar) {
  EXPECT_TRUE(build({{"Vary", "*"}})->vary_any);
  EXPECT_TRUE(build({{"Vary", "Accept"}, {"Vary", " * "}})->vary_any);
  EXPECT_FALSE(build({{"Vary", "Accept"}})->vary_any);
  EXPECT_FALSE(build({})->vary_any);
  EXPECT_TRUE(build({})->vary.empty());
}

TEST(CachedResponse, LifetimeSMaxageFirst) {
  const auto r = build({{"Date", kDateText},
                        {"Cache-Control", "max-age=60, s-maxage=30"},
                        {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(r->lifetime, 30);
  EXPECT_FALSE(r->heuristic);
}

TEST(CachedResponse, LifetimeMaxAgeOverExpires) {
  const auto r = build({{"Date", kDateText},
                        {"Cache-Control", "max-age=60"},
                        {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_EQ(r->lifetime, 60);
  EXPECT_EQ(build({{"Cache-Control", "max-age=0"}, {"Expires", "Mon, 07 Nov 2094 00:00:00 GMT"}})
                ->lifetime,
            0);
}

TEST(CachedResponse, LifetimeFromExpiresMinusDate) {
  EXPECT_EQ(build({{"Date", kDateText}, {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}})->lifetime,
            3600);
  // In the past: already expired, not negative.
  EXPECT_EQ(build({{"Date", kDateText}, {"Expires", "Sun, 06 Nov 1994 07:49:37 GMT"}})->lifetime,
            0);
  // The first Expires line.
  EXPECT_EQ(build({{"Date", kDateText},
                   {"Expires", "Sun, 06 Nov 1994 08:50:37 GMT"},
                   {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}})
                ->lifetime,
            60);
}

TEST(CachedResponse, ExpiresWithoutDateUsesTheResponseTime) {
  // Received at kDate + 2.
  EXPECT_EQ(build({{"Expires", "Sun, 06 Nov 1994 08:50:37 GMT"}})->lifetime, 58);
  EXPECT_EQ(build({{"Date", "garbage"}, {"Expires", "Sun, 06 Nov 1994 08:50:37 GMT"}})->lifetime,
            58);
}

TEST(CachedResponse, AnInvalidExpiresIsAlreadyExpiredAndNoHeuristic) {
  for (const char* bad : {"0", "-1", "", "never"}) {
    const auto r = build({{"Date", kDateText},
                          {"Last-Modified", "Sun, 06 Nov 1994 07:49:37 GMT"},
                          {"Expires", bad}});
    EXPECT_EQ(r->lifetime, 0) << bad;
    EXPECT_FALSE(r->heuristic) << bad;
  }
}

TEST(CachedResponse, HeuristicFromLastModified) {
  // Ten hours old at Date: a tenth is one hour.
  const auto r = build({{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}});
  EXPECT_EQ(r->lifetime, 3600);
  EXPECT_TRUE(r->heuristic);
}

TEST(CachedResponse, HeuristicIsCapped) {
  const auto r = build({{"Date", kDateText}, {"Last-Modified", "Sat, 01 Jan 1994 00:00:00 GMT"}});
  EXPECT_EQ(r->lifetime, kDay);
  EXPECT_TRUE(r->heuristic);
  Built b;
  b.headers = {{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}};
  b.fraction = 0.5;
  b.max = 600;
  EXPECT_EQ(b.build()->lifetime, 600);
  b.max = 1000000;
  EXPECT_EQ(b.build()->lifetime, 18000);
}

TEST(CachedResponse, DefaultHeuristicOnlyWithoutLastModifiedAndWhereAllowed) {
  Built b;
  b.headers = {{"Date", kDateText}};
  EXPECT_EQ(b.build()->lifetime, 0);  // off by default
  b.default_seconds = 30;
  EXPECT_EQ(b.build()->lifetime, 30);
  EXPECT_TRUE(b.build()->heuristic);
  b.status = 302;  // not heuristically cacheable
  EXPECT_EQ(b.build()->lifetime, 0);
  b.status = 200;
  b.headers = {{"Date", kDateText}, {"Cache-Control", "max-age=5"}};
  EXPECT_EQ(b.build()->lifetime, 5);  // explicit freshness wins
  EXPECT_FALSE(b.build()->heuristic);
  b.headers = {{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}};
  EXPECT_EQ(b.build()->lifetime, 3600);  // Last-Modified's heuristic wins
}

TEST(CachedResponse, HeuristicWithoutDateUsesTheResponseTime) {
  // Received at kDate + 2; Last-Modified 98 s before that.
  const auto r = build({{"Last-Modified", "Sun, 06 Nov 1994 08:48:01 GMT"}});
  EXPECT_EQ(r->lifetime, 9);  // floor(9.8)
  EXPECT_TRUE(r->heuristic);
}

TEST(CachedResponse, HeuristicOnlyWhereAllowed) {
  const std::vector<Header> lm = {{"Date", kDateText},
                                  {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}};
  // Not cacheable by default: no heuristic...
  for (int status : {201, 202, 302, 303, 307, 400, 403, 500, 502, 503}) {
    const auto r = build(lm, status);
    EXPECT_EQ(r->lifetime, 0) << status;
    EXPECT_FALSE(r->heuristic) << status;
  }
  // ...unless public.
  std::vector<Header> pub = lm;
  pub.push_back({"Cache-Control", "public"});
  const auto p = build(pub, 302);
  EXPECT_EQ(p->lifetime, 3600);
  EXPECT_TRUE(p->heuristic);
  for (int status : {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}) {
    EXPECT_EQ(build(lm, status)->lifetime, 3600) << status;
    EXPECT_TRUE(build(lm, status)->heuristic) << status;
  }
}

TEST(CachedResponse, NoHeuristicWithoutAnEarlierLastModified) {
  const auto none = build({{"Date", kDateText}});
  EXPECT_EQ(none->lifetime, 0);
  EXPECT_FALSE(none->heuristic);
  const auto same = build({{"Date", kDateText}, {"Last-Modified", kDateText}});
  EXPECT_EQ(same->lifetime, 0);
  EXPECT_FALSE(same->heuristic);
  const auto later =
      build({{"Date", kDateText}, {"Last-Modified", "Mon, 07 Nov 1994 00:00:00 GMT"}});
  EXPECT_EQ(later->lifetime, 0);
  EXPECT_FALSE(later->heuristic);
  const auto invalid = build({{"Date", kDateText}, {"Last-Modified", "soon"}});
  EXPECT_FALSE(invalid->heuristic);
}

TEST(CachedResponse, NoHeuristicWithExplicitFreshnessOrABadFraction) {
  const auto r = build({{"Date", kDateText},
                        {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"},
                        {"Cache-Control", "max-age=5"}});
  EXPECT_EQ(r->lifetime, 5);
  EXPECT_FALSE(r->heuristic);
  Built b;
  b.headers = {{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}};
  b.fraction = 0;
  EXPECT_FALSE(b.build()->heuristic);
  b.fraction = -1;
  EXPECT_FALSE(b.build()->heuristic);
  b.fraction = 0.1;
  b.max = 0;
  EXPECT_FALSE(b.build()->heuristic);
}

// ---- refreshed_by_304 ----

std::shared_ptr<const CachedResponse> stored_entry() {
  Built b;
  b.headers = {{"Date", kDateText},
               {"Content-Type", "text/html"},
               {"ETag", "\"v1\""},
               {"Cache-Control", "max-age=60"},
               {"X-A", "1"},
               {"Vary", "Accept-Encoding"},
               {"X-A", "2"},
               {"Age", "30"},
               {"Content-Encoding", "gzip"}};
  b.request = {{"Accept-Encoding", "gzip"}};
  return b.build();
}

TEST(Refresh, TheNotModifiedFieldsReplaceTheStoredOnes) {
  const auto stored = stored_entry();
  const std::vector<Header> nm = {{"Date", "Sun, 06 Nov 1994 09:49:37 GMT"},
                                  {"Cache-Control", "max-age=120"},
                                  {"x-a", "3"},
                                  {"Content-Length", "0"},
                                  {"Connection", "X-Secret"},
                                  {"X-Secret", "s"},
                                  {"Keep-Alive", "timeout=5"},
                                  {"Age", "5"},
                                  {"X-New", "n"}};
  const ExchangeTimes times{(kDate + 3600) * 1000, (kDate + 3601) * 1000};
  const auto r = refreshed_by_304(*stored, nm, times, {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(r->fields,
            "Content-Type: text/html\r\nETag: \"v1\"\r\nVary: Accept-Encoding\r\n"
            "Content-Encoding: gzip\r\nDate: Sun, 06 Nov 1994 09:49:37 GMT\r\n"
            "Cache-Control: max-age=120\r\nx-a: 3\r\nX-New: n\r\n");
  expect_views_into_fields(*r);
  EXPECT_EQ(r->date, kDate + 3600);
  EXPECT_EQ(r->age_value, 5);
  EXPECT_EQ(r->cc.max_age, 120);
  EXPECT_EQ(r->lifetime, 120);
  EXPECT_EQ(r->etag, "\"v1\"");
  EXPECT_TRUE(points_into(r->etag, r->fields));
  EXPECT_EQ(r->times.request_ms, times.request_ms);
  EXPECT_EQ(r->times.response_ms, times.response_ms);
}

TEST(Refresh, KeepsStatusBodyAndVary) {
  const auto stored = stored_entry();
  const auto r = refreshed_by_304(*stored, std::vector<Header>{{"Vary", "User-Agent"}}, kTimes,
                                  {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(r->status, stored->status);
  EXPECT_EQ(r->reason, stored->reason);
  EXPECT_EQ(r->body.get(), stored->body.get());  // shared, not copied
  ASSERT_EQ(r->vary.size(), 1u);
  EXPECT_EQ(r->vary[0].name, "accept-encoding");
  EXPECT_EQ(r->vary[0].value, "gzip");
  EXPECT_FALSE(r->vary_any);
}

TEST(Refresh, AgeComesOnlyFromTheNotModified) {
  const auto stored = stored_entry();
  EXPECT_EQ(stored->age_value, 30);
  EXPECT_EQ(refreshed_by_304(*stored, std::vector<Header>{}, kTimes,
                             {.fraction = 0.1, .max_seconds = kDay})
                ->age_value,
            0);
}

TEST(Refresh, AnEmptyNotModifiedKeepsTheFieldsButDatesFromItsReceipt) {
  const auto stored = stored_entry();
  const auto r = refreshed_by_304(*stored, std::vector<Header>{}, kTimes,
                                  {.fraction = 0.1, .max_seconds = kDay});
  // The old Date would date the refreshed response from the first exchange.
  std::string expected = stored->fields;
  expected.erase(0, expected.find("\r\n") + 2);
  EXPECT_EQ(r->fields, expected + "Date: Sun, 06 Nov 1994 08:49:39 GMT\r\n");
  EXPECT_EQ(r->date, kDate + 2);
  EXPECT_EQ(r->lifetime, 60);
  EXPECT_EQ(r->etag, "\"v1\"");
  const auto dated = refreshed_by_304(*stored, std::vector<Header>{{"Date", kDateText}}, kTimes,
                                      {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(dated->date, kDate);
}

TEST(Refresh, ANewEtagAndLastModified) {
  const auto stored = stored_entry();
  const auto r = refreshed_by_304(
      *stored,
      std::vector<Header>{{"ETag", "W/\"v2\""}, {"Last-Modified", "Sat, 05 Nov 1994 08:49:37 GMT"}},
      kTimes, {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(r->etag, "W/\"v2\"");
  EXPECT_EQ(r->last_modified, kDate - kDay);
  const auto bad = refreshed_by_304(*stored, std::vector<Header>{{"ETag", "nope"}}, kTimes,
                                    {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(bad->etag, "");  // replaced by an invalid one: none
}

TEST(Refresh, TheLifetimeIsRecomputedFromTheMergedFields) {
  // A heuristic entry whose 304 brings a later Date: the heuristic grows with it.
  const auto stored =
      build({{"Date", kDateText}, {"Last-Modified", "Sat, 05 Nov 1994 22:49:37 GMT"}});
  EXPECT_EQ(stored->lifetime, 3600);
  const auto r =
      refreshed_by_304(*stored, std::vector<Header>{{"Date", "Sun, 06 Nov 1994 18:49:37 GMT"}},
                       kTimes, {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(r->lifetime, 7200);
  EXPECT_TRUE(r->heuristic);
  // Explicit freshness in the 304 ends the heuristic.
  const auto e = refreshed_by_304(*stored, std::vector<Header>{{"Cache-Control", "max-age=10"}},
                                  kTimes, {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(e->lifetime, 10);
  EXPECT_FALSE(e->heuristic);
  // An Expires in the 304 is measured from the merged Date: the 304's receipt when it has
  // none (kDate + 2).
  const auto x =
      refreshed_by_304(*stored, std::vector<Header>{{"Expires", "Sun, 06 Nov 1994 08:59:37 GMT"}},
                       kTimes, {.fraction = 0.1, .max_seconds = kDay});
  EXPECT_EQ(x->lifetime, 598);
}

TEST(Refresh, OutlivesTheStoredEntry) {
  auto stored = stored_entry();
  // Heap-allocated, so reading it after it is gone is caught by AddressSanitizer.
  auto value = std::make_unique<std::string>("a value long enough not to fit in a string");
  std::vector<Header> nm = {{"X-New", *value}, {"Date", kDateText}};
  const auto r = refreshed_by_304(*stored, nm, kTimes, {.fraction = 0.1, .max_seconds = kDay});
  stored.reset();
  value.reset();
  nm.clear();
  std::string all;
  for (const Header& h : r->headers) all.append(h.name).append("=").append(h.value).append(";");
  EXPECT_EQ(all,
            "Content-Type=text/html;ETag=\"v1\";"
            "Cache-Control=max-age=60;X-A=1;Vary=Accept-Encoding;X-A=2;Content-Encoding=gzip;"
            "X-New=a value long enough not to fit in a string;Date=Sun, 06 Nov 1994 08:49:37 GMT;");
}

}  // namespace
}  // namespace portico::cache
