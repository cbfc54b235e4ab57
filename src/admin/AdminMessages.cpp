#include "admin/AdminMessages.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "admin/JsonWriter.h"
#include "http/StatusText.h"

namespace portico::admin {

namespace {

bool is_server_field(std::string_view name) {
  for (std::string_view own : {"content-type", "content-length", "cache-control", "connection",
                               "transfer-encoding", "keep-alive"}) {
    if (http::iequals(name, own)) return true;
  }
  return false;
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

void add_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

AdminResponse json_response(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body += '\n';  // friendlier for curl in a terminal
  return r;
}

AdminResponse json_error(int status, std::string_view message) {
  JsonWriter w;
  w.begin_object().member("error", message).end_object();
  return json_response(status, w.take());
}

AdminResponse method_not_allowed(std::string_view allow) {
  AdminResponse r = json_error(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

std::string serialize_response(const AdminResponse& response, const ResponseFraming& framing) {
  int status = response.status;
  std::string_view content_type = response.content_type;
  std::string_view body = response.body;
  if (status < 200 || status > 599) {
    spdlog::error("admin: handler answered with status {}; sending 500 instead", status);
    status = 500;
  }
  if (has_control_chars(content_type)) {
    spdlog::error("admin: handler's content type has control characters; sending none");
    content_type = {};
  }
  const bool bodiless_status = status == 204 || status == 304;

  std::string out;
  out.reserve(160 + body.size());
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(http::status_text(status)).append("\r\n");
  if (!content_type.empty() && !bodiless_status) add_field(out, "Content-Type", content_type);
  if (!bodiless_status) add_field(out, "Content-Length", std::to_string(body.size()));
  // Admin answers are live state (and may be secrets' neighbours): never from a cache.
  add_field(out, "Cache-Control", "no-store");
  if (framing.close)
    add_field(out, "Connection", "close");
  else if (framing.http10_keep_alive)
    add_field(out, "Connection", "keep-alive");
  for (const auto& [name, value] : response.headers) {
    if (!http::is_token(name) || has_control_chars(value)) {
      // Not quoted: it may hold the line breaks that make it invalid.
      spdlog::error("admin: a response field from the handler is not valid HTTP; left out");
      continue;
    }
    if (is_server_field(name)) continue;
    add_field(out, name, value);
  }
  out.append("\r\n");
  if (!framing.head_request && !bodiless_status) out.append(body);
  return out;
}

}  // namespace portico::admin
