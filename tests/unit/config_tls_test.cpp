// The `tls:` keys of listeners and upstreams: what loads, the defaults, where relative paths
// point, and every mistake reported with its file, line, column and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/ConfigLoader.h"
#include "config/TlsConfig.h"

namespace portico::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kCert = "{ certificates: [ { cert: site.pem, key: site.key } ]";

// Line 4 is `    tls: ` + `tls` (so a flow value starts at column 10); `top` comes before
// line 1 and shifts everything by its own lines.
std::string with_listener_tls(std::string_view tls, std::string_view top = "") {
  return std::string(top) +
         "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8443\n"
         "    tls: " +
         std::string(tls) +
         "\n"
         "    routes:\n"
         "      - name: r\n"
         "        respond: { status: 200 }\n";
}

// A listener's tls with one certificate and `more` keys after it: `more` starts at column 65.
std::string with_cert_and(std::string_view more) {
  return with_listener_tls(std::string(kCert) + ", " + std::string(more) + " }");
}

// Line 10 is `    tls: ` + `tls` (a flow value starts at column 10).
std::string with_upstream_tls(std::string_view tls) {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        upstream: u\n"
         "upstreams:\n"
         "  - name: u\n"
         "    endpoints: [ 127.0.0.1:9000 ]\n"
         "    tls: " +
         std::string(tls) + "\n";
}

std::vector<std::string> errors_of(const std::string& yaml, const std::string& file = "test.yaml") {
  LoadResult r = load_config_string(yaml, file);
  std::vector<std::string> lines;
  for (const ConfigError& e : r.errors) lines.push_back(e.to_string());
  EXPECT_EQ(r.config.has_value(), lines.empty());
  return lines;
}

std::string only_error(const std::string& yaml) {
  std::vector<std::string> lines = errors_of(yaml);
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "" : lines.front();
}

Config loaded(const std::string& yaml, const std::string& file = "test.yaml") {
  LoadResult r = load_config_string(yaml, file);
  std::vector<std::string> lines;
  for (const ConfigError& e : r.errors) lines.push_back(e.to_string());
  EXPECT_TRUE(r.config) << ::testing::PrintToString(lines);
  return r.config ? std::move(*r.config) : Config{};
}

ListenerTls listener_tls(const std::string& yaml, const std::string& file = "test.yaml") {
  Config c = loaded(yaml, file);
  return c.listeners.empty() ? ListenerTls{} : c.listeners.front().tls;
}

UpstreamTls upstream_tls(const std::string& yaml) {
  Config c = loaded(yaml);
  return c.upstreams.empty() ? UpstreamTls{} : c.upstreams.front().tls;
}

// Where a relative path in "test.yaml" points: the working directory, made absolute.
std::string here(const std::string& path) {
  return (std::filesystem::current_path() / path).string();
}

// ---- listeners ----

TEST(ConfigTls, ListenersAndUpstreamsHaveNoTlsByDefault) {
  Config c = loaded(R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    routes: [ { name: r, upstream: u } ]
upstreams: [ { name: u, endpoints: [ 127.0.0.1:9000 ] } ]
)");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_FALSE(c.listeners[0].tls.enabled);
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_FALSE(c.upstreams[0].tls.enabled);
}

