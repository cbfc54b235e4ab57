#include "tls/ServerTlsContext.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/TempDir.h"
#include "harness/TestPki.h"
#include "tls_in_memory.h"

namespace portico::tls {
namespace {

using test::KeyType;
using test::PemFiles;
using test::TestPki;

constexpr const char* kSource = "portico.yaml";

class ServerTlsContextTest : public ::testing::Test {
 protected:
  config::Listener listener(const std::string& name, const std::vector<PemFiles>& certs) {
    config::Listener l;
    l.name = name;
    l.mark = {2, 3};
    l.tls.enabled = true;
    l.tls.mark = {4, 5};
    int line = 6;
    for (const auto& files : certs) {
      config::TlsCertificate c;
      c.cert = files.cert;
      c.key = files.key;
      c.mark = {line++, 9};
      l.tls.certificates.push_back(c);
    }
    return l;
  }

  std::shared_ptr<const ServerTlsContext> build(const config::Listener& l,
                                                std::shared_ptr<TicketKeyRing> ring = nullptr) {
    return ServerTlsContext::build(l, kSource, std::move(ring));
  }

  // The message build() throws, "" when it does not.
  std::string refusal(const config::Listener& l) {
    try {
      build(l);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }

  struct Connection {
    test::Handshake handshake;
    std::string served;  // the subject of the server's certificate
    bool resumed = false;
    SslSessionPtr session;
    std::string alpn;
    bool refused_server_name = false;
    std::string client_subject;  // as the server saw it
  };

  // One connection from a client of `client_ctx` (the CA-trusting default when null) that
  // sends `sni`; `setup` adjusts the client SSL before the handshake.
  Connection connect(const ServerTlsContext& server, const std::string& sni,
                     SSL_SESSION* resume = nullptr, SSL_CTX* client_ctx = nullptr,
                     const std::function<void(SSL*)>& setup = {}) {
    SslPtr client = test::new_client(client_ctx ? client_ctx : trusting.get(), sni);
    if (resume) SSL_set_session(client.get(), resume);
    if (setup) setup(client.get());
    SslPtr ssl = server.new_connection();
    EXPECT_TRUE(ssl);
    test::connect_in_memory(client.get(), ssl.get());
    Connection c;
    c.handshake = test::run_handshake(client.get(), ssl.get());
    c.refused_server_name = ServerTlsContext::refused_server_name(ssl.get());
    if (!c.handshake.ok) return c;
    EXPECT_TRUE(test::exchange(client.get(), ssl.get()));
    test::shut_down(client.get(), ssl.get());
    c.served = test::peer_subject(client.get());
    c.resumed = SSL_session_reused(client.get()) == 1;
    c.session.reset(SSL_get1_session(client.get()));
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(client.get(), &alpn, &alpn_size);
    c.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_size);
    c.client_subject = ServerTlsContext::client_subject(ssl.get());
    return c;
  }

