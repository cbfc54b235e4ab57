// Plain proxying: forwarding headers, hop-by-hop headers, keep-alive reuse towards the upstream,
// pipelining, several listeners and workers, load balancing over endpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/ProxyConfig.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

std::string Joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

TEST(ProxyBasic, GetIsProxiedWithForwardingHeaders) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  std::string err;
  auto r =
      Fetch(cfg.port,
            Get("/some/path?x=1&y=two", {{"Host", "client.example:8080"}, {"User-Agent", "it"}}),
            {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->body, "ok GET /some/path?x=1&y=two");

  ASSERT_TRUE(up.last_request());
  HttpRequest req = *up.last_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/some/path?x=1&y=two");
  EXPECT_EQ(req.headers.Value("Host"), "client.example:8080") << req.Describe();
  EXPECT_EQ(req.headers.Value("X-Forwarded-For"), "127.0.0.1") << req.Describe();
  EXPECT_EQ(req.headers.Value("X-Forwarded-Proto"), "http") << req.Describe();
  EXPECT_EQ(req.headers.Value("X-Forwarded-Host"), "client.example:8080") << req.Describe();
  EXPECT_EQ(req.headers.Count("X-Request-Id"), 1u) << req.Describe();
  EXPECT_FALSE(req.headers.Value("X-Request-Id").empty());
  EXPECT_EQ(req.headers.Value("User-Agent"), "it");
}

TEST(ProxyBasic, RequestIdIsGeneratedPerRequestAndKeptWhenSent) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port)) << c.error();
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/gen")));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ids.insert(up.last_request()->headers.Value("X-Request-Id"));
  }
  EXPECT_EQ(ids.size(), 3u) << "generated request ids must differ per request";
  EXPECT_EQ(ids.count(""), 0u);

  ASSERT_TRUE(c.Send(Get("/kept", {{"X-Request-Id", "client-id-42"}})));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  HttpRequest req = *up.last_request();
  EXPECT_EQ(req.headers.All("X-Request-Id"), std::vector<std::string>{"client-id-42"})
      << req.Describe();
}

// Assumption: like nginx's $proxy_add_x_forwarded_for and Envoy, an existing X-Forwarded-For is
// appended to rather than replaced.
TEST(ProxyBasic, ExistingXForwardedForIsAppendedTo) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  std::string err;
  auto r = Fetch(cfg.port, Get("/xff", {{"X-Forwarded-For", "192.0.2.7"}}), {}, &err);
  ASSERT_TRUE(r) << err;
  HttpRequest req = *up.last_request();
  EXPECT_EQ(Joined(req.headers.All("X-Forwarded-For")), "192.0.2.7, 127.0.0.1") << req.Describe();
}

TEST(ProxyBasic, HostRewrite) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.host_rewrite = "internal.example";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  std::string err;
  auto r = Fetch(cfg.port, Get("/rw", {{"Host", "public.example"}}), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);
  HttpRequest req = *up.last_request();
  EXPECT_EQ(req.headers.All("Host"), std::vector<std::string>{"internal.example"})
      << req.Describe();
  EXPECT_EQ(req.headers.Value("X-Forwarded-Host"), "public.example") << req.Describe();
}

TEST(ProxyBasic, HopByHopHeadersAreNotForwardedToUpstream) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  std::string err;
  auto r = Fetch(cfg.port,
                 Get("/hop", {{"Connection", "keep-alive, X-Hop-Custom"},
                              {"Keep-Alive", "timeout=5"},
                              {"Proxy-Connection", "keep-alive"},
                              {"TE", "trailers"},
                              {"Upgrade", "h2c"},
                              {"X-Hop-Custom", "secret"},
                              {"X-End-To-End", "kept"},
                              {"X-Multi", "a"},
                              {"X-Multi", "b"}}),
                 {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);
  HttpRequest req = *up.last_request();
  for (const char* name : {"Keep-Alive", "Proxy-Connection", "TE", "Upgrade", "X-Hop-Custom"}) {
    EXPECT_FALSE(req.headers.Has(name)) << name << " was forwarded:\n" << req.Describe();
  }
  EXPECT_FALSE(req.headers.HasToken("Connection", "x-hop-custom")) << req.Describe();
  EXPECT_EQ(req.headers.Value("X-End-To-End"), "kept");
  EXPECT_EQ(Joined(req.headers.All("X-Multi")), "a, b") << req.Describe();
}

