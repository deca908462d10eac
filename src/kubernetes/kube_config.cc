// Kubeconfig (YAML through yaml-cpp), in-cluster and explicit configuration loading.
#include "kubernetes/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "util/strings.h"

namespace glr::kube {
namespace {

Result<std::string> read_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::kInvalidInput, what + ": cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string base64_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else
      continue;  // padding and whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

// The entry named `name` in a kubeconfig list (clusters, contexts, users), or an undefined node.
YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const YAML::Node& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string scalar(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap() || !node[key] || !node[key].IsScalar()) return "";
  return node[key].as<std::string>();
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Reads `<field>-data` (base64) or the file named by `<field>` (relative to `base`).
Result<std::string> data_or_file(const YAML::Node& node, const std::string& field,
                                 const std::filesystem::path& base, const std::string& where) {
  std::string data = scalar(node, (field + "-data").c_str());
  if (!data.empty()) return base64_decode(data);
  std::string file = scalar(node, field.c_str());
  if (file.empty()) return std::string();
  std::filesystem::path p(file);
  if (p.is_relative()) p = base / p;
  return read_file(p, where + "." + field);
}

}  // namespace

std::filesystem::path default_kubeconfig_path() {
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = split(env, ':').front();
    if (!first.empty()) return first;
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".kube" / "config";
  }
  return {};
}

Result<KubeConfig> load_kubeconfig(const std::filesystem::path& path, std::string_view context) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(ErrorKind::kNotFound, path.string() + ": kubeconfig not found");
  }
  const std::string file = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::kInvalidInput, file + ": " + e.what());
  }
  if (!root.IsMap()) return fail(ErrorKind::kInvalidInput, file + ": not a kubeconfig mapping");
  try {
    std::string ctx_name = context.empty() ? scalar(root, "current-context") : std::string(context);
    if (ctx_name.empty())
      return fail(ErrorKind::kInvalidInput, file + ": current-context is not set");
    YAML::Node ctx = find_named(root["contexts"], ctx_name);
    if (!ctx) {
      return fail(ErrorKind::kInvalidInput,
                  file + ": context \"" + ctx_name + "\" not found in contexts");
    }
    YAML::Node c = ctx["context"];
    std::string cluster_name = scalar(c, "cluster");
    std::string user_name = scalar(c, "user");
    KubeConfig config;
    config.source = file;
    config.namespace_name = scalar(c, "namespace");
    YAML::Node cluster = find_named(root["clusters"], cluster_name)["cluster"];
    if (!cluster) {
      return fail(ErrorKind::kInvalidInput, file + ": contexts[" + ctx_name +
                                                "].context.cluster \"" + cluster_name +
                                                "\" not found in clusters");
    }
    std::string where = file + ": clusters[" + cluster_name + "].cluster";
    config.server = strip_slash(scalar(cluster, "server"));
    if (config.server.empty()) return fail(ErrorKind::kInvalidInput, where + ".server is missing");
    config.insecure_skip_tls_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
    std::filesystem::path base = path.parent_path();
    Result<std::string> ca = data_or_file(cluster, "certificate-authority", base, where);
    if (!ca) return fail(ca.error());
    config.ca_pem = *ca;
    if (!user_name.empty()) {
      YAML::Node user = find_named(root["users"], user_name)["user"];
      if (!user) {
        return fail(ErrorKind::kInvalidInput, file + ": contexts[" + ctx_name +
                                                  "].context.user \"" + user_name +
                                                  "\" not found in users");
      }
      std::string uwhere = file + ": users[" + user_name + "].user";
      config.token = scalar(user, "token");
      std::string token_file = scalar(user, "tokenFile");
      if (!token_file.empty()) {
        std::filesystem::path p(token_file);
        config.token_file = p.is_relative() ? base / p : p;
      }
      Result<std::string> cert = data_or_file(user, "client-certificate", base, uwhere);
      if (!cert) return fail(cert.error());
      Result<std::string> key = data_or_file(user, "client-key", base, uwhere);
      if (!key) return fail(key.error());
      if (cert->empty() != key->empty()) {
        return fail(ErrorKind::kInvalidInput,
                    uwhere + ": client-certificate and client-key must be given together");
      }
      config.client_cert_pem = *cert;
      config.client_key_pem = *key;
      if (user["exec"] || user["auth-provider"]) {
        return fail(ErrorKind::kInvalidInput,
                    uwhere + ": exec and auth-provider credentials are not supported");
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::kInvalidInput, file + ": " + e.what());
  }
}

