// The cache filter through the real binary (RFC 9111): what is stored and served, Vary,
// validation, invalidation, collapsing, stale serving, memory bounds, reloads and what the
// client and the admin API see. Each test controls the upstream's answers and checks both
// what reached the upstream and what reached the client.
#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <thread>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kConfig = R"(workers: 2
log: { level: info, access_log: off }
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: cookies
        match: { path_prefix: /cookies }
        filters:
          - cache: { zone: cookies, store_set_cookie: true }
        upstream: origin
      - name: default-ttl
        match: { path_prefix: /default-ttl }
        filters:
          - cache: { zone: defaults, default_ttl: 60s }
        upstream: origin
      - name: canary
        match: { path_prefix: /canary }
        filters:
          - canary: { split: { origin: 99, origin-b: 1 }, sticky: header:x-user, force_header: x-canary, force_from: [127.0.0.0/8] }
          - cache: { zone: canary }
        upstream: origin
      - name: small
        match: { path_prefix: /small }
        filters:
          - cache: { zone: small, max_bytes: 64KiB, max_object_bytes: 30KiB, status_header: x-small-cache }
        upstream: origin
      - name: cached
        match: { path_prefix: / }
        filters:
          - cache: { max_bytes: 8MiB, max_object_bytes: 2MiB{{COLLAPSE}} }
        upstream: origin
upstreams:
  - name: origin
    endpoints: [ "{{ORIGIN}}" ]
    timeouts: { response: 5s }
  - name: origin-b
    endpoints: [ "{{ORIGIN}}" ]
)";

std::string HttpDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::time_t Now() {
  return std::time(nullptr);
}

// An answer with the given fields and body.
UpstreamResponse Answer(std::vector<std::pair<std::string, std::string>> fields,
                        std::string body = "stored body\n", int status = 200) {
  UpstreamResponse r;
  r.status = status;
  for (auto& [k, v] : fields) r.headers.Add(k, v);
  r.body = std::move(body);
  return r;
}

class Cache : public ::testing::Test {
 protected:
  void SetUp() override { Start(""); }

