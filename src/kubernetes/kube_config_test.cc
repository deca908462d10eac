// Kubeconfig, in-cluster and explicit configuration loading; token rotation.
#include "kubernetes/kube_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/temp_dir.h"

namespace glr::kube {
namespace {

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(KubeConfig, LoadsCurrentContextWithInlineData) {
  TempDir dir;
  // "Q0EK" = base64("CA\n"), "Q0VSVAo=" = "CERT\n", "S0VZCg==" = "KEY\n".
  write(dir.path() / "config", R"(apiVersion: v1
kind: Config
current-context: b
contexts:
- name: a
  context: {cluster: one, user: u1}
- name: b
  context: {cluster: two, user: u2, namespace: ci}
clusters:
- name: one
  cluster: {server: "https://one:6443"}
- name: two
  cluster:
    server: https://two.example:6443/
    certificate-authority-data: Q0EK
users:
- name: u1
  user: {token: t1}
- name: u2
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
    token: t2
)");
  Result<KubeConfig> c = load_kubeconfig(dir.path() / "config");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://two.example:6443");
  EXPECT_EQ(c->ca_pem, "CA\n");
  EXPECT_EQ(c->client_cert_pem, "CERT\n");
  EXPECT_EQ(c->client_key_pem, "KEY\n");
  EXPECT_EQ(c->token, "t2");
  EXPECT_EQ(c->namespace_name, "ci");

  Result<KubeConfig> a = load_kubeconfig(dir.path() / "config", "a");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->server, "https://one:6443");
  EXPECT_EQ(a->token, "t1");
  EXPECT_EQ(a->ca_pem, "");
}

TEST(KubeConfig, ReadsFilesRelativeToTheKubeconfig) {
  TempDir dir;
  write(dir.path() / "ca.pem", "MYCA");
  write(dir.path() / "tok", "sekret\n");
  write(dir.path() / "config", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1", certificate-authority: ca.pem, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {tokenFile: tok}}]
)");
  Result<KubeConfig> c = load_kubeconfig(dir.path() / "config");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca_pem, "MYCA");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->token_file, dir.path() / "tok");
  TokenSource tokens(*c);
  EXPECT_EQ(tokens.token(), "sekret");
}

TEST(KubeConfig, ErrorsNameTheFileAndField) {
  TempDir dir;
  std::filesystem::path p = dir.path() / "config";
  write(p, "current-context: nope\ncontexts: []\n");
  Result<KubeConfig> c = load_kubeconfig(p);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(c.error().message.find(p.string()), std::string::npos);
  EXPECT_NE(c.error().message.find("context \"nope\" not found"), std::string::npos);

  write(p, R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {certificate-authority-data: Q0EK}}]
)");
  c = load_kubeconfig(p);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("clusters[k].cluster.server is missing"), std::string::npos)
      << c.error().message;

  write(p, R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate: missing.crt, client-key: missing.key}}]
)");
  c = load_kubeconfig(p);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("users[u].user.client-certificate: cannot read"),
            std::string::npos)
      << c.error().message;

  write(p, "current-context: [unclosed\n");
  c = load_kubeconfig(p);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find(p.string()), std::string::npos);

  c = load_kubeconfig(dir.path() / "absent");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::kNotFound);
}

TEST(KubeConfig, InClusterReadsServiceAccountAndFollowsTokenRotation) {
  TempDir dir;
  write(dir.path() / "token", "first");
  write(dir.path() / "ca.crt", "CLUSTERCA");
  write(dir.path() / "namespace", "runners\n");
  Result<KubeConfig> c = load_in_cluster("10.0.0.1", "443", dir.path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->ca_pem, "CLUSTERCA");
  EXPECT_EQ(c->namespace_name, "runners");
  TokenSource tokens(*c);
  EXPECT_EQ(tokens.token(), "first");
  // The kubelet replaces the projected token; the size differs, so no mtime granularity issue.
  write(dir.path() / "token", "second-token");
  EXPECT_EQ(tokens.token(), "second-token");

  EXPECT_EQ(load_in_cluster("", "443", dir.path()).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(load_in_cluster("h", "443", dir.path() / "none").error().kind, ErrorKind::kNotFound);
  Result<KubeConfig> v6 = load_in_cluster("fd00::1", "6443", dir.path());
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->server, "https://[fd00::1]:6443");
}

TEST(KubeConfig, ExplicitRunnerSettings) {
  TempDir dir;
  write(dir.path() / "ca", "CA");
  Result<KubeConfig> c = load_explicit("k8s.example:6443", dir.path() / "ca", "", "", "tok");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://k8s.example:6443");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->token, "tok");
  EXPECT_FALSE(load_explicit("h", "", dir.path() / "ca", "", ""));
  EXPECT_FALSE(load_explicit("h", dir.path() / "nope", "", "", ""));
}

}  // namespace
}  // namespace glr::kube