  it::TempDir dir;
  TestPki pki{dir.path()};
  SslCtxPtr trusting = test::client_context(pki.ca_file());
};

TEST_F(ServerTlsContextTest, ServerNamePicksTheCertificateExactOrWildcard) {
  auto api = pki.issue("api", {.dns_names = {"api.example.com"}});
  auto wild = pki.issue("wild", {.dns_names = {"*.example.com"}});
  auto other = pki.issue("other", {.dns_names = {"example.org", "www.example.org"}});
  auto server = build(listener("web", {api, wild, other}));
  EXPECT_EQ(connect(*server, "api.example.com").served, "CN=api,O=Portico Tests");
  EXPECT_EQ(connect(*server, "www.example.com").served, "CN=wild,O=Portico Tests");
  EXPECT_EQ(connect(*server, "WWW.Example.ORG").served, "CN=other,O=Portico Tests");
}

TEST_F(ServerTlsContextTest, UnknownOrMissingServerNameGetsTheFirstCertificate) {
  auto first = pki.issue("first", {.dns_names = {"a.example.com"}});
  auto second = pki.issue("second", {.dns_names = {"b.example.com"}});
  auto server = build(listener("web", {first, second}));
  SslCtxPtr any = test::client_context("");  // the names do not match: no verification
  Connection unknown = connect(*server, "c.example.com", nullptr, any.get());
  ASSERT_TRUE(unknown.handshake.ok);
  EXPECT_EQ(unknown.served, "CN=first,O=Portico Tests");
  EXPECT_FALSE(unknown.refused_server_name);
  EXPECT_EQ(connect(*server, "", nullptr, any.get()).served, "CN=first,O=Portico Tests");
}

TEST_F(ServerTlsContextTest, UnknownOrMissingServerNameRefusedWhenAsked) {
  auto first = pki.issue("first", {.dns_names = {"a.example.com"}});
  auto l = listener("web", {first});
  l.tls.reject_unknown_server_name = true;
  auto server = build(l);
  for (const char* sni : {"c.example.com", ""}) {
    Connection c = connect(*server, sni);
    EXPECT_FALSE(c.handshake.ok) << sni;
    EXPECT_TRUE(c.refused_server_name) << sni;
    EXPECT_NE(c.handshake.client_error.find("unrecognized name"), std::string::npos)
        << c.handshake.client_error;
  }
  Connection known = connect(*server, "a.example.com");
  EXPECT_TRUE(known.handshake.ok);
  EXPECT_FALSE(known.refused_server_name);
}

TEST_F(ServerTlsContextTest, ExplicitServerNamesReplaceTheCertificatesOwn) {
  auto first = pki.issue("first", {.dns_names = {"a.example.com"}});
  auto second = pki.issue("second", {.dns_names = {"b.example.com"}});
  auto l = listener("web", {first, second});
  l.tls.certificates[1].server_names = {"Other.Example.com", "*.example.net"};
  auto server = build(l);
  SslCtxPtr any = test::client_context("");
  EXPECT_EQ(connect(*server, "other.example.com", nullptr, any.get()).served,
            "CN=second,O=Portico Tests");
  EXPECT_EQ(connect(*server, "x.example.net", nullptr, any.get()).served,
            "CN=second,O=Portico Tests");
  EXPECT_EQ(connect(*server, "b.example.com", nullptr, any.get()).served,
            "CN=first,O=Portico Tests");
  EXPECT_EQ(server->certificates()[1].names,
            (std::vector<std::string>{"*.example.net", "other.example.com"}));
}

TEST_F(ServerTlsContextTest, RsaAndEcdsaForTheSameNamesAreBothServed) {
  auto ecdsa = pki.issue("ecdsa", {.dns_names = {"a.example.com"}, .key = KeyType::EcdsaP256});
  auto rsa = pki.issue("rsa", {.dns_names = {"a.example.com"}, .key = KeyType::Rsa2048});
  auto server = build(listener("web", {rsa, ecdsa}));
  auto sigalgs = [](const char* list) {
    return [list](SSL* ssl) { ASSERT_EQ(SSL_set1_sigalgs_list(ssl, list), 1); };
  };
  EXPECT_EQ(
      connect(*server, "a.example.com", nullptr, nullptr, sigalgs("ecdsa_secp256r1_sha256")).served,
      "CN=ecdsa,O=Portico Tests");
  EXPECT_EQ(connect(*server, "a.example.com", nullptr, nullptr,
                    sigalgs("rsa_pss_rsae_sha256:rsa_pkcs1_sha256"))
                .served,
            "CN=rsa,O=Portico Tests");
  ASSERT_EQ(server->certificates().size(), 2u);
  EXPECT_EQ(server->certificates()[0].key_type, "RSA");
  EXPECT_EQ(server->certificates()[1].key_type, "ECDSA");
}

TEST_F(ServerTlsContextTest, SameNamesAndKeyTypeTwiceIsAnError) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com", "b.example.com"}});
  auto b = pki.issue("b", {.dns_names = {"B.example.com", "a.example.com"}});
  EXPECT_EQ(refusal(listener("web", {a, b})),
            "portico.yaml:7:9: listener web: tls.certificates[1]: has the same server names and "
            "key type (ECDSA) as tls.certificates[0]; a listener serves one certificate per key "
            "type for a set of names");
}

TEST_F(ServerTlsContextTest, CertificateProblemsNameTheCertificate) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}});
  auto locked = pki.issue("locked", {.dns_names = {"b.example.com"}, .key_passphrase = "pw"});
  EXPECT_EQ(refusal(listener("web", {a, locked})),
            "portico.yaml:7:9: listener web: tls.certificates[1]: key file " + locked.key +
                " is encrypted (passphrase-protected); Portico reads no passphrases: decrypt it "
                "with `openssl pkey -in " +
                locked.key + " -out " + locked.key + ".plain`");
  auto l = listener("web", {a});
  l.tls.certificates[0].cert = dir.File("missing.pem");
  EXPECT_EQ(refusal(l),
            "portico.yaml:6:9: listener web: tls.certificates[0]: cannot read "
            "certificate file " +
                dir.File("missing.pem") + ": No such file or directory");
}

