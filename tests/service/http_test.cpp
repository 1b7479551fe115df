// HttpServer / HttpClient: plain and TLS round trips, the refusals at start, and the limits (body, header,
// connections), all on 127.0.0.1 with port 0.
#include "service/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "test_util.h"
#include "tls_fixture.h"

namespace vcp::service {
namespace {

using ::vcp::testing::MakeTempDir;
using ::vcp::testing::MakeTestTls;
using ::vcp::testing::TestTls;

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

// Checks the error body convention of docs/API.md section 1 and returns the parsed body.
nlohmann::json ExpectJsonError(const HttpResponse& response, int status) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.content_type, kJsonMediaType) << response.body;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(body.is_object()) << response.body;
  if (!body.is_object()) return body;
  EXPECT_EQ(body.value("status", 0), status) << response.body;
  EXPECT_FALSE(body.value("error", "").empty()) << response.body;
  EXPECT_FALSE(body.value("kind", "").empty()) << response.body;
  return body;
}

// Sends raw bytes to 127.0.0.1:port and returns everything the server sends back until it closes (or 10 s).
std::string RawExchange(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "socket failed";
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

// Routes used by most tests: echo of the body and its normalised request fields; a capture; a 415 check.
std::vector<Route> EchoRoutes() {
  return {
      {"POST", "/v1/echo",
       [](const HttpRequest& r) {
         return JsonResponse(200, {{"body", r.body}, {"content_type", r.content_type}, {"wants_json", r.wants_json},
                                   {"method", r.method}, {"remote_addr", r.remote_addr}});
       }},
      {"GET", "/v1/items/([0-9a-f]+)/parts/([0-9]+)",
       [](const HttpRequest& r) { return JsonResponse(200, {{"captures", r.captures}}); }},
      {"POST", "/v1/messages",
       [](const HttpRequest& r) {
         if (auto refusal = CheckContentType(r, kMessageMediaType)) return *refusal;
         const std::vector<uint8_t> bytes(r.body.begin(), r.body.end());
         return MessageResponse(r, bytes, R"({"json":true})");
       }},
      {"GET", "/v1/throws", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); }},
  };
}

Result<std::unique_ptr<HttpServer>> StartPlain(HttpServerOptions options = {}) {
  return HttpServer::Start(std::move(options), EchoRoutes());
}

Result<std::unique_ptr<HttpClient>> ClientFor(const HttpServer& server, HttpClientOptions options = {}) {
  return HttpClient::Create((server.tls() ? "https://127.0.0.1:" : "http://127.0.0.1:") +
                                std::to_string(server.port()),
                            std::move(options));
}

