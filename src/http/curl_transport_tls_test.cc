// CurlTransport over TLS against an in-test OpenSSL server on 127.0.0.1 with a
// throw-away self-signed certificate: tls-ca-file is honoured (api spec §0.5)
// and a server the trust store does not know is refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "http/curl_transport.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// A self-signed certificate for IP 127.0.0.1, usable as its own trust anchor.
struct TestCert {
  std::unique_ptr<EVP_PKEY, KeyDeleter> key;
  std::unique_ptr<X509, CertDeleter> cert;

  TestCert() : key(EVP_EC_gen("P-256")), cert(X509_new()) {
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    add_ext(NID_subject_alt_name, "IP:127.0.0.1");
    add_ext(NID_basic_constraints, "critical,CA:TRUE");
    X509_sign(cert.get(), key.get(), EVP_sha256());
  }
  void add_ext(int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  void write_pem(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, cert.get());
    std::fclose(f);
  }
};

// Accepts one TLS connection and answers one request with `answer`.
class TlsServer {
 public:
  TlsServer(const TestCert& cert, std::string answer) : answer_(std::move(answer)) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx_.get(), cert.cert.get());
    SSL_CTX_use_PrivateKey(ctx_.get(), cert.key.get());
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/api/v4/x"; }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    SSL* ssl = SSL_new(ctx_.get());
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      SSL_write(ssl, answer_.data(), static_cast<int>(answer_.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(c);
  }

  std::string answer_;
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

constexpr const char* kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

TEST(CurlTransportTls, CaFileMakesTheServerTrusted) {
  TempDir dir;
  TestCert cert;
  std::string ca = (dir.path() / "ca.crt").string();
  cert.write_pem(ca);
  TlsServer server(cert, kOk);
  CurlTransport t;
  HttpRequest req;
  req.url = server.url();
  req.ca_file = ca;
  Result<HttpResponse> r = t.send(req, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
}

TEST(CurlTransportTls, UnknownServerCertificateIsRefused) {
  TempDir dir;
  TestCert cert;
  TlsServer server(cert, kOk);
  CurlTransport t;
  HttpRequest req;
  req.url = server.url();
  req.ca_file = (dir.path() / "missing.crt").string();  // ignored like upstream
  Result<HttpResponse> r = t.send(req, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace glr