TEST_F(ServerTlsContextTest, ReportsItsFilesAndCertificates) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}, .via_intermediate = true});
  auto b = pki.issue("b", {.dns_names = {"b.example.com"}});
  auto l = listener("web", {a, b});
  l.tls.client_certificates.enabled = true;
  l.tls.client_certificates.ca = pki.ca_file();
  auto server = build(l);
  EXPECT_EQ(server->files(),
            (std::vector<std::string>{pki.ca_file(), a.cert, a.key, b.cert, b.key}));
  ASSERT_EQ(server->certificates().size(), 2u);
  const auto& info = server->certificates()[0];
  EXPECT_EQ(info.names, (std::vector<std::string>{"a.example.com"}));
  EXPECT_EQ(info.key_type, "ECDSA");
  EXPECT_EQ(info.subject, "CN=a,O=Portico Tests");
  EXPECT_EQ(info.cert_file, a.cert);
  EXPECT_GT(info.not_after, 0);
}

TEST_F(ServerTlsContextTest, IntermediateIsSentAfterTheLeaf) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}, .via_intermediate = true});
  auto server = build(listener("web", {a}));
  // The client trusts only the root: it verifies only if the server sends the intermediate.
  Connection c = connect(*server, "a.example.com");
  EXPECT_TRUE(c.handshake.ok) << c.handshake.client_error;
}

TEST_F(ServerTlsContextTest, AlpnPicksOurFirstProtocolTheClientOffers) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}});
  auto l = listener("web", {a});
  l.tls.alpn = {"h2", "http/1.1"};
  auto server = build(l);
  auto offer = [](std::string wire) {
    return [wire](SSL* ssl) {
      ASSERT_EQ(SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                                    static_cast<unsigned>(wire.size())),
                0);
    };
  };
  EXPECT_EQ(connect(*server, "a.example.com", nullptr, nullptr, offer("\x08http/1.1\x02h2")).alpn,
            "h2");
  EXPECT_EQ(connect(*server, "a.example.com", nullptr, nullptr, offer("\x08http/1.1")).alpn,
            "http/1.1");
  // Nothing in common: the handshake goes on without ALPN.
  Connection none = connect(*server, "a.example.com", nullptr, nullptr, offer("\x06spdy/3"));
  EXPECT_TRUE(none.handshake.ok);
  EXPECT_EQ(none.alpn, "");
}

TEST_F(ServerTlsContextTest, DefaultAlpnIsHttp11) {
  auto server = build(listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})}));
  Connection c = connect(*server, "a.example.com", nullptr, nullptr, [](SSL* ssl) {
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>("\x02h2\x08http/1.1"), 12);
  });
  EXPECT_EQ(c.alpn, "http/1.1");
}

TEST_F(ServerTlsContextTest, Tls11ClientIsRefused) {
  auto server = build(listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})}));
  SslCtxPtr old = test::client_context("");
  SSL_CTX_set_security_level(old.get(), 0);
  SSL_CTX_set_min_proto_version(old.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.get(), TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(old.get(), "DEFAULT:@SECLEVEL=0");
  Connection c = connect(*server, "a.example.com", nullptr, old.get());
  EXPECT_FALSE(c.handshake.ok);
  EXPECT_NE(c.handshake.server_error.find("unsupported protocol"), std::string::npos)
      << c.handshake.server_error;
}

