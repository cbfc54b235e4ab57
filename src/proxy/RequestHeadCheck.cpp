#include "proxy/RequestHeadCheck.h"

#include <utility>

namespace portico::proxy {

namespace {

// Splits an absolute-form target ("http://host:port/path?q") into authority and
// origin-form; an origin-form target is returned unchanged with no authority.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && http::iequals(target.substr(0, scheme.size()), scheme)) {
      std::string_view rest = target.substr(scheme.size());
      size_t slash = rest.find_first_of("/?");
      // No path: refused below. A "/" made up here would not lie in the read buffer, and
      // DownstreamConn keeps the target as an offset into it (found by fuzz_request).
      if (slash == std::string_view::npos) return {rest, {}};
      return {rest.substr(0, slash), rest.substr(slash)};  // "?q" alone is refused below
    }
  }
  return {{}, target};
}

CheckedRequestHead refuse(CheckedRequestHead& head, int status, const char* why) {
  head.status = status;
  head.why = why;
  return head;
}

}  // namespace

CheckedRequestHead check_request_head(std::string_view method, std::string_view raw_target,
                                      std::span<const http::Header> headers, const llhttp_t& parser,
                                      bool has_body, uint64_t max_body_bytes) {
  CheckedRequestHead out;
  bool http10 = parser.http_minor == 0;
  if (parser.http_major != 1) return refuse(out, 505, "unsupported HTTP version");
  for (const http::Header& h : headers)
    if (!http::is_token(h.name)) return refuse(out, 400, "invalid header name");
  if (method == "CONNECT") return refuse(out, 405, "CONNECT is not supported");
  // A Transfer-Encoding llhttp did not read as chunked (an obs-folded "chunked", say) would
  // be forwarded as one the upstream may read as chunked: two framings, a desync (RFC 9112
  // §6.3: such a request is answered 400). Found by fuzz_request.
  if (!(parser.flags & F_CHUNKED) &&
      ((parser.flags & F_TRANSFER_ENCODING) || http::find_header(headers, "transfer-encoding")))
    return refuse(out, 400, "Transfer-Encoding that does not end in chunked");

  auto [authority, target] = split_target(raw_target);
  if (target.empty() || (target[0] != '/' && !(target == "*" && method == "OPTIONS")))
    return refuse(out, 400, "request target is not origin-form or absolute-form with a path");
  const http::Header* host_header = nullptr;
  const http::Header* traceparent = nullptr;
  int host_count = 0;
  int traceparent_count = 0;
  for (const http::Header& h : headers) {
    if (http::iequals(h.name, "host")) {
      host_header = &h;
      ++host_count;
    } else if (http::iequals(h.name, "traceparent")) {
      traceparent = &h;
      ++traceparent_count;
    }
  }
  if (host_count > 1) return refuse(out, 400, "more than one Host header");
  if (host_count == 0 && !http10) return refuse(out, 400, "HTTP/1.1 request without Host");
  out.host = !authority.empty() ? authority : host_header ? host_header->value : "";
  out.target = target;
  if (traceparent_count == 1) out.traceparent = traceparent;

  if (const http::Header* expect = http::find_header(headers, "expect")) {
    if (!http::iequals(expect->value, "100-continue"))
      return refuse(out, 417, "unsupported Expect");
    out.expect_continue = has_body && !http10;
  }
  if (max_body_bytes && (parser.flags & F_CONTENT_LENGTH) && parser.content_length > max_body_bytes)
    return refuse(out, 413, "Content-Length larger than max_body_bytes");
  return out;
}

}  // namespace portico::proxy
