// The job pod as the official Kubernetes executor builds it (executors §7.4 "Pod").
#include "executor/kubernetes/pod_builder.h"

#include <gtest/gtest.h>

namespace glr::kube {
namespace {

using nlohmann::json;

PodInput sample_input() {
  PodInput in;
  in.config.namespace_name = "ci";
  in.config.image = "alpine:3.20";
  in.job.id = 42;
  in.job.job_info = JobInfo{.id = 42, .name = "test", .project_id = 7, .project_name = "app",
                            .project_full_path = "grp/sub/app"};
  in.job.git_info.sha = "abc";
  in.job.git_info.before_sha = "000";
  in.job.git_info.ref = "main";
  in.job.runner_info.timeout = 3600;
  in.variables = {
      {.key = "CI_JOB_URL", .value = "https://gitlab.example.com/grp/sub/app/-/jobs/42", .is_public = true},
      {.key = "CI_PROJECT_NAMESPACE_ID", .value = "11", .is_public = true},
      {.key = "SECRET_TOKEN", .value = "s3cr3t", .masked = true},
      {.key = "GREETING", .value = "hi", .is_public = true},
  };
  in.runner_name = "my runner";
  in.short_token = "AbCdEf123";
  in.concurrent_project_id = 0;
  in.builds_dir = "/builds";
  in.helper_image = "glrunner:1";
  in.random_suffix = "x1y2z3w4";
  in.shell_command = "DETECT";
  return in;
}

TEST(PodBuilder, MinimalJobPodMatchesTheOfficialShape) {
  Result<PodPlan> plan = build_pod(sample_input());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->ns, "ci");
  EXPECT_EQ(plan->name, "runner-abcdef123-project-7-concurrent-0-x1y2z3w4");
  EXPECT_FALSE(plan->secret.has_value());
  json mounts = json::array({{{"name", "repo"}, {"mountPath", "/builds"}}});
  json security = {{"capabilities", {{"drop", {"NET_RAW"}}}}};
  json expected = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "runner-abcdef123-project-7-concurrent-0-x1y2z3w4"},
        {"namespace", "ci"},
        {"labels",
         {{"pod", "runner-abcdef123-project-7-concurrent-0"},
          {"job.runner.gitlab.com/pod", "runner-abcdef123-project-7-concurrent-0"},
          {"project.runner.gitlab.com/id", "7"},
          {"project.runner.gitlab.com/namespace-id", "11"},
          {"project.runner.gitlab.com/name", "app"},
          {"project.runner.gitlab.com/namespace", "grp_sub"},
          {"project.runner.gitlab.com/root-namespace", "grp"},
          {"manager.runner.gitlab.com/name", "my_runner"},
          {"manager.runner.gitlab.com/id-short", "AbCdEf123"}}},
        {"annotations",
         {{"job.runner.gitlab.com/id", "42"},
          {"job.runner.gitlab.com/url", "https://gitlab.example.com/grp/sub/app/-/jobs/42"},
          {"job.runner.gitlab.com/sha", "abc"},
          {"job.runner.gitlab.com/before_sha", "000"},
          {"job.runner.gitlab.com/ref", "main"},
          {"job.runner.gitlab.com/name", "test"},
          {"job.runner.gitlab.com/timeout", "3600s"},
          {"project.runner.gitlab.com/id", "7"}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"activeDeadlineSeconds", 3601},
        {"volumes", json::array({{{"name", "repo"}, {"emptyDir", json::object()}}})},
        {"containers",
         json::array(
             {{{"name", "build"},
               {"image", "alpine:3.20"},
               {"command", {"sh", "-c", "DETECT"}},
               {"env",
                json::array({{{"name", "CI_JOB_URL"},
                              {"value", "https://gitlab.example.com/grp/sub/app/-/jobs/42"}},
                             {{"name", "CI_PROJECT_NAMESPACE_ID"}, {"value", "11"}},
                             {{"name", "GREETING"}, {"value", "hi"}}})},
               {"stdin", true},
               {"resources", json::object()},
               {"securityContext", security},
               {"volumeMounts", mounts}},
              {{"name", "helper"},
               {"image", "glrunner:1"},
               {"command", {"sh", "-c", "DETECT"}},
               {"stdin", true},
               {"resources", json::object()},
               {"securityContext", security},
               {"volumeMounts", mounts}}})}}}};
  EXPECT_EQ(plan->pod, expected) << plan->pod.dump(2);
}

