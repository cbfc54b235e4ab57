#include "http/TraceContext.h"

#include <cstring>

namespace portico::http {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Lower-case hex digit values; -1 for anything else (upper case included: the spec's
// HEXDIGLC).
struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = -1;
    for (int c = 0; c < 10; ++c) v['0' + c] = int8_t(c);
    for (int c = 0; c < 6; ++c) v['a' + c] = int8_t(10 + c);
  }
};
constexpr HexTable kHexValue{};

int hex_value(char c) {
  return kHexValue.v[static_cast<unsigned char>(c)];
}

// True when every character is lower-case hex and at least one is not '0'.
bool nonzero_hex(std::string_view s) {
  bool nonzero = false;
  for (char c : s) {
    int v = hex_value(c);
    if (v < 0) return false;
    nonzero = nonzero || v != 0;
  }
  return nonzero;
}

void put_hex(char* out, uint64_t v) {
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[v & 15];
    v >>= 4;
  }
}

}  // namespace

bool parse_traceparent(std::string_view v, IncomingTraceparent& out) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.size() < kTraceparentSize) return false;
  int hi = hex_value(v[0]), lo = hex_value(v[1]);
  if (hi < 0 || lo < 0) return false;
  int version = hi * 16 + lo;
  if (version == 0xff) return false;
  if (version == 0) {
    if (v.size() != kTraceparentSize) return false;
  } else if (v.size() > kTraceparentSize && v[kTraceparentSize] != '-') {
    return false;  // a future version may add fields, each after a '-'
  }
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  std::string_view trace_id = v.substr(3, 32), parent_id = v.substr(36, 16);
  if (!nonzero_hex(trace_id) || !nonzero_hex(parent_id)) return false;
  int f_hi = hex_value(v[53]), f_lo = hex_value(v[54]);
  if (f_hi < 0 || f_lo < 0) return false;
  out.trace_id = trace_id;
  out.parent_id = parent_id;
  out.flags = uint8_t(f_hi * 16 + f_lo);
  return true;
}

std::string_view write_traceparent(Traceparent& out, const IncomingTraceparent* parent,
                                   RandomIdBits& ids) {
  char* p = out.data();
  p[0] = '0';
  p[1] = '0';
  p[2] = '-';
  uint8_t flags;
  if (parent) {
    std::memcpy(p + 3, parent->trace_id.data(), 32);
    // Sampled is the caller's decision and is kept; random (Level 2) describes the trace
    // id, which is unchanged, so it is kept too. Other bits are reserved: "vendors MUST
    // set those to zero".
    flags = parent->flags & (kTraceFlagSampled | kTraceFlagRandom);
  } else {
    uint64_t hi, lo;
    do {
      hi = ids.next();
      lo = ids.next();
    } while ((hi | lo) == 0);  // an all-zero trace id is invalid
    put_hex(p + 3, hi);
    put_hex(p + 19, lo);
    // A new trace is sampled (01), as Envoy does: its OpenTelemetry tracer starts a trace
    // with the connection manager's sampling decision, whose random_sampling defaults to
    // 100%, and only writes the sampled bit. Portico records no spans itself, but the flag
    // only says the caller *may* have recorded; with 00, services behind Portico that
    // sample by their parent would record nothing for any request that came in without a
    // traceparent, and tracing would be silently off there.
    flags = kTraceFlagSampled;
  }
  p[35] = '-';
  // Not zero, and a new span: never the caller's parent id again.
  for (;;) {
    uint64_t span = ids.next();
    if (span == 0) continue;
    put_hex(p + 36, span);
    if (!parent || std::string_view(p + 36, 16) != parent->parent_id) break;
  }
  p[52] = '-';
  p[53] = kHex[flags >> 4];
  p[54] = kHex[flags & 15];
  return {out.data(), out.size()};
}

}  // namespace portico::http