Result<KubeConfig> load_in_cluster(std::string_view host, std::string_view port,
                                   const std::filesystem::path& dir) {
  if (host.empty() || port.empty()) {
    return fail(
        ErrorKind::kNotFound,
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  std::error_code ec;
  std::filesystem::path token = dir / "token";
  if (!std::filesystem::exists(token, ec)) {
    return fail(ErrorKind::kNotFound, "in-cluster config: " + token.string() + " not found");
  }
  KubeConfig config;
  config.source = "in-cluster";
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  config.server = "https://" + h + ":" + std::string(port);
  config.token_file = token;
  if (std::filesystem::exists(dir / "ca.crt", ec)) {
    Result<std::string> ca = read_file(dir / "ca.crt", "in-cluster config ca.crt");
    if (!ca) return fail(ca.error());
    config.ca_pem = *ca;
  }
  if (std::filesystem::exists(dir / "namespace", ec)) {
    Result<std::string> ns = read_file(dir / "namespace", "in-cluster config namespace");
    if (ns) config.namespace_name = std::string(trim(*ns));
  }
  return config;
}

Result<KubeConfig> load_in_cluster_from_env() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return load_in_cluster(host ? host : "", port ? port : "");
}

Result<KubeConfig> load_explicit(std::string host, const std::filesystem::path& ca_file,
                                 const std::filesystem::path& cert_file,
                                 const std::filesystem::path& key_file, std::string bearer_token) {
  KubeConfig config;
  config.source = "[runners.kubernetes]";
  if (host.find("://") == std::string::npos) host = "https://" + host;
  config.server = strip_slash(std::move(host));
  config.token = std::move(bearer_token);
  if (!ca_file.empty()) {
    Result<std::string> ca = read_file(ca_file, "[runners.kubernetes] ca_file");
    if (!ca) return fail(ca.error());
    config.ca_pem = *ca;
  }
  if (cert_file.empty() != key_file.empty()) {
    return fail(ErrorKind::kInvalidInput,
                "[runners.kubernetes]: cert_file and key_file must be given together");
  }
  if (!cert_file.empty()) {
    Result<std::string> cert = read_file(cert_file, "[runners.kubernetes] cert_file");
    if (!cert) return fail(cert.error());
    Result<std::string> key = read_file(key_file, "[runners.kubernetes] key_file");
    if (!key) return fail(key.error());
    config.client_cert_pem = *cert;
    config.client_key_pem = *key;
  }
  return config;
}

TokenSource::TokenSource(const KubeConfig& config)
    : file_(config.token_file), token_(config.token) {}

std::string TokenSource::token() {
  std::lock_guard lock(mu_);
  if (file_.empty()) return token_;
  std::error_code ec;
  std::filesystem::file_time_type mtime = std::filesystem::last_write_time(file_, ec);
  if (ec) return token_;
  std::uintmax_t size = std::filesystem::file_size(file_, ec);
  if (ec) return token_;
  if (!loaded_ || mtime != mtime_ || size != size_) {
    std::ifstream in(file_, std::ios::binary);
    if (in) {
      std::ostringstream out;
      out << in.rdbuf();
      token_ = std::string(trim(out.str()));
      mtime_ = mtime;
      size_ = size;
      loaded_ = true;
    }
  }
  return token_;
}

}  // namespace glr::kube
