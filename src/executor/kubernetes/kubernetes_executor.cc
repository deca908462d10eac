// Kubernetes executor (executors §7.4): prepare creates the pod, run execs stage scripts,
// cleanup deletes what prepare created.
#include "executor/kubernetes/kubernetes_executor.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "executor/kubernetes/pod_builder.h"
#include "script/job_variables.h"
#include "util/log.h"
#include "util/version.h"

namespace glr::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The trace's "plain" line style (executors §2.2), as in the shell executor.
std::string plain_line(std::string_view text) {
  return "\x1b[0K" + std::string(text) + "\x1b[0;m\n";
}

std::string random_suffix() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string s;
  for (int i = 0; i < 8; ++i) s += kChars[pick(gen)];
  return s;
}

// Waiting reasons that will not resolve by themselves (the official's terminal errors).
const std::set<std::string>& image_pull_reasons() {
  static const std::set<std::string> reasons = {"ErrImagePull", "ImagePullBackOff",
                                                "InvalidImageName", "ErrImageNeverPull"};
  return reasons;
}
const std::set<std::string>& fatal_reasons() {
  static const std::set<std::string> reasons = {"CreateContainerConfigError",
                                                "CreateContainerError", "RunContainerError"};
  return reasons;
}

struct PodState {
  std::string phase;
  bool ready = false;          // build and helper are running
  std::string failure;         // non-empty: give up with this message
  bool image_pull = false;
};

PodState inspect(const json& pod) {
  PodState st;
  const json& status = pod.contains("status") ? pod["status"] : json::object();
  st.phase = status.value("phase", "Pending");
  if (st.phase == "Succeeded" || st.phase == "Failed") {
    std::string name = pod.contains("metadata") ? pod["metadata"].value("name", "") : "";
    st.failure = "pod " + name + " is " + st.phase +
                 (status.contains("message") ? ": " + status.value("message", "") : "");
    return st;
  }
  int running = 0;
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    if (!status.contains(list)) continue;
    for (const json& cs : status[list]) {
      std::string name = cs.value("name", "");
      const json& state = cs.contains("state") ? cs["state"] : json::object();
      if (state.contains("waiting")) {
        std::string reason = state["waiting"].value("reason", "");
        std::string message = state["waiting"].value("message", "");
        if (image_pull_reasons().count(reason) > 0) {
          st.image_pull = true;
          st.failure = std::string(kImagePullFailedPrefix) + ": " +
                       (message.empty() ? reason : message);
          return st;
        }
        if (fatal_reasons().count(reason) > 0) {
          st.failure = "container \"" + name + "\": " + reason +
                       (message.empty() ? "" : ": " + message);
          return st;
        }
      }
      if (std::string(list) == "containerStatuses" && (name == "build" || name == "helper")) {
        if (state.contains("running")) ++running;
        if (state.contains("terminated")) {
          st.failure = "container \"" + name + "\" terminated with exit code " +
                       std::to_string(state["terminated"].value("exitCode", 0));
          return st;
        }
      }
    }
  }
  st.ready = st.phase == "Running" && running == 2;
  return st;
}

}  // namespace

std::string default_helper_image(const KubernetesSettings& config) {
  // The official reference (§7.6): <arch>-v<version>, arch from the node selector.
  std::string arch = "x86_64";
  auto it = config.node_selector.find("kubernetes.io/arch");
  if (it != config.node_selector.end()) {
    arch = it->second == "amd64" ? "x86_64" : it->second;
  }
  return std::string("registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:") + arch +
         "-v" + compat_version();
}

KubernetesExecutor::KubernetesExecutor(std::shared_ptr<KubeApi> api,
                                       KubernetesExecutorOptions options)
    : api_(std::move(api)), options_(std::move(options)) {
  traits_.name = "kubernetes";
  traits_.shell = "bash";
  traits_.shared_builds_dir = false;
  traits_.disposable_environment = true;
  traits_.default_builds_dir = "/builds";
  traits_.default_cache_dir = "/cache";
  traits_.exit_error_prefix = "command terminated with exit code";
  traits_.helper_command = "/usr/bin/gitlab-runner-helper";
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) traits_.runner_hostname = host;
}

KubernetesExecutor::~KubernetesExecutor() { cleanup(); }

Result<> KubernetesExecutor::prepare(const JobSpec& job, const PrepareOptions& options,
                                     TraceSink& trace) {
  cleanup();  // a retried prepare replaces the previous attempt's pod
  // nlohmann throws on objects of an unexpected shape; that is an answer we cannot use.
  try {
    return prepare_pod(job, options, trace);
  } catch (const std::exception& e) {
    return fail(ErrorKind::kUnavailable, std::string("unexpected Kubernetes object: ") + e.what());
  }
}

