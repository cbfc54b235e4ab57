#include "config/TlsConfig.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/FlagsConfig.h"

namespace portico::config {

// Messages use config::quoted by its full name: <filesystem> brings in std::quoted, which
// argument-dependent lookup would pick for a std::string.
namespace {

constexpr int64_t kMaxVerifyDepth = 10;
constexpr int64_t kMaxSessionCacheSize = 1'000'000;
// RFC 8446 4.6.1: a TLS 1.3 ticket may not be valid for longer than 7 days.
constexpr Duration kMaxSessionTimeout{7 * 24 * 3'600'000LL};

// Refused by name rather than as unknown: someone asking for them wants old clients to
// connect, and should learn why they will not.
constexpr std::array<std::string_view, 5> kInsecureProtocols{"SSLv2", "SSLv3", "TLSv1", "TLSv1.0",
                                                             "TLSv1.1"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower(std::string(a)) == to_lower(std::string(b));
}

// Header names as a CGI-style server reads them: case-insensitive, '_' the same as '-'.
bool same_header_field(std::string_view a, std::string_view b) {
  auto fold = [](std::string_view s) {
    std::string out = to_lower(std::string(s));
    std::replace(out.begin(), out.end(), '_', '-');
    return out;
  };
  return fold(a) == fold(b);
}

struct Versions {
  TlsVersion min = TlsVersion::V1_2;
  TlsVersion max = TlsVersion::V1_3;
  bool known = true;  // false when `protocols` is wrong: nothing can be checked against it

  bool includes(TlsVersion v) const { return min <= v && v <= max; }
};

// Why `name` is not a name a TLS client sends as its server name (SNI), or "" when it is
// one. `name` is lower case and has no leading "*.".
std::string dns_name_problem(std::string_view name) {
  if (name.empty()) return "a name is needed";
  if (name.find('*') != std::string_view::npos) return "'*' is allowed only as a leading '*.'";
  if (name.find(':') != std::string_view::npos) {
    return "a server name has no port (and is never an IPv6 address)";
  }
  // SNI carries names without the root's dot (RFC 6066 3), so one written here would
  // never match.
  if (name.back() == '.') return "remove the trailing '.'";
  if (name.size() > 253) return "longer than 253 characters";
  std::string_view last;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return "empty label (a leading '.' or '..')";
    if (label.size() > 63) return "a label is longer than 63 characters";
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        return "only letters, digits, '-', '_' and '.' are allowed";
      }
    }
    if (label.front() == '-' || label.back() == '-') return "a label cannot start or end with '-'";
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // A name's last label is never all digits; an address is (RFC 6066 3: no IP literals).
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "an IP address is never sent as a server name";
  }
  return {};
}

