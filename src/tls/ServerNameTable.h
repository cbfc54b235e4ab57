// Which of a listener's certificates answers a TLS server name (SNI). Names are exact
// ("api.example.com") or wildcards ("*.example.com") that stand for exactly one label, as
// in certificates (RFC 6125 §6.4.3): "*.example.com" covers "a.example.com", neither
// "example.com" nor "a.b.example.com". An exact name beats a wildcard.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portico::tls {

class ServerNameTable {
 public:
  // Case-insensitive. False when the same exact name or wildcard is already present:
  // the first one added keeps it.
  bool add(std::string_view name, size_t index);

  // The index of the name that covers `sni` (one trailing dot ignored), -1 when none.
  // Runs in every handshake: it does not allocate.
  int find(std::string_view sni) const;

 private:
  // Lets find() look up a string_view without making a std::string of it.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;
  Map exact_;
  Map wildcard_;  // by the part after "*."
};

}  // namespace portico::tls