TEST(ConfigTls, ListenerDefaults) {
  const ListenerTls tls = listener_tls(with_listener_tls(std::string(kCert) + " }"));
  const ListenerTls defaults;
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.mark.line, 4);
  EXPECT_EQ(tls.mark.column, 10);
  ASSERT_EQ(tls.certificates.size(), 1u);
  EXPECT_EQ(tls.certificates[0].cert, here("site.pem"));
  EXPECT_EQ(tls.certificates[0].key, here("site.key"));
  EXPECT_TRUE(tls.certificates[0].server_names.empty());
  EXPECT_EQ(tls.certificates[0].mark.line, 4);
  EXPECT_EQ(tls.certificates[0].mark.column, 28);
  EXPECT_FALSE(tls.reject_unknown_server_name);
  EXPECT_EQ(tls.min_version, TlsVersion::V1_2);
  EXPECT_EQ(tls.max_version, TlsVersion::V1_3);
  EXPECT_EQ(tls.ciphers, defaults.ciphers);
  EXPECT_EQ(tls.ciphersuites, defaults.ciphersuites);
  EXPECT_EQ(tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_EQ(tls.handshake_timeout, seconds(10));
  EXPECT_TRUE(tls.session_tickets);
  EXPECT_EQ(tls.ticket_key_rotation, hours(1));
  EXPECT_EQ(tls.session_cache_size, 20'480u);
  EXPECT_EQ(tls.session_timeout, minutes(5));
  EXPECT_FALSE(tls.client_certificates.enabled);
}

TEST(ConfigTls, ListenerEveryKey) {
  const ListenerTls tls = listener_tls(with_listener_tls(R"(
      certificates:
        - { cert: site.pem, key: site.key }
        - { cert: /etc/tls/api.pem, key: /etc/tls/api.key, server_names: [API.Example.com, "*.api.example.com"] }
        - { cert: one.pem, key: one.key, server_names: one.example.com }
      unknown_server_name: reject
      protocols: [TLSv1.3]
      ciphersuites: "TLS_AES_256_GCM_SHA384"
      alpn: [http/1.1]
      handshake_timeout: 5s
      session_tickets: true
      ticket_key_rotation: 30m
      session_cache: { size: 0, timeout: 10m }
      client_certificates: { ca: clients-ca.pem, mode: optional, verify_depth: 2, subject_header: X-Client-Subject })"));
  ASSERT_EQ(tls.certificates.size(), 3u);
  EXPECT_EQ(tls.certificates[0].cert, here("site.pem"));
  EXPECT_EQ(tls.certificates[1].cert, "/etc/tls/api.pem");
  EXPECT_EQ(tls.certificates[1].key, "/etc/tls/api.key");
  EXPECT_EQ(tls.certificates[1].server_names,
            (std::vector<std::string>{"api.example.com", "*.api.example.com"}));
  EXPECT_EQ(tls.certificates[1].mark.line, 7);
  EXPECT_EQ(tls.certificates[2].server_names, std::vector<std::string>{"one.example.com"});
  EXPECT_TRUE(tls.reject_unknown_server_name);
  EXPECT_EQ(tls.min_version, TlsVersion::V1_3);
  EXPECT_EQ(tls.max_version, TlsVersion::V1_3);
  EXPECT_EQ(tls.ciphersuites, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_EQ(tls.handshake_timeout, seconds(5));
  EXPECT_TRUE(tls.session_tickets);
  EXPECT_EQ(tls.ticket_key_rotation, minutes(30));
  EXPECT_EQ(tls.session_cache_size, 0u);
  EXPECT_EQ(tls.session_timeout, minutes(10));
  const ClientCertificates& cc = tls.client_certificates;
  EXPECT_TRUE(cc.enabled);
  EXPECT_EQ(cc.ca, here("clients-ca.pem"));
  EXPECT_FALSE(cc.required);
  EXPECT_EQ(cc.verify_depth, 2u);
  EXPECT_EQ(cc.subject_header, "X-Client-Subject");
}

TEST(ConfigTls, ProtocolsSetTheVersionRange) {
  auto range = [](std::string_view protocols) {
    const ListenerTls tls = listener_tls(with_cert_and("protocols: " + std::string(protocols)));
    return std::pair{tls.min_version, tls.max_version};
  };
  EXPECT_EQ(range("[TLSv1.2, TLSv1.3]"), std::pair(TlsVersion::V1_2, TlsVersion::V1_3));
  EXPECT_EQ(range("[TLSv1.3, TLSv1.2]"), std::pair(TlsVersion::V1_2, TlsVersion::V1_3));
  EXPECT_EQ(range("[TLSv1.2]"), std::pair(TlsVersion::V1_2, TlsVersion::V1_2));
  EXPECT_EQ(range("[TLSv1.3]"), std::pair(TlsVersion::V1_3, TlsVersion::V1_3));
  EXPECT_EQ(range("[TLSv1.3, TLSv1.3]"), std::pair(TlsVersion::V1_3, TlsVersion::V1_3));
}

TEST(ConfigTls, ListenerValues) {
  ListenerTls tls = listener_tls(
      with_cert_and("unknown_server_name: default, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', "
                    "session_tickets: false, session_cache: { size: 1000 }"));
  EXPECT_FALSE(tls.reject_unknown_server_name);
  EXPECT_EQ(tls.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_FALSE(tls.session_tickets);
  EXPECT_EQ(tls.session_cache_size, 1000u);
  EXPECT_EQ(tls.session_timeout, minutes(5));

  tls = listener_tls(with_cert_and("session_cache: { timeout: 168h }"));
  EXPECT_EQ(tls.session_cache_size, 20'480u);
  EXPECT_EQ(tls.session_timeout, hours(168));
}

TEST(ConfigTls, ClientCertificateDefaults) {
  const ClientCertificates cc =
      listener_tls(with_cert_and("client_certificates: { ca: ca.pem }")).client_certificates;
  EXPECT_TRUE(cc.enabled);
  EXPECT_EQ(cc.ca, here("ca.pem"));
  EXPECT_TRUE(cc.required);
  EXPECT_EQ(cc.verify_depth, 4u);
  EXPECT_EQ(cc.subject_header, "x-client-cert-subject");

  for (const char* value : {"required", "optional"}) {
    const ClientCertificates mode =
        listener_tls(
            with_cert_and(std::string("client_certificates: { ca: ca.pem, mode: ") + value + " }"))
            .client_certificates;
    EXPECT_EQ(mode.required, std::string(value) == "required");
  }
  for (const char* depth : {"1", "10"}) {
    const ClientCertificates d =
        listener_tls(
            with_cert_and(std::string("client_certificates: { ca: ca.pem, verify_depth: ") + depth +
                          " }"))
            .client_certificates;
    EXPECT_EQ(d.verify_depth, std::stoul(depth));
  }
}

TEST(ConfigTls, SubjectHeaderCanBeTurnedOff) {
  for (const char* off : {"off", "\"\"", "false", "no"}) {
    const ClientCertificates cc =
        listener_tls(with_cert_and(std::string("client_certificates: { ca: ca.pem, "
                                               "subject_header: ") +
                                   off + " }"))
            .client_certificates;
    EXPECT_EQ(cc.subject_header, "") << off;
  }
}

// ---- paths ----

TEST(ConfigTls, RelativePathsAreTakenFromTheConfigFilesDirectory) {
  const std::string yaml = with_listener_tls(
      "{ certificates: [ { cert: site.pem, key: keys/site.key }, { cert: /abs/a.pem, key: ./a.key "
      "} ], client_certificates: { ca: ../ca.pem } }");
  ListenerTls tls = listener_tls(yaml, "/etc/portico/portico.yaml");
  ASSERT_EQ(tls.certificates.size(), 2u);
  EXPECT_EQ(tls.certificates[0].cert, "/etc/portico/site.pem");
  EXPECT_EQ(tls.certificates[0].key, "/etc/portico/keys/site.key");
  EXPECT_EQ(tls.certificates[1].cert, "/abs/a.pem");
  EXPECT_EQ(tls.certificates[1].key, "/etc/portico/a.key");
  EXPECT_EQ(tls.client_certificates.ca, "/etc/portico/../ca.pem");

  // A config named by a relative path: its directory is made absolute, so the paths still
  // work after the working directory changes.
  tls = listener_tls(yaml, "conf/portico.yaml");
  EXPECT_EQ(tls.certificates[0].cert, here("conf/site.pem"));
  tls = listener_tls(yaml, "./portico.yaml");
  EXPECT_EQ(tls.certificates[0].cert, here("site.pem"));
}

TEST(ConfigTls, ConfigRelativePath) {
  EXPECT_EQ(config_relative_path("/etc/portico/portico.yaml", "/x/y.pem"), "/x/y.pem");
  EXPECT_EQ(config_relative_path("/etc/portico/portico.yaml", "y.pem"), "/etc/portico/y.pem");
  EXPECT_EQ(config_relative_path("/portico.yaml", "y.pem"), "/y.pem");
  EXPECT_EQ(config_relative_path("/etc/./portico/portico.yaml", "./tls/./y.pem"),
            "/etc/portico/tls/y.pem");
  EXPECT_EQ(config_relative_path("portico.yaml", "y.pem"), here("y.pem"));
}

TEST(ConfigTls, EmptyPathsAreRefused) {
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { cert: '', key: k } ] }")),
            "test.yaml:4:36: listeners[0].tls.certificates[0].cert: must not be empty");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { cert: c, key: \"\" } ] }")),
            "test.yaml:4:44: listeners[0].tls.certificates[0].key: must not be empty");
  EXPECT_EQ(only_error(with_cert_and("client_certificates: { ca: '' }")),
            "test.yaml:4:92: listeners[0].tls.client_certificates.ca: must not be empty");
  EXPECT_EQ(only_error(with_upstream_tls("{ ca: '' }")),
            "test.yaml:10:16: upstreams[0].tls.ca: must not be empty");
  EXPECT_EQ(only_error(with_upstream_tls("{ cert: '', key: k }")),
            "test.yaml:10:18: upstreams[0].tls.cert: must not be empty");
  EXPECT_EQ(only_error(with_upstream_tls("{ cert: c, key: '' }")),
            "test.yaml:10:26: upstreams[0].tls.key: must not be empty");
}