TEST(ProxyBasic, HopByHopHeadersAreNotForwardedToClient) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.headers.Add("Connection", "X-Up-Hop");
    r.headers.Add("Keep-Alive", "timeout=5, max=100");
    r.headers.Add("Proxy-Connection", "keep-alive");
    r.headers.Add("Upgrade", "foo");
    r.headers.Add("X-Up-Hop", "secret");
    r.headers.Add("X-Up-End", "kept");
    r.headers.Add("Set-Cookie", "a=1");
    r.headers.Add("Set-Cookie", "b=2");
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/hop")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  for (const char* name : {"Keep-Alive", "Proxy-Connection", "Upgrade", "X-Up-Hop"}) {
    EXPECT_FALSE(r->headers.Has(name)) << name << " reached the client:\n" << r->Describe();
  }
  EXPECT_FALSE(r->headers.HasToken("Connection", "x-up-hop")) << r->Describe();
  EXPECT_EQ(r->headers.Value("X-Up-End"), "kept");
  EXPECT_EQ(r->headers.All("Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}))
      << "Set-Cookie headers must stay separate:\n"
      << r->Describe();
  // The connection is still usable.
  ASSERT_TRUE(c.Send(Get("/again")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "ok GET /again");
}

TEST(ProxyBasic, UpstreamStatusHeadersAndBodyPassThrough) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r;
    if (req.target == "/created") {
      r.status = 201;
      r.headers.Add("Location", "/things/7");
      r.body = "made";
    } else {
      r.status = 503;
      r.reason = "Service Unavailable";
      r.headers.Add("X-Upstream-State", "down");
      r.headers.Add("Retry-After", "7");
      r.body = "upstream says no";
    }
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/down")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers.Value("X-Upstream-State"), "down");
  EXPECT_EQ(r->headers.Value("Retry-After"), "7");
  EXPECT_EQ(r->body, "upstream says no");
  ASSERT_TRUE(c.Send(Get("/created")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->headers.Value("Location"), "/things/7");
  EXPECT_EQ(r->body, "made");
}

TEST(ProxyBasic, MethodsAndRequestBodiesPassThrough) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = EchoResponse(req);
    r.headers.Add("X-Method", req.method);
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  for (std::string method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    std::string body = "body of " + method;
    ASSERT_TRUE(c.Send(Request(method, "/m", {{"Content-Type", "text/plain"}}, body)));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << method << ": " << c.error();
    EXPECT_EQ(r->status, 200) << method;
    EXPECT_EQ(r->headers.Value("X-Method"), method);
    EXPECT_EQ(r->body, body) << method;
  }
  EXPECT_EQ(up.requests_received(), 5u);
}

TEST(ProxyBasic, KeepAliveOneClientConnectionUsesOneUpstreamConnection) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  for (int i = 0; i < 50; ++i) {
    std::string path = "/ka/" + std::to_string(i);
    ASSERT_TRUE(c.Send(Get(path))) << c.error();
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << "request " << i << ": " << c.error();
    ASSERT_EQ(r->body, "ok GET " + path);
  }
  EXPECT_EQ(up.requests_received(), 50u);
  EXPECT_EQ(up.connections_accepted(), 1u) << "upstream connections are not reused";
}

TEST(ProxyBasic, KeepAliveManyClientConnectionsShareOneUpstreamConnection) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  for (int i = 0; i < 50; ++i) {
    std::string err;
    auto r = Fetch(cfg.port, Get("/each/" + std::to_string(i)), {}, &err);
    ASSERT_TRUE(r) << "connection " << i << ": " << err;
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_EQ(up.requests_received(), 50u);
  EXPECT_EQ(up.connections_accepted(), 1u) << "the worker's upstream pool is not reused";
}

// 100 small requests on one connection take well under 2 s on loopback; a Nagle/delayed-ACK
// stall (head and body written separately without TCP_NODELAY) costs ~40 ms each and shows here.
TEST(ProxyBasic, SequentialRequestsHaveNoWriteStalls) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.access_log = "off";
  cfg.routes_before =
      "      - name: hello\n"
      "        match: { path: /hello }\n"
      "        respond: { status: 200, body: \"hi\\n\" }\n";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  for (const char* path : {"/hello", "/proxied"}) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(cfg.port));
    auto start = Clock::now();
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(c.Send(Get(path)));
      auto r = c.ReadResponse();
      ASSERT_TRUE(r) << c.error();
      ASSERT_EQ(r->status, 200);
    }
    double ms = MsSince(start);
    EXPECT_LT(ms, 2000) << "100 requests to " << path << " took " << ms << " ms";
  }
  // Request bodies written apart from their heads, as many clients do.
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  auto start = Clock::now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(c.Send(Request("POST", "/post", {{"Content-Length", "5"}})));
    ASSERT_TRUE(c.Send("hello"));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200);
  }
  double ms = MsSince(start);
  EXPECT_LT(ms, 2000) << "100 POST requests took " << ms << " ms";
}