TEST_F(ServerTlsContextTest, Tls13OnlyListenerRefusesTls12Client) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})});
  l.tls.min_version = config::TlsVersion::V1_3;
  auto server = build(l);
  SslCtxPtr tls12 = test::client_context(pki.ca_file());
  SSL_CTX_set_max_proto_version(tls12.get(), TLS1_2_VERSION);
  EXPECT_FALSE(connect(*server, "a.example.com", nullptr, tls12.get()).handshake.ok);
  EXPECT_TRUE(connect(*server, "a.example.com").handshake.ok);
}

TEST_F(ServerTlsContextTest, TicketsResumeAcrossContextsSharingTheRing) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})});
  l.tls.session_cache_size = 0;  // tickets are the only way
  auto worker1 = build(l);
  ASSERT_TRUE(worker1->tickets());
  auto worker2 = build(l, worker1->tickets());  // a reload, or another worker's view
  EXPECT_EQ(worker2->tickets(), worker1->tickets());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SslCtxPtr client = test::client_context(pki.ca_file());
    SSL_CTX_set_max_proto_version(client.get(), version);
    Connection first = connect(*worker1, "a.example.com", nullptr, client.get());
    ASSERT_TRUE(first.handshake.ok);
    EXPECT_FALSE(first.resumed);
    EXPECT_TRUE(connect(*worker2, "a.example.com", first.session.get(), client.get()).resumed)
        << version;
    // A new ring (a first load) does not know the ticket.
    auto fresh = build(l);
    EXPECT_FALSE(connect(*fresh, "a.example.com", first.session.get(), client.get()).resumed)
        << version;
  }
}

TEST_F(ServerTlsContextTest, RingWithAnotherRotationIsReplaced) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})});
  auto ring = std::make_shared<TicketKeyRing>(std::chrono::milliseconds(1000));
  EXPECT_NE(build(l, ring)->tickets(), ring);
  l.tls.ticket_key_rotation = std::chrono::milliseconds(1000);
  EXPECT_EQ(build(l, ring)->tickets(), ring);
  l.tls.session_tickets = false;
  EXPECT_EQ(build(l, ring)->tickets(), nullptr);
}

TEST_F(ServerTlsContextTest, SessionCacheResumesWithTicketsOff) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}}),
                            pki.issue("b", {.dns_names = {"b.example.com"}})});
  l.tls.session_tickets = false;
  auto server = build(l);
  EXPECT_EQ(server->tickets(), nullptr);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SslCtxPtr client = test::client_context(pki.ca_file());
    SSL_CTX_set_max_proto_version(client.get(), version);
    for (const char* name : {"a.example.com", "b.example.com"}) {
      Connection first = connect(*server, name, nullptr, client.get());
      ASSERT_TRUE(first.handshake.ok);
      Connection again = connect(*server, name, first.session.get(), client.get());
      EXPECT_TRUE(again.resumed) << version << " " << name;
      EXPECT_EQ(again.served, first.served);
    }
  }
  // No cache and no tickets: nothing to resume.
  l.tls.session_cache_size = 0;
  auto forgetful = build(l);
  Connection first = connect(*forgetful, "a.example.com");
  EXPECT_FALSE(connect(*forgetful, "a.example.com", first.session.get()).resumed);
}

TEST_F(ServerTlsContextTest, ListenersDoNotResumeEachOthersSessions) {
  auto a = pki.issue("a", {.dns_names = {"a.example.com"}});
  // Even with the same ticket keys, the session id context differs.
  auto ring = std::make_shared<TicketKeyRing>(std::chrono::milliseconds(3'600'000));
  auto web = build(listener("web", {a}), ring);
  auto api = build(listener("api", {a}), ring);
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SslCtxPtr client = test::client_context(pki.ca_file());
    SSL_CTX_set_max_proto_version(client.get(), version);
    Connection first = connect(*web, "a.example.com", nullptr, client.get());
    EXPECT_TRUE(connect(*web, "a.example.com", first.session.get(), client.get()).resumed);
    Connection other = connect(*api, "a.example.com", first.session.get(), client.get());
    EXPECT_TRUE(other.handshake.ok);
    EXPECT_FALSE(other.resumed) << version;
  }
}

