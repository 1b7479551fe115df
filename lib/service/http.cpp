// HttpServer / HttpClient over cpp-httplib 0.11.4 (Debian's compiled library, with OpenSSL).
//
// How the limits of http.h are enforced, and why this way:
// - Connections: httplib hands every accepted socket to a TaskQueue as an opaque closure, so a connection can
//   only be answered or closed by running that closure. BoundedTaskQueue runs at most max_connections of them on
//   its workers; a connection accepted while all are busy runs on a small shed pool instead, where the
//   pre-routing handler answers its request 503 (Retry-After) without calling any route. A flood therefore costs
//   each shed connection one request read (bounded by read_timeout_s per read), never a queue of clients waiting
//   behind long epoch requests.
// - Bodies: never held beyond max_body_bytes. A Content-Length above it is answered 413 after httplib discards
//   the body (read and dropped, not stored): answering and closing at once would make the kernel reset the
//   connection over the unread bytes, and the client would see a reset instead of the 413. Chunked or unsized
//   bodies go through a receiver that stops at the limit (413). Compressed and multipart bodies are refused
//   before reading (415): no route takes them.
// - Header lines and the URI: CPPHTTPLIB_HEADER_MAX_LENGTH / CPPHTTPLIB_REQUEST_URI_MAX_LENGTH (8192 each) are
//   compiled into the library; longer lines get 400 / 414 from httplib, which the error handler turns into JSON.
//   The library reads a whole line before comparing it with the limit and bounds each read, not a whole
//   request, by the read timeout: a service exposed to hostile networks wants a proxy with total limits in front.
#include "service/http.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

namespace vcp::service {
namespace {

constexpr size_t kShedThreads = 2;  // answer over-limit connections 503; two so one slow client does not stall it

// Set on the shed pool's threads: the pre-routing handler answers 503 there.
thread_local bool tl_shedding = false;
// When the current request's headers were parsed, for on_request's seconds (unset: httplib refused the request
// before routing, e.g. an oversized header line).
thread_local std::optional<std::chrono::steady_clock::time_point> tl_request_start;

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  explicit BoundedTaskQueue(size_t max_busy) : max_busy_(max_busy), workers_(max_busy), shed_(kShedThreads) {}
  // Called only from httplib's accept thread, so the check and the increment cannot race with another enqueue.
  void enqueue(std::function<void()> fn) override {
    if (busy_.load() < max_busy_) {
      ++busy_;
      workers_.enqueue([this, fn = std::move(fn)] {
        fn();
        --busy_;
      });
    } else {
      shed_.enqueue([fn = std::move(fn)] {
        tl_shedding = true;
        fn();
        tl_shedding = false;
      });
    }
  }
  void shutdown() override {
    workers_.shutdown();
    shed_.shutdown();
  }