  void Start(std::string collapse) {
    vars_ = {{"PORT", std::to_string(port_)},
             {"ADMIN", std::to_string(admin_port_)},
             {"ORIGIN", origin_.address()},
             {"COLLAPSE", std::move(collapse)}};
    proxy_.reset();
    PorticoOptions o;
    o.config = Fill(kConfig, vars_);
    o.ready_ports = {port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  // The upstream answers every request with `answer(request)`.
  void Serve(UpstreamHandler answer) { origin_.SetHandler(std::move(answer)); }
  void ServeAlways(UpstreamResponse r) {
    Serve([r](const HttpRequest&) { return r; });
  }

  HttpResponse Fetch(std::string_view path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     std::string_view method = "GET") {
    std::string error;
    auto r = it::Fetch(port_, Request(method, path, headers),
                       {.timeout = Ms{5000}, .head = method == "HEAD"}, &error);
    EXPECT_TRUE(r) << error << "\n" << proxy_->DiagnosticTail();
    return r.value_or(HttpResponse{});
  }
  size_t upstream_requests() const { return origin_.requests_received(); }

  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  TestUpstream origin_;
  Vars vars_;
  std::unique_ptr<PorticoProcess> proxy_;
};

// ---- what is stored --------------------------------------------------------------

TEST_F(Cache, FreshResponseIsServedFromTheCacheWithAge) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}}));
  HttpResponse first = Fetch("/fresh");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.Value("x-cache"), "MISS");
  HttpResponse second = Fetch("/fresh");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(second.body, "stored body\n");
  EXPECT_EQ(second.headers.Value("etag"), "\"v1\"");
  EXPECT_EQ(second.headers.Value("cache-control"), "max-age=60");
  ASSERT_TRUE(second.headers.Has("age"));
  EXPECT_LE(std::stoi(second.headers.Value("age")), 2);
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, HeadIsAnsweredFromTheStoredGet) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  Fetch("/head");
  HttpResponse head = Fetch("/head", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(head.headers.Value("content-length"), "12");
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, HeadMissGoesUpstreamAndStoresNothing) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  EXPECT_EQ(Fetch("/headmiss", {}, "HEAD").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(Fetch("/headmiss").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(Fetch("/headmiss").headers.Value("x-cache"), "HIT");
  EXPECT_EQ(upstream_requests(), 2u);
  EXPECT_EQ(origin_.requests()[0].method, "HEAD");
}

TEST_F(Cache, ResponseNoStoreIsNotStored) {
  ServeAlways(Answer({{"Cache-Control", "no-store, max-age=60"}}));
  Fetch("/nostore");
  EXPECT_EQ(Fetch("/nostore").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, ResponsePrivateIsNotStoredByASharedCache) {
  ServeAlways(Answer({{"Cache-Control", "private, max-age=60"}}));
  Fetch("/private");
  EXPECT_EQ(Fetch("/private").headers.Value("x-cache"), "MISS");
  ServeAlways(Answer({{"Cache-Control", "private=\"x-user\", max-age=60"}}));
  Fetch("/private-qualified");
  Fetch("/private-qualified");
  EXPECT_EQ(upstream_requests(), 4u);
}

TEST_F(Cache, RequestNoStoreStoresNothing) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  Fetch("/reqnostore", {{"Cache-Control", "no-store"}});
  EXPECT_EQ(Fetch("/reqnostore").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, SMaxageOverridesMaxAgeForASharedCache) {
  ServeAlways(Answer({{"Cache-Control", "max-age=0, s-maxage=60"}}));
  Fetch("/smaxage");
  EXPECT_EQ(Fetch("/smaxage").headers.Value("x-cache"), "HIT");
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, ExpiresAgainstDateGivesTheLifetime) {
  std::time_t now = Now();
  ServeAlways(Answer({{"Date", HttpDate(now)}, {"Expires", HttpDate(now + 60)}}));
  Fetch("/expires");
  EXPECT_EQ(Fetch("/expires").headers.Value("x-cache"), "HIT");
  // An Expires that is not a date means already expired (RFC 9111 §5.3).
  ServeAlways(Answer({{"Date", HttpDate(now)}, {"Expires", "0"}}));
  Fetch("/expires-invalid");
  EXPECT_NE(Fetch("/expires-invalid").headers.Value("x-cache"), "HIT");
  // max-age wins over Expires.
  ServeAlways(Answer({{"Expires", HttpDate(now + 600)}, {"Cache-Control", "max-age=0"}}));
  Fetch("/expires-maxage");
  EXPECT_NE(Fetch("/expires-maxage").headers.Value("x-cache"), "HIT");
  EXPECT_EQ(upstream_requests(), 5u);
}

TEST_F(Cache, AgeFromUpstreamCountsAgainstFreshness) {
  // Already 100 s old with a 60 s lifetime: stale on arrival (RFC 9111 §4.2.3).
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Age", "100"}}));
  Fetch("/old");
  EXPECT_EQ(Fetch("/old").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
  // 30 s old with 60 s: fresh, and the hit says at least 30.
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Age", "30"}}));
  Fetch("/aged");
  HttpResponse hit = Fetch("/aged");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_GE(std::stoi(hit.headers.Value("age")), 30);
  EXPECT_LE(std::stoi(hit.headers.Value("age")), 33);
  EXPECT_EQ(hit.headers.Count("age"), 1u);
}

TEST_F(Cache, AuthorizationRequestsAreStoredOnlyWhenTheResponseAllowsIt) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  Fetch("/auth", {{"Authorization", "Bearer a"}});
  EXPECT_EQ(Fetch("/auth", {{"Authorization", "Bearer a"}}).headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
  for (const char* cc : {"public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"}) {
    std::string path = std::string("/auth-") + cc[0] + cc[1];
    ServeAlways(Answer({{"Cache-Control", cc}}));
    Fetch(path, {{"Authorization", "Bearer a"}});
    EXPECT_EQ(Fetch(path, {{"Authorization", "Bearer b"}}).headers.Value("x-cache"), "HIT") << cc;
  }
  EXPECT_EQ(upstream_requests(), 5u);
}

TEST_F(Cache, SetCookieResponsesAreNotStoredUnlessTheRouteAllowsIt) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Set-Cookie", "sid=alice"}}));
  Fetch("/setcookie");
  HttpResponse second = Fetch("/setcookie");
  EXPECT_EQ(second.headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
  Fetch("/cookies/a");
  HttpResponse allowed = Fetch("/cookies/a");
  EXPECT_EQ(allowed.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(allowed.headers.Value("set-cookie"), "sid=alice");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, HeuristicFreshnessOnlyForStatusesThatAllowIt) {
  std::time_t now = Now();
  ServeAlways(Answer({{"Date", HttpDate(now)}, {"Last-Modified", HttpDate(now - 10 * 86400)}}));
  Fetch("/heuristic");
  EXPECT_EQ(Fetch("/heuristic").headers.Value("x-cache"), "HIT");
  // 302 is not cacheable by default: no heuristic.
  ServeAlways(Answer({{"Date", HttpDate(now)},
                      {"Last-Modified", HttpDate(now - 10 * 86400)},
                      {"Location", "/elsewhere"}},
                     "", 302));
  Fetch("/heuristic-302");
  EXPECT_EQ(Fetch("/heuristic-302").headers.Value("x-cache"), "MISS");
  // Without Last-Modified there is nothing to guess from.
  ServeAlways(Answer({{"Date", HttpDate(now)}}));
  Fetch("/heuristic-none");
  EXPECT_EQ(Fetch("/heuristic-none").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 5u);
}

TEST_F(Cache, DefaultTtlIsAHeuristicOnlyWhereTheRfcAllowsOne) {
  ServeAlways(Answer({}));  // no freshness information at all
  Fetch("/default-ttl/a");
  EXPECT_EQ(Fetch("/default-ttl/a").headers.Value("x-cache"), "HIT");
  ServeAlways(Answer({{"Location", "/x"}}, "", 302));
  Fetch("/default-ttl/b");
  EXPECT_EQ(Fetch("/default-ttl/b").headers.Value("x-cache"), "MISS");
  ServeAlways(Answer({{"Cache-Control", "max-age=0"}}));
  Fetch("/default-ttl/c");
  EXPECT_EQ(Fetch("/default-ttl/c").headers.Value("x-cache"), "MISS");
  // Routes without it store nothing without freshness information.
  ServeAlways(Answer({}));
  Fetch("/no-default");
  EXPECT_EQ(Fetch("/no-default").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 7u);
}

TEST_F(Cache, ExplicitFreshnessStoresOtherStatuses) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}, "gone\n", 404));
  Fetch("/missing");
  HttpResponse hit = Fetch("/missing");
  EXPECT_EQ(hit.status, 404);
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}, "partial", 206));
  Fetch("/partial");
  EXPECT_EQ(Fetch("/partial").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, PublicMakesAStatusStorableThatIsNotByDefault) {
  std::time_t now = Now();
  ServeAlways(Answer({{"Cache-Control", "public"},
                      {"Date", HttpDate(now)},
                      {"Last-Modified", HttpDate(now - 10 * 86400)},
                      {"Location", "/elsewhere"}},
                     "", 302));
  Fetch("/public-302");
  HttpResponse hit = Fetch("/public-302");
  EXPECT_EQ(hit.status, 302);
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(hit.headers.Value("location"), "/elsewhere");
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, MustUnderstandStoresOnlyStatusesTheCacheUnderstands) {
  // must-understand overrides no-store for a status the cache knows (RFC 9111 §5.2.2.3).
  ServeAlways(Answer({{"Cache-Control", "must-understand, no-store, max-age=60"}}));
  Fetch("/understood");
  EXPECT_EQ(Fetch("/understood").headers.Value("x-cache"), "HIT");
  ServeAlways(Answer({{"Cache-Control", "must-understand, no-store, max-age=60"}}, "odd\n", 299));
  Fetch("/not-understood");
  EXPECT_EQ(Fetch("/not-understood").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, ImmutableAndNoTransformResponsesAreServedAsStored) {
  // Binary bytes, NULs included (spelled out: "\x00b" would be one escape).
  const std::string gz = std::string("\x1f\x8b\x08", 3) + std::string(1, '\0') + "binary" +
                         std::string(1, '\0') + "bytes";
  ServeAlways(Answer({{"Cache-Control", "max-age=60, immutable, no-transform"},
                      {"Content-Type", "application/octet-stream"},
                      {"Content-Encoding", "gzip"}},
                     gz));
  Fetch("/immutable");
  HttpResponse hit = Fetch("/immutable");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(hit.body, gz);
  EXPECT_EQ(hit.headers.Value("content-encoding"), "gzip");
  EXPECT_EQ(hit.headers.Value("content-type"), "application/octet-stream");
  EXPECT_EQ(hit.headers.Value("cache-control"), "max-age=60, immutable, no-transform");
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, HopByHopFieldsAreNeitherStoredNorServed) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"},
                      {"Connection", "x-hop"},
                      {"X-Hop", "secret"},
                      {"Keep-Alive", "timeout=5"},
                      {"X-End-To-End", "kept"}}));
  Fetch("/hop");
  HttpResponse hit = Fetch("/hop");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_FALSE(hit.headers.Has("x-hop"));
  EXPECT_FALSE(hit.headers.Has("keep-alive"));
  EXPECT_EQ(hit.headers.Value("x-end-to-end"), "kept");
  EXPECT_EQ(hit.headers.Count("content-length"), 1u);
}

