#include "http/HeadWriter.h"

#include <gtest/gtest.h>
#include <llhttp.h>

#include <string>
#include <utility>
#include <vector>

#include "http/ConnectionTokens.h"

namespace portico::http {
namespace {

// ---- an independent reading of the produced bytes, by llhttp -------------------------

struct Parsed {
  llhttp_errno_t err = HPE_OK;
  std::string reason;      // llhttp's error reason, if any
  size_t head_end = 0;     // offset just past the head's empty line
  size_t message_end = 0;  // offset just past the message (0: not complete)
  bool headers_complete = false;
  bool message_complete = false;
  std::string method, url, status;
  int status_code = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool in_value = false;

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& h : headers) out.push_back(h.first);
    return out;
  }
  // Values of every header with this (case-insensitive) name, in order.
  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& h : headers)
      if (iequals(h.first, name)) out.push_back(h.second);
    return out;
  }
  bool has(std::string_view name) const { return !values(name).empty(); }
};

Parsed& state(llhttp_t* p) {
  return *static_cast<Parsed*>(p->data);
}

Parsed parse(llhttp_type_t type, std::string_view bytes) {
  Parsed r;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_method = [](llhttp_t* p, const char* at, size_t n) {
    state(p).method.append(at, n);
    return 0;
  };
  s.on_url = [](llhttp_t* p, const char* at, size_t n) {
    state(p).url.append(at, n);
    return 0;
  };
  s.on_status = [](llhttp_t* p, const char* at, size_t n) {
    state(p).status.append(at, n);
    return 0;
  };
  s.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
    Parsed& r = state(p);
    if (r.headers.empty() || r.in_value) r.headers.emplace_back();
    r.headers.back().first.append(at, n);
    r.in_value = false;
    return 0;
  };
  s.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
    Parsed& r = state(p);
    r.headers.back().second.append(at, n);
    r.in_value = true;
    return 0;
  };
  s.on_headers_complete = [](llhttp_t* p) {
    state(p).headers_complete = true;
    return int(HPE_PAUSED);
  };
  s.on_body = [](llhttp_t* p, const char* at, size_t n) {
    state(p).body.append(at, n);
    return 0;
  };
  s.on_message_complete = [](llhttp_t* p) {
    state(p).message_complete = true;
    return int(HPE_PAUSED);
  };
  llhttp_t parser;
  llhttp_init(&parser, type, &s);
  parser.data = &r;

  const char* base = bytes.data();
  size_t pos = 0;
  while (true) {
    llhttp_errno_t err = llhttp_execute(&parser, base + pos, bytes.size() - pos);
    if (err == HPE_PAUSED) {
      pos = size_t(llhttp_get_error_pos(&parser) - base);
      if (r.message_complete) {
        r.message_end = pos;
        if (!r.head_end) r.head_end = pos;
        break;
      }
      r.head_end = pos;
      llhttp_resume(&parser);
      continue;
    }
    if (err != HPE_OK) {
      r.err = err;
      r.reason = llhttp_get_error_reason(&parser);
    }
    break;
  }
  r.status_code = parser.status_code;
  return r;
}

// ---- upstream request heads -----------------------------------------------------------

UpstreamRequest basic_request() {
  UpstreamRequest req;
  req.method = "GET";
  req.target = "/";
  req.host = "backend:8080";
  req.original_host = "";
  req.client_ip = "192.0.2.1";
  req.request_id = "";
  return req;
}

std::string upstream_head(const UpstreamRequest& req, const std::vector<Header>& headers) {
  ConnectionTokens conn;
  conn.parse(headers);
  std::string out = "left over from the previous request\r\n";
  write_upstream_request_head(out, req, headers, conn);
  return out;
}

// Parses `head` as a request head and checks it is exactly one well-formed head.
Parsed parse_request_head(const std::string& head) {
  Parsed p = parse(HTTP_REQUEST, head);
  EXPECT_EQ(p.err, HPE_OK) << p.reason << "\n" << head;
  EXPECT_TRUE(p.headers_complete) << head;
  EXPECT_EQ(p.head_end, head.size()) << head;
  return p;
}