class ClientCertificateTest : public ServerTlsContextTest {
 protected:
  std::shared_ptr<const ServerTlsContext> server(bool required) {
    auto l = listener("mtls", {pki.issue("server", {.dns_names = {"a.example.com"}})});
    l.tls.client_certificates.enabled = true;
    l.tls.client_certificates.ca = pki.ca_file();
    l.tls.client_certificates.required = required;
    return build(l);
  }

  // A client context trusting the test CA that presents `files` (none when empty).
  SslCtxPtr client(const PemFiles& files) {
    SslCtxPtr ctx = test::client_context(pki.ca_file());
    if (!files.cert.empty()) {
      EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()), 1);
      EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM), 1);
    }
    return ctx;
  }

  it::TempDir other_dir;
  TestPki other_pki{other_dir.path(), KeyType::EcdsaP256, "Other CA"};
};

TEST_F(ClientCertificateTest, RequiredRefusesAClientWithoutCertificate) {
  Connection c = connect(*server(true), "a.example.com", nullptr, client({}).get());
  EXPECT_FALSE(c.handshake.ok);
  EXPECT_NE(c.handshake.server_error.find("peer did not return a certificate"), std::string::npos)
      << c.handshake.server_error;
}

TEST_F(ClientCertificateTest, RequiredAcceptsAGoodCertificateAndReadsItsSubject) {
  auto alice = pki.issue("alice", {.common_name = "alice", .via_intermediate = true});
  Connection c = connect(*server(true), "a.example.com", nullptr, client(alice).get());
  ASSERT_TRUE(c.handshake.ok) << c.handshake.server_error;
  EXPECT_EQ(c.client_subject, "CN=alice,O=Portico Tests");
}

TEST_F(ClientCertificateTest, CertificateOfAnotherCaIsRefused) {
  auto mallory = other_pki.issue("mallory", {.common_name = "mallory"});
  for (bool required : {true, false}) {
    Connection c = connect(*server(required), "a.example.com", nullptr, client(mallory).get());
    EXPECT_FALSE(c.handshake.ok) << required;
    EXPECT_NE(c.handshake.server_error.find("certificate verify failed"), std::string::npos)
        << c.handshake.server_error;
  }
}

TEST_F(ClientCertificateTest, OptionalAcceptsNoCertificateOrAGoodOne) {
  auto mtls = server(false);
  Connection anonymous = connect(*mtls, "a.example.com", nullptr, client({}).get());
  ASSERT_TRUE(anonymous.handshake.ok) << anonymous.handshake.server_error;
  EXPECT_EQ(anonymous.client_subject, "");
  auto bob = pki.issue("bob", {.common_name = "bob"});
  Connection known = connect(*mtls, "a.example.com", nullptr, client(bob).get());
  ASSERT_TRUE(known.handshake.ok);
  EXPECT_EQ(known.client_subject, "CN=bob,O=Portico Tests");
}

TEST_F(ClientCertificateTest, ResumedSessionKeepsTheClientSubject) {
  auto alice = pki.issue("alice", {.common_name = "alice"});
  auto mtls = server(true);
  SslCtxPtr ctx = client(alice);
  Connection first = connect(*mtls, "a.example.com", nullptr, ctx.get());
  Connection again = connect(*mtls, "a.example.com", first.session.get(), ctx.get());
  EXPECT_TRUE(again.resumed);
  EXPECT_EQ(again.client_subject, "CN=alice,O=Portico Tests");
}

TEST_F(ClientCertificateTest, SessionsAreNotResumedOnceTheTrustedCasChange) {
  // A reload keeps the ticket keys; a client certificate verified under the old CAs must
  // not skip verification under the new ones.
  auto alice = pki.issue("alice", {.common_name = "alice"});
  auto l = listener("mtls", {pki.issue("server", {.dns_names = {"a.example.com"}})});
  l.tls.client_certificates.enabled = true;
  l.tls.client_certificates.ca = pki.ca_file();
  auto before = build(l);
  SslCtxPtr ctx = client(alice);
  Connection first = connect(*before, "a.example.com", nullptr, ctx.get());
  ASSERT_TRUE(first.handshake.ok);
  EXPECT_TRUE(connect(*build(l, before->tickets()), "a.example.com", first.session.get(), ctx.get())
                  .resumed);
  l.tls.client_certificates.ca =
      dir.Write("both.pem", it::ReadFile(pki.ca_file()) + it::ReadFile(other_pki.ca_file()));
  auto after = build(l, before->tickets());
  Connection again = connect(*after, "a.example.com", first.session.get(), ctx.get());
  EXPECT_TRUE(again.handshake.ok);
  EXPECT_FALSE(again.resumed);
}

