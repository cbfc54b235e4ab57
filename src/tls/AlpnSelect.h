// Server-side ALPN (RFC 7301 §3.2): the first of our protocols, in our order of
// preference, that the client's list offers. Both lists are in wire format (each name
// behind its length byte); the client's comes straight from its ClientHello.
#pragma once

#include <string_view>

namespace portico::tls {

// The client's entry (its length byte, then the name) for the protocol chosen, or nullptr
// when none is in common. Stops at a client entry that would run past `in_size`.
const unsigned char* select_alpn(std::string_view ours, const unsigned char* in,
                                 unsigned int in_size);

}  // namespace portico::tls
