// Serialises the heads Portico sends: the request to an upstream and the response to
// a client. Each is built in one pass into a string whose capacity the caller reuses,
// copying every header byte once.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "http/ConnectionTokens.h"
#include "http/Header.h"

namespace portico::http {

struct UpstreamRequest {
  std::string_view method;
  std::string_view target;
  std::string_view host;           // Host to send (the client's, or the route's rewrite)
  std::string_view original_host;  // for X-Forwarded-Host ("" when the client sent none)
  std::string_view client_ip;
  std::string_view request_id;  // generated one, or "" when the client sent X-Request-Id
  // The hop's traceparent (TraceContext.h): every client traceparent line is replaced by
  // this one. "" leaves traceparent and tracestate alone.
  std::string_view traceparent;
  // With a traceparent: the client's tracestate is dropped too (it belonged to a
  // traceparent that was absent or invalid, so the trace was restarted).
  bool drop_tracestate = false;
  // Fields Portico sets itself (the flags header, under its default name and the
  // configured one): every client line of such a name is dropped, so a client cannot
  // forge it; so is one that differs only by '_' for '-' ("x_portico_flags"), which CGI-
  // style servers read as the same field. "" drops nothing.
  // Also the client's conditionals when the cache fetches (CacheExchange).
  std::array<std::string_view, 4> drop_headers{};
  // More names dropped the same way, from a list built once per config: the headers that
  // carry a client certificate's subject, under every listener's name (Runtime), since a
  // client of one listener could otherwise forge what another listener's upstream trusts.
  std::span<const std::string> drop_more;
  // The client connection's own lines (the verified client certificate's subject), then
  // whole "Name: value\r\n" lines added after Portico's other fields, before traceparent.
  std::string_view connection_lines;
  std::string_view added_lines;
  bool tls = false;  // the client came over TLS: X-Forwarded-Proto: https
};

// Hop-by-hop fields, Expect and the client's X-Forwarded-Proto/-Host are dropped;
// X-Forwarded-For is appended to; framing fields pass unchanged (bodies are relayed as-is).
// Portico's own fields come after the client's, traceparent last.
void write_upstream_request_head(std::string& out, const UpstreamRequest& req,
                                 std::span<const Header> headers, const ConnectionTokens& conn);

struct ClientResponse {
  int status = 200;
  std::string_view reason;
  bool close = false;                   // add Connection: close
  bool keep_alive_http10 = false;       // add Connection: keep-alive for an HTTP/1.0 client
  bool drop_transfer_encoding = false;  // the body is de-chunked for an HTTP/1.0 client
  std::string_view added_lines;         // "Name: value\r\n" lines filters add
};

void write_client_response_head(std::string& out, const ClientResponse& resp,
                                std::span<const Header> headers, const ConnectionTokens& conn);

// A complete response Portico answers by itself (errors, `respond:` routes).
// `added_lines` are whole "Name: value\r\n" lines (from filters).
void write_local_response(std::string& out, int status, std::span<const Header> extra_headers,
                          std::string_view body, bool close, bool head_only,
                          std::string_view added_lines = {});

}  // namespace portico::http
