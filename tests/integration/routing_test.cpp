// Route selection: respond routes, no route (404), host / path / method / header / query
// matchers, first match wins.
#include <gtest/gtest.h>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"

namespace portico::it {
namespace {

// Every respond route answers with its own name as the body.
constexpr const char* kRoutes = R"(workers: 1
log: { level: info, access_log: off }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, headers: { content-type: text/plain, x-route: hello }, body: "hi\n" }
      - name: teapot
        match: { path: /teapot }
        respond: { status: 418, headers: { x-tea: earl-grey }, body: "short and stout" }
      - name: host-exact
        match: { host: api.example.com, path_prefix: /h/ }
        respond: { status: 200, body: "host-exact" }
      - name: host-wild
        match: { host: "*.wild.example", path_prefix: /h/ }
        respond: { status: 200, body: "host-wild" }
      - name: host-list
        match: { host: [one.example, two.example], path_prefix: /h/ }
        respond: { status: 200, body: "host-list" }
      - name: regex
        match: { path_regex: "/users/[0-9]+" }
        respond: { status: 200, body: "regex" }
      - name: methods
        match: { path: /m, methods: [POST, PUT] }
        respond: { status: 200, body: "methods" }
      - name: hdr-exact
        match: { path: /hdr, headers: [ { name: x-tenant, exact: blue } ] }
        respond: { status: 200, body: "hdr-exact" }
      - name: hdr-regex
        match: { path: /hdr, headers: [ { name: x-tenant, regex: "^gre+n$" } ] }
        respond: { status: 200, body: "hdr-regex" }
      - name: hdr-present
        match: { path: /hdr, headers: [ { name: x-debug, present: true } ] }
        respond: { status: 200, body: "hdr-present" }
      - name: q-exact
        match: { path: /q, query: [ { name: mode, exact: fast } ] }
        respond: { status: 200, body: "q-exact" }
      - name: q-regex
        match: { path: /q, query: [ { name: id, regex: "^[0-9]+$" } ] }
        respond: { status: 200, body: "q-regex" }
      - name: q-present
        match: { path: /q, query: [ { name: flag, present: true } ] }
        respond: { status: 200, body: "q-present" }
      - name: first
        match: { path_prefix: /first }
        respond: { status: 200, body: "first" }
      - name: second
        match: { path: /first/x }
        respond: { status: 200, body: "second" }
      - name: prefix
        match: { path_prefix: /api/ }
        respond: { status: 200, body: "prefix" }
)";

class Routing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    port_ = FreePort();
    PorticoOptions o;
    o.config = Fill(kRoutes, {{"PORT", std::to_string(port_)}});
    o.ready_ports = {port_};
    proxy_ = new PorticoProcess(o);
    start_result_ = new ::testing::AssertionResult(proxy_->Start());
  }
  static void TearDownTestSuite() {
    delete proxy_;
    delete start_result_;
    proxy_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(*start_result_);
    ASSERT_TRUE(proxy_->Running()) << proxy_->DiagnosticTail();
  }

  // Status and body for one request on a fresh connection ("" body and status 0 on failure).
  static std::pair<int, std::string> Ask(
      const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
      const std::string& method = "GET") {
    std::string err;
    auto r = Fetch(port_, Request(method, target, headers), {}, &err);
    if (!r) {
      ADD_FAILURE() << method << " " << target << ": " << err;
      return {0, ""};
    }
    return {r->status, r->status == 404 ? "" : r->body};
  }
  static std::string Route(const std::string& target,
                           std::vector<std::pair<std::string, std::string>> headers = {},
                           const std::string& method = "GET") {
    auto [status, body] = Ask(target, std::move(headers), method);
    return status == 404 ? "404" : body;
  }

  static uint16_t port_;
  static PorticoProcess* proxy_;
  static ::testing::AssertionResult* start_result_;
};

uint16_t Routing::port_ = 0;
PorticoProcess* Routing::proxy_ = nullptr;
::testing::AssertionResult* Routing::start_result_ = nullptr;

