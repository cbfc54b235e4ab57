#include "app/ConfigJson.h"

#include <string>

#include "config/FlagsConfig.h"

namespace portico::app {

namespace {

using admin::JsonWriter;

void ms(JsonWriter& w, std::string_view key, config::Duration d) {
  w.member(key, int64_t(d.count()));
}

void strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

void value_matches(JsonWriter& w, std::string_view key, const std::vector<config::ValueMatch>& v) {
  w.key(key).begin_array();
  for (const config::ValueMatch& m : v) {
    w.begin_object().member("name", m.name);
    switch (m.kind) {
      case config::ValueMatch::Kind::Present:
        w.member("present", true);
        break;
      case config::ValueMatch::Kind::Absent:
        w.member("present", false);
        break;
      case config::ValueMatch::Kind::Exact:
        w.member("exact", m.value);
        break;
      case config::ValueMatch::Kind::Regex:
        w.member("regex", m.value);
        break;
    }
    w.end_object();
  }
  w.end_array();
}

void route(JsonWriter& w, const config::Route& r) {
  w.begin_object().member("name", r.name);
  w.key("match").begin_object();
  strings(w, "hosts", r.match.hosts);
  using PK = config::RouteMatch::PathKind;
  switch (r.match.path_kind) {
    case PK::Any:
      break;
    case PK::Exact:
      w.member("path", r.match.path);
      break;
    case PK::Prefix:
      w.member("path_prefix", r.match.path);
      break;
    case PK::Regex:
      w.member("path_regex", r.match.path);
      break;
  }
  strings(w, "methods", r.match.methods);
  value_matches(w, "headers", r.match.headers);
  value_matches(w, "query", r.match.query);
  w.key("flags").begin_object();
  for (const config::FlagCondition& f : r.match.flags) w.member(f.name, f.on);
  w.end_object();
  w.end_object();
  if (r.respond) {
    w.key("respond").begin_object().member("status", r.respond->status);
    w.key("headers").begin_object();
    for (const auto& [k, v] : r.respond->headers) w.member(k, v);
    w.end_object().member("body", r.respond->body).end_object();
  } else {
    w.member("upstream", r.upstream);
  }
  if (r.host_rewrite) w.member("host_rewrite", *r.host_rewrite);
  w.end_object();
}

const char* version_name(config::TlsVersion v) {
  return v == config::TlsVersion::V1_2 ? "TLSv1.2" : "TLSv1.3";
}

// File names and settings only: the files' contents (keys above all) are never shown.
void listener_tls(JsonWriter& w, const config::ListenerTls& t) {
  w.key("tls").begin_object();
  w.key("certificates").begin_array();
  for (const config::TlsCertificate& c : t.certificates) {
    w.begin_object().member("cert", c.cert).member("key", c.key);
    strings(w, "server_names", c.server_names);
    w.end_object();
  }
  w.end_array();
  w.member("unknown_server_name", t.reject_unknown_server_name ? "reject" : "default");
  w.member("min_version", version_name(t.min_version));
  w.member("max_version", version_name(t.max_version));
  w.member("ciphers", t.ciphers).member("ciphersuites", t.ciphersuites);
  strings(w, "alpn", t.alpn);
  ms(w, "handshake_timeout_ms", t.handshake_timeout);
  w.member("session_tickets", t.session_tickets);
  ms(w, "ticket_key_rotation_ms", t.ticket_key_rotation);
  w.member("session_cache_size", t.session_cache_size);
  ms(w, "session_timeout_ms", t.session_timeout);
  if (t.client_certificates.enabled) {
    const config::ClientCertificates& cc = t.client_certificates;
    w.key("client_certificates").begin_object().member("ca", cc.ca);
    w.member("mode", cc.required ? "required" : "optional");
    w.member("verify_depth", cc.verify_depth).member("subject_header", cc.subject_header);
    w.end_object();
  }
  w.end_object();
}

void listener(JsonWriter& w, const config::Listener& l) {
  w.begin_object().member("name", l.name).member("address", l.address.text);
  w.key("limits").begin_object();
  w.member("max_header_bytes", l.limits.max_header_bytes);
  w.member("max_headers", l.limits.max_headers);
  w.member("max_body_bytes", l.limits.max_body_bytes);
  ms(w, "header_timeout_ms", l.limits.header_timeout);
  ms(w, "idle_timeout_ms", l.limits.idle_timeout);
  w.member("max_connections", l.limits.max_connections);
  w.end_object();
  if (l.tls.enabled) listener_tls(w, l.tls);
  w.key("routes").begin_array();
  for (const config::Route& r : l.routes) route(w, r);
  w.end_array().end_object();
}

const char* hash_kind(config::HashKey::Kind k) {
  switch (k) {
    case config::HashKey::Kind::Header:
      return "header";
    case config::HashKey::Kind::Cookie:
      return "cookie";
    case config::HashKey::Kind::ClientIp:
      return "client_ip";
    case config::HashKey::Kind::Path:
      return "path";
    case config::HashKey::Kind::None:
      break;
  }
  return "none";
}

void upstream(JsonWriter& w, const config::Upstream& u) {
  w.begin_object().member("name", u.name).member("balance", u.balance);
  w.key("hash_key").begin_object().member("kind", hash_kind(u.hash_key.kind));
  if (!u.hash_key.name.empty()) w.member("name", u.hash_key.name);
  w.end_object();
  w.key("endpoints").begin_array();
  for (const config::Endpoint& e : u.endpoints) {
    w.begin_object().member("address", e.address.text).member("weight", e.weight);
    w.member("named", e.named);
    w.end_object();
  }
  w.end_array();
  w.key("timeouts").begin_object();
  ms(w, "connect_ms", u.connect_timeout);
  ms(w, "response_ms", u.response_timeout);
  ms(w, "per_try_ms", u.per_try_timeout);
  ms(w, "total_ms", u.total_timeout);
  ms(w, "queue_ms", u.queue_timeout);
  w.end_object();
  w.key("keepalive").begin_object().member("max_idle", u.max_idle);
  ms(w, "idle_timeout_ms", u.idle_timeout);
  w.end_object();
  w.key("limits").begin_object();
  w.member("max_connections", u.max_connections).member("max_pending", u.max_pending);
  w.end_object();
  w.member("panic_threshold", u.panic_threshold);
  ms(w, "dns_refresh_ms", u.dns_refresh);
  const config::HealthCheck& hc = u.health_check;
  w.key("health_check");
  if (!hc.enabled) {
    w.value(nullptr);
  } else {
    w.begin_object();
    w.member("type", hc.type == config::HealthCheck::Type::Http ? "http" : "tcp");
    if (hc.type == config::HealthCheck::Type::Http) {
      w.member("method", hc.method).member("path", hc.path).member("host", hc.host);
      w.key("expected_statuses").begin_array();
      for (auto [lo, hi] : hc.expected_statuses)
        w.value(lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi));
      w.end_array();
    }
    ms(w, "interval_ms", hc.interval);
    w.member("jitter", hc.jitter);
    ms(w, "timeout_ms", hc.timeout);
    w.member("healthy", hc.healthy_threshold).member("unhealthy", hc.unhealthy_threshold);
    w.end_object();
  }
  const config::Outlier& o = u.outlier;
  w.key("outlier");
  if (!o.enabled) {
    w.value(nullptr);
  } else {
    w.begin_object();
    w.member("consecutive_5xx", o.consecutive_5xx);
    w.member("consecutive_gateway_failures", o.consecutive_gateway_failures);
    ms(w, "base_ejection_time_ms", o.base_ejection_time);
    ms(w, "max_ejection_time_ms", o.max_ejection_time);
    w.member("max_ejection_percent", o.max_ejection_percent);
    w.end_object();
  }
  const config::Retries& r = u.retries;
  w.key("retries").begin_object().member("attempts", r.attempts);
  w.key("on").begin_array();
  static constexpr std::pair<uint32_t, const char*> kOn[] = {
      {config::Retries::kConnectFailure, "connect_failure"},
      {config::Retries::kReset, "reset"},
      {config::Retries::kTimeout, "timeout"},
      {config::Retries::k502, "502"},
      {config::Retries::k503, "503"},
      {config::Retries::k504, "504"}};
  for (auto [bit, name] : kOn)
    if (r.on & bit) w.value(name);
  w.end_array();
  w.member("budget_percent", r.budget_percent);
  w.member("min_retry_concurrency", r.min_retry_concurrency);
  w.end_object();
  if (u.tls.enabled) {
    const config::UpstreamTls& t = u.tls;
    w.key("tls").begin_object().member("server_name", t.server_name).member("verify", t.verify);
    w.member("ca", t.ca).member("cert", t.cert).member("key", t.key);
    w.member("min_version", version_name(t.min_version));
    w.member("max_version", version_name(t.max_version));
    w.member("ciphers", t.ciphers).member("session_reuse", t.session_reuse);
    w.end_object();
  }
  w.end_object();
}

void name_values(JsonWriter& w, std::string_view key,
                 const std::vector<std::pair<std::string, std::string>>& pairs) {
  w.key(key).begin_array();
  for (const auto& [name, value] : pairs)
    w.begin_object().member("name", name).member("value", value).end_object();
  w.end_array();
}

// The file's values; the live ones (runtime overrides) are at /-/flags.
void flag(JsonWriter& w, const config::Flag& f) {
  w.begin_object().member("name", f.name).member("enabled", f.enabled);
  w.member("percent", double(f.percent_bp) / 100.0);
  w.member("key", config::request_key_text(f.key));
  w.key("allow").begin_object();
  name_values(w, "headers", f.allow.headers);
  name_values(w, "cookies", f.allow.cookies);
  strings(w, "clients", f.allow.clients);
  w.end_object().end_object();
}

}  // namespace

