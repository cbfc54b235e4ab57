#include "tls/CertificateChain.h"

#include <gtest/gtest.h>

#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/TempDir.h"
#include "harness/TestPki.h"

namespace portico::tls {
namespace {

using test::KeyType;
using test::TestPki;

class CertificateChainTest : public ::testing::Test {
 protected:
  // The message load_certificate_chain throws, "" when it does not.
  std::string refusal(const std::string& cert, const std::string& key) {
    try {
      load_certificate_chain(cert, key);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }

  it::TempDir dir;
  TestPki pki{dir.path()};
};

TEST_F(CertificateChainTest, EcdsaCertificateWithNamesFromItsAlternativeNames) {
  auto files = pki.issue("site", {.dns_names = {"WWW.Example.com", "example.com"},
                                  .ip_addresses = {"127.0.0.1"},
                                  .common_name = "ignored.example.com"});
  CertificateChain chain = load_certificate_chain(files.cert, files.key);
  ASSERT_TRUE(chain.leaf);
  ASSERT_TRUE(chain.key);
  EXPECT_TRUE(chain.intermediates.empty());
  EXPECT_EQ(chain.names, (std::vector<std::string>{"www.example.com", "example.com"}));
  EXPECT_EQ(chain.key_type, "ECDSA");
  EXPECT_EQ(chain.subject, "CN=ignored.example.com,O=Portico Tests");
  const int64_t now = std::time(nullptr);
  EXPECT_GT(chain.not_after, now + 29 * 86400);
  EXPECT_LT(chain.not_after, now + 31 * 86400);
}

TEST_F(CertificateChainTest, RsaCertificateWithTheNameFromItsCommonName) {
  auto files = pki.issue("rsa", {.common_name = "Legacy.Example.com", .key = KeyType::Rsa2048});
  CertificateChain chain = load_certificate_chain(files.cert, files.key);
  EXPECT_EQ(chain.key_type, "RSA");
  EXPECT_EQ(chain.names, (std::vector<std::string>{"legacy.example.com"}));
}

TEST_F(CertificateChainTest, IntermediatesAreKeptInFileOrder) {
  auto files = pki.issue("chained", {.dns_names = {"a.example.com"}, .via_intermediate = true});
  CertificateChain chain = load_certificate_chain(files.cert, files.key);
  ASSERT_EQ(chain.intermediates.size(), 1u);
  EXPECT_EQ(subject_rfc2253(chain.intermediates[0].get()),
            "CN=Portico Test Intermediate,O=Portico Tests");
}

TEST_F(CertificateChainTest, ExpiredCertificateLoadsAndSaysWhenItExpired) {
  // Refusing it would turn a renewal that came late into an outage at the next reload.
  auto files = pki.issue("old", {.dns_names = {"a.example.com"}, .days_valid = -2});
  CertificateChain chain = load_certificate_chain(files.cert, files.key);
  const int64_t now = std::time(nullptr);
  EXPECT_LT(chain.not_after, now - 86400);
  EXPECT_GT(chain.not_after, now - 3 * 86400);
}

TEST_F(CertificateChainTest, EncryptedKeyIsRefusedWithHowToDecryptIt) {
  auto files = pki.issue("locked", {.dns_names = {"a.example.com"}, .key_passphrase = "secret"});
  EXPECT_EQ(refusal(files.cert, files.key),
            "key file " + files.key +
                " is encrypted (passphrase-protected); Portico reads no passphrases: decrypt it "
                "with `openssl pkey -in " +
                files.key + " -out " + files.key + ".plain`");
}

TEST_F(CertificateChainTest, KeyOfAnotherCertificateIsRefused) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}});
  auto b = pki.issue("b", {.dns_names = {"b.example.com"}});
  EXPECT_EQ(refusal(a.cert, b.key),
            "key file " + b.key + " does not match the certificate in " + a.cert);
}

TEST_F(CertificateChainTest, ShortRsaKeyIsRefused) {
  auto files = pki.issue("short", {.dns_names = {"a.example.com"}, .key = KeyType::Rsa1024});
  EXPECT_EQ(refusal(files.cert, files.key),
            "the RSA key in " + files.key + " has 1024 bits; at least 2048 are required");
}

TEST_F(CertificateChainTest, MissingFilesAreNamedWithTheSystemsReason) {
  auto files = pki.issue("a", {.dns_names = {"a.example.com"}});
  const std::string missing = dir.File("missing.pem");
  EXPECT_EQ(refusal(missing, files.key),
            "cannot read certificate file " + missing + ": No such file or directory");
  EXPECT_EQ(refusal(files.cert, missing),
            "cannot read key file " + missing + ": No such file or directory");
  EXPECT_EQ(refusal(dir.path(), files.key),
            "cannot read certificate file " + dir.path() + ": Is a directory");
}

TEST_F(CertificateChainTest, FilesWithoutPemAreRefused) {
  auto files = pki.issue("a", {.dns_names = {"a.example.com"}});
  const std::string text = dir.Write("text.pem", "not a certificate\n");
  EXPECT_EQ(refusal(text, files.key), "certificate file " + text + " holds no PEM certificate");
  // A key where the certificate should be, and the other way round.
  EXPECT_EQ(refusal(files.key, files.key),
            "certificate file " + files.key + " holds no PEM certificate");
  EXPECT_EQ(refusal(files.cert, files.cert),
            "key file " + files.cert + " holds no PEM private key");
  std::string key = it::ReadFile(files.key);
  key.replace(key.find('\n') + 5, 8, "AAAAAAAA");
  const std::string bad_key = dir.Write("bad.key", key);
  EXPECT_EQ(refusal(files.cert, bad_key)
                .rfind("the private key in " + bad_key + " cannot be parsed: ", 0),
            0u)
      << refusal(files.cert, bad_key);
  const std::string broken =
      dir.Write("broken.pem", it::ReadFile(files.cert) +
                                  "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(
      refusal(broken, files.key).rfind("certificate 2 in " + broken + " cannot be parsed: ", 0), 0u)
      << refusal(broken, files.key);
}

TEST_F(CertificateChainTest, OneFileMayHoldBothCertificateAndKey) {
  auto files = pki.issue("a", {.dns_names = {"a.example.com"}, .via_intermediate = true});
  const std::string both =
      dir.Write("both.pem", it::ReadFile(files.key) + it::ReadFile(files.cert));
  CertificateChain chain = load_certificate_chain(both, both);
  EXPECT_EQ(chain.names, (std::vector<std::string>{"a.example.com"}));
  EXPECT_EQ(chain.intermediates.size(), 1u);
}

}  // namespace
}  // namespace portico::tls