 private:
  const size_t max_busy_;
  std::atomic<size_t> busy_{0};
  httplib::ThreadPool workers_, shed_;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "Application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(std::string_view header) {
  std::string_view type = header.substr(0, header.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) type.remove_prefix(1);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.remove_suffix(1);
  return Lower(type);
}

bool WantsJson(std::string_view accept) {
  const std::string a = Lower(accept);
  return a.find(kJsonMediaType) != std::string::npos && a.find(kMessageMediaType) == std::string::npos;
}

HttpRequest ToRequest(const httplib::Request& req) {
  return MakeHttpRequest(req.method, req.path, req.get_header_value("Content-Type"), req.get_header_value("Accept"),
                         {}, req.remote_addr);
}

void WriteResponse(const HttpResponse& response, httplib::Response& res) {
  res.status = response.status;
  res.body = response.body;
  if (!response.content_type.empty()) res.set_header("Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
}

// The kind for an error httplib produced itself (no Status behind it).
Status LibraryStatus(int http_status, std::string message) {
  return http_status >= 500 ? Status::Internal(std::move(message)) : Status::Corrupt(std::move(message));
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL detail";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

Result<std::string> ReadWholeFile(const std::string& file, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return Status::IoError("cannot read " + std::string(what) + " '" + file + "': " +
                           (ec ? ec.message() : "not a regular file (or missing)"));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::IoError("cannot read " + std::string(what) + " '" + file + "': " + std::strerror(errno));
  return text.str();
}

// Checks the PEM files before httplib loads them, because httplib only reports "invalid" without saying which
// file or why. Uses libcrypto only (the library already links it).
Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file) {
  VCP_ASSIGN_OR_RETURN(const std::string cert_pem, ReadWholeFile(cert_file, "TLS certificate file"));
  VCP_ASSIGN_OR_RETURN(const std::string key_pem, ReadWholeFile(key_file, "TLS key file"));
  using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr),
                                                   &X509_free);
  if (!cert) {
    return Status::InvalidArgument("TLS certificate file '" + cert_file + "' holds no PEM certificate (" +
                                   OpenSslError() + "); expected -----BEGIN CERTIFICATE-----");
  }
  // A refusing passphrase callback: an encrypted key must fail here, not prompt on a daemon's terminal.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
  if (!key) {
    return Status::InvalidArgument("TLS key file '" + key_file + "' holds no unencrypted PEM private key (" +
                                   OpenSslError() + ")");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Status::InvalidArgument("TLS key file '" + key_file + "' does not match the certificate in '" +
                                   cert_file + "' (" + OpenSslError() + "); give the key the certificate was made for");
  }
  return Status::Ok();
}

// The servers of this process by port, for HttpServer::HandleLocal.
std::mutex g_local_mu;
std::map<uint16_t, std::shared_ptr<const Router>> g_local_servers;

}  // namespace

HttpRequest MakeHttpRequest(std::string method, std::string path, std::string_view content_type_header,
                            std::string_view accept_header, std::string body, std::string remote_addr) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.content_type = MediaType(content_type_header);
  request.wants_json = WantsJson(accept_header);
  request.body = std::move(body);
  request.remote_addr = std::move(remote_addr);
  return request;
}

Result<Router> Router::Compile(std::vector<Route> routes) {
  Router router;
  for (Route& route : routes) {
    try {
      router.routes_.push_back({route.method, std::regex(route.pattern), std::move(route.handler)});
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument("route pattern '" + route.pattern + "' is not a valid regex: " + e.what());
    }
  }
  return router;
}