TEST(HttpConventions, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(Status::Corrupt("x")), 400);
  EXPECT_EQ(HttpStatusFor(Status::InvalidArgument("x")), 422);
  EXPECT_EQ(HttpStatusFor(Status::Rejected("x")), 403);
  EXPECT_EQ(HttpStatusFor(Status::Unavailable("x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::ResourceExhausted("x")), 429);
  EXPECT_EQ(HttpStatusFor(Status::IoError("x")), 500);
  EXPECT_EQ(HttpStatusFor(Status::Internal("x")), 500);
}

TEST(HttpConventions, ErrorResponseBodyAndRetryAfter) {
  const HttpResponse response = ErrorResponse(429, Status::ResourceExhausted("too many epoch starts"), 7);
  const nlohmann::json body = ExpectJsonError(response, 429);
  EXPECT_EQ(body["error"], "too many epoch starts");
  EXPECT_EQ(body["kind"], StatusCodeName(StatusCode::kResourceExhausted));
  EXPECT_EQ(body["retry_after_s"], 7);
  EXPECT_EQ(HeaderOf(response, "Retry-After"), "7");
  EXPECT_FALSE(ErrorResponse(400, Status::Corrupt("x")).body.find("retry_after_s") != std::string::npos);
  // A message quoting bytes that are not UTF-8 still gives a JSON body (no exception).
  ExpectJsonError(ErrorResponse(400, Status::Corrupt("bad \xff\xfe bytes")), 400);
}

TEST(HttpConventions, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com", "localhost.example.com", "",
                           "127.0.0.1.example.com"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(HttpConventions, ParseHostPort) {
  ASSERT_OK_AND_ASSIGN(HostPort v4, ParseHostPort("127.0.0.1:8443"));
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 8443);
  ASSERT_OK_AND_ASSIGN(HostPort v6, ParseHostPort("[::1]:0"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  ASSERT_OK_AND_ASSIGN(HostPort name, ParseHostPort("agent.example.com:65535"));
  EXPECT_EQ(name.host, "agent.example.com");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:8x", "::1:80",
                          "[::1]", "[::1]80", "[::1:80", "[]:80", "host:-1"}) {
    Result<HostPort> parsed = ParseHostPort(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpServer, PlainRoundTripNormalisesRequests) {
  std::mutex mu;
  std::vector<std::pair<std::string, int>> logged;
  HttpServerOptions options;
  options.on_request = [&](const HttpRequest& r, const HttpResponse& response, double seconds) {
    EXPECT_GE(seconds, 0.0);
    std::lock_guard<std::mutex> lock(mu);
    logged.emplace_back(r.method + " " + r.path, response.status);
  };
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain(std::move(options)));
  EXPECT_FALSE(server->tls());
  EXPECT_NE(server->port(), 0);
  ASSERT_OK_AND_ASSIGN(auto client, ClientFor(*server));

  ASSERT_OK_AND_ASSIGN(HttpResponse echo, client->Post("/v1/echo", "Application/VND.vcp.v2; charset=binary",
                                                       std::string("a\0b", 3), "application/json"));
  ASSERT_EQ(echo.status, 200) << echo.body;
  const nlohmann::json body = nlohmann::json::parse(echo.body);
  EXPECT_EQ(body["body"], std::string("a\0b", 3));
  EXPECT_EQ(body["content_type"], kMessageMediaType);
  EXPECT_EQ(body["wants_json"], true);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["remote_addr"], "127.0.0.1");
  EXPECT_EQ(HeaderOf(echo, "Connection"), "close");  // one request per connection

  ASSERT_OK_AND_ASSIGN(HttpResponse parts, client->Get("/v1/items/00ff/parts/12", ""));
  ASSERT_EQ(parts.status, 200) << parts.body;
  EXPECT_EQ(nlohmann::json::parse(parts.body)["captures"], (std::vector<std::string>{"00ff", "12"}));

  // Accept names both: the message bytes win (JSON only when asked for alone).
  ASSERT_OK_AND_ASSIGN(HttpResponse both, client->Post("/v1/messages", kMessageMediaType, "\x01\x02",
                                                       "application/vnd.vcp.v2, application/json"));
  EXPECT_EQ(both.status, 200);
  EXPECT_EQ(both.content_type, kMessageMediaType);
  EXPECT_EQ(both.body, "\x01\x02");
  ASSERT_OK_AND_ASSIGN(HttpResponse json, client->Post("/v1/messages", kMessageMediaType, "\x01", "application/json"));
  EXPECT_EQ(json.content_type, kJsonMediaType);
  EXPECT_EQ(json.body, R"({"json":true})");

  server->Stop();
  server->Stop();  // idempotent
  // Stop waited for every worker, so every request is logged (in any order: the log runs after the answer).
  std::lock_guard<std::mutex> lock(mu);
  std::sort(logged.begin(), logged.end());
  EXPECT_EQ(logged, (std::vector<std::pair<std::string, int>>{{"GET /v1/items/00ff/parts/12", 200},
                                                               {"POST /v1/echo", 200},
                                                               {"POST /v1/messages", 200},
                                                               {"POST /v1/messages", 200}}));
}

TEST(HttpServer, JsonErrorsFor404And405And415And500) {
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain());
  ASSERT_OK_AND_ASSIGN(auto client, ClientFor(*server));

  ASSERT_OK_AND_ASSIGN(HttpResponse missing, client->Get("/v1/nothing", ""));
  ExpectJsonError(missing, 404);
  ASSERT_OK_AND_ASSIGN(HttpResponse bad_capture, client->Get("/v1/items/XYZ/parts/1", ""));
  ExpectJsonError(bad_capture, 404);

  ASSERT_OK_AND_ASSIGN(HttpResponse wrong_method, client->Get("/v1/echo", ""));
  ExpectJsonError(wrong_method, 405);
  EXPECT_EQ(HeaderOf(wrong_method, "Allow"), "POST");

  ASSERT_OK_AND_ASSIGN(HttpResponse wrong_type, client->Post("/v1/messages", "text/plain", "x", ""));
  const nlohmann::json body = ExpectJsonError(wrong_type, 415);
  EXPECT_NE(body.value("error", "").find(kMessageMediaType), std::string::npos) << body.dump();

  ASSERT_OK_AND_ASSIGN(HttpResponse thrown, client->Get("/v1/throws", ""));
  EXPECT_NE(ExpectJsonError(thrown, 500).value("error", "").find("boom"), std::string::npos);
  // The server still serves after a handler threw.
  ASSERT_OK_AND_ASSIGN(HttpResponse after, client->Post("/v1/echo", "text/plain", "ok", ""));
  EXPECT_EQ(after.status, 200);
}

TEST(HttpServer, BodyLargerThanTheLimitIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain(std::move(options)));
  ASSERT_OK_AND_ASSIGN(auto client, ClientFor(*server));

  ASSERT_OK_AND_ASSIGN(HttpResponse at_limit, client->Post("/v1/echo", "text/plain", std::string(1024, 'a'), ""));
  EXPECT_EQ(at_limit.status, 200);
  ASSERT_OK_AND_ASSIGN(HttpResponse over, client->Post("/v1/echo", "text/plain", std::string(1025, 'a'), ""));
  ExpectJsonError(over, 413);
  ASSERT_OK_AND_ASSIGN(HttpResponse far_over,
                       client->Post("/v1/echo", "text/plain", std::string(3 << 20, 'a'), ""));
  ExpectJsonError(far_over, 413);

  // A chunked body has no Content-Length: the receiver stops at the limit.
  std::string chunked = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  const std::string reply = RawExchange(server->port(), chunked);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply.substr(0, 200);

  // Compressed bodies are refused before anything is decompressed.
  const std::string gzip = RawExchange(server->port(),
                                       "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                                       "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_EQ(gzip.rfind("HTTP/1.1 415", 0), 0u) << gzip.substr(0, 200);
}

TEST(HttpServer, HeaderLongerThanTheLibraryLimitIs4xx) {
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain());
  const std::string big = "GET /v1/items/00/parts/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'h') +
                          "\r\nConnection: close\r\n\r\n";
  const std::string reply = RawExchange(server->port(), big);
  ASSERT_EQ(reply.rfind("HTTP/1.1 4", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("\"status\":400"), std::string::npos) << reply;  // the JSON error body
  EXPECT_NE(reply.find("8192"), std::string::npos) << reply;           // names the limit

  const std::string long_uri = RawExchange(
      server->port(), "GET /" + std::string(9000, 'u') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(long_uri.rfind("HTTP/1.1 414", 0), 0u) << long_uri.substr(0, 200);

  const std::string garbage = RawExchange(server->port(), "NONSENSE\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage.substr(0, 200);

  // Still serving.
  const std::string ok = RawExchange(server->port(), "GET /v1/items/00/parts/1 HTTP/1.1\r\nHost: x\r\n"
                                                     "Connection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok.substr(0, 200);
}

TEST(HttpServer, ConnectionsBeyondTheLimitAre503) {
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool release = false;
  std::vector<Route> routes = {{"GET", "/slow", [&](const HttpRequest&) {
                                  std::unique_lock<std::mutex> lock(mu);
                                  ++entered;
                                  cv.notify_all();
                                  cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
                                  return JsonResponse(200, {{"ok", true}});
                                }}};
  HttpServerOptions options;
  options.max_connections = 2;
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start(std::move(options), std::move(routes)));
  ASSERT_OK_AND_ASSIGN(auto client, ClientFor(*server));

  std::vector<std::future<Result<HttpResponse>>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::async(std::launch::async, [&] { return client->Get("/slow", ""); }));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered == 2; }));
  }
  ASSERT_OK_AND_ASSIGN(HttpResponse shed, client->Get("/slow", ""));
  const nlohmann::json body = ExpectJsonError(shed, 503);
  EXPECT_EQ(HeaderOf(shed, "Retry-After"), "1");
  EXPECT_NE(body.value("error", "").find("2 connections"), std::string::npos) << body.dump();
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(entered, 2);  // the shed request never reached the handler
    release = true;
  }
  cv.notify_all();
  for (auto& f : slow) {
    Result<HttpResponse> r = f.get();
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
  }
  // With the workers free again, requests are served (a worker counts as busy until it has closed its
  // connection, just after the client got the answer: allow it a moment).
  int later_status = 0;
  for (int attempt = 0; attempt < 100 && later_status != 200; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_OK_AND_ASSIGN(HttpResponse later, client->Get("/slow", ""));
    later_status = later.status;
  }
  EXPECT_EQ(later_status, 200);
}

