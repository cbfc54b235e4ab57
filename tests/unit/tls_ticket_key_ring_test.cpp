#include "tls/TicketKeyRing.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "harness/TempDir.h"
#include "harness/TestPki.h"
#include "tls_in_memory.h"

namespace portico::tls {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kRotationMs = 60'000;

class TicketKeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = pki.issue("server", {.dns_names = {"a.example.com"}});
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
      ASSERT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()), 1);
      ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM), 1);
      SSL_CTX_set_max_proto_version(ctx.get(), version);
      SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("t"), 1);
      // Tickets are the only way to resume.
      SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
      ring.install(ctx.get());
      (version == TLS1_2_VERSION ? server12 : server13) = std::move(ctx);
    }
  }

  struct Connection {
    bool resumed = false;
    SslSessionPtr session;  // what the client may resume next time
  };

  Connection connect(SSL_CTX* server_ctx, SSL_SESSION* resume) {
    SslPtr client = test::new_client(client_ctx.get(), "a.example.com");
    SslPtr server(SSL_new(server_ctx));
    SSL_set_accept_state(server.get());
    if (resume) SSL_set_session(client.get(), resume);
    test::connect_in_memory(client.get(), server.get());
    auto handshake = test::run_handshake(client.get(), server.get());
    EXPECT_TRUE(handshake.ok) << handshake.client_error << " / " << handshake.server_error;
    EXPECT_TRUE(test::exchange(client.get(), server.get()));
    test::shut_down(client.get(), server.get());
    return {SSL_session_reused(client.get()) == 1, SslSessionPtr(SSL_get1_session(client.get()))};
  }

  static std::string ticket_of(const SSL_SESSION* session) {
    const unsigned char* data = nullptr;
    size_t size = 0;
    SSL_SESSION_get0_ticket(session, &data, &size);
    return std::string(reinterpret_cast<const char*>(data), size);
  }

  it::TempDir dir;
  test::TestPki pki{dir.path()};
  int64_t now = 1'700'000'000'000;
  TicketKeyRing ring{std::chrono::milliseconds(kRotationMs), [this] { return now; }};
  SslCtxPtr server12, server13;
  SslCtxPtr client_ctx = test::client_context(pki.ca_file());
};

TEST_F(TicketKeyRingTest, RotationIsWhatWasConfigured) {
  EXPECT_EQ(ring.rotation(), 60s);
}

TEST_F(TicketKeyRingTest, TicketResumesWithinItsKeysPeriodWithoutRenewal) {
  Connection first = connect(server12.get(), nullptr);
  EXPECT_FALSE(first.resumed);
  ASSERT_FALSE(ticket_of(first.session.get()).empty());
  now += kRotationMs - 1;
  Connection second = connect(server12.get(), first.session.get());
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(ticket_of(second.session.get()), ticket_of(first.session.get()));
}

TEST_F(TicketKeyRingTest, TicketOfThePreviousKeyResumesAndIsRenewed) {
  Connection first = connect(server12.get(), nullptr);
  now += kRotationMs;
  Connection second = connect(server12.get(), first.session.get());
  EXPECT_TRUE(second.resumed);
  const std::string renewed = ticket_of(second.session.get());
  ASSERT_FALSE(renewed.empty());
  EXPECT_NE(renewed, ticket_of(first.session.get()));
  // The renewed ticket is of the current key: good for one more rotation.
  now += kRotationMs;
  EXPECT_TRUE(connect(server12.get(), second.session.get()).resumed);
}

TEST_F(TicketKeyRingTest, TicketFailsAfterTwoRotations) {
  Connection first = connect(server12.get(), nullptr);
  now += kRotationMs;
  connect(server12.get(), nullptr);  // the rotation happens here
  now += kRotationMs;
  EXPECT_FALSE(connect(server12.get(), first.session.get()).resumed);
}

TEST_F(TicketKeyRingTest, TicketFailsAfterTwoRotationsWithoutTrafficBetween) {
  Connection first = connect(server12.get(), nullptr);
  now += 2 * kRotationMs;
  EXPECT_FALSE(connect(server12.get(), first.session.get()).resumed);
}

TEST_F(TicketKeyRingTest, Tls13TicketResumesAfterOneRotationNotTwo) {
  Connection first = connect(server13.get(), nullptr);
  EXPECT_FALSE(first.resumed);
  now += kRotationMs;
  Connection second = connect(server13.get(), first.session.get());
  EXPECT_TRUE(second.resumed);
  now += kRotationMs;
  EXPECT_FALSE(connect(server13.get(), first.session.get()).resumed);
  EXPECT_TRUE(connect(server13.get(), second.session.get()).resumed);
}

TEST_F(TicketKeyRingTest, ContextsSharingARingResumeEachOthersTickets) {
  // Two contexts stand for two workers, or the contexts before and after a reload.
  Connection first = connect(server13.get(), nullptr);
  SslCtxPtr other(SSL_CTX_new(TLS_server_method()));
  auto files = pki.issue("other", {.dns_names = {"a.example.com"}});
  SSL_CTX_use_certificate_chain_file(other.get(), files.cert.c_str());
  SSL_CTX_use_PrivateKey_file(other.get(), files.key.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_session_id_context(other.get(), reinterpret_cast<const unsigned char*>("t"), 1);
  ring.install(other.get());
  EXPECT_TRUE(connect(other.get(), first.session.get()).resumed);
}

}  // namespace
}  // namespace portico::tls
