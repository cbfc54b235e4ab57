// Plain configuration structs: what the YAML says, after parsing and validation.
// The loader (ConfigLoader.h) fills them; Runtime compiles them into the objects the
// workers use. Nothing here knows about libuv or sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  uint64_t max_body_bytes = 10ull * 1024 * 1024;  // 0 = unlimited
  Duration header_timeout{10'000};
  Duration idle_timeout{60'000};
};

// How a header or query parameter must look for a route to match.
struct ValueMatch {
  enum class Kind { Present, Absent, Exact, Regex };
  std::string name;  // header name (case-insensitive) or query parameter name (exact)
  Kind kind = Kind::Present;
  std::string value;  // the exact value or the regex (PCRE2 syntax), for Exact / Regex
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
};

struct Respond {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Route {
  std::string name;
  SourceMark mark;
  RouteMatch match;
  std::string upstream;                // set when the route proxies
  std::optional<Respond> respond;      // set when the route answers by itself
  std::optional<std::string> host_rewrite;  // Host header sent upstream instead of the client's
};

struct Listener {
  std::string name;
  SourceMark mark;
  SocketAddress address;
  Limits limits;
  std::vector<Route> routes;
};

struct Endpoint {
  SocketAddress address;
  uint32_t weight = 1;
};

struct Upstream {
  std::string name;
  SourceMark mark;
  std::vector<Endpoint> endpoints;
  std::string balance = "round_robin";
  Duration connect_timeout{1'000};
  Duration response_timeout{15'000};  // from the request sent to the response head, and between reads
  uint32_t max_idle = 64;             // idle keep-alive connections per endpoint per worker
  Duration idle_timeout{60'000};      // how long an idle keep-alive connection is kept
};

struct Log {
  std::string level = "info";       // trace, debug, info, warn, error, critical, off
  std::string access_log = "off";   // "stdout", "stderr", "off" or a file path
};

struct Config {
  std::string source;  // file the config was read from ("<string>" in tests)
  unsigned workers = 0;  // 0 = auto (one per CPU)
  Duration drain_timeout{10'000};
  Log log;
  std::vector<Listener> listeners;
  std::vector<Upstream> upstreams;
};

}  // namespace portico::config
