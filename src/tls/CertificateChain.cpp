#include "tls/CertificateChain.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "http/Header.h"

namespace portico::tls {
namespace {

using FilePtr = std::unique_ptr<std::FILE, decltype([](std::FILE* f) { std::fclose(f); })>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES, GENERAL_NAMES_free>>;
using Utf8Ptr = std::unique_ptr<unsigned char, decltype([](unsigned char* p) { OPENSSL_free(p); })>;

constexpr int kMinRsaBits = 2048;

// The whole file, read here rather than by OpenSSL so that a failure says why in the
// system's words (errno) instead of OpenSSL's "system lib".
std::string read_whole_file(const std::string& path, const std::string& role) {
  auto fail = [&](int err) {
    return std::invalid_argument("cannot read " + role + " file " + path + ": " +
                                 std::strerror(err));
  };
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw fail(errno);
  std::string out;
  char buf[16384];
  while (size_t n = std::fread(buf, 1, sizeof buf, file.get())) out.append(buf, n);
  // A directory opens but does not read (EISDIR).
  if (std::ferror(file.get())) throw fail(errno);
  return out;
}

BioPtr memory_bio(const std::string& data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) throw std::runtime_error("out of memory: " + take_errors());
  return bio;
}

// After the last PEM block OpenSSL queues "no start line": the normal end of a file.
bool only_end_of_pem() {
  unsigned long e = ERR_peek_last_error();
  return e != 0 && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

// OpenSSL asks for a passphrase only when the key is encrypted: being asked is the test.
int refuse_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

EvpPkeyPtr read_key(const std::string& path) {
  const std::string pem = read_whole_file(path, "key");
  BioPtr bio = memory_bio(pem);
  bool asked = false;
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked));
  if (key) return key;
  const std::string why = take_errors();
  if (asked)
    throw std::invalid_argument(
        "key file " + path +
        " is encrypted (passphrase-protected); Portico reads no passphrases: decrypt it with "
        "`openssl pkey -in " +
        path + " -out " + path + ".plain`");
  // OpenSSL's reason for a file without any key is "unsupported": say it plainly.
  if (pem.find("PRIVATE KEY-----") == std::string::npos)
    throw std::invalid_argument("key file " + path + " holds no PEM private key");
  throw std::invalid_argument("the private key in " + path + " cannot be parsed: " + why);
}

std::string key_type_name(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_EC:
      return "ECDSA";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    case EVP_PKEY_DSA:
      return "DSA";
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name ? name : "unknown";
}

std::string lower(const unsigned char* data, size_t size) {
  std::string out(reinterpret_cast<const char*>(data), size);
  for (char& c : out) c = http::ascii_lower(c);
  return out;
}

// RFC 6125: the DNS names of the subject alternative names; the common name only when
// there are none. A name with an embedded NUL is a forgery attempt and is left out.
std::vector<std::string> certificate_names(const X509* cert) {
  std::vector<std::string> names;
  GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(sans.get(), i);
    if (gen->type != GEN_DNS) continue;
    const unsigned char* data = ASN1_STRING_get0_data(gen->d.dNSName);
    const size_t size = static_cast<size_t>(ASN1_STRING_length(gen->d.dNSName));
    if (size == 0 || std::memchr(data, 0, size)) continue;
    names.push_back(lower(data, size));
  }
  if (!names.empty()) return names;
  // The last common name is the most specific one.
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = -1;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) index = i;
  if (index < 0) return names;
  unsigned char* utf8 = nullptr;
  const int size =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  Utf8Ptr owned(utf8);
  if (size > 0 && !std::memchr(utf8, 0, static_cast<size_t>(size)))
    names.push_back(lower(utf8, static_cast<size_t>(size)));
  ERR_clear_error();
  return names;
}

int64_t not_after(const X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::vector<X509Ptr> load_certificates(const std::string& path, const std::string& role) {
  const std::string pem = read_whole_file(path, role);
  BioPtr bio = memory_bio(pem);
  std::vector<X509Ptr> certs;
  ERR_clear_error();
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
    certs.push_back(std::move(cert));
  if (only_end_of_pem()) {
    ERR_clear_error();
    if (certs.empty())
      throw std::invalid_argument(role + " file " + path + " holds no PEM certificate");
    return certs;
  }
  throw std::invalid_argument("certificate " + std::to_string(certs.size() + 1) + " in " + path +
                              " cannot be parsed: " + take_errors());
}

std::string subject_rfc2253(const X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
    return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

CertificateChain load_certificate_chain(const std::string& cert_path, const std::string& key_path) {
  CertificateChain chain;
  std::vector<X509Ptr> certs = load_certificates(cert_path, "certificate");
  chain.leaf = std::move(certs.front());
  chain.intermediates.assign(std::make_move_iterator(certs.begin() + 1),
                             std::make_move_iterator(certs.end()));
  chain.key = read_key(key_path);
  if (X509_check_private_key(chain.leaf.get(), chain.key.get()) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("key file " + key_path + " does not match the certificate in " +
                                cert_path);
  }
  chain.key_type = key_type_name(chain.key.get());
  const int base = EVP_PKEY_get_base_id(chain.key.get());
  const int bits = EVP_PKEY_get_bits(chain.key.get());
  if ((base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS) && bits < kMinRsaBits)
    throw std::invalid_argument("the RSA key in " + key_path + " has " + std::to_string(bits) +
                                " bits; at least " + std::to_string(kMinRsaBits) + " are required");
  chain.names = certificate_names(chain.leaf.get());
  chain.subject = subject_rfc2253(chain.leaf.get());
  chain.not_after = not_after(chain.leaf.get());
  return chain;
}

}  // namespace portico::tls
