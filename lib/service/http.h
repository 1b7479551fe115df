// lib/service/http.h: the HTTP/1.1 (+TLS) server and client both services use, and the wire conventions of
// docs/API.md section 1 (media types, JSON error bodies, the Status -> HTTP status mapping).
//
// Ownership: HttpServer and HttpClient are owned by their unique_ptr; the server owns its routes and handlers
// and calls them on its worker threads until Stop() returns. Thread safety: handlers run concurrently (up to
// max_connections at once) and must be thread-safe; HttpServer::Stop may be called from any thread, once or many
// times; HttpClient calls are thread-safe (a fresh connection per call). Errors: Start/Create return a Status
// naming what was wrong (unreadable or mismatched certificate/key: kIoError/kInvalidArgument with the file; plain
// HTTP off loopback without allow_plain_http: kInvalidArgument saying how to allow it); client calls return OK for
// any HTTP answer and kUnavailable when none came. Nothing throws across this API; a handler that throws is
// answered 500 with a JSON error.
//
// Built on cpp-httplib 0.11.4 (Debian's compiled library), which this header does not expose. The server serves
// one request per connection (answers carry Connection: close). Limits compiled into that library: the request
// line and each header line at most CPPHTTPLIB_HEADER_MAX_LENGTH = CPPHTTPLIB_REQUEST_URI_MAX_LENGTH = 8192
// bytes (longer: 400 / 414 with the JSON error body, and the connection ends). read_timeout_s bounds each wait
// for bytes, not a whole request, and httplib reads a header line whole before comparing it with the limit: a
// service open to hostile networks wants a proxy with total limits in front. HttpClient over https verifies the
// chain and the host name or IP address (OpenSSL's check, because httplib's own IP comparison is unreliable).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vcp/status.h"

namespace vcp::service {

inline constexpr std::string_view kMessageMediaType = "application/vnd.vcp.v2";
inline constexpr std::string_view kJsonMediaType = "application/json";
inline constexpr std::string_view kMetricsMediaType = "text/plain; version=0.0.4; charset=utf-8";

struct HttpRequest {
  std::string method, path;           // path without the query string
  std::vector<std::string> captures;  // the route pattern's regex groups, in order
  std::string body, content_type;     // content_type without parameters, lower-case ("" when none)
  bool wants_json = false;            // Accept contains application/json and not application/vnd.vcp.v2
  std::string remote_addr;
};

struct HttpResponse {
  int status = 200;
  std::string content_type, body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Retry-After", "3"}
};

// kCorrupt 400, kInvalidArgument 422, kRejected 403, kUnavailable 503, kResourceExhausted 429, kIoError 500,
// kInternal 500 (and 200 for OK, which a caller should not need).
int HttpStatusFor(const Status& status);
// {"error": status.message(), "kind": StatusCodeName, "status": http_status[, "retry_after_s": n]} as JSON; with
// retry_after_s also the Retry-After header.
HttpResponse ErrorResponse(int http_status, const Status& status, std::optional<uint64_t> retry_after_s = {});
// 200 with the message bytes (kMessageMediaType), or json_text (kJsonMediaType) when request.wants_json.
HttpResponse MessageResponse(const HttpRequest& request, std::vector<uint8_t> bytes, std::string json_text);
HttpResponse JsonResponse(int http_status, const nlohmann::json& body);
// nullopt when request.content_type is `expected`; else the 415 answer naming both (what every message POST
// checks before parsing).
std::optional<HttpResponse> CheckContentType(const HttpRequest& request, std::string_view expected);
// 127.0.0.0/8, ::1 (also bracketed "[::1]") and "localhost".
bool IsLoopbackHost(std::string_view host);
// "HOST:PORT" or "[IPv6]:PORT" (the brackets are dropped from host), port 0..65535 (0: any free port, for a
// listen address). kInvalidArgument naming the text and the accepted forms. --listen flags and URLs use it.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text);

// The request as the routes see it, from the request line's method and path (without the query string: no route
// reads one) and the raw Content-Type and Accept headers: what the server builds for every request it routes, and
// what an in-process caller (tests, the fuzz targets) builds for HttpServer::Handle.
HttpRequest MakeHttpRequest(std::string method, std::string path, std::string_view content_type_header,
                            std::string_view accept_header, std::string body, std::string remote_addr);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
struct Route {
  std::string method;
  std::string pattern;  // std::regex that must match the whole path; its groups become HttpRequest::captures
  HttpHandler handler;
};

// The routing every server does, in one place: the first route whose pattern matches the whole path and whose
// method matches (HEAD is routed as GET) is called; a path that matches only with other methods is answered 405
// with an Allow header, an unknown path 404, a handler that throws 500, each with the JSON error body.
class Router {
 public:
  // kInvalidArgument naming a pattern that is not a valid std::regex.
  static Result<Router> Compile(std::vector<Route> routes);
  HttpResponse Dispatch(HttpRequest request) const;