// ---- listener errors ----

TEST(ConfigTls, ListenerTlsMustBeAMappingWithCertificates) {
  EXPECT_EQ(only_error(with_listener_tls("")),
            "test.yaml:4:5: listeners[0].tls: expected a mapping, got nothing (null)");
  EXPECT_EQ(only_error(with_listener_tls("true")),
            "test.yaml:4:10: listeners[0].tls: expected a mapping, got 'true'");
  EXPECT_EQ(only_error(with_listener_tls("{}")),
            "test.yaml:4:10: listeners[0].tls.certificates: missing required key 'certificates'");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [] }")),
            "test.yaml:4:26: listeners[0].tls.certificates: must not be empty");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: site.pem }")),
            "test.yaml:4:26: listeners[0].tls.certificates: expected a list, got 'site.pem'");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ site.pem ] }")),
            "test.yaml:4:28: listeners[0].tls.certificates[0]: expected a mapping, got 'site.pem'");
}

TEST(ConfigTls, CertificateNeedsCertAndKey) {
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { cert: site.pem } ] }")),
            "test.yaml:4:28: listeners[0].tls.certificates[0].key: missing required key 'key'");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { key: site.key } ] }")),
            "test.yaml:4:28: listeners[0].tls.certificates[0].cert: missing required key 'cert'");
  EXPECT_EQ(
      only_error(with_listener_tls("{ certificates: [ { cert: a, key: b, chain: c } ] }")),
      "test.yaml:4:47: listeners[0].tls.certificates[0].chain: unknown key 'chain' (expected one "
      "of: cert, key, server_names)");
  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { cert: [a], key: b } ] }")),
            "test.yaml:4:36: listeners[0].tls.certificates[0].cert: expected a string, got a list");
}