// Server names compare case-insensitively, so they are stored lower-cased.
std::optional<std::string> read_server_name(YamlReader& r, const Item& item, bool allow_wildcard) {
  auto text = r.read_nonempty_string(item);
  if (!text) return std::nullopt;
  const std::string name = to_lower(*text);
  std::string_view rest = name;
  std::string why;
  if (rest.starts_with("*.") && allow_wildcard) {
    rest.remove_prefix(2);
    if (rest.empty()) why = "a wildcard needs a suffix, e.g. '*.example.com'";
  } else if (!allow_wildcard && rest.find('*') != std::string_view::npos) {
    why = "this is the one name sent and verified, so it cannot be a wildcard";
  }
  if (why.empty()) why = dns_name_problem(rest);
  if (!why.empty()) {
    r.error(item.pos, item.path, "invalid server name " + config::quoted(*text) + ": " + why);
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> read_path(YamlReader& r, const Item& item) {
  auto text = r.read_nonempty_string(item);
  if (!text) return std::nullopt;
  return config_relative_path(r.file(), *text);
}

// Any non-empty subset of TLSv1.2 and TLSv1.3, as the range it spans.
Versions read_protocols(YamlReader& r, const Fields& fields) {
  Versions v;
  const Entry* e = fields.find("protocols");
  if (!e) return v;
  v.known = false;
  auto items = r.read_list(e->value);
  if (!items) return v;
  bool v1_2 = false, v1_3 = false, ok = true;
  for (const Item& i : *items) {
    auto name = r.read_string(i);
    if (!name) {
      ok = false;
      continue;
    }
    if (*name == "TLSv1.2") {
      v1_2 = true;
      continue;
    }
    if (*name == "TLSv1.3") {
      v1_3 = true;
      continue;
    }
    ok = false;
    if (std::any_of(kInsecureProtocols.begin(), kInsecureProtocols.end(),
                    [&](std::string_view p) { return iequals(p, *name); })) {
      r.error(i.pos, i.path,
              config::quoted(*name) + " is insecure and not supported (use TLSv1.2 and TLSv1.3)");
    } else if (iequals(*name, "TLSv1.2") || iequals(*name, "TLSv1.3")) {
      r.error(i.pos, i.path,
              "unknown protocol " + config::quoted(*name) +
                  " (names are case-sensitive: expected TLSv1.2 or TLSv1.3)");
    } else {
      r.error(i.pos, i.path,
              "unknown protocol " + config::quoted(*name) + " (expected TLSv1.2 or TLSv1.3)");
    }
  }
  if (!ok) return v;
  v.min = v1_2 ? TlsVersion::V1_2 : TlsVersion::V1_3;
  v.max = v1_3 ? TlsVersion::V1_3 : TlsVersion::V1_2;
  v.known = true;
  return v;
}

// A cipher list in OpenSSL's syntax, checked by OpenSSL when the context is built. One for
// a version the protocols leave out would never be used, which most likely means the
// protocols are not what the user meant.
void read_cipher_list(YamlReader& r, const Fields& fields, std::string_view key, TlsVersion version,
                      const Versions& versions, std::string& out) {
  const Entry* e = fields.find(key);
  if (!e) return;
  const char* name = version == TlsVersion::V1_2 ? "TLSv1.2" : "TLSv1.3";
  if (versions.known && !versions.includes(version)) {
    r.error(e->key_pos, e->value.path,
            config::quoted(key) + " applies only to " + name + ", which 'protocols' leaves out");
    return;
  }
  if (auto list = r.read_nonempty_string(e->value)) out = *list;
}

void read_certificate(YamlReader& r, const Item& item, TlsCertificate& certificate) {
  auto fields = r.read_fields(item, {"cert", "key", "server_names"});
  if (!fields) return;
  if (const Entry* e = r.require(*fields, "cert")) {
    if (auto path = read_path(r, e->value)) certificate.cert = *path;
  }
  if (const Entry* e = r.require(*fields, "key")) {
    if (auto path = read_path(r, e->value)) certificate.key = *path;
  }
  if (const Entry* e = fields->find("server_names")) {
    if (auto names = r.read_one_or_list(e->value)) {
      for (const Item& n : *names) {
        if (auto name = read_server_name(r, n, true)) certificate.server_names.push_back(*name);
      }
    }
  }
}

void read_session_cache(YamlReader& r, const Item& item, ListenerTls& tls) {
  auto fields = r.read_fields(item, {"size", "timeout"});
  if (!fields) return;
  if (const Entry* e = fields->find("size")) {
    if (auto n = r.read_u32(e->value, 0, kMaxSessionCacheSize)) tls.session_cache_size = *n;
  }
  if (const Entry* e = fields->find("timeout")) {
    auto d = r.read_duration(e->value, false);
    if (!d) return;
    // OpenSSL keeps session lifetimes in whole seconds; a fraction would be cut off.
    if (d->count() % 1000 != 0) {
      r.error(e->value.pos, e->value.path,
              "must be a whole number of seconds, got " + e->value.node.Scalar());
    } else if (*d > kMaxSessionTimeout) {
      r.error(e->value.pos, e->value.path,
              "must be at most 168h (7 days, the longest a TLS 1.3 session may be resumed), got " +
                  e->value.node.Scalar());
    } else {
      tls.session_timeout = *d;
    }
  }
}

void read_subject_header(YamlReader& r, const Item& item, std::string_view flags_header,
                         std::string& out) {
  // A header Portico adds to the upstream request, like the flags header: the same rules
  // (a token, not one Portico manages or relays; "" or off for none).
  std::string header = out;
  const size_t errors = r.error_count();
  read_flags_header(r, item, header);
  if (r.error_count() != errors) return;
  // Both would be written on the same request, and clients' copies of either are dropped.
  if (!header.empty() && ((!flags_header.empty() && same_header_field(header, flags_header)) ||
                          same_header_field(header, Config::kDefaultFlagsHeader))) {
    r.error(
        item.pos, item.path,
        config::quoted(header) + " is the name of the flags header (flags_header); choose another");
    return;
  }
  out = header;
}

void read_client_certificates(YamlReader& r, const Item& item, std::string_view flags_header,
                              ClientCertificates& cc) {
  // Present means wanted: without a CA nothing could be verified, so `ca` is required.
  cc.enabled = true;
  auto fields = r.read_fields(item, {"ca", "mode", "verify_depth", "subject_header"});
  if (!fields) return;
  if (const Entry* e = r.require(*fields, "ca")) {
    if (auto path = read_path(r, e->value)) cc.ca = *path;
  }
  if (const Entry* e = fields->find("mode")) {
    if (auto mode = r.read_string(e->value)) {
      if (*mode == "required") {
        cc.required = true;
      } else if (*mode == "optional") {
        cc.required = false;
      } else {
        r.error(e->value.pos, e->value.path,
                "unknown mode " + config::quoted(*mode) + " (expected required or optional)");
      }
    }
  }
  if (const Entry* e = fields->find("verify_depth")) {
    if (auto n = r.read_u32(e->value, 1, kMaxVerifyDepth)) cc.verify_depth = *n;
  }
  if (const Entry* e = fields->find("subject_header")) {
    read_subject_header(r, e->value, flags_header, cc.subject_header);
  }
}

}  // namespace

std::string config_relative_path(const std::string& config_file, const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute()) return path;
  std::error_code ec;
  fs::path file = fs::absolute(config_file, ec);
  if (ec) file = config_file;  // no working directory: as relative as the config's own path
  // "./portico.yaml" would otherwise give "/etc/portico/./site.pem" in every message.
  fs::path out;
  for (const fs::path& part : file.parent_path() / path) {
    if (part != ".") out /= part;
  }
  return out.string();
}

