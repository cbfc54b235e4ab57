#include "config/YamlReader.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

#include "config/ValueParsers.h"

namespace portico::config {

Pos pos_of(const YAML::Node& node, Pos fallback) {
  if (!node.IsDefined()) return fallback;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return fallback;
  return {mark.line + 1, mark.column + 1};
}

std::string child_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
  }
  return "an unknown node";
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

std::string to_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool is_valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::vector<ConfigError> YamlReader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(errors_);
}

std::vector<ConfigError> YamlReader::take_warnings() {
  std::stable_sort(warnings_.begin(), warnings_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(warnings_);
}

void YamlReader::error(Pos pos, std::string key, std::string message) {
  errors_.push_back({file_, pos.line, pos.column, std::move(key), std::move(message)});
}

void YamlReader::warning(Pos pos, std::string key, std::string message) {
  warnings_.push_back({file_, pos.line, pos.column, std::move(key), std::move(message), true});
}

std::optional<Fields> YamlReader::read_fields(const Item& item,
                                              std::initializer_list<std::string_view> allowed) {
  auto entries = read_map(item);
  if (!entries) return std::nullopt;
  Fields fields{item, {}};
  for (Entry& e : *entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
      error(e.key_pos, e.value.path,
            "unknown key " + quoted(e.key) + " (expected one of: " + join(allowed) + ")");
      continue;
    }
    fields.entries.push_back(std::move(e));
  }
  return fields;
}

