#include "harness/AdminClient.h"

#include <cstdio>

#include "harness/Checksum.h"
#include "harness/Headers.h"

namespace portico::it {

std::optional<HttpResponse> AdminClient::Send(
    std::string_view method, std::string_view path,
    const std::vector<std::pair<std::string, std::string>>& headers, const ReadOptions& options,
    std::string_view body) {
  std::vector<std::pair<std::string, std::string>> fields = headers;
  bool has_authorization = false;
  for (const auto& [name, value] : headers)
    has_authorization |= EqualsIgnoreCase(name, "authorization");
  if (!token_.empty() && !has_authorization)
    fields.emplace_back("Authorization", "Bearer " + token_);
  error_.clear();
  std::string error;
  ReadOptions read = options;
  read.head = read.head || method == "HEAD";
  std::optional<HttpResponse> r = Fetch(port_, Request(method, path, fields, body), read, &error);
  if (!r) error_ = std::string(method) + " " + std::string(path) + ": no answer: " + error;
  return r;
}

std::optional<Json> AdminClient::GetJson(std::string_view path) {
  std::optional<HttpResponse> r = Get(path);
  if (!r) return std::nullopt;
  if (r->status != 200 || r->headers.Value("Content-Type") != "application/json") {
    error_ = "GET " + std::string(path) + ": not a 200 JSON answer:\n" + r->Describe();
    return std::nullopt;
  }
  std::string why;
  std::optional<Json> json = ParseJson(r->body, &why);
  if (!json) error_ = "GET " + std::string(path) + ": invalid JSON (" + why + "):\n" + r->body;
  return json;
}

std::optional<PromExposition> AdminClient::Metrics(std::string* text) {
  std::optional<HttpResponse> r = Get("/-/metrics");
  if (!r) return std::nullopt;
  const std::string type = r->headers.Value("Content-Type");
  if (r->status != 200 || type.rfind("text/plain", 0) != 0 ||
      type.find("version=0.0.4") == std::string::npos) {
    error_ = "GET /-/metrics: not a 200 answer in the text format 0.0.4:\n" + r->Describe();
    return std::nullopt;
  }
  if (text) *text = r->body;
  return ParsePrometheusText(r->body);
}

std::string ConfigHash(std::string_view text) {
  Checksum c;
  c.Update(text);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(c.value()));
  return out;
}

}  // namespace portico::it
