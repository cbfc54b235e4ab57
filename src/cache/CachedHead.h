// The head of a response answered from the cache: the stored status and fields, the
// current Age (RFC 9111 §4.2.3, §5.1), and the lines this exchange adds (the status
// header, other filters'). A 304 to a client's conditional request carries only the
// fields RFC 9110 §15.4.5 lists (and Last-Modified), no body framing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cache/CachedResponse.h"

namespace portico::cache {

struct CachedHead {
  const CachedResponse* stored = nullptr;
  bool not_modified = false;     // answer 304 instead of the stored status
  int64_t age = 0;               // seconds
  std::string_view added_lines;  // "Name: value\r\n" lines
  bool close = false;            // add Connection: close
  bool keep_alive_http10 = false;
};

void write_cached_head(std::string& out, const CachedHead& head);

}  // namespace portico::cache