 private:
  struct Compiled {
    std::string method;
    std::regex pattern;
    HttpHandler handler;
  };
  std::vector<Compiled> routes_;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                       // 0: a free port, port() tells which
  std::string tls_cert_file, tls_key_file;  // both or neither (PEM)
  bool allow_plain_http = false;           // plain HTTP off loopback
  size_t max_body_bytes = 1 << 20;  // larger: 413; a larger body is discarded as it arrives, never stored
  size_t max_connections = 32;  // connections served at once (thread pool); more are answered 503 and closed
  // read/write: each wait for the socket; keep_alive: the wait for a new connection's first request bytes.
  int read_timeout_s = 10, write_timeout_s = 10, keep_alive_timeout_s = 5;
  // Called after every answer is written (also errors the server made itself), on the worker thread: access log,
  // metrics. The request has method, path, content_type, wants_json and remote_addr (no body, no captures); the
  // response has status and content_type (no body). seconds: from the parsed headers to the written answer (0
  // when httplib refused the request before that). Must not throw (a throw is ignored).
  std::function<void(const HttpRequest&, const HttpResponse&, double seconds)> on_request;
};

// Unknown path: 404 JSON error; known path with another method: 405 (Allow header); handler exception: 500 JSON.
class HttpServer {
 public:
  // Binds host:port and starts serving on a background thread before returning.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, std::vector<Route> routes);
  uint16_t port() const;
  bool tls() const;
  // The server's routing without the network: what a request gets once its headers and body passed the limits
  // above (the body size, Content-Length, Content-Encoding and connection checks are not repeated here).
  HttpResponse Handle(HttpRequest request) const;
  // The same for the server of this process listening on `port` (an Agent or VerifierService started here, found
  // by its port()), so tests and fuzz targets drive a real service's handlers in-process; kUnavailable when no
  // such server runs. The server must not be stopped while the call runs.
  static Result<HttpResponse> HandleLocal(uint16_t port, HttpRequest request);
  // Stop accepting, wait for handlers in flight; idempotent; the destructor calls it. Not from a handler (it
  // waits for that handler).
  void Stop();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct HttpClientOptions {
  std::string ca_file;  // CA bundle the server must chain to; "" = the system's default
  int connect_timeout_ms = 3000, read_timeout_ms = 30000;
  bool allow_plain_http = false;  // http:// only to a loopback host unless set
};

class HttpClient {  // thread-safe: a fresh connection per call
 public:
  // base_url: "https://host[:port]" or "http://host[:port]" (no path; IPv6 as [::1]). kInvalidArgument for
  // anything else or for http:// to a non-loopback host without allow_plain_http; kIoError for an unreadable
  // ca_file. Responses: content_type is the Content-Type header as sent; headers are all of them.
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view base_url, HttpClientOptions options);
  // OK with any HTTP status; kUnavailable ("cannot reach https://...: connection refused / timed out / TLS: ...")
  // when no HTTP answer came. read_timeout_ms < 0: the options' value.
  Result<HttpResponse> Post(std::string_view path, std::string_view content_type, std::string body,
                            std::string_view accept, int read_timeout_ms = -1);
  Result<HttpResponse> Get(std::string_view path, std::string_view accept, int read_timeout_ms = -1);
  const std::string& base_url() const;

 private:
  HttpClient(std::string base_url, HttpClientOptions options, bool tls);
  Result<HttpResponse> Send(std::string_view method, std::string_view path, std::string_view content_type,
                            std::string body, std::string_view accept, int read_timeout_ms);
  std::string base_url_;
  HttpClientOptions options_;
  bool tls_;
};

}  // namespace vcp::service
