// Which keys are inside a flag's rollout share. Every Portico instance, worker and restart
// must agree without sharing anything, so the decision is a pure function of the key's
// value and the flag's name, built on the stable "portico hash v1" (upstream/HashKey.h):
//
//   point  = mix64(hash_bytes(key value) ^ hash_bytes("flag:" + flag name))
//   bucket = ((point >> 32) * 10000) >> 32          // 0..9999, near-uniform
//   on     = bucket < percent in basis points
//
// Raising the share only adds keys (a key on at 5% is on at 10%), and mixing in the flag's
// name makes different flags pick different keys. The "flag:" prefix keeps a flag's keys
// independent of a canary route of the same name, which hashes the bare route name. Pinned by unit
// tests: changing it moves users in or out of every rollout.
#pragma once

#include <cstdint>
#include <string_view>

namespace portico::flags {

// The key's bucket, 0..9999, for a flag: key_hash and flag_hash are hash_bytes of the
// key's value and of the flag's name.
uint32_t rollout_bucket(uint64_t key_hash, uint64_t flag_hash);
// hash_bytes("flag:" + name).
uint64_t flag_hash(std::string_view name);

}  // namespace portico::flags
