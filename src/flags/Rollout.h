// Which keys are inside a flag's rollout share. Every Portico instance, worker and restart
// must agree without sharing anything, so the decision is a pure function of the key's
// value and the flag's name, built on the stable "portico hash v1" (upstream/HashKey.h):
//
//   point  = mix64(hash_bytes(key value) ^ hash_bytes(flag name))
//   bucket = ((point >> 32) * 10000) >> 32          // 0..9999, near-uniform
//   on     = bucket < percent in basis points
//
// Raising the share only adds keys (a key on at 5% is on at 10%), and mixing in the flag's
// name makes different flags pick different keys. Pinned by unit tests: changing it moves
// users in or out of every rollout.
#pragma once

#include <cstdint>

namespace portico::flags {

// The key's bucket, 0..9999, for a flag: key_hash and flag_hash are hash_bytes of the
// key's value and of the flag's name.
uint32_t rollout_bucket(uint64_t key_hash, uint64_t flag_hash);

}  // namespace portico::flags
