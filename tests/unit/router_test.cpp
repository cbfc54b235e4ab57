#include "router/Router.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "router/MatchScratch.h"
#include "router/Regex.h"

namespace portico::router {
namespace {

using config::Route;
using config::RouteMatch;
using config::ValueMatch;
using PathKind = RouteMatch::PathKind;
using Kind = ValueMatch::Kind;

Route make_route(std::string name, RouteMatch match = {}) {
  Route r;
  r.name = std::move(name);
  r.match = std::move(match);
  return r;
}

RouteMatch path_match(PathKind kind, std::string path) {
  RouteMatch m;
  m.path_kind = kind;
  m.path = std::move(path);
  return m;
}

RouteMatch hosts_match(std::vector<std::string> hosts) {
  RouteMatch m;
  m.hosts = std::move(hosts);
  return m;
}

RouteMatch methods_match(std::vector<std::string> methods) {
  RouteMatch m;
  m.methods = std::move(methods);
  return m;
}

RouteMatch headers_match(std::vector<ValueMatch> headers) {
  RouteMatch m;
  m.headers = std::move(headers);
  return m;
}

RouteMatch query_match(std::vector<ValueMatch> query) {
  RouteMatch m;
  m.query = std::move(query);
  return m;
}

ValueMatch value(std::string name, Kind kind, std::string v = {}) {
  ValueMatch m;
  m.name = std::move(name);
  m.kind = kind;
  m.value = std::move(v);
  return m;
}

// A request with sensible defaults; tests override the part they look at.
struct Request {
  std::string_view method = "GET";
  std::string_view path = "/";
  std::string_view query = {};
  std::string_view host = "example.com";
  std::vector<http::Header> headers = {};

  RequestView view() const { return {method, path, query, host, headers}; }
};

class RouterTest : public ::testing::Test {
 protected:
  // The name of the matching route, or "<none>".
  std::string route_for(const std::vector<Route>& routes, const Request& request) {
    const Router router(routes);
    const Route* r = router.match(request.view(), scratch_);
    return r ? r->name : "<none>";
  }

  // Whether a single route with this match accepts the request.
  bool matches(RouteMatch match, const Request& request) {
    return route_for({make_route("only", std::move(match))}, request) == "only";
  }