TEST(HttpServer, PlainHttpOffLoopbackIsRefusedWithTheWayOut) {
  HttpServerOptions options;
  options.host = "0.0.0.0";
  Result<std::unique_ptr<HttpServer>> server = StartPlain(std::move(options));
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("allow_plain_http"), std::string::npos) << server.status().ToString();
  EXPECT_NE(server.status().message().find("tls_cert_file"), std::string::npos) << server.status().ToString();

  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create("http://192.0.2.1:8443", {});
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("allow_plain_http"), std::string::npos) << client.status().ToString();
  HttpClientOptions allowed;
  allowed.allow_plain_http = true;
  EXPECT_TRUE(HttpClient::Create("http://192.0.2.1:8443", allowed).ok());
}

TEST(HttpServer, PortInUseIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto first, StartPlain());
  HttpServerOptions same;
  same.port = first->port();
  Result<std::unique_ptr<HttpServer>> second = StartPlain(std::move(same));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find(std::to_string(first->port())), std::string::npos)
      << second.status().ToString();
}

TEST(HttpServer, BadOptionsAndRoutesAreRefused) {
  HttpServerOptions zero;
  zero.max_connections = 0;
  EXPECT_EQ(StartPlain(std::move(zero)).status().code(), StatusCode::kInvalidArgument);
  Result<std::unique_ptr<HttpServer>> bad_regex =
      HttpServer::Start({}, {{"GET", "/v1/(unclosed", [](const HttpRequest&) { return HttpResponse{}; }}});
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_NE(bad_regex.status().message().find("/v1/(unclosed"), std::string::npos);
  for (const char* url : {"ftp://127.0.0.1", "https://", "https://127.0.0.1:0", "https://127.0.0.1:99999",
                          "https://127.0.0.1/v1", "https://[::1", "https://::1:80", "https://[]", "https://:80"}) {
    EXPECT_EQ(HttpClient::Create(url, {}).status().code(), StatusCode::kInvalidArgument) << url;
  }
  for (const char* url : {"https://127.0.0.1", "https://[::1]", "https://[::1]:8443/", "http://localhost:80"}) {
    ASSERT_OK_AND_ASSIGN(auto client, HttpClient::Create(url, {}));
    EXPECT_EQ(client->base_url().back() == '/', false) << url;
  }
}