TEST(ProxyBasic, PipelinedRequestsAnsweredInOrder) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    // Earlier requests answer more slowly, so answering out of order would show.
    if (req.target == "/p0") r.delay = Ms{150};
    if (req.target == "/p1") r.delay = Ms{80};
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += Get("/p" + std::to_string(i));
  ASSERT_TRUE(c.Send(batch));
  auto rs = c.ReadResponses(5, ReadOptions{.timeout = Ms{5000}});
  ASSERT_EQ(rs.size(), 5u) << c.error();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rs[i].status, 200);
    EXPECT_EQ(rs[i].body, "ok GET /p" + std::to_string(i)) << "response " << i;
  }
}

TEST(ProxyBasic, PipelinedRespondRoutesAndProxiedRequestsMixed) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.routes_before =
      "      - name: hello\n"
      "        match: { path: /hello }\n"
      "        respond: { status: 200, body: \"hi\\n\" }\n";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/a") + Get("/hello") + Get("/b") + Get("/hello")));
  auto rs = c.ReadResponses(4);
  ASSERT_EQ(rs.size(), 4u) << c.error();
  EXPECT_EQ(rs[0].body, "ok GET /a");
  EXPECT_EQ(rs[1].body, "hi\n");
  EXPECT_EQ(rs[2].body, "ok GET /b");
  EXPECT_EQ(rs[3].body, "hi\n");
}

TEST(ProxyBasic, TwoListeners) {
  TestUpstream up;
  uint16_t a = FreePort();
  uint16_t b = FreePort();
  PorticoOptions o;
  o.config = Fill(R"(workers: 1
log: { level: info, access_log: off }
listeners:
  - name: first
    address: 127.0.0.1:{{A}}
    routes:
      - name: who
        match: { path: /who }
        respond: { status: 200, body: "first" }
      - name: proxy
        match: { path_prefix: / }
        upstream: backend
  - name: second
    address: 127.0.0.1:{{B}}
    routes:
      - name: who
        match: { path: /who }
        respond: { status: 200, body: "second" }
upstreams:
  - name: backend
    endpoints: [ {{UP}} ]
    timeouts: { connect: 1s, response: 2s }
)",
                  {{"A", std::to_string(a)}, {"B", std::to_string(b)}, {"UP", up.address()}});
  o.ready_ports = {a, b};
  PorticoProcess proxy(o);
  ASSERT_TRUE(proxy.Start());
  std::string err;
  auto r = Fetch(a, Get("/who"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->body, "first");
  r = Fetch(b, Get("/who"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->body, "second");
  r = Fetch(a, Get("/via"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->body, "ok GET /via");
  r = Fetch(b, Get("/via"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 404) << "the second listener has no route for /via";
}

TEST(ProxyBasic, TwoWorkersServeConcurrentClients) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.workers = "2";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  std::vector<HttpClient> clients(20);
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i].Connect(cfg.port)) << clients[i].error();
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i].Send(Get("/w/" + std::to_string(i))));
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      auto r = clients[i].ReadResponse();
      ASSERT_TRUE(r) << "client " << i << " round " << round << ": " << clients[i].error();
      EXPECT_EQ(r->body, "ok GET /w/" + std::to_string(i));
    }
  }
  EXPECT_EQ(up.requests_received(), 60u);
  // One pool per worker: at most a couple of upstream connections per worker would be normal;
  // one per request would not.
  EXPECT_LE(up.connections_accepted(), 40u);
}

TEST(ProxyBasic, RequestsAreSpreadOverEndpoints) {
  TestUpstream one;
  TestUpstream two;
  ProxyConfig cfg;
  cfg.endpoints = {one.address(), "{ address: " + two.address() + ", weight: 1 }"};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.Send(Get("/lb")));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200);
  }
  // Default balance is round robin over equal weights.
  EXPECT_GE(one.requests_received(), 5u);
  EXPECT_GE(two.requests_received(), 5u);
  EXPECT_EQ(one.requests_received() + two.requests_received(), 20u);
}

}  // namespace
}  // namespace portico::it
