// fuzz/http_property.h: what both HTTP handler targets (agent_http, verifierd_http) share.
//
// An input is an HTTP/1.1 request as a client sends it: "METHOD TARGET VERSION\r\n", header lines, a blank line,
// the body. It is split here (method, the path before any '?', the Content-Type and Accept headers, the body) into
// the HttpRequest the server builds (service::MakeHttpRequest) and dispatched in-process through the server's own
// routing (HttpServer::HandleLocal). Inputs the server's HTTP parser would refuse before routing (no request
// line, a method httplib does not route, a header line without a colon) are skipped: httplib answers them itself.
//
// Property of every answer: its status is one docs/API.md documents, and every 4xx/5xx answer carries the JSON
// error body {"error": text, "kind": name, "status": the same status}.
//
// Ownership, thread safety: stateless. Errors: a failed property aborts (fuzz_target.h).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "fuzz_target.h"
#include "service/http.h"

namespace vcp::fuzz {

inline std::optional<service::HttpRequest> ParseRawRequest(std::string_view text) {
  const size_t line_end = text.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view line = text.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
  const std::string method(line.substr(0, sp1));
  static const std::set<std::string> kRouted = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"};
  if (kRouted.count(method) == 0) return std::nullopt;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') return std::nullopt;
  target = target.substr(0, target.find('?'));
  std::string content_type, accept;
  size_t at = line_end + 2;
  while (true) {
    const size_t end = text.find("\r\n", at);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view header = text.substr(at, end - at);
    at = end + 2;
    if (header.empty()) break;
    const size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string name(header.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (name == "content-type") content_type = std::string(value);
    if (name == "accept") accept = std::string(value);
  }
  return service::MakeHttpRequest(method, std::string(target), content_type, accept, std::string(text.substr(at)),
                                  "127.0.0.1");
}

inline void CheckAnswer(const service::HttpResponse& response, const std::set<int>& documented) {
  // VCP_FUZZ_VERBOSE=1: one line per answer, to see what the seeds reach.
  if (std::getenv("VCP_FUZZ_VERBOSE") != nullptr) {
    std::fprintf(stderr, "  -> %d %s\n", response.status, response.body.substr(0, 160).c_str());
  }
  VCP_FUZZ_CHECK(documented.count(response.status) == 1,
                 "status " + std::to_string(response.status) + " is not documented: " + response.body.substr(0, 300));
  if (response.status < 400) return;
  VCP_FUZZ_CHECK(response.content_type == service::kJsonMediaType,
                 "error answer " + std::to_string(response.status) + " has Content-Type " + response.content_type);
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  VCP_FUZZ_CHECK(body.is_object() && body.contains("error") && body["error"].is_string() && body.contains("kind") &&
                     body["kind"].is_string() && body.value("status", 0) == response.status,
                 "error answer " + std::to_string(response.status) + " lacks the JSON error body: " +
                     response.body.substr(0, 300));
}

}  // namespace vcp::fuzz
