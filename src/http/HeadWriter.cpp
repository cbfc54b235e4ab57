#include "http/HeadWriter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "http/StatusText.h"

namespace portico::http {

using namespace std::string_view_literals;

namespace {

// One size change and two copies per header: this runs for every header of every request.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void append_status_line(std::string& out, int status, std::string_view reason) {
  char code[4] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                  char('0' + status % 10), ' '};
  out.append("HTTP/1.1 ", 9).append(code, 4).append(reason).append("\r\n", 2);
}

bool forwardable(const Header& h, const ConnectionTokens& conn) {
  return !is_hop_by_hop(h.name) && !conn.names(h.name);
}

// Names equal ignoring case and taking '_' for '-'.
bool same_field_loosely(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '_' ? '-' : a[i];
    char y = b[i] == '_' ? '-' : b[i];
    if (!iequals(std::string_view(&x, 1), std::string_view(&y, 1))) return false;
  }
  return true;
}

}  // namespace

void write_upstream_request_head(std::string& out, const UpstreamRequest& req,
                                 std::span<const Header> headers, const ConnectionTokens& conn) {
  out.clear();
  out.append(req.method).append(" ", 1).append(req.target).append(" HTTP/1.1\r\n", 11);
  append_header(out, "Host", req.host);
  const Header* xff = nullptr;
  for (const Header& h : headers) {
    if (!forwardable(h, conn)) continue;
    std::string_view n = h.name;
    if (iequals(n, "host") || iequals(n, "expect") || iequals(n, "x-forwarded-proto") ||
        iequals(n, "x-forwarded-host"))
      continue;
    if (!req.traceparent.empty() &&
        (iequals(n, "traceparent") || (req.drop_tracestate && iequals(n, "tracestate"))))
      continue;
    auto named = [n](std::string_view d) { return !d.empty() && same_field_loosely(n, d); };
    if (std::any_of(req.drop_headers.begin(), req.drop_headers.end(), named) ||
        std::any_of(req.drop_more.begin(), req.drop_more.end(), named))
      continue;
    if (iequals(n, "x-forwarded-for")) {
      // Several X-Forwarded-For lines are one list (RFC 9110 §5.3): they are merged, in
      // order, into one line after the other forwarded headers, with the client appended.
      if (!xff) xff = &h;
      continue;
    }
    append_header(out, n, h.value);
  }
  out.append("X-Forwarded-For: "sv);
  if (xff) {
    for (const Header& h : headers)
      if (iequals(h.name, "x-forwarded-for") && !h.value.empty())
        out.append(h.value).append(", "sv);
  }
  out.append(req.client_ip).append("\r\n"sv);
  append_header(out, "X-Forwarded-Proto", req.tls ? "https"sv : "http"sv);
  if (!req.original_host.empty()) append_header(out, "X-Forwarded-Host", req.original_host);
  if (!req.request_id.empty()) append_header(out, "X-Request-Id", req.request_id);
  out.append(req.connection_lines);
  out.append(req.added_lines);
  if (!req.traceparent.empty()) append_header(out, "traceparent", req.traceparent);
  out.append("\r\n"sv);
}

void write_client_response_head(std::string& out, const ClientResponse& resp,
                                std::span<const Header> headers, const ConnectionTokens& conn) {
  out.clear();
  append_status_line(out, resp.status,
                     resp.reason.empty() ? status_text(resp.status) : resp.reason);
  for (const Header& h : headers) {
    if (!forwardable(h, conn)) continue;
    if (resp.drop_transfer_encoding && iequals(h.name, "transfer-encoding")) continue;
    append_header(out, h.name, h.value);
  }
  out.append(resp.added_lines);
  if (resp.close)
    out.append("Connection: close\r\n"sv);
  else if (resp.keep_alive_http10)
    out.append("Connection: keep-alive\r\n"sv);
  out.append("\r\n"sv);
}

void write_local_response(std::string& out, int status, std::span<const Header> extra_headers,
                          std::string_view body, bool close, bool head_only,
                          std::string_view added_lines) {
  out.clear();
  append_status_line(out, status, status_text(status));
  bool has_type = false;
  for (const Header& h : extra_headers) {
    has_type = has_type || iequals(h.name, "content-type");
    append_header(out, h.name, h.value);
  }
  out.append(added_lines);
  bool bodyless = status < 200 || status == 204 || status == 304;
  if (!has_type && !body.empty() && !bodyless) out.append("Content-Type: text/plain\r\n"sv);
  if (!bodyless) fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", body.size());
  if (close) out.append("Connection: close\r\n"sv);
  out.append("\r\n"sv);
  if (!head_only && !bodyless) out.append(body);
}

}  // namespace portico::http