TEST(PodBuilder, ServicesGetContainersAndLocalhostAliases) {
  PodInput in = sample_input();
  in.job.services = {
      Image{.name = "postgres:14", .alias = "db"},
      Image{.name = "registry.example.com:5000/tutum/wordpress:1",
            .entrypoint = {"/start"},
            .command = {"--port", "80"},
            .variables = {{.key = "WORDPRESS_DB", .value = "db"}}},
      Image{.name = "postgres:15"},
  };
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  const json& containers = plan->pod["spec"]["containers"];
  ASSERT_EQ(containers.size(), 5u);
  EXPECT_EQ(containers[2]["name"], "db");
  EXPECT_EQ(containers[2]["image"], "postgres:14");
  EXPECT_EQ(containers[3]["name"], "svc-1");  // no derived name is a valid DNS label
  EXPECT_EQ(containers[3]["command"], json({"/start"}));
  EXPECT_EQ(containers[3]["args"], json({"--port", "80"}));
  EXPECT_EQ(containers[3]["env"].back(), json({{"name", "WORDPRESS_DB"}, {"value", "db"}}));
  EXPECT_EQ(containers[4]["name"], "postgres");  // first alias no other container uses
  EXPECT_EQ(plan->pod["spec"]["hostAliases"],
            json::array({{{"ip", "127.0.0.1"}, {"hostnames", {"db", "postgres"}}}}));
}

TEST(PodBuilder, ActiveDeadlineFollowsItsFeatureFlag) {
  PodInput in = sample_input();
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->messages.back(),
            "Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to "
            "the job timeout: 1h0m0s...");
  in.variables.push_back({.key = "FF_USE_POD_ACTIVE_DEADLINE_SECONDS", .value = "false"});
  plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->pod["spec"].contains("activeDeadlineSeconds"));
}

TEST(PodBuilder, ServiceHostnames) {
  EXPECT_EQ(service_hostnames(Image{.name = "tutum/wordpress:latest"}),
            (std::vector<std::string>{"tutum-wordpress"}));
  EXPECT_EQ(service_hostnames(Image{.name = "mysql@sha256:abc", .alias = "db,cache other"}),
            (std::vector<std::string>{"db", "cache", "other", "mysql"}));
}

