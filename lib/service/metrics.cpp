#include "service/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "vcp/protocol.h"
#include "vcp/version.h"
#include "vcp/workload.h"

namespace vcp::service {
namespace {

constexpr std::string_view kMisuseName = "vcp_metrics_misuse_total";

bool ValidName(std::string_view name, bool allow_colon) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (allow_colon && c == ':');
  });
}

// Shortest text that reads back as the same double (Go's ParseFloat, which Prometheus uses, reads it), so bounds
// render as le="0.005", not 0.0050000000000000001.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

std::string Escape(std::string_view text, bool quote) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="x",b="y"} (with extra appended last, e.g. le), or "" when there are none.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  std::string out;
  const auto append = [&out](std::string_view name, std::string_view escaped_value) {
    out.append(out.empty() ? "{" : ",").append(name).append("=\"").append(escaped_value).append("\"");
  };
  for (size_t i = 0; i < names.size(); ++i) append(names[i], Escape(values[i], true));
  if (!extra_name.empty()) append(extra_name, extra_value);
  if (!out.empty()) out += '}';
  return out;
}

}  // namespace

Metrics::Metrics() {
  DeclareCounter(std::string(kMisuseName),
                 "Metric updates ignored because they named an undeclared metric, the wrong kind, wrong labels or "
                 "an invalid value (a bug in the service)");
}

void Metrics::Misuse() {
  // families_[0] is the misuse counter (the constructor declares it first); mu_ is held.
  families_[0].series[{}].value += 1;
}

void Metrics::Declare(Family family) {
  std::lock_guard<std::mutex> lock(mu_);
  bool valid = ValidName(family.name, true) &&
               std::none_of(families_.begin(), families_.end(), [&](const Family& f) { return f.name == family.name; });
  if (family.kind == Kind::kCounter) {
    valid = valid && family.name.size() > 6 && family.name.substr(family.name.size() - 6) == "_total";
  }
  for (const std::string& label : family.label_names) {
    valid = valid && ValidName(label, false) && label.substr(0, 2) != "__" &&
            !(family.kind == Kind::kHistogram && label == "le");
  }
  for (size_t i = 0; i < family.upper_bounds.size(); ++i) {
    valid = valid && std::isfinite(family.upper_bounds[i]) &&
            (i == 0 || family.upper_bounds[i - 1] < family.upper_bounds[i]);
  }
  if (!valid) {
    if (!families_.empty()) Misuse();
    return;
  }
  // A family without labels has its one series from the start, so a scrape shows 0 rather than nothing.
  if (family.label_names.empty()) {
    Series& series = family.series[{}];
    if (family.kind == Kind::kHistogram) series.counts.assign(family.upper_bounds.size() + 1, 0);
  }
  families_.push_back(std::move(family));
}

void Metrics::DeclareCounter(std::string name, std::string help, std::vector<std::string> label_names) {
  Declare({std::move(name), std::move(help), Kind::kCounter, std::move(label_names), {}, {}});
}

void Metrics::DeclareGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  Declare({std::move(name), std::move(help), Kind::kGauge, std::move(label_names), {}, {}});
}

void Metrics::DeclareHistogram(std::string name, std::string help, std::vector<double> upper_bounds,
                               std::vector<std::string> label_names) {
  Declare({std::move(name), std::move(help), Kind::kHistogram, std::move(label_names), std::move(upper_bounds), {}});
}

Metrics::Series* Metrics::Find(std::string_view name, Kind kind, const Labels& labels) {
  auto family = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  if (family == families_.end() || family->kind != kind || labels.size() != family->label_names.size()) {
    Misuse();
    return nullptr;
  }
  // Values in the declared order, whatever order the caller gave the pairs in.
  std::vector<std::string> values;
  for (const std::string& label : family->label_names) {
    auto it = std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.first == label; });
    if (it == labels.end()) {
      Misuse();
      return nullptr;
    }
    values.push_back(it->second);
  }
  Series& series = family->series[values];
  if (kind == Kind::kHistogram && series.counts.empty()) series.counts.assign(family->upper_bounds.size() + 1, 0);
  return &series;
}

void Metrics::Add(std::string_view name, double value, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!(value >= 0) || std::isinf(value)) {  // also NaN: a counter only goes up, by a finite amount
    Misuse();
    return;
  }
  if (Series* series = Find(name, Kind::kCounter, labels)) series->value += value;
}

void Metrics::Set(std::string_view name, double value, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* series = Find(name, Kind::kGauge, labels)) series->value = value;
}

void Metrics::Observe(std::string_view name, double value, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::isnan(value)) {
    Misuse();
    return;
  }
  auto family = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  Series* series = Find(name, Kind::kHistogram, labels);
  if (series == nullptr) return;
  const auto& bounds = family->upper_bounds;
  const size_t bucket = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  series->counts[bucket] += 1;  // bucket == bounds.size(): +Inf
  series->sum += value;
}

void Metrics::Remove(std::string_view name, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto family = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  if (family == families_.end() || labels.size() != family->label_names.size()) {
    Misuse();
    return;
  }
  std::vector<std::string> values;
  for (const std::string& label : family->label_names) {
    auto it = std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.first == label; });
    if (it == labels.end()) {
      Misuse();
      return;
    }
    values.push_back(it->second);
  }
  family->series.erase(values);
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Family& family : families_) {
    static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + family.name + " " + Escape(family.help, false) + "\n";
    out += "# TYPE " + family.name + " " + std::string(kTypeNames[static_cast<int>(family.kind)]) + "\n";
    for (const auto& [values, series] : family.series) {
      if (family.kind != Kind::kHistogram) {
        out += family.name + LabelText(family.label_names, values) + " " + FormatValue(series.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < series.counts.size(); ++i) {
        cumulative += series.counts[i];
        const std::string le = i < family.upper_bounds.size() ? FormatValue(family.upper_bounds[i]) : "+Inf";
        out += family.name + "_bucket" + LabelText(family.label_names, values, "le", le) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += family.name + "_sum" + LabelText(family.label_names, values) + " " + FormatValue(series.sum) + "\n";
      out += family.name + "_count" + LabelText(family.label_names, values) + " " + std::to_string(cumulative) +
             "\n";
    }
  }
  return out;
}

void DeclareBuildInfo(Metrics& metrics, std::string_view service) {
  metrics.DeclareGauge("vcp_build_info", "The running vcp build: release, workload spec and protocol versions",
                       {"service", "version", "spec_version", "protocol_version"});
  metrics.Set("vcp_build_info", 1,
              {{"service", std::string(service)},
               {"version", std::string(kVersion)},
               {"spec_version", std::to_string(kSpecVersion)},
               {"protocol_version", std::to_string(kProtocolVersion)}});
}

}  // namespace vcp::service
