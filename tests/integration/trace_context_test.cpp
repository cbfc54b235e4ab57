// W3C Trace Context: the upstream gets exactly one valid traceparent for its hop (the client's
// trace continued, or a new one), tracestate only with a continued trace, and the access log
// names the trace id the upstream saw.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

const std::string kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kParentId = "00f067aa0ba902b7";
const std::string kTraceparent = "00-" + kTraceId + "-" + kParentId + "-01";

bool LowerHex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}

// A version-00 traceparent with non-zero lower-case hex ids.
::testing::AssertionResult WellFormed(const std::string& tp) {
  if (tp.size() != 55 || tp.compare(0, 3, "00-") != 0 || tp[35] != '-' || tp[52] != '-')
    return ::testing::AssertionFailure() << "bad shape: '" << tp << "'";
  std::string trace = tp.substr(3, 32), parent = tp.substr(36, 16), flags = tp.substr(53);
  if (!LowerHex(trace) || !LowerHex(parent) || !LowerHex(flags))
    return ::testing::AssertionFailure() << "not lower-case hex: " << tp;
  if (trace == std::string(32, '0') || parent == std::string(16, '0'))
    return ::testing::AssertionFailure() << "zero id: " << tp;
  return ::testing::AssertionSuccess();
}

// Sends `request` on a new connection and returns what the upstream received.
HttpRequest Through(const ProxyConfig& cfg, TestUpstream& up, const std::string& request) {
  size_t before = up.requests_received();
  std::string err;
  auto r = Fetch(cfg.port, request, {}, &err);
  EXPECT_TRUE(r) << err;
  if (r) {
    EXPECT_EQ(r->status, 200) << r->Describe();
  }
  EXPECT_TRUE(up.WaitForRequests(before + 1, Ms{2000}));
  auto req = up.last_request();
  return req ? *req : HttpRequest{};
}

class TraceContext : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.endpoints = {up_.address()};
    cfg_.routes_before =
        "      - name: local\n"
        "        match: { path: /local }\n"
        "        respond: { status: 200, body: \"here\\n\" }\n";
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }

  // The access-log line whose request target is `target` (waits for the periodic flush).
  std::string LogLine(const std::string& target) {
    std::string needle = " " + target + "\" ";
    std::string found;
    proxy_->WaitForStdoutLine(
        [&](const std::string& l) {
          if (l.find(needle) == std::string::npos) return false;
          found = l;
          return true;
        },
        Ms{3000});
    return found;
  }

  TestUpstream up_;
  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(TraceContext, ValidTraceparentIsContinuedWithANewParentId) {
  HttpRequest req = Through(
      cfg_, up_,
      Get("/continued", {{"traceparent", kTraceparent}, {"tracestate", "congo=t61rcWkgMzE"}}));
  ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
  std::string tp = req.headers.Value("traceparent");
  EXPECT_TRUE(WellFormed(tp));
  EXPECT_EQ(tp.substr(3, 32), kTraceId) << tp;
  EXPECT_NE(tp.substr(36, 16), kParentId) << "the hop needs a parent id of its own: " << tp;
  EXPECT_EQ(tp.substr(53), "01") << tp;
  // tracestate is end-to-end: it passes unchanged with a continued trace.
  EXPECT_EQ(req.headers.All("tracestate"), std::vector<std::string>{"congo=t61rcWkgMzE"})
      << req.Describe();

  // An unsampled trace stays unsampled; several tracestate lines pass in order.
  std::string unsampled = "00-" + kTraceId + "-" + kParentId + "-00";
  req = Through(cfg_, up_,
                Get("/unsampled",
                    {{"tracestate", "a=1"}, {"traceparent", unsampled}, {"tracestate", "b=2"}}));
  ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
  tp = req.headers.Value("traceparent");
  EXPECT_TRUE(WellFormed(tp));
  EXPECT_EQ(tp.substr(0, 35), "00-" + kTraceId) << tp;
  EXPECT_EQ(tp.substr(53), "00") << tp;
  EXPECT_EQ(req.headers.All("tracestate"), (std::vector<std::string>{"a=1", "b=2"}))
      << req.Describe();
}

TEST_F(TraceContext, NewTraceWhenAbsentEachRequestItsOwn) {
  std::set<std::string> traces;
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg_.port)) << c.error();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/fresh")));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    HttpRequest req = *up_.last_request();
    ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
    std::string tp = req.headers.Value("traceparent");
    EXPECT_TRUE(WellFormed(tp));
    EXPECT_EQ(tp.substr(53), "01") << "a trace Portico starts is sampled: " << tp;
    traces.insert(tp.substr(3, 32));
  }
  EXPECT_EQ(traces.size(), 3u) << "each request starts its own trace";
}

