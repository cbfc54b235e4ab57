#include "tls/TicketKeyRing.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>

namespace portico::tls {
namespace {

// Where an SSL_CTX keeps its ring.
int ring_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The callback's return values (SSL_CTX_set_tlsext_ticket_key_evp_cb(3)).
constexpr int kNoTicket = 0;  // encrypting: issue none; decrypting: unknown key, full handshake
constexpr int kUse = 1;
constexpr int kUseAndRenew = 2;  // decrypting with an old key: issue a new ticket too

}  // namespace

TicketKeyRing::TicketKeyRing(std::chrono::milliseconds rotation, Clock clock)
    : rotation_(rotation), clock_(clock ? std::move(clock) : Clock(wall_clock_ms)) {}

TicketKeyRing::~TicketKeyRing() {
  forget(current_);
  forget(previous_);
}

void TicketKeyRing::forget(std::optional<Key>& key) {
  if (key) OPENSSL_cleanse(&*key, sizeof *key);
  key.reset();
}

void TicketKeyRing::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, ring_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket);
}

int TicketKeyRing::on_ticket(SSL* ssl, unsigned char* key_name, unsigned char* iv,
                             EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  auto* ring = static_cast<TicketKeyRing*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index()));
  if (ring == nullptr) return kNoTicket;
  if (encrypt) return ring->encrypt(key_name, iv, cipher, mac);
  int use = ring->decrypt(key_name, iv, cipher, mac);
  // TLS 1.3: a fresh ticket after every resumption (RFC 8446 advises clients to use each
  // ticket once; OpenSSL's clients and wrk drop a used one), as OpenSSL's own keys do.
  if (use == kUse && SSL_version(ssl) == TLS1_3_VERSION) use = kUseAndRenew;
  return use;
}

bool TicketKeyRing::rotate(int64_t now) {
  const int64_t period = rotation_.count();
  if (current_ && now - current_->created >= period) {
    previous_ = current_;
    current_.reset();
  }
  if (previous_ && now - previous_->created >= 2 * period) forget(previous_);
  if (current_) return true;
  Key key;
  key.created = now;
  if (RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) != 1 ||
      RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size())) != 1 ||
      RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) != 1) {
    ERR_clear_error();
    return false;
  }
  current_ = key;
  OPENSSL_cleanse(&key, sizeof key);
  return true;
}

namespace {

bool set_hmac_key(EVP_MAC_CTX* mac, const std::array<unsigned char, 32>& key) {
  char digest[] = "SHA256";
  // The parameters are only read; OSSL_PARAM has no const variant.
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.data()),
                                        key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

int TicketKeyRing::encrypt(unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                           EVP_MAC_CTX* mac) {
  std::lock_guard lock(mutex_);
  if (!rotate(clock_())) return kNoTicket;
  const Key& key = *current_;
  const EVP_CIPHER* aes = EVP_aes_256_cbc();
  if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1 ||
      EVP_EncryptInit_ex(cipher, aes, nullptr, key.aes.data(), iv) != 1 ||
      !set_hmac_key(mac, key.hmac)) {
    ERR_clear_error();
    return kNoTicket;
  }
  std::memcpy(key_name, key.name.data(), key.name.size());
  return kUse;
}

int TicketKeyRing::decrypt(const unsigned char* key_name, const unsigned char* iv,
                           EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) {
  std::lock_guard lock(mutex_);
  rotate(clock_());
  auto named = [&](const std::optional<Key>& key) {
    return key && std::memcmp(key->name.data(), key_name, key->name.size()) == 0;
  };
  const bool renew = !named(current_);
  const Key* key = !renew ? &*current_ : named(previous_) ? &*previous_ : nullptr;
  if (key == nullptr) return kNoTicket;
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv) != 1 ||
      !set_hmac_key(mac, key->hmac)) {
    ERR_clear_error();
    return kNoTicket;
  }
  return renew ? kUseAndRenew : kUse;
}

}  // namespace portico::tls
