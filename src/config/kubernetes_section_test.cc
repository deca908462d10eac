// [runners.kubernetes] parsing (executors §7.4): values, defaults and file:line:key errors.
#include <gtest/gtest.h>

#include "config/runner_config.h"

namespace glr {
namespace {

Result<KubernetesSettings> parse_k8s(const std::string& section) {
  std::string text = "[[runners]]\nname = \"k\"\nexecutor = \"kubernetes\"\n" + section;
  Result<GlobalConfig> c =
      parse_config(text, "config.toml", [](std::string_view) { return std::nullopt; });
  if (!c) return fail(c.error());
  if (!c->runners[0].kubernetes) return fail(ErrorKind::kNotFound, "no kubernetes section");
  return *c->runners[0].kubernetes;
}

TEST(KubernetesSection, AbsentSectionIsNullopt) {
  Result<GlobalConfig> c = parse_config("[[runners]]\nexecutor = \"shell\"\n", "config.toml",
                                        [](std::string_view) { return std::nullopt; });
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->runners[0].kubernetes.has_value());
}

TEST(KubernetesSection, ReadsEveryModelledKey) {
  Result<KubernetesSettings> k = parse_k8s(R"(
[runners.kubernetes]
  host = "https://10.0.0.1:6443"
  bearer_token = "tok"
  ca_file = "/etc/ca.crt"
  namespace = "ci"
  namespace_overwrite_allowed = "ci-.*"
  pod_labels_overwrite_allowed = "team=.*"
  node_tolerations_overwrite_allowed = ".*"
  image = "alpine:3.20"
  helper_image = "registry.example.com/glrunner:1"
  privileged = true
  allow_privilege_escalation = false
  service_account = "jobs"
  service_account_overwrite_allowed = ".*"
  cpu_request = "500m"
  cpu_limit = 2
  memory_limit = "1Gi"
  memory_limit_overwrite_max_allowed = "4Gi"
  helper_memory_request = "64Mi"
  service_cpu_limit = "1"
  pull_policy = ["if-not-present", "Always"]
  image_pull_secrets = ["regcred"]
  poll_interval = 1
  poll_timeout = 30
  cleanup_grace_period_seconds = 5
  pod_termination_grace_period_seconds = 10
  dns_policy = "cluster-first"
  unknown_key = "ignored"
  [runners.kubernetes.node_selector]
    "kubernetes.io/arch" = "amd64"
  [runners.kubernetes.node_tolerations]
    "dedicated=ci" = "NoSchedule"
    "spot" = ""
  [runners.kubernetes.pod_labels]
    team = "a"
  [runners.kubernetes.pod_annotations]
    "example.com/x" = "$CI_JOB_ID"
  [[runners.kubernetes.host_aliases]]
    ip = "10.1.1.1"
    hostnames = ["db.local"]
  [[runners.kubernetes.volumes.host_path]]
    name = "docker"
    mount_path = "/var/run/docker.sock"
    read_only = true
  [[runners.kubernetes.volumes.pvc]]
    name = "cache"
    mount_path = "/cache"
  [[runners.kubernetes.volumes.empty_dir]]
    name = "scratch"
    mount_path = "/scratch"
    medium = "Memory"
    size_limit = "1G"
  [[runners.kubernetes.volumes.config_map]]
    name = "cm"
    mount_path = "/cm"
    [runners.kubernetes.volumes.config_map.items]
      "a.txt" = "b.txt"
  [[runners.kubernetes.volumes.secret]]
    name = "s"
    mount_path = "/s"
  [runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution]
    [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms]]
      [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms.match_expressions]]
        key = "kubernetes.io/os"
        operator = "In"
        values = ["linux"]
)");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->host, "https://10.0.0.1:6443");
  EXPECT_EQ(k->bearer_token, "tok");
  EXPECT_EQ(k->namespace_name, "ci");
  EXPECT_EQ(k->pod_labels_overwrite_allowed, "team=.*");
  EXPECT_EQ(k->node_tolerations_overwrite_allowed, ".*");
  EXPECT_EQ(k->privileged, true);
  EXPECT_EQ(k->allow_privilege_escalation, false);
  EXPECT_EQ(k->build.cpu_request, "500m");
  EXPECT_EQ(k->build.cpu_limit, "2");
  EXPECT_EQ(k->build.memory_limit_overwrite_max_allowed, "4Gi");
  EXPECT_EQ(k->helper.memory_request, "64Mi");
  EXPECT_EQ(k->service.cpu_limit, "1");
  EXPECT_EQ(k->pull_policy, (std::vector<std::string>{"if-not-present", "always"}));
  EXPECT_EQ(k->image_pull_secrets, std::vector<std::string>{"regcred"});
  EXPECT_EQ(k->poll_interval, 1);
  EXPECT_EQ(k->poll_timeout, 30);
  EXPECT_EQ(k->cleanup_grace_period_seconds, 5);
  EXPECT_EQ(k->pod_termination_grace_period_seconds, 10);
  EXPECT_EQ(k->dns_policy, "ClusterFirst");
  EXPECT_EQ(k->node_selector.at("kubernetes.io/arch"), "amd64");
  ASSERT_EQ(k->node_tolerations.size(), 2u);
  EXPECT_EQ(k->node_tolerations[0],
            (KubeToleration{.key = "dedicated", .op = "Equal", .value = "ci", .effect = "NoSchedule"}));
  EXPECT_EQ(k->node_tolerations[1], (KubeToleration{.key = "spot", .op = "Exists"}));
  EXPECT_EQ(k->pod_annotations.at("example.com/x"), "$CI_JOB_ID");
  ASSERT_EQ(k->host_aliases.size(), 1u);
  EXPECT_EQ(k->host_aliases[0].hostnames, std::vector<std::string>{"db.local"});
  ASSERT_EQ(k->volumes.size(), 5u);
  EXPECT_EQ(k->volumes[0].kind, "config_map");  // toml++ orders kinds by name
  EXPECT_EQ(k->volumes[0].items.at("a.txt"), "b.txt");
  EXPECT_EQ(k->affinity_json,
            R"({"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]}}})");
}