TEST(ConfigTls, UnknownKeysInTls) {
  EXPECT_EQ(only_error(with_cert_and("ocsp_stapling: true")),
            "test.yaml:4:65: listeners[0].tls.ocsp_stapling: unknown key 'ocsp_stapling' "
            "(expected one of: certificates, unknown_server_name, protocols, ciphers, "
            "ciphersuites, alpn, handshake_timeout, session_tickets, ticket_key_rotation, "
            "session_cache, client_certificates)");
  EXPECT_EQ(only_error(with_cert_and("session_cache: { entries: 5 }")),
            "test.yaml:4:82: listeners[0].tls.session_cache.entries: unknown key 'entries' "
            "(expected one of: size, timeout)");
  EXPECT_EQ(only_error(with_cert_and("client_certificates: { ca: a, crl: b }")),
            "test.yaml:4:95: listeners[0].tls.client_certificates.crl: unknown key 'crl' "
            "(expected one of: ca, mode, verify_depth, subject_header)");
}

TEST(ConfigTls, ServerNames) {
  auto names = [](std::string_view list) {
    const ListenerTls tls = listener_tls(with_listener_tls(
        "{ certificates: [ { cert: c, key: k, server_names: " + std::string(list) + " } ] }"));
    return tls.certificates.empty() ? std::vector<std::string>{}
                                    : tls.certificates.front().server_names;
  };
  EXPECT_EQ(names("WWW.Example.COM"), std::vector<std::string>{"www.example.com"});
  EXPECT_EQ(names("[\"*.Example.com\", a-b.c_d.example, localhost, xn--bcher-kva.example]"),
            (std::vector<std::string>{"*.example.com", "a-b.c_d.example", "localhost",
                                      "xn--bcher-kva.example"}));
  EXPECT_EQ(names(std::string(63, 'a') + ".example"),
            std::vector<std::string>{std::string(63, 'a') + ".example"});
}