Result<> KubernetesExecutor::prepare_pod(const JobSpec& job, const PrepareOptions& options,
                                         TraceSink& trace) {
  PodInput in;
  in.config = options_.config;
  in.job = job;
  in.variables = options.variables.empty() ? job.variables : options.variables;
  in.runner_name = options_.runner_name;
  in.short_token = options_.short_token;
  in.concurrent_project_id = options.concurrent_project_id;
  in.builds_dir = options.builds_dir.empty() ? traits_.default_builds_dir : options.builds_dir;
  in.helper_image = options_.config.helper_image.empty()
                        ? default_helper_image(options_.config)
                        : expand(options_.config.helper_image, in.variables, "");
  in.random_suffix = options_.random_suffix ? options_.random_suffix() : random_suffix();
  in.shell_command = detect_shell_script();
  Result<PodPlan> plan = build_pod(in);
  if (!plan) return fail(plan.error());

  std::string image = plan->pod["spec"]["containers"][0].value("image", "");
  for (const std::string& m : plan->messages) {
    if (m.starts_with("Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS")) continue;
    trace.write(kRunnerStream, plain_line(m));
  }
  trace.write(kRunnerStream, plain_line("Using Kubernetes executor with image " + image + " ..."));
  for (const std::string& m : plan->messages) {
    if (m.starts_with("Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS")) {
      trace.write(kRunnerStream, plain_line(m));
    }
  }
  ns_ = plan->ns;

  json secret;
  if (plan->secret) {
    Result<json> created = api_->create(ns_, "secrets", *plan->secret);
    // A retried create may have been stored already (kConflict): the secret is ours.
    if (!created && created.error().kind != ErrorKind::kConflict) {
      return fail(created.error().kind, "creating the image pull secret: " + created.error().message);
    }
    if (created) secret = *created;
    secret_name_ = plan->name;
  }
  Result<json> pod = api_->create(ns_, "pods", plan->pod);
  if (!pod && pod.error().kind != ErrorKind::kConflict) {
    return fail(pod.error().kind, "creating the job pod: " + pod.error().message);
  }
  pod_name_ = plan->name;
  // The pod owns its secret, so the cluster deletes the secret with the pod (§7.4).
  if (pod && secret.is_object() && secret.contains("metadata")) {
    std::string uid = (*pod)["metadata"].value("uid", "");
    if (!uid.empty()) {
      secret["metadata"]["ownerReferences"] = json::array(
          {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_name_}, {"uid", uid}}});
      Result<json> owned = api_->update(ns_, "secrets", secret);
      if (owned) {
        secret_owned_ = true;
      } else {
        log_warning("making the pod own its secret failed; the secret is deleted explicitly",
                    {{"secret", ns_ + "/" + secret_name_}, {"error", owned.error().message}});
      }
    }
  }
  return wait_for_pod(trace, options.stop);
}

Result<> KubernetesExecutor::wait_for_pod(TraceSink& trace, std::stop_token stop) {
  // The official polls every poll_interval, at most poll_timeout / poll_interval times; a watch
  // per interval answers as soon as the pod changes.
  const int interval = options_.config.poll_interval;
  const int attempts = std::max(1, options_.config.poll_timeout / interval);
  std::string last_phase = "Pending";
  json last_pod = json::object();
  for (int attempt = 0; attempt < attempts; ++attempt) {
    Result<json> pod = api_->wait_pod(
        ns_, pod_name_,
        [&](const json& p) {
          try {
            PodState st = inspect(p);
            last_phase = st.phase;
            last_pod = p;
            return st.ready || !st.failure.empty();
          } catch (const std::exception&) {
            return false;  // a pod we cannot read yet; the next event may be complete
          }
        },
        std::chrono::seconds(interval), stop);
    if (pod) {
      PodState st = inspect(*pod);
      if (st.ready) return {};
      // The official treats an image that cannot be pulled as a job failure, not a system one.
      return fail(st.image_pull ? ErrorKind::kInvalidInput : ErrorKind::kUnavailable, st.failure);
    }
    if (pod.error().kind == ErrorKind::kNotFound) {
      return fail(ErrorKind::kUnavailable, "pod " + ns_ + "/" + pod_name_ + " was deleted");
    }
    if (pod.error().kind != ErrorKind::kTimeout) return fail(pod.error());
    // Stream 00, stderr, like the official's wait loop, then the pod conditions' reasons
    // (print_pod_warning_events, on by default).
    std::string node = "<unknown>";
    if (last_pod.contains("spec") && last_pod["spec"].value("nodeName", "") != "") {
      node = last_pod["spec"].value("nodeName", "");
    }
    const StreamId runner_stderr{0, true};
    trace.write(runner_stderr, plain_line("Waiting for pod " + ns_ + "/" + pod_name_ +
                                          " to be running on the node " + node +
                                          ", status is " + last_phase));
    if (last_pod.contains("status") && last_pod["status"].contains("conditions")) {
      for (const json& cond : last_pod["status"]["conditions"]) {
        std::string reason = cond.value("reason", "");
        if (reason.empty()) continue;
        trace.write(runner_stderr, plain_line("\t" + reason + ": \"" + cond.value("message", "") + "\""));
      }
    }
  }
  return fail(ErrorKind::kTimeout,
              "timed out waiting for pod to start (last phase: " + last_phase + ")");
}

