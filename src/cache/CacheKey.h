// A cache key: the request's host, lower-cased, then its target as sent
// ("api.example.com/v1/items?page=2"); and the key of a URI a response names in Location
// or Content-Location, for invalidation (RFC 9111 §4.4).
#pragma once

#include <string>
#include <string_view>

namespace portico::cache {

void append_key(std::string& key, std::string_view host, std::string_view target);

// The key of a Location or Content-Location value when it names a URI of the request's
// own origin: absolute (http or https: TLS may end in front of Portico), network-path,
// absolute-path or relative to the request's target, dot segments removed (RFC 3986
// §5.2). false for another origin or another scheme.
bool key_of_reference(std::string& key, std::string_view value, std::string_view host,
                      std::string_view target);

}  // namespace portico::cache