HttpResponse Router::Dispatch(HttpRequest request) const {
  const std::string& method = request.method == "HEAD" ? std::string("GET") : request.method;
  std::string allowed;
  for (const Compiled& route : routes_) {
    std::smatch match;
    if (!std::regex_match(request.path, match, route.pattern)) continue;
    if (route.method != method) {
      allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    for (size_t i = 1; i < match.size(); ++i) request.captures.push_back(match[i].str());
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      return ErrorResponse(500, Status::Internal("the handler of " + request.method + " " + request.path +
                                                 " failed: " + e.what()));
    } catch (...) {
      return ErrorResponse(500, Status::Internal("the handler of " + request.method + " " + request.path +
                                                 " failed with a non-standard exception"));
    }
  }
  if (!allowed.empty()) {
    HttpResponse response = ErrorResponse(405, Status::InvalidArgument("method " + request.method +
                                                                       " is not allowed on " + request.path +
                                                                       ": allowed: " + allowed));
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return ErrorResponse(404, Status::InvalidArgument("no such endpoint: " + request.method + " " + request.path +
                                                    " (docs/API.md lists the endpoints)"));
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kCorrupt: return 400;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kRejected: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kIoError:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

HttpResponse JsonResponse(int http_status, const nlohmann::json& body) {
  // replace: an error message may quote request bytes that are not UTF-8; dump must not throw on them.
  return HttpResponse{http_status, std::string(kJsonMediaType),
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

HttpResponse ErrorResponse(int http_status, const Status& status, std::optional<uint64_t> retry_after_s) {
  nlohmann::json body = {{"error", status.ok() ? std::string("no detail") : std::string(status.message())},
                         {"kind", std::string(StatusCodeName(status.code()))},
                         {"status", http_status}};
  if (retry_after_s) body["retry_after_s"] = *retry_after_s;
  HttpResponse response = JsonResponse(http_status, body);
  if (retry_after_s) response.headers.emplace_back("Retry-After", std::to_string(*retry_after_s));
  return response;
}

HttpResponse MessageResponse(const HttpRequest& request, std::vector<uint8_t> bytes, std::string json_text) {
  if (request.wants_json) return HttpResponse{200, std::string(kJsonMediaType), std::move(json_text), {}};
  return HttpResponse{200, std::string(kMessageMediaType), std::string(bytes.begin(), bytes.end()), {}};
}

std::optional<HttpResponse> CheckContentType(const HttpRequest& request, std::string_view expected) {
  if (request.content_type == expected) return std::nullopt;
  return ErrorResponse(415, Status::InvalidArgument(
                                "Content-Type '" + request.content_type + "' is not accepted by " + request.method +
                                " " + request.path + ": send " + std::string(expected)));
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string h = Lower(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("address '" + std::string(text) + "' " + std::string(why) +
                                   ": expected HOST:PORT or [IPv6]:PORT with PORT 0..65535");
  };
  HostPort parsed;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed [");
    if (text.substr(close + 1, 1) != ":") return bad("has no :PORT after ]");
    parsed.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("has no :PORT");
    parsed.host = std::string(text.substr(0, colon));
    if (parsed.host.find(':') != std::string::npos) return bad("is IPv6 without brackets");
    port_text = text.substr(colon + 1);
  }
  if (parsed.host.empty()) return bad("has no host");
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), parsed.port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size()) {
    return bad("has a port that is not a number in 0..65535");
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------------
// Server

struct HttpServer::Impl {
  HttpServerOptions options;
  std::shared_ptr<const Router> router;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  uint16_t port = 0;
  bool tls = false;
  std::mutex stop_mu;
  bool stopped = false;

  // Answers what httplib must not route: over the connection limit, bodies that are too large or encoded.
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res) const {
    tl_request_start = std::chrono::steady_clock::now();
    std::optional<HttpResponse> refusal;
    if (tl_shedding) {
      refusal = ErrorResponse(503,
                              Status::Unavailable("the server is serving its limit of " +
                                                  std::to_string(options.max_connections) +
                                                  " connections at once; retry later"),
                              1);
    } else if (req.has_header("Content-Length")) {
      // httplib would read a malformed length as 0 and take what follows for the next request.
      const std::string length = req.get_header_value("Content-Length");
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
      if (ec != std::errc() || end != length.data() + length.size()) {
        refusal = ErrorResponse(400, Status::Corrupt("Content-Length '" + length + "' is not a number"));
      }
    }
    if (!refusal) {
      const std::string encoding = Lower(req.get_header_value("Content-Encoding"));
      if (!encoding.empty() && encoding != "identity") {
        refusal = ErrorResponse(415, Status::InvalidArgument("Content-Encoding '" + encoding +
                                                             "' is not accepted: send the body uncompressed"));
      } else if (req.is_multipart_form_data()) {
        refusal = ErrorResponse(415, Status::InvalidArgument(
                                         "multipart/form-data is not accepted: send the body as it is"));
      }
    }
    if (!refusal) return httplib::Server::HandlerResponse::Unhandled;
    WriteResponse(*refusal, res);
    return httplib::Server::HandlerResponse::Handled;
  }

  // Every request that reaches routing: read the body (bounded), match a route, call it.
  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) const {
    HttpRequest request = ToRequest(req);
    if (reader != nullptr) {
      bool too_large = false;
      const bool read = (*reader)([&](const char* data, size_t n) {
        if (request.body.size() + n > options.max_body_bytes) {
          too_large = true;
          return false;
        }
        request.body.append(data, n);
        return true;
      });
      if (!read) {
        // 413 from our receiver (chunked or unsized body) or from httplib (Content-Length above
        // payload_max_length: it discarded the body unread, so the connection stays usable).
        too_large = too_large || res.status == 413;
        WriteResponse(too_large ? ErrorResponse(413, Status::InvalidArgument(
                                                         "the request body is larger than the limit of " +
                                                         std::to_string(options.max_body_bytes) + " bytes"))
                                : ErrorResponse(400, Status::Corrupt("the request body could not be read "
                                                                     "(truncated, or malformed chunked encoding)")), res);
        return;
      }
    }
    WriteResponse(router->Dispatch(std::move(request)), res);
  }

  // Gives errors that httplib made itself (bad request line, header too long, ...) the JSON error body.
  static httplib::Server::HandlerResponse FillLibraryError(const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a route's or ours: has a body
    std::string message;
    switch (res.status) {
      case 400:
        message = "the request line or a header is malformed, or a header line is longer than " +
                  std::to_string(CPPHTTPLIB_HEADER_MAX_LENGTH) + " bytes";
        break;
      case 414:
        message = "the request URI is longer than " + std::to_string(CPPHTTPLIB_REQUEST_URI_MAX_LENGTH) + " bytes";
        break;
      case 416: message = "Range requests are not supported"; break;
      default: message = "HTTP status " + std::to_string(res.status); break;
    }
    if (res.has_header("EXCEPTION_WHAT")) {
      message += ": " + res.get_header_value("EXCEPTION_WHAT");
      res.headers.erase("EXCEPTION_WHAT");
    }
    WriteResponse(ErrorResponse(res.status, LibraryStatus(res.status, message)), res);
    return httplib::Server::HandlerResponse::Handled;
  }

  void Log(const httplib::Request& req, const httplib::Response& res) const {
    const std::optional<std::chrono::steady_clock::time_point> start = tl_request_start;
    tl_request_start.reset();
    if (!options.on_request) return;
    const double seconds =
        start ? std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count() : 0.0;
    HttpResponse response{res.status, res.get_header_value("Content-Type"), {}, {}};
    try {
      options.on_request(ToRequest(req), response, seconds);
    } catch (...) {
      // The logger runs outside httplib's exception guard, where a throw would end the process; an access log
      // or metrics update that fails must not take the service down.
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port; }

bool HttpServer::tls() const { return impl_->tls; }

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  {
    std::lock_guard<std::mutex> local(g_local_mu);
    const auto found = g_local_servers.find(impl_->port);
    if (found != g_local_servers.end() && found->second == impl_->router) g_local_servers.erase(found);
  }
  impl_->server->stop();  // closes the listening socket; listen_after_bind then drains the task queue
  impl_->thread.join();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, std::vector<Route> routes) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return Status::InvalidArgument("TLS needs both a certificate file and a key file; got only the " +
                                   std::string(options.tls_cert_file.empty() ? "key" : "certificate"));
  }
  if (!tls && !options.allow_plain_http && !IsLoopbackHost(options.host)) {
    return Status::InvalidArgument(
        "plain HTTP on '" + options.host +
        "' is refused: it is not a loopback address (127.0.0.0/8, ::1, localhost); give a TLS certificate and key "
        "(tls_cert_file, tls_key_file) or, behind a TLS-terminating proxy, set allow_plain_http");
  }
  if (options.max_connections == 0) return Status::InvalidArgument("max_connections must be at least 1");
  if (options.read_timeout_s <= 0 || options.write_timeout_s <= 0 || options.keep_alive_timeout_s <= 0) {
    return Status::InvalidArgument("read, write and keep-alive timeouts must be at least 1 second");
  }

  auto impl = std::make_unique<Impl>();
  VCP_ASSIGN_OR_RETURN(Router router, Router::Compile(std::move(routes)));
  impl->router = std::make_shared<const Router>(std::move(router));
  if (tls) {
    VCP_RETURN_IF_ERROR(CheckTlsFiles(options.tls_cert_file, options.tls_key_file));
    impl->server = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!impl->server->is_valid()) {
      return Status::InvalidArgument("OpenSSL refused the TLS certificate chain '" + options.tls_cert_file +
                                     "' or key '" + options.tls_key_file + "' (" + OpenSslError() + ")");
    }
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  impl->options = std::move(options);
  impl->tls = tls;

  Impl* self = impl.get();  // the handlers live in *impl->server, which *impl owns and outlives
  httplib::Server& server = *impl->server;
  const size_t max_busy = self->options.max_connections;
  server.new_task_queue = [max_busy] { return new BoundedTaskQueue(max_busy); };
  server.set_read_timeout(self->options.read_timeout_s);
  server.set_write_timeout(self->options.write_timeout_s);
  // One request per connection: a worker is then held for one request at most (so max_connections bounds
  // requests in flight), and a request httplib itself refused (bad line, header too long) ends its connection
  // instead of leaving the rest of its bytes to be parsed as the next request. Our clients close after one
  // request anyway. The keep-alive timeout then bounds the wait for a new connection's first bytes.
  server.set_keep_alive_max_count(1);
  server.set_keep_alive_timeout(self->options.keep_alive_timeout_s);
  // No Nagle delay: the verifier times the record's arrival, and small answers should leave at once.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(self->options.max_body_bytes);
  // httplib's default sets SO_REUSEPORT, which lets a second server bind the same port and silently take half of
  // the connections; SO_REUSEADDR alone still allows a restart while old connections sit in TIME_WAIT.
  server.set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_pre_routing_handler(
      [self](const httplib::Request& req, httplib::Response& res) { return self->PreRoute(req, res); });
  server.set_error_handler(httplib::Server::HandlerWithResponse(&Impl::FillLibraryError));
  server.set_logger([self](const httplib::Request& req, const httplib::Response& res) { self->Log(req, res); });
  // One catch-all per method httplib knows: the routes are matched in Dispatch, which also tells 404 from 405.
  const std::string any = ".*";
  const auto plain = [self](const httplib::Request& req, httplib::Response& res) {
    self->Dispatch(req, res, nullptr);
  };
  const auto with_body = [self](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) { self->Dispatch(req, res, &reader); };
  server.Get(any, plain);
  server.Options(any, plain);
  server.Post(any, with_body);
  server.Put(any, with_body);
  server.Patch(any, with_body);
  server.Delete(any, with_body);

  const std::string where = self->options.host + ":" + std::to_string(self->options.port);
  const int bound = self->options.port == 0 ? server.bind_to_any_port(self->options.host)
                                            : (server.bind_to_port(self->options.host, self->options.port)
                                                   ? self->options.port
                                                   : -1);
  if (bound <= 0) {
    return Status::IoError("cannot listen on " + where + ": " + std::strerror(errno) +
                           " (the port may be in use or the address not this machine's; port 0 picks a free one)");
  }
  impl->port = static_cast<uint16_t>(bound);
  impl->thread = std::thread([self] {
    self->server->listen_after_bind();
    self->listen_returned = true;
  });
  // Stop() only stops a running server: wait until the accept loop runs (or has already given up).
  while (!server.is_running() && !self->listen_returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    std::lock_guard<std::mutex> local(g_local_mu);
    g_local_servers[impl->port] = impl->router;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpResponse HttpServer::Handle(HttpRequest request) const { return impl_->router->Dispatch(std::move(request)); }

Result<HttpResponse> HttpServer::HandleLocal(uint16_t port, HttpRequest request) {
  std::shared_ptr<const Router> router;
  {
    std::lock_guard<std::mutex> local(g_local_mu);
    const auto found = g_local_servers.find(port);
    if (found != g_local_servers.end()) router = found->second;
  }
  if (!router) {
    return Status::Unavailable("no HTTP server of this process listens on port " + std::to_string(port) +
                               "; HandleLocal reaches only servers started here and not yet stopped");
  }
  return router->Dispatch(std::move(request));
}

// ---------------------------------------------------------------------------------------------------------------
// Client

namespace {

struct ParsedUrl {
  bool tls = false;
  std::string host;  // without brackets
  int port = 0;
};

Result<ParsedUrl> ParseBaseUrl(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("URL '" + std::string(url) + "' " + std::string(why) +
                                   "; expected https://HOST[:PORT] or http://HOST[:PORT] (IPv6 as [::1])");
  };
  ParsedUrl parsed;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    parsed.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return bad("has no http:// or https:// scheme");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("has a path");
  // No port (no ':' after the host, or nothing after an IPv6 host's ']'): the scheme's default.
  const bool bracketed = !rest.empty() && rest.front() == '[';
  const size_t host_end = bracketed ? rest.find(']') : rest.find(':');
  if (bracketed && host_end == std::string_view::npos) return bad("has an unclosed [");
  if (host_end == std::string_view::npos || (bracketed && host_end + 1 == rest.size())) {
    parsed.host = std::string(bracketed ? rest.substr(1, rest.size() - 2) : rest);
    if (parsed.host.empty()) return bad("has no host");
    parsed.port = parsed.tls ? 443 : 80;
    return parsed;
  }
  const Result<HostPort> host_port = ParseHostPort(rest);
  if (!host_port.ok()) return bad("has no valid HOST:PORT");
  if (host_port->port == 0) return bad("has port 0");
  parsed.host = host_port->host;
  parsed.port = host_port->port;
  return parsed;
}

}  // namespace

HttpClient::HttpClient(std::string base_url, HttpClientOptions options, bool tls)
    : base_url_(std::move(base_url)), options_(std::move(options)), tls_(tls) {}

const std::string& HttpClient::base_url() const { return base_url_; }

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url, HttpClientOptions options) {
  VCP_ASSIGN_OR_RETURN(const ParsedUrl parsed, ParseBaseUrl(base_url));
  if (!parsed.tls && !options.allow_plain_http && !IsLoopbackHost(parsed.host)) {
    return Status::InvalidArgument("plain HTTP to '" + parsed.host +
                                   "' is refused: it is not a loopback host; use https:// (or set "
                                   "allow_plain_http for a trusted network)");
  }
  if (!options.ca_file.empty()) {
    const Result<std::string> ca = ReadWholeFile(options.ca_file, "CA file");
    if (!ca.ok()) return ca.status();
  }
  if (options.connect_timeout_ms <= 0 || options.read_timeout_ms <= 0) {
    return Status::InvalidArgument("connect and read timeouts must be at least 1 ms");
  }
  std::string url(base_url);
  if (url.back() == '/') url.pop_back();
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(url), std::move(options), parsed.tls));
}