TEST(ConfigTls, BadServerNames) {
  // The value starts at column 62 of line 4.
  auto error_for = [](std::string_view name) {
    return only_error(with_listener_tls("{ certificates: [ { cert: c, key: k, server_names: [" +
                                        std::string(name) + "] } ] }"));
  };
  const std::string at = "test.yaml:4:62: listeners[0].tls.certificates[0].server_names[0]: ";
  EXPECT_EQ(error_for("\"*\""),
            at + "invalid server name '*': '*' is allowed only as a leading '*.'");
  EXPECT_EQ(error_for("\"*.\""),
            at + "invalid server name '*.': a wildcard needs a suffix, e.g. '*.example.com'");
  EXPECT_EQ(error_for("\"*.*.example.com\""),
            at + "invalid server name '*.*.example.com': '*' is allowed only as a leading '*.'");
  EXPECT_EQ(error_for("\"w*.example.com\""),
            at + "invalid server name 'w*.example.com': '*' is allowed only as a leading '*.'");
  EXPECT_EQ(error_for("\"a.*.com\""),
            at + "invalid server name 'a.*.com': '*' is allowed only as a leading '*.'");
  EXPECT_EQ(error_for("example.com."),
            at + "invalid server name 'example.com.': remove the trailing '.'");
  EXPECT_EQ(error_for("a..b"),
            at + "invalid server name 'a..b': empty label (a leading '.' or '..')");
  EXPECT_EQ(error_for(".a"), at + "invalid server name '.a': empty label (a leading '.' or '..')");
  EXPECT_EQ(error_for("\"a b\""),
            at + "invalid server name 'a b': only letters, digits, '-', '_' and '.' are allowed");
  EXPECT_EQ(error_for("-a.example"),
            at + "invalid server name '-a.example': a label cannot start or end with '-'");
  EXPECT_EQ(error_for("a-.example"),
            at + "invalid server name 'a-.example': a label cannot start or end with '-'");
  EXPECT_EQ(error_for("10.0.0.1"),
            at + "invalid server name '10.0.0.1': an IP address is never sent as a server name");
  EXPECT_EQ(error_for("\"::1\""),
            at + "invalid server name '::1': a server name has no port (and is never an IPv6 "
                 "address)");
  EXPECT_EQ(error_for("example.com:443"),
            at + "invalid server name 'example.com:443': a server name has no port (and is "
                 "never an IPv6 address)");
  const std::string long_label = std::string(64, 'a') + ".example";
  EXPECT_EQ(error_for(long_label),
            at + "invalid server name '" + long_label + "': a label is longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'a') + ".";
  long_name += "ab";  // 254 characters
  EXPECT_EQ(error_for(long_name),
            at + "invalid server name '" + long_name + "': longer than 253 characters");
  EXPECT_EQ(error_for("\"\""), at + "must not be empty");

  EXPECT_EQ(only_error(with_listener_tls("{ certificates: [ { cert: c, key: k, server_names: [] "
                                         "} ] }")),
            "test.yaml:4:61: listeners[0].tls.certificates[0].server_names: must not be empty");
}

TEST(ConfigTls, UnknownServerName) {
  EXPECT_EQ(only_error(with_cert_and("unknown_server_name: refuse")),
            "test.yaml:4:86: listeners[0].tls.unknown_server_name: unknown value 'refuse' "
            "(expected default or reject)");
}

TEST(ConfigTls, BadProtocols) {
  // The list starts at column 76 of line 4; its first entry at 77.
  const std::string at = "test.yaml:4:77: listeners[0].tls.protocols[0]: ";
  for (const char* old : {"TLSv1.1", "TLSv1", "TLSv1.0", "SSLv3", "SSLv2", "tlsv1.1"}) {
    EXPECT_EQ(only_error(with_cert_and(std::string("protocols: [") + old + ", TLSv1.3]")),
              at + "'" + old + "' is insecure and not supported (use TLSv1.2 and TLSv1.3)");
  }
  EXPECT_EQ(only_error(with_cert_and("protocols: [tlsv1.2]")),
            at + "unknown protocol 'tlsv1.2' (names are case-sensitive: expected TLSv1.2 or "
                 "TLSv1.3)");
  EXPECT_EQ(only_error(with_cert_and("protocols: [TLSv1.4]")),
            at + "unknown protocol 'TLSv1.4' (expected TLSv1.2 or TLSv1.3)");
  EXPECT_EQ(only_error(with_cert_and("protocols: []")),
            "test.yaml:4:76: listeners[0].tls.protocols: must not be empty");
  EXPECT_EQ(only_error(with_cert_and("protocols: TLSv1.3")),
            "test.yaml:4:76: listeners[0].tls.protocols: expected a list, got 'TLSv1.3'");
}

TEST(ConfigTls, CipherLists) {
  EXPECT_EQ(only_error(with_cert_and("ciphers: ''")),
            "test.yaml:4:74: listeners[0].tls.ciphers: must not be empty");
  EXPECT_EQ(only_error(with_cert_and("ciphersuites: ''")),
            "test.yaml:4:79: listeners[0].tls.ciphersuites: must not be empty");
  // A list for a version the protocols leave out would never be used.
  EXPECT_EQ(only_error(with_cert_and("protocols: [TLSv1.3], ciphers: 'AES128-SHA'")),
            "test.yaml:4:87: listeners[0].tls.ciphers: 'ciphers' applies only to TLSv1.2, which "
            "'protocols' leaves out");
  EXPECT_EQ(
      only_error(with_cert_and("protocols: [TLSv1.2], ciphersuites: 'TLS_AES_128_GCM_SHA256'")),
      "test.yaml:4:87: listeners[0].tls.ciphersuites: 'ciphersuites' applies only to "
      "TLSv1.3, which 'protocols' leaves out");
  // With broken protocols, only that is reported.
  EXPECT_EQ(only_error(with_cert_and("protocols: [TLSv1], ciphers: 'AES128-SHA'")),
            "test.yaml:4:77: listeners[0].tls.protocols[0]: 'TLSv1' is insecure and not "
            "supported (use TLSv1.2 and TLSv1.3)");
  const ListenerTls tls =
      listener_tls(with_cert_and("protocols: [TLSv1.2], ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256'"));
  EXPECT_EQ(tls.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST(ConfigTls, Alpn) {
  EXPECT_EQ(only_error(with_cert_and("alpn: [h2, http/1.1]")),
            "test.yaml:4:72: listeners[0].tls.alpn[0]: unsupported ALPN protocol 'h2' (only "
            "http/1.1 is served for now)");
  EXPECT_EQ(only_error(with_cert_and("alpn: [http/1.1, HTTP/1.1]")),
            "test.yaml:4:82: listeners[0].tls.alpn[1]: unsupported ALPN protocol 'HTTP/1.1' (only "
            "http/1.1 is served for now)");
  EXPECT_EQ(only_error(with_cert_and("alpn: []")),
            "test.yaml:4:71: listeners[0].tls.alpn: must not be empty");
}

TEST(ConfigTls, Durations) {
  EXPECT_EQ(only_error(with_cert_and("handshake_timeout: 0")),
            "test.yaml:4:84: listeners[0].tls.handshake_timeout: must be greater than 0");
  EXPECT_EQ(only_error(with_cert_and("handshake_timeout: 10"))
                .rfind("test.yaml:4:84: listeners[0].tls.handshake_timeout: ", 0),
            0u);
  EXPECT_EQ(only_error(with_cert_and("ticket_key_rotation: 0")),
            "test.yaml:4:86: listeners[0].tls.ticket_key_rotation: must be greater than 0");
  EXPECT_EQ(only_error(with_cert_and("session_cache: { timeout: 0 }")),
            "test.yaml:4:91: listeners[0].tls.session_cache.timeout: must be greater than 0");
  EXPECT_EQ(only_error(with_cert_and("session_cache: { timeout: 1500ms }")),
            "test.yaml:4:91: listeners[0].tls.session_cache.timeout: must be a whole number of "
            "seconds, got 1500ms");
  EXPECT_EQ(only_error(with_cert_and("session_cache: { timeout: 169h }")),
            "test.yaml:4:91: listeners[0].tls.session_cache.timeout: must be at most 168h (7 "
            "days, the longest a TLS 1.3 session may be resumed), got 169h");
}

TEST(ConfigTls, SessionTicketsAndCache) {
  EXPECT_EQ(only_error(with_cert_and("session_tickets: yes")),
            "test.yaml:4:82: listeners[0].tls.session_tickets: expected true or false, got 'yes'");
  EXPECT_EQ(only_error(with_cert_and("session_tickets: false, ticket_key_rotation: 1h")),
            "test.yaml:4:89: listeners[0].tls.ticket_key_rotation: 'ticket_key_rotation' applies "
            "only with session_tickets: true");
  const ListenerTls tls =
      listener_tls(with_cert_and("session_tickets: true, ticket_key_rotation: 12h"));
  EXPECT_EQ(tls.ticket_key_rotation, hours(12));
  EXPECT_EQ(only_error(with_cert_and("session_cache: { size: -1 }")),
            "test.yaml:4:88: listeners[0].tls.session_cache.size: must be an integer from 0 to "
            "1000000, got -1");
  EXPECT_EQ(only_error(with_cert_and("session_cache: { size: 1000001 }")),
            "test.yaml:4:88: listeners[0].tls.session_cache.size: must be an integer from 0 to "
            "1000000, got 1000001");
  EXPECT_EQ(only_error(with_cert_and("session_cache: 20480")),
            "test.yaml:4:80: listeners[0].tls.session_cache: expected a mapping, got '20480'");
}

TEST(ConfigTls, ClientCertificateErrors) {
  // The mapping starts at column 86.
  EXPECT_EQ(only_error(with_cert_and("client_certificates: {}")),
            "test.yaml:4:86: listeners[0].tls.client_certificates.ca: missing required key 'ca'");
  EXPECT_EQ(only_error(with_cert_and("client_certificates: { ca: a, mode: request }")),
            "test.yaml:4:101: listeners[0].tls.client_certificates.mode: unknown mode 'request' "
            "(expected required or optional)");
  for (const char* depth : {"0", "11"}) {
    EXPECT_EQ(only_error(with_cert_and(std::string("client_certificates: { ca: a, verify_depth: ") +
                                       depth + " }")),
              std::string("test.yaml:4:109: listeners[0].tls.client_certificates.verify_depth: "
                          "must be an integer from 1 to 10, got ") +
                  depth);
  }
}

TEST(ConfigTls, BadSubjectHeaders) {
  auto error_for = [](std::string_view header, std::string_view top = "") {
    return only_error(with_listener_tls(
        std::string(kCert) +
            ", client_certificates: { ca: a, subject_header: " + std::string(header) + " } }",
        top));
  };
  const std::string at = "test.yaml:4:111: listeners[0].tls.client_certificates.subject_header: ";
  EXPECT_EQ(error_for("\"x client\""), at + "invalid header name 'x client'");
  EXPECT_EQ(error_for("Host"),
            at + "'Host' is a header Portico sets or relays itself; choose another name");
  EXPECT_EQ(error_for("x-forwarded-for"),
            at + "'x-forwarded-for' is a header Portico sets or relays itself; choose another "
                 "name");
  EXPECT_EQ(error_for("X-Portico-Flags"),
            at + "'X-Portico-Flags' is the name of the flags header (flags_header); choose "
                 "another");
  EXPECT_EQ(error_for("x_portico_flags"),
            at + "'x_portico_flags' is the name of the flags header (flags_header); choose "
                 "another");
  // The configured flags header, whatever its name; after it is renamed the default name is
  // still dropped from clients, so it stays taken.
  EXPECT_EQ(error_for("x_features", "flags_header: X-Features\n"),
            "test.yaml:5:111: listeners[0].tls.client_certificates.subject_header: 'x_features' "
            "is the name of the flags header (flags_header); choose another");
  EXPECT_EQ(error_for("x-portico-flags", "flags_header: X-Features\n"),
            "test.yaml:5:111: listeners[0].tls.client_certificates.subject_header: "
            "'x-portico-flags' is the name of the flags header (flags_header); choose another");
  // A name that is only the flags header's when it is renamed to it.
  const ListenerTls tls = listener_tls(with_listener_tls(
      std::string(kCert) + ", client_certificates: { ca: a, subject_header: x-features } }",
      "flags_header: off\n"));
  EXPECT_EQ(tls.client_certificates.subject_header, "x-features");
}

TEST(ConfigTls, ABadTlsBlockDoesNotHideOtherErrors) {
  const std::vector<std::string> lines = errors_of(R"(workers: none
listeners:
  - name: l
    address: 127.0.0.1:8443
    tls:
      certificates: [ { cert: site.pem } ]
      protocols: [TLSv1.1]
      alpn: [h2]
    routes:
      - name: r
        upstream: missing
upstreams:
  - name: u
    endpoints: [ 127.0.0.1:1 ]
    tls: { cert: c.pem, verify: maybe }
    retries: { attempts: 0 }
)");
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "test.yaml:1:10: workers: expected 'auto' or an integer from 1 to 1024, got "
                "'none'",
                "test.yaml:6:23: listeners[0].tls.certificates[0].key: missing required key 'key'",
                "test.yaml:7:19: listeners[0].tls.protocols[0]: 'TLSv1.1' is insecure and not "
                "supported (use TLSv1.2 and TLSv1.3)",
                "test.yaml:8:14: listeners[0].tls.alpn[0]: unsupported ALPN protocol 'h2' (only "
                "http/1.1 is served for now)",
                "test.yaml:11:19: listeners[0].routes[0].upstream: undefined upstream 'missing' "
                "(defined: u)",
                "test.yaml:15:12: upstreams[0].tls.cert: 'cert' needs 'key' (the client "
                "certificate's key)",
                "test.yaml:15:33: upstreams[0].tls.verify: expected true or false, got 'maybe'",
                "test.yaml:16:26: upstreams[0].retries.attempts: must be an integer from 1 to 10, "
                "got 0",
            }));
}

