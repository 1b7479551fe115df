// Metrics (Prometheus text 0.0.4, checked with promtool when it is installed) and JsonLog lines.
#include "service/metrics.h"

#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "service/json_log.h"
#include "test_util.h"
#include "tls_fixture.h"
#include "vcp/protocol.h"
#include "vcp/version.h"
#include "vcp/workload.h"

namespace vcp::service {
namespace {

using ::vcp::testing::HavePromtool;
using ::vcp::testing::PromtoolCheck;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every kind, labels that need escaping, a histogram with and without labels, a labelled family without series.
void FillSample(Metrics& m) {
  DeclareBuildInfo(m, "agent");
  m.DeclareCounter("vcp_test_requests_total", "Requests by code", {"code"});
  m.DeclareGauge("vcp_test_leases", "Leases held");
  m.DeclareGauge("vcp_test_lease_rate", "Rate per lease", {"lease"});
  m.DeclareHistogram("vcp_test_seconds", "Epoch seconds", {0.005, 0.125, 1, 10});
  m.DeclareHistogram("vcp_test_lease_seconds", "Per lease seconds", {1, 2}, {"lease"});
  m.DeclareCounter("vcp_test_unused_total", "Declared, never incremented", {"reason"});
  m.Add("vcp_test_requests_total", 2, {{"code", "200"}});
  m.Add("vcp_test_requests_total", 1, {{"code", "404"}});
  m.Add("vcp_test_requests_total", 1, {{"code", "200"}});
  m.Set("vcp_test_leases", 3);
  m.Set("vcp_test_lease_rate", 1.5e12, {{"lease", "b\"q\\x\ny"}});
  m.Set("vcp_test_lease_rate", 7, {{"lease", "a"}});
  // Binary fractions, so the sum is exact; 0.125 equals a bound.
  for (double v : {0.0009765625, 0.125, 0.5, 4.0, 48.0}) m.Observe("vcp_test_seconds", v);
  m.Observe("vcp_test_lease_seconds", 1.5, {{"lease", "a"}});
}

TEST(Metrics, RendersTheTextFormat) {
  Metrics m;
  FillSample(m);
  const std::string text = m.Render();
  // Declaration order: the misuse counter (constructor) first, then build info, then the rest.
  EXPECT_LT(text.find("# TYPE vcp_metrics_misuse_total counter"), text.find("# TYPE vcp_build_info gauge"));
  EXPECT_LT(text.find("# TYPE vcp_build_info gauge"), text.find("# TYPE vcp_test_requests_total counter"));
  EXPECT_TRUE(Contains(text, "vcp_metrics_misuse_total 0\n")) << text;
  EXPECT_TRUE(Contains(text, "vcp_build_info{service=\"agent\",version=\"" + std::string(kVersion) +
                                 "\",spec_version=\"" + std::to_string(kSpecVersion) + "\",protocol_version=\"" +
                                 std::to_string(kProtocolVersion) + "\"} 1\n"))
      << text;
  EXPECT_TRUE(Contains(text, "# HELP vcp_test_requests_total Requests by code\n"));
  EXPECT_TRUE(Contains(text, "vcp_test_requests_total{code=\"200\"} 3\nvcp_test_requests_total{code=\"404\"} 1\n"));
  EXPECT_TRUE(Contains(text, "vcp_test_leases 3\n"));
  // Sorted by label value; quote, backslash and newline escaped.
  EXPECT_TRUE(Contains(text, "vcp_test_lease_rate{lease=\"a\"} 7\nvcp_test_lease_rate{lease=\"b\\\"q\\\\x\\ny\"} "
                             "1.5e+12\n"))
      << text;
  // Cumulative buckets (a value equal to a bound falls in it), +Inf, sum, count.
  EXPECT_TRUE(Contains(text, "vcp_test_seconds_bucket{le=\"0.005\"} 1\n"
                             "vcp_test_seconds_bucket{le=\"0.125\"} 2\n"
                             "vcp_test_seconds_bucket{le=\"1\"} 3\n"
                             "vcp_test_seconds_bucket{le=\"10\"} 4\n"
                             "vcp_test_seconds_bucket{le=\"+Inf\"} 5\n"
                             "vcp_test_seconds_sum 52.6259765625\n"
                             "vcp_test_seconds_count 5\n"))
      << text;
  EXPECT_TRUE(Contains(text, "vcp_test_lease_seconds_bucket{lease=\"a\",le=\"1\"} 0\n"
                             "vcp_test_lease_seconds_bucket{lease=\"a\",le=\"2\"} 1\n"
                             "vcp_test_lease_seconds_bucket{lease=\"a\",le=\"+Inf\"} 1\n"
                             "vcp_test_lease_seconds_sum{lease=\"a\"} 1.5\n"))
      << text;
  EXPECT_TRUE(Contains(text, "# TYPE vcp_test_unused_total counter\n"));
  EXPECT_FALSE(Contains(text, "vcp_test_unused_total{"));
}

TEST(Metrics, PassesPromtool) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool is not installed (Debian: prometheus)";
  Metrics m;
  FillSample(m);
  const std::string text = m.Render();
  EXPECT_EQ(PromtoolCheck(text), "") << text;
  // The check itself can fail: a counter without _total rendered by hand is refused.
  EXPECT_NE(PromtoolCheck("# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n"), "");
}

TEST(Metrics, MisuseIsIgnoredAndCounted) {
  Metrics m;
  m.DeclareCounter("vcp_ok_total", "ok", {"reason"});
  m.DeclareGauge("vcp_level", "g");
  m.DeclareHistogram("vcp_wait_seconds", "w", {1, 2});
  m.DeclareCounter("vcp_not_suffixed", "a counter must end in _total");  // 1
  m.DeclareGauge("vcp_level", "declared twice");                         // 2
  m.DeclareGauge("0bad", "bad name");                                    // 3
  m.DeclareHistogram("vcp_h2_seconds", "unsorted", {2, 1});              // 4
  m.DeclareHistogram("vcp_h3_seconds", "le is reserved", {1}, {"le"});   // 5
  m.Add("vcp_undeclared_total", 1);                                      // 6
  m.Add("vcp_ok_total", 1);                                              // 7: label missing
  m.Add("vcp_ok_total", 1, {{"other", "x"}});                            // 8: wrong label name
  m.Add("vcp_ok_total", -1, {{"reason", "x"}});                          // 9: counters only go up
  m.Set("vcp_ok_total", 5, {{"reason", "x"}});                           // 10: wrong kind
  m.Observe("vcp_level", 1);                                             // 11: wrong kind
  m.Remove("vcp_undeclared", {});                                        // 12
  m.Add("vcp_ok_total", 1, {{"reason", "fine"}});
  const std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "vcp_metrics_misuse_total 12\n")) << text;
  EXPECT_TRUE(Contains(text, "vcp_ok_total{reason=\"fine\"} 1\n")) << text;
  EXPECT_FALSE(Contains(text, "reason=\"x\"")) << text;
  EXPECT_FALSE(Contains(text, "vcp_not_suffixed")) << text;
  EXPECT_FALSE(Contains(text, "declared twice")) << text;
  if (HavePromtool()) {
    EXPECT_EQ(PromtoolCheck(text), "") << text;
  }
}

