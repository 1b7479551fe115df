// lib/service/metrics.h: a small registry that renders the Prometheus text exposition format 0.0.4 (what
// /metrics of both services serves with kMetricsMediaType).
//
// Ownership: a Metrics object owns every family and series. Thread safety: every method takes one mutex, so
// handlers on many threads may update and render concurrently. Errors: none reported; using an undeclared name,
// the wrong kind of update, a wrong label count, a negative counter increment or a second declaration of a name
// is a programming bug: the call is ignored and counted in vcp_metrics_misuse_total (declared by the
// constructor), so a scrape shows it instead of the service crashing.
//
// Rendering: families in declaration order, each with # HELP and # TYPE; series sorted by label values;
// counters must be named *_total; histograms render cumulative _bucket{le="..."} series ending with le="+Inf",
// then _sum and _count. Label values are escaped (\\, \", \n); help text escapes \\ and \n.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vcp::service {

using Labels = std::vector<std::pair<std::string, std::string>>;  // {name, value}, in the declared order

class Metrics {
 public:
  Metrics();
  void DeclareCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
  void DeclareGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // upper_bounds: strictly increasing, finite; +Inf is added.
  void DeclareHistogram(std::string name, std::string help, std::vector<double> upper_bounds,
                        std::vector<std::string> label_names = {});
  void Add(std::string_view name, double value, const Labels& labels = {});      // counter (value >= 0)
  void Set(std::string_view name, double value, const Labels& labels = {});      // gauge
  void Observe(std::string_view name, double value, const Labels& labels = {});  // histogram
  void Remove(std::string_view name, const Labels& labels);                      // drop one series (gauges)
  std::string Render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;              // counter, gauge
    std::vector<uint64_t> counts;  // histogram: per bucket (not cumulative), the last one +Inf
    double sum = 0;
  };
  struct Family {
    std::string name, help;
    Kind kind;
    std::vector<std::string> label_names;
    std::vector<double> upper_bounds;
    std::map<std::vector<std::string>, Series> series;  // by label values
  };
  void Declare(Family family);
  // The series for (name, labels) of that kind, created on first use; nullptr (and a misuse count) when wrong.
  Series* Find(std::string_view name, Kind kind, const Labels& labels);
  void Misuse();

  mutable std::mutex mu_;
  std::vector<Family> families_;  // declaration order
};

// vcp_build_info{service,version,spec_version,protocol_version} 1 (a gauge, the Prometheus convention).
void DeclareBuildInfo(Metrics& metrics, std::string_view service);

}  // namespace vcp::service
