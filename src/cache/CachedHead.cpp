#include "cache/CachedHead.h"

#include <fmt/format.h>

#include "http/StatusText.h"

namespace portico::cache {

using namespace std::string_view_literals;

namespace {

bool kept_in_304(std::string_view name) {
  for (std::string_view n : {"cache-control"sv, "content-location"sv, "date"sv, "etag"sv,
                             "expires"sv, "vary"sv, "last-modified"sv})
    if (http::iequals(name, n)) return true;
  return false;
}

}  // namespace

void write_cached_head(std::string& out, const CachedHead& head) {
  const CachedResponse& r = *head.stored;
  out.clear();
  int status = head.not_modified ? 304 : r.status;
  std::string_view reason = head.not_modified || r.reason.empty()
                                ? std::string_view(http::status_text(status))
                                : std::string_view(r.reason);
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", status, reason);
  if (head.not_modified) {
    for (const http::Header& h : r.headers) {
      if (!kept_in_304(h.name)) continue;
      out.append(h.name).append(": "sv).append(h.value).append("\r\n"sv);
    }
  } else {
    out.append(r.fields);
  }
  fmt::format_to(std::back_inserter(out), "Age: {}\r\n", head.age);
  out.append(head.added_lines);
  bool bodyless = status < 200 || status == 204 || status == 304;
  if (!bodyless)
    fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", r.body ? r.body->size() : 0);
  if (head.close)
    out.append("Connection: close\r\n"sv);
  else if (head.keep_alive_http10)
    out.append("Connection: keep-alive\r\n"sv);
  out.append("\r\n"sv);
}

}  // namespace portico::cache