TEST(Metrics, RemoveDropsOneSeries) {
  Metrics m;
  m.DeclareGauge("vcp_lease_rate", "r", {"lease"});
  m.Set("vcp_lease_rate", 1, {{"lease", "a"}});
  m.Set("vcp_lease_rate", 2, {{"lease", "b"}});
  m.Remove("vcp_lease_rate", {{"lease", "a"}});
  const std::string text = m.Render();
  EXPECT_FALSE(Contains(text, "lease=\"a\"")) << text;
  EXPECT_TRUE(Contains(text, "vcp_lease_rate{lease=\"b\"} 2\n")) << text;
  EXPECT_TRUE(Contains(text, "vcp_metrics_misuse_total 0\n")) << text;
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Metrics m;
  m.DeclareCounter("vcp_hits_total", "h", {"t"});
  m.DeclareHistogram("vcp_h_seconds", "h", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) {
        m.Add("vcp_hits_total", 1, {{"t", std::to_string(t % 2)}});
        m.Observe("vcp_h_seconds", 1);
        if (i % 100 == 0) (void)m.Render();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string text = m.Render();
  EXPECT_TRUE(Contains(text, "vcp_hits_total{t=\"0\"} 2000\nvcp_hits_total{t=\"1\"} 2000\n")) << text;
  EXPECT_TRUE(Contains(text, "vcp_h_seconds_count 4000\n")) << text;
}

TEST(JsonLog, OneObjectPerLineWithTheFixedKeysFirst) {
  std::ostringstream out;
  JsonLog log("agent", LogLevel::kInfo, &out);
  log.Write(LogLevel::kInfo, "epoch-proven", {{"lease", "ab"}, {"epoch", 3}, {"event", "ignored: reserved"}});
  log.Write(LogLevel::kDebug, "dropped-below-min-level");
  log.Write(LogLevel::kError, "refused", {{"detail", "bad \xff bytes"}});
  log.Write(LogLevel::kWarn, "odd", nlohmann::json::array({1, 2}));
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(lines, line);) {
    parsed.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
    ASSERT_FALSE(parsed.back().is_discarded()) << line;
    EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  }
  ASSERT_EQ(parsed.size(), 3u) << out.str();
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["service"], "agent");
  EXPECT_EQ(parsed[0]["event"], "epoch-proven");
  EXPECT_EQ(parsed[0]["epoch"], 3);
  EXPECT_EQ(parsed[0]["lease"], "ab");
  const std::string ts = parsed[0]["ts"];
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-12-02T01:02:03.456Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(parsed[1]["level"], "error");
  EXPECT_EQ(parsed[2]["fields"], nlohmann::json::array({1, 2}));
}

TEST(JsonLog, ConcurrentWritersNeverInterleave) {
  std::ostringstream out;
  JsonLog log("verifierd", LogLevel::kDebug, &out);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i) log.Write(LogLevel::kDebug, "tick", {{"t", t}, {"pad", std::string(300, 'x')}});
    });
  }
  for (std::thread& t : threads) t.join();
  std::istringstream lines(out.str());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    ASSERT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  }
  EXPECT_EQ(count, 800);
}

TEST(JsonLog, ParseLogLevel) {
  ASSERT_OK_AND_ASSIGN(LogLevel debug, ParseLogLevel("debug"));
  EXPECT_EQ(debug, LogLevel::kDebug);
  ASSERT_OK_AND_ASSIGN(LogLevel warn, ParseLogLevel("warn"));
  EXPECT_EQ(warn, LogLevel::kWarn);
  Result<LogLevel> bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("debug, info, warn or error"), std::string::npos);
}

}  // namespace
}  // namespace vcp::service
