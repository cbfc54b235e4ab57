// Portico's own TLS-side code that reads what a client sends before the handshake is
// OpenSSL's business: the SNI lookup that picks a listener's certificate
// (ServerNameTable), the ALPN choice (select_alpn, over the client's raw protocol list),
// the first-byte check that answers plain HTTP on a TLS port (classify_first_byte), and
// the classification of handshake errors (classify_failure).
//
// Input: lines split at '\n'. The lines before the first empty one are a listener's
// certificate names (added in order, index = line number); every line is then looked up
// as an SNI, and the whole input is the client's ALPN list.
//
// Invariants: a name that was added finds its index (any case, with a trailing dot); a
// wildcard finds its index for a one-label child that has no exact entry; find() returns
// -1 or an index that was added; ALPN picks a protocol both sides have, inside the
// client's list.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http/Header.h"
#include "tests/fuzz/FuzzCheck.h"
#include "tls/AlpnSelect.h"
#include "tls/HandshakeFailure.h"
#include "tls/ServerNameTable.h"

using namespace portico;

namespace {

using fuzz::check;

SSL* server_ssl = nullptr;
SSL* client_ssl = nullptr;

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out += http::ascii_lower(c);
  return out;
}

std::string_view without_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SSL_CTX* server = SSL_CTX_new(TLS_server_method());
  SSL_CTX* client = SSL_CTX_new(TLS_client_method());
  server_ssl = SSL_new(server);
  client_ssl = SSL_new(client);
  SSL_set_accept_state(server_ssl);
  SSL_set_connect_state(client_ssl);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // The first byte a TLS port reads.
  if (size > 0) {
    tls::HandshakeFailure f = tls::classify_first_byte(data[0]);
    check(f == tls::HandshakeFailure::None || f == tls::HandshakeFailure::PlainHttp ||
              f == tls::HandshakeFailure::NotTls,
          "first byte classified as something else");
    check((f == tls::HandshakeFailure::None) == (data[0] == 0x16), "a handshake record refused");
    (void)tls::failure_name(f);
  }
  // Handshake errors: library and reason codes from the input.
  if (size >= 4) {
    unsigned long lib = data[0] % 64;
    unsigned long reason = (unsigned long)(data[2] | (data[3] << 8)) & 0xFFF;
    unsigned long error = ERR_PACK(lib, 0, reason);
    (void)tls::failure_name(tls::classify_failure(server_ssl, error));
    (void)tls::failure_name(tls::classify_failure(client_ssl, error));
  }

  // ALPN: ours is h2 then http/1.1 (wire format), the client's list is the input.
  static const std::string ours = std::string("\x02h2\x08http/1.1", 12);
  const auto* in = reinterpret_cast<const unsigned char*>(data);
  if (const unsigned char* chosen = tls::select_alpn(ours, in, unsigned(size))) {
    check(chosen >= in && chosen + 1 + *chosen <= in + size, "ALPN choice outside the list");
    std::string_view name(reinterpret_cast<const char*>(chosen + 1), *chosen);
    check(name == "h2" || name == "http/1.1", "ALPN chose a protocol we do not speak");
  }

  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < 256) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  tls::ServerNameTable table;
  std::vector<std::string_view> names;
  std::vector<bool> added;
  for (std::string_view l : lines) {
    if (l.empty()) break;
    added.push_back(table.add(l, names.size()));
    names.push_back(l);
  }
  for (std::string_view sni : lines) {
    int i = table.find(sni);
    check(i >= -1 && i < int(names.size()), "find() returned an index never added");
    if (i >= 0) check(added[size_t(i)], "find() returned the index of a refused name");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!added[i]) continue;
    std::string_view n = without_dot(names[i]);
    if (n.empty() || n.size() > 255) continue;
    const std::string key = lower(n);
    if (key.size() > 2 && key.starts_with("*.")) {
      // A one-label child finds the wildcard unless an exact name claims it.
      std::string child = "a" + key.substr(1);
      if (child.size() > 255 || child.back() == '.') continue;
      int got = table.find(child);
      bool exact_claims = false;
      for (size_t j = 0; j < names.size(); ++j)
        if (added[j] && lower(without_dot(names[j])) == child) exact_claims = true;
      if (!exact_claims) check(got == int(i), "a wildcard does not find its child");
      continue;
    }
    check(table.find(names[i]) == int(i), "an added name does not find itself");
    std::string upper(names[i]);
    for (char& c : upper)
      if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    check(table.find(upper) == int(i), "an added name is case-sensitive");
  }
  return 0;
}
