// TLS termination and upstream TLS, end to end: a throwaway CA and certificates made at test
// time (TestPki), the real binary, real clients (curl, openssl s_client, and an OpenSSL
// client of the harness's own where a test must hold a connection or look at the handshake)
// and a real TLS upstream (nginx).
#include <gtest/gtest.h>

#include <csignal>
#include <ctime>
#include <memory>
#include <string>

#include "harness/AdminClient.h"
#include "harness/Checksum.h"
#include "harness/Command.h"
#include "harness/HttpClient.h"
#include "harness/NginxServer.h"
#include "harness/PorticoCli.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestPki.h"
#include "harness/TestUpstream.h"
#include "harness/TlsClient.h"
#include "harness/TlsOrigin.h"

namespace portico::it {
namespace {

using test::KeyType;
using test::TestPki;

constexpr const char* kConfig = R"(workers: {{WORKERS}}
log: { level: info, access_log: stdout }
admin: { address: 127.0.0.1:{{ADMIN}} }
reload: { debounce: 50ms }
listeners:
  - name: secure
    address: 127.0.0.1:{{PORT}}
    tls:
      certificates:
{{CERTS}}
      handshake_timeout: 1s
{{TLS_EXTRA}}
    routes:
      - name: all
        match: { path_prefix: / }
        upstream: up
upstreams:
  - name: up
    endpoints: [ { address: "{{UP}}" } ]
)";

class TlsTest : public ::testing::Test {
 protected:
  TlsTest() : pki_(dir_.path()) {
    pki_.issue(
        "site",
        {.dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}, .common_name = "localhost"});
    pki_.issue("api",
               {.dns_names = {"api.test"}, .common_name = "api.test", .key = KeyType::Rsa2048});
    pki_.issue("wild", {.dns_names = {"*.wild.test"}, .common_name = "wild"});
  }

  std::string Cert(const std::string& name, const std::string& extra = "") const {
    return "        - { cert: " + dir_.File(name + ".pem") + ", key: " + dir_.File(name + ".key") +
           extra + " }\n";
  }
  std::string DefaultCerts() const { return Cert("site") + Cert("api") + Cert("wild"); }

  // Starts Portico in front of up_ with these certificates and extra `tls:` lines.
  void Start(const std::string& certs, const std::string& tls_extra = "",
             const std::string& workers = "1") {
    std::string yaml = Fill(kConfig, {{"WORKERS", workers},
                                      {"ADMIN", std::to_string(admin_port_)},
                                      {"PORT", std::to_string(port_)},
                                      {"CERTS", certs},
                                      {"TLS_EXTRA", tls_extra},
                                      {"UP", up_.address()}});
    proxy_ = std::make_unique<PorticoProcess>(PorticoOptions{yaml, {port_}});
    ASSERT_TRUE(proxy_->Start());
  }

  TlsClientOptions Verified(const std::string& name) const {
    TlsClientOptions o;
    o.server_name = name;
    o.ca_file = pki_.ca_file();
    return o;
  }

  // One GET over a new TLS connection; the status, or 0 with the error in *error.
  int Get(const TlsClientOptions& options, const std::string& path, std::string* error,
          HttpResponse* out = nullptr) {
    TlsClient c;
    if (!c.Connect(port_, options)) {
      *error = c.error();
      return 0;
    }
    if (!c.Send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) {
      *error = c.error();
      return 0;
    }
    auto r = c.ReadResponse();
    if (!r) {
      *error = c.error();
      return 0;
    }
    if (out) *out = *r;
    return r->status;
  }

  // The failures counted for `reason`, once the log shows `expected` of them (the worker
  // counts, then logs; the client may see the alert before either).
  double Failures(const std::string& reason, size_t expected = 1) {
    const std::string line = "failed (" + reason + ")";
    for (int i = 0; i < 250; ++i) {
      std::string err = proxy_->Stderr();
      size_t n = 0;
      for (size_t at = err.find(line); at != std::string::npos; at = err.find(line, at + 1)) ++n;
      if (n >= expected || !proxy_->PauseWhileRunning(Ms{20})) break;
    }
    auto m = AdminClient(admin_port_).Metrics();
    EXPECT_TRUE(m);
    return m ? m->Sum("portico_tls_handshake_failures_total",
                      {{"listener", "secure"}, {"reason", reason}})
             : -1;
  }
  double Handshakes(const std::string& resumed) {
    auto m = AdminClient(admin_port_).Metrics();
    EXPECT_TRUE(m);
    return m ? m->Sum("portico_tls_handshakes_total",
                      {{"listener", "secure"}, {"resumed", resumed}})
             : -1;
  }

  std::string Url(const std::string& path) const {
    return "https://localhost:" + std::to_string(port_) + path;
  }
  std::vector<std::string> CurlArgs() const {
    return {"-sS",
            "--max-time",
            "5",
            "--cacert",
            pki_.ca_file(),
            "--resolve",
            "localhost:" + std::to_string(port_) + ":127.0.0.1"};
  }

