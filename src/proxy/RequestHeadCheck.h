// The checks a parsed request head must pass before it is routed, and what they find: the
// host and the origin-form target the router and the upstream see. A pure function of the
// head, so the request fuzzer (tests/fuzz/fuzz_request.cpp) runs exactly what
// DownstreamConn runs, without a connection.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "http/Header.h"

namespace portico::proxy {

struct CheckedRequestHead {
  int status = 0;             // 0: the head may be routed; else the status that refuses it
  const char* why = nullptr;  // for the log, with a status
  // Views into the head, set once the target has been checked (also when a later check
  // refuses the request).
  std::string_view host;    // the absolute-form authority, else Host's value; "" when neither
  std::string_view target;  // origin-form ("/p?q"), or "*" for OPTIONS
  // The only traceparent line; nullptr when there is none, or several.
  const http::Header* traceparent = nullptr;
  bool expect_continue = false;  // Expect: 100-continue on an HTTP/1.1 request with a body
};

// `parser` has just stopped after the head (version, framing flags, Content-Length);
// `has_body`: chunked or a Content-Length above 0. `max_body_bytes` 0 is no limit.
CheckedRequestHead check_request_head(std::string_view method, std::string_view raw_target,
                                      std::span<const http::Header> headers, const llhttp_t& parser,
                                      bool has_body, uint64_t max_body_bytes);

}  // namespace portico::proxy