TEST_F(Cache, RequestsSentToAnotherPoolBypassTheRoutesCache) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  EXPECT_EQ(Fetch("/canary/a", {{"x-canary", "origin-b"}}).headers.Value("x-cache"), "BYPASS");
  EXPECT_EQ(Fetch("/canary/a", {{"x-canary", "origin-b"}}).headers.Value("x-cache"), "BYPASS");
  EXPECT_EQ(Fetch("/canary/a", {{"x-canary", "origin"}}).headers.Value("x-cache"), "MISS");
  EXPECT_EQ(Fetch("/canary/a", {{"x-canary", "origin"}}).headers.Value("x-cache"), "HIT");
  EXPECT_EQ(upstream_requests(), 3u);
}

// ---- Vary ------------------------------------------------------------------------

TEST_F(Cache, VaryKeepsOneVariantPerRequestValue) {
  Serve([](const HttpRequest& req) {
    return Answer({{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Language"}},
                  "lang=" + req.headers.Value("accept-language") + "\n");
  });
  EXPECT_EQ(Fetch("/vary", {{"Accept-Language", "en"}}).body, "lang=en\n");
  EXPECT_EQ(Fetch("/vary", {{"Accept-Language", "fr"}}).body, "lang=fr\n");
  HttpResponse en = Fetch("/vary", {{"Accept-Language", "en"}});
  EXPECT_EQ(en.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(en.body, "lang=en\n");
  HttpResponse fr = Fetch("/vary", {{"Accept-Language", "fr"}});
  EXPECT_EQ(fr.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(fr.body, "lang=fr\n");
  // Absent is a value of its own.
  EXPECT_EQ(Fetch("/vary").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, AResponseVaryingOnAFieldPorticoSetsIsNotStored) {
  // What the upstream saw in X-Forwarded-For (or the flags header) is Portico's, not the
  // client's: the variants could not be told apart by the client's request.
  for (const char* field : {"X-Forwarded-For", "X-Portico-Flags"}) {
    std::string path = std::string("/vary-own-") + field;
    ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Vary", field}}));
    Fetch(path, {{field, "forged"}});
    EXPECT_EQ(Fetch(path, {{field, "forged"}}).headers.Value("x-cache"), "MISS") << field;
  }
  EXPECT_EQ(upstream_requests(), 4u);
}

TEST_F(Cache, VaryStarNeverMatches) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Vary", "*"}}));
  Fetch("/varystar");
  EXPECT_EQ(Fetch("/varystar").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

// ---- validation --------------------------------------------------------------------

TEST_F(Cache, StaleEntryIsRevalidatedAndA304RefreshesItsHeaders) {
  std::atomic<int> version{1};
  Serve([&](const HttpRequest& req) {
    if (req.headers.Value("if-none-match") == "\"v1\"")
      return Answer({{"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}, {"X-Version", "2"}}, "",
                    304);
    return Answer({{"Cache-Control", "max-age=0"}, {"ETag", "\"v1\""}, {"X-Version", "1"}});
  });
  Fetch("/validate");
  HttpResponse revalidated = Fetch("/validate");
  EXPECT_EQ(revalidated.status, 200);
  EXPECT_EQ(revalidated.headers.Value("x-cache"), "REVALIDATED");
  EXPECT_EQ(revalidated.body, "stored body\n");
  EXPECT_EQ(revalidated.headers.Value("x-version"), "2");
  ASSERT_EQ(upstream_requests(), 2u);
  EXPECT_EQ(origin_.requests()[1].headers.Value("if-none-match"), "\"v1\"");
  // The 304's max-age=60 now applies (RFC 9111 §4.3.4).
  HttpResponse hit = Fetch("/validate");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(hit.headers.Value("x-version"), "2");
  EXPECT_EQ(hit.headers.Value("cache-control"), "max-age=60");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, A304ThatMakesTheResponsePrivateIsNotShared) {
  for (const char* field : {"Set-Cookie", "Cache-Control"}) {
    std::string path = std::string("/private304-") + field;
    std::string value = std::string(field) == "Set-Cookie" ? "sid=alice" : "private, max-age=600";
    Serve([&](const HttpRequest& req) {
      if (req.headers.Has("if-none-match"))
        return Answer({{"ETag", "\"a\""}, {field, value}}, "", 304);
      return Answer({{"Cache-Control", "max-age=0"}, {"ETag", "\"a\""}});
    });
    Fetch(path);
    HttpResponse alice = Fetch(path, {{"Cookie", "sid=alice"}});
    EXPECT_EQ(alice.headers.Value("x-cache"), "REVALIDATED") << field;
    EXPECT_EQ(alice.headers.Value(field), value) << field;  // hers alone
    HttpResponse bob = Fetch(path);
    EXPECT_EQ(bob.headers.Value("x-cache"), "MISS") << field;
    EXPECT_NE(bob.headers.Value(field), value) << field;
  }
}

TEST_F(Cache, A304ForAnotherETagUpdatesNothing) {
  Serve([](const HttpRequest& req) {
    if (req.headers.Has("if-none-match")) return Answer({{"ETag", "\"other\""}}, "", 304);
    return Answer({{"Cache-Control", "max-age=0"}, {"ETag", "\"a\""}});
  });
  Fetch("/wrong304");
  EXPECT_EQ(Fetch("/wrong304").status, 502);
  // The stored response was dropped: the next request is a plain miss.
  EXPECT_EQ(Fetch("/wrong304").headers.Value("x-cache"), "MISS");
  ASSERT_EQ(upstream_requests(), 3u);
  EXPECT_FALSE(origin_.requests()[2].headers.Has("if-none-match"));
}

TEST_F(Cache, A304WithoutDateIsDatedOnReceipt) {
  std::time_t now = Now();
  Serve([&](const HttpRequest& req) {
    if (req.headers.Has("if-none-match")) return Answer({{"ETag", "\"d\""}}, "", 304);
    return Answer(
        {{"Cache-Control", "max-age=3600"}, {"ETag", "\"d\""}, {"Date", HttpDate(now - 600)}});
  });
  Fetch("/date304");
  HttpResponse hit = Fetch("/date304");
  EXPECT_GE(std::stoi(hit.headers.Value("age")), 600);
  HttpResponse revalidated = Fetch("/date304", {{"Cache-Control", "no-cache"}});
  EXPECT_EQ(revalidated.headers.Value("x-cache"), "REVALIDATED");
  EXPECT_LE(std::stoi(revalidated.headers.Value("age")), 2);
}

TEST_F(Cache, Http10ClientsFillAndKeepAlive) {
  UpstreamResponse r = Answer({{"Cache-Control", "max-age=60"}}, std::string(3000, 'h'));
  r.chunked = true;
  r.chunk_size = 1000;
  ServeAlways(r);
  HttpClient client;
  ASSERT_TRUE(client.Connect(port_));
  std::string request =
      "GET /http10 HTTP/1.0\r\nHost: test.local\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_TRUE(client.Send(request));
  auto miss = client.ReadResponse({.timeout = Ms{5000}});
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->body, std::string(3000, 'h'));
  // The HTTP/1.0 client got the body de-chunked; the stored copy is the same payload.
  HttpResponse hit = Fetch("/http10");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(hit.body, std::string(3000, 'h'));
  HttpClient keep;
  ASSERT_TRUE(keep.Connect(port_));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(keep.Send(request));
    auto again = keep.ReadResponse({.timeout = Ms{5000}});
    ASSERT_TRUE(again) << keep.error();
    EXPECT_EQ(again->headers.Value("x-cache"), "HIT");
    EXPECT_TRUE(again->headers.HasToken("connection", "keep-alive"));
  }
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, RevalidationUsesLastModifiedWhenThereIsNoETag) {
  std::time_t now = Now();
  std::string modified = HttpDate(now - 3600);
  Serve([&](const HttpRequest& req) {
    if (req.headers.Has("if-modified-since"))
      return Answer({{"Cache-Control", "max-age=0"}}, "", 304);
    return Answer({{"Cache-Control", "max-age=0"}, {"Last-Modified", modified}});
  });
  Fetch("/lastmod");
  EXPECT_EQ(Fetch("/lastmod").headers.Value("x-cache"), "REVALIDATED");
  ASSERT_EQ(upstream_requests(), 2u);
  EXPECT_EQ(origin_.requests()[1].headers.Value("if-modified-since"), modified);
}

TEST_F(Cache, RevalidationAnsweredWithANewResponseReplacesTheEntry) {
  std::atomic<int> version{1};
  Serve([&](const HttpRequest&) {
    int v = version.load();
    return Answer({{"Cache-Control", v == 1 ? "max-age=0" : "max-age=60"},
                   {"ETag", "\"v" + std::to_string(v) + "\""}},
                  "version " + std::to_string(v) + "\n");
  });
  Fetch("/replace");
  version = 2;
  HttpResponse fresh = Fetch("/replace");
  EXPECT_EQ(fresh.headers.Value("x-cache"), "MISS");
  EXPECT_EQ(fresh.body, "version 2\n");
  EXPECT_EQ(Fetch("/replace").body, "version 2\n");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, RequestNoCacheAndPragmaForceRevalidation) {
  Serve([](const HttpRequest& req) {
    if (req.headers.Has("if-none-match"))
      return Answer({{"Cache-Control", "max-age=60"}, {"ETag", "\"a\""}}, "", 304);
    return Answer({{"Cache-Control", "max-age=60"}, {"ETag", "\"a\""}});
  });
  Fetch("/nocache");
  EXPECT_EQ(Fetch("/nocache", {{"Cache-Control", "no-cache"}}).headers.Value("x-cache"),
            "REVALIDATED");
  EXPECT_EQ(Fetch("/nocache", {{"Pragma", "no-cache"}}).headers.Value("x-cache"), "REVALIDATED");
  // Pragma does not count when Cache-Control is there.
  EXPECT_EQ(Fetch("/nocache", {{"Pragma", "no-cache"}, {"Cache-Control", "max-stale=0"}})
                .headers.Value("x-cache"),
            "HIT");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, RequestMaxAgeLimitsTheAgeAccepted) {
  ServeAlways(Answer({{"Cache-Control", "max-age=600"}, {"Age", "30"}}));
  Fetch("/reqmaxage");
  EXPECT_EQ(Fetch("/reqmaxage", {{"Cache-Control", "max-age=300"}}).headers.Value("x-cache"),
            "HIT");
  // Older than the client accepts: fetched again (no validators, so a full miss).
  EXPECT_EQ(Fetch("/reqmaxage", {{"Cache-Control", "max-age=10"}}).headers.Value("x-cache"),
            "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, ResponseNoCacheIsStoredButAlwaysRevalidated) {
  Serve([](const HttpRequest& req) {
    if (req.headers.Has("if-none-match")) return Answer({{"ETag", "\"n\""}}, "", 304);
    return Answer({{"Cache-Control", "no-cache, max-age=60"}, {"ETag", "\"n\""}});
  });
  Fetch("/respnocache");
  EXPECT_EQ(Fetch("/respnocache").headers.Value("x-cache"), "REVALIDATED");
  EXPECT_EQ(Fetch("/respnocache").headers.Value("x-cache"), "REVALIDATED");
  EXPECT_EQ(upstream_requests(), 3u);
}

TEST_F(Cache, ClientConditionalsAreAnsweredFromTheCache) {
  std::time_t now = Now();
  ServeAlways(Answer({{"Cache-Control", "max-age=60"},
                      {"ETag", "\"tag\""},
                      {"Last-Modified", HttpDate(now - 3600)}}));
  Fetch("/conditional");
  HttpResponse strong = Fetch("/conditional", {{"If-None-Match", "\"tag\""}});
  EXPECT_EQ(strong.status, 304);
  EXPECT_EQ(strong.headers.Value("etag"), "\"tag\"");
  EXPECT_TRUE(strong.body.empty());
  // If-None-Match compares weakly.
  EXPECT_EQ(Fetch("/conditional", {{"If-None-Match", "W/\"other\", W/\"tag\""}}).status, 304);
  EXPECT_EQ(Fetch("/conditional", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(Fetch("/conditional", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(Fetch("/conditional", {{"If-Modified-Since", HttpDate(now)}}).status, 304);
  EXPECT_EQ(Fetch("/conditional", {{"If-Modified-Since", HttpDate(now - 7200)}}).status, 200);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(
      Fetch("/conditional", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", HttpDate(now)}})
          .status,
      200);
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, AMissDoesNotPassTheClientsConditionalsUpstream) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"ETag", "\"m\""}}));
  HttpResponse r = Fetch("/miss-conditional", {{"If-None-Match", "\"m\""}});
  ASSERT_EQ(upstream_requests(), 1u);
  EXPECT_FALSE(origin_.requests()[0].headers.Has("if-none-match"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Fetch("/miss-conditional", {{"If-None-Match", "\"m\""}}).status, 304);
}

// ---- serving stale -----------------------------------------------------------------

TEST_F(Cache, MaxStaleServesStaleUnlessTheResponseMustRevalidate) {
  ServeAlways(Answer({{"Cache-Control", "max-age=1"}, {"Age", "10"}}));
  Fetch("/maxstale");
  HttpResponse stale = Fetch("/maxstale", {{"Cache-Control", "max-stale=60"}});
  EXPECT_EQ(stale.headers.Value("x-cache"), "STALE");
  EXPECT_GE(std::stoi(stale.headers.Value("age")), 10);
  EXPECT_EQ(Fetch("/maxstale", {{"Cache-Control", "max-stale"}}).headers.Value("x-cache"), "STALE");
  EXPECT_EQ(Fetch("/maxstale", {{"Cache-Control", "max-stale=5"}}).headers.Value("x-cache"),
            "MISS");
  int n = 0;
  for (const char* cc :
       {"max-age=1, must-revalidate", "max-age=1, proxy-revalidate", "s-maxage=1"}) {
    std::string path = "/mustrevalidate-" + std::to_string(++n);
    ServeAlways(Answer({{"Cache-Control", cc}, {"Age", "10"}}));
    Fetch(path);
    EXPECT_EQ(Fetch(path, {{"Cache-Control", "max-stale=60"}}).headers.Value("x-cache"), "MISS")
        << cc;
  }
}

TEST_F(Cache, MinFreshAsksForMoreFreshnessThanLeft) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}, {"Age", "50"}}));
  Fetch("/minfresh");
  EXPECT_EQ(Fetch("/minfresh", {{"Cache-Control", "min-fresh=5"}}).headers.Value("x-cache"), "HIT");
  EXPECT_EQ(Fetch("/minfresh", {{"Cache-Control", "min-fresh=30"}}).headers.Value("x-cache"),
            "MISS");
}

TEST_F(Cache, OnlyIfCachedAnswers504WithoutAskingTheUpstream) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  EXPECT_EQ(Fetch("/onlyif", {{"Cache-Control", "only-if-cached"}}).status, 504);
  EXPECT_EQ(upstream_requests(), 0u);
  Fetch("/onlyif");
  HttpResponse hit = Fetch("/onlyif", {{"Cache-Control", "only-if-cached"}});
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, StaleWhileRevalidateServesStaleAndRefreshesInTheBackground) {
  std::atomic<int> version{0};
  Serve([&](const HttpRequest& req) {
    int v = ++version;
    if (v == 1)
      return Answer({{"Cache-Control", "max-age=1, stale-while-revalidate=600"},
                     {"Age", "5"},
                     {"ETag", "\"v1\""}},
                    "version 1\n");
    // The refresh carries the stored validators; the new version replaces the entry.
    return Answer({{"Cache-Control", "max-age=600"},
                   {"ETag", "\"v2\""},
                   {"X-Asked-With", req.headers.Value("if-none-match")}},
                  "version 2\n");
  });
  Fetch("/swr");
  HttpResponse stale = Fetch("/swr");
  EXPECT_EQ(stale.headers.Value("x-cache"), "STALE");
  EXPECT_EQ(stale.body, "version 1\n");
  ASSERT_TRUE(origin_.WaitForRequests(2, Ms{3000}));
  // The refresh lands in the store shortly after the upstream answered it.
  HttpResponse fresh;
  Deadline deadline(Ms{3000});
  do {
    fresh = Fetch("/swr");
  } while (fresh.body != "version 2\n" && !deadline.Expired() && proxy_->PauseWhileRunning(Ms{20}));
  EXPECT_EQ(fresh.body, "version 2\n");
  EXPECT_EQ(fresh.headers.Value("x-cache"), "HIT");
  EXPECT_EQ(fresh.headers.Value("x-asked-with"), "\"v1\"");
  EXPECT_EQ(upstream_requests(), 2u);
  // Past stale-while-revalidate, the client waits for the upstream instead.
  ServeAlways(Answer({{"Cache-Control", "max-age=1, stale-while-revalidate=2"}, {"Age", "10"}}));
  Fetch("/swr-expired");
  EXPECT_EQ(Fetch("/swr-expired").headers.Value("x-cache"), "MISS");
}

TEST_F(Cache, StaleIfErrorServesStaleWhenTheUpstreamFails) {
  std::atomic<int> status{200};
  Serve([&](const HttpRequest&) {
    return Answer({{"Cache-Control", "max-age=1, stale-if-error=600"}, {"Age", "5"}},
                  status == 200 ? "good\n" : "broken\n", status);
  });
  Fetch("/sie");
  status = 503;
  HttpResponse stale = Fetch("/sie");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.headers.Value("x-cache"), "STALE");
  EXPECT_EQ(stale.body, "good\n");
  EXPECT_EQ(upstream_requests(), 2u);
  // Without stale-if-error the error goes through.
  Serve([&](const HttpRequest&) {
    return Answer({{"Cache-Control", "max-age=1"}, {"Age", "5"}},
                  status == 200 ? "good\n" : "broken\n", status);
  });
  status = 200;
  Fetch("/nosie");
  status = 503;
  EXPECT_EQ(Fetch("/nosie").status, 503);
}

TEST_F(Cache, StaleIfErrorCoversAnUpstreamThatIsGone) {
  ServeAlways(Answer({{"Cache-Control", "max-age=1, stale-if-error=600"}, {"Age", "5"}}));
  Fetch("/gone");
  // The upstream stops answering: connections are reset.
  Serve([](const HttpRequest&) {
    UpstreamResponse r;
    r.raw = "";
    r.close_silently = true;
    return r;
  });
  HttpResponse stale = Fetch("/gone");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.headers.Value("x-cache"), "STALE");
}