TEST(PodBuilder, ConfiguredSchedulingVolumesAndAccount) {
  PodInput in = sample_input();
  KubernetesSettings& c = in.config;
  c.service_account = "jobs";
  c.privileged = true;
  c.allow_privilege_escalation = false;
  c.pod_termination_grace_period_seconds = 5;
  c.node_selector = {{"kubernetes.io/arch", "amd64"}};
  c.node_tolerations = {KubeToleration{.key = "ci", .op = "Equal", .value = "yes", .effect = "NoSchedule"}};
  c.affinity_json = R"({"nodeAffinity":{}})";
  c.dns_policy = "ClusterFirst";
  c.host_aliases = {KubeHostAlias{.ip = "10.0.0.1", .hostnames = {"a.local"}}};
  c.pull_policy = {"if-not-present"};
  c.image_pull_secrets = {"regcred"};
  c.pod_labels = {{"team", "a/b"}, {"manager.runner.gitlab.com/name", "spoof"}};
  c.pod_annotations = {{"example.com/job", "job-$CI_PROJECT_NAMESPACE_ID"}};
  c.volumes = {KubeVolume{.kind = "host_path", .name = "sock", .mount_path = "/var/run/docker.sock", .read_only = true},
               KubeVolume{.kind = "pvc", .name = "builds", .mount_path = "/builds"},
               KubeVolume{.kind = "secret", .name = "s", .mount_path = "/s", .items = {{"k", "p"}}}};
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  const json& spec = plan->pod["spec"];
  EXPECT_EQ(spec["serviceAccountName"], "jobs");
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], 5);
  EXPECT_EQ(spec["nodeSelector"], json({{"kubernetes.io/arch", "amd64"}}));
  EXPECT_EQ(spec["tolerations"],
            json::array({{{"key", "ci"}, {"operator", "Equal"}, {"value", "yes"}, {"effect", "NoSchedule"}}}));
  EXPECT_EQ(spec["affinity"], json({{"nodeAffinity", json::object()}}));
  EXPECT_EQ(spec["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(spec["hostAliases"], json::array({{{"ip", "10.0.0.1"}, {"hostnames", {"a.local"}}}}));
  EXPECT_EQ(spec["imagePullSecrets"], json::array({{{"name", "regcred"}}}));
  EXPECT_EQ(spec["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(spec["containers"][0]["securityContext"],
            json({{"privileged", true}, {"allowPrivilegeEscalation", false},
                  {"capabilities", {{"drop", {"NET_RAW"}}}}}));
  EXPECT_EQ(plan->pod["metadata"]["labels"]["team"], "a_b");
  EXPECT_EQ(plan->pod["metadata"]["labels"]["manager.runner.gitlab.com/name"], "my_runner");
  EXPECT_EQ(plan->pod["metadata"]["annotations"]["example.com/job"], "job-11");
  // A configured volume at the builds root replaces `repo`.
  EXPECT_EQ(spec["volumes"],
            json::array({{{"name", "sock"}, {"hostPath", {{"path", "/var/run/docker.sock"}}}},
                         {{"name", "builds"}, {"persistentVolumeClaim", {{"claimName", "builds"}}}},
                         {{"name", "s"},
                          {"secret", {{"secretName", "s"}, {"items", {{{"key", "k"}, {"path", "p"}}}}}}}}));
  EXPECT_EQ(spec["containers"][1]["volumeMounts"][0],
            json({{"name", "sock"}, {"mountPath", "/var/run/docker.sock"}, {"readOnly", true}}));
}

TEST(PodBuilder, ResourcesAndTheirOverwrites) {
  PodInput in = sample_input();
  in.config.build.cpu_request = "500m";
  in.config.build.memory_limit = "1Gi";
  in.config.build.memory_limit_overwrite_max_allowed = "2Gi";
  in.config.helper.cpu_limit = "200m";
  in.variables.push_back({.key = "KUBERNETES_MEMORY_LIMIT", .value = "1500Mi"});
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->pod["spec"]["containers"][0]["resources"],
            json({{"limits", {{"memory", "1500Mi"}}}, {"requests", {{"cpu", "500m"}}}}));
  EXPECT_EQ(plan->pod["spec"]["containers"][1]["resources"], json({{"limits", {{"cpu", "200m"}}}}));

  in.variables.push_back({.key = "KUBERNETES_MEMORY_LIMIT", .value = "3Gi"});
  plan = build_pod(in);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(plan.error().message.find("KUBERNETES_MEMORY_LIMIT"), std::string::npos);

  // Without a maximum the variable is ignored.
  in.variables.push_back({.key = "KUBERNETES_CPU_REQUEST", .value = "64"});
  in.variables.pop_back();
  in.variables.pop_back();
  in.variables.push_back({.key = "KUBERNETES_CPU_REQUEST", .value = "64"});
  plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->pod["spec"]["containers"][0]["resources"]["requests"]["cpu"], "500m");
}

TEST(PodBuilder, NamespaceAndServiceAccountOverwrites) {
  PodInput in = sample_input();
  in.variables.push_back({.key = "KUBERNETES_NAMESPACE_OVERWRITE", .value = "ci-feature"});
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->ns, "ci");  // no namespace_overwrite_allowed: ignored

  in.config.namespace_overwrite_allowed = "ci-.*";
  plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->ns, "ci-feature");
  EXPECT_EQ(plan->pod["metadata"]["namespace"], "ci-feature");

  in.config.namespace_overwrite_allowed = "^prod-";
  plan = build_pod(in);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("does not match"), std::string::npos);

  in = sample_input();
  in.config.namespace_name = "";
  in.config.service_account_overwrite_allowed = "^ci-";
  in.variables.push_back({.key = "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", .value = "ci-deployer"});
  plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->ns, "default");
  EXPECT_EQ(plan->messages.front(), "Namespace is empty, therefore assuming 'default'.");
  EXPECT_EQ(plan->pod["spec"]["serviceAccountName"], "ci-deployer");
}

