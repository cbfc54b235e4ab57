// Certificates for tests, made when the test runs (nothing checked in expires): a CA, an
// intermediate when asked for, and leaves for servers and clients, written as PEM files.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace portico::test {

// Rsa1024 is too short for Portico: only for tests that it is refused.
enum class KeyType { Rsa2048, EcdsaP256, Rsa1024 };

struct PemFiles {
  std::string cert, key;  // paths
};

class TestPki {
 public:
  // A fresh self-signed CA written to DIR/ca.pem (+ DIR/ca.key).
  explicit TestPki(std::string dir, KeyType ca_key = KeyType::EcdsaP256,
                   std::string ca_name = "Portico Test CA");

  const std::string& ca_file() const { return ca_file_; }

  struct Leaf {
    std::vector<std::string> dns_names;
    std::vector<std::string> ip_addresses;
    std::string common_name;  // empty: the NAME given to issue()
    KeyType key = KeyType::EcdsaP256;
    bool via_intermediate = false;  // the chain file holds leaf + intermediate
    std::string key_passphrase;     // non-empty: the key file is encrypted (AES-256-CBC)
    int days_valid = 30;            // negative: expired that many days ago
  };

  // Writes DIR/NAME.pem (leaf, then the intermediate if any) and DIR/NAME.key; usable as a
  // server and as a client certificate. RSA 2048 keys take a while to make: the leaves of
  // one TestPki share one (ECDSA leaves each get their own).
  PemFiles issue(const std::string& name, const Leaf& leaf);

 private:
  struct Issuer {
    std::shared_ptr<X509> cert;
    std::shared_ptr<EVP_PKEY> key;
  };

  std::shared_ptr<EVP_PKEY> new_key(KeyType type);
  const Issuer& intermediate();

  std::string dir_;
  std::string ca_file_;
  Issuer ca_;
  std::optional<Issuer> intermediate_;
  std::shared_ptr<EVP_PKEY> rsa2048_;
  long serial_ = 0;
};

}  // namespace portico::test