Result<ExitStatus> KubernetesExecutor::run(const StageScript& script, TraceSink& trace,
                                           std::stop_token stop) {
  if (pod_name_.empty()) return fail(ErrorKind::kInternal, "run before a successful prepare");
  const std::string container = script.in_build_container ? "build" : "helper";
  Result<int> code = api_->exec(
      ns_, pod_name_, container, {"sh", "-c", detect_shell_script()}, script.script,
      [&trace](int channel, std::string_view bytes) {
        trace.write(channel == 2 ? kScriptStderr : kScriptStdout, bytes);
      },
      stop);
  trace.flush(kScriptStdout);
  trace.flush(kScriptStderr);
  if (!code) {
    if (code.error().kind == ErrorKind::kCanceled || stop.stop_requested()) {
      // Legacy exec strategy (§1.6): the exec stream is dropped. The pod stays, because a
      // graceful cancel still runs after_script in it; cleanup then deletes it at once.
      stopped_ = true;
      return fail(ErrorKind::kCanceled, "build aborted");
    }
    return fail(code.error().kind, "exec in container \"" + container + "\": " +
                                       code.error().message);
  }
  return ExitStatus{.code = *code, .signal = 0};
}

void KubernetesExecutor::cleanup() noexcept {
  try {
    if (!pod_name_.empty()) {
      // A canceled or timed-out job's pod gets no grace period: its stage may still run.
      std::optional<int> grace = stopped_ ? std::optional<int>(0)
                                          : options_.config.cleanup_grace_period_seconds;
      Result<> r = api_->remove(ns_, "pods", pod_name_, grace);
      if (!r) {
        log_warning("deleting the job pod failed",
                    {{"pod", ns_ + "/" + pod_name_}, {"error", r.error().message}});
      }
      pod_name_.clear();
    }
    // An owned secret goes with its pod; delete it only if it never got its owner.
    if (!secret_name_.empty() && !secret_owned_) {
      Result<> r = api_->remove(ns_, "secrets", secret_name_, std::nullopt);
      if (!r) {
        log_warning("deleting the job secret failed",
                    {{"secret", ns_ + "/" + secret_name_}, {"error", r.error().message}});
      }
      secret_name_.clear();
    }
    secret_name_.clear();
    secret_owned_ = false;
    stopped_ = false;
  } catch (const std::exception& e) {
    log_error("kubernetes cleanup failed", {{"error", e.what()}});
  }
}

int delete_leftovers(KubeApi& api, const std::string& ns, const std::string& short_token) try {
  std::string selector =
      std::string(kManagerIdLabel) + "=" + sanitize_label(short_token) + "," + kJobPodLabel;
  int deleted = 0;
  for (const char* resource : {"pods", "secrets", "services"}) {
    Result<std::vector<json>> items = api.list(ns, resource, selector);
    if (!items) {
      log_warning("listing leftovers failed",
                  {{"namespace", ns}, {"resource", resource}, {"error", items.error().message}});
      continue;
    }
    for (const json& item : *items) {
      if (!item.contains("metadata")) continue;
      std::string name = item["metadata"].value("name", "");
      if (name.empty()) continue;
      std::optional<int> grace;
      if (std::string(resource) == "pods") grace = 0;
      Result<> r = api.remove(ns, resource, name, grace);
      if (r) {
        ++deleted;
        log_info("deleted a leftover of an earlier run",
                 {{"namespace", ns}, {"resource", resource}, {"name", name}});
      }
    }
  }
  return deleted;
} catch (const std::exception& e) {
  log_warning("deleting leftovers failed", {{"namespace", ns}, {"error", e.what()}});
  return 0;
}

}  // namespace glr::kube
