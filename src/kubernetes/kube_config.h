// Where the Kubernetes API is and how to authenticate to it (executors §7.4 host, cert_file,
// key_file, ca_file, bearer_token, else in-cluster config, else kubeconfig), as plain values.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "util/result.h"

namespace glr::kube {

struct KubeConfig {
  std::string server{};  // "https://host:port", no trailing slash
  std::string ca_pem{};  // trusted CA certificates; empty: the system trust store
  bool insecure_skip_tls_verify = false;
  std::string token{};                 // static bearer token (never logged)
  std::filesystem::path token_file{};  // re-read whenever it changes; wins over `token`
  std::string client_cert_pem{};
  std::string client_key_pem{};
  std::string namespace_name{};  // the context's or service account's namespace; may be empty
  std::string source{};          // "in-cluster" or the kubeconfig path, for messages
  friend bool operator==(const KubeConfig&, const KubeConfig&) = default;
};

// The kubeconfig file (YAML): `context` or else current-context, its cluster (server,
// certificate-authority[-data], insecure-skip-tls-verify) and user (token, tokenFile,
// client-certificate[-data], client-key[-data]). Relative paths are relative to the file.
// Errors are kInvalidInput naming the file and field (kNotFound if the file is missing).
Result<KubeConfig> load_kubeconfig(const std::filesystem::path& path,
                                   std::string_view context = "");

// $KUBECONFIG (first entry) or else $HOME/.kube/config; empty if neither is set.
std::filesystem::path default_kubeconfig_path();

// In-cluster config: https://<host>:<port> from KUBERNETES_SERVICE_HOST/PORT and `dir`'s
// token (kept as token_file, so a rotated token is picked up), ca.crt and namespace.
// kNotFound when the host is unset or the token file is missing.
Result<KubeConfig> load_in_cluster(
    std::string_view host, std::string_view port,
    const std::filesystem::path& dir = "/var/run/secrets/kubernetes.io/serviceaccount");
// The same with host and port from this process's environment.
Result<KubeConfig> load_in_cluster_from_env();

// [runners.kubernetes] host with ca_file, cert_file, key_file and bearer_token (empty: unused).
Result<KubeConfig> load_explicit(std::string host, const std::filesystem::path& ca_file,
                                 const std::filesystem::path& cert_file,
                                 const std::filesystem::path& key_file, std::string bearer_token);

// The bearer token for the next request: KubeConfig::token_file re-read when its modification
// time or size changed, else KubeConfig::token. Thread-safe.
class TokenSource {
 public:
  explicit TokenSource(const KubeConfig& config);
  // Empty when there is no token (or the file became unreadable and none was read before).
  std::string token();

 private:
  std::mutex mu_;
  std::filesystem::path file_;
  std::string token_;  // Guarded by mu_.
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
  bool loaded_ = false;
};

}  // namespace glr::kube