void read_listener_tls(YamlReader& r, const Item& item, std::string_view flags_header,
                       ListenerTls& tls) {
  tls.enabled = true;
  tls.mark = {item.pos.line, item.pos.column};
  auto fields =
      r.read_fields(item, {"certificates", "unknown_server_name", "protocols", "ciphers",
                           "ciphersuites", "alpn", "handshake_timeout", "session_tickets",
                           "ticket_key_rotation", "session_cache", "client_certificates"});
  if (!fields) return;

  if (const Entry* e = r.require(*fields, "certificates")) {
    if (auto list = r.read_list(e->value)) {
      for (const Item& element : *list) {
        TlsCertificate& certificate = tls.certificates.emplace_back();
        certificate.mark = {element.pos.line, element.pos.column};
        read_certificate(r, element, certificate);
      }
    }
  }
  if (const Entry* e = fields->find("unknown_server_name")) {
    if (auto what = r.read_string(e->value)) {
      if (*what == "default") {
        tls.reject_unknown_server_name = false;
      } else if (*what == "reject") {
        tls.reject_unknown_server_name = true;
      } else {
        r.error(e->value.pos, e->value.path,
                "unknown value " + config::quoted(*what) + " (expected default or reject)");
      }
    }
  }

  const Versions versions = read_protocols(r, *fields);
  if (versions.known) {
    tls.min_version = versions.min;
    tls.max_version = versions.max;
  }
  read_cipher_list(r, *fields, "ciphers", TlsVersion::V1_2, versions, tls.ciphers);
  read_cipher_list(r, *fields, "ciphersuites", TlsVersion::V1_3, versions, tls.ciphersuites);

  if (const Entry* e = fields->find("alpn")) {
    if (auto items = r.read_list(e->value)) {
      std::vector<std::string> alpn;
      for (const Item& i : *items) {
        auto protocol = r.read_string(i);
        if (!protocol) continue;
        // Only HTTP/1.1 is served; offering another would make clients speak it.
        if (*protocol != "http/1.1") {
          r.error(i.pos, i.path,
                  "unsupported ALPN protocol " + config::quoted(*protocol) +
                      " (only http/1.1 is served for now)");
          continue;
        }
        alpn.push_back(*protocol);
      }
      if (alpn.size() == items->size()) tls.alpn = std::move(alpn);
    }
  }
  if (const Entry* e = fields->find("handshake_timeout")) {
    if (auto d = r.read_duration(e->value, false)) tls.handshake_timeout = *d;
  }
  bool tickets_known = true;
  if (const Entry* e = fields->find("session_tickets")) {
    auto b = r.read_bool(e->value);
    if (b) tls.session_tickets = *b;
    tickets_known = b.has_value();
  }
  if (const Entry* e = fields->find("ticket_key_rotation")) {
    if (tickets_known && !tls.session_tickets) {
      r.error(e->key_pos, e->value.path,
              "'ticket_key_rotation' applies only with session_tickets: true");
    } else if (auto d = r.read_duration(e->value, false)) {
      tls.ticket_key_rotation = *d;
    }
  }
  if (const Entry* e = fields->find("session_cache")) read_session_cache(r, e->value, tls);
  if (const Entry* e = fields->find("client_certificates")) {
    read_client_certificates(r, e->value, flags_header, tls.client_certificates);
  }
}