TEST(HttpClient, NoAnswerIsUnavailableWithTheReason) {
  uint16_t port = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto server, StartPlain());
    port = server->port();
  }  // stopped: nothing listens on that port now
  ASSERT_OK_AND_ASSIGN(auto client, HttpClient::Create("http://127.0.0.1:" + std::to_string(port), {}));
  Result<HttpResponse> refused = client->Get("/v1/echo", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("cannot reach http://127.0.0.1:" + std::to_string(port) + "/v1/echo"),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("httplib: Connection"), std::string::npos) << refused.status().ToString();

  // An answer slower than the read timeout.
  std::vector<Route> routes = {{"GET", "/late", [](const HttpRequest&) {
                                  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
                                  return JsonResponse(200, {});
                                }}};
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({}, std::move(routes)));
  ASSERT_OK_AND_ASSIGN(auto late_client, ClientFor(*server));
  Result<HttpResponse> late = late_client->Get("/late", "", /*read_timeout_ms=*/200);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("200 ms"), std::string::npos) << late.status().ToString();
}

class HttpTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("vcp-http-tls-");
    ASSERT_FALSE(dir_.empty());
    std::filesystem::create_directories(dir_ / "a");
    std::filesystem::create_directories(dir_ / "b");
    ASSERT_OK_AND_ASSIGN(a_, MakeTestTls(dir_ / "a"));
    ASSERT_OK_AND_ASSIGN(b_, MakeTestTls(dir_ / "b"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  HttpServerOptions TlsOptions(const TestTls& tls) {
    HttpServerOptions options;
    options.tls_cert_file = tls.server_cert.string();
    options.tls_key_file = tls.server_key.string();
    return options;
  }
  std::filesystem::path dir_;
  TestTls a_, b_;
};

TEST_F(HttpTls, RoundTripWithVerification) {
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain(TlsOptions(a_)));
  EXPECT_TRUE(server->tls());
  HttpClientOptions options;
  options.ca_file = a_.ca_cert.string();
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    ASSERT_OK_AND_ASSIGN(auto client,
                         HttpClient::Create("https://" + host + ":" + std::to_string(server->port()), options));
    ASSERT_OK_AND_ASSIGN(HttpResponse echo, client->Post("/v1/echo", "text/plain", "over tls", ""));
    ASSERT_EQ(echo.status, 200) << host;
    EXPECT_EQ(nlohmann::json::parse(echo.body)["body"], "over tls");
  }
}