TEST_F(Routing, RespondRouteAnswersWithItsStatusHeadersAndBody) {
  std::string err;
  auto r = Fetch(port_, Get("/hello"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers.Value("content-type"), "text/plain");
  EXPECT_EQ(r->headers.Value("x-route"), "hello");
  EXPECT_EQ(r->body, "hi\n");
  r = Fetch(port_, Get("/teapot"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(r->headers.Value("x-tea"), "earl-grey");
  EXPECT_EQ(r->body, "short and stout");
}

TEST_F(Routing, RespondRouteAnswersHeadWithoutBody) {
  HttpClient c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Send(Request("HEAD", "/hello")));
  auto r = c.ReadResponse(ReadOptions{.head = true});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(c.Send(Get("/hello")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << "HEAD answer carried a body, or the connection broke: " << c.error();
  EXPECT_EQ(r->body, "hi\n");
}

TEST_F(Routing, NoMatchingRouteIs404AndConnectionStaysUsable) {
  HttpClient c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Send(Get("/nothing/here")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(c.Send(Get("/hello")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(Routing, ExactPath) {
  EXPECT_EQ(Route("/hello"), "hi\n");
  EXPECT_EQ(Route("/hello?x=1"), "hi\n") << "the query string is not part of the path";
  EXPECT_EQ(Route("/hello/"), "404");
  EXPECT_EQ(Route("/hellox"), "404");
  EXPECT_EQ(Route("/HELLO"), "404") << "paths are case-sensitive";
}

TEST_F(Routing, PathPrefix) {
  EXPECT_EQ(Route("/api/"), "prefix");
  EXPECT_EQ(Route("/api/v1/users?limit=3"), "prefix");
  EXPECT_EQ(Route("/api"), "404");
}

TEST_F(Routing, PathRegexMatchesTheWholePath) {
  EXPECT_EQ(Route("/users/42"), "regex");
  EXPECT_EQ(Route("/users/42?x=y"), "regex");
  EXPECT_EQ(Route("/users/abc"), "404");
  EXPECT_EQ(Route("/users/42/posts"), "404");
  EXPECT_EQ(Route("/v2/users/42"), "404");
}

TEST_F(Routing, HostExactIgnoresCaseAndPort) {
  EXPECT_EQ(Route("/h/x", {{"Host", "api.example.com"}}), "host-exact");
  EXPECT_EQ(Route("/h/x", {{"Host", "API.Example.COM:8080"}}), "host-exact");
  EXPECT_EQ(Route("/h/x", {{"Host", "other.example"}}), "404");
  EXPECT_EQ(Route("/h/x", {{"Host", "xapi.example.com"}}), "404");
}

TEST_F(Routing, HostWildcard) {
  EXPECT_EQ(Route("/h/x", {{"Host", "a.wild.example"}}), "host-wild");
  EXPECT_EQ(Route("/h/x", {{"Host", "b.wild.example:81"}}), "host-wild");
  // Assumption: "*.wild.example" needs a label before the suffix.
  EXPECT_EQ(Route("/h/x", {{"Host", "wild.example"}}), "404");
  EXPECT_EQ(Route("/h/x", {{"Host", "notwild.example"}}), "404");
}

TEST_F(Routing, HostList) {
  EXPECT_EQ(Route("/h/x", {{"Host", "one.example"}}), "host-list");
  EXPECT_EQ(Route("/h/x", {{"Host", "two.example"}}), "host-list");
  EXPECT_EQ(Route("/h/x", {{"Host", "three.example"}}), "404");
}

TEST_F(Routing, Methods) {
  EXPECT_EQ(Route("/m", {}, "POST"), "methods");
  EXPECT_EQ(Route("/m", {}, "PUT"), "methods");
  EXPECT_EQ(Route("/m", {}, "GET"), "404");
  EXPECT_EQ(Route("/m", {}, "DELETE"), "404");
}

TEST_F(Routing, Headers) {
  EXPECT_EQ(Route("/hdr", {{"X-Tenant", "blue"}}), "hdr-exact");
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "blue"}}), "hdr-exact");
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "Blue"}}), "404") << "header values compare exactly";
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "green"}}), "hdr-regex");
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "greeeen"}}), "hdr-regex");
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "purple"}}), "404");
  EXPECT_EQ(Route("/hdr", {{"X-Debug", ""}}), "hdr-present");
  EXPECT_EQ(Route("/hdr", {{"x-tenant", "purple"}, {"x-debug", "1"}}), "hdr-present");
  EXPECT_EQ(Route("/hdr"), "404");
}

TEST_F(Routing, Query) {
  EXPECT_EQ(Route("/q?mode=fast"), "q-exact");
  EXPECT_EQ(Route("/q?a=1&mode=fast&b=2"), "q-exact");
  EXPECT_EQ(Route("/q?mode=slow"), "404");
  EXPECT_EQ(Route("/q?id=123"), "q-regex");
  EXPECT_EQ(Route("/q?id=12a"), "404");
  EXPECT_EQ(Route("/q?flag"), "q-present");
  EXPECT_EQ(Route("/q?x=1&flag=yes"), "q-present");
  EXPECT_EQ(Route("/q"), "404");
  EXPECT_EQ(Route("/q?mode=fast&id=1"), "q-exact") << "first match wins";
}

TEST_F(Routing, FirstMatchWins) {
  EXPECT_EQ(Route("/first/x"), "first");
  EXPECT_EQ(Route("/firstly"), "first");
}

}  // namespace
}  // namespace portico::it
