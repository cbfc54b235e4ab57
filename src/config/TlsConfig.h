// The `tls:` keys of listeners and upstreams. Written on YamlReader, so mistakes are
// reported with file, line, column and key like every other config error.
//
// Certificate and key files are not read here: whoever builds the TLS contexts reads and
// checks them. Their paths are resolved now, against the config file's directory, so that
// what the structs hold works whatever the working directory is when they are opened.
#pragma once

#include <string>
#include <string_view>

#include "config/Config.h"
#include "config/YamlReader.h"

namespace portico::config {

// A listener's `tls: { certificates, unknown_server_name, protocols, ciphers, ciphersuites,
// alpn, handshake_timeout, session_tickets, ticket_key_rotation, session_cache,
// client_certificates }`. `flags_header` is the config's (possibly empty): the client
// certificate subject header must not share its name.
void read_listener_tls(YamlReader& reader, const Item& item, std::string_view flags_header,
                       ListenerTls& tls);

// An upstream's `tls: { server_name, verify, ca, cert, key, protocols, ciphers,
// session_reuse }`; `tls: {}` is TLS with every default.
void read_upstream_tls(YamlReader& reader, const Item& item, UpstreamTls& tls);

// `path` as an absolute path: as is when it is one, else taken from the directory of
// `config_file` (itself taken from the working directory when relative).
std::string config_relative_path(const std::string& config_file, const std::string& path);

}  // namespace portico::config