  MatchScratch scratch_;
};

// ---- order and fallthrough ------------------------------------------------------

TEST_F(RouterTest, NoRoutesMatchesNothing) {
  EXPECT_EQ(route_for({}, Request{}), "<none>");
}

TEST_F(RouterTest, EmptyMatchAcceptsEverything) {
  EXPECT_TRUE(matches({}, Request{}));
  EXPECT_TRUE(matches({}, Request{.method = "PURGE", .path = "/x", .query = "a=1", .host = ""}));
}

TEST_F(RouterTest, FirstMatchWinsInOrder) {
  const std::vector<Route> routes = {
      make_route("exact", path_match(PathKind::Exact, "/v1/users")),
      make_route("prefix", path_match(PathKind::Prefix, "/v1/")),
      make_route("shadowed", path_match(PathKind::Exact, "/v1/other")),
      make_route("catchall", path_match(PathKind::Prefix, "/")),
  };
  EXPECT_EQ(route_for(routes, {.path = "/v1/users"}), "exact");
  EXPECT_EQ(route_for(routes, {.path = "/v1/other"}), "prefix");
  EXPECT_EQ(route_for(routes, {.path = "/v2"}), "catchall");
}

TEST_F(RouterTest, ReturnsNullWhenNoRouteMatches) {
  const std::vector<Route> routes = {
      make_route("a", path_match(PathKind::Prefix, "/a")),
      make_route("b", hosts_match({"b.example.com"})),
  };
  EXPECT_EQ(route_for(routes, {.path = "/b"}), "<none>");
}

TEST_F(RouterTest, ReturnsPointerIntoTheConfig) {
  const std::vector<Route> routes = {make_route("a"), make_route("b")};
  const Router router(routes);
  EXPECT_EQ(router.match(Request{}.view(), scratch_), &routes[0]);
}

TEST_F(RouterTest, EveryConditionMustHold) {
  RouteMatch m;
  m.hosts = {"api.example.com"};
  m.path_kind = PathKind::Prefix;
  m.path = "/v1/";
  m.methods = {"POST"};
  m.headers = {value("x-env", Kind::Exact, "prod")};
  m.query = {value("debug", Kind::Absent)};
  const std::vector<Route> routes = {make_route("strict", m), make_route("fallback")};

  Request ok{.method = "POST",
             .path = "/v1/x",
             .query = "a=1",
             .host = "api.example.com",
             .headers = {{"X-Env", "prod"}}};
  EXPECT_EQ(route_for(routes, ok), "strict");

  Request r = ok;
  r.host = "www.example.com";
  EXPECT_EQ(route_for(routes, r), "fallback");
  r = ok;
  r.path = "/v2/x";
  EXPECT_EQ(route_for(routes, r), "fallback");
  r = ok;
  r.method = "GET";
  EXPECT_EQ(route_for(routes, r), "fallback");
  r = ok;
  r.headers = {{"X-Env", "dev"}};
  EXPECT_EQ(route_for(routes, r), "fallback");
  r = ok;
  r.query = "debug";
  EXPECT_EQ(route_for(routes, r), "fallback");
}

// ---- host -----------------------------------------------------------------------

TEST_F(RouterTest, HostExact) {
  const RouteMatch m = hosts_match({"api.example.com", "other.test"});
  EXPECT_TRUE(matches(m, {.host = "api.example.com"}));
  EXPECT_TRUE(matches(m, {.host = "other.test"}));
  EXPECT_FALSE(matches(m, {.host = "example.com"}));
  EXPECT_FALSE(matches(m, {.host = "api.example.com.evil"}));
  EXPECT_FALSE(matches(m, {.host = "xapi.example.com"}));
  EXPECT_FALSE(matches(m, {.host = ""}));
}

TEST_F(RouterTest, HostIsCaseInsensitive) {
  EXPECT_TRUE(matches(hosts_match({"api.example.com"}), {.host = "API.Example.COM"}));
  // Entries are lower-cased by the loader; the router does not rely on it.
  EXPECT_TRUE(matches(hosts_match({"API.example.com"}), {.host = "api.example.com"}));
  EXPECT_TRUE(matches(hosts_match({"*.Example.com"}), {.host = "a.EXAMPLE.com"}));
}

TEST_F(RouterTest, HostPortIsIgnored) {
  const RouteMatch m = hosts_match({"api.example.com"});
  EXPECT_TRUE(matches(m, {.host = "api.example.com:8080"}));
  EXPECT_TRUE(matches(m, {.host = "api.example.com:"}));
  EXPECT_FALSE(matches(m, {.host = "api.example.co:m"}));
  EXPECT_TRUE(matches(hosts_match({"10.0.0.1"}), {.host = "10.0.0.1:443"}));
}

TEST_F(RouterTest, HostTrailingDotIsIgnored) {
  const RouteMatch m = hosts_match({"api.example.com"});
  EXPECT_TRUE(matches(m, {.host = "api.example.com."}));
  EXPECT_TRUE(matches(m, {.host = "api.example.com.:8080"}));
  EXPECT_FALSE(matches(m, {.host = "api.example.com.."}));
}

TEST_F(RouterTest, HostIpv6LiteralKeepsBracketsAndDropsPort) {
  const RouteMatch m = hosts_match({"[::1]"});
  EXPECT_TRUE(matches(m, {.host = "[::1]"}));
  EXPECT_TRUE(matches(m, {.host = "[::1]:8080"}));
  EXPECT_FALSE(matches(m, {.host = "[::2]:8080"}));
  EXPECT_FALSE(matches(m, {.host = "::1"}));
  EXPECT_TRUE(matches(hosts_match({"[2001:db8::a]"}), {.host = "[2001:DB8::A]:80"}));
  // An unterminated literal is compared as sent, so it matches nothing sensible.
  EXPECT_FALSE(matches(m, {.host = "[::1"}));
}

TEST_F(RouterTest, HostWildcardNeedsAtLeastOneLabel) {
  const RouteMatch m = hosts_match({"*.example.com"});
  EXPECT_TRUE(matches(m, {.host = "a.example.com"}));
  EXPECT_TRUE(matches(m, {.host = "a.b.example.com"}));
  EXPECT_TRUE(matches(m, {.host = "a.example.com:8443"}));
  EXPECT_FALSE(matches(m, {.host = "example.com"}));
  EXPECT_FALSE(matches(m, {.host = ".example.com"}));
  EXPECT_FALSE(matches(m, {.host = "aexample.com"}));
  EXPECT_FALSE(matches(m, {.host = "a.example.com.evil"}));
  EXPECT_FALSE(matches(m, {.host = "example.org"}));
}

TEST_F(RouterTest, HostExactAndWildcardTogether) {
  const RouteMatch m = hosts_match({"example.com", "*.example.com"});
  EXPECT_TRUE(matches(m, {.host = "example.com"}));
  EXPECT_TRUE(matches(m, {.host = "www.example.com"}));
  EXPECT_FALSE(matches(m, {.host = "example.net"}));
}

// ---- path -----------------------------------------------------------------------

TEST_F(RouterTest, PathExact) {
  const RouteMatch m = path_match(PathKind::Exact, "/v1/users");
  EXPECT_TRUE(matches(m, {.path = "/v1/users"}));
  EXPECT_FALSE(matches(m, {.path = "/v1/users/"}));
  EXPECT_FALSE(matches(m, {.path = "/v1/user"}));
  EXPECT_FALSE(matches(m, {.path = "/V1/users"}));
}

TEST_F(RouterTest, PathPrefix) {
  const RouteMatch m = path_match(PathKind::Prefix, "/v1/");
  EXPECT_TRUE(matches(m, {.path = "/v1/"}));
  EXPECT_TRUE(matches(m, {.path = "/v1/users"}));
  EXPECT_FALSE(matches(m, {.path = "/v1"}));
  EXPECT_FALSE(matches(m, {.path = "/v2/users"}));
}

TEST_F(RouterTest, PathIsNotDecodedOrNormalised) {
  EXPECT_FALSE(matches(path_match(PathKind::Exact, "/a"), {.path = "/%61"}));
  EXPECT_FALSE(matches(path_match(PathKind::Exact, "/b"), {.path = "/a/../b"}));
  EXPECT_FALSE(matches(path_match(PathKind::Prefix, "/a/b"), {.path = "/a//b"}));
  EXPECT_TRUE(matches(path_match(PathKind::Exact, "/a%2Fb"), {.path = "/a%2Fb"}));
}

TEST_F(RouterTest, PathRegexMustMatchWholePath) {
  const RouteMatch m = path_match(PathKind::Regex, "/v[0-9]+/users");
  EXPECT_TRUE(matches(m, {.path = "/v1/users"}));
  EXPECT_TRUE(matches(m, {.path = "/v42/users"}));
  EXPECT_FALSE(matches(m, {.path = "/v1/users/7"}));  // partial match at the start
  EXPECT_FALSE(matches(m, {.path = "/x/v1/users"}));  // partial match at the end
  EXPECT_FALSE(matches(m, {.path = "/vx/users"}));
}

TEST_F(RouterTest, PathRegexAlternationIsAnchoredAsAWhole) {
  // Naively adding ^...$ gives "^/a|/b$", which accepts "/a-anything".
  const RouteMatch m = path_match(PathKind::Regex, "/a|/b");
  EXPECT_TRUE(matches(m, {.path = "/a"}));
  EXPECT_TRUE(matches(m, {.path = "/b"}));
  EXPECT_FALSE(matches(m, {.path = "/a-anything"}));
  EXPECT_FALSE(matches(m, {.path = "x/b"}));
  // The end anchor forces backtracking into the longer alternative.
  EXPECT_TRUE(matches(path_match(PathKind::Regex, "/a|/ab"), {.path = "/ab"}));
}

TEST_F(RouterTest, PathRegexDollarDoesNotAcceptTrailingNewline) {
  EXPECT_FALSE(matches(path_match(PathKind::Regex, "/a$"), {.path = "/a\n"}));
}

TEST_F(RouterTest, PathRegexWithCapturesAndBackreferences) {
  const RouteMatch m = path_match(PathKind::Regex, "/(a)(b)(c)(d)/\\1\\2");
  EXPECT_TRUE(matches(m, {.path = "/abcd/ab"}));
  EXPECT_FALSE(matches(m, {.path = "/abcd/ba"}));
}

TEST_F(RouterTest, PathRegexIsByteOriented) {
  // "." is one byte, not one UTF-8 character: "é" is two bytes.
  EXPECT_TRUE(matches(path_match(PathKind::Regex, "/.."), {.path = "/\xc3\xa9"}));
  EXPECT_FALSE(matches(path_match(PathKind::Regex, "/."), {.path = "/\xc3\xa9"}));
  // Invalid UTF-8 is just bytes.
  EXPECT_TRUE(matches(path_match(PathKind::Regex, "/.*"), {.path = "/\xff\xfe"}));
}

TEST_F(RouterTest, PathAny) {
  EXPECT_TRUE(matches(path_match(PathKind::Any, "ignored"), {.path = "/whatever"}));
}

// ---- methods --------------------------------------------------------------------

TEST_F(RouterTest, Methods) {
  const RouteMatch m = methods_match({"GET", "POST"});
  EXPECT_TRUE(matches(m, {.method = "GET"}));
  EXPECT_TRUE(matches(m, {.method = "POST"}));
  EXPECT_FALSE(matches(m, {.method = "PUT"}));
  EXPECT_FALSE(matches(m, {.method = "get"}));
  EXPECT_FALSE(matches(m, {.method = "GETX"}));
  EXPECT_FALSE(matches(m, {.method = "PURGE"}));
  EXPECT_FALSE(matches(m, {.method = ""}));
}

TEST_F(RouterTest, MethodsAllStandardOnesAreDistinct) {
  const std::vector<std::string> all = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (const std::string& allowed : all) {
    for (const std::string& sent : all) {
      EXPECT_EQ(matches(methods_match({allowed}), {.method = sent}), allowed == sent)
          << allowed << " vs " << sent;
    }
  }
}

TEST_F(RouterTest, MethodsExtensionTokens) {
  const RouteMatch m = methods_match({"PURGE", "PROPFIND", "GET"});
  EXPECT_TRUE(matches(m, {.method = "PURGE"}));
  EXPECT_TRUE(matches(m, {.method = "PROPFIND"}));
  EXPECT_TRUE(matches(m, {.method = "GET"}));
  EXPECT_FALSE(matches(m, {.method = "MKCOL"}));
  EXPECT_FALSE(matches(m, {.method = "POST"}));
}

// ---- headers --------------------------------------------------------------------

TEST_F(RouterTest, HeaderPresent) {
  const RouteMatch m = headers_match({value("x-api-key", Kind::Present)});
  EXPECT_TRUE(matches(m, {.headers = {{"X-Api-Key", "k"}}}));
  EXPECT_TRUE(matches(m, {.headers = {{"x-api-key", ""}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-api-keys", "k"}}}));
  EXPECT_FALSE(matches(m, {}));
}

TEST_F(RouterTest, HeaderAbsent) {
  const RouteMatch m = headers_match({value("x-debug", Kind::Absent)});
  EXPECT_TRUE(matches(m, {}));
  EXPECT_TRUE(matches(m, {.headers = {{"x-other", "1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"X-DEBUG", "1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-other", "1"}, {"x-debug", ""}}}));
}

TEST_F(RouterTest, HeaderExact) {
  const RouteMatch m = headers_match({value("X-Env", Kind::Exact, "prod")});
  EXPECT_TRUE(matches(m, {.headers = {{"x-env", "prod"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-env", "Prod"}}}));  // values are byte-exact
  EXPECT_FALSE(matches(m, {.headers = {{"x-env", "prod2"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-env", "prod, dev"}}}));  // no list splitting
  EXPECT_FALSE(matches(m, {.headers = {{"x-other", "prod"}}}));
  EXPECT_FALSE(matches(m, {}));
}

TEST_F(RouterTest, HeaderExactAnyOfDuplicates) {
  const RouteMatch m = headers_match({value("x-env", Kind::Exact, "prod")});
  EXPECT_TRUE(matches(m, {.headers = {{"x-env", "dev"}, {"X-Env", "prod"}}}));
  EXPECT_TRUE(matches(m, {.headers = {{"x-env", "prod"}, {"x-env", "dev"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-env", "dev"}, {"x-env", "test"}}}));
}

TEST_F(RouterTest, HeaderExactEmptyValue) {
  const RouteMatch m = headers_match({value("x-flag", Kind::Exact, "")});
  EXPECT_TRUE(matches(m, {.headers = {{"x-flag", ""}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-flag", "1"}}}));
  EXPECT_FALSE(matches(m, {}));
}

TEST_F(RouterTest, HeaderRegexFullMatchAnyOfDuplicates) {
  const RouteMatch m = headers_match({value("user-agent", Kind::Regex, "curl/[0-9.]+")});
  EXPECT_TRUE(matches(m, {.headers = {{"User-Agent", "curl/8.5.0"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"User-Agent", "curl/8.5.0 extra"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"User-Agent", "Mozilla curl/8.5.0"}}}));
  EXPECT_TRUE(matches(m, {.headers = {{"user-agent", "wget"}, {"user-agent", "curl/1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-user-agent", "curl/1"}}}));
  EXPECT_FALSE(matches(m, {}));
}

TEST_F(RouterTest, HeaderRegexSearchNeedsExplicitWildcards) {
  const RouteMatch m = headers_match({value("accept", Kind::Regex, ".*json.*")});
  EXPECT_TRUE(matches(m, {.headers = {{"accept", "application/json; q=1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"accept", "text/html"}}}));
}

TEST_F(RouterTest, SeveralHeaderConditionsAllMustHold) {
  const RouteMatch m = headers_match(
      {value("x-a", Kind::Exact, "1"), value("x-b", Kind::Present), value("x-c", Kind::Absent)});
  EXPECT_TRUE(matches(m, {.headers = {{"x-b", ""}, {"x-a", "1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-a", "1"}}}));
  EXPECT_FALSE(matches(m, {.headers = {{"x-a", "1"}, {"x-b", ""}, {"x-c", ""}}}));
}

// ---- query ----------------------------------------------------------------------

TEST_F(RouterTest, QueryPresentAndAbsent) {
  const RouteMatch present = query_match({value("debug", Kind::Present)});
  EXPECT_TRUE(matches(present, {.query = "debug"}));
  EXPECT_TRUE(matches(present, {.query = "a=1&debug=&b=2"}));
  EXPECT_TRUE(matches(present, {.query = "de%62ug=1"}));  // name decoded
  EXPECT_FALSE(matches(present, {.query = "Debug=1"}));   // names are case-sensitive
  EXPECT_FALSE(matches(present, {.query = "debugx=1"}));
  EXPECT_FALSE(matches(present, {.query = "x=debug"}));
  EXPECT_FALSE(matches(present, {.query = ""}));

  const RouteMatch absent = query_match({value("debug", Kind::Absent)});
  EXPECT_TRUE(matches(absent, {.query = ""}));
  EXPECT_TRUE(matches(absent, {.query = "a=debug"}));
  EXPECT_FALSE(matches(absent, {.query = "debug"}));
  EXPECT_FALSE(matches(absent, {.query = "a=1&debug=0"}));
}

TEST_F(RouterTest, QueryExactDecodesValues) {
  const RouteMatch m = query_match({value("path", Kind::Exact, "a/b c")});
  EXPECT_TRUE(matches(m, {.query = "path=a%2Fb+c"}));
  EXPECT_TRUE(matches(m, {.query = "path=a%2fb%20c"}));
  EXPECT_TRUE(matches(m, {.query = "path=a/b c"}));
  EXPECT_FALSE(matches(m, {.query = "path=a%2Fb%2Bc"}));  // %2B is '+', not a space
  EXPECT_FALSE(matches(m, {.query = "path=a%2Fb"}));
}

TEST_F(RouterTest, QueryExactDecodesNames) {
  const RouteMatch m = query_match({value("a b", Kind::Exact, "1")});
  EXPECT_TRUE(matches(m, {.query = "a+b=1"}));
  EXPECT_TRUE(matches(m, {.query = "a%20b=1"}));
  EXPECT_FALSE(matches(m, {.query = "a%2Bb=1"}));
}

TEST_F(RouterTest, QueryMissingEqualsIsEmptyValue) {
  const RouteMatch m = query_match({value("flag", Kind::Exact, "")});
  EXPECT_TRUE(matches(m, {.query = "flag"}));
  EXPECT_TRUE(matches(m, {.query = "flag="}));
  EXPECT_FALSE(matches(m, {.query = "flag=1"}));
  EXPECT_FALSE(matches(m, {.query = "other"}));
}

TEST_F(RouterTest, QueryRepeatedParameterAnyMayMatch) {
  const RouteMatch m = query_match({value("tag", Kind::Exact, "b")});
  EXPECT_TRUE(matches(m, {.query = "tag=a&tag=b&tag=c"}));
  EXPECT_FALSE(matches(m, {.query = "tag=a&tag=c"}));
  EXPECT_FALSE(matches(m, {.query = "tag=a,b"}));
}

TEST_F(RouterTest, QueryMalformedEscapeIsLiteral) {
  EXPECT_TRUE(matches(query_match({value("q", Kind::Exact, "%zz")}), {.query = "q=%zz"}));
  EXPECT_TRUE(matches(query_match({value("q", Kind::Exact, "100%")}), {.query = "q=100%"}));
  EXPECT_TRUE(matches(query_match({value("%zz", Kind::Present)}), {.query = "%zz=1"}));
  EXPECT_FALSE(matches(query_match({value("q", Kind::Exact, "zz")}), {.query = "q=%zz"}));
  EXPECT_TRUE(matches(query_match({value("q", Kind::Regex, "%.*")}), {.query = "q=%z1"}));
}

TEST_F(RouterTest, QueryRegexOnDecodedValueInFull) {
  const RouteMatch m = query_match({value("id", Kind::Regex, "[0-9]+")});
  EXPECT_TRUE(matches(m, {.query = "id=42"}));
  EXPECT_TRUE(matches(m, {.query = "id=%34%32"}));
  EXPECT_FALSE(matches(m, {.query = "id=42x"}));
  EXPECT_FALSE(matches(m, {.query = "id=x42"}));
  EXPECT_FALSE(matches(m, {.query = "id="}));
  EXPECT_TRUE(matches(m, {.query = "id=x&id=7"}));
  EXPECT_TRUE(matches(query_match({value("s", Kind::Regex, "a b")}), {.query = "s=a+b"}));
}

TEST_F(RouterTest, QueryRegexValueLongerThanBufferDoesNotMatch) {
  const RouteMatch m = query_match({value("v", Kind::Regex, "x*")});
  const size_t limit = MatchScratch::kDecodeBufferSize;
  const std::string fits = "v=" + std::string(limit, 'x');
  const std::string too_long = "v=" + std::string(limit + 1, 'x');
  // Escapes count decoded: 3 * limit raw bytes that decode to exactly limit bytes fit.
  std::string encoded_fits = "v=";
  for (size_t i = 0; i < limit; ++i) encoded_fits += "%78";
  const std::string encoded_too_long = encoded_fits + "%78";
  EXPECT_TRUE(matches(m, {.query = fits}));
  EXPECT_FALSE(matches(m, {.query = too_long}));
  EXPECT_TRUE(matches(m, {.query = encoded_fits}));
  EXPECT_FALSE(matches(m, {.query = encoded_too_long}));
  // A too-long occurrence does not hide a later one that fits.
  EXPECT_TRUE(matches(m, {.query = too_long + "&v=xx"}));
}

TEST_F(RouterTest, QueryExactHasNoLengthLimit) {
  const std::string long_value(3 * MatchScratch::kDecodeBufferSize, 'y');
  const std::string query = "v=" + long_value;
  EXPECT_TRUE(matches(query_match({value("v", Kind::Exact, long_value)}), {.query = query}));
}

// ---- regex compile errors and runtime limits ------------------------------------

TEST(RouterErrors, InvalidPathRegexThrowsNamingRouteAndPattern) {
  RouteMatch m;
  m.path_kind = PathKind::Regex;
  m.path = "/v(1";
  const std::vector<Route> routes = {make_route("ok"), make_route("broken", m)};
  try {
    Router router(routes);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("route 'broken': invalid regex '/v(1': ", 0), 0u) << what;
    EXPECT_NE(what.find("missing closing parenthesis"), std::string::npos) << what;
    EXPECT_NE(what.find(" at offset 4"), std::string::npos) << what;
  }
}

TEST(RouterErrors, InvalidHeaderAndQueryRegexThrow) {
  const std::vector<Route> headers = {
      make_route("h", headers_match({value("x", Kind::Regex, "[a-")}))};
  EXPECT_THROW(Router{headers}, std::invalid_argument);
  const std::vector<Route> query = {make_route("q", query_match({value("x", Kind::Regex, "*")}))};
  EXPECT_THROW(Router{query}, std::invalid_argument);
}

TEST(RouterErrors, RegexTextOutsideRegexKindsIsNotCompiled) {
  // Exact values and prefixes are plain text even when they look like broken regexes.
  RouteMatch m = path_match(PathKind::Prefix, "/v(1");
  m.headers = {value("x", Kind::Exact, "[a-")};
  m.query = {value("y", Kind::Exact, "*")};
  EXPECT_NO_THROW(Router({make_route("r", m)}));
}

TEST_F(RouterTest, RegexOverBacktrackingBudgetDoesNotMatchAndIsCounted) {
  const std::vector<Route> routes = {
      make_route("evil", path_match(PathKind::Regex, "/(a+)+")),
      make_route("fallback"),
  };
  // Exponential backtracking: every way to split the a's is tried before failing on '!'.
  const std::string path = "/" + std::string(40, 'a') + "!";
  const uint64_t before = scratch_.regex_errors();
  EXPECT_EQ(route_for(routes, {.path = path}), "fallback");
  EXPECT_EQ(scratch_.regex_errors(), before + 1);
  // A plain non-match is not an error.
  EXPECT_EQ(route_for(routes, {.path = "/c"}), "fallback");
  EXPECT_EQ(scratch_.regex_errors(), before + 1);
}

TEST_F(RouterTest, ScratchIsReusableAcrossRoutersAndRequests) {
  const std::vector<Route> routes = {
      make_route("r", path_match(PathKind::Regex, "/(x+)(y+)")),
  };
  const Router router(routes);
  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(router.match(Request{.path = "/xxyy"}.view(), scratch_), nullptr);
    EXPECT_EQ(router.match(Request{.path = "/xxyyz"}.view(), scratch_), nullptr);
  }
}

// ---- Regex wrapper --------------------------------------------------------------

TEST(Regex, FullMatchVersusSearch) {
  MatchScratch scratch;
  const Regex full("b+", Regex::Mode::FullMatch);
  const Regex search("b+", Regex::Mode::Search);
  EXPECT_TRUE(full.matches("bbb", scratch));
  EXPECT_FALSE(full.matches("abbbc", scratch));
  EXPECT_TRUE(search.matches("abbbc", scratch));
  EXPECT_FALSE(search.matches("ac", scratch));
}

TEST(Regex, EmptySubjectAndPattern) {
  MatchScratch scratch;
  EXPECT_TRUE(Regex("", Regex::Mode::FullMatch).matches(std::string_view(), scratch));
  EXPECT_FALSE(Regex("", Regex::Mode::FullMatch).matches("a", scratch));
  EXPECT_TRUE(Regex("a*", Regex::Mode::FullMatch).matches("", scratch));
  EXPECT_TRUE(Regex("", Regex::Mode::Search).matches("abc", scratch));
}

TEST(Regex, SubjectMayContainNulBytes) {
  MatchScratch scratch;
  const Regex re("a\\x00b", Regex::Mode::FullMatch);
  EXPECT_TRUE(re.matches(std::string_view("a\0b", 3), scratch));
  EXPECT_FALSE(re.matches("a", scratch));
}

TEST(Regex, CompileErrorCarriesMessageAndOffset) {
  try {
    Regex("ab(", Regex::Mode::FullMatch);
    FAIL() << "expected RegexError";
  } catch (const RegexError& e) {
    EXPECT_EQ(e.offset(), 3u);
    EXPECT_FALSE(e.message().empty());
    EXPECT_EQ(std::string(e.what()), e.message() + " at offset 3");
  }
}

TEST(Regex, MoveKeepsTheCompiledPattern) {
  MatchScratch scratch;
  Regex a("x+", Regex::Mode::FullMatch);
  Regex b = std::move(a);
  EXPECT_TRUE(b.matches("xx", scratch));
  EXPECT_EQ(b.pattern(), "x+");
}

}  // namespace
}  // namespace portico::router