TEST(PodBuilder, MapOverwritesFromJobVariables) {
  PodInput in = sample_input();
  in.config.pod_labels = {{"test", "label"}, {"another", "label"}, {"var", "$GREETING"}};
  in.variables.push_back({.key = "KUBERNETES_POD_LABELS_1", .value = "another=newlabel"});
  in.variables.push_back({.key = "KUBERNETES_POD_LABELS_2", .value = "another2=$GREETING"});
  in.variables.push_back({.key = "KUBERNETES_NODE_SELECTOR_ARCH", .value = "kubernetes.io/arch=arm64"});
  in.variables.push_back({.key = "KUBERNETES_NODE_TOLERATIONS_1", .value = "spot=true:NoSchedule"});
  in.variables.push_back({.key = "KUBERNETES_POD_ANNOTATIONS_1", .value = "a.io/x=y"});
  // Without the *_overwrite_allowed regexes the variables are ignored.
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->pod["metadata"]["labels"]["another"], "label");
  EXPECT_EQ(plan->pod["metadata"]["labels"]["var"], "hi");
  EXPECT_FALSE(plan->pod["spec"].contains("nodeSelector"));

  in.config.pod_labels_overwrite_allowed = "another.*";
  in.config.node_selector_overwrite_allowed = "kubernetes.io/arch=.*";
  in.config.node_tolerations_overwrite_allowed = ".*";
  in.config.pod_annotations_overwrite_allowed = ".*";
  plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  const json& labels = plan->pod["metadata"]["labels"];
  EXPECT_EQ(labels["test"], "label");
  EXPECT_EQ(labels["another"], "newlabel");
  EXPECT_EQ(labels["another2"], "hi");
  EXPECT_EQ(plan->pod["spec"]["nodeSelector"], json({{"kubernetes.io/arch", "arm64"}}));
  EXPECT_EQ(plan->pod["spec"]["tolerations"],
            json::array({{{"key", "spot"}, {"operator", "Equal"}, {"value", "true"}, {"effect", "NoSchedule"}}}));
  EXPECT_EQ(plan->pod["metadata"]["annotations"]["a.io/x"], "y");

  in.variables.push_back({.key = "KUBERNETES_POD_LABELS_3", .value = "team=x"});
  plan = build_pod(in);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(plan.error().message.find("KUBERNETES_POD_LABELS_3"), std::string::npos);
}

TEST(PodBuilder, ServiceVariablesOverwriteThatServicesResources) {
  PodInput in = sample_input();
  in.config.service.cpu_request = "100m";
  in.config.service.cpu_request_overwrite_max_allowed = "1";
  in.job.services = {Image{.name = "redis:7", .variables = {{.key = "KUBERNETES_SERVICE_CPU_REQUEST", .value = "500m"}}},
                     Image{.name = "mysql:8"}};
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->pod["spec"]["containers"][2]["resources"]["requests"]["cpu"], "500m");
  EXPECT_EQ(plan->pod["spec"]["containers"][3]["resources"]["requests"]["cpu"], "100m");
}

TEST(PodBuilder, RegistryCredentialsBecomeADockercfgSecret) {
  PodInput in = sample_input();
  in.config.image_pull_secrets = {"regcred"};
  in.job.credentials = {Credential{.type = "registry", .url = "registry.example.com",
                                   .username = "gitlab-ci-token", .password = Secret{"tok"}}};
  in.variables.push_back(
      {.key = "DOCKER_AUTH_CONFIG", .value = R"({"auths":{"other.io":{"auth":"dTpw"}}})"});
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_TRUE(plan->secret.has_value());
  const json& secret = *plan->secret;
  EXPECT_EQ(secret["type"], "kubernetes.io/dockercfg");
  EXPECT_EQ(secret["metadata"]["name"], plan->name);
  EXPECT_EQ(secret["metadata"]["labels"]["manager.runner.gitlab.com/id-short"], "AbCdEf123");
  // {"other.io":{"auth":"dTpw"},"registry.example.com":{"auth":"Z2l0bGFiLWNpLXRva2VuOnRvaw==",...}}
  std::string data = secret["data"][".dockercfg"];
  EXPECT_FALSE(data.empty());
  EXPECT_EQ(plan->pod["spec"]["imagePullSecrets"],
            json::array({{{"name", "regcred"}}, {{"name", plan->name}}}));
}

