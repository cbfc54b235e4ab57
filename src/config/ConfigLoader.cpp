#include "config/ConfigLoader.h"

#include <arpa/inet.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "config/FlagsConfig.h"
#include "config/TlsConfig.h"
#include "config/ValueParsers.h"
#include "config/YamlDocuments.h"
#include "config/YamlReader.h"
#include "filters/FilterContext.h"
#include "filters/FilterRegistry.h"

namespace portico::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  if (warning) out += "warning: ";
  out += message;
  return out;
}

namespace {

constexpr int kMaxWorkers = 1024;
constexpr uint64_t kMinHeaderBytes = 1024;
constexpr uint64_t kMaxHeaderBytes = 1024 * 1024;
constexpr int64_t kMaxHeaderFields = 10000;
constexpr int64_t kMaxWeight = 1000;
constexpr int64_t kMaxIdleLimit = 100'000;
constexpr int64_t kMaxConnectionsLimit = 1'000'000;
constexpr int64_t kMaxPendingLimit = 1'000'000;
constexpr int64_t kMaxRetryAttempts = 10;
constexpr int64_t kMaxMinRetryConcurrency = 10'000;
constexpr int64_t kMaxHealthThreshold = 100;
constexpr int64_t kMaxOutlierCount = 1000;
constexpr uint32_t kMaxJitterPercent = 50;
constexpr size_t kMaxTokenFileBytes = 4096;  // far more than a token; less than a wrong file

constexpr std::array<std::string_view, 7> kBalancers{
    "round_robin", "weighted_round_robin", "least_request", "p2c", "random", "ring_hash", "maglev"};

// Balancers that pick an endpoint from a hash of the request, and so need a hash_key.
bool is_consistent_hash(std::string_view balance) {
  return balance == "ring_hash" || balance == "maglev";
}

struct RetryCondition {
  std::string_view name;
  uint32_t bit;
};

constexpr std::array<RetryCondition, 6> kRetryConditions{{
    {"connect_failure", Retries::kConnectFailure},
    {"reset", Retries::kReset},
    {"timeout", Retries::kTimeout},
    {"502", Retries::k502},
    {"503", Retries::k503},
    {"504", Retries::k504},
}};

// The shortest exact spelling, for messages that quote a limit the user may not have
// written ("must be shorter than the interval (5s)" when the default applies).
std::string format_duration(Duration d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1'000 == 0) return std::to_string(ms / 1'000) + "s";
  return std::to_string(ms) + "ms";
}

std::string to_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

struct Pcre2CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};

// Compiles the pattern only to find out whether PCRE2 accepts it; the router compiles its
// own copy. Returns PCRE2's complaint, if any.
std::optional<std::string> regex_error(const std::string& pattern) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  std::unique_ptr<pcre2_code, Pcre2CodeDeleter> compiled(pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &code, &offset, nullptr));
  if (compiled) return std::nullopt;
  std::array<PCRE2_UCHAR, 256> buffer{};
  pcre2_get_error_message(code, buffer.data(), buffer.size());
  return "invalid regular expression " + quoted(pattern) + ": " +
         reinterpret_cast<const char*>(buffer.data()) + " (at offset " + std::to_string(offset) +
         ")";
}

bool same_address(const SocketAddress& a, const SocketAddress& b) {
  return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: reachable only from this host.
bool is_loopback(const SocketAddress& a) {
  if (a.storage.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a.storage);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  if (a.storage.ss_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

// Whether binding both would clash: the same address, or the same port when one side is
// the wildcard of the same family (IPv6 sockets are IPv6-only, so families never clash).
bool binds_overlap(const SocketAddress& a, const SocketAddress& b) {
  if (a.storage.ss_family != b.storage.ss_family) return false;
  if (same_address(a, b)) return true;
  if (a.storage.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a.storage);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b.storage);
    return x.sin_port == y.sin_port &&
           (x.sin_addr.s_addr == htonl(INADDR_ANY) || y.sin_addr.s_addr == htonl(INADDR_ANY));
  }
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a.storage);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b.storage);
  return x.sin6_port == y.sin6_port &&
         (IN6_IS_ADDR_UNSPECIFIED(&x.sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&y.sin6_addr));
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads a whole file into `out`; returns the reason it could not ("" on success).
std::string read_file(const std::string& path, size_t max_bytes, std::string& out) {
  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return std::strerror(errno);
  out.clear();
  std::array<char, 8192> buffer{};
  while (true) {
    size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    out.append(buffer.data(), n);
    if (out.size() > max_bytes) return "larger than " + std::to_string(max_bytes) + " bytes";
    if (n < buffer.size()) break;
  }
  // fopen succeeds on a directory; the read is what fails (EISDIR).
  if (std::ferror(file.get())) return std::strerror(errno != 0 ? errno : EIO);
  return {};
}

// One pass over one document. Collects every error instead of stopping, so the parse
// functions keep going with defaults after a bad value.
// A node as text that depends only on what it says: scalars quoted, mappings with their
// keys sorted, no comments or layout. Two filters' settings are the same when this is.
void append_canonical(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      out += '"';
      for (char c : node.Scalar()) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const YAML::Node& item : node) {
        if (!first) out += ',';
        first = false;
        append_canonical(item, out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      // As text: assigning yaml-cpp nodes (as sorting would) writes into the document.
      std::vector<std::pair<std::string, std::string>> members;
      for (auto it = node.begin(); it != node.end(); ++it) {
        std::string key, value;
        append_canonical(it->first, key);
        append_canonical(it->second, value);
        members.emplace_back(std::move(key), std::move(value));
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        out += members[i].first;
        out += ':';
        out += members[i].second;
      }
      out += '}';
      return;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return;
  }
}

