#include "harness/TestPki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <utility>

namespace portico::test {
namespace {

constexpr long kDay = 24 * 3600;

std::runtime_error openssl_failure(const std::string& what) {
  std::string text = what;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text += std::string("; ") + buf;
  }
  return std::runtime_error(text);
}

template <typename T>
T* check(T* p, const std::string& what) {
  if (p == nullptr) throw openssl_failure(what);
  return p;
}

void check(int rc, const std::string& what) {
  if (rc != 1) throw openssl_failure(what);
}

void add_extension(X509* cert, const X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, const_cast<X509*>(issuer), cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)> ext(
      check(X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str()), "extension " + value),
      X509_EXTENSION_free);
  check(X509_add_ext(cert, ext.get(), -1), "add extension " + value);
}

struct CertSpec {
  std::string common_name;
  EVP_PKEY* key = nullptr;
  const X509* issuer = nullptr;  // null: self-signed
  EVP_PKEY* issuer_key = nullptr;
  long serial = 0;
  long not_before = 0;  // seconds from now
  long not_after = 0;
  std::vector<std::pair<int, std::string>> extensions;
};

std::shared_ptr<X509> make_certificate(const CertSpec& spec) {
  std::shared_ptr<X509> cert(check(X509_new(), "X509_new"), X509_free);
  X509* x = cert.get();
  check(X509_set_version(x, X509_VERSION_3), "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial), "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before), "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after), "notAfter");
  X509_NAME* subject = X509_get_subject_name(x);
  check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("Portico Tests"), -1, -1,
                                   0),
        "O");
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                   -1, -1, 0),
        "CN " + spec.common_name);
  const X509* issuer = spec.issuer ? spec.issuer : x;
  check(X509_set_issuer_name(x, X509_get_subject_name(issuer)), "issuer");
  check(X509_set_pubkey(x, spec.key), "pubkey");
  add_extension(x, issuer, NID_subject_key_identifier, "hash");
  if (spec.issuer) add_extension(x, issuer, NID_authority_key_identifier, "keyid:always");
  for (const auto& [nid, value] : spec.extensions) add_extension(x, issuer, nid, value);
  EVP_PKEY* signer = spec.issuer_key ? spec.issuer_key : spec.key;
  if (X509_sign(x, signer, EVP_sha256()) == 0) throw openssl_failure("sign " + spec.common_name);
  return cert;
}

std::unique_ptr<BIO, decltype(&BIO_free_all)> open_for_writing(const std::string& path) {
  return {check(BIO_new_file(path.c_str(), "w"), "cannot write " + path), BIO_free_all};
}

void write_key(const std::string& path, EVP_PKEY* key, const std::string& passphrase) {
  auto bio = open_for_writing(path);
  const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
  auto* pass = reinterpret_cast<const unsigned char*>(passphrase.data());
  check(PEM_write_bio_PrivateKey(bio.get(), key, cipher, pass, static_cast<int>(passphrase.size()),
                                 nullptr, nullptr),
        "write " + path);
}

}  // namespace

TestPki::TestPki(std::string dir, KeyType ca_key, std::string ca_name)
    : dir_(std::move(dir)), ca_file_(dir_ + "/ca.pem") {
  ca_.key = new_key(ca_key);
  ca_.cert = make_certificate({.common_name = ca_name,
                               .key = ca_.key.get(),
                               .serial = ++serial_,
                               .not_before = -kDay,
                               .not_after = 3650 * kDay,
                               .extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                                              {NID_key_usage, "critical,keyCertSign,cRLSign"}}});
  check(PEM_write_bio_X509(open_for_writing(ca_file_).get(), ca_.cert.get()), "write CA");
  write_key(dir_ + "/ca.key", ca_.key.get(), "");
}

std::shared_ptr<EVP_PKEY> TestPki::new_key(KeyType type) {
  if (type == KeyType::Rsa2048 && rsa2048_) return rsa2048_;
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::EcdsaP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::Rsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::Rsa1024:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
      break;
  }
  std::shared_ptr<EVP_PKEY> out(check(key, "key generation"), EVP_PKEY_free);
  if (type == KeyType::Rsa2048) rsa2048_ = out;
  return out;
}

const TestPki::Issuer& TestPki::intermediate() {
  if (intermediate_) return *intermediate_;
  Issuer in;
  in.key = new_key(KeyType::EcdsaP256);
  in.cert = make_certificate({.common_name = "Portico Test Intermediate",
                              .key = in.key.get(),
                              .issuer = ca_.cert.get(),
                              .issuer_key = ca_.key.get(),
                              .serial = ++serial_,
                              .not_before = -kDay,
                              .not_after = 3650 * kDay,
                              .extensions = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                             {NID_key_usage, "critical,keyCertSign,cRLSign"}}});
  intermediate_ = std::move(in);
  return *intermediate_;
}

PemFiles TestPki::issue(const std::string& name, const Leaf& leaf) {
  const Issuer& issuer = leaf.via_intermediate ? intermediate() : ca_;
  std::shared_ptr<EVP_PKEY> key = new_key(leaf.key);
  CertSpec spec{.common_name = leaf.common_name.empty() ? name : leaf.common_name,
                .key = key.get(),
                .issuer = issuer.cert.get(),
                .issuer_key = issuer.key.get(),
                .serial = ++serial_};
  if (leaf.days_valid >= 0) {
    spec.not_before = -3600;
    spec.not_after = leaf.days_valid * kDay;
  } else {
    spec.not_before = 2 * leaf.days_valid * kDay;
    spec.not_after = leaf.days_valid * kDay;
  }
  std::string alt_names;
  for (const auto& dns : leaf.dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : leaf.ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  spec.extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, leaf.key == KeyType::EcdsaP256 ? "critical,digitalSignature"
                                                     : "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, "serverAuth,clientAuth"}};
  if (!alt_names.empty()) spec.extensions.emplace_back(NID_subject_alt_name, alt_names);
  std::shared_ptr<X509> cert = make_certificate(spec);

  PemFiles files{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  {
    auto bio = open_for_writing(files.cert);
    check(PEM_write_bio_X509(bio.get(), cert.get()), "write " + files.cert);
    if (leaf.via_intermediate)
      check(PEM_write_bio_X509(bio.get(), issuer.cert.get()), "write " + files.cert);
  }
  write_key(files.key, key.get(), leaf.key_passphrase);
  return files;
}

}  // namespace portico::test
