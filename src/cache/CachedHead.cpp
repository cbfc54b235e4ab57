#include "cache/CachedHead.h"

#include <charconv>
#include <cstring>

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
  // Most of a hit's own work is this head: no formatting library (fmt's back_inserter
  // grows the string piece by piece, ~2,000 instructions a head).
  const CachedResponse& r = *head.stored;
  int status = head.not_modified ? 304 : r.status;
  std::string_view reason = head.not_modified || r.reason.empty()
                                ? std::string_view(http::status_text(status))
                                : std::string_view(r.reason);
  bool bodyless = status < 200 || status == 204 || status == 304;
  char age[24], length[24];
  std::string_view age_text(age, size_t(std::to_chars(age, age + sizeof age, head.age).ptr - age));
  uint64_t body_size = r.body ? r.body->size() : 0;
  std::string_view length_text(
      length, size_t(std::to_chars(length, length + sizeof length, body_size).ptr - length));
  std::string_view connection = head.close               ? "Connection: close\r\n"sv
                                : head.keep_alive_http10 ? "Connection: keep-alive\r\n"sv
                                                         : ""sv;
  char status_line[16] = {'H',
                          'T',
                          'T',
                          'P',
                          '/',
                          '1',
                          '.',
                          '1',
                          ' ',
                          char('0' + status / 100 % 10),
                          char('0' + status / 10 % 10),
                          char('0' + status % 10),
                          ' '};
  // The common case (the stored response, not a 304): one resize of reused capacity,
  // then copies.
  if (!head.not_modified) {
    const std::string_view pieces[] = {{status_line, 13},
                                       reason,
                                       "\r\n"sv,
                                       r.fields,
                                       "Age: "sv,
                                       age_text,
                                       "\r\n"sv,
                                       head.added_lines,
                                       bodyless ? ""sv : "Content-Length: "sv,
                                       bodyless ? ""sv : length_text,
                                       bodyless ? ""sv : "\r\n"sv,
                                       connection,
                                       "\r\n"sv};
    size_t total = 0;
    for (std::string_view p : pieces) total += p.size();
    out.resize(total);
    char* at = out.data();
    for (std::string_view p : pieces) {
      if (p.empty()) continue;  // an empty view may have no data pointer at all
      std::memcpy(at, p.data(), p.size());
      at += p.size();
    }
    return;
  }
  out.clear();
  out.append(status_line, 13).append(reason).append("\r\n"sv);
  for (const http::Header& h : r.headers) {
    if (!kept_in_304(h.name)) continue;
    out.append(h.name).append(": "sv).append(h.value).append("\r\n"sv);
  }
  out.append("Age: "sv).append(age_text).append("\r\n"sv);
  out.append(head.added_lines).append(connection);
  out.append("\r\n"sv);
}

}  // namespace portico::cache