// ---- invalidation ------------------------------------------------------------------

TEST_F(Cache, UnsafeMethodsInvalidateTheTargetAndLocation) {
  Serve([](const HttpRequest& req) {
    if (req.method == "POST")
      return Answer({{"Location", "/items/2"}, {"Content-Location", "http://test.local/items/3"}},
                    "made\n", 201);
    if (req.method == "PATCH") return Answer({{"Location", "../items/4"}}, "moved\n", 200);
    if (req.method == "PUT") return Answer({}, "nope\n", 500);
    return Answer({{"Cache-Control", "max-age=60"}}, "item " + req.target + "\n");
  });
  for (const char* p : {"/items", "/items/2", "/items/3"}) Fetch(p);
  for (const char* p : {"/items", "/items/2", "/items/3"})
    EXPECT_EQ(Fetch(p).headers.Value("x-cache"), "HIT") << p;
  // A failed unsafe request invalidates nothing.
  EXPECT_EQ(Fetch("/items", {}, "PUT").status, 500);
  EXPECT_EQ(Fetch("/items").headers.Value("x-cache"), "HIT");
  HttpResponse post = Fetch("/items", {}, "POST");
  EXPECT_EQ(post.status, 201);
  EXPECT_EQ(post.headers.Value("x-cache"), "BYPASS");
  for (const char* p : {"/items", "/items/2", "/items/3"})
    EXPECT_EQ(Fetch(p).headers.Value("x-cache"), "MISS") << p;
  // A relative reference is resolved against the target.
  Fetch("/items/4");
  EXPECT_EQ(Fetch("/items/4").headers.Value("x-cache"), "HIT");
  EXPECT_EQ(Fetch("/items/x", {}, "PATCH").status, 200);
  EXPECT_EQ(Fetch("/items/4").headers.Value("x-cache"), "MISS");
}

