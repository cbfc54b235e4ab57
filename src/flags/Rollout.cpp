#include "flags/Rollout.h"

#include <string>

#include "upstream/HashKey.h"

namespace portico::flags {

uint64_t flag_hash(std::string_view name) {
  std::string text = "flag:";
  text += name;
  return upstream::hash_bytes(text);
}

uint32_t rollout_bucket(uint64_t key_hash, uint64_t flag_hash) {
  const uint64_t point = upstream::mix64(key_hash ^ flag_hash);
  // The high 32 bits scaled to 0..9999 by a multiply and a shift (Lemire): no division,
  // and bucket sizes differ by at most one value in about 429,000.
  return uint32_t(((point >> 32) * 10'000) >> 32);
}

}  // namespace portico::flags
