#include "tls/UpstreamTlsContext.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/TempDir.h"
#include "harness/TestPki.h"
#include "tls/ServerTlsContext.h"
#include "tls_in_memory.h"

namespace portico::tls {
namespace {

using test::PemFiles;
using test::TestPki;

constexpr const char* kSource = "portico.yaml";

class Sessions final : public SessionSink {
 public:
  void on_new_session(SslSessionPtr session) override { got.push_back(std::move(session)); }
  std::vector<SslSessionPtr> got;
};

class UpstreamTlsContextTest : public ::testing::Test {
 protected:
  config::Upstream upstream() {
    config::Upstream u;
    u.name = "backend";
    u.mark = {10, 3};
    u.tls.enabled = true;
    u.tls.mark = {12, 5};
    u.tls.ca = pki.ca_file();
    return u;
  }

  std::shared_ptr<const UpstreamTlsContext> build(const config::Upstream& u) {
    return UpstreamTlsContext::build(u, kSource);
  }

  std::string refusal(const config::Upstream& u) {
    try {
      build(u);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }

  // A server for `files`; with `client_ca`, it requires client certificates of that CA.
  std::shared_ptr<const ServerTlsContext> server(
      const PemFiles& files, const std::string& client_ca = "",
      config::TlsVersion max = config::TlsVersion::V1_3) {
    config::Listener l;
    l.name = "upstream-server";
    l.tls.enabled = true;
    l.tls.certificates.push_back({.cert = files.cert, .key = files.key});
    l.tls.max_version = max;
    if (!client_ca.empty()) {
      l.tls.client_certificates.enabled = true;
      l.tls.client_certificates.ca = client_ca;
    }
    return ServerTlsContext::build(l, kSource, nullptr);
  }

  struct Connection {
    test::Handshake handshake;
    long verify_result = X509_V_OK;
    std::string sni;  // what the server received; "-" when none
    std::string client_subject;
    std::string alpn;
    bool resumed = false;
  };

  Connection connect(const UpstreamTlsContext& up, std::string_view host,
                     const ServerTlsContext& srv, SSL_SESSION* session = nullptr,
                     SessionSink* sink = nullptr) {
    SslPtr client = up.new_connection(host, session);
    EXPECT_TRUE(client);
    if (sink) SSL_set_app_data(client.get(), sink);
    SslPtr accepted = srv.new_connection();
    test::connect_in_memory(client.get(), accepted.get());
    Connection c;
    c.handshake = test::run_handshake(client.get(), accepted.get());
    c.verify_result = SSL_get_verify_result(client.get());
    const char* sni = SSL_get_servername(accepted.get(), TLSEXT_NAMETYPE_host_name);
    c.sni = sni ? sni : "-";
    if (!c.handshake.ok) return c;
    EXPECT_TRUE(test::exchange(client.get(), accepted.get()));
    test::shut_down(client.get(), accepted.get());
    c.client_subject = ServerTlsContext::client_subject(accepted.get());
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(client.get(), &alpn, &alpn_size);
    c.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_size);
    c.resumed = SSL_session_reused(client.get()) == 1;
    return c;
  }

