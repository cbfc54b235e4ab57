// Round trip (issue 9, hardening): a property test over generated valid HTTP/1.1 traffic.
// The request an upstream receives re-parses to the method, target, end-to-end header fields
// (same order, same values), body and trailers the client sent; the response the client
// receives re-parses to the status, reason, end-to-end fields, body and trailers the upstream
// sent. Requests are pipelined in batches on keep-alive connections; responses use every
// framing (Content-Length, chunked with extensions and trailers, close-delimited, none).
//
// What Portico changes on purpose, so what the comparison leaves out (and checks apart):
// - Request (src/http/HeadWriter.cpp, write_upstream_request_head; docs/ARCHITECTURE.md
//   step 7): the hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection, TE, Upgrade:
//   src/http/ConnectionTokens.cpp) and those the Connection header names (never Host,
//   Content-Length or Transfer-Encoding) are dropped; Host goes first; X-Forwarded-For,
//   X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id (only when the client sent none) and
//   traceparent (always Portico's own, docs/CONFIG.md "Trace context") follow the client's
//   fields in that order. The generator sends none of Portico's own fields except Host and,
//   sometimes, X-Request-Id; nor Expect, Upgrade, tracestate or the flags header.
// - Response (write_client_response_head): the same hop-by-hop fields are dropped, and
//   "Connection: close" is added when Portico closes the client connection. Nothing else:
//   no Date, Server or Via. Framing fields and bodies pass unchanged to an HTTP/1.1 client.
//
// The seed is printed with every failure; PORTICO_ROUNDTRIP_SEED=<n> reruns one, and
// PORTICO_ROUNDTRIP_DUMP=<dir> writes every case's request and response bytes there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/RecordingUpstream.h"
#include "harness/Socket.h"
#include "harness/WireParser.h"

namespace portico::it {
namespace {

using Field = std::pair<std::string, std::string>;

constexpr std::string_view kTchars =
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kUnreserved =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
constexpr std::string_view kSubDelims = "!$&'()*+,;=";
constexpr std::string_view kHex = "0123456789abcdefABCDEF";
constexpr const char* kCaseHeader = "X-Rt-Case";

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Every byte visible: tabs and non-ASCII escaped, long values cut.
std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 160; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 160) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string FieldsText(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& [n, v] : fields) out += "    " + Printable(n) + ": " + Printable(v) + "\n";
  return out;
}

