#include "tls/Fingerprint.h"

#include <openssl/sha.h>

#include <cstring>
#include <stdexcept>

namespace portico::tls {

Fingerprint::Fingerprint() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot start a SHA-256 digest: " + take_errors());
}

void Fingerprint::add(uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  EVP_DigestUpdate(ctx_.get(), bytes, sizeof bytes);
}

void Fingerprint::add(std::string_view bytes) {
  add(uint64_t(bytes.size()));
  EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

void Fingerprint::add(const X509* cert) {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n < 0) throw std::runtime_error("OpenSSL cannot encode a certificate: " + take_errors());
  add(std::string_view(reinterpret_cast<const char*>(der), size_t(n)));
  OPENSSL_free(der);
}

void Fingerprint::add(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PrivateKey(key, &der);
  if (n < 0) throw std::runtime_error("OpenSSL cannot encode a private key: " + take_errors());
  add(std::string_view(reinterpret_cast<const char*>(der), size_t(n)));
  OPENSSL_cleanse(der, size_t(n));  // key material: not left behind in freed memory
  OPENSSL_free(der);
}

uint64_t Fingerprint::finish() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1 || size < 8)
    throw std::runtime_error("OpenSSL cannot finish a SHA-256 digest: " + take_errors());
  uint64_t out = 0;
  std::memcpy(&out, digest, sizeof out);
  return out;
}

}  // namespace portico::tls
