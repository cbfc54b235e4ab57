// A certificate, its chain and its private key, read from PEM files and checked the way
// an operator needs at load time: each refusal names the file and says what to do, so a
// bad file stops a reload with a message instead of failing handshakes later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tls/OpenSsl.h"

namespace portico::tls {

struct CertificateChain {
  X509Ptr leaf;
  std::vector<X509Ptr> intermediates;  // file order, sent after the leaf
  EvpPkeyPtr key;
  // Lower case: the DNS subject alternative names, else the subject's common name.
  std::vector<std::string> names;
  std::string key_type;   // "RSA", "ECDSA", "Ed25519", ...
  std::string subject;    // RFC 2253 text
  int64_t not_after = 0;  // unix seconds
};

// Reads the certificate file (the leaf, then its intermediates) and the key file. Throws
// std::invalid_argument naming the file when one cannot be read, holds no certificate or
// no key, the key is encrypted, does not match the certificate, or is an RSA key under
// 2048 bits.
CertificateChain load_certificate_chain(const std::string& cert_path, const std::string& key_path);

// Every certificate of a PEM file (a CA bundle), in file order. Throws std::invalid_argument
// when the file cannot be read, holds none or one cannot be parsed; `role` names the file
// in the message ("CA" file ...).
std::vector<X509Ptr> load_certificates(const std::string& path, const std::string& role);

// The certificate's subject as RFC 2253 text ("CN=a.example.com,O=Example").
std::string subject_rfc2253(const X509* cert);

}  // namespace portico::tls