TEST_F(Cache, AnInvalidationDuringAFetchIsNotUndoneByIt) {
  Serve([](const HttpRequest& req) {
    if (req.method == "POST") return Answer({}, "changed\n");
    UpstreamResponse r = Answer({{"Cache-Control", "max-age=60"}}, "before the change\n");
    r.delay = Ms{600};
    return r;
  });
  std::thread reader([&] { it::Fetch(port_, Get("/racing"), {.timeout = Ms{5000}}); });
  ASSERT_TRUE(origin_.WaitForRequestHeads(1, Ms{3000}));
  EXPECT_EQ(Fetch("/racing", {}, "POST").status, 200);  // lands while the GET is in flight
  reader.join();
  // The answer fetched before the change is not stored over the invalidation.
  EXPECT_EQ(Fetch("/racing").headers.Value("x-cache"), "MISS");
}

TEST_F(Cache, AdminPurgesByKeyAndByPrefix) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  for (const char* p : {"/p/a", "/p/b", "/q"}) Fetch(p);
  AdminClient admin(admin_port_);
  auto one = admin.Send("DELETE", "/-/cache/default?key=test.local/p/a");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;
  EXPECT_NE(one->body.find("\"purged\":1"), std::string::npos) << one->body;
  EXPECT_EQ(Fetch("/p/a").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(Fetch("/p/b").headers.Value("x-cache"), "HIT");
  auto prefix = admin.Send("DELETE", "/-/cache/default?prefix=test.local/p/");
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->status, 200) << prefix->body;
  EXPECT_NE(prefix->body.find("\"purged\":2"), std::string::npos) << prefix->body;
  EXPECT_EQ(Fetch("/p/b").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(Fetch("/q").headers.Value("x-cache"), "HIT");
  auto unknown = admin.Send("DELETE", "/-/cache/nosuchzone?prefix=");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto neither = admin.Send("DELETE", "/-/cache/default");
  ASSERT_TRUE(neither);
  EXPECT_EQ(neither->status, 400);
}