TEST_F(ClientCertificateTest, CaProblemsAreListenerWide) {
  auto l = listener("mtls", {pki.issue("server", {.dns_names = {"a.example.com"}})});
  l.tls.client_certificates.enabled = true;
  l.tls.client_certificates.ca = dir.File("none.pem");
  EXPECT_EQ(refusal(l),
            "portico.yaml:4:5: listener mtls: tls: client_certificates: cannot read "
            "CA file " +
                dir.File("none.pem") + ": No such file or directory");
  l.tls.client_certificates.ca = dir.Write("empty.pem", "");
  EXPECT_EQ(refusal(l), "portico.yaml:4:5: listener mtls: tls: client_certificates: CA file " +
                            dir.File("empty.pem") + " holds no PEM certificate");
}

TEST_F(ServerTlsContextTest, CipherListsOpenSslRefusesAreErrors) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})});
  l.tls.ciphers = "NOT-A-CIPHER";
  EXPECT_EQ(refusal(l),
            "portico.yaml:4:5: listener web: tls: ciphers \"NOT-A-CIPHER\": OpenSSL accepts none "
            "of them (no cipher match)");
  l.tls.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  l.tls.ciphersuites = "TLS_NOT_A_SUITE";
  EXPECT_EQ(refusal(l).rfind("portico.yaml:4:5: listener web: tls: ciphersuites "
                             "\"TLS_NOT_A_SUITE\": OpenSSL knows none of them",
                             0),
            0u)
      << refusal(l);
  l.tls.ciphersuites = "TLS_AES_256_GCM_SHA384";
  EXPECT_EQ(refusal(l), "");
}

TEST_F(ServerTlsContextTest, ConfiguredCiphersAreUsed) {
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}})});
  l.tls.max_version = config::TlsVersion::V1_2;
  l.tls.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
  auto server = build(l);
  SslCtxPtr client = test::client_context(pki.ca_file());
  SslPtr ssl = test::new_client(client.get(), "a.example.com");
  SslPtr accepted = server->new_connection();
  test::connect_in_memory(ssl.get(), accepted.get());
  ASSERT_TRUE(test::run_handshake(ssl.get(), accepted.get()).ok);
  EXPECT_STREQ(SSL_get_cipher_name(ssl.get()), "ECDHE-ECDSA-AES256-GCM-SHA384");
  EXPECT_EQ(SSL_version(ssl.get()), TLS1_2_VERSION);
}

TEST_F(ServerTlsContextTest, ConnectionOutlivesItsContext) {
  // A reload drops the old context while connections it accepted are still handshaking.
  auto l = listener("web", {pki.issue("a", {.dns_names = {"a.example.com"}}),
                            pki.issue("b", {.dns_names = {"b.example.com"}})});
  l.tls.alpn = {"http/1.1"};
  auto server = build(l);
  std::weak_ptr<const ServerTlsContext> watch = server;
  SslPtr accepted = server->new_connection();
  server.reset();
  EXPECT_FALSE(watch.expired());
  SslPtr client = test::new_client(trusting.get(), "b.example.com");
  SSL_set_alpn_protos(client.get(), reinterpret_cast<const unsigned char*>("\x08http/1.1"), 9);
  test::connect_in_memory(client.get(), accepted.get());
  auto handshake = test::run_handshake(client.get(), accepted.get());
  EXPECT_TRUE(handshake.ok) << handshake.client_error;
  EXPECT_TRUE(test::exchange(client.get(), accepted.get()));
  EXPECT_EQ(test::peer_subject(client.get()), "CN=b,O=Portico Tests");
  accepted.reset();
  EXPECT_TRUE(watch.expired());
}

TEST_F(ServerTlsContextTest, ListenerWithoutCertificatesIsAnError) {
  auto l = listener("web", {});
  EXPECT_EQ(refusal(l), "portico.yaml:4:5: listener web: tls: no certificates");
}

}  // namespace
}  // namespace portico::tls