Result<HttpResponse> HttpClient::Post(std::string_view path, std::string_view content_type, std::string body,
                                      std::string_view accept, int read_timeout_ms) {
  return Send("POST", path, content_type, std::move(body), accept, read_timeout_ms);
}

Result<HttpResponse> HttpClient::Get(std::string_view path, std::string_view accept, int read_timeout_ms) {
  return Send("GET", path, "", "", accept, read_timeout_ms);
}

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view path, std::string_view content_type,
                                      std::string body, std::string_view accept, int read_timeout_ms) {
  const ParsedUrl url = ParseBaseUrl(base_url_).value();  // parsed once in Create, so it cannot fail here
  const int read_ms = read_timeout_ms < 0 ? options_.read_timeout_ms : read_timeout_ms;
  // A fresh connection per call keeps the client thread-safe without a lock, and a server worker is held only
  // for one request.
  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* ssl = nullptr;
  if (url.tls) {
    auto ssl_client = std::make_unique<httplib::SSLClient>(url.host, url.port);
    ssl = ssl_client.get();
    client = std::move(ssl_client);
    // httplib 0.11.4's own check of an IP host compares it with an uninitialised address (a certificate for
    // 127.0.0.2 passed for https://127.0.0.1 in our tests). So the CA store handed to it carries the host, and
    // OpenSSL checks the name or address while verifying the chain; a mismatch fails like any other
    // verification error. (libcrypto calls only: X509_STORE's parameters are inherited by the handshake.)
    X509_STORE* store = X509_STORE_new();
    in6_addr ip{};
    const bool is_ip = ::inet_pton(AF_INET, url.host.c_str(), &ip) == 1 ||
                       ::inet_pton(AF_INET6, url.host.c_str(), &ip) == 1;
    if (store == nullptr ||
        (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_get0_param(store), url.host.c_str())
               : X509_VERIFY_PARAM_set1_host(X509_STORE_get0_param(store), url.host.c_str(), url.host.size())) != 1) {
      X509_STORE_free(store);
      return Status::Internal("OpenSSL cannot take host '" + url.host + "' to verify: " + OpenSslError());
    }
    ssl->set_ca_cert_store(store);  // owned by the client's SSL_CTX from here
    // With a CA file, only that CA (httplib loads it into the store); without, the system's default CAs.
    if (!options_.ca_file.empty()) client->set_ca_cert_path(options_.ca_file.c_str());
    client->enable_server_certificate_verification(true);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
  }
  client->set_connection_timeout(options_.connect_timeout_ms / 1000, (options_.connect_timeout_ms % 1000) * 1000);
  client->set_read_timeout(read_ms / 1000, (read_ms % 1000) * 1000);
  client->set_write_timeout(read_ms / 1000, (read_ms % 1000) * 1000);
  client->set_keep_alive(false);
  client->set_tcp_nodelay(true);
  client->set_decompress(false);  // our servers never compress; a compressed answer must not grow in memory

  httplib::Headers headers;
  if (!accept.empty()) headers.emplace("Accept", std::string(accept));
  const std::string target(path);
  httplib::Result result =
      method == "POST" ? client->Post(target, headers, body, std::string(content_type)) : client->Get(target, headers);
  if (!result) {
    const httplib::Error error = result.error();
    std::string why;
    switch (error) {
      case httplib::Error::Connection: why = "connection refused or host unreachable"; break;
      case httplib::Error::ConnectionTimeout:
        why = "connect timed out after " + std::to_string(options_.connect_timeout_ms) + " ms";
        break;
      case httplib::Error::Read:
        why = "no answer (the connection closed, or no reply within " + std::to_string(read_ms) + " ms)";
        break;
      case httplib::Error::Write: why = "sending the request failed (the connection closed)"; break;
      case httplib::Error::SSLConnection: why = "TLS: handshake failed (does the server speak TLS on this port?)"; break;
      case httplib::Error::SSLLoadingCerts:
        why = "TLS: cannot load the CA certificates from " +
              (options_.ca_file.empty() ? std::string("the system's default store") : "'" + options_.ca_file + "'");
        break;
      case httplib::Error::SSLServerVerification: {
        const long verify = ssl != nullptr ? ssl->get_openssl_verify_result() : X509_V_OK;
        why = "TLS: the server's certificate was not accepted: " +
              (verify != X509_V_OK ? std::string(X509_verify_cert_error_string(verify))
                                   : "it does not name host '" + url.host + "'") +
              " (checked against " +
              (options_.ca_file.empty() ? std::string("the system's default CAs")
                                        : "the CA file '" + options_.ca_file + "'") +
              ")";
        break;
      }
      default: why = "no answer"; break;
    }
    return Status::Unavailable("cannot reach " + base_url_ + target + ": " + why + " [httplib: " +
                               httplib::to_string(error) + "]");
  }
  HttpResponse response;
  response.status = result->status;
  response.content_type = result->get_header_value("Content-Type");
  response.body = std::move(result->body);
  for (const auto& [name, value] : result->headers) response.headers.emplace_back(name, value);
  return response;
}

}  // namespace vcp::service