  TempDir dir_;
  TestPki pki_;
  TestUpstream up_;
  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(TlsTest, CurlGetsProxiedResponsesOverOneKeepAliveConnection) {
  Start(DefaultCerts());
  auto args = CurlArgs();
  args.insert(args.end(),
              {"-w", "|%{http_code} %{num_connects} %{http_version}\n", Url("/a"), Url("/b")});
  CommandResult r = RunCommand("curl", args);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "ok GET /a|200 1 1.1\nok GET /b|200 0 1.1\n") << r.Describe();
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->headers.Value("X-Forwarded-Proto"), "https");
  EXPECT_EQ(Handshakes("false"), 1);
}

TEST_F(TlsTest, ServerNameChoosesTheCertificateExactOrWildcardElseTheDefault) {
  Start(DefaultCerts());
  struct Case {
    std::string sni, subject_has, key_type;
  };
  for (const Case& c :
       {Case{"api.test", "CN=api.test", "RSA"}, Case{"a.wild.test", "CN=wild", "EC"},
        Case{"localhost", "CN=localhost", "EC"}, Case{"unknown.test", "CN=localhost", "EC"},
        Case{"", "CN=localhost", "EC"}}) {
    TlsClientOptions o;
    o.server_name = c.sni;
    TlsClient client;
    ASSERT_TRUE(client.Connect(port_, o)) << c.sni << ": " << client.error();
    EXPECT_NE(client.PeerSubject().find(c.subject_has), std::string::npos)
        << c.sni << " got " << client.PeerSubject();
    EXPECT_EQ(client.PeerKeyType(), c.key_type) << c.sni;
  }
  // What a browser checks: the chain and the name, against the test CA only.
  CommandResult r =
      RunCommand("openssl", {"s_client", "-connect", "127.0.0.1:" + std::to_string(port_),
                             "-servername", "x.wild.test", "-CAfile", pki_.ca_file(),
                             "-verify_return_error", "-verify_hostname", "x.wild.test"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("Verify return code: 0 (ok)"), std::string::npos) << r.Describe();

  // What operators watch: each certificate's expiry, and the settings (never a key's bytes).
  AdminClient admin(admin_port_);
  auto m = admin.Metrics();
  ASSERT_TRUE(m) << admin.error();
  auto expiry = m->Value("portico_tls_certificate_expiry_timestamp_seconds",
                         {{"listener", "secure"}, {"certificate", dir_.File("site.pem")}});
  ASSERT_TRUE(expiry);
  EXPECT_NEAR((*expiry - double(std::time(nullptr))) / 86400, 30, 1.5);  // TestPki: 30 days
  auto config = admin.Get("/-/config");
  ASSERT_TRUE(config) << admin.error();
  EXPECT_NE(config->body.find("\"unknown_server_name\":\"default\""), std::string::npos)
      << config->body;
  EXPECT_NE(config->body.find(dir_.File("site.key")), std::string::npos);
  EXPECT_EQ(config->body.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TlsTest, UnknownServerNamesAreRefusedWhenConfiguredAndCounted) {
  Start(DefaultCerts(), "      unknown_server_name: reject\n");
  std::string error;
  EXPECT_EQ(Get(Verified("nope.test"), "/", &error), 0);
  EXPECT_NE(error.find("unrecognized name"), std::string::npos) << error;
  TlsClientOptions no_sni;
  EXPECT_EQ(Get(no_sni, "/", &error), 0);
  EXPECT_EQ(Get(Verified("api.test"), "/fine", &error), 200) << error;
  EXPECT_EQ(Failures("unknown_server_name", 2), 2);
  EXPECT_TRUE(proxy_->WaitForStderr("(unknown_server_name)", Ms{2000})) << proxy_->Stderr();
}

TEST_F(TlsTest, PlainHttpGetsA400AndGarbageIsClosedWhileTlsClientsAreServed) {
  Start(DefaultCerts());
  HttpClient plain;
  ASSERT_TRUE(plain.Connect(port_));
  ASSERT_TRUE(plain.Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto r = plain.ReadResponse();
  ASSERT_TRUE(r) << plain.error();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("HTTPS"), std::string::npos) << r->body;
  EXPECT_TRUE(plain.WaitForClose(Ms{2000}));

  HttpClient garbage;
  ASSERT_TRUE(garbage.Connect(port_));
  ASSERT_TRUE(garbage.Send(std::string("\x01\x02\x03 not tls at all\r\n\r\n")));
  EXPECT_TRUE(garbage.WaitForClose(Ms{2000}));

  std::string error;
  EXPECT_EQ(Get(Verified("localhost"), "/after", &error), 200) << error;
  EXPECT_EQ(Failures("plain_http"), 1);
  EXPECT_EQ(Failures("not_tls"), 1);
  EXPECT_TRUE(proxy_->WaitForStderr("plain HTTP request on the TLS port", Ms{2000}));
}

TEST_F(TlsTest, AStalledHandshakeTimesOutWithoutHoldingUpOthers) {
  Start(DefaultCerts());
  HttpClient stalled;
  ASSERT_TRUE(stalled.Connect(port_));
  ASSERT_TRUE(stalled.Send(std::string("\x16\x03\x01", 3)));  // a record header, then nothing
  std::string error;
  EXPECT_EQ(Get(Verified("localhost"), "/meanwhile", &error), 200) << error;
  // handshake_timeout is 1s.
  EXPECT_TRUE(stalled.WaitForClose(Ms{5000}));
  EXPECT_EQ(Failures("timeout"), 1);
  EXPECT_TRUE(proxy_->WaitForStderr("(timeout)", Ms{2000})) << proxy_->Stderr();
}

TEST_F(TlsTest, ClientsOfferingOnlyOldProtocolsGetAProtocolVersionAlert) {
  Start(DefaultCerts());
  CommandResult r = RunCommand(
      "openssl", {"s_client", "-connect", "127.0.0.1:" + std::to_string(port_), "-servername",
                  "localhost", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE((r.out + r.err).find("protocol version"), std::string::npos) << r.Describe();
  EXPECT_EQ(Failures("protocol_version"), 1);
  std::string error;
  EXPECT_EQ(Get(Verified("localhost"), "/", &error), 200) << error;
}

TEST_F(TlsTest, LargeBodiesAndPipelinedRequestsCrossIntact) {
  // Many records each way, reads that stop and restart (backpressure), and requests that
  // arrive together in one record.
  up_.SetHandler([](const HttpRequest& req) {
    if (req.method == "POST") return BodySummaryResponse(req);
    UpstreamResponse r;
    r.generated_size = 3u << 20;
    return r;
  });
  Start(DefaultCerts());
  TlsClient c;
  ASSERT_TRUE(c.Connect(port_, Verified("localhost"))) << c.error();
  ASSERT_TRUE(c.Send("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto big = c.ReadResponse(Ms{10000});
  ASSERT_TRUE(big) << c.error();
  EXPECT_EQ(big->body.size(), 3u << 20);
  uint64_t bad = 0;
  EXPECT_TRUE(MatchesPattern(big->body, 0, &bad)) << "first bad byte at " << bad;

  const size_t upload = 2u << 20;
  std::string body = PatternBytes(0, upload);
  Checksum sum;
  sum.Update(body);
  ASSERT_TRUE(c.Send("POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                         std::to_string(upload) + "\r\n\r\n" + body,
                     Ms{10000}))
      << c.error();
  auto summary = c.ReadResponse(Ms{10000});
  ASSERT_TRUE(summary) << c.error();
  EXPECT_EQ(summary->body,
            "size=" + std::to_string(upload) + " checksum=" + std::to_string(sum.value()));

  up_.SetHandler(DefaultResponse);
  ASSERT_TRUE(
      c.Send("GET /p1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
             "GET /p2 HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  for (const char* path : {"/p1", "/p2"}) {
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, std::string("ok GET ") + path);
  }
}

std::string TicketOf(const SSL_SESSION* session) {
  const unsigned char* ticket = nullptr;
  size_t len = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &len);
  return std::string(reinterpret_cast<const char*>(ticket), len);
}

TEST_F(TlsTest, AlpnSaysHttp11AndTicketsResumeOnEveryWorker) {
  Start(DefaultCerts(), "", "2");
  TlsClient first;
  TlsClientOptions o = Verified("localhost");
  o.alpn = "http/1.1";
  ASSERT_TRUE(first.Connect(port_, o)) << first.error();
  EXPECT_EQ(first.Alpn(), "http/1.1");
  EXPECT_EQ(first.Version(), "TLSv1.3");
  ASSERT_TRUE(first.Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_TRUE(first.ReadResponse()) << first.error();
  o.session = first.Session();
  // Connections land on either worker (SO_REUSEPORT): every one resumes, so the ticket
  // keys are the workers' shared ones.
  for (int i = 0; i < 6; ++i) {
    TlsClient again;
    ASSERT_TRUE(again.Connect(port_, o)) << again.error();
    EXPECT_TRUE(again.Resumed()) << "connection " << i;
    // An answer means the server has finished its side of the handshake (and counted it).
    ASSERT_TRUE(again.Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_TRUE(again.ReadResponse()) << again.error();
    // Each resumption brings a new ticket (TLS 1.3 tickets are for one use).
    TlsSession next = again.Session();
    EXPECT_NE(TicketOf(next.get()), TicketOf(o.session.get())) << "connection " << i;
    o.session = next;
  }
  EXPECT_EQ(Handshakes("true"), 6);
}

TEST_F(TlsTest, SessionIdsResumeTls12WhenTicketsAreOff) {
  Start(DefaultCerts(), "      session_tickets: false\n");
  TlsClientOptions o = Verified("localhost");
  o.max_version = TLS1_2_VERSION;
  TlsClient first;
  ASSERT_TRUE(first.Connect(port_, o)) << first.error();
  EXPECT_EQ(first.Version(), "TLSv1.2");
  o.session = first.Session();
  TlsClient again;
  ASSERT_TRUE(again.Connect(port_, o)) << again.error();
  EXPECT_TRUE(again.Resumed());
  // s_client too: a session saved to a file is resumed.
  std::string sess = dir_.File("s_client.sess");
  std::vector<std::string> base{"s_client",    "-connect",  "127.0.0.1:" + std::to_string(port_),
                                "-servername", "localhost", "-tls1_2"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> a = base;
    a.insert(a.end(), more.begin(), more.end());
    return RunCommand("openssl", a);
  };
  CommandResult out = with({"-sess_out", sess});
  ASSERT_EQ(out.exit_code, 0) << out.Describe();
  CommandResult in = with({"-sess_in", sess});
  EXPECT_NE(in.out.find("Reused, TLSv1.2"), std::string::npos) << in.Describe();
}

TEST_F(TlsTest, RsaAndEcdsaCertificatesForTheSameNamesAreChosenByTheClientsAlgorithms) {
  pki_.issue("both-rsa",
             {.dns_names = {"both.test"}, .common_name = "both rsa", .key = KeyType::Rsa2048});
  pki_.issue("both-ec", {.dns_names = {"both.test"}, .common_name = "both ec"});
  Start(DefaultCerts() + Cert("both-rsa") + Cert("both-ec"));
  TlsClientOptions o = Verified("both.test");
  o.sigalgs = "ECDSA+SHA256";
  TlsClient ec;
  ASSERT_TRUE(ec.Connect(port_, o)) << ec.error();
  EXPECT_EQ(ec.PeerKeyType(), "EC");
  o.sigalgs = "rsa_pss_rsae_sha256:RSA+SHA256";
  TlsClient rsa;
  ASSERT_TRUE(rsa.Connect(port_, o)) << rsa.error();
  EXPECT_EQ(rsa.PeerKeyType(), "RSA");
  EXPECT_EQ(rsa.PeerKeyBits(), 2048);
}

TEST_F(TlsTest, AFullChainIsServed) {
  pki_.issue("chained", {.dns_names = {"chain.test"}, .via_intermediate = true});
  Start(Cert("chained"));
  CommandResult r = RunCommand(
      "openssl", {"s_client", "-connect", "127.0.0.1:" + std::to_string(port_), "-servername",
                  "chain.test", "-CAfile", pki_.ca_file(), "-verify_return_error",
                  "-verify_hostname", "chain.test", "-showcerts"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find(" 1 s:"), std::string::npos) << "the intermediate is sent\n" << r.Describe();
}

TEST_F(TlsTest, EncryptedKeysAndBadFilesAreRefusedWithTheFileNamed) {
  pki_.issue("locked", {.dns_names = {"locked.test"}, .key_passphrase = "secret"});
  std::string yaml = Fill(kConfig, {{"WORKERS", "1"},
                                    {"ADMIN", std::to_string(admin_port_)},
                                    {"PORT", std::to_string(port_)},
                                    {"CERTS", Cert("locked")},
                                    {"TLS_EXTRA", ""},
                                    {"UP", up_.address()}});
  std::string path = dir_.Write("locked.yaml", yaml);
  CliResult v = RunPortico({"--validate", path});
  EXPECT_EQ(v.exit_code, 1) << v.Describe();
  EXPECT_NE(v.err.find("locked.key"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find("encrypted"), std::string::npos) << v.err;
  // The same mistake at start: exit 1 with the message, nothing listening.
  CliResult run = RunPortico({"--config", path}, Ms{5000});
  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_NE(run.err.find("encrypted"), std::string::npos) << run.err;
}

TEST_F(TlsTest, ACertificateReplacedOnDiskIsServedToNewConnectionsWithoutDroppingOld) {
  Start(DefaultCerts());
  TlsClient old;
  ASSERT_TRUE(old.Connect(port_, Verified("localhost"))) << old.error();
  EXPECT_NE(old.PeerSubject().find("CN=localhost"), std::string::npos);
  ASSERT_TRUE(old.Send("GET /before HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_TRUE(old.ReadResponse()) << old.error();

  // A renewed certificate, written as certbot does: new files renamed over the old ones.
  pki_.issue("site-next", {.dns_names = {"localhost"}, .common_name = "renewed"});
  ReplaceFile(dir_.File("site.key"), ReadFile(dir_.File("site-next.key")));
  ReplaceFile(dir_.File("site.pem"), ReadFile(dir_.File("site-next.pem")));
  // A reload between the two renames fails (the key does not match the old certificate);
  // the one after the second serves the renewed certificate.
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000})) << proxy_->Stderr();
  bool renewed_seen = false;
  for (int i = 0; i < 50 && !renewed_seen; ++i) {
    TlsClient fresh;
    ASSERT_TRUE(fresh.Connect(port_, Verified("localhost"))) << fresh.error();
    renewed_seen = fresh.PeerSubject().find("CN=renewed") != std::string::npos;
    if (!renewed_seen) proxy_->WaitForStderr("config generation 3 (", Ms{100});
  }
  EXPECT_TRUE(renewed_seen) << proxy_->Stderr();
  ASSERT_TRUE(old.Send("GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n")) << old.error();
  auto r = old.ReadResponse();
  ASSERT_TRUE(r) << old.error();
  EXPECT_EQ(r->status, 200);
}

// ---- client certificates ----------------------------------------------------------------

class MutualTlsTest : public TlsTest {
 protected:
  MutualTlsTest() : other_dir_(), other_(other_dir_.path(), KeyType::EcdsaP256, "Other CA") {
    pki_.issue("client", {.common_name = "client.test"});
    other_.issue("stranger", {.common_name = "stranger.test"});
  }
  std::string Mtls(const std::string& mode) const {
    return "      client_certificates: { ca: " + pki_.ca_file() + ", mode: " + mode + " }\n";
  }
  TempDir other_dir_;
  TestPki other_;
};

TEST_F(MutualTlsTest, RequiredClientCertificatesAreVerifiedAndTheSubjectGoesUpstream) {
  Start(DefaultCerts(), Mtls("required"));
  auto args = CurlArgs();
  args.insert(args.end(), {"--cert", dir_.File("client.pem"), "--key", dir_.File("client.key"),
                           "-H", "x-client-cert-subject: CN=forged", Url("/me")});
  CommandResult ok = RunCommand("curl", args);
  ASSERT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_EQ(ok.out, "ok GET /me");
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->headers.All("x-client-cert-subject"),
            std::vector<std::string>{"CN=client.test,O=Portico Tests"})
      << up_.last_request()->Describe();

  auto none = CurlArgs();
  none.push_back(Url("/anonymous"));
  CommandResult refused = RunCommand("curl", none);
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();

  auto stranger = CurlArgs();
  stranger.insert(stranger.end(), {"--cert", other_dir_.File("stranger.pem"), "--key",
                                   other_dir_.File("stranger.key"), Url("/stranger")});
  CommandResult bad = RunCommand("curl", stranger);
  EXPECT_NE(bad.exit_code, 0) << bad.Describe();
  EXPECT_EQ(up_.requests_received(), 1u);
  EXPECT_EQ(Failures("client_certificate", 2), 2);
}

TEST_F(MutualTlsTest, OptionalClientCertificatesLetAnonymousClientsThroughWithoutTheHeader) {
  Start(DefaultCerts(), Mtls("optional"));
  auto args = CurlArgs();
  args.insert(args.end(), {"-H", "x-client-cert-subject: CN=forged", Url("/anonymous")});
  CommandResult r = RunCommand("curl", args);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->headers.Count("x-client-cert-subject"), 0u);
  auto with = CurlArgs();
  with.insert(with.end(),
              {"--cert", dir_.File("client.pem"), "--key", dir_.File("client.key"), Url("/known")});
  r = RunCommand("curl", with);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(up_.last_request()->headers.Value("x-client-cert-subject"),
            "CN=client.test,O=Portico Tests");
}

constexpr const char* kTwoListenersConfig = R"(workers: 1
log: { level: info, access_log: stdout }
listeners:
  - name: secure
    address: 127.0.0.1:{{PORT}}
    tls:
      certificates:
{{CERTS}}
      client_certificates: { ca: {{CA}}, mode: optional, subject_header: x-ssl-client-dn }
    routes:
      - name: all
        match: { path_prefix: / }
        upstream: up
  - name: plain
    address: 127.0.0.1:{{PLAIN}}
    routes:
      - name: all
        match: { path_prefix: / }
        upstream: up
upstreams:
  - name: up
    endpoints: [ { address: "{{UP}}" } ]
)";

// The upstream trusts the mTLS listener's subject header whichever listener a request came
// through: a client of the plain listener must not be able to send it.
TEST_F(MutualTlsTest, AnotherListenersSubjectHeaderCannotBeForgedThroughAPlainListener) {
  const uint16_t plain = FreePort();
  std::string yaml = Fill(kTwoListenersConfig, {{"PORT", std::to_string(port_)},
                                                {"PLAIN", std::to_string(plain)},
                                                {"CERTS", Cert("site")},
                                                {"CA", pki_.ca_file()},
                                                {"UP", up_.address()}});
  proxy_ = std::make_unique<PorticoProcess>(PorticoOptions{yaml, {port_, plain}});
  ASSERT_TRUE(proxy_->Start());

  HttpClient c;
  ASSERT_TRUE(c.Connect(plain));
  ASSERT_TRUE(c.Send(it::Get("/forged", {{"X-SSL-Client-DN", "CN=forged"},
                                         {"x_ssl_client_dn", "CN=forged"},
                                         {"x-client-cert-subject", "CN=forged"}})));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->headers.Count("x-ssl-client-dn"), 0u)
      << up_.last_request()->Describe();
  EXPECT_EQ(up_.last_request()->headers.Count("x_ssl_client_dn"), 0u)
      << up_.last_request()->Describe();
  EXPECT_EQ(up_.last_request()->headers.Count("x-client-cert-subject"), 0u)
      << up_.last_request()->Describe();

  // Through the mTLS listener the header carries the verified subject, and only that.
  auto args = CurlArgs();
  args.insert(args.end(), {"--cert", dir_.File("client.pem"), "--key", dir_.File("client.key"),
                           "-H", "x-ssl-client-dn: CN=forged", Url("/me")});
  CommandResult ok = RunCommand("curl", args);
  ASSERT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_EQ(up_.last_request()->headers.All("x-ssl-client-dn"),
            std::vector<std::string>{"CN=client.test,O=Portico Tests"})
      << up_.last_request()->Describe();
}

// ---- upstream TLS ------------------------------------------------------------------------

constexpr const char* kUpstreamConfig = R"(workers: 1
log: { level: info, access_log: stdout }
listeners:
  - name: plain
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: all
        match: { path_prefix: / }
        upstream: secure_up
upstreams:
  - name: secure_up
    endpoints: [ { address: "{{UP}}" } ]
    tls: {{TLS}}
{{EXTRA}}
)";

class UpstreamTlsTest : public ::testing::Test {
 protected:
  UpstreamTlsTest() : pki_(dir_.path()) {
    pki_.issue("upstream", {.dns_names = {"upstream.test"},
                            .ip_addresses = {"127.0.0.1"},
                            .common_name = "upstream.test"});
    pki_.issue("portico", {.common_name = "portico.client"});
    std::string error;
    started_ = nginx_.Start(
        "    ssl_certificate " + dir_.File("upstream.pem") + ";\n" + "    ssl_certificate_key " +
            dir_.File("upstream.key") + ";\n" + "    ssl_client_certificate " + pki_.ca_file() +
            ";\n" + "    ssl_verify_client optional;\n" +
            "    location / { return 200 \"sni=$ssl_server_name reused=$ssl_session_reused "
            "requests=$connection_requests dn=$ssl_client_s_dn\\n\"; }\n",
        &error);
    start_error_ = error;
  }

  // GET / on a new client connection; the response, or one with status 0 and the error.
  HttpResponse Fetch() {
    HttpClient c;
    std::optional<HttpResponse> r;
    if (c.Connect(port_) && c.Send(Get("/"))) r = c.ReadResponse();
    if (r) return *r;
    HttpResponse failed;
    failed.body = c.error();
    return failed;
  }

  void Start(const std::string& tls, const std::string& extra = "") {
    ASSERT_TRUE(started_) << start_error_;
    std::string yaml = Fill(kUpstreamConfig, {{"PORT", std::to_string(port_)},
                                              {"UP", nginx_.address()},
                                              {"TLS", tls},
                                              {"EXTRA", extra}});
    proxy_ = std::make_unique<PorticoProcess>(PorticoOptions{yaml, {port_}});
    ASSERT_TRUE(proxy_->Start());
  }

  TempDir dir_;
  TestPki pki_;
  NginxServer nginx_;
  bool started_ = false;
  std::string start_error_;
  uint16_t port_ = FreePort();
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(UpstreamTlsTest, VerifiedConnectionsWithServerNameAreKeptAlive) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: upstream.test }");
  HttpClient c;
  ASSERT_TRUE(c.Connect(port_));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/")));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200) << r->Describe() << proxy_->Stderr();
    EXPECT_EQ(r->body, "sni=upstream.test reused=. requests=" + std::to_string(i) + " dn=\n");
  }
}

TEST_F(UpstreamTlsTest, AnIpEndpointIsVerifiedByAddressAndAClientCertificateIsPresented) {
  Start("{ ca: " + pki_.ca_file() + ", cert: " + dir_.File("portico.pem") +
        ", key: " + dir_.File("portico.key") + " }");
  auto r = Fetch();
  ASSERT_EQ(r.status, 200) << r.Describe() << proxy_->Stderr();
  EXPECT_NE(r.body.find("dn=CN=portico.client"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("sni= "), std::string::npos) << "no SNI for an IP address: " << r.body;
}

TEST_F(UpstreamTlsTest, ACertificateForAnotherNameIsRefusedWith502UnlessVerifyIsOff) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: other.test }");
  auto r = Fetch();
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_TRUE(proxy_->WaitForStderr("certificate verify failed", Ms{2000})) << proxy_->Stderr();
  EXPECT_NE(proxy_->Stderr().find("hostname mismatch"), std::string::npos) << proxy_->Stderr();
}

