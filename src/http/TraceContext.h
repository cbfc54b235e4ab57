// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` Portico
// sends upstream. A valid incoming traceparent is continued (same trace id, a new
// parent id for this hop); otherwise a new trace is started. Everything works on fixed
// arrays: nothing is allocated per request.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/RandomIdBits.h"

namespace portico::http {

// "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>"
inline constexpr size_t kTraceparentSize = 55;
using Traceparent = std::array<char, kTraceparentSize>;

inline constexpr uint8_t kTraceFlagSampled = 0x01;
inline constexpr uint8_t kTraceFlagRandom = 0x02;  // Trace Context Level 2

// A traceparent received from the client: views into the header value.
struct IncomingTraceparent {
  std::string_view trace_id;   // 32 lowercase hex characters, not all zero
  std::string_view parent_id;  // 16 lowercase hex characters, not all zero
  uint8_t flags = 0;           // as received, unknown bits included
};

// Parses one traceparent value (optional whitespace around it is ignored). Version 00 must
// be exactly 55 characters; a higher version is read by its first four fields when it is
// at least that long and the flags are followed by the end or a '-' (spec §3.2.4, §4.3).
// Version ff, upper-case hex and all-zero ids are invalid. Returns false when invalid.
bool parse_traceparent(std::string_view value, IncomingTraceparent& out);

// Writes the version-00 traceparent for the hop to the upstream into `out` and returns a
// view of it. With `parent`: its trace id and its sampled and random flags (the other bits
// are reserved and cleared, as the spec requires), and a new parent id. Without: a new
// random trace id and parent id, flags 01 (sampled; see TraceContext.cpp).
std::string_view write_traceparent(Traceparent& out, const IncomingTraceparent* parent,
                                   RandomIdBits& ids);

// The trace id part of a traceparent written by write_traceparent.
inline std::string_view trace_id_of(const Traceparent& tp) {
  return {tp.data() + 3, 32};
}

}  // namespace portico::http