TEST(PodBuilder, NoImageIsAConfigurationError) {
  PodInput in = sample_input();
  in.config.image = "";
  Result<PodPlan> plan = build_pod(in);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::kInvalidInput);
}

TEST(PodBuilder, LongNamesStayWithin63Characters) {
  PodInput in = sample_input();
  in.job.job_info.project_id = 123456789012345;
  in.concurrent_project_id = 123456789;
  in.short_token = "abcdefghi";
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan);
  EXPECT_LE(plan->name.size(), 63u);
  EXPECT_TRUE(plan->name.ends_with("-x1y2z3w4")) << plan->name;
}

TEST(PodBuilder, Quantities) {
  EXPECT_DOUBLE_EQ(*parse_quantity("500m"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_quantity("2"), 2);
  EXPECT_DOUBLE_EQ(*parse_quantity("1Gi"), 1073741824.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("1e3"), 1000);
  EXPECT_FALSE(parse_quantity("lots").has_value());
  EXPECT_FALSE(parse_quantity("1Xi").has_value());
}

TEST(PodBuilder, DetectShellScriptTriesBashFirst) {
  std::string s = detect_shell_script();
  EXPECT_TRUE(s.starts_with("if [ -x /usr/local/bin/bash ]; then\n\texec /usr/local/bin/bash \"$@\"\n"));
  EXPECT_NE(s.find("echo shell not found"), std::string::npos);
}

}  // namespace
}  // namespace glr::kube

namespace glr::kube {
namespace {

TEST(PodBuilder, AttachStrategyAddsScriptsAndLogsVolumesAndInitPermissions) {
  PodInput in = sample_input();
  in.attach = true;
  in.config.pull_policy = {"if-not-present"};
  in.config.helper.cpu_limit = "200m";
  Result<PodPlan> plan = build_pod(in);
  ASSERT_TRUE(plan) << plan.error().message;
  const json& spec = plan->pod["spec"];
  EXPECT_EQ(spec["volumes"], json::parse(R"([
      {"name": "repo", "emptyDir": {}},
      {"name": "scripts", "emptyDir": {}},
      {"name": "logs", "emptyDir": {}}])"));
  json mounts = json::parse(R"([
      {"name": "repo", "mountPath": "/builds"},
      {"name": "scripts", "mountPath": "/scripts-7-42"},
      {"name": "logs", "mountPath": "/logs-7-42"}])");
  for (const json& c : spec["containers"]) EXPECT_EQ(c["volumeMounts"], mounts) << c["name"];
  ASSERT_EQ(spec["initContainers"].size(), 1u);
  json expected = {
      {"name", "init-permissions"},
      {"image", "glrunner:1"},
      {"imagePullPolicy", "IfNotPresent"},
      {"command",
       {"sh", "-c",
        "touch /logs-7-42/output.log && (chmod 777 /logs-7-42/output.log || exit 0)"}},
      {"resources", {{"limits", {{"cpu", "200m"}}}}},
      {"securityContext", {{"capabilities", {{"drop", {"NET_RAW"}}}}}},
      {"volumeMounts", mounts},
  };
  EXPECT_EQ(spec["initContainers"][0], expected);
  EXPECT_EQ(scripts_dir(in.job), "/scripts-7-42");
  EXPECT_EQ(log_file(in.job), "/logs-7-42/output.log");
}

TEST(PodBuilder, LegacyExecStrategyHasNoInitContainerNorScriptVolumes) {
  Result<PodPlan> plan = build_pod(sample_input());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->pod["spec"].contains("initContainers"));
  EXPECT_EQ(plan->pod["spec"]["volumes"].size(), 1u);
}

}  // namespace
}  // namespace glr::kube