TEST_F(UpstreamTlsTest, VerifyOffAcceptsAnyCertificate) {
  Start("{ server_name: other.test, verify: false }");
  auto r = Fetch();
  EXPECT_EQ(r.status, 200) << r.Describe() << proxy_->Stderr();
}

TEST_F(UpstreamTlsTest, HealthChecksSpeakTlsAndFailOnACertificateThatDoesNotVerify) {
  // Wrong name: the probe's handshake fails, the endpoint goes down, requests get 503.
  Start("{ ca: " + pki_.ca_file() + ", server_name: other.test }",
        "    health_check: { path: /, interval: 200ms, timeout: 150ms, healthy: 1, unhealthy: 1 }");
  ASSERT_TRUE(proxy_->WaitForStderr("is unhealthy: TLS handshake failed", Ms{5000}))
      << proxy_->Stderr();
  auto r = Fetch();
  EXPECT_EQ(r.status, 503) << r.body;
}

TEST_F(UpstreamTlsTest, HealthChecksOverTlsKeepAVerifiedEndpointUp) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: upstream.test }",
        "    health_check: { path: /, interval: 200ms, timeout: 150ms, healthy: 1, unhealthy: 1 }");
  // Probes run every 100 ms: after a few, the endpoint must still be up and serving.
  ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{500}));
  EXPECT_EQ(proxy_->Stderr().find("unhealthy"), std::string::npos) << proxy_->Stderr();
  auto r = Fetch();
  EXPECT_EQ(r.status, 200) << proxy_->Stderr();
}

