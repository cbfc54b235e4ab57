// Plain configuration structs: what the YAML says, after parsing and validation.
// The loader (ConfigLoader.h) fills them; Runtime compiles them into the objects the
// workers use. Nothing here knows about libuv or sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portico::filters {
class FilterConfig;
}

namespace portico::config {

using Duration = std::chrono::milliseconds;

// Where a value came from in the YAML file, for error messages (1-based).
struct SourceMark {
  int line = 0;
  int column = 0;
};

// A resolved socket address (IPv4 or IPv6) plus the text the user wrote.
struct SocketAddress {
  std::string text;  // as written, e.g. "127.0.0.1:8080" or "[::1]:8080"
  sockaddr_storage storage{};
  socklen_t length = 0;
};

struct Limits {
  uint64_t max_header_bytes = 65536;
  uint32_t max_headers = 100;  // header fields in a request head (Envoy's and HAProxy's default)
  uint64_t max_body_bytes = 10ull * 1024 * 1024;  // 0 = unlimited
  Duration header_timeout{10'000};
  Duration idle_timeout{60'000};
  // Client connections open at once on the listener, across all workers; at the limit
  // accepting pauses (clients wait in the kernel backlog). 0 = unlimited.
  uint32_t max_connections = 0;
};

// How a header or query parameter must look for a route to match.
struct ValueMatch {
  enum class Kind { Present, Absent, Exact, Regex };
  std::string name;  // header name (case-insensitive) or query parameter name (exact)
  Kind kind = Kind::Present;
  std::string value;  // the exact value or the regex (PCRE2 syntax), for Exact / Regex
};

// A route condition on a feature flag's decision for the request.
struct FlagCondition {
  std::string name;
  size_t index = 0;  // into Config::flags
  bool on = true;    // the decision the route wants
};

struct RouteMatch {
  // Exact names ("api.example.com") or wildcard suffixes ("*.example.com");
  // compared case-insensitively, without the port. Empty: any host.
  std::vector<std::string> hosts;
  enum class PathKind { Any, Exact, Prefix, Regex };
  PathKind path_kind = PathKind::Any;
  std::string path;                  // for Exact / Prefix / Regex (regex must match the whole path)
  std::vector<std::string> methods;  // upper case; empty: any method
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> query;
  std::vector<FlagCondition> flags;  // every one must hold
};

struct Respond {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// One entry of a `filters:` list: a filter by name, parsed by its own parser (filters/).
struct FilterSpec {
  std::string name;
  SourceMark mark;
  // The filter's config as written, normalised: two specs with the same identity behave
  // the same, so state built for one (buckets, breakers) carries over a reload to the other.
  std::string identity;
  std::shared_ptr<const filters::FilterConfig> config;
};

struct Route {
  std::string name;
  SourceMark mark;
  RouteMatch match;
  std::string upstream;                     // set when the route proxies
  std::optional<Respond> respond;           // set when the route answers by itself
  std::optional<std::string> host_rewrite;  // Host header sent upstream instead of the client's
  // The route's own filters; unset: the listener's (`filters: []` turns them off).
  std::optional<std::vector<FilterSpec>> filters;
};

// TLS on a listener (see docs/CONFIG.md, "tls"). Files are read when the config loads.
struct TlsCertificate {
  std::string cert;  // PEM: the leaf first, then its chain
  std::string key;   // PEM, unencrypted
  // Names this certificate answers for (exact or "*.example.com"); empty: the names in
  // the certificate itself (its DNS subject alternative names, else its common name).
  std::vector<std::string> server_names;
  SourceMark mark;
};

enum class TlsVersion { V1_2, V1_3 };

struct ClientCertificates {
  bool enabled = false;  // true when `client_certificates:` is present
  std::string ca;        // PEM bundle of the CAs that may issue client certificates
  bool required = true;  // mode: required | optional
  uint32_t verify_depth = 4;
  // The upstream request header that carries the verified subject (RFC 2253); a client's
  // own copy is always dropped. Empty: not sent.
  std::string subject_header = "x-client-cert-subject";
};

struct ListenerTls {
  bool enabled = false;  // true when `tls:` is present
  SourceMark mark;
  std::vector<TlsCertificate> certificates;  // the first is the default
  // A client whose server name (SNI) matches no certificate, or that sends none: answered
  // with the default certificate, or refused with an unrecognized_name alert.
  bool reject_unknown_server_name = false;
  TlsVersion min_version = TlsVersion::V1_2;
  TlsVersion max_version = TlsVersion::V1_3;
  // TLS 1.2 cipher list (OpenSSL syntax) and TLS 1.3 cipher suites.
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::string ciphersuites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  std::vector<std::string> alpn{"http/1.1"};  // in order of preference
  Duration handshake_timeout{10'000};
  bool session_tickets = true;
  Duration ticket_key_rotation{3'600'000};  // a key encrypts for this long, decrypts for twice
  uint32_t session_cache_size = 20'480;     // sessions kept by id (TLS 1.2); 0 = no cache
  Duration session_timeout{300'000};        // how long a session may be resumed
  ClientCertificates client_certificates;
};

// TLS to a pool's endpoints.
struct UpstreamTls {
  bool enabled = false;  // true when `tls:` is present
  SourceMark mark;
  // The name sent as SNI and verified in the certificate; empty: the endpoint's host name
  // (an IP literal is verified as an IP address and sent no SNI).
  std::string server_name;
  bool verify = true;
  std::string ca;    // PEM bundle; empty: the system's trust store
  std::string cert;  // optional client certificate (PEM chain) and its key
  std::string key;
  TlsVersion min_version = TlsVersion::V1_2;
  TlsVersion max_version = TlsVersion::V1_3;
  std::string ciphers;        // empty: OpenSSL's defaults
  bool session_reuse = true;  // resume the last session per endpoint and worker
};

struct Listener {
  std::string name;
  SourceMark mark;
  SocketAddress address;
  Limits limits;
  ListenerTls tls;
  std::vector<FilterSpec> filters;  // the default for routes without their own
  std::vector<Route> routes;
};

struct Endpoint {
  SocketAddress address;  // resolved when loading (names: the first address)
  std::string host;       // the name or IP literal as written, without the port
  uint16_t port = 0;
  uint32_t weight = 1;
  bool named = false;                   // a host name, re-resolved every dns_refresh
  std::vector<SocketAddress> resolved;  // names: every address found when loading
};

// What consistent-hash balancers hash (ring_hash, maglev).
struct HashKey {
  enum class Kind { None, Header, Cookie, ClientIp, Path };
  Kind kind = Kind::None;
  std::string name;  // header or cookie name
};

struct HealthCheck {
  bool enabled = false;  // true when `health_check:` is present
  enum class Type { Http, Tcp };
  Type type = Type::Http;
  std::string method = "GET";
  std::string path = "/";
  std::string host;  // Host header; empty: the endpoint's host:port
  std::vector<std::pair<int, int>> expected_statuses{{200, 399}};  // inclusive ranges
  Duration interval{5'000};
  double jitter = 0.1;  // each interval varies by up to ±jitter × interval
  Duration timeout{1'000};
  uint32_t healthy_threshold = 2;    // consecutive successes to mark an endpoint up
  uint32_t unhealthy_threshold = 3;  // consecutive failures to mark it down
};

// Passive health: ejection after consecutive failures seen on real traffic.
struct Outlier {
  bool enabled = false;  // true when `outlier:` is present
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failures = 5;  // connect failures, resets, timeouts, 502-504
  Duration base_ejection_time{30'000};        // × number of ejections so far
  Duration max_ejection_time{300'000};
  uint32_t max_ejection_percent = 10;  // of the pool's endpoints, at least one may be ejected
};

struct Retries {
  uint32_t attempts = 1;  // tries in all, the first included (1 = no retry)
  enum On : uint32_t {
    kConnectFailure = 1,
    kReset = 2,
    kTimeout = 4,
    k502 = 8,
    k503 = 16,
    k504 = 32,
  };
  uint32_t on = kConnectFailure | kReset;
  uint32_t budget_percent = 20;        // retries in flight at most this share of active requests
  uint32_t min_retry_concurrency = 3;  // ... but this many are always allowed
};

struct Upstream {
  std::string name;
  SourceMark mark;
  std::vector<Endpoint> endpoints;
  // round_robin, weighted_round_robin, least_request, p2c, random, ring_hash, maglev
  std::string balance = "round_robin";
  HashKey hash_key;  // required for ring_hash and maglev
  Duration connect_timeout{1'000};
  Duration response_timeout{
      15'000};                  // from the request sent to the response head, and between reads
  Duration per_try_timeout{0};  // one attempt's limit when retrying; 0 = response_timeout
  Duration total_timeout{0};  // the whole exchange, across retries, to the response's end; 0 = off
  Duration queue_timeout{1'000};  // a request's wait for a connection slot; default = connect
  uint32_t max_idle = 100'000;    // idle keep-alive connections per endpoint per worker
  Duration idle_timeout{60'000};  // how long an idle keep-alive connection is kept
  uint32_t max_connections = 0;   // per endpoint, across all workers; 0 = unlimited
  uint32_t max_pending = 1024;    // requests of the pool waiting for a connection; 0 = none
  uint32_t panic_threshold = 0;   // percent: below this share healthy, use every endpoint
  Duration dns_refresh{30'000};
  HealthCheck health_check;
  Outlier outlier;
  Retries retries;
  UpstreamTls tls;
};

// A feature flag (see docs/CONFIG.md, "flags"): on for a request when enabled and either
// allow-listed or inside the rollout share of its key's stable hash.
struct FlagAllow {
  std::vector<std::pair<std::string, std::string>> headers;  // name (lower case), exact value
  std::vector<std::pair<std::string, std::string>> cookies;  // name, exact value
  std::vector<std::string> clients;                          // CIDRs or addresses, as written
};

struct Flag {
  static constexpr uint32_t kFullBasisPoints = 10'000;  // 100%
  std::string name;
  SourceMark mark;
  bool enabled = true;
  uint32_t percent_bp = 0;  // rollout share in basis points (hundredths of a percent)
  HashKey key{HashKey::Kind::ClientIp, {}};
  FlagAllow allow;
};

struct Log {
  std::string level = "info";      // trace, debug, info, warn, error, critical, off
  std::string access_log = "off";  // "stdout", "stderr", "off" or a file path
};

// The admin API's HTTP listener, served by the main thread.
struct Admin {
  bool enabled = false;  // true when `admin:` is present
  SocketAddress address;
  std::string token;  // required `Authorization: Bearer` value; empty: none (loopback only)
  SourceMark mark;
};

// When the config is re-read besides SIGHUP and POST /-/reload.
struct Reload {
  bool watch = true;       // on a change of the file's content
  Duration debounce{250};  // quiet period after the last change before reading it
};

struct Config {
  std::string source;    // file the config was read from ("<string>" in tests)
  unsigned workers = 0;  // 0 = auto (one per CPU)
  Duration drain_timeout{10'000};
  Log log;
  Admin admin;
  Reload reload;
  std::vector<Listener> listeners;
  std::vector<Upstream> upstreams;
  static constexpr size_t kMaxFlags = 64;  // a request's decisions fit in 64-bit masks
  std::vector<Flag> flags;                 // in file order
  // The upstream request header listing the flags on; empty: not sent.
  static constexpr const char* kDefaultFlagsHeader = "x-portico-flags";
  std::string flags_header = kDefaultFlagsHeader;
};

}  // namespace portico::config
