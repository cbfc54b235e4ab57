#include "dns/DnsRefresher.h"

#include <spdlog/spdlog.h>

#include <string>

#include "config/ValueParsers.h"
#include "core/UvClose.h"
#include "core/UvError.h"

namespace portico::dns {

namespace {

struct AddrInfoFree {
  void operator()(addrinfo* a) const { uv_freeaddrinfo(a); }
};

std::string joined(const std::vector<config::SocketAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ", ") + a.text;
  return out.empty() ? "nothing" : out;
}

}  // namespace

// One named endpoint: its refresh timer and at most one lookup in flight.
class DnsRefresher::Name {
 public:
  Name(uv_loop_t* loop, const config::Upstream& upstream, upstream::PoolState& pool,
       size_t endpoint)
      : loop_(loop),
        upstream_(upstream),
        endpoint_(upstream.endpoints[endpoint]),
        pool_(pool),
        index_(endpoint),
        port_(std::to_string(endpoint_.port)),
        failing_(endpoint_.resolved.empty()) {}
  Name(const Name&) = delete;
  Name& operator=(const Name&) = delete;
  ~Name() { stop(); }

  void start() {
    timer_ = std::make_unique<uv_timer_t>();
    uv_timer_init(loop_, timer_.get());
    timer_->data = this;
    uint64_t every = uint64_t(upstream_.dns_refresh.count());
    uv_timer_start(
        timer_.get(), [](uv_timer_t* t) { static_cast<Name*>(t->data)->lookup(); }, every, every);
  }

  void stop() {
    if (lookup_) {
      lookup_->owner = nullptr;  // its callback frees it
      uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_->req));
      lookup_ = nullptr;
    }
    core::close_owned(timer_);
  }

 private:
  // Owns itself from uv_getaddrinfo until its callback, which may come after stop().
  struct Lookup {
    uv_getaddrinfo_t req;
    Name* owner;
  };

  void lookup() {
    if (lookup_) return;  // the previous one is still out (a slow resolver)
    auto l = std::make_unique<Lookup>();
    l->owner = this;
    l->req.data = l.get();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc =
        uv_getaddrinfo(loop_, &l->req, on_resolved, endpoint_.host.c_str(), port_.c_str(), &hints);
    if (rc != 0) {
      failed(rc);
      return;
    }
    lookup_ = l.release();
  }

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    std::unique_ptr<addrinfo, AddrInfoFree> info(res);
    std::unique_ptr<Lookup> l(static_cast<Lookup*>(req->data));
    Name* self = l->owner;
    if (!self) return;
    self->lookup_ = nullptr;
    if (status != 0) {
      self->failed(status);
      return;
    }
    self->apply(config::socket_addresses(info.get()));
  }

  void failed(int status) {
    // Logged when the name starts failing, not at every refresh while it stays down.
    if (!failing_)
      spdlog::warn(
          "upstream {}: cannot resolve '{}': {}; keeping its addresses, retrying every {}ms",
          upstream_.name, endpoint_.host, core::uv_error_text(status),
          upstream_.dns_refresh.count());
    failing_ = true;
  }

  void apply(std::vector<config::SocketAddress> addresses) {
    if (failing_) spdlog::info("upstream {}: '{}' resolves again", upstream_.name, endpoint_.host);
    failing_ = false;
    uint64_t before = pool_.address_epoch();
    size_t dropped = pool_.set_addresses(index_, addresses);
    if (pool_.address_epoch() == before) return;
    spdlog::info("upstream {}: '{}' now resolves to {}", upstream_.name, endpoint_.address.text,
                 joined(addresses));
    if (dropped)
      spdlog::warn("upstream {}: '{}' has {} more addresses than the {} used", upstream_.name,
                   endpoint_.host, dropped, pool_.slot_count(index_));
    pool_.wake_workers();  // they close idle connections to addresses that went away
  }

  uv_loop_t* loop_;
  const config::Upstream& upstream_;
  const config::Endpoint& endpoint_;
  upstream::PoolState& pool_;
  size_t index_;
  std::string port_;
  bool failing_;
  std::unique_ptr<uv_timer_t> timer_;
  Lookup* lookup_ = nullptr;
};

DnsRefresher::DnsRefresher(uv_loop_t* loop, std::shared_ptr<const core::Runtime> runtime)
    : loop_(loop), runtime_(std::move(runtime)) {
  const auto& upstreams = runtime_->config().upstreams;
  for (size_t u = 0; u < upstreams.size(); ++u)
    for (size_t e = 0; e < upstreams[u].endpoints.size(); ++e)
      if (upstreams[u].endpoints[e].named)
        names_.push_back(std::make_unique<Name>(loop_, upstreams[u], runtime_->pool_state(u), e));
}

DnsRefresher::~DnsRefresher() {
  stop();
}

void DnsRefresher::start() {
  for (auto& n : names_) n->start();
}

void DnsRefresher::stop() {
  for (auto& n : names_) n->stop();
}

}  // namespace portico::dns
