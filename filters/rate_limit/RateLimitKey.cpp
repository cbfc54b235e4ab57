#include "filters/rate_limit/RateLimitKey.h"

#include <cstring>

#include "http/Header.h"

namespace portico::filters {

std::optional<KeyPart> parse_key_part(std::string_view text, std::string& error) {
  if (text == "client_ip") return KeyPart{KeyPart::Kind::ClientIp, {}};
  if (text == "route") return KeyPart{KeyPart::Kind::Route, {}};
  for (auto [prefix, kind] : {std::pair{std::string_view("header:"), KeyPart::Kind::Header},
                              std::pair{std::string_view("cookie:"), KeyPart::Kind::Cookie}}) {
    if (text.substr(0, prefix.size()) != prefix) continue;
    std::string_view name = text.substr(prefix.size());
    if (!http::is_token(name)) {
      error = "'" + std::string(prefix) + "' needs a name made of token characters, got '" +
              std::string(name) + "'";
      return std::nullopt;
    }
    return KeyPart{kind, std::string(name)};
  }
  error = "unknown key '" + std::string(text) +
          "' (expected client_ip, route, header:NAME or cookie:NAME)";
  return std::nullopt;
}

std::string to_string(const KeyPart& part) {
  switch (part.kind) {
    case KeyPart::Kind::ClientIp:
      return "client_ip";
    case KeyPart::Kind::Route:
      return "route";
    case KeyPart::Kind::Header:
      return "header:" + part.name;
    case KeyPart::Kind::Cookie:
      return "cookie:" + part.name;
  }
  return {};
}

std::optional<std::string_view> RateLimitKey::build(const FilterContext& ctx,
                                                    Buffer& buffer) const {
  size_t len = 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a of everything, for keys that overflow
  bool overflow = false;
  auto append = [&](std::string_view piece) {
    for (char c : piece) {
      hash = (hash ^ uint8_t(c)) * 1099511628211ull;
      if (len < buffer.size() - 17)
        buffer[len++] = c;
      else
        overflow = true;
    }
  };
  for (size_t i = 0; i < parts_.size(); ++i) {
    // A separator that cannot occur in header values, so ("a", "bc") and ("ab", "c") differ.
    if (i > 0) append("\x1f");
    const KeyPart& part = parts_[i];
    std::optional<std::string_view> value;
    switch (part.kind) {
      case KeyPart::Kind::ClientIp:
        value = ctx.client_ip;
        break;
      case KeyPart::Kind::Route:
        value = ctx.route;
        break;
      case KeyPart::Kind::Header:
        value = ctx.header(part.name);
        break;
      case KeyPart::Kind::Cookie:
        value = ctx.cookie(part.name);
        break;
    }
    if (!value) return std::nullopt;
    append(*value);
  }
  if (overflow) {
    static constexpr char kHex[] = "0123456789abcdef";
    buffer[len++] = '#';
    for (int shift = 60; shift >= 0; shift -= 4) buffer[len++] = kHex[(hash >> shift) & 15];
  }
  return std::string_view(buffer.data(), len);
}

}  // namespace portico::filters
