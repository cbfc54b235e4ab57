#include "tls/ServerTlsContext.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "http/Header.h"
#include "tls/AlpnSelect.h"
#include "tls/CertificateChain.h"
#include "tls/ConfigProblem.h"

namespace portico::tls {
namespace {

using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX, EVP_MD_CTX_free>>;

using Owner = std::shared_ptr<const ServerTlsContext>;

// An SSL's reference to its ServerTlsContext, dropped when OpenSSL frees the SSL.
void release_owner(void*, void* owner, CRYPTO_EX_DATA*, int, long, void*) {
  std::unique_ptr<Owner> release(static_cast<Owner*>(owner));
}

int owner_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, release_owner);
  return index;
}

// Marks an SSL whose server name this listener refused.
int refused_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int protocol_version(config::TlsVersion version) {
  return version == config::TlsVersion::V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// What makes two certificates answer for the same names: the set, in any order or case.
std::vector<std::string> name_set(std::vector<std::string> names) {
  for (auto& name : names) {
    if (!name.empty() && name.back() == '.') name.pop_back();
    for (char& c : name) c = http::ascii_lower(c);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::erase(names, std::string());
  return names;
}

size_t tls13_suites(SSL_CTX* ctx) {
  size_t n = 0;
  const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i)
    if ((SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(ciphers, i)) >> 8) == 0x13) ++n;
  return n;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

// Everything build() needs while it works, and nothing the contexts need afterwards.
class ServerTlsContext::Builder {
 public:
  Builder(ServerTlsContext& out, const config::Listener& listener, std::string_view source)
      : out_(out), listener_(listener), tls_(listener.tls), source_(source) {}

  void build(std::shared_ptr<TicketKeyRing> tickets);

 private:
  std::invalid_argument problem(const config::SourceMark& mark, const std::string& key,
                                const std::string& text) const {
    return config_problem(source_, mark, "listener " + listener_.name + ": " + key, text);
  }
  std::invalid_argument listener_problem(const std::string& text) const {
    return problem(tls_.mark, "tls", text);
  }
  std::invalid_argument certificate_problem(size_t i, const std::string& text) const {
    return problem(tls_.certificates[i].mark, "tls.certificates[" + std::to_string(i) + "]", text);
  }

  void add_file(const std::string& path);
  void check_protocols() const;
  void make_alpn();
  void load_client_cas();
  void make_session_id_context();
  SslCtxPtr new_context() const;
  void add_certificates();

  ServerTlsContext& out_;
  const config::Listener& listener_;
  const config::ListenerTls& tls_;
  std::string_view source_;
  std::vector<X509Ptr> client_cas_;
  // The same on every context of the listener and different between listeners: a
  // session is resumed only by the listener that made it. It covers the client
  // certificate settings too, so that a session whose client certificate was verified
  // under CAs that a reload removed is not resumed.
  unsigned char session_id_context_[SSL_MAX_SID_CTX_LENGTH] = {};
};

void ServerTlsContext::Builder::build(std::shared_ptr<TicketKeyRing> tickets) {
  if (!tls_.enabled || tls_.certificates.empty()) throw listener_problem("no certificates");
  check_protocols();
  make_alpn();
  out_.reject_unknown_server_name_ = tls_.reject_unknown_server_name;
  if (tls_.session_tickets)
    out_.tickets_ = tickets && tickets->rotation() == tls_.ticket_key_rotation
                        ? std::move(tickets)
                        : std::make_shared<TicketKeyRing>(tls_.ticket_key_rotation);
  load_client_cas();
  make_session_id_context();
  add_certificates();
}

void ServerTlsContext::Builder::add_file(const std::string& path) {
  if (std::find(out_.files_.begin(), out_.files_.end(), path) == out_.files_.end())
    out_.files_.push_back(path);
}

void ServerTlsContext::Builder::check_protocols() const {
  if (protocol_version(tls_.min_version) > protocol_version(tls_.max_version))
    throw listener_problem("min_version is above max_version");
  if (tls_.min_version == config::TlsVersion::V1_3 && tls_.ciphersuites.empty())
    throw listener_problem("ciphersuites is empty, so TLS 1.3, the only version allowed, has none");
}

void ServerTlsContext::Builder::make_alpn() {
  for (const auto& protocol : tls_.alpn) {
    if (protocol.empty() || protocol.size() > 255)
      throw listener_problem("alpn: " + quoted(protocol) +
                             " is not a protocol name (1 to 255 bytes)");
    out_.alpn_ += static_cast<char>(protocol.size());
    out_.alpn_ += protocol;
  }
}

void ServerTlsContext::Builder::load_client_cas() {
  const config::ClientCertificates& clients = tls_.client_certificates;
  if (!clients.enabled) return;
  add_file(clients.ca);
  try {
    client_cas_ = load_certificates(clients.ca, "CA");
  } catch (const std::invalid_argument& e) {
    throw listener_problem(std::string("client_certificates: ") + e.what());
  }
}

void ServerTlsContext::Builder::make_session_id_context() {
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  auto add = [&](const void* data, size_t size) {
    return EVP_DigestUpdate(md.get(), data, size) == 1;
  };
  const std::string head = "portico listener\n" + listener_.name + "\n";
  bool ok = md && EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) == 1 &&
            add(head.data(), head.size());
  const config::ClientCertificates& clients = tls_.client_certificates;
  if (clients.enabled) {
    const std::string mode = std::string(clients.required ? "required" : "optional") + "\n" +
                             std::to_string(clients.verify_depth) + "\n";
    ok = ok && add(mode.data(), mode.size());
    for (const auto& ca : client_cas_) {
      unsigned char fingerprint[EVP_MAX_MD_SIZE];
      unsigned int size = 0;
      ok = ok && X509_digest(ca.get(), EVP_sha256(), fingerprint, &size) == 1 &&
           add(fingerprint, size);
    }
  }
  unsigned int size = 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  ok = ok && EVP_DigestFinal_ex(md.get(), digest, &size) == 1 && size >= sizeof session_id_context_;
  if (!ok) throw listener_problem("cannot compute the session id context: " + take_errors());
  std::memcpy(session_id_context_, digest, sizeof session_id_context_);
}

