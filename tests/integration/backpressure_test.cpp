// Backpressure: a 200 MB body between a fast side and a side that stops reading for ~2 s must
// not pile up in the proxy (RSS stays under 64 MB) and must arrive whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "harness/Checksum.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/Sanitizers.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr uint64_t kHuge = 200ull << 20;
// Under AddressSanitizer the proxy carries shadow memory and allocator overhead; its freed-block
// quarantine is turned down (below) so that RSS still tracks what the proxy holds, and the bound
// is raised. Either bound is far below the 200 MB that a proxy without backpressure would hold.
constexpr long kRssLimitKb = (kAddressSanitizer ? 160 : 64) * 1024;

PorticoOptions BackpressureOptions(const ProxyConfig& cfg) {
  PorticoOptions o = cfg.Options();
  if (kAddressSanitizer) o.env.push_back("ASAN_OPTIONS+=quarantine_size_mb=1");
  return o;
}

struct RssWatch {
  PorticoProcess& proxy;
  long peak_kb = 0;
  int samples = 0;
  void Sample() {
    long kb = proxy.RssKb();
    if (kb > 0) {
      peak_kb = std::max(peak_kb, kb);
      ++samples;
    }
  }
  // Pauses for `total`, sampling every 100 ms; false if the proxy died.
  bool PauseSampling(Ms total) {
    for (Ms done{0}; done < total; done += Ms{100}) {
      Sample();
      if (!proxy.PauseWhileRunning(Ms{100})) return false;
    }
    Sample();
    return true;
  }
};

void DownloadWithPausedClient(bool chunked) {
  TestUpstream up([chunked](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = kHuge;
    r.chunked = chunked;
    r.chunk_size = 256 * 1024;
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.timeouts = "{ connect: 1s, response: 10s }";
  cfg.access_log = "off";
  PorticoProcess proxy(BackpressureOptions(cfg));
  ASSERT_TRUE(proxy.Start());
  RssWatch rss{proxy};
  rss.Sample();
  long start_kb = rss.peak_kb;

  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/huge")));
  uint64_t received = 0;
  uint64_t next_sample = 0;
  bool paused = false;
  bool pattern_ok = true;
  uint64_t bad_index = 0;
  bool proxy_alive = true;
  ReadOptions opts;
  opts.timeout = Ms{60000};
  opts.body_sink = [&](std::string_view data) {
    if (pattern_ok && !MatchesPattern(data, received, &bad_index)) pattern_ok = false;
    received += data.size();
    if (!paused && received >= (1u << 20)) {
      paused = true;  // the client stops reading for ~2 s while the upstream keeps sending
      proxy_alive = rss.PauseSampling(Ms{2000});
    }
    if (received >= next_sample) {
      rss.Sample();
      next_sample = received + (8u << 20);
    }
  };
  auto r = c.ReadResponse(opts);
  ASSERT_TRUE(proxy_alive) << proxy.DiagnosticTail();
  ASSERT_TRUE(r) << c.error() << " after " << received << " body bytes";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_size, kHuge);
  EXPECT_TRUE(pattern_ok) << "body corrupted at byte " << bad_index;
  EXPECT_GE(rss.samples, 20);
  std::fprintf(stderr, "[ info ] proxy RSS %ld KiB at start, peak %ld KiB over %d samples\n",
               start_kb, rss.peak_kb, rss.samples);
  EXPECT_LT(rss.peak_kb, kRssLimitKb) << "proxy RSS peaked at " << rss.peak_kb / 1024
                                      << " MB (started at " << start_kb / 1024 << " MB)";
}

TEST(Backpressure, SlowClientContentLengthDownload) {
  DownloadWithPausedClient(false);
}

TEST(Backpressure, SlowClientChunkedDownload) {
  DownloadWithPausedClient(true);
}

TEST(Backpressure, SlowUpstreamUpload) {
  UpstreamOptions uo;
  uo.pause_after_head = Ms{2000};  // the upstream stops reading right after the request head
  uo.max_stored_body = 0;
  TestUpstream up(BodySummaryResponse, uo);
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.timeouts = "{ connect: 1s, response: 10s }";
  cfg.limits = "{ max_body_bytes: 512MiB }";
  cfg.access_log = "off";
  PorticoProcess proxy(BackpressureOptions(cfg));
  ASSERT_TRUE(proxy.Start());
  RssWatch rss{proxy};

  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Request("POST", "/upload", {{"Content-Length", std::to_string(kHuge)}})));
  Deadline deadline(Ms{60000});
  uint64_t sent_total = 0;
  while (sent_total < kHuge && !deadline.Expired()) {
    std::string_view piece = PatternView(
        sent_total, static_cast<size_t>(std::min<uint64_t>(1 << 20, kHuge - sent_total)));
    size_t sent = 0;
    // Short send deadlines so RSS is sampled while the client is blocked by backpressure.
    IoStatus st = c.SendPartial(piece, Ms{100}, &sent);
    sent_total += sent;
    rss.Sample();
    ASSERT_TRUE(st == IoStatus::kOk || st == IoStatus::kTimeout) << c.error() << "\n"
                                                                 << proxy.DiagnosticTail();
  }
  ASSERT_EQ(sent_total, kHuge) << "upload did not finish in time";
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{20000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "size=" + std::to_string(kHuge) +
                         " checksum=" + std::to_string(PatternChecksum(kHuge)));
  std::fprintf(stderr, "[ info ] proxy RSS peak %ld KiB over %d samples\n", rss.peak_kb,
               rss.samples);
  EXPECT_LT(rss.peak_kb, kRssLimitKb) << "proxy RSS peaked at " << rss.peak_kb / 1024 << " MB";
}

}  // namespace
}  // namespace portico::it
