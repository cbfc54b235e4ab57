#include "flags/FlagSet.h"

#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

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

FlagSet::FlagSet(const std::vector<config::Flag>& flags, filters::FilterStates& states,
                 const FlagSet* previous) {
  if (flags.size() > config::Config::kMaxFlags)
    throw std::invalid_argument("at most " + std::to_string(config::Config::kMaxFlags) +
                                " flags, got " + std::to_string(flags.size()));
  flags_.reserve(flags.size());
  for (const config::Flag& f : flags) {
    Compiled c;
    c.config = &f;
    c.name_hash = flag_hash(f.name);
    for (const std::string& cidr : f.allow.clients) {
      std::string why;
      if (!c.clients.add(cidr, why)) throw std::invalid_argument("flag '" + f.name + "': " + why);
    }
    c.state = states.get<FlagState>(state_identity(f), [&] {
      auto state = std::make_unique<FlagState>(f.enabled, f.percent_bp);
      int old = previous ? previous->index_of(f.name) : -1;
      if (old < 0) return state;
      // The file changed one of the flag's values: an override of the other one stays.
      const FlagState& before = previous->state(size_t(old));
      FlagState::Values v = before.values();
      std::optional<bool> enabled;
      std::optional<uint32_t> percent;
      if (v.enabled_overridden && before.file_enabled() == f.enabled) enabled = v.enabled;
      if (v.percent_overridden && before.file_percent_bp() == f.percent_bp) percent = v.percent_bp;
      state->set_overrides(enabled, percent);
      if (v.enabled_overridden && !enabled)
        spdlog::warn("flag '{}': the file's enabled changes, so its runtime value ({}) is dropped",
                     f.name, v.enabled);
      if (v.percent_overridden && !percent)
        spdlog::warn("flag '{}': the file's percent changes, so its runtime value ({}%) is dropped",
                     f.name, v.percent_bp / 100.0);
      return state;
    });
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
