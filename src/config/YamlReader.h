// The generic half of config loading: reading YAML nodes into values while collecting
// every error with its file, line, column and dotted key path. The loader's schema
// (ConfigLoader.cpp) and each filter's own config parser (filters/) are written on it,
// so a filter's mistakes are reported exactly like the core's.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "config/ConfigError.h"

namespace portico::config {

// 1-based position in the file.
struct Pos {
  int line = 1;
  int column = 1;
};

// A YAML node with where it is and how to name it in an error.
struct Item {
  YAML::Node node;
  Pos pos;
  std::string path;
};

struct Entry {
  std::string key;
  Pos key_pos;
  Item value;
};

// The entries of a mapping in file order, looked up by key.
struct Fields {
  Item self;
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

struct UpstreamRef {
  std::string name;
  Pos pos;
  std::string path;
};

// Where a node is, or `fallback` when yaml-cpp has no mark for it.
Pos pos_of(const YAML::Node& node, Pos fallback);
std::string child_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, size_t index);
std::string quoted(std::string_view text);
// How a node reads in "expected X, got Y".
std::string describe(const YAML::Node& node);
std::string join(std::initializer_list<std::string_view> words);
std::string join(const std::vector<std::string>& words);
template <size_t N>
std::string join(const std::array<std::string_view, N>& words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}
std::string to_lower(std::string s);
// Names end up in logs, stats labels and admin URLs, so they stay plain.
bool is_valid_name(std::string_view s);
// RFC 9110 tokens: what header names and methods are made of.
bool is_token(std::string_view s);
bool has_control_chars(std::string_view s);

// Each reader reports its own error and returns nullopt on failure, so parsing goes on
// with defaults after a bad value and one run reports every problem.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  size_t error_count() const { return errors_.size(); }
  // A name that must be one of the config's upstreams (checked once all are read).
  void refer_to_upstream(std::string name, Pos pos, std::string path) {
    upstream_refs_.push_back({std::move(name), pos, std::move(path)});
  }
  const std::vector<UpstreamRef>& upstream_refs() const { return upstream_refs_; }
  // In file order.
  std::vector<ConfigError> take_errors();

  std::vector<ConfigError> take_warnings();

  void error(Pos pos, std::string key, std::string message);

  void warning(Pos pos, std::string key, std::string message);

  std::optional<Fields> read_fields(const Item& item,
                                    std::initializer_list<std::string_view> allowed);

  // The entries of a mapping with free-form keys (respond headers), duplicates rejected:
  // yaml-cpp keeps both, and silently using one of them would hide a mistake.
  std::optional<std::vector<Entry>> read_map(const Item& item);

  const Entry* require(const Fields& fields, std::string_view key);

  void type_error(const Item& item, std::string_view expected);

  std::optional<std::vector<Item>> read_list(const Item& item, bool allow_empty = false);

  // A scalar or a list of scalars: `host: a.com` and `host: [a.com, b.com]` both work.
  std::optional<std::vector<Item>> read_one_or_list(const Item& item);

  std::optional<std::string> read_string(const Item& item);

  std::optional<std::string> read_nonempty_string(const Item& item);

  std::optional<std::string> read_name(const Item& item);

  std::optional<int64_t> read_int(const Item& item, int64_t min, int64_t max);

  std::optional<bool> read_bool(const Item& item);

  std::optional<Duration> read_duration(const Item& item, bool allow_zero);

  std::optional<uint64_t> read_size(const Item& item);

  // A whole percentage from min% to max% ("10%" or 10).
  std::optional<uint32_t> read_percent(const Item& item, uint32_t min, uint32_t max);

  std::optional<uint32_t> read_u32(const Item& item, int64_t min, int64_t max);

  // What a request is keyed by (`setting` names the key in errors): header:NAME,
  // cookie:NAME, client_ip or path. Header names are lower-cased.
  std::optional<HashKey> read_request_key(const Item& item, std::string_view setting);

  // Reports a second key of a group that allows only one ("path" vs "path_prefix").
  // Returns the first one present, in file order.
  const Entry* exclusive(const Fields& fields, std::initializer_list<std::string_view> keys);

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
  std::vector<UpstreamRef> upstream_refs_;
};

// `respond:`-shaped settings (status, headers, body), for the core and for filters.
void read_respond(YamlReader& reader, const Item& item, Respond& respond);

}  // namespace portico::config