  it::TempDir dir;
  TestPki pki{dir.path()};
  PemFiles api = pki.issue("api", {.dns_names = {"api.internal"},
                                   .ip_addresses = {"127.0.0.1", "::1"},
                                   .via_intermediate = true});
};

TEST_F(UpstreamTlsContextTest, VerifiesTheHostName) {
  auto up = build(upstream());
  auto srv = server(api);
  Connection ok = connect(*up, "api.internal", *srv);
  EXPECT_TRUE(ok.handshake.ok) << ok.handshake.client_error;
  EXPECT_EQ(ok.sni, "api.internal");
  EXPECT_EQ(ok.alpn, "http/1.1");

  Connection wrong = connect(*up, "db.internal", *srv);
  EXPECT_FALSE(wrong.handshake.ok);
  EXPECT_EQ(wrong.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_NE(wrong.handshake.client_error.find("certificate verify failed"), std::string::npos)
      << wrong.handshake.client_error;
}

TEST_F(UpstreamTlsContextTest, ConfiguredServerNameReplacesTheHost) {
  auto u = upstream();
  u.tls.server_name = "api.internal";
  auto up = build(u);
  Connection c = connect(*up, "10.1.2.3", *server(api));
  EXPECT_TRUE(c.handshake.ok) << c.handshake.client_error;
  EXPECT_EQ(c.sni, "api.internal");
}

TEST_F(UpstreamTlsContextTest, IpLiteralIsVerifiedAsAnAddressWithoutSni) {
  auto up = build(upstream());
  auto srv = server(api);
  for (const char* host : {"127.0.0.1", "::1", "[::1]"}) {
    Connection c = connect(*up, host, *srv);
    EXPECT_TRUE(c.handshake.ok) << host << ": " << c.handshake.client_error;
    EXPECT_EQ(c.sni, "-") << host;
  }
  Connection other = connect(*up, "127.0.0.2", *srv);
  EXPECT_FALSE(other.handshake.ok);
  EXPECT_EQ(other.verify_result, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(UpstreamTlsContextTest, UntrustedCertificateFailsUnlessVerifyIsOff) {
  it::TempDir other_dir;
  TestPki other(other_dir.path(), test::KeyType::EcdsaP256, "Self Signed");
  // A CA certificate is self-signed: serve it as the server's own.
  auto self_signed = server({other.ca_file(), other_dir.File("ca.key")});
  Connection refused = connect(*build(upstream()), "api.internal", *self_signed);
  EXPECT_FALSE(refused.handshake.ok);
  EXPECT_EQ(refused.verify_result, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);

  auto u = upstream();
  u.tls.verify = false;
  Connection accepted = connect(*build(u), "api.internal", *self_signed);
  EXPECT_TRUE(accepted.handshake.ok) << accepted.handshake.client_error;
}

TEST_F(UpstreamTlsContextTest, ExpiredCertificateFails) {
  auto expired = pki.issue("expired", {.dns_names = {"api.internal"}, .days_valid = -1});
  Connection c = connect(*build(upstream()), "api.internal", *server(expired));
  EXPECT_FALSE(c.handshake.ok);
  EXPECT_EQ(c.verify_result, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(UpstreamTlsContextTest, WithoutCaFileTheSystemStoreIsUsed) {
  auto u = upstream();
  u.tls.ca.clear();
  auto up = build(u);
  EXPECT_TRUE(up->files().empty());
  // The test CA is not in the system's store.
  Connection c = connect(*up, "api.internal", *server(api));
  EXPECT_FALSE(c.handshake.ok);
  EXPECT_EQ(c.verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(UpstreamTlsContextTest, PresentsItsClientCertificate) {
  auto u = upstream();
  auto portico = pki.issue("portico", {.common_name = "portico-proxy", .via_intermediate = true});
  u.tls.cert = portico.cert;
  u.tls.key = portico.key;
  auto up = build(u);
  EXPECT_EQ(up->files(), (std::vector<std::string>{pki.ca_file(), portico.cert, portico.key}));
  Connection c = connect(*up, "api.internal", *server(api, pki.ca_file()));
  ASSERT_TRUE(c.handshake.ok) << c.handshake.server_error;
  EXPECT_EQ(c.client_subject, "CN=portico-proxy,O=Portico Tests");
  // Without it, the server refuses.
  Connection anonymous = connect(*build(upstream()), "api.internal", *server(api, pki.ca_file()));
  EXPECT_FALSE(anonymous.handshake.ok);
}

TEST_F(UpstreamTlsContextTest, SessionSinkGetsSessionsThatResume) {
  auto up = build(upstream());
  ASSERT_TRUE(up->session_reuse());
  for (auto version : {config::TlsVersion::V1_2, config::TlsVersion::V1_3}) {
    auto srv = server(api, "", version);
    Sessions sessions;
    Connection first = connect(*up, "api.internal", *srv, nullptr, &sessions);
    ASSERT_TRUE(first.handshake.ok);
    ASSERT_FALSE(sessions.got.empty());
    SslSessionPtr saved = std::move(sessions.got.back());
    sessions.got.clear();
    EXPECT_TRUE(connect(*up, "api.internal", *srv, saved.get(), &sessions).resumed);
    // Without a sink the sessions are dropped.
    EXPECT_TRUE(connect(*up, "api.internal", *srv).handshake.ok);
  }
}

TEST_F(UpstreamTlsContextTest, ConnectionFreedWithoutShutdownSpoilsItsSession) {
  auto up = build(upstream());
  auto srv = server(api);
  Sessions sessions;
  {
    SslPtr client = up->new_connection("api.internal", nullptr);
    SSL_set_app_data(client.get(), static_cast<SessionSink*>(&sessions));
    SslPtr accepted = srv->new_connection();
    test::connect_in_memory(client.get(), accepted.get());
    ASSERT_TRUE(test::run_handshake(client.get(), accepted.get()).ok);
    ASSERT_TRUE(test::exchange(client.get(), accepted.get()));
    ASSERT_FALSE(sessions.got.empty());
    EXPECT_EQ(SSL_SESSION_is_resumable(sessions.got.back().get()), 1);
  }
  EXPECT_EQ(SSL_SESSION_is_resumable(sessions.got.back().get()), 0);
}

TEST_F(UpstreamTlsContextTest, SessionReuseOff) {
  auto u = upstream();
  u.tls.session_reuse = false;
  auto up = build(u);
  EXPECT_FALSE(up->session_reuse());
  auto srv = server(api);
  Sessions sessions;
  ASSERT_TRUE(connect(*up, "api.internal", *srv, nullptr, &sessions).handshake.ok);
  EXPECT_TRUE(sessions.got.empty());
}

TEST_F(UpstreamTlsContextTest, ProblemsAreReportedAtTheTlsBlock) {
  auto u = upstream();
  u.tls.ciphers = "NOT-A-CIPHER";
  EXPECT_EQ(refusal(u),
            "portico.yaml:12:5: upstream backend: tls: ciphers \"NOT-A-CIPHER\": OpenSSL accepts "
            "none of them (no cipher match)");
  u = upstream();
  u.tls.ca = dir.File("nope.pem");
  EXPECT_EQ(refusal(u), "portico.yaml:12:5: upstream backend: tls: cannot read CA file " +
                            dir.File("nope.pem") + ": No such file or directory");
  u = upstream();
  auto locked = pki.issue("locked", {.common_name = "x", .key_passphrase = "pw"});
  u.tls.cert = locked.cert;
  u.tls.key = locked.key;
  EXPECT_EQ(refusal(u).rfind("portico.yaml:12:5: upstream backend: tls: client certificate: key "
                             "file " +
                                 locked.key + " is encrypted",
                             0),
            0u)
      << refusal(u);
  u.tls.key.clear();
  EXPECT_EQ(refusal(u),
            "portico.yaml:12:5: upstream backend: tls: a client certificate needs "
            "both cert and key");
}

TEST_F(UpstreamTlsContextTest, ConfiguredVersionsAndCiphers) {
  auto u = upstream();
  u.tls.max_version = config::TlsVersion::V1_2;
  u.tls.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
  auto up = build(u);
  SslPtr client = up->new_connection("api.internal", nullptr);
  SslPtr accepted = server(api)->new_connection();
  test::connect_in_memory(client.get(), accepted.get());
  ASSERT_TRUE(test::run_handshake(client.get(), accepted.get()).ok);
  EXPECT_EQ(SSL_version(client.get()), TLS1_2_VERSION);
  EXPECT_STREQ(SSL_get_cipher_name(client.get()), "ECDHE-ECDSA-CHACHA20-POLY1305");
}

// A reload keeps pooled connections and sessions only under the same fingerprint: it must
// change with a file's content at the same path, not only with the settings.
TEST_F(UpstreamTlsContextTest, FingerprintFollowsSettingsAndTheContentOfEveryFile) {
  // Files of our own, so their content can change under the same paths.
  const std::string ca = dir.File("trust.pem");
  const std::string cert = dir.File("client.pem");
  const std::string key = dir.File("client.key");
  auto portico = pki.issue("portico", {.common_name = "portico-proxy"});
  it::ReplaceFile(ca, it::ReadFile(pki.ca_file()));
  it::ReplaceFile(cert, it::ReadFile(portico.cert));
  it::ReplaceFile(key, it::ReadFile(portico.key));
  auto u = upstream();
  u.tls.ca = ca;
  u.tls.cert = cert;
  u.tls.key = key;
  const auto before = build(u);
  EXPECT_EQ(build(u)->fingerprint(), before->fingerprint());
  EXPECT_TRUE(UpstreamTlsContext::same(build(u).get(), before.get()));

  auto changed = u;
  changed.tls.server_name = "api.internal";
  EXPECT_NE(build(changed)->fingerprint(), before->fingerprint());
  changed = u;
  changed.tls.session_reuse = false;
  EXPECT_NE(build(changed)->fingerprint(), before->fingerprint());

  // A renewed client certificate, written over the old files.
  auto renewed = pki.issue("renewed", {.common_name = "portico-proxy"});
  it::ReplaceFile(cert, it::ReadFile(renewed.cert));
  it::ReplaceFile(key, it::ReadFile(renewed.key));
  const auto after_cert = build(u);
  EXPECT_NE(after_cert->fingerprint(), before->fingerprint());
  EXPECT_FALSE(UpstreamTlsContext::same(after_cert.get(), before.get()));

  // Another CA in the bundle, same path.
  it::TempDir other_dir;
  TestPki other{other_dir.path(), test::KeyType::EcdsaP256, "Other CA"};
  it::ReplaceFile(ca, it::ReadFile(pki.ca_file()) + it::ReadFile(other.ca_file()));
  const auto after_ca = build(u);
  EXPECT_NE(after_ca->fingerprint(), after_cert->fingerprint());
  EXPECT_NE(after_ca->fingerprint(), before->fingerprint());
}

TEST_F(UpstreamTlsContextTest, SamePlainHttpIsNullOnBothSides) {
  auto up = build(upstream());
  EXPECT_TRUE(UpstreamTlsContext::same(nullptr, nullptr));
  EXPECT_FALSE(UpstreamTlsContext::same(up.get(), nullptr));
  EXPECT_FALSE(UpstreamTlsContext::same(nullptr, up.get()));
  EXPECT_TRUE(UpstreamTlsContext::same(up.get(), up.get()));
}

// As on listeners: an upstream that asks to renegotiate (TLS 1.2) is refused.
TEST_F(UpstreamTlsContextTest, RenegotiationIsRefused) {
  SslPtr client = build(upstream())->new_connection("api.internal", nullptr);
  ASSERT_TRUE(client);
  EXPECT_NE(SSL_get_options(client.get()) & SSL_OP_NO_RENEGOTIATION, 0u);
}

}  // namespace
}  // namespace portico::tls