TEST_F(UpstreamTlsTest, NewConnectionsResumeTheEndpointsSession) {
  // No idle connections kept: every request opens a connection, and the second on resumes.
  Start("{ ca: " + pki_.ca_file() + ", server_name: upstream.test }",
        "    keepalive: { max_idle: 0 }");
  std::vector<std::string> reused;
  for (int i = 0; i < 3; ++i) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(port_));
    ASSERT_TRUE(c.Send(Get("/")));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200) << proxy_->Stderr();
    reused.push_back(r->body.substr(r->body.find("reused=") + 7, 1));
  }
  EXPECT_EQ(reused, (std::vector<std::string>{".", "r", "r"}));
}

// ---- the end of an upstream's TLS stream ------------------------------------------------

constexpr const char* kCachedUpstreamConfig = R"(workers: 1
log: { level: info, access_log: stdout }
listeners:
  - name: plain
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: cached
        match: { path_prefix: / }
        filters:
          - cache: { zone: tls, max_bytes: 1MiB }
        upstream: origin
upstreams:
  - name: origin
    endpoints: [ { address: "{{UP}}" } ]
    tls: { verify: false }
)";

// A body that ends with the connection (no Content-Length): over TLS only close_notify
// says it is complete; a bare FIN may be an attacker cutting it short.
class UpstreamTlsEndTest : public ::testing::Test {
 protected:
  UpstreamTlsEndTest() : pki_(dir_.path()) { pki_.issue("origin", {.dns_names = {"origin.test"}}); }
  std::unique_ptr<TlsOrigin> Origin(bool close_notify) {
    return std::make_unique<TlsOrigin>(
        dir_.File("origin.pem"), dir_.File("origin.key"),
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n\r\nthe whole body", close_notify);
  }
  void Start(const TlsOrigin& origin) {
    std::string yaml =
        Fill(kCachedUpstreamConfig, {{"PORT", std::to_string(port_)}, {"UP", origin.address()}});
    proxy_ = std::make_unique<PorticoProcess>(PorticoOptions{yaml, {port_}});
    ASSERT_TRUE(proxy_->Start());
  }
  std::optional<HttpResponse> Fetch() {
    HttpClient c;
    if (!c.Connect(port_) || !c.Send(Get("/doc"))) return std::nullopt;
    return c.ReadResponse();
  }
  TempDir dir_;
  TestPki pki_;
  uint16_t port_ = FreePort();
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(UpstreamTlsEndTest, ABodyEndedByCloseNotifyIsCompleteAndStored) {
  auto origin = Origin(true);
  Start(*origin);
  for (int i = 0; i < 2; ++i) {
    auto r = Fetch();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "the whole body");
  }
  EXPECT_EQ(origin->requests(), 1) << "the second answer came from the cache";
}

TEST_F(UpstreamTlsEndTest, ABodyEndedByABareFinIsNotTakenAsComplete) {
  auto origin = Origin(false);
  Start(*origin);
  for (int i = 0; i < 2; ++i) Fetch();
  EXPECT_EQ(origin->requests(), 2) << "a body that may be cut short is never stored";
  EXPECT_TRUE(proxy_->WaitForStderr("mid-response", Ms{2000})) << proxy_->Stderr();
}

TEST_F(UpstreamTlsEndTest, TheEndWaitsBehindBodyBytesAClientIsSlowToTake) {
  // The origin sends a large body and ends at once; the client does not read for a while,
  // so Portico stops reading the origin with records still buffered when the end comes.
  const size_t size = 16u << 20;
  TlsOrigin origin(dir_.File("origin.pem"), dir_.File("origin.key"),
                   "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
                       PatternBytes(0, size),
                   true);
  Start(origin);
  HttpClient c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Send(Get("/large")));
  ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{500}));
  auto r = c.ReadResponse({.timeout = Ms{10000}});
  ASSERT_TRUE(r) << c.error() << proxy_->Stderr();
  EXPECT_EQ(r->body.size(), size);
  EXPECT_TRUE(MatchesPattern(r->body, 0));
}

