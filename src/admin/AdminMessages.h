// What the admin API's handler sees and returns, and the bytes a response becomes on the
// wire. The server deals with HTTP (framing, keep-alive, limits, the token); the handler
// only with paths, methods and bodies, 404 and 405 included.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/Header.h"

namespace portico::admin {

// Views into the connection's copy of the request; valid during the handler call only.
struct AdminRequest {
  std::string_view method;  // as sent, e.g. "GET"; HEAD is passed on (the server drops the body)
  std::string_view path;    // as sent, without the query and not percent-decoded
  std::string_view query;   // after '?', without it; empty when absent
  std::string_view body;    // de-chunked
  std::span<const http::Header> headers;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // More fields, e.g. Allow for a 405. Content-Type, Content-Length, Cache-Control and
  // Connection are the server's and are ignored here, as are names that are not tokens
  // and values with control characters.
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error": message} with the status: how the server refuses a request, and what handlers
// can use for 404 and the like so every error reads the same.
AdminResponse json_error(int status, std::string_view message);
// A JSON body (one line of it, newline added).
AdminResponse json_response(int status, std::string body);
// 405 with Allow.
AdminResponse method_not_allowed(std::string_view allow);

// How a response is sent on its connection.
struct ResponseFraming {
  bool head_request = false;       // HEAD: Content-Length of the body, but no body
  bool close = false;              // Connection: close
  bool http10_keep_alive = false;  // Connection: keep-alive, which HTTP/1.0 needs spelled out
};

// The whole response: status line, headers and body. A status outside 200-599 (a
// handler bug: 1xx would break the framing) becomes a 500. 204 and 304 carry neither a
// body nor Content-Length, as HTTP requires.
std::string serialize_response(const AdminResponse& response, const ResponseFraming& framing);

}  // namespace portico::admin
