// What a rate limit counts by: one or more parts of the request (`key: client_ip` or
// `key: [route, header:x-api-key]`), joined into one bucket key.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/FilterContext.h"

namespace portico::filters {

struct KeyPart {
  enum class Kind { ClientIp, Header, Cookie, Route };
  Kind kind = Kind::ClientIp;
  std::string name;  // header or cookie name
};

// "client_ip", "route", "header:NAME", "cookie:NAME"; nullopt (with `error` set) otherwise.
std::optional<KeyPart> parse_key_part(std::string_view text, std::string& error);
std::string to_string(const KeyPart& part);

class RateLimitKey {
 public:
  static constexpr size_t kMaxBytes = 256;  // longer keys keep a prefix and a hash of the rest
  using Buffer = std::array<char, kMaxBytes>;

  explicit RateLimitKey(std::vector<KeyPart> parts) : parts_(std::move(parts)) {}

  // The request's key, written into `buffer` (no allocation); nullopt when a header or
  // cookie it needs is absent: such requests are not counted by this limit (as nginx and
  // Envoy do with an empty key).
  std::optional<std::string_view> build(const FilterContext& ctx, Buffer& buffer) const;
  const std::vector<KeyPart>& parts() const { return parts_; }

 private:
  std::vector<KeyPart> parts_;
};

}  // namespace portico::filters