std::optional<std::vector<Entry>> YamlReader::read_map(const Item& item) {
  if (!item.node.IsMap()) {
    type_error(item, "a mapping");
    return std::nullopt;
  }
  std::vector<Entry> entries;
  std::map<std::string, Pos> seen;
  for (auto it = item.node.begin(); it != item.node.end(); ++it) {
    const YAML::Node key = it->first;
    Pos key_pos = pos_of(key, item.pos);
    if (!key.IsScalar()) {
      error(key_pos, item.path, "keys must be strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = child_path(item.path, name);
    if (auto [first, inserted] = seen.emplace(name, key_pos); !inserted) {
      error(key_pos, path,
            "duplicate key " + quoted(name) + " (first given at line " +
                std::to_string(first->second.line) + ")");
      continue;
    }
    const YAML::Node value = it->second;
    // A null value's mark points past the key, often at the next line; the key is where
    // the user should look.
    Pos value_pos = value.IsNull() ? key_pos : pos_of(value, key_pos);
    entries.push_back({name, key_pos, {value, value_pos, path}});
  }
  return entries;
}

const Entry* YamlReader::require(const Fields& fields, std::string_view key) {
  const Entry* e = fields.find(key);
  if (!e) {
    error(fields.self.pos, child_path(fields.self.path, key),
          "missing required key " + quoted(key));
  }
  return e;
}

void YamlReader::type_error(const Item& item, std::string_view expected) {
  error(item.pos, item.path, "expected " + std::string(expected) + ", got " + describe(item.node));
}

std::optional<std::vector<Item>> YamlReader::read_list(const Item& item, bool allow_empty) {
  if (!item.node.IsSequence()) {
    type_error(item, "a list");
    return std::nullopt;
  }
  std::vector<Item> out;
  size_t i = 0;
  for (auto it = item.node.begin(); it != item.node.end(); ++it, ++i) {
    const YAML::Node node = *it;
    out.push_back({node, pos_of(node, item.pos), index_path(item.path, i)});
  }
  if (out.empty() && !allow_empty) {
    error(item.pos, item.path, "must not be empty");
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<Item>> YamlReader::read_one_or_list(const Item& item) {
  if (item.node.IsScalar()) return std::vector<Item>{item};
  if (!item.node.IsSequence()) {
    type_error(item, "a string or a list of strings");
    return std::nullopt;
  }
  return read_list(item);
}

std::optional<std::string> YamlReader::read_string(const Item& item) {
  if (!item.node.IsScalar()) {
    type_error(item, "a string");
    return std::nullopt;
  }
  return item.node.Scalar();
}

std::optional<std::string> YamlReader::read_nonempty_string(const Item& item) {
  auto s = read_string(item);
  if (s && s->empty()) {
    error(item.pos, item.path, "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> YamlReader::read_name(const Item& item) {
  auto s = read_string(item);
  if (!s) return std::nullopt;
  if (!is_valid_name(*s)) {
    error(item.pos, item.path,
          "invalid name " + quoted(*s) + " (use letters, digits, '_', '.' and '-')");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> YamlReader::read_int(const Item& item, int64_t min, int64_t max) {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!item.node.IsScalar()) {
    type_error(item, range);
    return std::nullopt;
  }
  const std::string& text = item.node.Scalar();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size() ||
      (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    type_error(item, range);
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    error(item.pos, item.path, "must be " + range + ", got " + text);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::read_bool(const Item& item) {
  if (item.node.IsScalar()) {
    const std::string lower = to_lower(item.node.Scalar());
    if (lower == "true") return true;
    if (lower == "false") return false;
  }
  type_error(item, "true or false");
  return std::nullopt;
}

std::optional<Duration> YamlReader::read_duration(const Item& item, bool allow_zero) {
  if (!item.node.IsScalar()) {
    type_error(item, "a duration such as '10s' or '250ms'");
    return std::nullopt;
  }
  auto d = parse_duration(item.node.Scalar());
  if (!d) {
    error(item.pos, item.path, d.error);
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(item.pos, item.path, "must be greater than 0");
    return std::nullopt;
  }
  return *d;
}

std::optional<uint64_t> YamlReader::read_size(const Item& item) {
  if (!item.node.IsScalar()) {
    type_error(item, "a size such as '65536' or '64KiB'");
    return std::nullopt;
  }
  auto s = parse_size(item.node.Scalar());
  if (!s) {
    error(item.pos, item.path, s.error);
    return std::nullopt;
  }
  return *s;
}

std::optional<uint32_t> YamlReader::read_percent(const Item& item, uint32_t min, uint32_t max) {
  const std::string range =
      "a percentage from " + std::to_string(min) + "% to " + std::to_string(max) + "%";
  if (!item.node.IsScalar()) {
    type_error(item, range);
    return std::nullopt;
  }
  auto p = parse_percent(item.node.Scalar());
  if (!p) {
    error(item.pos, item.path, p.error);
    return std::nullopt;
  }
  if (*p < min || *p > max) {
    error(item.pos, item.path, "must be " + range + ", got " + item.node.Scalar());
    return std::nullopt;
  }
  return *p;
}

std::optional<uint32_t> YamlReader::read_u32(const Item& item, int64_t min, int64_t max) {
  auto n = read_int(item, min, max);
  if (!n) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

const Entry* YamlReader::exclusive(const Fields& fields,
                                   std::initializer_list<std::string_view> keys) {
  const Entry* first = nullptr;
  for (const Entry& e : fields.entries) {
    if (std::find(keys.begin(), keys.end(), e.key) == keys.end()) continue;
    if (!first) {
      first = &e;
      continue;
    }
    std::string list;
    size_t i = 0;
    for (std::string_view k : keys) {
      if (i > 0) list += (i + 1 == keys.size()) ? " and " : ", ";
      list += quoted(k);
      ++i;
    }
    error(e.key_pos, e.value.path,
          "only one of " + list + " may be given (" + quoted(first->key) + " is already at line " +
              std::to_string(first->key_pos.line) + ")");
  }
  return first;
}

// RFC 9110 token characters: what header names and methods are made of.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

void read_respond(YamlReader& r, const Item& item, Respond& respond) {
  auto fields = r.read_fields(item, {"status", "headers", "body"});
  if (!fields) return;
  if (const Entry* e = fields->find("status")) {
    if (auto status = r.read_int(e->value, 100, 599)) respond.status = static_cast<int>(*status);
  }
  if (const Entry* e = fields->find("headers")) {
    if (auto entries = r.read_map(e->value)) {
      for (const Entry& h : *entries) {
        if (!is_token(h.key)) {
          r.error(h.key_pos, h.value.path, "invalid header name " + quoted(h.key));
          continue;
        }
        const std::string lower = to_lower(h.key);
        if (lower == "content-length" || lower == "transfer-encoding") {
          r.error(h.key_pos, h.value.path,
                  quoted(h.key) + " is set by portico from the body; remove it");
          continue;
        }
        auto value = r.read_string(h.value);
        if (!value) continue;
        if (has_control_chars(*value)) {
          r.error(h.value.pos, h.value.path, "header values cannot contain control characters");
          continue;
        }
        respond.headers.emplace_back(h.key, *value);
      }
    }
  }
  if (const Entry* e = fields->find("body")) {
    if (auto body = r.read_string(e->value)) {
      const int s = respond.status;
      if (!body->empty() && (s < 200 || s == 204 || s == 304)) {
        r.error(e->value.pos, e->value.path,
                "a " + std::to_string(s) + " response cannot have a body");
      } else {
        respond.body = *body;
      }
    }
  }
}

std::optional<HashKey> YamlReader::read_request_key(const Item& item, std::string_view setting) {
  auto text = read_nonempty_string(item);
  if (!text) return std::nullopt;
  HashKey key;
  if (*text == "client_ip") {
    key.kind = HashKey::Kind::ClientIp;
    return key;
  }
  if (*text == "path") {
    key.kind = HashKey::Kind::Path;
    return key;
  }
  std::string_view view = *text;
  for (auto [prefix, kind] : {std::pair{std::string_view("header:"), HashKey::Kind::Header},
                              std::pair{std::string_view("cookie:"), HashKey::Kind::Cookie}}) {
    if (!view.starts_with(prefix)) continue;
    const std::string name(view.substr(prefix.size()));
    const std::string what = kind == HashKey::Kind::Header ? "header" : "cookie";
    // Both header names and cookie names are RFC tokens (RFC 9110, RFC 6265).
    if (!is_token(name)) {
      error(item.pos, item.path,
            name.empty()
                ? std::string(setting) + " " + quoted(*text) + " needs a " + what + " name, e.g. " +
                      quoted(std::string(prefix) + "x-user-id")
                : "invalid " + what + " name " + quoted(name) + " in " + std::string(setting));
      return std::nullopt;
    }
    key.kind = kind;
    // Header names compare case-insensitively, so they are stored lower-cased like route
    // hosts; cookie names are case-sensitive and kept as written.
    key.name = kind == HashKey::Kind::Header ? to_lower(name) : name;
    return key;
  }
  error(item.pos, item.path,
        "invalid " + std::string(setting) + " " + quoted(*text) +
            " (expected header:NAME, cookie:NAME, client_ip or path)");
  return std::nullopt;
}

}  // namespace portico::config
