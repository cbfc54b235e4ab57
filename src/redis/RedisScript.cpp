#include "redis/RedisScript.h"

#include "redis/Sha1.h"

namespace portico::redis {

RedisScript::RedisScript(std::string text) : text_(std::move(text)), sha1_(sha1_hex(text_)) {}

}  // namespace portico::redis