using Names = std::vector<std::string>;
using Values = std::vector<std::string>;

TEST(UpstreamHead, ExactSerialisation) {
  UpstreamRequest req = basic_request();
  req.method = "POST";
  req.target = "/api/v1/items?x=1&y=%20";
  req.original_host = "shop.example";
  req.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  req.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  std::vector<Header> headers{
      {"Host", "shop.example"},     {"User-Agent", "curl/8.0"},           {"Accept", "*/*"},
      {"Connection", "keep-alive"}, {"Content-Type", "application/json"}, {"Content-Length", "2"}};
  EXPECT_EQ(upstream_head(req, headers),
            "POST /api/v1/items?x=1&y=%20 HTTP/1.1\r\n"
            "Host: backend:8080\r\n"
            "User-Agent: curl/8.0\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "X-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Forwarded-Host: shop.example\r\n"
            "X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n"
            "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
            "\r\n");
}

TEST(UpstreamHead, RequestLineAndHostComeFirst) {
  UpstreamRequest req = basic_request();
  req.method = "DELETE";
  req.target = "/a/b?c";
  req.host = "rewritten.internal";
  std::string out = upstream_head(req, {{"X-A", "1"}, {"hOsT", "client.example"}, {"X-B", "2"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.method, "DELETE");
  EXPECT_EQ(p.url, "/a/b?c");
  ASSERT_FALSE(p.headers.empty());
  EXPECT_EQ(p.headers.front().first, "Host");
  EXPECT_EQ(p.headers.front().second, "rewritten.internal");
  EXPECT_EQ(p.values("host"), Values{"rewritten.internal"});  // the client's Host is replaced
  EXPECT_EQ(p.names(), (Names{"Host", "X-A", "X-B", "X-Forwarded-For", "X-Forwarded-Proto"}));
}

TEST(UpstreamHead, DropsHopByHopFields) {
  std::string out = upstream_head(basic_request(), {{"Host", "h"},
                                                    {"Connection", "keep-alive"},
                                                    {"Keep-Alive", "timeout=5"},
                                                    {"X-Keep", "1"},
                                                    {"proxy-connection", "keep-alive"},
                                                    {"TE", "trailers"},
                                                    {"Upgrade", "websocket"},
                                                    {"UPGRADE", "h2c"},
                                                    {"te", "gzip"},
                                                    {"X-Keep-2", "2"},
                                                    {"CONNECTION", "close"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.names(),
            (Names{"Host", "X-Keep", "X-Keep-2", "X-Forwarded-For", "X-Forwarded-Proto"}));
  EXPECT_EQ(out.find("onnection"), std::string::npos) << out;
}

TEST(UpstreamHead, DropsFieldsNamedByConnectionTokens) {
  std::string out = upstream_head(basic_request(), {{"Host", "h"},
                                                    {"Connection", "X-Hop, x-other-hop"},
                                                    {"X-Hop", "a"},
                                                    {"X-End", "b"},
                                                    {"X-OTHER-HOP", "c"},
                                                    {"Connection", "X-Third"},
                                                    {"X-Third", "d"},
                                                    {"X-Hop", "e"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.names(), (Names{"Host", "X-End", "X-Forwarded-For", "X-Forwarded-Proto"}));
}

TEST(UpstreamHead, ConnectionTokensCannotDropContentLength) {
  UpstreamRequest req = basic_request();
  req.method = "POST";
  std::string out = upstream_head(req, {{"Host", "h"},
                                        {"Connection", "Host, Content-Length, X-A"},
                                        {"Content-Length", "5"},
                                        {"X-A", "gone"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.values("content-length"), Values{"5"});
  EXPECT_EQ(p.values("host"), Values{"backend:8080"});
  EXPECT_FALSE(p.has("X-A"));
}

TEST(UpstreamHead, ConnectionTokensCannotDropTransferEncoding) {
  UpstreamRequest req = basic_request();
  req.method = "POST";
  std::string out = upstream_head(
      req, {{"Host", "h"}, {"Transfer-Encoding", "chunked"}, {"Connection", "transfer-encoding"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.values("transfer-encoding"), Values{"chunked"});
  EXPECT_FALSE(p.has("connection"));
}

TEST(UpstreamHead, DropsExpectAndClientForwardedProtoAndHost) {
  UpstreamRequest req = basic_request();
  req.method = "PUT";
  req.original_host = "client.example";
  std::string out = upstream_head(req, {{"Host", "client.example"},
                                        {"Expect", "100-continue"},
                                        {"X-Forwarded-Proto", "https"},
                                        {"x-forwarded-host", "evil.example"},
                                        {"X-FORWARDED-PROTO", "ftp"},
                                        {"Content-Length", "3"},
                                        {"X-Forwarded-Port", "443"}});
  Parsed p = parse_request_head(out);
  EXPECT_FALSE(p.has("expect"));
  EXPECT_EQ(p.values("x-forwarded-proto"), Values{"http"});
  EXPECT_EQ(p.values("x-forwarded-host"), Values{"client.example"});
  EXPECT_EQ(p.values("x-forwarded-port"), Values{"443"});  // not ours to drop
  EXPECT_EQ(p.values("content-length"), Values{"3"});
}

TEST(UpstreamHead, AddsXffWithClientIpWhenAbsent) {
  UpstreamRequest req = basic_request();
  req.client_ip = "2001:db8::1";
  Parsed p = parse_request_head(upstream_head(req, {{"Host", "h"}}));
  EXPECT_EQ(p.values("x-forwarded-for"), Values{"2001:db8::1"});
}

TEST(UpstreamHead, AppendsClientIpToExistingXff) {
  Parsed p = parse_request_head(
      upstream_head(basic_request(), {{"Host", "h"}, {"X-Forwarded-For", "203.0.113.9"}}));
  EXPECT_EQ(p.values("x-forwarded-for"), Values{"203.0.113.9, 192.0.2.1"});
}

TEST(UpstreamHead, MergesSeveralXffLinesInOrderIntoOne) {
  std::string out = upstream_head(basic_request(), {{"x-forwarded-for", "10.0.0.1"},
                                                    {"Host", "h"},
                                                    {"X-A", "a"},
                                                    {"X-Forwarded-For", "10.0.0.2, 10.0.0.3"},
                                                    {"X-FORWARDED-FOR", ""},
                                                    {"X-B", "b"},
                                                    {"X-Forwarded-For", "10.0.0.4"}});
  Parsed p = parse_request_head(out);
  EXPECT_EQ(p.values("x-forwarded-for"),
            Values{"10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 192.0.2.1"});
  // The other fields keep their order around the folded list.
  Names names = p.names();
  std::erase_if(names, [](const std::string& n) { return iequals(n, "x-forwarded-for"); });
  EXPECT_EQ(names, (Names{"Host", "X-A", "X-B", "X-Forwarded-Proto"}));
}

TEST(UpstreamHead, OnlyEmptyXffLinesGiveJustTheClientIp) {
  Parsed p = parse_request_head(upstream_head(
      basic_request(), {{"Host", "h"}, {"X-Forwarded-For", ""}, {"X-Forwarded-For", ""}}));
  EXPECT_EQ(p.values("x-forwarded-for"), Values{"192.0.2.1"});
}

TEST(UpstreamHead, XffNamedByConnectionIsNotForwarded) {
  Parsed p = parse_request_head(upstream_head(
      basic_request(),
      {{"Host", "h"}, {"Connection", "X-Forwarded-For"}, {"X-Forwarded-For", "10.9.9.9"}}));
  EXPECT_EQ(p.values("x-forwarded-for"), Values{"192.0.2.1"});
}

TEST(UpstreamHead, ForwardedHostOnlyWithAnOriginalHost) {
  UpstreamRequest req = basic_request();
  Parsed without = parse_request_head(upstream_head(req, {{"X-Forwarded-Host", "spoofed"}}));
  EXPECT_FALSE(without.has("x-forwarded-host"));
  req.original_host = "orig.example:8443";
  Parsed with = parse_request_head(upstream_head(req, {{"X-Forwarded-Host", "spoofed"}}));
  EXPECT_EQ(with.values("x-forwarded-host"), Values{"orig.example:8443"});
}

TEST(UpstreamHead, RequestIdOnlyWhenGiven) {
  UpstreamRequest req = basic_request();
  // The client's own X-Request-Id is forwarded untouched and no second one is added.
  Parsed client = parse_request_head(upstream_head(req, {{"Host", "h"}, {"X-Request-Id", "abc"}}));
  EXPECT_EQ(client.values("x-request-id"), Values{"abc"});
  req.request_id = "11111111-2222-4333-8444-555555555555";
  Parsed generated = parse_request_head(upstream_head(req, {{"Host", "h"}}));
  EXPECT_EQ(generated.values("x-request-id"), Values{"11111111-2222-4333-8444-555555555555"});
  EXPECT_EQ(generated.names().back(), "X-Request-Id");
}

TEST(UpstreamHead, KeepsOrderDuplicatesAndValueBytes) {
  const std::string obs = "caf\xc3\xa9 \x80\xff";
  std::vector<Header> headers{{"Host", "h"},
                              {"Cookie", "a=1"},
                              {"x-MiXeD-CaSe", "Value With  Two  Spaces"},
                              {"Cookie", "b=2"},
                              {"X-Obs", obs},
                              {"X-Quoted", "\"a, b\"; q=0.5, tab\there"},
                              {"X-Empty", ""},
                              {"Accept-Encoding", "gzip, br"}};
  std::string out = upstream_head(basic_request(), headers);
  Parsed p = parse_request_head(out);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  Pairs expected{{"Host", "backend:8080"},
                 {"Cookie", "a=1"},
                 {"x-MiXeD-CaSe", "Value With  Two  Spaces"},
                 {"Cookie", "b=2"},
                 {"X-Obs", obs},
                 {"X-Quoted", "\"a, b\"; q=0.5, tab\there"},
                 {"X-Empty", ""},
                 {"Accept-Encoding", "gzip, br"},
                 {"X-Forwarded-For", "192.0.2.1"},
                 {"X-Forwarded-Proto", "http"}};
  EXPECT_EQ(p.headers, expected);
  EXPECT_NE(out.find("\r\nX-Obs: " + obs + "\r\n"), std::string::npos);
}

TEST(UpstreamHead, RequestWithoutBodyIsOneCompleteMessage) {
  std::string out = upstream_head(basic_request(), {{"Host", "h"}});
  Parsed p = parse(HTTP_REQUEST, out);
  EXPECT_EQ(p.err, HPE_OK);
  EXPECT_TRUE(p.message_complete);
  EXPECT_EQ(p.message_end, out.size());
}

// ---- client response heads -----------------------------------------------------------

std::string client_head(const ClientResponse& resp, const std::vector<Header>& headers) {
  ConnectionTokens conn;
  conn.parse(headers);
  std::string out = "stale bytes";
  write_client_response_head(out, resp, headers, conn);
  return out;
}

Parsed parse_response_head(const std::string& head) {
  Parsed p = parse(HTTP_RESPONSE, head);
  EXPECT_EQ(p.err, HPE_OK) << p.reason << "\n" << head;
  EXPECT_TRUE(p.headers_complete) << head;
  EXPECT_EQ(p.head_end, head.size()) << head;
  return p;
}

TEST(UpstreamHead, DropsTheNamedFieldAndAddsLinesBeforeTraceparent) {
  UpstreamRequest req = basic_request();
  req.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  req.drop_headers = {"x-portico-flags", ""};
  req.added_lines = "x-portico-flags: beta, new-ui\r\n";
  std::vector<Header> headers{{"Host", "a"},
                              {"X-Portico-Flags", "admin"},
                              {"Accept", "*/*"},
                              {"x-portico-flags", "everything"}};
  EXPECT_EQ(upstream_head(req, headers),
            "GET / HTTP/1.1\r\n"
            "Host: backend:8080\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "x-portico-flags: beta, new-ui\r\n"
            "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
            "\r\n");
}

TEST(UpstreamHead, TheFieldIsDroppedEvenWithNothingToAdd) {
  UpstreamRequest req = basic_request();
  req.drop_headers = {"x-portico-flags", ""};
  std::vector<Header> headers{{"Host", "a"}, {"x-portico-flags", "admin"}};
  Parsed p = parse_request_head(upstream_head(req, headers));
  EXPECT_EQ(p.values("x-portico-flags"), Values{});
}

// CGI-style servers read x_portico_flags as X-Portico-Flags; a renamed header leaves the
// default name still reserved.
TEST(UpstreamHead, BothNamesAndTheirUnderscoreSpellingsAreDropped) {
  UpstreamRequest req = basic_request();
  req.drop_headers = {"x-portico-flags", "x-features"};
  std::vector<Header> headers{
      {"Host", "a"},           {"x_portico_flags", "admin"}, {"X-Portico-Flags", "admin"},
      {"X_FEATURES", "admin"}, {"x-features", "admin"},      {"x-portico-flagsx", "kept"},
      {"x-feature", "kept"}};
  Parsed p = parse_request_head(upstream_head(req, headers));
  EXPECT_EQ(p.values("x_portico_flags"), Values{});
  EXPECT_EQ(p.values("x-portico-flags"), Values{});
  EXPECT_EQ(p.values("x_features"), Values{});
  EXPECT_EQ(p.values("x-features"), Values{});
  EXPECT_EQ(p.values("x-portico-flagsx"), Values{"kept"});
  EXPECT_EQ(p.values("x-feature"), Values{"kept"});
}

// Every listener's client-certificate subject header (drop_more), beside drop_headers: a
// client of one listener must not forge what another listener's upstream trusts.
TEST(UpstreamHead, EveryNameInDropMoreIsDroppedLooselyAlongsideDropHeaders) {
  UpstreamRequest req = basic_request();
  req.drop_headers = {"x-portico-flags", ""};
  const std::vector<std::string> subjects{"x-client-cert-subject", "x-ssl-client-dn"};
  req.drop_more = subjects;
  req.connection_lines = "x-client-cert-subject: CN=real\r\n";
  std::vector<Header> headers{{"Host", "a"},
                              {"X-SSL-Client-DN", "CN=forged"},
                              {"x_ssl_client_dn", "CN=forged"},
                              {"X_Client_Cert_Subject", "CN=forged"},
                              {"x-portico-flags", "admin"},
                              {"x-ssl-client-dnx", "kept"}};
  Parsed p = parse_request_head(upstream_head(req, headers));
  EXPECT_EQ(p.values("x-ssl-client-dn"), Values{});
  EXPECT_EQ(p.values("x_ssl_client_dn"), Values{});
  EXPECT_EQ(p.values("x_client_cert_subject"), Values{});
  EXPECT_EQ(p.values("x-client-cert-subject"), Values{"CN=real"});
  EXPECT_EQ(p.values("x-portico-flags"), Values{});
  EXPECT_EQ(p.values("x-ssl-client-dnx"), Values{"kept"});
}

TEST(ClientResponseHead, ExactSerialisation) {
  ClientResponse r;
  r.status = 201;
  r.reason = "Created It";
  EXPECT_EQ(client_head(r, {{"Content-Length", "0"}, {"Location", "/x/1"}}),
            "HTTP/1.1 201 Created It\r\nContent-Length: 0\r\nLocation: /x/1\r\n\r\n");
}

TEST(ClientResponseHead, ReasonFallsBackToTheStandardPhrase) {
  ClientResponse r;
  r.status = 404;
  std::string out = client_head(r, {{"Content-Length", "0"}});
  EXPECT_EQ(out.substr(0, out.find("\r\n")), "HTTP/1.1 404 Not Found");
  Parsed p = parse_response_head(out);
  EXPECT_EQ(p.status_code, 404);
  EXPECT_EQ(p.status, "Not Found");

  r.status = 502;
  out = client_head(r, {});
  EXPECT_EQ(out.substr(0, out.find("\r\n")), "HTTP/1.1 502 Bad Gateway");

  // An unregistered code with no reason: an empty phrase, still a valid status line.
  r.status = 299;
  out = client_head(r, {{"Content-Length", "0"}});
  EXPECT_EQ(out.substr(0, out.find("\r\n")), "HTTP/1.1 299 ");
  p = parse_response_head(out);
  EXPECT_EQ(p.status_code, 299);
  EXPECT_EQ(p.status, "");
}

TEST(ClientResponseHead, GivenReasonWinsOverTheStandardOne) {
  ClientResponse r;
  r.status = 200;
  r.reason = "Fine Thanks";
  Parsed p = parse_response_head(client_head(r, {{"Content-Length", "0"}}));
  EXPECT_EQ(p.status, "Fine Thanks");
}

TEST(ClientResponseHead, DropsHopByHopAndConnectionNamedFields) {
  ClientResponse r;
  std::string out = client_head(r, {{"Connection", "keep-alive, X-Upstream-Only"},
                                    {"Keep-Alive", "timeout=5, max=100"},
                                    {"Server", "up"},
                                    {"X-Upstream-Only", "secret"},
                                    {"Upgrade", "h2c"},
                                    {"Proxy-Connection", "keep-alive"},
                                    {"TE", "trailers"},
                                    {"Content-Length", "0"}});
  Parsed p = parse_response_head(out);
  EXPECT_EQ(p.names(), (Names{"Server", "Content-Length"}));
}

TEST(ClientResponseHead, TransferEncodingKeptUnlessDropped) {
  std::vector<Header> headers{{"Transfer-Encoding", "chunked"}, {"X-A", "a"}};
  ClientResponse r;
  Parsed kept = parse_response_head(client_head(r, headers));
  EXPECT_EQ(kept.values("transfer-encoding"), Values{"chunked"});
  r.drop_transfer_encoding = true;
  r.close = true;  // a de-chunked body is delimited by closing
  Parsed dropped = parse_response_head(client_head(r, headers));
  EXPECT_FALSE(dropped.has("transfer-encoding"));
  EXPECT_EQ(dropped.names(), (Names{"X-A", "Connection"}));
}

TEST(ClientResponseHead, ConnectionHeaderVariants) {
  std::vector<Header> headers{{"Content-Length", "0"}, {"Connection", "close"}};
  ClientResponse r;
  // Neither flag: no Connection field (the upstream's one is hop-by-hop).
  std::string none = client_head(r, headers);
  EXPECT_EQ(none, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

  r.close = true;
  EXPECT_EQ(client_head(r, headers),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

  r.close = false;
  r.keep_alive_http10 = true;
  EXPECT_EQ(client_head(r, headers),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");

  r.close = true;  // close wins
  std::string both = client_head(r, headers);
  EXPECT_EQ(both, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  parse_response_head(both);
}

TEST(ClientResponseHead, KeepsOrderDuplicatesAndValueBytes) {
  const std::string obs = "\x80\xfe";
  std::vector<Header> headers{{"Set-Cookie", "a=1; Path=/"},
                              {"Content-Type", "text/html; charset=utf-8"},
                              {"Set-Cookie", "b=2"},
                              {"X-Obs", obs},
                              {"X-Empty", ""},
                              {"Content-Length", "10"}};
  ClientResponse r;
  r.status = 200;
  Parsed p = parse_response_head(client_head(r, headers));
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  Pairs expected;
  for (const Header& h : headers) expected.emplace_back(h.name, h.value);
  EXPECT_EQ(p.headers, expected);
}

// ---- responses Portico writes itself ------------------------------------------------

std::string local(int status, const std::vector<Header>& extra, std::string_view body, bool close,
                  bool head_only) {
  std::string out = "stale";
  write_local_response(out, status, extra, body, close, head_only);
  return out;
}

TEST(LocalResponse, ExactWithDefaultContentType) {
  EXPECT_EQ(local(404, {}, "no route\n", false, false),
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 9\r\n"
            "\r\n"
            "no route\n");
}

TEST(LocalResponse, ParsesBackAsOneCompleteMessage) {
  std::string out = local(502, {{"X-A", "1"}}, "bad gateway", true, false);
  Parsed p = parse(HTTP_RESPONSE, out);
  EXPECT_EQ(p.err, HPE_OK) << p.reason;
  EXPECT_EQ(p.status_code, 502);
  EXPECT_EQ(p.status, "Bad Gateway");
  EXPECT_TRUE(p.message_complete);
  EXPECT_EQ(p.message_end, out.size());
  EXPECT_EQ(p.body, "bad gateway");
  EXPECT_EQ(p.names(), (Names{"X-A", "Content-Type", "Content-Length", "Connection"}));
  EXPECT_EQ(p.values("connection"), Values{"close"});
}

TEST(LocalResponse, ExtraHeadersKeptInOrderAndContentTypeNotDuplicated) {
  std::string out =
      local(200, {{"content-TYPE", "application/json"}, {"Cache-Control", "no-store"}}, "{}", false,
            false);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "content-TYPE: application/json\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "{}");
}

TEST(LocalResponse, EmptyBodyHasZeroLengthAndNoDefaultType) {
  std::string out = local(200, {}, "", false, false);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  Parsed p = parse(HTTP_RESPONSE, out);
  EXPECT_TRUE(p.message_complete);
  EXPECT_EQ(p.message_end, out.size());
}

TEST(LocalResponse, RedirectWithLocationAndEmptyBody) {
  std::string out = local(308, {{"Location", "https://example.com/"}}, "", false, false);
  EXPECT_EQ(out,
            "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://example.com/\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(LocalResponse, BodylessStatusesHaveNoLengthAndNoBody) {
  for (int status : {100, 101, 103, 204, 304}) {
    SCOPED_TRACE(status);
    std::string out = local(status, {{"X-A", "1"}}, "", false, false);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_EQ(out.find("Content-Type"), std::string::npos) << out;
    ASSERT_GE(out.size(), 4u);
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
    // Even when handed a body, none is written for these statuses.
    std::string with_body = local(status, {}, "ignored", false, false);
    EXPECT_EQ(with_body.find("Content-Length"), std::string::npos) << with_body;
    EXPECT_EQ(with_body.find("ignored"), std::string::npos) << with_body;
    EXPECT_EQ(with_body.substr(with_body.size() - 4), "\r\n\r\n");
  }
  std::string no_content = local(204, {}, "", true, false);
  EXPECT_EQ(no_content, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  Parsed p = parse(HTTP_RESPONSE, no_content);
  EXPECT_TRUE(p.message_complete);
  EXPECT_EQ(p.message_end, no_content.size());
  std::string not_modified = local(304, {{"ETag", "\"v1\""}}, "", false, false);
  EXPECT_EQ(not_modified, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
}

TEST(LocalResponse, HeadOnlyKeepsContentLengthButOmitsTheBody) {
  std::string full = local(404, {}, "not found", false, false);
  std::string head = local(404, {}, "not found", false, true);
  EXPECT_EQ(head,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n");
  EXPECT_EQ(full, head + "not found");
  Parsed p = parse(HTTP_RESPONSE, head);
  EXPECT_EQ(p.head_end, head.size());
  EXPECT_EQ(p.values("content-length"), Values{"9"});
  EXPECT_TRUE(p.body.empty());
}

TEST(LocalResponse, CloseFlagAddsConnectionClose) {
  EXPECT_EQ(local(503, {}, "", false, false).find("Connection"), std::string::npos);
  std::string out = local(503, {}, "", true, false);
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(LocalResponse, UnknownStatusHasEmptyReason) {
  std::string out = local(599, {}, "", false, false);
  EXPECT_EQ(out, "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n");
  Parsed p = parse(HTTP_RESPONSE, out);
  EXPECT_EQ(p.err, HPE_OK);
  EXPECT_EQ(p.status_code, 599);
}

}  // namespace
}  // namespace portico::http