TEST(ConfigTls, ListenerKeysIncludeTls) {
  EXPECT_EQ(only_error(with_listener_tls(std::string(kCert) + " }\n    ssl: {}")),
            "test.yaml:5:5: listeners[0].ssl: unknown key 'ssl' (expected one of: name, address, "
            "limits, filters, routes, tls)");
}

// ---- upstreams ----

TEST(ConfigTls, UpstreamDefaults) {
  const UpstreamTls tls = upstream_tls(with_upstream_tls("{}"));
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.mark.line, 10);
  EXPECT_EQ(tls.mark.column, 10);
  EXPECT_EQ(tls.server_name, "");
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca, "");
  EXPECT_EQ(tls.cert, "");
  EXPECT_EQ(tls.key, "");
  EXPECT_EQ(tls.min_version, TlsVersion::V1_2);
  EXPECT_EQ(tls.max_version, TlsVersion::V1_3);
  EXPECT_EQ(tls.ciphers, "");
  EXPECT_TRUE(tls.session_reuse);
}

TEST(ConfigTls, UpstreamEveryKey) {
  const UpstreamTls tls = upstream_tls(with_upstream_tls(
      "{ server_name: API.Internal, verify: true, ca: internal-ca.pem, cert: /tls/client.pem, "
      "key: client.key, protocols: [TLSv1.2], ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', "
      "session_reuse: false }"));
  EXPECT_EQ(tls.server_name, "api.internal");
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca, here("internal-ca.pem"));
  EXPECT_EQ(tls.cert, "/tls/client.pem");
  EXPECT_EQ(tls.key, here("client.key"));
  EXPECT_EQ(tls.min_version, TlsVersion::V1_2);
  EXPECT_EQ(tls.max_version, TlsVersion::V1_2);
  EXPECT_EQ(tls.ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
  EXPECT_FALSE(tls.session_reuse);
}

