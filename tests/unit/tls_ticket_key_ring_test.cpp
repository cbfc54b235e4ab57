#include "tls/TicketKeyRing.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

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
    server12 = server_context(TLS1_2_VERSION, ring);
    server13 = server_context(TLS1_3_VERSION, ring);
  }

  // A server context whose tickets `keys` encrypts: the only way it resumes sessions.
  SslCtxPtr server_context(int max_version, TicketKeyRing& keys) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM), 1);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("t"), 1);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    keys.install(ctx.get());
    return ctx;
  }

  struct Connection {
    bool resumed = false;
    SslSessionPtr session;  // what the client may resume next time
  };

  Connection connect(SSL_CTX* server_ctx, SSL_SESSION* resume, SSL_CTX* client = nullptr) {
    return connect_from(client ? client : client_ctx.get(), server_ctx, resume);
  }

  static Connection connect_from(SSL_CTX* client_ctx, SSL_CTX* server_ctx, SSL_SESSION* resume) {
    SslPtr client = test::new_client(client_ctx, "a.example.com");
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
  test::PemFiles files = pki.issue("server", {.dns_names = {"a.example.com"}});
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
  SslCtxPtr other = server_context(TLS1_3_VERSION, ring);
  EXPECT_TRUE(connect(other.get(), first.session.get()).resumed);
  // A ring of its own does not know the ticket.
  TicketKeyRing own{std::chrono::milliseconds(kRotationMs)};
  SslCtxPtr stranger = server_context(TLS1_3_VERSION, own);
  EXPECT_FALSE(connect(stranger.get(), first.session.get()).resumed);
}

TEST_F(TicketKeyRingTest, WorkersShareTheRingWhileItRotates) {
  std::atomic<int64_t> clock{now};
  TicketKeyRing shared{std::chrono::milliseconds(kRotationMs), [&clock] { return clock.load(); }};
  constexpr int kWorkers = 4;
  constexpr int kConnections = 16;
  std::vector<SslCtxPtr> servers, clients;
  for (int w = 0; w < kWorkers; ++w) {
    servers.push_back(server_context(w % 2 ? TLS1_3_VERSION : TLS1_2_VERSION, shared));
    clients.push_back(test::client_context(pki.ca_file()));
  }
  std::atomic<int> resumed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      SslSessionPtr session;
      for (int i = 0; i < kConnections; ++i) {
        Connection c = connect_from(clients[w].get(), servers[w].get(), session.get());
        resumed += c.resumed ? 1 : 0;
        session = std::move(c.session);
        clock += kRotationMs / 8;  // about two rotations per worker's run
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every handshake succeeded (connect checks). Most resume: a session is renewed once
  // its key is the previous one; only a worker that falls two rotations behind the others
  // (the clock is theirs too) needs a full handshake.
  EXPECT_GE(resumed.load(), kWorkers * (kConnections - 1) / 2);
}

}  // namespace
}  // namespace portico::tls