// Renews the client certificate Portico presents to the upstream as certbot would: new
// files renamed over the old ones (same paths), which the file watchers turn into a reload.
// Then sends requests until one shows the renewed certificate and returns its body.
std::string RenewClientCertificateAndWait(TestPki& pki, const TempDir& dir, PorticoProcess& proxy,
                                          uint16_t port, int generation) {
  pki.issue("portico-next", {.common_name = "portico.renewed"});
  ReplaceFile(dir.File("portico.key"), ReadFile(dir.File("portico-next.key")));
  ReplaceFile(dir.File("portico.pem"), ReadFile(dir.File("portico-next.pem")));
  EXPECT_TRUE(
      proxy.WaitForStderr("config generation " + std::to_string(generation) + " (", Ms{5000}))
      << proxy.Stderr();
  std::string body;
  for (int i = 0; i < 50; ++i) {
    HttpClient c;
    if (!c.Connect(port) || !c.Send(Get("/"))) break;
    auto r = c.ReadResponse();
    if (!r || r->status != 200) break;
    body = r->body;
    if (body.find("dn=CN=portico.renewed") != std::string::npos) return body;
    proxy.PauseWhileRunning(Ms{100});
  }
  return body;
}

// Paths unchanged, content changed: a pooled connection made with the old client
// certificate must not serve requests after the reload.
TEST_F(UpstreamTlsTest, PooledConnectionsDoNotOutliveARenewedClientCertificate) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: upstream.test, cert: " +
        dir_.File("portico.pem") + ", key: " + dir_.File("portico.key") + " }");
  auto r = Fetch();
  ASSERT_EQ(r.status, 200) << proxy_->Stderr();
  EXPECT_NE(r.body.find("requests=1 dn=CN=portico.client"), std::string::npos) << r.body;

  std::string body = RenewClientCertificateAndWait(pki_, dir_, *proxy_, port_, 2);
  EXPECT_NE(body.find("dn=CN=portico.renewed"), std::string::npos) << body << proxy_->Stderr();
  EXPECT_NE(body.find("reused=. requests=1 "), std::string::npos) << body;
}