TEST_F(TraceContext, InvalidOrDuplicateTraceparentRestartsTheTraceAndDropsTracestate) {
  std::string upper =
      "00-" + std::string("4BF92F3577B34DA6A3CE929D0E0E4736") + "-" + kParentId + "-01";
  std::string zero = "00-" + std::string(32, '0') + "-" + kParentId + "-01";
  std::string version_ff = "ff-" + kTraceId + "-" + kParentId + "-01";
  std::string too_long = kTraceparent + "-x";
  for (const std::string& bad : {upper, zero, version_ff, too_long}) {
    SCOPED_TRACE(bad);
    HttpRequest req =
        Through(cfg_, up_, Get("/invalid", {{"traceparent", bad}, {"tracestate", "congo=x"}}));
    ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
    std::string tp = req.headers.Value("traceparent");
    EXPECT_TRUE(WellFormed(tp));
    EXPECT_NE(tp, bad);
    EXPECT_NE(tp.substr(3, 32), kTraceId);
    EXPECT_EQ(tp.substr(53), "01") << tp;
    EXPECT_FALSE(req.headers.Has("tracestate")) << req.Describe();
  }

  // Two valid traceparent lines: which one would be ours? Neither.
  HttpRequest req = Through(cfg_, up_,
                            Get("/duplicate", {{"traceparent", kTraceparent},
                                               {"tracestate", "congo=x"},
                                               {"traceparent", kTraceparent}}));
  ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
  std::string tp = req.headers.Value("traceparent");
  EXPECT_TRUE(WellFormed(tp));
  EXPECT_NE(tp.substr(3, 32), kTraceId) << tp;
  EXPECT_FALSE(req.headers.Has("tracestate")) << req.Describe();

  // tracestate without any traceparent belongs to no trace either.
  req = Through(cfg_, up_, Get("/orphan-state", {{"tracestate", "congo=x"}}));
  EXPECT_TRUE(WellFormed(req.headers.Value("traceparent")));
  EXPECT_FALSE(req.headers.Has("tracestate")) << req.Describe();
}

TEST_F(TraceContext, FutureVersionIsContinuedAsVersion00) {
  HttpRequest req = Through(
      cfg_, up_,
      Get("/future", {{"traceparent", "cc-" + kTraceId + "-" + kParentId + "-01-later-fields"},
                      {"tracestate", "congo=x"}}));
  ASSERT_EQ(req.headers.Count("traceparent"), 1u) << req.Describe();
  std::string tp = req.headers.Value("traceparent");
  EXPECT_TRUE(WellFormed(tp));
  EXPECT_EQ(tp.substr(0, 35), "00-" + kTraceId) << tp;
  EXPECT_EQ(tp.substr(53), "01") << tp;
  EXPECT_EQ(req.headers.Value("tracestate"), "congo=x") << req.Describe();
}

TEST_F(TraceContext, AccessLogNamesTheTraceIdTheUpstreamSaw) {
  HttpRequest fresh = Through(cfg_, up_, Get("/logged-fresh"));
  HttpRequest continued =
      Through(cfg_, up_, Get("/logged-continued", {{"traceparent", kTraceparent}}));
  std::string fresh_trace = fresh.headers.Value("traceparent").substr(3, 32);
  ASSERT_TRUE(LowerHex(fresh_trace) && fresh_trace.size() == 32) << fresh.Describe();
  EXPECT_EQ(continued.headers.Value("traceparent").substr(3, 32), kTraceId);
  // Answered by Portico itself: the client's trace id is logged; without one, "-".
  std::string err;
  auto r = Fetch(cfg_.port, Get("/local", {{"traceparent", kTraceparent}}), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);
  r = Fetch(cfg_.port, Get("/local?none"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);

  // One worker: the lines are written in request order, so once the last one is there the
  // others are too.
  std::string last = LogLine("/local?none");
  ASSERT_FALSE(last.empty()) << proxy_->Stdout();
  EXPECT_EQ(last.substr(last.size() - 11), " trace_id=-") << last;

  std::string line = LogLine("/logged-fresh");
  ASSERT_GT(line.size(), 41u) << proxy_->Stdout();
  // The trace id is the last field, after request_id.
  EXPECT_EQ(line.substr(line.size() - 42), " trace_id=" + fresh_trace) << line;
  EXPECT_LT(line.find(" request_id="), line.find(" trace_id=")) << line;
  line = LogLine("/logged-continued");
  ASSERT_GT(line.size(), 41u) << proxy_->Stdout();
  EXPECT_EQ(line.substr(line.size() - 42), " trace_id=" + kTraceId) << line;
  line = LogLine("/local");
  ASSERT_GT(line.size(), 41u) << proxy_->Stdout();
  EXPECT_EQ(line.substr(line.size() - 42), " trace_id=" + kTraceId) << line;
}

}  // namespace
}  // namespace portico::it