TEST(KubernetesSection, Defaults) {
  Result<KubernetesSettings> k = parse_k8s("[runners.kubernetes]\n");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->poll_interval, 3);
  EXPECT_EQ(k->poll_timeout, 180);
  EXPECT_FALSE(k->privileged.has_value());
  EXPECT_TRUE(k->namespace_name.empty());

  // What register writes for unset values: zero polls mean the defaults.
  k = parse_k8s("[runners.kubernetes]\n  poll_interval = 0\n  poll_timeout = 0\n");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->poll_interval, 3);
  EXPECT_EQ(k->poll_timeout, 180);
}

TEST(KubernetesSection, ErrorsNameFileLineAndKey) {
  Result<KubernetesSettings> k = parse_k8s("[runners.kubernetes]\n  privileged = \"yes\"\n");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message,
            "config.toml:5: runners[0].kubernetes.privileged: expected boolean, got string \"yes\"");

  k = parse_k8s("[runners.kubernetes]\n  poll_timeout = \"3m\"\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("config.toml:5: runners[0].kubernetes.poll_timeout:"),
            std::string::npos)
      << k.error().message;

  k = parse_k8s("[runners.kubernetes]\n  pull_policy = \"sometimes\"\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("runners[0].kubernetes.pull_policy: unknown pull policy"),
            std::string::npos);

  k = parse_k8s("[runners.kubernetes]\n  dns_policy = \"x\"\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("config.toml:5: runners[0].kubernetes.dns_policy"),
            std::string::npos);

  k = parse_k8s("[runners.kubernetes]\n[[runners.kubernetes.volumes.host_path]]\n  name = \"x\"\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("runners[0].kubernetes.volumes.host_path[0].mount_path: is required"),
            std::string::npos)
      << k.error().message;

  k = parse_k8s("[runners.kubernetes]\n  memory_limit = true\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("config.toml:5: runners[0].kubernetes.memory_limit"),
            std::string::npos);

  k = parse_k8s("[runners.kubernetes]\n[runners.kubernetes.node_tolerations]\n  a = \"Sometimes\"\n");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("config.toml:6: runners[0].kubernetes.node_tolerations.a"),
            std::string::npos)
      << k.error().message;
}

}  // namespace
}  // namespace glr
