#include "tls/UpstreamTlsContext.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "tls/CertificateChain.h"
#include "tls/ConfigProblem.h"
#include "tls/Fingerprint.h"

namespace portico::tls {
namespace {

int protocol_version(config::TlsVersion version) {
  return version == config::TlsVersion::V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

bool is_ip_literal(const std::string& host) {
  unsigned char addr[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

constexpr unsigned char kAlpnHttp11[] = "\x08http/1.1";

}  // namespace

class UpstreamTlsContext::Builder {
 public:
  Builder(UpstreamTlsContext& out, const config::Upstream& upstream, std::string_view source)
      : out_(out), upstream_(upstream), tls_(upstream.tls), source_(source) {}

  void build();

 private:
  std::invalid_argument problem(const std::string& text) const {
    return config_problem(source_, tls_.mark, "upstream " + upstream_.name + ": tls", text);
  }
  void set_protocols(SSL_CTX* ctx) const;
  void set_verification(SSL_CTX* ctx);
  void set_client_certificate(SSL_CTX* ctx);
  void set_session_reuse(SSL_CTX* ctx) const;
  void add_settings();
  // The loaded certificates and key, as the files' contents.
  template <typename T>
  void add_to_fingerprint(const T* object) {
    try {
      fingerprint_.add(object);
    } catch (const std::runtime_error& e) {
      throw problem(e.what());
    }
  }

  UpstreamTlsContext& out_;
  const config::Upstream& upstream_;
  const config::UpstreamTls& tls_;
  std::string_view source_;
  Fingerprint fingerprint_;
};

void UpstreamTlsContext::Builder::build() {
  if (!tls_.enabled) throw problem("TLS is not enabled for this upstream");
  out_.ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!out_.ctx_) throw problem("OpenSSL cannot make a context: " + take_errors());
  SSL_CTX* ctx = out_.ctx_.get();
  out_.server_name_ = tls_.server_name;
  add_settings();
  set_protocols(ctx);
  set_verification(ctx);
  set_client_certificate(ctx);
  set_session_reuse(ctx);
  // An idle pooled connection holds no buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // As on listeners: a server asking to renegotiate mid-connection (TLS 1.2) is refused,
  // which closes that door to renegotiation attacks and to a CPU cost it would choose.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // The proxy speaks HTTP/1.1 upstream; a server that insists on h2 fails the handshake
  // rather than being spoken to in the wrong protocol. (0 is success here.)
  if (SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof kAlpnHttp11 - 1) != 0)
    throw problem("cannot set ALPN: " + take_errors());
  try {
    out_.fingerprint_ = fingerprint_.finish();
  } catch (const std::runtime_error& e) {
    throw problem(e.what());
  }
}

// Every setting that changes what a connection verifies or presents, paths included (a
// file moved elsewhere is treated as a change: rare, and the safe side).
void UpstreamTlsContext::Builder::add_settings() {
  fingerprint_.add(tls_.server_name);
  fingerprint_.add(uint64_t(tls_.verify));
  fingerprint_.add(tls_.ca);
  fingerprint_.add(tls_.cert);
  fingerprint_.add(tls_.key);
  fingerprint_.add(uint64_t(tls_.min_version));
  fingerprint_.add(uint64_t(tls_.max_version));
  fingerprint_.add(tls_.ciphers);
  fingerprint_.add(uint64_t(tls_.session_reuse));
}

void UpstreamTlsContext::Builder::set_protocols(SSL_CTX* ctx) const {
  if (protocol_version(tls_.min_version) > protocol_version(tls_.max_version))
    throw problem("min_version is above max_version");
  if (SSL_CTX_set_min_proto_version(ctx, protocol_version(tls_.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, protocol_version(tls_.max_version)) != 1)
    throw problem("cannot set the protocol versions: " + take_errors());
  if (!tls_.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, tls_.ciphers.c_str()) != 1)
    throw problem("ciphers \"" + tls_.ciphers + "\": OpenSSL accepts none of them (" +
                  take_errors() + ")");
}

void UpstreamTlsContext::Builder::set_verification(SSL_CTX* ctx) {
  out_.verify_ = tls_.verify;
  if (!tls_.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // "*.example.com" covers "a.example.com", never "a.b.example.com" nor "x*.example.com".
  X509_VERIFY_PARAM_set_hostflags(SSL_CTX_get0_param(ctx), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (tls_.ca.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      throw problem("cannot use the system's trust store: " + take_errors());
    return;
  }
  out_.files_.push_back(tls_.ca);
  std::vector<X509Ptr> cas;
  try {
    cas = load_certificates(tls_.ca, "CA");
  } catch (const std::invalid_argument& e) {
    throw problem(e.what());
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& ca : cas) {
    if (X509_STORE_add_cert(store, ca.get()) != 1)
      throw problem("cannot use a CA of " + tls_.ca + ": " + take_errors());
    add_to_fingerprint(ca.get());
  }
}

void UpstreamTlsContext::Builder::set_client_certificate(SSL_CTX* ctx) {
  if (tls_.cert.empty() && tls_.key.empty()) return;
  if (tls_.cert.empty() || tls_.key.empty())
    throw problem("a client certificate needs both cert and key");
  out_.files_.push_back(tls_.cert);
  if (tls_.key != tls_.cert) out_.files_.push_back(tls_.key);
  CertificateChain chain;
  try {
    chain = load_certificate_chain(tls_.cert, tls_.key);
  } catch (const std::invalid_argument& e) {
    throw problem(std::string("client certificate: ") + e.what());
  }
  if (SSL_CTX_use_certificate(ctx, chain.leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, chain.key.get()) != 1)
    throw problem("OpenSSL refuses the client certificate " + tls_.cert + ": " + take_errors());
  for (const auto& intermediate : chain.intermediates)
    if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1)
      throw problem("OpenSSL refuses the chain in " + tls_.cert + ": " + take_errors());
  add_to_fingerprint(chain.leaf.get());
  for (const auto& intermediate : chain.intermediates) add_to_fingerprint(intermediate.get());
  add_to_fingerprint(chain.key.get());
}

void UpstreamTlsContext::Builder::set_session_reuse(SSL_CTX* ctx) const {
  out_.session_reuse_ = tls_.session_reuse;
  if (!tls_.session_reuse) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return;
  }
  // Sessions go to the connection's owner, not to a cache shared by all endpoints.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

std::shared_ptr<const UpstreamTlsContext> UpstreamTlsContext::build(
    const config::Upstream& upstream, std::string_view source) {
  auto out = std::make_shared<UpstreamTlsContext>(Token{});
  Builder(*out, upstream, source).build();
  return out;
}

SslPtr UpstreamTlsContext::new_connection(std::string_view host, SSL_SESSION* session) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return nullptr;
  SSL_set_connect_state(ssl.get());
  std::string name(server_name_.empty() ? host : std::string_view(server_name_));
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (is_ip_literal(name)) {
    // RFC 6066 §3: SNI carries host names only.
    if (verify_ && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str()) != 1)
      return nullptr;
  } else {
    if (SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1) return nullptr;
    if (verify_ && SSL_set1_host(ssl.get(), name.c_str()) != 1) return nullptr;
  }
  if (session && session_reuse_ && SSL_set_session(ssl.get(), session) != 1) return nullptr;
  return ssl;
}

int UpstreamTlsContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* sink = static_cast<SessionSink*>(SSL_get_app_data(ssl));
  if (sink == nullptr) return 0;  // OpenSSL keeps its reference and frees the session
  sink->on_new_session(SslSessionPtr(session));
  return 1;  // the sink owns the reference now
}

}  // namespace portico::tls