// ---- under load --------------------------------------------------------------------

TEST_F(Cache, ConcurrentMissesOfOneKeyMakeOneUpstreamRequest) {
  UpstreamResponse slow = Answer({{"Cache-Control", "max-age=60"}}, "slow body\n");
  slow.delay = Ms{800};  // every client arrives well within it, sanitizer builds too
  ServeAlways(slow);
  constexpr int kClients = 12;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      auto r = it::Fetch(port_, Get("/collapse"), {.timeout = Ms{5000}});
      if (r && r->status == 200 && r->body == "slow body\n") ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(upstream_requests(), 1u);
}

TEST_F(Cache, CollapsedRequestsGoUpstreamWhenTheFillCannotBeStored) {
  UpstreamResponse slow = Answer({{"Cache-Control", "no-store"}}, "private\n");
  slow.delay = Ms{300};
  ServeAlways(slow);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto r = it::Fetch(port_, Get("/collapse-nostore"), {.timeout = Ms{5000}});
      if (r && r->status == 200) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(upstream_requests(), 4u);
}

TEST_F(Cache, CollapseWaitIsBounded) {
  Start(", collapse: { timeout: 200ms }");
  UpstreamResponse slow = Answer({{"Cache-Control", "max-age=60"}}, "slow\n");
  slow.delay = Ms{1500};
  ServeAlways(slow);
  std::thread leader([&] { it::Fetch(port_, Get("/bounded"), {.timeout = Ms{5000}}); });
  ASSERT_TRUE(origin_.WaitForRequestHeads(1, Ms{3000}));
  auto start = std::chrono::steady_clock::now();
  auto follower = it::Fetch(port_, Get("/bounded"), {.timeout = Ms{5000}});
  leader.join();
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->status, 200);
  // It gave up waiting and asked the upstream itself.
  EXPECT_EQ(upstream_requests(), 2u);
  (void)start;
}