// A reload that changes nothing of the TLS settings keeps the endpoint's session (no full
// handshake per endpoint and worker); one that changes a file's content drops it, since a
// resumed session is not verified again.
TEST_F(UpstreamTlsTest, SessionsOutliveAReloadUnlessAFileChanged) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: upstream.test, cert: " +
            dir_.File("portico.pem") + ", key: " + dir_.File("portico.key") + " }",
        "    keepalive: { max_idle: 0 }");
  auto get = [&]() -> std::string {
    HttpClient c;
    if (!c.Connect(port_) || !c.Send(Get("/"))) return c.error();
    auto r = c.ReadResponse();
    return r ? r->body : c.error();
  };
  EXPECT_NE(get().find("reused=. "), std::string::npos);
  ASSERT_TRUE(proxy_->Signal(SIGHUP));
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000})) << proxy_->Stderr();
  std::string body = get();
  EXPECT_NE(body.find("reused=r "), std::string::npos) << body;
  EXPECT_NE(body.find("dn=CN=portico.client"), std::string::npos) << body;

  body = RenewClientCertificateAndWait(pki_, dir_, *proxy_, port_, 3);
  EXPECT_NE(body.find("reused=. "), std::string::npos) << body << proxy_->Stderr();
  EXPECT_NE(body.find("dn=CN=portico.renewed"), std::string::npos) << body;
  body = get();
  EXPECT_NE(body.find("reused=r "), std::string::npos) << body;
  EXPECT_NE(body.find("dn=CN=portico.renewed"), std::string::npos) << body;
}

TEST_F(UpstreamTlsTest, AFailedHandshakeIsLoggedOnceWithItsReason) {
  Start("{ ca: " + pki_.ca_file() + ", server_name: other.test }");
  auto r = Fetch();
  EXPECT_EQ(r.status, 502) << r.body;
  ASSERT_TRUE(proxy_->WaitForStderr("TLS handshake with", Ms{2000})) << proxy_->Stderr();
  ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{200}));
  const std::string log = proxy_->Stderr();
  EXPECT_NE(log.find("certificate verify failed"), std::string::npos) << log;
  EXPECT_EQ(log.find("connect failed"), std::string::npos) << log;
}

}  // namespace
}  // namespace portico::it
