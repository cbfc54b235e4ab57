// A client of the proxy's admin API (the `admin:` port): one request per connection, with
// the bearer token when one is set; JSON answers and the Prometheus scrape parsed strictly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/HttpClient.h"
#include "harness/Json.h"
#include "harness/PrometheusParser.h"

namespace portico::it {

class AdminClient {
 public:
  explicit AdminClient(uint16_t port, std::string token = {})
      : port_(port), token_(std::move(token)) {}

  uint16_t port() const { return port_; }
  void set_token(std::string token) { token_ = std::move(token); }

  // Sends METHOD path on a new connection, with "Authorization: Bearer TOKEN" when a token
  // is set and `headers` has no Authorization of its own, and reads the answer; nullopt
  // when none came (error() says why).
  std::optional<HttpResponse> Send(
      std::string_view method, std::string_view path,
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const ReadOptions& options = {}, std::string_view body = {});
  std::optional<HttpResponse> Get(std::string_view path) { return Send("GET", path); }
  std::optional<HttpResponse> Post(std::string_view path) { return Send("POST", path); }
  std::optional<HttpResponse> Put(std::string_view path, std::string_view json) {
    return Send("PUT", path, {{"Content-Type", "application/json"}}, {}, json);
  }
  std::optional<HttpResponse> Delete(std::string_view path) { return Send("DELETE", path); }

  // GET path: the parsed body when the answer is 200 with Content-Type application/json,
  // else nullopt with error() saying what came instead.
  std::optional<Json> GetJson(std::string_view path);
  // GET /-/metrics: the parsed exposition (problems included) when the answer is 200 in the
  // text format 0.0.4, else nullopt with error() saying what came. *text receives the body.
  std::optional<PromExposition> Metrics(std::string* text = nullptr);

  const std::string& error() const { return error_; }

 private:
  uint16_t port_;
  std::string token_;
  std::string error_;
};

// What the admin API calls a config's hash (`config_hash`, the `hash` label of
// portico_config_info): FNV-1a 64 of the file's bytes as 16 lowercase hex digits.
std::string ConfigHash(std::string_view text);

}  // namespace portico::it