TEST(ConfigTls, UpstreamVerifyCanBeTurnedOff) {
  const UpstreamTls tls = upstream_tls(with_upstream_tls("{ verify: false, server_name: a.b }"));
  EXPECT_FALSE(tls.verify);
  EXPECT_EQ(tls.server_name, "a.b");
  EXPECT_EQ(only_error(with_upstream_tls("{ verify: false, ca: ca.pem }")),
            "test.yaml:10:27: upstreams[0].tls.ca: 'ca' applies only with verify: true");
}

TEST(ConfigTls, UpstreamCertAndKeyGoTogether) {
  EXPECT_EQ(only_error(with_upstream_tls("{ cert: c.pem }")),
            "test.yaml:10:12: upstreams[0].tls.cert: 'cert' needs 'key' (the client "
            "certificate's key)");
  EXPECT_EQ(only_error(with_upstream_tls("{ key: c.key }")),
            "test.yaml:10:12: upstreams[0].tls.key: 'key' needs 'cert' (the client certificate)");
}

TEST(ConfigTls, UpstreamErrors) {
  EXPECT_EQ(only_error(with_upstream_tls("{ sni: a.b }")),
            "test.yaml:10:12: upstreams[0].tls.sni: unknown key 'sni' (expected one of: "
            "server_name, verify, ca, cert, key, protocols, ciphers, session_reuse)");
  EXPECT_EQ(only_error(with_upstream_tls("")),
            "test.yaml:10:5: upstreams[0].tls: expected a mapping, got nothing (null)");
  EXPECT_EQ(only_error(with_upstream_tls("{ server_name: \"*.internal\" }")),
            "test.yaml:10:25: upstreams[0].tls.server_name: invalid server name '*.internal': "
            "this is the one name sent and verified, so it cannot be a wildcard");
  EXPECT_EQ(only_error(with_upstream_tls("{ server_name: 10.1.2.3 }")),
            "test.yaml:10:25: upstreams[0].tls.server_name: invalid server name '10.1.2.3': an "
            "IP address is never sent as a server name");
  EXPECT_EQ(only_error(with_upstream_tls("{ server_name: '' }")),
            "test.yaml:10:25: upstreams[0].tls.server_name: must not be empty");
  EXPECT_EQ(only_error(with_upstream_tls("{ protocols: [SSLv3] }")),
            "test.yaml:10:24: upstreams[0].tls.protocols[0]: 'SSLv3' is insecure and not "
            "supported (use TLSv1.2 and TLSv1.3)");
  EXPECT_EQ(only_error(with_upstream_tls("{ protocols: [TLSv1.3], ciphers: 'AES128-SHA' }")),
            "test.yaml:10:34: upstreams[0].tls.ciphers: 'ciphers' applies only to TLSv1.2, which "
            "'protocols' leaves out");
  EXPECT_EQ(only_error(with_upstream_tls("{ session_reuse: sometimes }")),
            "test.yaml:10:27: upstreams[0].tls.session_reuse: expected true or false, got "
            "'sometimes'");
}

}  // namespace
}  // namespace portico::config
