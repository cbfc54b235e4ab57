#include "config/FlagsConfig.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "config/BasisPoints.h"
#include "router/CidrSet.h"

namespace portico::config {

namespace {

// Headers Portico writes itself, that frame the message or that carry the client's own
// data: sending flags under one of these names would clash with them (every client line
// of the flags header's name is dropped).
constexpr std::array<std::string_view, 21> kReservedHeaders{"host",
                                                            "cookie",
                                                            "authorization",
                                                            "proxy-authorization",
                                                            "expect",
                                                            "forwarded",
                                                            "via",
                                                            "content-type",
                                                            "connection",
                                                            "keep-alive",
                                                            "transfer-encoding",
                                                            "content-length",
                                                            "te",
                                                            "trailer",
                                                            "upgrade",
                                                            "x-forwarded-for",
                                                            "x-forwarded-proto",
                                                            "x-forwarded-host",
                                                            "x-request-id",
                                                            "traceparent",
                                                            "tracestate"};

// `NAME: VALUE` or `NAME: [VALUE, ...]` pairs of an allow list. Names are tokens (header
// and cookie names both are); header names are stored lower-cased.
void read_allow_values(YamlReader& r, const Item& item, bool lower_names,
                       std::vector<std::pair<std::string, std::string>>& out) {
  auto entries = r.read_map(item);
  if (!entries) return;
  for (const Entry& e : *entries) {
    if (!is_token(e.key)) {
      r.error(
          e.key_pos, e.value.path,
          std::string("invalid ") + (lower_names ? "header" : "cookie") + " name " + quoted(e.key));
      continue;
    }
    auto values = r.read_one_or_list(e.value);
    if (!values) continue;
    for (const Item& v : *values) {
      auto text = r.read_string(v);
      if (!text) continue;
      if (has_control_chars(*text)) {
        r.error(v.pos, v.path, "values cannot contain control characters");
        continue;
      }
      out.emplace_back(lower_names ? to_lower(e.key) : e.key, *text);
    }
  }
}

void read_allow(YamlReader& r, const Item& item, FlagAllow& allow) {
  auto fields = r.read_fields(item, {"header", "cookie", "client"});
  if (!fields) return;
  if (const Entry* e = fields->find("header")) read_allow_values(r, e->value, true, allow.headers);
  if (const Entry* e = fields->find("cookie")) read_allow_values(r, e->value, false, allow.cookies);
  if (const Entry* e = fields->find("client")) {
    auto items = r.read_one_or_list(e->value);
    if (!items) return;
    router::CidrSet check;
    for (const Item& i : *items) {
      auto text = r.read_nonempty_string(i);
      if (!text) continue;
      std::string why;
      if (!check.add(*text, why)) {
        r.error(i.pos, i.path, why);
        continue;
      }
      allow.clients.push_back(*text);
    }
  }
}

void read_flag(YamlReader& r, const Item& item, Flag& flag) {
  // `NAME: {}` is a flag with every default: enabled, at 0%, on only for its allow list.
  auto fields = r.read_fields(item, {"enabled", "percent", "key", "allow"});
  if (!fields) return;
  if (const Entry* e = fields->find("enabled")) {
    if (auto b = r.read_bool(e->value)) flag.enabled = *b;
  }
  if (const Entry* e = fields->find("percent")) {
    if (!e->value.node.IsScalar()) {
      r.type_error(e->value, "a percentage from 0 to 100 such as '10%' or 2.5");
    } else if (auto bp = parse_basis_points(e->value.node.Scalar())) {
      flag.percent_bp = *bp;
    } else {
      r.error(e->value.pos, e->value.path, bp.error);
    }
  }
  if (const Entry* e = fields->find("key")) {
    if (auto key = r.read_request_key(e->value, "key")) flag.key = std::move(*key);
  }
  if (const Entry* e = fields->find("allow")) read_allow(r, e->value, flag.allow);
}

}  // namespace

void read_flags(YamlReader& r, const Item& item, std::vector<Flag>& flags) {
  auto entries = r.read_map(item);
  if (!entries) return;
  if (entries->size() > Config::kMaxFlags) {
    r.error(item.pos, item.path,
            "at most " + std::to_string(Config::kMaxFlags) + " flags, got " +
                std::to_string(entries->size()));
  }
  for (const Entry& e : *entries) {
    if (!is_valid_name(e.key)) {
      r.error(e.key_pos, e.value.path,
              "invalid flag name " + quoted(e.key) + " (use letters, digits, '_', '.' and '-')");
      continue;
    }
    Flag flag;
    flag.name = e.key;
    flag.mark = {e.key_pos.line, e.key_pos.column};
    read_flag(r, e.value, flag);
    flags.push_back(std::move(flag));
  }
}

void read_flags_header(YamlReader& r, const Item& item, std::string& header) {
  auto text = r.read_string(item);
  if (!text) return;
  const std::string word = to_lower(*text);
  if (text->empty() || word == "off" || word == "false" || word == "no") {
    header.clear();
    return;
  }
  if (!is_token(*text)) {
    r.error(item.pos, item.path, "invalid header name " + quoted(*text));
    return;
  }
  const std::string lower = to_lower(*text);
  if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
      kReservedHeaders.end()) {
    r.error(item.pos, item.path,
            quoted(*text) + " is a header Portico sets or relays itself; choose another name");
    return;
  }
  header = *text;
}

void read_flag_conditions(YamlReader& r, const Item& item, const std::vector<Flag>& flags,
                          std::vector<FlagCondition>& conditions) {
  auto entries = r.read_map(item);
  if (!entries) return;
  for (const Entry& e : *entries) {
    auto on = r.read_bool(e.value);
    auto found =
        std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return f.name == e.key; });
    if (found == flags.end()) {
      std::vector<std::string> names;
      for (const Flag& f : flags) names.push_back(f.name);
      r.error(
          e.key_pos, e.value.path,
          "unknown flag " + quoted(e.key) + " (" +
              (names.empty() ? std::string("no flags are defined") : "defined: " + join(names)) +
              ")");
      continue;
    }
    if (!on) continue;
    conditions.push_back({e.key, size_t(found - flags.begin()), *on});
  }
}

std::string request_key_text(const HashKey& key) {
  switch (key.kind) {
    case HashKey::Kind::Header:
      return "header:" + key.name;
    case HashKey::Kind::Cookie:
      return "cookie:" + key.name;
    case HashKey::Kind::ClientIp:
      return "client_ip";
    case HashKey::Kind::Path:
      return "path";
    case HashKey::Kind::None:
      break;
  }
  return "none";
}

}  // namespace portico::config