class Loader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  void load(const YAML::Node& root, Config& config) {
    config.source = file();
    Item item{root, pos_of(root, {1, 1}), ""};
    std::optional<Fields> fields;
    if (root.IsNull()) {
      // An empty file is a mapping with nothing in it: the error is then the missing keys.
      fields = Fields{item, {}};
    } else {
      fields = read_fields(item, {"workers", "drain_timeout", "log", "admin", "reload", "flags",
                                  "flags_header", "listeners", "upstreams"});
    }
    if (!fields) return;

    if (const Entry* e = fields->find("workers")) parse_workers(e->value, config.workers);
    if (const Entry* e = fields->find("drain_timeout")) {
      if (auto d = read_duration(e->value, true)) config.drain_timeout = *d;
    }
    if (const Entry* e = fields->find("log")) parse_log(e->value, config.log);
    if (const Entry* e = fields->find("reload")) parse_reload(e->value, config.reload);
    // Before the listeners: routes may match on flags.
    if (const Entry* e = fields->find("flags")) read_flags(*this, e->value, config.flags);
    if (const Entry* e = fields->find("flags_header"))
      read_flags_header(*this, e->value, config.flags_header);
    flags_ = &config.flags;

    std::vector<UpstreamRef> refs;
    if (const Entry* e = require(*fields, "listeners")) parse_listeners(e->value, config, refs);

    // After the listeners: the admin address must not collide with theirs.
    if (const Entry* e = fields->find("admin")) parse_admin(e->value, config);

    std::set<std::string> defined;
    if (const Entry* e = fields->find("upstreams")) parse_upstreams(e->value, config, defined);

