// A 64-bit digest of what a TLS context was built from: its settings and the certificates and
// keys it loaded. Two contexts with the same fingerprint trust and present the same things, so
// a connection or session made under one is as good under the other; any change of a file's
// content changes it, even when the path stays the same (a renewed certificate, a new CA).
//
// The loaded objects are hashed (DER), not the files: they are exactly what the context uses,
// whatever happened to the file between reading and hashing it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "tls/OpenSsl.h"

namespace portico::tls {

class Fingerprint {
 public:
  Fingerprint();

  // Each piece is length-prefixed: "ab"+"c" and "a"+"bc" differ.
  void add(std::string_view bytes);
  void add(uint64_t value);
  void add(const X509* cert);
  void add(const EVP_PKEY* key);
  uint64_t finish();

 private:
  std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX, EVP_MD_CTX_free>> ctx_;
};

}  // namespace portico::tls