SslCtxPtr ServerTlsContext::Builder::new_context() const {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw listener_problem("OpenSSL cannot make a context: " + take_errors());
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, protocol_version(tls_.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(c, protocol_version(tls_.max_version)) != 1)
    throw listener_problem("cannot set the protocol versions: " + take_errors());
  if (SSL_CTX_set_cipher_list(c, tls_.ciphers.c_str()) != 1)
    throw listener_problem("ciphers " + quoted(tls_.ciphers) + ": OpenSSL accepts none of them (" +
                           take_errors() + ")");
  // OpenSSL skips TLS 1.3 suites it does not know: a list of only those would quietly
  // turn TLS 1.3 off.
  if (SSL_CTX_set_ciphersuites(c, tls_.ciphersuites.c_str()) != 1 ||
      (!tls_.ciphersuites.empty() && tls13_suites(c) == 0)) {
    const std::string why = take_errors();
    throw listener_problem("ciphersuites " + quoted(tls_.ciphersuites) +
                           ": OpenSSL knows none of them" + (why.empty() ? "" : " (" + why + ")"));
  }

  SSL_CTX_set_options(
      c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // An idle keep-alive connection holds no buffers.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(c, 1);

  SSL_CTX_set_session_id_context(c, session_id_context_, sizeof session_id_context_);
  if (tls_.session_cache_size > 0) {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, static_cast<long>(tls_.session_cache_size));
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  }
  const long timeout_s = std::max<long>(1, static_cast<long>(tls_.session_timeout.count() / 1000));
  SSL_CTX_set_timeout(c, timeout_s);
  if (out_.tickets_) {
    out_.tickets_->install(c);
  } else {
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  }
  // TLS 1.3 sends its tickets after the handshake (with tickets off, they name a session
  // in the cache): one is enough for a client that opens one connection at a time.
  const bool resumable = out_.tickets_ || tls_.session_cache_size > 0;
  SSL_CTX_set_num_tickets(c, resumable ? 1 : 0);

  const config::ClientCertificates& clients = tls_.client_certificates;
  if (clients.enabled) {
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    for (const auto& ca : client_cas_)
      if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(c, ca.get()) != 1)
        throw listener_problem("client_certificates: cannot use a CA of " + clients.ca + ": " +
                               take_errors());
    SSL_CTX_set_verify(
        c, SSL_VERIFY_PEER | (clients.required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    SSL_CTX_set_verify_depth(c, static_cast<int>(clients.verify_depth));
  }

  SSL_CTX_set_tlsext_servername_callback(c, on_server_name);
  SSL_CTX_set_tlsext_servername_arg(c, &out_);
  if (!out_.alpn_.empty()) SSL_CTX_set_alpn_select_cb(c, on_alpn, &out_);
  return ctx;
}

void ServerTlsContext::Builder::add_certificates() {
  std::vector<std::vector<std::string>> group_names;  // per context
  std::vector<size_t> group_of;                       // per certificate
  for (size_t i = 0; i < tls_.certificates.size(); ++i) {
    const config::TlsCertificate& config = tls_.certificates[i];
    add_file(config.cert);
    add_file(config.key);
    CertificateChain chain;
    try {
      chain = load_certificate_chain(config.cert, config.key);
    } catch (const std::invalid_argument& e) {
      throw certificate_problem(i, e.what());
    }
    std::vector<std::string> names =
        name_set(config.server_names.empty() ? chain.names : config.server_names);
    if (names.empty() && i > 0)
      throw certificate_problem(i, config.cert +
                                       " names no host (no DNS name, no common name), so no "
                                       "client could ask for it: list its server_names");

    auto same = std::find(group_names.begin(), group_names.end(), names);
    const size_t group = static_cast<size_t>(same - group_names.begin());
    if (same == group_names.end()) {
      group_names.push_back(names);
      out_.contexts_.push_back(new_context());
    }
    for (size_t j = 0; j < i; ++j)
      if (group_of[j] == group && out_.certificates_[j].key_type == chain.key_type)
        throw certificate_problem(
            i, "has the same server names and key type (" + chain.key_type +
                   ") as tls.certificates[" + std::to_string(j) +
                   "]; a listener serves one certificate per key type for a set of names");
    group_of.push_back(group);

    SSL_CTX* ctx = out_.contexts_[group].get();
    if (SSL_CTX_use_certificate(ctx, chain.leaf.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, chain.key.get()) != 1)
      throw certificate_problem(i, "OpenSSL refuses " + config.cert + ": " + take_errors());
    // Chain certificates belong to the certificate just set (one chain per key type).
    for (const auto& intermediate : chain.intermediates)
      if (SSL_CTX_add1_chain_cert(ctx, intermediate.get()) != 1)
        throw certificate_problem(
            i, "OpenSSL refuses the chain in " + config.cert + ": " + take_errors());

    out_.certificates_.push_back({.names = names,
                                  .key_type = chain.key_type,
                                  .subject = chain.subject,
                                  .not_after = chain.not_after,
                                  .cert_file = config.cert});
  }
  for (size_t group = 0; group < group_names.size(); ++group)
    for (const auto& name : group_names[group]) out_.names_.add(name, group);
}

std::shared_ptr<const ServerTlsContext> ServerTlsContext::build(
    const config::Listener& listener, std::string_view source,
    std::shared_ptr<TicketKeyRing> tickets) {
  auto out = std::make_shared<ServerTlsContext>(Token{});
  Builder(*out, listener, source).build(std::move(tickets));
  return out;
}

SslPtr ServerTlsContext::new_connection() const {
  SslPtr ssl(SSL_new(contexts_.front().get()));
  if (!ssl) return nullptr;
  auto owner = std::make_unique<Owner>(shared_from_this());
  if (SSL_set_ex_data(ssl.get(), owner_index(), owner.get()) != 1) return nullptr;
  owner.release();  // to OpenSSL: release_owner() frees it with the SSL
  SSL_set_accept_state(ssl.get());
  return ssl;
}

int ServerTlsContext::on_server_name(SSL* ssl, int* alert, void* arg) {
  const auto* self = static_cast<const ServerTlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const int index = name ? self->names_.find(name) : -1;
  if (index < 0) {
    if (!self->reject_unknown_server_name_) return SSL_TLSEXT_ERR_OK;  // the default context
    SSL_set_ex_data(ssl, refused_index(), const_cast<ServerTlsContext*>(self));
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  SSL_CTX* ctx = self->contexts_[static_cast<size_t>(index)].get();
  if (SSL_get_SSL_CTX(ssl) != ctx && SSL_set_SSL_CTX(ssl, ctx) != ctx) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

// The first of our protocols that the client offers; none in common: no ALPN at all
// rather than a failed handshake (HTTP/1.1 is what a client without ALPN speaks).
int ServerTlsContext::on_alpn(SSL*, const unsigned char** out, unsigned char* out_size,
                              const unsigned char* in, unsigned int in_size, void* arg) {
  const std::string& ours = static_cast<const ServerTlsContext*>(arg)->alpn_;
  if (const unsigned char* chosen = select_alpn(ours, in, in_size)) {
    *out = chosen + 1;
    *out_size = *chosen;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

bool ServerTlsContext::refused_server_name(const SSL* ssl) {
  return SSL_get_ex_data(ssl, refused_index()) != nullptr;
}

std::string ServerTlsContext::client_subject(const SSL* ssl) {
  const X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  return subject_rfc2253(peer);
}

}  // namespace portico::tls
