// The downstream request path without sockets: client bytes are parsed the way
// DownstreamConn::pump_once parses them (MessageParser stopping after every head and every
// message, the input arriving in pieces whose size the first byte chooses), each head goes
// through the same checks (check_request_head), is routed by a fixed config's Router, and
// gets its upstream head built (write_upstream_request_head).
//
// Invariants: no CR or LF reaches a header view; body bytes never outnumber the bytes
// parsed; the upstream head re-parses with llhttp as exactly one complete request head with
// the same method, target and framing (a proxy that changes framing is a desync).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cache/CacheKey.h"
#include "cache/CachePolicy.h"
#include "config/ConfigLoader.h"
#include "http/ConnectionTokens.h"
#include "http/HeadCollector.h"
#include "http/HeadWriter.h"
#include "http/MessageParser.h"
#include "http/TraceContext.h"
#include "proxy/RequestHeadCheck.h"
#include "router/MatchScratch.h"
#include "router/Router.h"
#include "tests/fuzz/FuzzCheck.h"
#include "upstream/HashKey.h"

using namespace portico;

namespace {

// Hosts (exact and wildcard), paths (exact, prefix, regex), methods, headers (exact,
// present, absent, regex) and query parameters; a host rewrite; a hashing upstream.
constexpr std::string_view kConfig = R"(
listeners:
  - name: fuzz
    address: 127.0.0.1:1
    limits: { max_header_bytes: 16KiB, max_body_bytes: 64KiB }
    routes:
      - name: api
        match:
          host: [api.example.com, "*.example.org"]
          path_prefix: /v1/
          methods: [GET, POST, PUT]
          headers:
            - { name: x-env, exact: prod }
            - { name: x-debug, present: false }
            - { name: user-agent, regex: "curl/.*" }
        upstream: hashed
        host_rewrite: internal.example
      - name: users
        match: { path_regex: "^/users/[0-9]+(/[a-z]+)?$" }
        upstream: plain
      - name: query
        match:
          path: /search
          query: [ { name: q, present: true }, { name: lang, regex: "[a-z]{2}" } ]
        upstream: plain
      - name: token
        match: { headers: [ { name: x-token, present: true } ] }
        upstream: hashed
      - name: status
        match: { path: /-/status, methods: [GET, HEAD] }
        respond: { status: 200, body: "ok\n" }
      - name: rest
        match: { path_prefix: /static/ }
        upstream: plain
upstreams:
  - name: plain
    endpoints: [ 127.0.0.1:9 ]
  - name: hashed
    balance: ring_hash
    hash_key: header:x-user
    endpoints: [ 127.0.0.1:9, 127.0.0.1:10 ]
)";

struct Fixture {
  explicit Fixture(config::Config c) : config(std::move(c)) {}
  config::Config config;
  std::unique_ptr<router::Router> router;
  router::MatchScratch scratch;
  http::RandomIdBits ids;
  std::vector<std::string> subject_headers{"x-client-subject"};
  std::string upstream_head;
  http::Traceparent traceparent{};
};

Fixture* fixture = nullptr;

using fuzz::check;

class BodyCounter final : public http::MessageParser::BodySink {
 public:
  bool on_body_data(const char*, size_t n) override {
    bytes += n;
    return true;
  }
  uint64_t bytes = 0;
};

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// The upstream head must be one complete, valid request head, framed as the client's was.
void reparse_upstream_head(const std::string& out, std::string_view method, std::string_view target,
                           const llhttp_t& client) {
  std::string copy = out;  // the parser's collector may unfold in place
  http::MessageParser parser(HTTP_REQUEST, nullptr);
  http::HeadCollector head;
  parser.start_message(&head);
  auto [stop, used] = parser.execute(copy.data(), 0, uint32_t(copy.size()));
  if (stop != http::MessageParser::Stop::Head) {
    std::fprintf(stderr, "upstream head does not parse: %s\n%s\n", parser.error_reason(),
                 out.c_str());
    std::abort();
  }
  check(used <= copy.size(), "re-parse used more bytes than the head has");
  check(copy.compare(copy.size() - 4, 4, "\r\n\r\n") == 0, "upstream head ends in CRLF CRLF");
  head.unfold(copy.data());
  head.finish(copy.data());
  check(!head.folded(), "upstream head has an obs-fold line");
  check(head.method(copy.data()) == method, "upstream method differs");
  check(head.target(copy.data()) == target, "upstream target differs");
  const llhttp_t& p = parser.raw();
  check((p.flags & F_CHUNKED) == (client.flags & F_CHUNKED), "chunked framing differs upstream");
  check((p.flags & F_CONTENT_LENGTH) == (client.flags & F_CONTENT_LENGTH),
        "Content-Length presence differs upstream");
  if (client.flags & F_CONTENT_LENGTH)
    check(p.content_length == client.content_length, "Content-Length differs upstream");
  for (const http::Header& h : head.headers())
    check(http::is_token(h.name), "upstream header name is not a token");
  // The continued parse must finish the head with no bytes left over (llhttp stops right
  // after the head's last LF).
  parser.continue_after_head();
  auto [stop2, used2] = parser.execute(copy.data(), used, uint32_t(copy.size()));
  check(used + used2 == copy.size(), "upstream head has bytes after its end");
  if (!(p.flags & F_CHUNKED) && p.content_length == 0)
    check(stop2 == http::MessageParser::Stop::Message, "a bodiless upstream head is incomplete");
}