TEST_F(HttpTls, ClientWithAnotherCaIsRefusedNamingTheCaFile) {
  ASSERT_OK_AND_ASSIGN(auto server, StartPlain(TlsOptions(a_)));
  HttpClientOptions options;
  options.ca_file = b_.ca_cert.string();
  ASSERT_OK_AND_ASSIGN(auto client, ClientFor(*server, options));
  Result<HttpResponse> response = client->Get("/v1/items/00/parts/1", "");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("TLS"), std::string::npos) << response.status().ToString();
  EXPECT_NE(response.status().message().find(b_.ca_cert.string()), std::string::npos) << response.status().ToString();

  // Without a CA file the system's CAs are used, and none of them signed the test CA.
  ASSERT_OK_AND_ASSIGN(auto system_ca, ClientFor(*server));
  Result<HttpResponse> unknown = system_ca->Get("/v1/items/00/parts/1", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("the system's default CAs"), std::string::npos)
      << unknown.status().ToString();

  // Plain HTTP to the TLS port gets no HTTP answer either.
  ASSERT_OK_AND_ASSIGN(auto plain, HttpClient::Create("http://127.0.0.1:" + std::to_string(server->port()), {}));
  EXPECT_EQ(plain->Get("/v1/items/00/parts/1", "", 2000).status().code(), StatusCode::kUnavailable);
}

TEST_F(HttpTls, CertificateForAnotherHostIsRefused) {
  for (const std::string names : {"IP:127.0.0.2,DNS:example.com", "IP:127.0.0.2,IP:::2"}) {
    const std::filesystem::path other = dir_ / ("other-" + std::to_string(names.size()));
    std::filesystem::create_directories(other);
    ASSERT_OK_AND_ASSIGN(TestTls tls, MakeTestTls(other, names));
    ASSERT_OK_AND_ASSIGN(auto server, StartPlain(TlsOptions(tls)));
    HttpClientOptions options;
    options.ca_file = tls.ca_cert.string();
    for (const std::string host : {"127.0.0.1", "localhost"}) {
      ASSERT_OK_AND_ASSIGN(auto client,
                           HttpClient::Create("https://" + host + ":" + std::to_string(server->port()), options));
      Result<HttpResponse> response = client->Get("/v1/items/00/parts/1", "");
      ASSERT_FALSE(response.ok()) << names << " " << host;
      EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
      EXPECT_NE(response.status().message().find("TLS: the server's certificate was not accepted"),
                std::string::npos)
          << response.status().ToString();
    }
  }
}

TEST_F(HttpTls, StartFailsClearlyOnBadCertificateOrKey) {
  HttpServerOptions missing = TlsOptions(a_);
  missing.tls_cert_file = (dir_ / "absent.pem").string();
  Result<std::unique_ptr<HttpServer>> no_cert = StartPlain(missing);
  ASSERT_FALSE(no_cert.ok());
  EXPECT_EQ(no_cert.status().code(), StatusCode::kIoError);
  EXPECT_NE(no_cert.status().message().find("absent.pem"), std::string::npos) << no_cert.status().ToString();

  const std::filesystem::path junk = dir_ / "junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  HttpServerOptions garbage = TlsOptions(a_);
  garbage.tls_cert_file = junk.string();
  Result<std::unique_ptr<HttpServer>> bad_cert = StartPlain(garbage);
  ASSERT_FALSE(bad_cert.ok());
  EXPECT_EQ(bad_cert.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_cert.status().message().find("junk.pem"), std::string::npos) << bad_cert.status().ToString();

  HttpServerOptions key_as_cert = TlsOptions(a_);
  key_as_cert.tls_key_file = a_.server_cert.string();
  Result<std::unique_ptr<HttpServer>> bad_key = StartPlain(key_as_cert);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_key.status().message().find("private key"), std::string::npos) << bad_key.status().ToString();

  HttpServerOptions mismatched = TlsOptions(a_);
  mismatched.tls_key_file = b_.server_key.string();
  Result<std::unique_ptr<HttpServer>> mismatch = StartPlain(mismatched);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos) << mismatch.status().ToString();
  EXPECT_NE(mismatch.status().message().find(b_.server_key.string()), std::string::npos);

  HttpServerOptions half = TlsOptions(a_);
  half.tls_key_file.clear();
  EXPECT_EQ(StartPlain(half).status().code(), StatusCode::kInvalidArgument);

  HttpClientOptions no_ca;
  no_ca.ca_file = (dir_ / "absent-ca.pem").string();
  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create("https://127.0.0.1:1", no_ca);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("absent-ca.pem"), std::string::npos) << client.status().ToString();
}

}  // namespace
}  // namespace vcp::service
