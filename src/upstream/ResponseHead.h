// An upstream response's head as the proxy relays it, read from the parser once llhttp
// has stopped after the head. A pure function of the head, so the response fuzzer
// (tests/fuzz/fuzz_response.cpp) runs exactly what UpstreamConn runs.
#pragma once

#include <llhttp.h>

#include <span>
#include <string_view>

#include "http/ConnectionTokens.h"
#include "http/HeadCollector.h"

namespace portico::upstream {

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  std::span<const http::Header> headers;
  bool chunked = false;
  bool has_content_length = false;
  bool has_body = true;  // false for HEAD, 1xx, 204 and 304
  // Read once here: whether the connection may be reused, and which headers are hop-by-hop.
  http::ConnectionTokens connection;
};

// Unfolds and finishes `head` over `base` and fills `out` (its views point into `base`
// and `head`). nullptr when the head may be relayed, else why not (a header name that is
// not a token). `head_request`: the response answers a HEAD request and has no body.
const char* read_response_head(http::HeadCollector& head, char* base, const llhttp_t& parser,
                               bool head_request, ResponseHead& out);

}  // namespace portico::upstream