// What DownstreamConn::on_request_head and forward_request do with a complete head.
// false: the request is refused and the connection reads nothing more.
bool on_request_head(Fixture& f, http::MessageParser& parser, http::HeadCollector& head,
                     char* base) {
  head.unfold(base);
  head.finish(base);
  const auto& headers = head.headers();
  for (const http::Header& h : headers)
    check(!has_line_break(h.name) && !has_line_break(h.value), "CR or LF in a header view");
  std::string_view method = head.method(base);
  std::string_view raw_target = head.target(base);
  const llhttp_t& raw = parser.raw();
  http::ConnectionTokens conn;
  conn.parse(headers);
  if (conn.too_many()) return false;
  bool has_body = (raw.flags & F_CHUNKED) || raw.content_length > 0;
  const config::Listener& listener = f.config.listeners.front();
  proxy::CheckedRequestHead checked = proxy::check_request_head(
      method, raw_target, headers, raw, has_body, listener.limits.max_body_bytes);
  if (checked.status) {
    check(checked.why != nullptr, "a refusal without a reason");
    return false;
  }
  std::string_view target = checked.target;
  std::string_view host = checked.host;
  check(!target.empty() && (target[0] == '/' || target == "*"), "target is not origin-form");
  check(target.data() >= raw_target.data() &&
            target.data() + target.size() == raw_target.data() + raw_target.size(),
        "target is not the tail of the request target");
  check(raw.http_major == 1, "a version other than HTTP/1.x got through");

  http::IncomingTraceparent incoming;
  bool trace_continued =
      checked.traceparent && http::parse_traceparent(checked.traceparent->value, incoming);
  http::write_traceparent(f.traceparent, trace_continued ? &incoming : nullptr, f.ids);

  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  router::RequestView view{method, path,
                           q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                           host, headers};
  const config::Route* route = f.router->match(view, f.scratch);
  if (!route) return true;  // 404; the connection goes on
  if (route->respond) return true;

  // The cache's view of the request (a cache filter's lookup).
  std::string key;
  cache::append_key(key, host, target);
  (void)cache::request_facts(method, headers);

  const config::Upstream* pool = nullptr;
  for (const config::Upstream& u : f.config.upstreams)
    if (u.name == route->upstream) pool = &u;
  check(pool != nullptr, "route names an unknown upstream");
  (void)upstream::request_hash(pool->hash_key, {path, "127.0.0.1", headers});

  std::string_view send_host = route->host_rewrite ? std::string_view(*route->host_rewrite)
                               : !host.empty()     ? host
                                                   : std::string_view(pool->name);
  http::UpstreamRequest req{
      .method = method,
      .target = target,
      .host = send_host,
      .original_host = host,
      .client_ip = "127.0.0.1",
      .request_id = "0123456789abcdef",
      .traceparent = {f.traceparent.data(), f.traceparent.size()},
      .drop_tracestate = !trace_continued,
      .drop_headers = {config::Config::kDefaultFlagsHeader, "x-flags", "if-none-match", ""},
      .drop_more = f.subject_headers,
      .connection_lines = "X-Client-Subject: CN=fuzz\r\n",
      .added_lines = "x-flags: a=on\r\n",
      .tls = (raw.content_length & 1) != 0};
  http::write_upstream_request_head(f.upstream_head, req, headers, conn);
  reparse_upstream_head(f.upstream_head, method, target, raw);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  config::LoadResult r = config::load_config_string(kConfig, "fuzz.yaml");
  if (!r.config) {
    for (const config::ConfigError& e : r.errors)
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::abort();
  }
  fixture = new Fixture(std::move(*r.config));
  fixture->router = std::make_unique<router::Router>(fixture->config.listeners.front().routes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  Fixture& f = *fixture;
  // The first byte: how many bytes arrive per read (0: all at once).
  const uint32_t step = data[0] % 32;
  std::vector<char> buf(data + 1, data + size);
  const uint32_t total = uint32_t(buf.size());
  const uint64_t max_header = f.config.listeners.front().limits.max_header_bytes;

  BodyCounter body;
  http::MessageParser parser(HTTP_REQUEST, &body);
  http::HeadCollector head;
  enum class Pause { None, HeadDone, MessageDone } pause = Pause::None;
  uint32_t parsed = 0, arrived = step ? std::min(step, total) : total;
  uint32_t message_from = 0;
  uint64_t body_before = 0;
  bool in_message = false;
  bool head_done = false;
  int messages = 0;
  for (int rounds = 0; rounds < 1'000'000; ++rounds) {
    if (pause == Pause::HeadDone) {
      pause = Pause::None;
      parser.continue_after_head();
    } else if (pause == Pause::MessageDone) {
      pause = Pause::None;
      parser.continue_after_message();
    }
    if (parsed == arrived && !parser.must_run()) {
      if (arrived == total) break;
      arrived = step ? std::min(arrived + step, total) : total;
      continue;
    }
    if (!in_message) {
      parser.start_message(&head);
      in_message = true;
      message_from = parsed;
      body_before = body.bytes;
      head_done = false;
    }
    auto [stop, used] = parser.execute(buf.data(), parsed, arrived);
    check(used <= arrived - parsed, "the parser used bytes it was not given");
    parsed += used;
    switch (stop) {
      case http::MessageParser::Stop::Head:
        pause = Pause::HeadDone;
        head_done = true;
        if (parsed - message_from > max_header) return 0;  // 431
        if (!on_request_head(f, parser, head, buf.data())) return 0;
        break;
      case http::MessageParser::Stop::Message:
        pause = Pause::MessageDone;
        check(body.bytes - body_before <= parsed - message_from,
              "more body bytes than the message has");
        in_message = false;
        if (++messages > 64) return 0;
        break;
      case http::MessageParser::Stop::Error:
        return 0;  // 400 (or 413 from a body sink)
      case http::MessageParser::Stop::NeedMore:
        if (!head_done && parsed - message_from > max_header)
          return 0;  // 431 while the head is still incomplete
        break;
    }
  }
  return 0;
}
