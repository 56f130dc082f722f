// SocketTransport over TLS against an in-process TLS server whose certificate
// is made here: the CA file is honoured, verification failures are errors,
// host names and IP addresses are checked against the certificate.
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "http/socket_transport.h"

namespace manage::http {
namespace {

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

// A self-signed P-256 certificate for `san` (e.g. "DNS:localhost,IP:127.0.0.1").
std::pair<PKeyPtr, X509Ptr> MakeCert(const char* san) {
  PKeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509Ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("manage test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  return {std::move(key), std::move(cert)};
}

// Serves `connections` TLS connections on 127.0.0.1, answering "ok" to each
// request; a client that rejects the certificate just ends its connection.
class TlsServer {
 public:
  TlsServer(EVP_PKEY* key, X509* cert, int connections) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, cert);
    SSL_CTX_use_PrivateKey(ctx_, key);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, connections] {
      for (int i = 0; i < connections; ++i) ServeOne();
    });
  }
  ~TlsServer() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }

 private:
  void ServeOne() {
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, conn);
    if (SSL_accept(ssl) == 1) {
      std::string request;
      char buf[1024];
      while (request.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(conn);
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string WriteCertFile(X509* cert) {
  char path[] = "/tmp/manage-tls-test-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  FILE* f = ::fdopen(fd, "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  return path;
}

TEST_CASE("SocketTransport verifies the server against the CA file and the URL's host") {
  auto [key, cert] = MakeCert("DNS:localhost,IP:127.0.0.1");
  auto [other_key, other_cert] = MakeCert("DNS:elsewhere.example");
  const std::string ca = WriteCertFile(cert.get());
  const std::string other_ca = WriteCertFile(other_cert.get());
  struct Row {
    const char* what;
    const char* host;
    bool other_server_cert;  // the server presents the elsewhere.example certificate
    TlsOptions tls;
    bool ok;
  };
  const Row rows[] = {
      {"trusted CA, IP address in the certificate", "127.0.0.1", false, {ca, "", "", true}, true},
      {"trusted CA, host name in the certificate", "localhost", false, {ca, "", "", true}, true},
      {"system CAs do not know the server", "127.0.0.1", false, {"", "", "", true}, false},
      {"verification off", "127.0.0.1", false, {"", "", "", false}, true},
      {"trusted CA but the certificate names another host",
       "127.0.0.1",
       true,
       {other_ca, "", "", true},
       false},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    EVP_PKEY* server_key = row.other_server_cert ? other_key.get() : key.get();
    X509* server_cert = row.other_server_cert ? other_cert.get() : cert.get();
    TlsServer server(server_key, server_cert, 1);
    REQUIRE(server.port() > 0);
    SocketTransport transport(row.tls);
    Request req;
    req.url = std::string("https://") + row.host + ":" + std::to_string(server.port()) + "/";
    auto resp = transport.Send(req);
    CHECK(resp.ok() == row.ok);
    if (resp.ok()) {
      CHECK(resp->body == "ok");
    } else {
      CHECK(resp.status().code() == Code::kUnavailable);
    }
  }
  std::remove(ca.c_str());
  std::remove(other_ca.c_str());
}

}  // namespace
}  // namespace manage::http