// ---- memory ------------------------------------------------------------------------

TEST_F(Cache, ObjectsLargerThanMaxObjectBytesAreNotStored) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}, std::string(40 * 1024, 'x')));
  Fetch("/small/big");
  EXPECT_EQ(Fetch("/small/big").headers.Value("x-small-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

TEST_F(Cache, LeastRecentlyUsedEntriesAreEvictedAtMaxBytes) {
  // Two fit in 64 KiB, three do not.
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}, std::string(25 * 1024, 'y')));
  Fetch("/small/1");
  Fetch("/small/2");
  Fetch("/small/1");  // 1 is now the most recently used
  Fetch("/small/3");  // 64 KiB holds two: 2 goes
  EXPECT_EQ(Fetch("/small/1").headers.Value("x-small-cache"), "HIT");
  EXPECT_EQ(Fetch("/small/3").headers.Value("x-small-cache"), "HIT");
  EXPECT_EQ(Fetch("/small/2").headers.Value("x-small-cache"), "MISS");
  AdminClient admin(admin_port_);
  auto metrics = admin.Metrics();
  ASSERT_TRUE(metrics);
  auto evictions = metrics->Value("portico_cache_evictions_total", {{"zone", "small"}});
  ASSERT_TRUE(evictions);
  EXPECT_GE(*evictions, 1.0);
  auto bytes = metrics->Value("portico_cache_bytes", {{"zone", "small"}});
  ASSERT_TRUE(bytes);
  EXPECT_LE(*bytes, 64.0 * 1024);
  EXPECT_GT(*bytes, 40.0 * 1024);
}