// The PRNG and the pieces of valid syntax built from it. Only the generator's own
// arithmetic on mt19937_64 is used, so a seed means the same traffic everywhere.
class Rand {
 public:
  explicit Rand(uint64_t seed) : rng_(seed) {}
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  size_t Between(size_t lo, size_t hi) { return lo + Below(hi - lo + 1); }
  bool Percent(size_t p) { return Below(100) < p; }
  char From(std::string_view alphabet) { return alphabet[Below(alphabet.size())]; }
  std::string String(std::string_view alphabet, size_t n) {
    std::string s(n, ' ');
    for (char& c : s) c = From(alphabet);
    return s;
  }
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng_() & 0xff);
    return s;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  std::string RandomCase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
      if (!Percent(30)) continue;
      c = std::isupper(static_cast<unsigned char>(c)) ? char(std::tolower(c))
                                                      : char(std::toupper(c));
    }
    return out;
  }
  // Optional whitespace around a value: not part of it (RFC 9110 §5.5).
  std::string Ows() {
    static const std::vector<std::string> kOws = {"", "", "", " ", "  ", "\t", " \t "};
    return Pick(kOws);
  }

  // A field value: VCHAR and obs-text, with spaces and tabs only inside.
  std::string Value() {
    switch (Below(10)) {
      case 0:
        return "";
      case 1: {  // obs-text (0x80-0xFF) among visible characters
        std::string v = String(kUnreserved, Between(1, 4));
        for (size_t i = 0, n = Between(1, 12); i < n; ++i) v += char(0x80 + Below(0x80));
        return v + String(kUnreserved, 1);
      }
      case 2: {  // internal spaces and tabs
        std::string v = String(kUnreserved, Between(1, 6));
        for (size_t i = 0, n = Between(1, 4); i < n; ++i)
          v += Pick<std::string>({" ", "\t", "  ", " \t", "\t\t"}) +
               String(kUnreserved, Between(1, 6));
        return v;
      }
      case 3: {  // long, every visible character
        std::string v;
        size_t n = Percent(20) ? Between(2000, 8000) : Between(200, 1000);
        for (size_t i = 0; i < n; ++i) v += char(0x21 + Below(0x7e - 0x21 + 1));
        return v;
      }
      case 4:  // a list with quoted strings
        return "a=1, b=\"x, y\", " + String(kTchars, Between(1, 8)) + ";q=0.5";
      case 5:  // digits, dates, tokens
        return std::to_string(rng_() % 100000000);
      case 6:
        return "Tue, 15 Nov 1994 08:12:31 GMT";
      default: {
        std::string v = String(kTchars, Between(1, 24));
        if (Percent(30)) v += " " + String(kUnreserved, Between(1, 10));
        return v;
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

bool Reserved(std::string_view name) {
  // Fields Portico sets, frames with, or treats specially: never generated by chance.
  for (std::string_view r : {"host",
                             "content-length",
                             "transfer-encoding",
                             "connection",
                             "keep-alive",
                             "te",
                             "upgrade",
                             "proxy-connection",
                             "expect",
                             "x-forwarded-for",
                             "x-forwarded-proto",
                             "x-forwarded-host",
                             "x-request-id",
                             "traceparent",
                             "tracestate",
                             "x-portico-flags",
                             "x_portico_flags",
                             "trailer",
                             "x-rt-case",
                             "x-rt-answer"})
    if (IEquals(name, r)) return true;
  return name.rfind("x-hop-", 0) == 0 || name.rfind("X-Hop-", 0) == 0;
}

// A header name: familiar ones, or a token made of every tchar.
std::string FieldName(Rand& r) {
  static const std::vector<std::string> kCommon = {
      "Accept",        "Accept-Language", "User-Agent",    "Cookie",     "Authorization",
      "Cache-Control", "Content-Type",    "If-None-Match", "Forwarded",  "Via",
      "Origin",        "Referer",         "Pragma",        "Set-Cookie", "ETag",
      "Vary",          "Warning",         "Link",          "X-Custom",   "Accept-Encoding"};
  while (true) {
    std::string name =
        r.Percent(45) ? r.RandomCase(r.Pick(kCommon)) : "X-" + r.String(kTchars, r.Between(1, 30));
    if (!Reserved(name)) return name;
  }
}

// One header line as sent, and the value the receiver must see (OWS trimmed).
struct Line {
  std::string name;
  std::string value;
  std::string wire;  // "Name:<ows>value<ows>\r\n"
  bool end_to_end = true;
};

Line MakeLine(Rand& r, std::string name, std::string value, bool end_to_end = true) {
  Line l{std::move(name), std::move(value), {}, end_to_end};
  l.wire = l.name + ":" + r.Ows() + l.value + r.Ows() + "\r\n";
  return l;
}

// Content-Length and Transfer-Encoding: llhttp 8 (Portico's parser) refuses a tab after
// their value ("Content-Length: 5\t" is a 400, "Transfer-Encoding: chunked\t" too), although
// OWS allows it; it is fail-closed, so the generator leaves that one shape out.
Line FramingLine(Rand& r, std::string_view name, std::string value) {
  Line l{r.RandomCase(name), std::move(value), {}, true};
  l.wire = l.name + ":" + r.Ows() + l.value + std::string(r.Below(3), ' ') + "\r\n";
  return l;
}

// Fields for a head: repeated names, many fields, empty values, hop-by-hop ones with the
// Connection tokens that name them. About 24 KB at most, well under max_header_bytes and
// the 64 KiB a response head may take.
std::vector<Line> MakeFields(Rand& r, size_t count) {
  std::vector<Line> lines;
  size_t bytes = 0;
  for (size_t i = 0; i < count && bytes < 24000; ++i) {
    std::string name = !lines.empty() && r.Percent(15)
                           ? r.RandomCase(lines[r.Below(lines.size())].name)  // repeated name
                           : FieldName(r);
    if (Reserved(name)) continue;  // a repeated end-to-end name is never reserved
    lines.push_back(MakeLine(r, name, r.Value()));
    bytes += lines.back().wire.size();
  }
  // Hop-by-hop fields: dropped by the proxy, whichever case and however many.
  if (r.Percent(20))
    lines.push_back(MakeLine(r, r.RandomCase("Keep-Alive"), "timeout=5, max=100", false));
  if (r.Percent(15))
    lines.push_back(MakeLine(r, r.RandomCase("Proxy-Connection"), "keep-alive", false));
  if (r.Percent(30)) {
    std::string tokens;
    for (size_t i = 0, n = r.Between(1, 3); i < n; ++i) {
      std::string hop = "X-Hop-" + r.String(kUnreserved.substr(0, 52), r.Between(1, 8));
      lines.push_back(MakeLine(r, hop, r.Value(), false));
      tokens += (tokens.empty() ? "" : r.Percent(50) ? ", " : ",") + r.RandomCase(hop);
    }
    if (r.Percent(50)) tokens = "keep-alive, " + tokens;
    lines.push_back(MakeLine(r, r.RandomCase("Connection"), tokens, false));
  }
  std::shuffle(lines.begin(), lines.end(), std::mt19937_64(r.Below(1u << 30)));
  return lines;
}

void InsertAnywhere(Rand& r, std::vector<Line>& lines, Line line) {
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(r.Below(lines.size() + 1)),
               std::move(line));
}

std::string ChunkExtension(Rand& r) {
  switch (r.Below(5)) {
    case 0:
      return ";" + r.String(kTchars, r.Between(1, 8));
    case 1:
      return ";" + r.String(kTchars, r.Between(1, 6)) + "=" + r.String(kTchars, r.Between(1, 6));
    case 2:
      return ";" + r.String(kTchars, r.Between(1, 6)) + "=\"quoted value, with; marks\"";
    default:
      return "";
  }
}

std::string Hex(size_t n, bool upper) {
  static const char* kDigits[2] = {"0123456789abcdef", "0123456789ABCDEF"};
  std::string s;
  do {
    s.insert(s.begin(), kDigits[upper][n % 16]);
    n /= 16;
  } while (n);
  return s;
}

// A chunked body: varied chunk sizes (leading zeros, either case of hex), extensions,
// trailers after the last chunk.
std::string Chunked(Rand& r, const std::string& body, const std::vector<Line>& trailers) {
  std::string out;
  for (size_t off = 0; off < body.size();) {
    size_t n = std::min(body.size() - off, r.Percent(50) ? r.Between(1, 16) : r.Between(1, 20000));
    out += (r.Percent(10) ? "00" : "") + Hex(n, r.Percent(50)) + ChunkExtension(r) + "\r\n";
    out.append(body, off, n);
    out += "\r\n";
    off += n;
  }
  out += (r.Percent(10) ? "000" : "0") + ChunkExtension(r) + "\r\n";
  for (const Line& t : trailers) out += t.wire;
  return out + "\r\n";
}

std::string Body(Rand& r) {
  size_t n = r.Percent(55)   ? r.Between(0, 64)
             : r.Percent(70) ? r.Between(65, 4096)
             : r.Percent(85) ? r.Between(4097, 65536)
                             : r.Between(65537, 200000);
  return r.Bytes(n);
}

std::vector<Line> Trailers(Rand& r) {
  std::vector<Line> out;
  for (size_t i = 0, n = r.Percent(50) ? 0 : r.Between(1, 3); i < n; ++i)
    out.push_back(MakeLine(r, "X-Trailer-" + r.String(kTchars, r.Between(1, 8)),
                           r.String(kUnreserved, r.Between(0, 20))));
  return out;
}

std::vector<Field> EndToEnd(const std::vector<Line>& lines) {
  std::vector<Field> out;
  for (const Line& l : lines)
    if (l.end_to_end) out.emplace_back(l.name, l.value);
  return out;
}

std::string Target(Rand& r) {
  std::string t;
  for (size_t i = 0, n = r.Between(0, 5); i < n; ++i) {
    t += "/";
    for (size_t j = 0, m = r.Between(0, 12); j < m; ++j) {
      switch (r.Below(6)) {
        case 0:
          t += "%" + std::string(1, r.From(kHex)) + r.From(kHex);
          break;
        case 1:
          t += r.From(kSubDelims);
          break;
        case 2:
          t += r.From(":@");
          break;
        default:
          t += r.From(kUnreserved);
      }
    }
  }
  if (t.empty() || r.Percent(10)) t += "/";
  if (r.Percent(40)) {
    t += "?";
    for (size_t j = 0, m = r.Between(0, 40); j < m; ++j)
      t += r.Percent(20) ? std::string(1, r.From("/?:@")) : std::string(1, r.From(kUnreserved));
    if (r.Percent(30)) t += "&a=%20b+c&empty=&=x";
  }
  return t;
}

struct Response {
  int status = 200;
  std::string reason;
  std::vector<Field> end_to_end;  // what the client must see
  std::vector<Field> trailers;
  std::string body;  // de-chunked
  bool chunked = false;
  bool close_delimited = false;
  bool upstream_closes = false;  // Connection: close from the upstream, then it closes
  std::string wire;
};

struct Case {
  size_t id = 0;
  std::string method;
  std::string target;
  std::string host;
  bool sends_request_id = false;
  std::vector<Field> end_to_end;  // what the upstream must see, Host and Portico's own apart
  std::vector<Field> trailers;
  std::string body;
  bool chunked = false;
  bool client_close = false;  // Connection: close on the last request of a connection
  std::string wire;
  Response response;
};

Response MakeResponse(Rand& r, size_t id, bool head_request, bool last_on_connection) {
  static const std::vector<int> kStatuses = {
      200, 200, 200, 200, 201, 202, 203, 204, 206, 226, 299, 300, 301, 302, 303, 304, 307, 308,
      400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 451, 500, 501, 502, 503, 504, 599};
  static const std::vector<std::string> kReasons = {
      "OK", "Whatever", "Tab\tand  spaces", "caf\xc3\xa9 \xff\x80", "It's (fine) [really]!"};
  Response resp;
  resp.status = r.Pick(kStatuses);
  resp.reason = r.Pick(kReasons);
  std::vector<Line> lines = MakeFields(r, r.Percent(10) ? r.Between(40, 100) : r.Between(0, 12));
  InsertAnywhere(r, lines, MakeLine(r, "X-Rt-Answer", std::to_string(id)));
  bool bodiless_status = resp.status == 204 || resp.status == 304;
  bool no_body = bodiless_status || head_request;
  std::string body = no_body ? std::string() : Body(r);
  std::vector<Line> trailers;
  size_t framing = r.Below(100);
  if (resp.status == 204) {
    // No framing fields at all (RFC 9110 §8.6).
  } else if (framing < 20 && !bodiless_status) {
    resp.chunked = true;  // on a HEAD answer the field stays, with no body
    InsertAnywhere(r, lines, FramingLine(r, "Transfer-Encoding", "chunked"));
    if (!head_request) {
      trailers = Trailers(r);
      if (!trailers.empty() && r.Percent(50))
        InsertAnywhere(r, lines, MakeLine(r, "Trailer", trailers.front().name));
    }
  } else if (framing < 27 && last_on_connection && !no_body) {
    resp.close_delimited = true;
  } else if (resp.status != 304 || r.Percent(50)) {
    // A 304 or HEAD answer may carry the length of the body a GET would get.
    size_t length = no_body ? r.Between(0, 5000) : body.size();
    InsertAnywhere(r, lines, FramingLine(r, "Content-Length", std::to_string(length)));
  }
  if (!resp.close_delimited && r.Percent(8)) {
    resp.upstream_closes = true;
    InsertAnywhere(r, lines, MakeLine(r, r.RandomCase("Connection"), "close", false));
  }
  resp.end_to_end = EndToEnd(lines);
  resp.trailers = EndToEnd(trailers);
  resp.body = head_request ? std::string() : body;
  resp.wire = "HTTP/1.1 " + std::to_string(resp.status) + " " + resp.reason + "\r\n";
  for (const Line& l : lines) resp.wire += l.wire;
  resp.wire += "\r\n";
  if (!no_body) resp.wire += resp.chunked ? Chunked(r, body, trailers) : body;
  return resp;
}

Case MakeCase(Rand& r, size_t id, bool last_on_connection) {
  static const std::vector<std::string> kMethods = {"GET",  "GET", "GET",    "HEAD",  "POST",
                                                    "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  static const std::vector<std::string> kHosts = {"example.test", "api.example.com:8080",
                                                  "127.0.0.1:80", "a-b.c-d.example", "X.Y"};
  Case c;
  c.id = id;
  c.method = r.Pick(kMethods);
  c.target = Target(r);
  c.host = r.Pick(kHosts);
  std::vector<Line> lines = MakeFields(r, r.Percent(10) ? r.Between(40, 120) : r.Between(0, 14));
  InsertAnywhere(r, lines, MakeLine(r, kCaseHeader, std::to_string(id)));
  if (r.Percent(15)) {
    c.sends_request_id = true;
    InsertAnywhere(r, lines,
                   MakeLine(r, r.RandomCase("X-Request-Id"), "req-" + std::to_string(id)));
  }
  if (r.Percent(15)) lines.push_back(MakeLine(r, "TE", "trailers", false));
  std::vector<Line> trailers;
  bool may_have_body = c.method != "GET" && c.method != "HEAD";
  if (may_have_body && r.Percent(35)) {
    c.chunked = true;
    c.body = Body(r);
    InsertAnywhere(r, lines, FramingLine(r, "Transfer-Encoding", "chunked"));
    trailers = Trailers(r);
    if (!trailers.empty() && r.Percent(50))
      InsertAnywhere(r, lines, MakeLine(r, "Trailer", trailers.front().name));
  } else if (may_have_body ? r.Percent(90) : r.Percent(10)) {
    c.body = may_have_body ? Body(r) : std::string();
    InsertAnywhere(r, lines, FramingLine(r, "Content-Length", std::to_string(c.body.size())));
  }
  if (last_on_connection && r.Percent(30)) {
    c.client_close = true;
    lines.push_back(MakeLine(r, r.RandomCase("Connection"), "close", false));
  }
  c.end_to_end = EndToEnd(lines);
  c.trailers = EndToEnd(trailers);
  // Host anywhere among the fields: Portico sends it first.
  InsertAnywhere(r, lines, MakeLine(r, r.RandomCase("Host"), c.host, false));
  c.wire = c.method + " " + c.target + " HTTP/1.1\r\n";
  for (const Line& l : lines) c.wire += l.wire;
  c.wire += "\r\n";
  c.wire += c.chunked ? Chunked(r, c.body, trailers) : c.body;
  c.response = MakeResponse(r, id, c.method == "HEAD", last_on_connection);
  return c;
}

// Compares fields: names ignoring case, values byte for byte after OWS trim.
std::optional<std::string> FieldsDiffer(const std::vector<Field>& want,
                                        const std::vector<Field>& got) {
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    if (i >= want.size() || i >= got.size() || !IEquals(want[i].first, got[i].first) ||
        TrimOws(want[i].second) != TrimOws(got[i].second)) {
      return "first difference at field " + std::to_string(i) + "\n  want:\n" + FieldsText(want) +
             "  got:\n" + FieldsText(got);
    }
  }
  return std::nullopt;
}

std::optional<std::string> BodyDiffers(const std::string& want, const std::string& got) {
  if (want == got) return std::nullopt;
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  return "body differs: want " + std::to_string(want.size()) + " bytes, got " +
         std::to_string(got.size()) + ", first difference at byte " + std::to_string(i);
}

// The upstream's view of one case, against what the client sent.
std::optional<std::string> CheckUpstreamSaw(const Case& c, const WireMessage& m) {
  if (m.method != c.method) return "method " + m.method;
  if (m.target != c.target) return "target " + Printable(m.target);
  if (m.http_major != 1 || m.http_minor != 1) return "not HTTP/1.1";
  std::vector<Field> fields = m.headers;
  // Host first (HeadWriter: "Host kept or rewritten"; no host_rewrite here).
  if (fields.empty() || !IEquals(fields.front().first, "Host") || fields.front().second != c.host)
    return "Host is not the first field with the client's value\n" + FieldsText(fields);
  fields.erase(fields.begin());
  // Portico's own fields close the head, in this order.
  std::vector<std::string> own = {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"};
  if (!c.sends_request_id) own.push_back("X-Request-Id");
  own.push_back("traceparent");
  if (fields.size() < own.size()) return "Portico's own fields missing\n" + FieldsText(m.headers);
  std::vector<Field> added(fields.end() - static_cast<std::ptrdiff_t>(own.size()), fields.end());
  fields.resize(fields.size() - own.size());
  for (size_t i = 0; i < own.size(); ++i)
    if (!IEquals(added[i].first, own[i]))
      return "expected " + own[i] + " among Portico's fields at the end\n" + FieldsText(m.headers);
  if (added[0].second != "127.0.0.1" || added[1].second != "http" || added[2].second != c.host ||
      added.back().second.size() != 55)
    return "Portico's own fields have unexpected values\n" + FieldsText(added);
  if (auto d = FieldsDiffer(c.end_to_end, fields)) return "end-to-end header fields: " + *d;
  if (m.chunked != c.chunked) return "chunked framing not kept";
  if (auto d = BodyDiffers(c.body, m.body)) return "request " + *d;
  if (auto d = FieldsDiffer(c.trailers, m.trailers)) return "trailers: " + *d;
  return std::nullopt;
}

std::optional<std::string> CheckClientSaw(const Case& c, const WireMessage& m, bool proxy_closes) {
  const Response& want = c.response;
  if (m.status != want.status) return "status " + std::to_string(m.status);
  if (m.reason != want.reason) return "reason " + Printable(m.reason);
  std::vector<Field> fields = m.headers;
  // Portico's "Connection: close" when it closes the client connection, last.
  if (proxy_closes) {
    if (fields.empty() || !IEquals(fields.back().first, "Connection") ||
        fields.back().second != "close")
      return "no Connection: close on the last response\n" + FieldsText(m.headers);
    fields.pop_back();
  }
  if (auto d = FieldsDiffer(want.end_to_end, fields)) return "end-to-end header fields: " + *d;
  if (m.chunked != want.chunked) return "chunked framing not kept";
  if (auto d = BodyDiffers(want.body, m.body)) return "response " + *d;
  if (auto d = FieldsDiffer(want.trailers, m.trailers)) return "trailers: " + *d;
  return std::nullopt;
}

struct Connection {
  std::vector<size_t> cases;    // ids, in order
  std::vector<size_t> batches;  // how many requests each pipelined write carries
};

struct Traffic {
  std::vector<Case> cases;
  std::vector<Connection> connections;
};

Traffic Generate(uint64_t seed, size_t connections, size_t requests) {
  Rand r(seed);
  Traffic t;
  for (size_t i = 0; i < connections; ++i) {
    Connection conn;
    size_t n = i + 1 == connections
                   ? requests - t.cases.size()
                   : std::min(requests - t.cases.size(), r.Between(1, 2 * requests / connections));
    for (size_t k = 0; k < n; ++k) {
      conn.cases.push_back(t.cases.size());
      t.cases.push_back(MakeCase(r, t.cases.size(), k + 1 == n));
    }
    for (size_t left = n; left > 0;) {
      size_t b = std::min(left, r.Percent(50) ? size_t{1} : r.Between(2, 6));
      conn.batches.push_back(b);
      left -= b;
    }
    if (n > 0) t.connections.push_back(std::move(conn));
  }
  return t;
}

// Runs one client connection: writes each batch (whole, or cut at random points), reads its
// responses, checks them. Problems are appended to *failures.
void RunConnection(uint16_t port, const Traffic& t, const Connection& conn, uint64_t cut_seed,
                   std::vector<std::string>* failures) {
  Rand r(cut_seed);
  auto fail = [&](size_t id, const std::string& what) {
    failures->push_back("case " + std::to_string(id) + " (" + t.cases[id].method + " " +
                        Printable(t.cases[id].target) + "), response: " + what);
  };
  Fd fd = ConnectLoopback(port, Deadline(Ms{3000}));
  if (!fd) return fail(conn.cases.front(), "cannot connect");
  WireParser parser(WireParser::Kind::kResponse);
  size_t next = 0;
  bool eof = false;
  for (size_t batch : conn.batches) {
    std::string bytes;
    for (size_t k = next; k < next + batch; ++k) {
      const Case& c = t.cases[conn.cases[k]];
      bytes += c.wire;
      parser.ExpectResponseTo(c.method == "HEAD");
    }
    // Cut the batch into a few writes at random points (inside heads, bodies, chunk lines).
    for (size_t off = 0; off < bytes.size();) {
      size_t n = r.Percent(60) ? bytes.size() - off : r.Between(1, bytes.size() - off);
      if (SendAll(fd.get(), std::string_view(bytes).substr(off, n), Deadline(Ms{10000})) !=
          IoStatus::kOk)
        return fail(conn.cases[next], "send failed");
      off += n;
    }
    std::vector<WireMessage> got;
    Deadline deadline(Ms{15000});
    std::string in;
    while (got.size() < batch) {
      in.clear();
      IoStatus st = eof ? IoStatus::kClosed : RecvSome(fd.get(), &in, 1 << 16, deadline);
      if (st == IoStatus::kOk) {
        if (!parser.Feed(in))
          return fail(conn.cases[next + got.size()], "unparsable: " + parser.error());
      } else if (st == IoStatus::kClosed && !eof) {
        eof = true;
        if (!parser.FinishAtEof())
          return fail(conn.cases[next + got.size()], "closed mid-response");
      } else {
        return fail(conn.cases[next + got.size()],
                    std::string("no complete response: ") + ToString(st));
      }
      for (WireMessage& m : parser.TakeComplete()) got.push_back(std::move(m));
      if (eof && got.size() < batch)
        return fail(conn.cases[next + got.size()], "connection closed early");
    }
    if (got.size() > batch) return fail(conn.cases[next], "more responses than requests");
    for (size_t k = 0; k < got.size(); ++k) {
      const Case& c = t.cases[conn.cases[next + k]];
      bool last = next + k + 1 == conn.cases.size();
      bool proxy_closes = last && (c.client_close || c.response.close_delimited);
      if (auto d = CheckClientSaw(c, got[k], proxy_closes))
        fail(c.id, *d + "\n  answer sent:\n" + Printable(c.response.wire.substr(0, 400)));
    }
    next += batch;
  }
  // After its last answer the connection stays open unless Portico said it would close.
  const Case& last = t.cases[conn.cases.back()];
  if (last.client_close || last.response.close_delimited) {
    std::string rest;
    IoStatus st = eof ? IoStatus::kClosed : RecvSome(fd.get(), &rest, 1 << 16, Deadline(Ms{5000}));
    if (st != IoStatus::kClosed)
      fail(last.id, std::string("not closed after Connection: close: ") + ToString(st));
  } else if (eof) {
    fail(last.id, "closed without Connection: close");
  }
}

uint64_t SeedOr(uint64_t fallback) {
  const char* env = std::getenv("PORTICO_ROUNDTRIP_SEED");
  return env && *env ? std::strtoull(env, nullptr, 0) : fallback;
}

void RunRoundTrip(uint64_t seed, size_t connections, size_t requests, size_t parallel) {
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (rerun with PORTICO_ROUNDTRIP_SEED=" + std::to_string(seed) + ")");
  const Traffic traffic = Generate(seed, connections, requests);
  if (const char* dump = std::getenv("PORTICO_ROUNDTRIP_DUMP")) {
    // Writes each case's request and response bytes to <dir>/<id>.req and .resp.
    for (const Case& c : traffic.cases) {
      for (auto [ext, bytes] : {std::pair{".req", &c.wire}, std::pair{".resp", &c.response.wire}})
        if (FILE* f =
                std::fopen((std::string(dump) + "/" + std::to_string(c.id) + ext).c_str(), "wb")) {
          std::fwrite(bytes->data(), 1, bytes->size(), f);
          std::fclose(f);
        }
    }
  }
  RecordingUpstream upstream([&traffic](const WireMessage& request) {
    RawAnswer answer;
    for (const auto& [name, value] : request.headers) {
      if (!IEquals(name, kCaseHeader)) continue;
      size_t id = std::strtoull(TrimOws(value).data(), nullptr, 10);
      if (id >= traffic.cases.size()) break;
      const Response& resp = traffic.cases[id].response;
      answer.bytes = resp.wire;
      answer.close = resp.close_delimited || resp.upstream_closes;
      return answer;
    }
    answer.bytes = "HTTP/1.1 500 No Case\r\nContent-Length: 0\r\n\r\n";
    return answer;
  });

  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:" + std::to_string(upstream.port())};
  cfg.workers = "2";
  cfg.access_log = "off";
  cfg.timeouts = "{ connect: 2s, response: 10s }";
  cfg.limits = "{ max_headers: 200 }";  // heads of up to 120 fields + the ones Portico adds
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start()) << proxy.DiagnosticTail();

  std::vector<std::vector<std::string>> failures(parallel);
  std::vector<std::thread> clients;
  for (size_t p = 0; p < parallel; ++p) {
    clients.emplace_back([&, p] {
      for (size_t i = p; i < traffic.connections.size(); i += parallel)
        RunConnection(cfg.port, traffic, traffic.connections[i], seed * 1000003 + i, &failures[p]);
    });
  }
  for (auto& c : clients) c.join();

  std::vector<std::string> problems;
  for (auto& f : failures) problems.insert(problems.end(), f.begin(), f.end());
  for (const std::string& e : upstream.errors()) problems.push_back(e);
  // Each request reached the upstream once, as sent.
  std::vector<int> seen(traffic.cases.size(), 0);
  for (const WireMessage& m : upstream.requests()) {
    std::optional<size_t> id;
    for (const auto& [name, value] : m.headers)
      if (IEquals(name, kCaseHeader)) id = std::strtoull(TrimOws(value).data(), nullptr, 10);
    if (!id || *id >= traffic.cases.size()) {
      problems.push_back("upstream got a request of no case:\n" + m.Describe());
      continue;
    }
    if (++seen[*id] > 1) {
      problems.push_back("case " + std::to_string(*id) + " reached the upstream twice");
      continue;
    }
    if (auto d = CheckUpstreamSaw(traffic.cases[*id], m))
      problems.push_back("case " + std::to_string(*id) + " (" + m.method + " " +
                         Printable(traffic.cases[*id].target) + "), upstream request: " + *d);
  }
  for (size_t id = 0; id < seen.size(); ++id)
    if (seen[id] == 0)
      problems.push_back("case " + std::to_string(id) + " never reached the upstream");

  std::string report;
  for (size_t i = 0; i < problems.size() && i < 8; ++i) report += problems[i] + "\n";
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems over " << traffic.cases.size()
                                << " requests; the first:\n"
                                << report << proxy.DiagnosticTail();
  EXPECT_GE(upstream.connections_accepted(), 1u);
}

// Found by the round trip: a 304 that gives the length of the body a GET would get
// ("Content-Length: 1234", no body, RFC 9110 §8.6) made Portico wait for 1234 body bytes
// until the response timeout, then close the client connection mid-response.
TEST(RoundTrip, NotModifiedWithContentLengthEndsAtItsHead) {
  RecordingUpstream upstream([](const WireMessage& request) {
    RawAnswer a;
    if (request.target == "/cached")
      a.bytes = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n";
    else if (request.target == "/gone")
      a.bytes = "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
    else
      a.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter";
    return a;
  });
  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:" + std::to_string(upstream.port())};
  cfg.access_log = "off";
  cfg.timeouts = "{ connect: 2s, response: 10s }";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start()) << proxy.DiagnosticTail();

  Fd fd = ConnectLoopback(cfg.port, Deadline(Ms{3000}));
  ASSERT_TRUE(fd);
  WireParser parser(WireParser::Kind::kResponse);
  std::vector<WireMessage> got;
  auto exchange = [&](std::string_view request) {
    ASSERT_EQ(SendAll(fd.get(), request, Deadline(Ms{3000})), IoStatus::kOk);
    size_t want = got.size() + 1;
    Deadline deadline(Ms{3000});  // well before the response timeout
    std::string in;
    while (got.size() < want) {
      in.clear();
      ASSERT_EQ(RecvSome(fd.get(), &in, 1 << 16, deadline), IoStatus::kOk)
          << "no complete response\n"
          << proxy.DiagnosticTail();
      ASSERT_TRUE(parser.Feed(in)) << parser.error();
      for (WireMessage& m : parser.TakeComplete()) got.push_back(std::move(m));
    }
  };
  exchange("GET /cached HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n");
  exchange("DELETE /gone HTTP/1.1\r\nHost: a\r\n\r\n");
  exchange("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].status, 304);
  EXPECT_EQ(got[0].headers, (std::vector<Field>{{"ETag", "\"v1\""}, {"Content-Length", "1234"}}));
  EXPECT_EQ(got[1].status, 204);
  EXPECT_EQ(got[2].status, 200);
  EXPECT_EQ(got[2].body, "after");
  // The upstream connection stayed in step, so it was reused.
  EXPECT_EQ(upstream.connections_accepted(), 1u);
  EXPECT_EQ(upstream.requests().size(), 3u);
}

// Found by the round trip: "Connection: close" followed by a tab (OWS) escaped llhttp's
// keep-alive reading, so Portico sent the next request into a connection the upstream had
// said it would close: a 502 for a request it cannot retry. The upstream here leaves the
// connection open, so a reuse shows as the second request on the first connection.
TEST(RoundTrip, ConnectionCloseWithTrailingTabIsHonoured) {
  RecordingUpstream upstream([](const WireMessage&) {
    return RawAnswer{"HTTP/1.1 200 OK\r\nConnection: close\t\r\nContent-Length: 2\r\n\r\nok"};
  });
  ProxyConfig cfg;
  cfg.endpoints = {"127.0.0.1:" + std::to_string(upstream.port())};
  cfg.access_log = "off";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start()) << proxy.DiagnosticTail();

  Fd fd = ConnectLoopback(cfg.port, Deadline(Ms{3000}));
  ASSERT_TRUE(fd);
  WireParser parser(WireParser::Kind::kResponse);
  std::vector<WireMessage> got;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(SendAll(fd.get(), "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
                      Deadline(Ms{3000})),
              IoStatus::kOk);
    Deadline deadline(Ms{5000});
    std::string in;
    while (got.size() < size_t(i + 1)) {
      in.clear();
      ASSERT_EQ(RecvSome(fd.get(), &in, 1 << 16, deadline), IoStatus::kOk)
          << proxy.DiagnosticTail();
      ASSERT_TRUE(parser.Feed(in)) << parser.error();
      for (WireMessage& m : parser.TakeComplete()) got.push_back(std::move(m));
    }
    EXPECT_EQ(got[i].status, 200);
    EXPECT_EQ(got[i].body, "ok");
  }
  std::vector<WireMessage> seen = upstream.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].connection, 0u);
  EXPECT_EQ(seen[1].connection, 1u) << "the connection was reused after Connection: close";
}

TEST(RoundTrip, GeneratedRequestsAndResponsesCrossUnchanged) {
  RunRoundTrip(SeedOr(0x5eed0001), 20, 300, 2);
}

TEST(RoundTrip, AnotherSeedOneConnectionAtATime) {
  RunRoundTrip(SeedOr(0x5eed0002), 16, 200, 1);
}

}  // namespace
}  // namespace portico::it
