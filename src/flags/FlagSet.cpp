#include "flags/FlagSet.h"

#include <stdexcept>
#include <string>

#include "flags/Rollout.h"
#include "http/Cookies.h"

namespace portico::flags {

namespace {

// What a flag's shared state is known by across reloads: its name and its values in the
// file. The same values keep the state (and so any runtime override); a changed value in
// the file starts from the file again.
std::string state_identity(const config::Flag& flag) {
  return "flag:" + flag.name + " enabled=" + (flag.enabled ? "true" : "false") +
         " percent_bp=" + std::to_string(flag.percent_bp);
}

}  // namespace

FlagSet::FlagSet(const std::vector<config::Flag>& flags, filters::FilterStates& states) {
  if (flags.size() > config::Config::kMaxFlags)
    throw std::invalid_argument("at most " + std::to_string(config::Config::kMaxFlags) +
                                " flags, got " + std::to_string(flags.size()));
  flags_.reserve(flags.size());
  for (const config::Flag& f : flags) {
    Compiled c;
    c.config = &f;
    c.name_hash = upstream::hash_bytes(f.name);
    for (const std::string& cidr : f.allow.clients) {
      std::string why;
      if (!c.clients.add(cidr, why)) throw std::invalid_argument("flag '" + f.name + "': " + why);
    }
    c.state = states.get<FlagState>(
        state_identity(f), [&] { return std::make_unique<FlagState>(f.enabled, f.percent_bp); });
    flags_.push_back(std::move(c));
  }
}

int FlagSet::index_of(std::string_view name) const {
  for (size_t i = 0; i < flags_.size(); ++i)
    if (flags_[i].config->name == name) return int(i);
  return -1;
}

bool FlagSet::allowed(const Compiled& flag, const upstream::RequestKeyView& request) {
  const config::FlagAllow& allow = flag.config->allow;
  for (const auto& [name, value] : allow.headers)
    for (const http::Header& h : request.headers)
      if (http::iequals(h.name, name) && h.value == value) return true;
  for (const auto& [name, value] : allow.cookies) {
    std::optional<std::string_view> cookie = http::find_cookie(request.headers, name);
    if (cookie && *cookie == value) return true;
  }
  return !flag.clients.empty() && flag.clients.contains(request.client_ip);
}

bool FlagSet::decide(size_t i, const upstream::RequestKeyView& request) const {
  const Compiled& flag = flags_[i];
  const FlagState::Values live = flag.state->values();
  if (!live.enabled) return false;
  if (allowed(flag, request)) return true;
  if (live.percent_bp >= config::Flag::kFullBasisPoints) return true;
  if (live.percent_bp == 0) return false;
  const std::optional<uint64_t> key = upstream::request_hash(flag.config->key, request);
  return key && rollout_bucket(*key, flag.name_hash) < live.percent_bp;
}

}  // namespace portico::flags