    refs.insert(refs.end(), upstream_refs().begin(), upstream_refs().end());
    for (const UpstreamRef& ref : refs) {
      if (defined.count(ref.name)) continue;
      std::string hint =
          defined.empty()
              ? "no upstreams are defined"
              : "defined: " + join(std::vector<std::string>(defined.begin(), defined.end()));
      error(ref.pos, ref.path, "undefined upstream " + quoted(ref.name) + " (" + hint + ")");
    }
  }

 private:
  const std::vector<Flag>* flags_ = nullptr;  // the config's, for routes' flag conditions

  std::optional<std::string> read_regex(const Item& item) {
    auto pattern = read_string(item);
    if (!pattern) return std::nullopt;
    if (auto why = regex_error(*pattern)) {
      error(item.pos, item.path, *why);
      return std::nullopt;
    }
    return pattern;
  }

  // ---- the schema ----

  void parse_workers(const Item& item, unsigned& workers) {
    if (item.node.IsScalar() && item.node.Scalar() == "auto") {
      workers = 0;
      return;
    }
    const std::string expected = "'auto' or an integer from 1 to " + std::to_string(kMaxWorkers);
    if (!item.node.IsScalar()) {
      type_error(item, expected);
      return;
    }
    const std::string& text = item.node.Scalar();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || end != text.data() + text.size() ||
        (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
      type_error(item, expected);
      return;
    }
    if (ec != std::errc{} || value < 1 || value > kMaxWorkers) {
      error(item.pos, item.path, "must be " + expected + ", got " + text);
      return;
    }
    workers = static_cast<unsigned>(value);
  }

  void parse_log(const Item& item, Log& log) {
    auto fields = read_fields(item, {"level", "access_log"});
    if (!fields) return;
    if (const Entry* e = fields->find("level")) {
      const std::initializer_list<std::string_view> kLevels = {"trace", "debug",    "info", "warn",
                                                               "error", "critical", "off"};
      if (auto level = read_string(e->value)) {
        if (std::find(kLevels.begin(), kLevels.end(), *level) == kLevels.end()) {
          error(
              e->value.pos, e->value.path,
              "unknown log level " + quoted(*level) + " (expected one of: " + join(kLevels) + ")");
        } else {
          log.level = *level;
        }
      }
    }
    if (const Entry* e = fields->find("access_log")) {
      if (auto target = read_nonempty_string(e->value)) log.access_log = *target;
    }
  }

  void parse_reload(const Item& item, Reload& reload) {
    auto fields = read_fields(item, {"watch", "debounce"});
    if (!fields) return;
    if (const Entry* e = fields->find("watch")) {
      if (auto b = read_bool(e->value)) reload.watch = *b;
    }
    if (const Entry* e = fields->find("debounce")) {
      if (auto d = read_duration(e->value, false)) reload.debounce = *d;
    }
  }

  void parse_admin(const Item& item, Config& config) {
    Admin& admin = config.admin;
    admin.enabled = true;
    admin.mark = {item.pos.line, item.pos.column};
    auto fields = read_fields(item, {"address", "token", "token_file"});
    if (!fields) return;

    const Entry* address = require(*fields, "address");
    bool address_ok = false;
    if (address) {
      if (auto text = read_string(address->value)) {
        auto parsed = parse_socket_address(*text, false);
        if (!parsed) {
          error(address->value.pos, address->value.path, parsed.error);
        } else {
          admin.address = std::move(*parsed);
          address_ok = check_admin_address(address->value, admin.address, config.listeners);
        }
      }
    }

    const Entry* secret = exclusive(*fields, {"token", "token_file"});
    if (secret && secret->key == "token") {
      auto token = read_nonempty_string(secret->value);
      if (token && check_token(secret->value, *token, "the token")) admin.token = *token;
    } else if (secret) {
      if (auto path = read_nonempty_string(secret->value)) {
        if (auto token = read_token_file(secret->value, *path)) admin.token = *token;
      }
    }
    // Anyone who can reach the port could reload or inspect the proxy. A token that is
    // given but broken has its own error already; this one would only repeat it.
    if (address_ok && !secret && !is_loopback(admin.address)) {
      error(address->value.pos, address->value.path,
            "admin API bound to a non-loopback address requires a token (set 'token' or "
            "'token_file', or bind to 127.0.0.1 or [::1])");
    }
  }

  // An admin port that a listener already binds would fail at start (or, with a wildcard
  // address on one side, take part of the other's traffic), so it is refused here.
  bool check_admin_address(const Item& item, const SocketAddress& address,
                           const std::vector<Listener>& listeners) {
    for (const Listener& l : listeners) {
      if (l.address.length == 0 || !binds_overlap(address, l.address)) continue;
      error(item.pos, item.path,
            same_address(address, l.address)
                ? "address " + quoted(address.text) + " is already used by the listener at line " +
                      std::to_string(l.mark.line)
                : "address " + quoted(address.text) + " overlaps the address " +
                      quoted(l.address.text) + " of the listener at line " +
                      std::to_string(l.mark.line) + " (same port, and one is a wildcard)");
      return false;
    }
    return true;
  }

  // The token travels in a header, so it must be header-safe. Messages never quote it.
  bool check_token(const Item& item, std::string_view token, std::string_view what) {
    auto bad = std::find_if(token.begin(), token.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u <= 0x20 || u >= 0x7f;
    });
    if (bad == token.end()) return true;
    error(item.pos, item.path,
          std::string(what) +
              " must be printable ASCII without spaces (it is sent in an Authorization header)");
    return false;
  }

  // Read now, at load, so that a missing secret stops the config like any other error;
  // a relative path is taken from the config file's directory.
  std::optional<std::string> read_token_file(const Item& item, const std::string& path) {
    std::string full = path;
    if (path.front() != '/') {
      const size_t slash = file().rfind('/');
      if (slash != std::string::npos) full = file().substr(0, slash + 1) + path;
    }
    std::string text;
    if (std::string why = read_file(full, kMaxTokenFileBytes, text); !why.empty()) {
      error(item.pos, item.path, "cannot read token file " + quoted(full) + ": " + why);
      return std::nullopt;
    }
    // Files written by `echo` or an editor end with a newline that is not part of it.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) {
      error(item.pos, item.path, "token file " + quoted(full) + " is empty");
      return std::nullopt;
    }
    if (!check_token(item, text, "the token in " + quoted(full))) return std::nullopt;
    return text;
  }

  void parse_listeners(const Item& item, Config& config, std::vector<UpstreamRef>& refs) {
    auto list = read_list(item);
    if (!list) return;
    std::map<std::string, Pos> names;
    std::vector<std::pair<SocketAddress, Pos>> addresses;
    for (const Item& element : *list) {
      Listener listener;
      listener.mark = {element.pos.line, element.pos.column};
      auto fields = read_fields(element, {"name", "address", "limits", "filters", "routes", "tls"});
      if (!fields) continue;

      if (const Entry* e = require(*fields, "name")) {
        if (auto name = read_name(e->value)) {
          if (auto [first, inserted] = names.emplace(*name, e->value.pos); !inserted) {
            error(e->value.pos, e->value.path,
                  "duplicate listener name " + quoted(*name) + " (first used at line " +
                      std::to_string(first->second.line) + ")");
          }
          listener.name = *name;
        }
      }
      if (const Entry* e = require(*fields, "address")) {
        if (auto text = read_string(e->value)) {
          auto address = parse_socket_address(*text, false);
          if (!address) {
            error(e->value.pos, e->value.path, address.error);
          } else {
            auto clash = std::find_if(addresses.begin(), addresses.end(), [&](const auto& a) {
              return same_address(a.first, *address);
            });
            if (clash != addresses.end()) {
              error(e->value.pos, e->value.path,
                    "address " + quoted(*text) + " is already used by the listener at line " +
                        std::to_string(clash->second.line));
            } else {
              addresses.emplace_back(*address, element.pos);
            }
            listener.address = std::move(*address);
          }
        }
      }
      if (const Entry* e = fields->find("limits")) parse_limits(e->value, listener.limits);
      if (const Entry* e = fields->find("tls"))
        read_listener_tls(*this, e->value, config.flags_header, listener.tls);
      if (const Entry* e = fields->find("filters")) parse_filters(e->value, listener.filters);
      if (const Entry* e = require(*fields, "routes")) parse_routes(e->value, listener, refs);
      config.listeners.push_back(std::move(listener));
    }
  }

  // A list of one-key mappings, `- NAME: {config}`, each handed to its filter's parser.
  void parse_filters(const Item& item, std::vector<FilterSpec>& specs) {
    auto list = read_list(item, true);
    if (!list) return;
    if (list->size() > filters::FilterContext::kMaxFilters) {
      error(item.pos, item.path,
            "at most " + std::to_string(filters::FilterContext::kMaxFilters) +
                " filters per route, got " + std::to_string(list->size()));
      return;
    }
    for (const Item& element : *list) {
      auto entries = read_map(element);
      if (!entries) continue;
      if (entries->size() != 1) {
        error(element.pos, element.path,
              "each filter is a mapping with one key, its name (e.g. '- rate_limit: {...}'), got " +
                  std::to_string(entries->size()) + " keys");
        continue;
      }
      const Entry& e = entries->front();
      const filters::FilterType* type = filters::find_filter_type(e.key);
      if (!type) {
        std::vector<std::string> names;
        for (const filters::FilterType& t : filters::filter_types()) names.emplace_back(t.name);
        error(e.key_pos, e.value.path,
              "unknown filter " + quoted(e.key) + " (expected one of: " + join(names) + ")");
        continue;
      }
      // A canary picks the pool, which the filters after it act on (a breaker guards the
      // pool a request goes to): it comes before them, and one decides.
      if (e.key == "canary") {
        for (const FilterSpec& before : specs) {
          if (before.name == "canary")
            error(e.key_pos, e.value.path,
                  "one canary per route (a second would overrule the first)");
          else if (before.name == "circuit_breaker")
            error(e.key_pos, e.value.path,
                  "'canary' must come before 'circuit_breaker': the breaker guards the pool the "
                  "canary picks");
        }
      }
      // A hit is answered once every filter has let the request through: nothing after it.
      if (std::any_of(specs.begin(), specs.end(),
                      [](const FilterSpec& before) { return before.name == "cache"; }))
        error(e.key_pos, e.value.path,
              "'cache' must be the last filter of a route (a hit answers once every other "
              "filter has let the request through)");
      auto config = type->parse(*this, e.value);
      if (!config) continue;
      std::string identity = e.key + " ";
      append_canonical(e.value.node, identity);
      specs.push_back(
          {e.key, {e.key_pos.line, e.key_pos.column}, std::move(identity), std::move(config)});
    }
  }

  void parse_limits(const Item& item, Limits& limits) {
    auto fields = read_fields(item, {"max_header_bytes", "max_headers", "max_body_bytes",
                                     "header_timeout", "idle_timeout", "max_connections"});
    if (!fields) return;
    if (const Entry* e = fields->find("max_header_bytes")) {
      if (auto size = read_size(e->value)) {
        if (*size < kMinHeaderBytes || *size > kMaxHeaderBytes) {
          error(e->value.pos, e->value.path,
                "must be between 1KiB and 1MiB, got " + std::to_string(*size) + " bytes");
        } else {
          limits.max_header_bytes = *size;
        }
      }
    }
    if (const Entry* e = fields->find("max_headers")) {
      if (auto n = read_u32(e->value, 1, kMaxHeaderFields)) limits.max_headers = *n;
    }
    if (const Entry* e = fields->find("max_body_bytes")) {
      if (auto size = read_size(e->value)) limits.max_body_bytes = *size;
    }
    if (const Entry* e = fields->find("header_timeout")) {
      if (auto d = read_duration(e->value, false)) limits.header_timeout = *d;
    }
    if (const Entry* e = fields->find("idle_timeout")) {
      if (auto d = read_duration(e->value, false)) limits.idle_timeout = *d;
    }
    if (const Entry* e = fields->find("max_connections")) {
      if (auto n = read_u32(e->value, 0, kMaxConnectionsLimit)) limits.max_connections = *n;
    }
  }

  void parse_routes(const Item& item, Listener& listener, std::vector<UpstreamRef>& refs) {
    auto list = read_list(item);
    if (!list) return;
    std::map<std::string, Pos> names;
    for (const Item& element : *list) {
      Route route;
      route.mark = {element.pos.line, element.pos.column};
      auto fields =
          read_fields(element, {"name", "match", "filters", "upstream", "respond", "host_rewrite"});
      if (!fields) continue;

      if (const Entry* e = require(*fields, "name")) {
        if (auto name = read_name(e->value)) {
          if (auto [first, inserted] = names.emplace(*name, e->value.pos); !inserted) {
            error(e->value.pos, e->value.path,
                  "duplicate route name " + quoted(*name) +
                      " in this listener (first used at line " +
                      std::to_string(first->second.line) + ")");
          }
          route.name = *name;
        }
      }
      if (const Entry* e = fields->find("match")) parse_match(e->value, route.match);
      if (const Entry* e = fields->find("filters"))
        parse_filters(e->value, route.filters.emplace());

      const Entry* target = exclusive(*fields, {"upstream", "respond"});
      if (!target) {
        error(element.pos, element.path, "a route needs either 'upstream' or 'respond'");
      } else if (target->key == "upstream") {
        if (auto name = read_nonempty_string(target->value)) {
          route.upstream = *name;
          refs.push_back({*name, target->value.pos, target->value.path});
        }
      } else {
        route.respond.emplace();
        read_respond(*this, target->value, *route.respond);
      }

      if (const Entry* e = fields->find("host_rewrite")) {
        if (target && target->key == "respond") {
          error(e->key_pos, e->value.path,
                "'host_rewrite' applies only to routes with 'upstream', not 'respond'");
        } else if (auto host = read_nonempty_string(e->value)) {
          if (has_control_chars(*host) || host->find_first_of(" \t") != std::string::npos) {
            error(e->value.pos, e->value.path,
                  "must be a host name, without spaces or control characters");
          } else {
            route.host_rewrite = *host;
          }
        }
      }
      listener.routes.push_back(std::move(route));
    }
  }

  void parse_match(const Item& item, RouteMatch& match) {
    auto fields = read_fields(item, {"host", "path", "path_prefix", "path_regex", "methods",
                                     "headers", "query", "flags"});
    if (!fields) return;

    if (const Entry* e = fields->find("host")) {
      if (auto hosts = read_one_or_list(e->value)) {
        for (const Item& h : *hosts) {
          if (auto host = read_host(h)) match.hosts.push_back(std::move(*host));
        }
      }
    }

    if (const Entry* e = exclusive(*fields, {"path", "path_prefix", "path_regex"})) {
      if (e->key == "path_regex") {
        if (auto re = read_regex(e->value)) {
          match.path_kind = RouteMatch::PathKind::Regex;
          match.path = *re;
        }
      } else if (auto path = read_string(e->value)) {
        if (path->empty() || path->front() != '/') {
          error(e->value.pos, e->value.path, "must start with '/', got " + quoted(*path));
        } else {
          match.path_kind =
              e->key == "path" ? RouteMatch::PathKind::Exact : RouteMatch::PathKind::Prefix;
          match.path = *path;
        }
      }
    }

    if (const Entry* e = fields->find("methods")) {
      if (auto methods = read_one_or_list(e->value)) {
        for (const Item& m : *methods) {
          auto method = read_string(m);
          if (!method) continue;
          if (!is_token(*method)) {
            error(m.pos, m.path, "invalid HTTP method " + quoted(*method));
            continue;
          }
          match.methods.push_back(to_upper(*method));
        }
      }
    }

    if (const Entry* e = fields->find("headers"))
      parse_value_matches(e->value, true, match.headers);
    if (const Entry* e = fields->find("query")) parse_value_matches(e->value, false, match.query);
    if (const Entry* e = fields->find("flags"))
      read_flag_conditions(*this, e->value, *flags_, match.flags);
  }

  // Hosts are matched case-insensitively, so they are stored lower-cased; the router can
  // then compare without folding both sides.
  std::optional<std::string> read_host(const Item& item) {
    auto text = read_nonempty_string(item);
    if (!text) return std::nullopt;
    std::string host = to_lower(*text);
    auto bad = [&](const std::string& why) {
      error(item.pos, item.path, "invalid host " + quoted(*text) + ": " + why);
      return std::nullopt;
    };
    if (host.front() == '[') {
      // IPv6 literal as it appears in a Host header.
      if (host.back() != ']') return bad("missing ']'");
      for (size_t i = 1; i + 1 < host.size(); ++i) {
        char c = host[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) {
          return bad("not an IPv6 address");
        }
      }
      return host;
    }
    std::string_view rest = host;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    if (rest.empty()) return bad("a wildcard needs a suffix, e.g. '*.example.com'");
    for (char c : rest) {
      if (c == '*') return bad("'*' is allowed only as a leading '*.'");
      if (c == ':') return bad("hosts are matched without the port; remove ':PORT'");
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) {
        return bad("only letters, digits, '-', '_' and '.' are allowed");
      }
    }
    return host;
  }

  void parse_value_matches(const Item& item, bool is_header, std::vector<ValueMatch>& out) {
    auto list = read_list(item);
    if (!list) return;
    for (const Item& element : *list) {
      auto fields = read_fields(element, {"name", "exact", "regex", "present"});
      if (!fields) continue;
      ValueMatch vm;
      bool ok = true;
      if (const Entry* e = require(*fields, "name")) {
        auto name = read_nonempty_string(e->value);
        if (name && is_header && !is_token(*name)) {
          error(e->value.pos, e->value.path, "invalid header name " + quoted(*name));
          name.reset();
        }
        if (name) {
          vm.name = *name;
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      const Entry* how = exclusive(*fields, {"exact", "regex", "present"});
      if (!how) {
        error(element.pos, element.path, "needs one of 'exact', 'regex' or 'present'");
        ok = false;
      } else if (how->key == "exact") {
        auto value = read_string(how->value);
        vm.kind = ValueMatch::Kind::Exact;
        if (value) vm.value = *value;
        ok = ok && value.has_value();
      } else if (how->key == "regex") {
        auto re = read_regex(how->value);
        vm.kind = ValueMatch::Kind::Regex;
        if (re) vm.value = *re;
        ok = ok && re.has_value();
      } else {
        auto present = read_bool(how->value);
        if (present) vm.kind = *present ? ValueMatch::Kind::Present : ValueMatch::Kind::Absent;
        ok = ok && present.has_value();
      }
      if (ok) out.push_back(std::move(vm));
    }
  }

  void parse_upstreams(const Item& item, Config& config, std::set<std::string>& defined) {
    auto list = read_list(item, true);
    if (!list) return;
    std::map<std::string, Pos> names;
    for (const Item& element : *list) {
      Upstream upstream;
      upstream.mark = {element.pos.line, element.pos.column};
      auto fields = read_fields(
          element, {"name", "balance", "hash_key", "endpoints", "timeouts", "keepalive", "limits",
                    "panic_threshold", "dns_refresh", "health_check", "outlier", "retries", "tls"});
      if (!fields) continue;

      if (const Entry* e = require(*fields, "name")) {
        if (auto name = read_name(e->value)) {
          if (auto [first, inserted] = names.emplace(*name, e->value.pos); !inserted) {
            error(e->value.pos, e->value.path,
                  "duplicate upstream name " + quoted(*name) + " (first used at line " +
                      std::to_string(first->second.line) + ")");
          }
          // Defined even if the rest of it is broken, so routes naming it do not add a
          // second, misleading "undefined upstream" error.
          defined.insert(*name);
          upstream.name = *name;
        }
      }
      parse_balance(*fields, upstream);
      if (const Entry* e = require(*fields, "endpoints")) parse_endpoints(e->value, upstream);
      if (const Entry* e = fields->find("timeouts")) parse_upstream_timeouts(e->value, upstream);
      if (const Entry* e = fields->find("keepalive")) {
        if (auto k = read_fields(e->value, {"max_idle", "idle_timeout"})) {
          if (const Entry* m = k->find("max_idle")) {
            if (auto n = read_u32(m->value, 0, kMaxIdleLimit)) upstream.max_idle = *n;
          }
          if (const Entry* i = k->find("idle_timeout")) {
            if (auto d = read_duration(i->value, false)) upstream.idle_timeout = *d;
          }
        }
      }
      if (const Entry* e = fields->find("limits")) {
        if (auto l = read_fields(e->value, {"max_connections", "max_pending"})) {
          if (const Entry* m = l->find("max_connections")) {
            if (auto n = read_u32(m->value, 0, kMaxConnectionsLimit)) upstream.max_connections = *n;
          }
          if (const Entry* m = l->find("max_pending")) {
            if (auto n = read_u32(m->value, 0, kMaxPendingLimit)) upstream.max_pending = *n;
          }
        }
      }
      if (const Entry* e = fields->find("panic_threshold")) {
        if (auto p = read_percent(e->value, 0, 100)) upstream.panic_threshold = *p;
      }
      if (const Entry* e = fields->find("dns_refresh")) {
        if (auto d = read_duration(e->value, false)) upstream.dns_refresh = *d;
      }
      if (const Entry* e = fields->find("health_check")) {
        // Present, even as `{}`, means wanted: the defaults are a complete check.
        upstream.health_check.enabled = true;
        parse_health_check(e->value, upstream.health_check);
      }
      if (const Entry* e = fields->find("outlier")) {
        upstream.outlier.enabled = true;
        parse_outlier(e->value, upstream.outlier);
      }
      if (const Entry* e = fields->find("retries")) parse_retries(e->value, upstream.retries);
      if (const Entry* e = fields->find("tls")) read_upstream_tls(*this, e->value, upstream.tls);
      config.upstreams.push_back(std::move(upstream));
    }
  }

  // `balance` and `hash_key` together: a hash key is needed by the consistent-hash
  // balancers and meaningless to the others, where accepting it would let a user believe
  // requests are sticky when they are not.
  void parse_balance(const Fields& fields, Upstream& upstream) {
    bool balance_known = true;
    if (const Entry* e = fields.find("balance")) {
      balance_known = false;
      if (auto balance = read_string(e->value)) {
        if (std::find(kBalancers.begin(), kBalancers.end(), *balance) == kBalancers.end()) {
          error(e->value.pos, e->value.path,
                "unknown balance " + quoted(*balance) + " (expected one of: " + join(kBalancers) +
                    ")");
        } else {
          upstream.balance = *balance;
          balance_known = true;
        }
      }
    }
    const Entry* key = fields.find("hash_key");
    // With a broken `balance` either answer about hash_key could be wrong; that error is
    // enough.
    if (balance_known) {
      const bool needs_key = is_consistent_hash(upstream.balance);
      if (needs_key && !key) {
        error(fields.self.pos, child_path(fields.self.path, "hash_key"),
              "missing required key 'hash_key' (balance " + quoted(upstream.balance) +
                  " needs one: header:NAME, cookie:NAME, client_ip or path)");
        return;
      }
      if (!needs_key && key) {
        error(key->key_pos, key->value.path,
              "'hash_key' applies only to balance ring_hash or maglev, not " +
                  quoted(upstream.balance));
        return;
      }
    }
    if (key) {
      if (auto hash_key = read_request_key(key->value, "hash_key"))
        upstream.hash_key = std::move(*hash_key);
    }
  }

  void parse_upstream_timeouts(const Item& item, Upstream& upstream) {
    auto t = read_fields(item, {"connect", "response", "per_try", "total", "queue"});
    if (!t) return;
    if (const Entry* c = t->find("connect")) {
      if (auto d = read_duration(c->value, false)) upstream.connect_timeout = *d;
    }
    // As HAProxy's `timeout queue`: a request may wait for a connection as long as it
    // would wait for one to open.
    upstream.queue_timeout = upstream.connect_timeout;
    if (const Entry* q = t->find("queue")) {
      if (auto d = read_duration(q->value, false)) upstream.queue_timeout = *d;
    }
    if (const Entry* w = t->find("total")) {
      if (auto d = read_duration(w->value, true)) upstream.total_timeout = *d;
    }
    bool response_ok = true;
    if (const Entry* r = t->find("response")) {
      auto d = read_duration(r->value, false);
      if (d) upstream.response_timeout = *d;
      response_ok = d.has_value();
    }
    if (const Entry* p = t->find("per_try")) {
      // 0 is allowed and means "the response timeout": a try may then use all of it.
      if (auto d = read_duration(p->value, true)) {
        if (response_ok && *d > upstream.response_timeout) {
          error(p->value.pos, p->value.path,
                "must not be longer than the response timeout (" +
                    format_duration(upstream.response_timeout) + "), got " +
                    p->value.node.Scalar());
        } else {
          upstream.per_try_timeout = *d;
        }
      }
    }
  }

  void parse_health_check(const Item& item, HealthCheck& hc) {
    auto fields = read_fields(item, {"type", "method", "path", "host", "expect", "interval",
                                     "jitter", "timeout", "healthy", "unhealthy"});
    if (!fields) return;
    if (const Entry* e = fields->find("type")) {
      if (auto type = read_string(e->value)) {
        if (*type == "http") {
          hc.type = HealthCheck::Type::Http;
        } else if (*type == "tcp") {
          hc.type = HealthCheck::Type::Tcp;
        } else {
          error(e->value.pos, e->value.path,
                "unknown health check type " + quoted(*type) + " (expected http or tcp)");
        }
      }
    }
    // A tcp check only connects; an HTTP detail given with it would never be used, which
    // most likely means the type is not what the user meant.
    for (std::string_view key : {"method", "path", "host", "expect"}) {
      const Entry* e = fields->find(key);
      if (!e || hc.type == HealthCheck::Type::Http) continue;
      error(e->key_pos, e->value.path,
            quoted(key) + " applies only to http health checks (this one is type tcp)");
    }
    if (hc.type == HealthCheck::Type::Http) parse_http_check(*fields, hc);

    bool interval_ok = true;
    const Entry* interval = fields->find("interval");
    if (interval) {
      auto d = read_duration(interval->value, false);
      if (d) hc.interval = *d;
      interval_ok = d.has_value();
    }
    bool timeout_ok = true;
    const Entry* timeout = fields->find("timeout");
    if (timeout) {
      auto d = read_duration(timeout->value, false);
      if (d) hc.timeout = *d;
      timeout_ok = d.has_value();
    }
    // Probes do not overlap: one still waiting when the next is due would be counted
    // twice or skipped. Reported on the key the user wrote (the other may be a default).
    if (interval_ok && timeout_ok && hc.timeout >= hc.interval) {
      if (timeout) {
        error(timeout->value.pos, timeout->value.path,
              "must be shorter than the interval (" + format_duration(hc.interval) + "), got " +
                  timeout->value.node.Scalar());
      } else if (interval) {
        error(interval->value.pos, interval->value.path,
              "must be longer than the timeout (" + format_duration(hc.timeout) +
                  " by default; set a shorter timeout), got " + interval->value.node.Scalar());
      }
    }
    if (const Entry* e = fields->find("jitter")) {
      if (auto p = read_percent(e->value, 0, kMaxJitterPercent)) hc.jitter = *p / 100.0;
    }
    if (const Entry* e = fields->find("healthy")) {
      if (auto n = read_u32(e->value, 1, kMaxHealthThreshold)) hc.healthy_threshold = *n;
    }
    if (const Entry* e = fields->find("unhealthy")) {
      if (auto n = read_u32(e->value, 1, kMaxHealthThreshold)) hc.unhealthy_threshold = *n;
    }
  }

  void parse_http_check(const Fields& fields, HealthCheck& hc) {
    if (const Entry* e = fields.find("method")) {
      if (auto method = read_string(e->value)) {
        if (!is_token(*method)) {
          error(e->value.pos, e->value.path, "invalid HTTP method " + quoted(*method));
        } else {
          hc.method = to_upper(*method);  // as for route methods: `get` means GET
        }
      }
    }
    if (const Entry* e = fields.find("path")) {
      if (auto path = read_string(e->value)) {
        // It is written into the request line as is.
        if (path->empty() || path->front() != '/') {
          error(e->value.pos, e->value.path, "must start with '/', got " + quoted(*path));
        } else if (has_control_chars(*path) || path->find_first_of(" \t") != std::string::npos) {
          error(e->value.pos, e->value.path, "must not contain spaces or control characters");
        } else {
          hc.path = *path;
        }
      }
    }
    if (const Entry* e = fields.find("host")) {
      if (auto host = read_nonempty_string(e->value)) {
        if (has_control_chars(*host) || host->find_first_of(" \t") != std::string::npos) {
          error(e->value.pos, e->value.path,
                "must be a host name, without spaces or control characters");
        } else {
          hc.host = *host;
        }
      }
    }
    if (const Entry* e = fields.find("expect")) {
      std::optional<std::vector<Item>> items;
      if (e->value.node.IsScalar()) {
        items = std::vector<Item>{e->value};  // `expect: 200` for a one-item list
      } else if (e->value.node.IsSequence()) {
        items = read_list(e->value);
      } else {
        type_error(e->value, "a status, a range such as 200-299, or a list of them");
      }
      if (items) {
        std::vector<std::pair<int, int>> ranges;
        for (const Item& i : *items) {
          if (auto range = read_status_range(i)) ranges.push_back(*range);
        }
        if (ranges.size() == items->size()) hc.expected_statuses = std::move(ranges);
      }
    }
  }

  // "200" or "200-299" (YAML gives `200` as the text "200").
  std::optional<std::pair<int, int>> read_status_range(const Item& item) {
    const std::string expected = "a status such as 200 or a range such as 200-299";
    if (!item.node.IsScalar()) {
      type_error(item, expected);
      return std::nullopt;
    }
    const std::string& text = item.node.Scalar();
    auto number = [](std::string_view s) -> std::optional<int> {
      int value = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
      if (s.empty() || s.size() > 3 || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
      }
      return value;
    };
    const size_t dash = text.find('-');
    auto low = number(std::string_view(text).substr(0, dash));
    auto high = dash == std::string::npos ? low : number(std::string_view(text).substr(dash + 1));
    if (!low || !high) {
      type_error(item, expected);
      return std::nullopt;
    }
    for (int status : {*low, *high}) {
      if (status < 100 || status > 599) {
        error(item.pos, item.path,
              "status codes are from 100 to 599, got " + std::to_string(status));
        return std::nullopt;
      }
    }
    if (*low > *high) {
      error(item.pos, item.path,
            "range " + quoted(text) + " is backwards (write the lower status first)");
      return std::nullopt;
    }
    return std::pair{*low, *high};
  }

  void parse_outlier(const Item& item, Outlier& outlier) {
    auto fields =
        read_fields(item, {"consecutive_5xx", "consecutive_gateway_failures", "base_ejection_time",
                           "max_ejection_time", "max_ejection_percent"});
    if (!fields) return;
    if (const Entry* e = fields->find("consecutive_5xx")) {
      if (auto n = read_u32(e->value, 0, kMaxOutlierCount)) outlier.consecutive_5xx = *n;
    }
    if (const Entry* e = fields->find("consecutive_gateway_failures")) {
      if (auto n = read_u32(e->value, 0, kMaxOutlierCount)) {
        outlier.consecutive_gateway_failures = *n;
      }
    }
    bool base_ok = true;
    const Entry* base = fields->find("base_ejection_time");
    if (base) {
      auto d = read_duration(base->value, false);
      if (d) outlier.base_ejection_time = *d;
      base_ok = d.has_value();
    }
    bool max_ok = true;
    const Entry* max = fields->find("max_ejection_time");
    if (max) {
      auto d = read_duration(max->value, false);
      if (d) outlier.max_ejection_time = *d;
      max_ok = d.has_value();
    }
    // Reported on a key the user wrote, as the other may be a default.
    if (base_ok && max_ok && outlier.base_ejection_time > outlier.max_ejection_time) {
      if (base) {
        error(base->value.pos, base->value.path,
              "must not be longer than max_ejection_time (" +
                  format_duration(outlier.max_ejection_time) + "), got " +
                  base->value.node.Scalar());
      } else {
        error(max->value.pos, max->value.path,
              "must not be shorter than base_ejection_time (" +
                  format_duration(outlier.base_ejection_time) + "), got " +
                  max->value.node.Scalar());
      }
    }
    if (const Entry* e = fields->find("max_ejection_percent")) {
      if (auto p = read_percent(e->value, 0, 100)) outlier.max_ejection_percent = *p;
    }
  }

  void parse_retries(const Item& item, Retries& retries) {
    auto fields = read_fields(item, {"attempts", "on", "budget", "min_retry_concurrency"});
    if (!fields) return;
    if (const Entry* e = fields->find("attempts")) {
      if (auto n = read_u32(e->value, 1, kMaxRetryAttempts)) retries.attempts = *n;
    }
    if (const Entry* e = fields->find("on")) {
      if (auto items = read_list(e->value)) {
        uint32_t on = 0;
        bool ok = true;
        for (const Item& i : *items) {
          auto text = read_string(i);
          if (!text) {
            ok = false;
            continue;
          }
          auto found = std::find_if(kRetryConditions.begin(), kRetryConditions.end(),
                                    [&](const RetryCondition& c) { return c.name == *text; });
          if (found == kRetryConditions.end()) {
            std::vector<std::string> names;
            for (const RetryCondition& c : kRetryConditions) names.emplace_back(c.name);
            error(i.pos, i.path,
                  "unknown retry condition " + quoted(*text) + " (expected one of: " + join(names) +
                      ")");
            ok = false;
            continue;
          }
          on |= found->bit;
        }
        if (ok) retries.on = on;
      }
    }
    if (const Entry* e = fields->find("budget")) {
      if (auto p = read_percent(e->value, 0, 100)) retries.budget_percent = *p;
    }
    if (const Entry* e = fields->find("min_retry_concurrency")) {
      if (auto n = read_u32(e->value, 0, kMaxMinRetryConcurrency)) {
        retries.min_retry_concurrency = *n;
      }
    }
  }

  void parse_endpoints(const Item& item, Upstream& upstream) {
    auto list = read_list(item);
    if (!list) return;
    for (const Item& element : *list) {
      Endpoint endpoint;
      Item address_item = element;
      if (element.node.IsMap()) {
        auto fields = read_fields(element, {"address", "weight"});
        if (!fields) continue;
        if (const Entry* w = fields->find("weight")) {
          if (auto weight = read_u32(w->value, 1, kMaxWeight)) endpoint.weight = *weight;
        }
        const Entry* a = require(*fields, "address");
        if (!a) continue;
        address_item = a->value;
      } else if (!element.node.IsScalar()) {
        type_error(element, "'HOST:PORT' or a mapping with 'address' and 'weight'");
        continue;
      }
      auto text = read_string(address_item);
      if (!text) continue;
      auto parsed = parse_endpoint_address(*text);
      if (!parsed) {
        error(address_item.pos, address_item.path, parsed.error);
        continue;
      }
      // A name missing from DNS today may be there by the time traffic comes (a service
      // being deployed, a resolver briefly down), so it does not stop the config; the
      // endpoint is kept unresolved (length 0) and gets no traffic until it resolves.
      if (!parsed->resolve_error.empty()) {
        warning(address_item.pos, address_item.path,
                parsed->resolve_error + " (the endpoint gets no traffic until the name resolves)");
      }
      endpoint.address = std::move(parsed->address);
      endpoint.named = parsed->named;
      endpoint.resolved = std::move(parsed->resolved);
      endpoint.host = std::move(parsed->host_port.host);
      endpoint.port = parsed->host_port.port;
      upstream.endpoints.push_back(std::move(endpoint));
    }
  }
};

}  // namespace

LoadResult load_config_string(std::string_view yaml, const std::string& file_label) {
  LoadResult result;
  YAML::Node document;
  std::optional<YAML::Mark> second;
  try {
    std::string text(yaml);
    document = YAML::Load(text);
    second = second_document_start(text);
  } catch (const YAML::Exception& e) {
    const bool has_mark = !e.mark.is_null();
    result.errors.push_back({file_label, has_mark ? e.mark.line + 1 : 0,
                             has_mark ? e.mark.column + 1 : 0, "", "invalid YAML: " + e.msg});
    return result;
  }
  if (second) {
    result.errors.push_back({file_label, second->line + 1, second->column + 1, "",
                             "the file holds more than one YAML document; only one is allowed"});
    return result;
  }

  Loader loader(file_label);
  Config config;
  loader.load(document, config);
  result.errors = loader.take_errors();
  result.warnings = loader.take_warnings();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path) {
  std::string text;
  if (std::string why = read_file(path, text.max_size(), text); !why.empty()) {
    LoadResult result;
    result.errors.push_back({path, 0, 0, "", "cannot read config file: " + why});
    return result;
  }
  return load_config_string(text, path);
}

}  // namespace portico::config
