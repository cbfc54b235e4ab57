// The keys that encrypt a listener's TLS session tickets. One ring is shared by every
// worker and kept across config reloads, so a client resumes whichever worker accepts it
// and after a reload. A new random key is made every `rotation`: it encrypts new tickets
// for one period, then decrypts old ones for one more (those are renewed with the current
// key); after that its tickets fall back to a full handshake. Rotation is checked when a
// ticket is issued or read, so an idle listener does no work.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace portico::tls {

class TicketKeyRing {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds

  // `clock`: the time now, for tests; empty: the wall clock.
  explicit TicketKeyRing(std::chrono::milliseconds rotation, Clock clock = {});
  ~TicketKeyRing();  // wipes the keys
  TicketKeyRing(const TicketKeyRing&) = delete;
  TicketKeyRing& operator=(const TicketKeyRing&) = delete;

  // Makes `ctx` encrypt and decrypt its tickets with this ring. The context keeps a plain
  // pointer to the ring (in its ex_data): whoever owns the ring must keep it alive as long
  // as the context and every SSL made from it.
  void install(SSL_CTX* ctx);

  std::chrono::milliseconds rotation() const { return rotation_; }

 private:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;   // AES-256-CBC
    std::array<unsigned char, 32> hmac;  // HMAC-SHA256
    int64_t created = 0;                 // clock milliseconds
  };

  static int on_ticket(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                       EVP_MAC_CTX* mac, int encrypt);
  int encrypt(unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
  int decrypt(const unsigned char* key_name, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
              EVP_MAC_CTX* mac);
  static void forget(std::optional<Key>& key);
  // Under mutex_: retires keys whose time is over and makes a new current key if needed.
  // False when no random key could be made.
  bool rotate(int64_t now);

  const std::chrono::milliseconds rotation_;
  const Clock clock_;
  std::mutex mutex_;
  std::optional<Key> current_;   // encrypts
  std::optional<Key> previous_;  // decrypts, and the ticket is renewed
};

}  // namespace portico::tls