void write_config_json(JsonWriter& w, const config::Config& c) {
  w.begin_object();
  w.member("source", c.source);
  w.member("workers", c.workers == 0 ? std::string("auto") : std::to_string(c.workers));
  ms(w, "drain_timeout_ms", c.drain_timeout);
  w.key("log").begin_object().member("level", c.log.level);
  w.member("access_log", c.log.access_log).end_object();
  w.key("admin");
  if (!c.admin.enabled) {
    w.value(nullptr);
  } else {
    w.begin_object().member("address", c.admin.address.text);
    w.key("token");
    if (c.admin.token.empty())
      w.value(nullptr);
    else
      w.value("<redacted>");
    w.end_object();
  }
  w.key("reload").begin_object().member("watch", c.reload.watch);
  ms(w, "debounce_ms", c.reload.debounce);
  w.end_object();
  w.key("listeners").begin_array();
  for (const config::Listener& l : c.listeners) listener(w, l);
  w.end_array();
  w.key("upstreams").begin_array();
  for (const config::Upstream& u : c.upstreams) upstream(w, u);
  w.end_array();
  w.key("flags_header");
  if (c.flags_header.empty())
    w.value(nullptr);
  else
    w.value(c.flags_header);
  w.key("flags").begin_array();
  for (const config::Flag& f : c.flags) flag(w, f);
  w.end_array();
  w.end_object();
}

}  // namespace portico::app