void read_upstream_tls(YamlReader& r, const Item& item, UpstreamTls& tls) {
  tls.enabled = true;
  tls.mark = {item.pos.line, item.pos.column};
  auto fields = r.read_fields(item, {"server_name", "verify", "ca", "cert", "key", "protocols",
                                     "ciphers", "session_reuse"});
  if (!fields) return;

  if (const Entry* e = fields->find("server_name")) {
    if (auto name = read_server_name(r, e->value, false)) tls.server_name = *name;
  }
  bool verify_known = true;
  if (const Entry* e = fields->find("verify")) {
    auto b = r.read_bool(e->value);
    if (b) tls.verify = *b;
    verify_known = b.has_value();
  }
  if (const Entry* e = fields->find("ca")) {
    // Nothing is checked against it without verification: most likely not what was meant.
    if (verify_known && !tls.verify) {
      r.error(e->key_pos, e->value.path, "'ca' applies only with verify: true");
    } else if (auto path = read_path(r, e->value)) {
      tls.ca = *path;
    }
  }
  const Entry* cert = fields->find("cert");
  const Entry* key = fields->find("key");
  // A client certificate is sent with the proof that goes with it; either one alone is
  // half a setting.
  if (cert && !key) {
    r.error(cert->key_pos, cert->value.path, "'cert' needs 'key' (the client certificate's key)");
  } else if (key && !cert) {
    r.error(key->key_pos, key->value.path, "'key' needs 'cert' (the client certificate)");
  }
  if (cert) {
    if (auto path = read_path(r, cert->value)) tls.cert = *path;
  }
  if (key) {
    if (auto path = read_path(r, key->value)) tls.key = *path;
  }

  const Versions versions = read_protocols(r, *fields);
  if (versions.known) {
    tls.min_version = versions.min;
    tls.max_version = versions.max;
  }
  read_cipher_list(r, *fields, "ciphers", TlsVersion::V1_2, versions, tls.ciphers);
  if (const Entry* e = fields->find("session_reuse")) {
    if (auto b = r.read_bool(e->value)) tls.session_reuse = *b;
  }
}

}  // namespace portico::config