TEST_F(Cache, ChunkedResponsesAreStoredWhole) {
  UpstreamResponse r = Answer({{"Cache-Control", "max-age=60"}}, std::string(100000, 'c'));
  r.chunked = true;
  r.chunk_size = 7000;
  ServeAlways(r);
  HttpResponse miss = Fetch("/chunked");
  EXPECT_EQ(miss.body.size(), 100000u);
  HttpResponse hit = Fetch("/chunked");
  EXPECT_EQ(hit.headers.Value("x-cache"), "HIT");
  EXPECT_FALSE(hit.chunked);
  EXPECT_EQ(hit.headers.Value("content-length"), "100000");
  EXPECT_EQ(hit.body, std::string(100000, 'c'));
}

TEST_F(Cache, AMissStreamsToTheClientBeforeTheUpstreamIsDone) {
  UpstreamResponse r = Answer({{"Cache-Control", "max-age=60"}}, std::string(5 * 4096, 's'));
  r.chunk_size = 4096;
  r.chunk_delay = Ms{150};
  ServeAlways(r);
  HttpClient client;
  ASSERT_TRUE(client.Connect(port_));
  ASSERT_TRUE(client.Send(Get("/streaming")));
  // The first piece arrives while the upstream still has four to send (600 ms away).
  std::string first;
  ASSERT_EQ(client.RecvRaw(&first, 65536, Ms{400}), IoStatus::kOk);
  EXPECT_NE(first.find("200"), std::string::npos);
  EXPECT_LT(origin_.requests_received(), 2u);
  auto rest = client.ReadResponse({.timeout = Ms{5000}});
  (void)rest;
  EXPECT_EQ(Fetch("/streaming").headers.Value("x-cache"), "HIT");
}

TEST_F(Cache, ContentsSurviveAReloadThatLeavesTheCacheAlone) {
  ServeAlways(Answer({{"Cache-Control", "max-age=600"}}));
  Fetch("/reload");
  ASSERT_TRUE(proxy_->Reload(Fill(kConfig, vars_) + "# touched\n", 2));
  EXPECT_EQ(Fetch("/reload").headers.Value("x-cache"), "HIT");
  Vars changed = vars_;
  changed["COLLAPSE"] = ", collapse: { max_waiters: 8 }";
  ASSERT_TRUE(proxy_->Reload(Fill(kConfig, changed), 3));
  // Route settings changed, the zone did not.
  EXPECT_EQ(Fetch("/reload").headers.Value("x-cache"), "HIT");
  std::string resized = Fill(kConfig, vars_);
  resized.replace(resized.find("max_bytes: 8MiB"), 15, "max_bytes: 9MiB");
  ASSERT_TRUE(proxy_->Reload(resized, 4));
  EXPECT_EQ(Fetch("/reload").headers.Value("x-cache"), "MISS");
  EXPECT_EQ(upstream_requests(), 2u);
}

// ---- visible -----------------------------------------------------------------------

TEST_F(Cache, MetricsCountWhatTheCacheDid) {
  ServeAlways(Answer({{"Cache-Control", "max-age=60"}}));
  Fetch("/m");
  Fetch("/m");
  Fetch("/m");
  Fetch("/elsewhere", {}, "POST");
  AdminClient admin(admin_port_);
  auto metrics = admin.Metrics();
  ASSERT_TRUE(metrics);
  auto value = [&](const char* result) {
    return metrics->Value("portico_cache_requests_total", {{"zone", "default"}, {"result", result}})
        .value_or(-1);
  };
  EXPECT_EQ(value("hit"), 2);
  EXPECT_EQ(value("miss"), 1);
  EXPECT_EQ(value("bypass"), 1);
  EXPECT_EQ(value("stale"), 0);
  EXPECT_EQ(metrics->Value("portico_cache_entries", {{"zone", "default"}}).value_or(-1), 1);
  EXPECT_GT(metrics->Value("portico_cache_bytes", {{"zone", "default"}}).value_or(-1), 12);
}

}  // namespace
}  // namespace portico::it
