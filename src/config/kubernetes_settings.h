// [runners.kubernetes] as plain values (executors §7.4). Parsed by config/kubernetes_section.cc
// from the same TOML tree as the rest of config.toml, so errors name file:line:key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace glr {

// Requests and limits of one kind of container (build, service, helper). Empty: not set.
// Quantities are kept as written ("500m", "1Gi"); *_overwrite_max_allowed enable the
// KUBERNETES_[HELPER_|SERVICE_]CPU_REQUEST ... job variables up to that maximum.
struct KubeResources {
  std::string cpu_limit{};
  std::string cpu_limit_overwrite_max_allowed{};
  std::string cpu_request{};
  std::string cpu_request_overwrite_max_allowed{};
  std::string memory_limit{};
  std::string memory_limit_overwrite_max_allowed{};
  std::string memory_request{};
  std::string memory_request_overwrite_max_allowed{};
  std::string ephemeral_storage_limit{};
  std::string ephemeral_storage_limit_overwrite_max_allowed{};
  std::string ephemeral_storage_request{};
  std::string ephemeral_storage_request_overwrite_max_allowed{};
  friend bool operator==(const KubeResources&, const KubeResources&) = default;
};

// One entry of [[runners.kubernetes.volumes.<kind>]].
struct KubeVolume {
  std::string kind{};  // "host_path", "pvc", "config_map", "secret", "empty_dir"
  std::string name{};  // volume name; also the claim/config map/secret name unless set below
  std::string mount_path{};
  std::string sub_path{};
  bool read_only = false;
  std::string host_path{};   // host_path: defaults to mount_path
  std::string claim_name{};  // pvc (empty: name)
  std::string medium{};      // empty_dir: "" or "Memory"
  std::string size_limit{};  // empty_dir
  std::map<std::string, std::string> items{};  // config_map/secret: key -> path
  friend bool operator==(const KubeVolume&, const KubeVolume&) = default;
};

struct KubeHostAlias {
  std::string ip{};
  std::vector<std::string> hostnames{};
  friend bool operator==(const KubeHostAlias&, const KubeHostAlias&) = default;
};

struct KubeToleration {
  std::string key{};
  std::string op{};  // "Equal" when a value was given ("key=value"), else "Exists"
  std::string value{};
  std::string effect{};  // "" = every effect
  friend bool operator==(const KubeToleration&, const KubeToleration&) = default;
};

struct KubernetesSettings {
  // Where the API is (empty host: in-cluster config, else kubeconfig).
  std::string host{};
  std::string bearer_token{};  // never logged
  std::string ca_file{};
  std::string cert_file{};
  std::string key_file{};
  std::string context{};  // kubeconfig context (glrunner extension; empty: current-context)

  std::string namespace_name{};  // `namespace`; empty -> "default" with a warning
  std::string namespace_overwrite_allowed{};  // regex for KUBERNETES_NAMESPACE_OVERWRITE
  std::string image{};
  std::string helper_image{};
  std::optional<bool> privileged{};
  std::optional<bool> allow_privilege_escalation{};
  std::string service_account{};
  std::string service_account_overwrite_allowed{};  // regex for KUBERNETES_SERVICE_ACCOUNT_OVERWRITE

  KubeResources build{};    // cpu_limit, memory_request, ...
  KubeResources service{};  // service_cpu_limit, ...
  KubeResources helper{};   // helper_cpu_limit, ...

  std::map<std::string, std::string> node_selector{};
  std::vector<KubeToleration> node_tolerations{};
  // `affinity` as the Kubernetes Affinity JSON object (keys camelCased), "" when not set.
  std::string affinity_json{};
  std::map<std::string, std::string> pod_labels{};
  std::map<std::string, std::string> pod_annotations{};
  // Regexes for the KUBERNETES_POD_LABELS_*, _POD_ANNOTATIONS_*, _NODE_SELECTOR_* ("k=v") and
  // _NODE_TOLERATIONS_* ("k[=v]:effect") job variables; empty disables them.
  std::string pod_labels_overwrite_allowed{};
  std::string pod_annotations_overwrite_allowed{};
  std::string node_selector_overwrite_allowed{};
  std::string node_tolerations_overwrite_allowed{};
  std::vector<std::string> pull_policy{};  // "always", "never", "if-not-present"
  std::vector<std::string> image_pull_secrets{};
  int poll_interval = 3;   // seconds
  int poll_timeout = 180;  // seconds
  std::optional<int> cleanup_grace_period_seconds{};
  std::optional<int> pod_termination_grace_period_seconds{};
  std::string dns_policy{};  // Kubernetes spelling ("ClusterFirst"); "" = cluster default
  std::vector<KubeHostAlias> host_aliases{};
  std::vector<KubeVolume> volumes{};
  friend bool operator==(const KubernetesSettings&, const KubernetesSettings&) = default;
};

}  // namespace glr
